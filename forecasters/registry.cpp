// The kinds make_forecaster knows.
#include <utility>

#include "controllers/base/error.hpp"
#include "forecasters/conformal.hpp"
#include "forecasters/direct_ar.hpp"
#include "forecasters/factories.hpp"
#include "forecasters/torch/neural.hpp"

namespace autoscale::forecast {

namespace {
using Factory = std::unique_ptr<Forecaster> (*)(Params&);
const std::vector<std::pair<std::string, Factory>>& table() {
  static const std::vector<std::pair<std::string, Factory>> t{
      {"naive", make_naive},
      {"seasonal_naive", make_seasonal_naive},
      {"moving_average", make_moving_average},
      {"ewma", make_ewma},
      {"holt_winters", make_holt_winters},
      {"ar", make_ar},
      {"fft", make_fft},
      {"ensemble", make_ensemble},
      {"direct_ar", make_direct_ar},
      {"lstm", [](Params& s) { return make_neural("lstm", s); }},
      {"gru", [](Params& s) { return make_neural("gru", s); }},
      {"transformer", [](Params& s) { return make_neural("transformer", s); }}};
  return t;
}
}  // namespace

std::vector<std::string> forecaster_kinds() {
  std::vector<std::string> k;
  for (const auto& e : table()) k.push_back(e.first);
  return k;
}

std::unique_ptr<Forecaster> make_forecaster(const std::string& kind, Params& settings) {
  for (const auto& e : table())
    if (e.first == kind) {
      std::unique_ptr<Forecaster> f = with_intervals(e.second(settings), settings);
      settings.finish();
      return f;
    }
  std::string expected = "a forecaster kind (";
  for (const auto& k : forecaster_kinds()) expected += (expected.back() == '(' ? "" : ", ") + k;
  expected += ")";
  std::string near = closest_match(kind, forecaster_kinds());
  if (!near.empty()) expected += "; did you mean \"" + near + "\"?";
  settings.fail("kind", expected);
}

}  // namespace autoscale::forecast
