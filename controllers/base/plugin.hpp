#pragma once
// Where a dlopen'ed plugin of this build is looked for (libautoscale_torch.so, libautoscale_mpi.so), and
// dlopen's error in words. Shared by the plugins' loaders (forecasters/torch/neural_proxy.cpp,
// sim/dist/mpi_world.cpp).
#include <string>
#include <vector>

namespace autoscale {

// In order, without repeats: the path in environment variable `env_var` alone when it is set and not empty;
// else `file` beside the running executable, then in its parent directory (build/tests/ -> build/), then
// `build_path` (where this build wrote it; empty: none).
std::vector<std::string> plugin_candidates(const std::string& file, const char* env_var,
                                           const std::string& build_path);

// dlerror()'s message without the path it starts with (callers name the path already).
std::string dl_problem(const std::string& path);

}  // namespace autoscale
