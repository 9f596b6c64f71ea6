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

// The first of `candidates` that dlopen's (RTLD_NOW | RTLD_LOCAL; never closed) and exports `abi_symbol`, an
// int() returning `abi`, and every one of `symbols`: their addresses in order, and an empty `tried`.
// Otherwise no addresses, and `tried` says each path's problem ("<path> (not found); <path> (...)").
struct OpenedPlugin {
  std::vector<void*> symbols;
  std::string tried;
};
OpenedPlugin open_plugin(const std::vector<std::string>& candidates, const char* abi_symbol, int abi,
                         const std::vector<const char*>& symbols);

}  // namespace autoscale
