#include "controllers/base/plugin.hpp"

#include <dlfcn.h>

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

}  // namespace autoscale
