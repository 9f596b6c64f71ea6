#include "sim/backend/make_backend.hpp"

#include "sim/backend/fast_backend.hpp"
#include "sim/backend/simgrid_backend.hpp"

namespace autoscale {

std::unique_ptr<ExecutionBackend> make_backend(const RunSpec& run) {
  if (run.fidelity == Fidelity::exact) return std::make_unique<SimgridBackend>(run);
  return std::make_unique<FastBackend>(run);
}

}  // namespace autoscale
