#pragma once
// MPI for `autoscale bench` under mpirun, through the plugin libautoscale_mpi.so (sim/dist/mpi_api.hpp):
// dlopen'ed only when mpirun started this process, so a plain run never maps libmpi.
//
// The plugin is looked for, in this order: $AUTOSCALE_MPI_PLUGIN (its full path; nothing else is tried then);
// beside the running executable (/proc/self/exe), then in its parent directory; where this build wrote it
// (AUTOSCALE_MPI_PLUGIN_PATH, set by CMakeLists.txt when MPI was found).
#include <string>

namespace autoscale::dist {

// True when mpirun started this process (Open MPI's OMPI_COMM_WORLD_SIZE, or a PMIx launcher's PMIX_RANK).
bool launched_by_mpirun();

class MpiWorld {
 public:
  // The plugin loaded and MPI initialized, once per process; MPI_Finalize runs at exit. An InputError when
  // the plugin cannot be loaded (this build found no MPI) or MPI_Init fails.
  static const MpiWorld& get();

  int rank() const { return rank_; }
  int size() const { return size_; }
  // The largest value over the ranks, on every rank (a collective: every rank must call it).
  int max(int value) const;
  // Rank 0's text on every rank (a collective; other ranks' argument is ignored).
  std::string broadcast(const std::string& text) const;

 private:
  MpiWorld() = default;
  int rank_ = 0, size_ = 1;
};

}  // namespace autoscale::dist
