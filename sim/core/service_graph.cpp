#include "sim/core/service_graph.hpp"

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/topological_sort.hpp>
#include <iterator>

#include "controllers/base/error.hpp"

namespace autoscale {

ServiceGraph::ServiceGraph(const RunSpec& run, const std::string& file) {
  using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;
  const int n = static_cast<int>(run.services.size());
  Graph g(n);
  out_.resize(n);
  for (const auto& e : run.edges) {
    int a = run.service_index(e.from), b = run.service_index(e.to);
    if (a < 0) throw InputError(file, e.line, "edges.from", "unknown service '" + e.from + "'");
    if (b < 0) throw InputError(file, e.line, "edges.to", "unknown service '" + e.to + "'");
    boost::add_edge(a, b, g);
    out_[a].push_back({b, e.probability, e.calls, e.request_bytes, e.response_bytes});
  }
  std::vector<Graph::vertex_descriptor> order;
  try {
    boost::topological_sort(g, std::back_inserter(order));
  } catch (const boost::not_a_dag&) {
    throw InputError(
        file, run.edges.empty() ? 0 : run.edges.front().line, "edges",
        "the service call graph has a cycle (expected calls to flow one way, e.g. web -> api -> db)");
  }
  entry_ = run.service_index(run.traffic.entry_service);
  if (entry_ < 0)
    throw InputError(file, 0, "traffic.entry_service", "unknown service '" + run.traffic.entry_service + "'");
  // topological_sort yields reverse topological order: walk it backwards to push visits downstream.
  visits_.assign(n, 0.0);
  visits_[entry_] = 1.0;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    int v = static_cast<int>(*it);
    for (const auto& c : out_[v]) visits_[c.to] += visits_[v] * c.probability * c.calls;
  }
}

}  // namespace autoscale
