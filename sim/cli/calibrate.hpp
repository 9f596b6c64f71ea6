#pragma once
// `autoscale calibrate CAL.toml`: grid search of a controller's keys on training scenarios (format:
// sim/scenario/calibrate_loader.hpp, README.md "Calibrating a controller").
#include <string>

namespace autoscale {

struct CalibrateArgs {
  std::string file;
  std::string out;  // the best controller section as a TOML file; empty: none
  int jobs = 0;
  bool json = false;
  bool quiet = false;
};

int cmd_calibrate(const CalibrateArgs& args);
// `autoscale validate CAL.toml`: the file, its scenarios and every grid point checked; nothing runs.
int cmd_validate_calibrate(const std::string& file);

}  // namespace autoscale
