#include "controllers/base/plugin.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

namespace autoscale {

std::vector<std::string> plugin_candidates(const std::string& file, const char* env_var,
                                           const std::string& build_path) {
  const char* env = std::getenv(env_var);
  if (env != nullptr && *env != '\0') return {env};
  std::vector<std::string> paths;
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec && exe.has_parent_path()) {
    paths.push_back((exe.parent_path() / file).string());
    paths.push_back((exe.parent_path().parent_path() / file).string());
  }
  if (!build_path.empty()) paths.push_back(build_path);
  std::vector<std::string> unique;
  for (auto& p : paths)
    if (std::find(unique.begin(), unique.end(), p) == unique.end()) unique.push_back(std::move(p));
  return unique;
}

std::string dl_problem(const std::string& path) {
  const char* e = ::dlerror();
  std::string why = e != nullptr ? e : "unknown error";
  if (why.compare(0, path.size() + 2, path + ": ") == 0) why.erase(0, path.size() + 2);
  return why;
}

OpenedPlugin open_plugin(const std::vector<std::string>& candidates, const char* abi_symbol, int abi,
                         const std::vector<const char*>& symbols) {
  OpenedPlugin out;
  for (const std::string& path : candidates) {
    std::string why;
    if (::access(path.c_str(), F_OK) != 0) {
      why = "not found";
    } else if (void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL)) {
      // Never closed: what it makes, and the threads and atexit handlers of its libraries, live until exit.
      auto* version = reinterpret_cast<int (*)()>(::dlsym(handle, abi_symbol));
      std::vector<void*> found;
      std::string missing;
      for (const char* name : symbols) {
        found.push_back(::dlsym(handle, name));
        if (!found.back()) missing += std::string(missing.empty() ? "" : ", ") + name;
      }
      if (version == nullptr || !missing.empty()) {
        why = "not this plugin (or an older one): no " + std::string(version ? missing : abi_symbol);
      } else if (int v = version(); v != abi) {
        why = "interface version " + std::to_string(v) + ", this program needs " + std::to_string(abi) +
              " (a plugin of another build)";
      } else {
        out.symbols = std::move(found);
        out.tried.clear();
        return out;
      }
    } else {
      why = dl_problem(path);
    }
    out.tried += (out.tried.empty() ? "" : "; ") + path + " (" + why + ")";
  }
  if (out.tried.empty()) out.tried = "nothing";
  return out;
}

}  // namespace autoscale
