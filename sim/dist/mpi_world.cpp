#include "sim/dist/mpi_world.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "controllers/base/error.hpp"
#include "controllers/base/plugin.hpp"
#include "sim/dist/mpi_api.hpp"

namespace autoscale::dist {

namespace {

constexpr const char* kPluginFile = "libautoscale_mpi.so";

const MpiApi* g_api = nullptr;

#ifndef AUTOSCALE_MPI_PLUGIN_PATH
#define AUTOSCALE_MPI_PLUGIN_PATH ""
#endif

const MpiApi& load_plugin() {
  std::string tried;
  for (const std::string& path :
       plugin_candidates(kPluginFile, "AUTOSCALE_MPI_PLUGIN", AUTOSCALE_MPI_PLUGIN_PATH)) {
    std::string why;
    if (::access(path.c_str(), F_OK) != 0) {
      why = "not found";
    } else if (void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL | RTLD_DEEPBIND)) {
      // RTLD_DEEPBIND: libsimgrid, already loaded, defines MPI_Init and the rest for SMPI, and would win the
      // lookup; the plugin and libmpi look in their own libraries first. RTLD_GLOBAL: Open MPI dlopens its
      // own components, which expect libmpi's symbols to be global.
      auto* fn = reinterpret_cast<MpiApiFn*>(::dlsym(handle, kMpiApiSymbol));
      if (fn == nullptr) {
        why = std::string("not this plugin: no ") + kMpiApiSymbol;
      } else if (const MpiApi* api = fn(); api->version != kMpiApiVersion) {
        why = "interface version " + std::to_string(api->version) + ", this program needs " +
              std::to_string(kMpiApiVersion) + " (a plugin of another build)";
      } else {
        return *api;
      }
    } else {
      why = dl_problem(path);
    }
    tried += (tried.empty() ? "" : "; ") + path + " (" + why + ")";
  }
  throw InputError(kPluginFile, 0, "",
                   "mpirun started this process, and running under MPI needs " + std::string(kPluginFile) +
                       " (built beside the autoscale binary when CMake finds MPI: apt-get install "
                       "libopenmpi-dev; or set AUTOSCALE_MPI_PLUGIN to its path); tried " +
                       (tried.empty() ? std::string("nothing") : tried));
}

void finalize_at_exit() {
  if (g_api != nullptr) g_api->finalize();
}

}  // namespace

bool launched_by_mpirun() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK"}) {
    const char* v = std::getenv(name);
    if (v != nullptr && *v != '\0') return true;
  }
  return false;
}

const MpiWorld& MpiWorld::get() {
  static MpiWorld world = [] {
    const MpiApi& api = load_plugin();
    char why[512] = "";
    if (api.init(why, sizeof why) != 0) throw InputError(kPluginFile, 0, "", std::string("MPI_Init: ") + why);
    g_api = &api;
    std::atexit(finalize_at_exit);
    MpiWorld w;
    w.rank_ = api.rank();
    w.size_ = api.size();
    return w;
  }();
  return world;
}

int MpiWorld::max(int value) const {
  return g_api->max_int(value);
}

std::string MpiWorld::broadcast(const std::string& text) const {
  std::string len = std::to_string(rank_ == 0 ? text.size() : 0);
  char buf[24] = {};
  std::copy(len.begin(), len.end(), buf);
  g_api->broadcast(buf, sizeof buf);
  std::string out(std::strtoul(buf, nullptr, 10), '\0');
  if (rank_ == 0) out = text;
  if (!out.empty()) g_api->broadcast(out.data(), static_cast<int>(out.size()));
  return out;
}

}  // namespace autoscale::dist
