#include "results/bench_store.hpp"

#include <string>

#include "results/hdf5_io.hpp"

namespace autoscale {

using namespace h5io;

namespace {

void write_strings(const Node& g, const std::string& name, const std::vector<std::string>& v) {
  Where at = g.at.child(name);
  Id type = vlen_string(at);
  std::vector<const char*> p;
  for (const auto& x : v) p.push_back(x.c_str());
  write_1d(g, name, type, type, p.data(), p.size(), sizeof(const char*));
}

// rows x cols float64, row-major.
void write_matrix(const Node& g, const std::string& name, const std::vector<double>& v, hsize_t rows,
                  hsize_t cols, const std::string& units) {
  Where at = g.at.child(name);
  hsize_t dims[2] = {rows, cols};
  Id space(H5Screate_simple(2, dims, nullptr), H5Sclose, "H5Screate_simple", at);
  Id dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "H5Pcreate", at);
  check(H5Pset_obj_track_times(dcpl, false), "H5Pset_obj_track_times", at);
  Node ds{Id(H5Dcreate2(g.id, name.c_str(), H5T_IEEE_F64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), H5Dclose,
             "H5Dcreate2", at),
          at};
  if (!v.empty())
    check(H5Dwrite(ds.id, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), "H5Dwrite", at);
  attr_string(ds, "units", units);
}

// A child group, opened when it exists.
Node child(const Node& g, const std::string& name) {
  Where at = g.at.child(name);
  if (check_tri(H5Lexists(g.id, name.c_str(), H5P_DEFAULT), "H5Lexists", at)) return open_group(g, name);
  return create_group(g, name, false);
}

// The group at `parts[i..]` below g, created as needed.
Node descend(const Node& g, const std::vector<std::string>& parts, std::size_t i) {
  Node c = child(g, parts[i]);
  if (i + 1 == parts.size()) return c;
  return descend(c, parts, i + 1);
}

std::vector<std::string> split(const std::string& path) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < path.size()) {
    std::size_t next = path.find('/', pos);
    if (next == std::string::npos) next = path.size();
    if (next > pos) out.push_back(path.substr(pos, next - pos));
    pos = next + 1;
  }
  return out;
}

void write_stats(const Node& scenario, const BenchTable& t) {
  Node st = create_group(scenario, "stats", false);
  write_strings(st, "controllers", t.controllers);
  write_strings(st, "metrics", t.metrics);
  std::vector<std::string> seeds;
  for (auto x : t.seeds) seeds.push_back(std::to_string(x));
  write_strings(st, "seeds", seeds);
  write_strings(st, "pareto", t.pareto);
  const std::size_t nc = t.controllers.size(), ns = t.seeds.size();
  for (std::size_t m = 0; m < t.metrics.size(); ++m) {
    Node g = create_group(st, t.metrics[m], false);
    std::vector<double> values, mean, lo, hi, dmean, dlo, dhi;
    std::vector<int32_t> n, rank;
    for (std::size_t c = 0; c < nc; ++c) {
      for (std::size_t k = 0; k < ns; ++k) values.push_back(t.values[c][m][k]);
      const auto& i = t.stats[c][m];
      mean.push_back(i.mean);
      lo.push_back(i.ci95_low);
      hi.push_back(i.ci95_high);
      n.push_back(i.n);
      rank.push_back(t.ranks[m][c]);
      if (!t.vs_baseline[c].empty()) {
        dmean.push_back(t.vs_baseline[c][m].mean);
        dlo.push_back(t.vs_baseline[c][m].ci95_low);
        dhi.push_back(t.vs_baseline[c][m].ci95_high);
      }
    }
    const std::string unit = "the metric's unit (results/SCHEMA.md, summary metrics)";
    write_matrix(g, "values", values, nc, ns, unit);
    write_doubles(g, "mean", mean, unit);
    write_doubles(g, "ci95_low", lo, unit);
    write_doubles(g, "ci95_high", hi, unit);
    write_ints(g, "n", n, "seeds with a value");
    write_ints(g, "rank", rank, "1 = the smallest mean");
    if (dmean.size() == nc) {
      write_doubles(g, "vs_baseline_mean", dmean, unit);
      write_doubles(g, "vs_baseline_ci95_low", dlo, unit);
      write_doubles(g, "vs_baseline_ci95_high", dhi, unit);
    }
  }
}

}  // namespace

void write_bench_file(const std::string& path, const FileMeta& meta, const std::vector<BenchRunFile>& runs,
                      const std::vector<BenchTable>& tables) {
  QuietErrors quiet;
  write_replacing(path, [&](const std::string& tmp) {
    Node f = create_file(tmp);
    for (const auto& [k, v] : meta.text) attr_string(f, k, v);
    attr_scalar<uint64_t>(f, "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, meta.seed);
    attr_scalar<int32_t>(f, "schema_version", H5T_STD_I32LE, H5T_NATIVE_INT32, results_schema_version());
    for (const auto& rf : runs) {
      std::vector<std::string> parts = split(rf.group);
      std::string leaf = parts.back();
      parts.pop_back();
      Node parent = descend(f, parts, 0);
      Where src_at{rf.file, "/", false};
      Node src{Id(H5Fopen(rf.file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose, "H5Fopen", src_at),
               src_at};
      Node src_runs = open_group(src, "runs");
      check(H5Ocopy(src_runs.id, rf.run.c_str(), parent.id, leaf.c_str(), H5P_DEFAULT, H5P_DEFAULT),
            "H5Ocopy", {tmp, rf.group + " (copied from " + rf.file + ")", false});
    }
    for (const auto& t : tables) write_stats(descend(f, split("/bench/" + t.scenario), 0), t);
    finish_file(f);
  });
}

}  // namespace autoscale
