#pragma once
// The execution backend of a run's fidelity: exact mode runs every request's work and messages as SimGrid
// activities (sim/backend/simgrid_backend, one engine per process); fast and fluid modes share the
// engine-free backend (sim/backend/fast_backend), so several of their runs may live in one process.
#include <memory>

#include "sim/backend/execution_backend.hpp"
#include "sim/core/scenario.hpp"

namespace autoscale {

std::unique_ptr<ExecutionBackend> make_backend(const RunSpec& run);

}  // namespace autoscale
