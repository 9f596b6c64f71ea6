// libautoscale_mpi.so: the MPI calls `autoscale bench` makes when mpirun started it (sim/dist/mpi_api.hpp).
// A plugin, so that the autoscale binary never maps libmpi (and its transports) unless it runs under mpirun.
#include <mpi.h>

#include <cstring>

#include "sim/dist/mpi_api.hpp"

namespace {

using autoscale::dist::MpiApi;

int init(char* why, int why_len) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) return 0;
  int code = MPI_Init(nullptr, nullptr);
  if (code == MPI_SUCCESS) {
    // A failure on any rank is reported by that rank and turned into an exit status on every rank; MPI's
    // own abort-on-error handler would kill the job without saying which run failed.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    return 0;
  }
  int len = 0;
  char text[MPI_MAX_ERROR_STRING];
  if (MPI_Error_string(code, text, &len) != MPI_SUCCESS) std::strcpy(text, "MPI_Init failed");
  if (why_len > 0) {
    std::strncpy(why, text, static_cast<size_t>(why_len) - 1);
    why[why_len - 1] = '\0';
  }
  return code;
}

int rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

int size() {
  int s = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &s);
  return s;
}

int max_int(int value) {
  int out = value;
  if (MPI_Allreduce(&value, &out, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD) != MPI_SUCCESS) return 3;
  return out;
}

void broadcast(char* buf, int len) {
  MPI_Bcast(buf, len, MPI_CHAR, 0, MPI_COMM_WORLD);
}

void finalize() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

const MpiApi kApi{autoscale::dist::kMpiApiVersion, init, rank, size, max_int, broadcast, finalize};

}  // namespace

extern "C" __attribute__((visibility("default"))) const MpiApi* autoscale_mpi_api() {
  return &kApi;
}
