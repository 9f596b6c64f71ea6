#pragma once
// The boundary between the autoscale binary and libautoscale_mpi.so (sim/dist/mpi_plugin.cpp, the only MPI
// user): a table of plain C functions, fetched with dlsym by kMpiApiSymbol. Nothing of MPI crosses it, so the
// binary neither links nor includes MPI. Bump kMpiApiVersion whenever this table changes.

namespace autoscale::dist {

constexpr int kMpiApiVersion = 1;
constexpr const char* kMpiApiSymbol = "autoscale_mpi_api";

struct MpiApi {
  int version;  // kMpiApiVersion of the plugin
  // MPI_Init (MPI_THREAD_SINGLE); 0 on success, else writes MPI's reason into why[0..why_len).
  int (*init)(char* why, int why_len);
  int (*rank)();
  int (*size)();
  // The largest `value` over every rank (MPI_Allreduce, MPI_MAX), returned on every rank.
  int (*max_int)(int value);
  // Rank 0's `len` bytes into every rank's buf (MPI_Bcast); len must be the same on every rank.
  void (*broadcast)(char* buf, int len);
  void (*finalize)();
};

using MpiApiFn = const MpiApi*();

}  // namespace autoscale::dist
