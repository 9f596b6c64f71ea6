#pragma once
// `autoscale import`: a Kubernetes manifest (HorizontalPodAutoscaler, KEDA ScaledObject, Knative Service,
// Configuration or Revision) converted into the scenario's [controller] section, upstream's field names kept.
// The only yaml-cpp user.
#include <string>
#include <vector>

namespace autoscale {

struct ImportedController {
  std::string toml;                   // comment lines naming the source, then [controller] and its sub-tables
  std::vector<std::string> messages;  // "warning: FILE:LINE: ..." (and, with verbose, "note: ...") for stderr
};

// Converts the first autoscaling object of the (possibly multi-document) manifest at `path`; the others are
// named in a warning, non-autoscaling objects in a note when `verbose`. An unsupported field is left out with
// a warning naming it and its line; a malformed manifest throws an InputError naming the file and the line.
ImportedController import_manifest(const std::string& path, bool verbose);

// The subcommand: messages on stderr, the section on stdout or, atomically, into `out`. Returns the exit
// status.
int cmd_import(const std::string& path, const std::string& out, bool verbose);

}  // namespace autoscale
