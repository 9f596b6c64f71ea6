#include "sim/dist/mpi_world.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "controllers/base/error.hpp"
#include "sim/dist/mpi_api.hpp"

namespace autoscale::dist {

namespace {

constexpr const char* kPluginFile = "libautoscale_mpi.so";

const MpiApi* g_api = nullptr;

std::vector<std::string> plugin_candidates() {
  const char* env = std::getenv("AUTOSCALE_MPI_PLUGIN");
  if (env != nullptr && *env != '\0') return {env};
  std::vector<std::string> paths;
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec && exe.has_parent_path()) {
    paths.push_back((exe.parent_path() / kPluginFile).string());
    paths.push_back((exe.parent_path().parent_path() / kPluginFile).string());
  }
#ifdef AUTOSCALE_MPI_PLUGIN_PATH
  paths.push_back(AUTOSCALE_MPI_PLUGIN_PATH);
#endif
  std::vector<std::string> unique;
  for (auto& p : paths)
    if (std::find(unique.begin(), unique.end(), p) == unique.end()) unique.push_back(std::move(p));
  return unique;
}

const MpiApi& load_plugin() {
  std::string tried;
  for (const std::string& path : plugin_candidates()) {
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
      const char* e = ::dlerror();
      why = e != nullptr ? e : "unknown error";
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
