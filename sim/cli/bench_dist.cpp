// `autoscale bench` over MPI ranks or a Slurm job array: chunks of the cells into part files, assembled into
// the result file a local run writes.
#include "sim/cli/bench_dist.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "autoscale_version.hpp"
#include "controllers/base/error.hpp"
#include "forecasters/store/sha256.hpp"
#include "results/bench_part.hpp"
#include "results/bench_store.hpp"
#include "results/hdf5_store.hpp"
#include "sim/cli/bench_plan.hpp"
#include "sim/cli/run_pool.hpp"

namespace autoscale {

namespace fs = std::filesystem;

namespace {

constexpr const char* kManifest = "bench.json";
constexpr const char* kScript = "bench.sbatch";

// What a part must match: the bench file's text (by its SHA-256) and the seeds.
std::string bench_digest(const BenchSpec& b) {
  return forecast::sha256_hex(b.toml_text);
}

std::string seeds_text(const std::vector<std::uint64_t>& seeds) {
  std::string out;
  for (auto s : seeds) out += (out.empty() ? "" : ",") + std::to_string(s);
  return out;
}

std::string chunk_text(int i, int k) {
  return std::to_string(i) + "/" + std::to_string(k);
}

// Chunk i of k: cells i, i + k, i + 2k, ... (scenarios of unequal cost spread over every chunk).
std::vector<std::size_t> chunk_cells(std::size_t n, int i, int k) {
  std::vector<std::size_t> out;
  for (std::size_t c = static_cast<std::size_t>(i); c < n; c += static_cast<std::size_t>(k)) out.push_back(c);
  return out;
}

std::string part_file(const std::string& dir, int i) {
  return (fs::path(dir) / ("part-" + std::to_string(i) + ".h5")).string();
}

std::vector<std::uint64_t> first_seeds(int n) {
  std::vector<std::uint64_t> seeds;
  for (int s = 1; s <= n; ++s) seeds.push_back(static_cast<std::uint64_t>(s));
  return seeds;
}

// "I/K" with 0 <= I < K.
std::pair<int, int> parse_chunk(const std::string& text) {
  const auto bad = [&] {
    return InputError("command line", 0, "--chunk",
                      "'" + text + "': I/K, chunk I (from 0) of K, 0 <= I < K (as written by --slurm)");
  };
  const std::size_t slash = text.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == text.size()) throw bad();
  for (std::size_t p = 0; p < text.size(); ++p)
    if (p != slash && (text[p] < '0' || text[p] > '9')) throw bad();
  if (slash > 6 || text.size() - slash - 1 > 6) throw bad();
  const int i = std::stoi(text.substr(0, slash)), k = std::stoi(text.substr(slash + 1));
  if (k < 1 || i >= k) throw bad();
  return {i, k};
}

// Chunk i of k simulated into the part file `part` (its single-run files in a scratch directory beside it).
int run_chunk(const BenchPlan& plan, int i, int k, const std::string& part, int jobs, bool show_progress,
              const std::string& title) {
  const BenchSpec& b = plan.b;
  const std::vector<std::size_t> cells = chunk_cells(plan.cells.size(), i, k);
  ScratchDir scratch(part, "runs");
  const int status = simulate_cells(plan, cells, scratch.path(), jobs, show_progress, title);
  if (status != 0) return status;
  FileMeta meta;
  meta.seed = b.seeds.front();
  meta.text = {{"bench_file", b.file},
               {"bench_sha256", bench_digest(b)},
               {"bench_seeds", seeds_text(b.seeds)},
               {"chunk", chunk_text(i, k)},
               {"autoscale_version", AUTOSCALE_VERSION}};
  std::vector<BenchRunFile> files;
  for (std::size_t c : cells)
    files.push_back({cell_file(scratch.path(), c), b.controllers[plan.cells[c].controller].name,
                     "/runs/" + std::to_string(c)});
  write_bench_file(part, meta, files, {});
  return 0;
}

// Every cell's run from the parts (parts[i] holds chunk i of parts.size()), each part checked against the
// plan: same bench text, same seeds, its chunk, every run of it there. `rerun(i)` says how to write part i.
std::vector<CellResult> collect_parts(const BenchPlan& plan, const std::vector<std::string>& parts,
                                      const std::function<std::string(int)>& rerun) {
  const BenchSpec& b = plan.b;
  const int k = static_cast<int>(parts.size());
  const std::string digest = bench_digest(b), seeds = seeds_text(b.seeds);
  std::vector<CellResult> results(plan.cells.size());
  for (int i = 0; i < k; ++i) {
    const std::string& part = parts[static_cast<std::size_t>(i)];
    if (!fs::exists(part))
      throw InputError(part, 0, "",
                       "missing: chunk " + chunk_text(i, k) + " of " + b.file +
                           " has not written its part (" + rerun(i) + ")");
    auto attrs = read_part_attributes(part, {"bench_file", "bench_sha256", "bench_seeds", "chunk"});
    if (attrs["bench_sha256"] != digest)
      throw InputError(part, 0, "bench_sha256",
                       "a part of " + b.file + " (bench text sha256 " + digest.substr(0, 16) +
                           "...); this one is of another bench file or text: " + attrs["bench_file"] +
                           " (sha256 " + attrs["bench_sha256"].substr(0, 16) + "...)");
    if (attrs["bench_seeds"] != seeds)
      throw InputError(
          part, 0, "bench_seeds",
          "the seeds " + seeds + " (this bench's); the part was run with seeds " + attrs["bench_seeds"]);
    if (attrs["chunk"] != chunk_text(i, k))
      throw InputError(part, 0, "chunk",
                       "chunk " + chunk_text(i, k) + "; the part holds chunk " + attrs["chunk"]);
    std::map<std::string, Summary> stored;
    for (StoredRun& r : read_summaries(part)) stored[r.name] = std::move(r.summary);
    for (std::size_t c : chunk_cells(plan.cells.size(), i, k)) {
      auto it = stored.find(std::to_string(c));
      if (it == stored.end())
        throw InputError(part, 0, "/runs/" + std::to_string(c),
                         "the run of cell " + std::to_string(c) + " (" + rerun(i) + ")");
      results[c] = {part, it->first, std::move(it->second)};
    }
  }
  return results;
}

// A word for a POSIX shell: single-quoted.
std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char ch : s) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return out + "'";
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
  f.close();
  if (!f)
    throw InputError("command line", 0, "--slurm",
                     "cannot write " + path.string() + " (expected a writable directory)");
}

}  // namespace

int cmd_bench_chunk(const BenchArgs& args) {
  const auto [i, k] = parse_chunk(args.chunk);
  if (args.out.empty())
    throw InputError("command line", 0, "--out", "the part file to write (required with --chunk)");
  BenchPlan plan = plan_bench(args.file, first_seeds(args.seeds), true);
  const bool show_progress = !args.quiet && isatty(STDERR_FILENO);
  const std::size_t runs = chunk_cells(plan.cells.size(), i, k).size();
  if (!args.quiet && !show_progress)
    std::fprintf(stderr, "bench %s: chunk %s: %zu of %zu runs\n", plan.b.name.c_str(),
                 chunk_text(i, k).c_str(), runs, plan.cells.size());
  const int status = run_chunk(plan, i, k, args.out, default_jobs(args.jobs), show_progress,
                               "bench " + plan.b.name + " chunk " + chunk_text(i, k));
  if (status == 0 && !args.quiet)
    std::fprintf(stderr, "bench %s: part written: %s\n", plan.b.name.c_str(), args.out.c_str());
  return status;
}

int cmd_bench_slurm(const BenchArgs& args) {
  BenchPlan plan = plan_bench(args.file, first_seeds(args.seeds), true);
  const BenchSpec& b = plan.b;
  const int n = static_cast<int>(plan.cells.size());
  if (args.chunks > n)
    throw InputError(
        "command line", 0, "--chunks",
        std::to_string(args.chunks) + " tasks: at most one per run (" + std::to_string(n) + " runs)");
  const int k = args.chunks > 0 ? args.chunks : n;
  const int jobs = args.jobs > 0 ? args.jobs : 1;
  std::error_code ec;
  const fs::path dir = fs::absolute(args.slurm_dir, ec);
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    throw InputError(
        "command line", 0, "--slurm",
        "cannot create the directory '" + args.slurm_dir + "'" + (ec ? ": " + ec.message() : ""));
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("part-", 0) == 0 && e.path().extension() == ".h5")
      throw InputError("command line", 0, "--slurm",
                       "'" + dir.string() + "' already holds the parts of a bench (" + name +
                           "): merge them (autoscale bench merge " + dir.string() + ") or remove them first");
  }
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("cannot read /proc/self/exe: " + ec.message());
  const fs::path cwd = fs::current_path();

  std::string task = "exec " + shell_quote(exe.string()) + " bench " + shell_quote(b.file) +
                     " --chunk \"${SLURM_ARRAY_TASK_ID}/" + std::to_string(k) + "\" --out " +
                     shell_quote((dir / "part-").string()) + "\"${SLURM_ARRAY_TASK_ID}.h5\" --jobs " +
                     std::to_string(jobs) + " --quiet";
  if (args.seeds > 0) task += " --seeds " + std::to_string(args.seeds);
  const std::string script =
      "#!/bin/bash\n"
      "# autoscale bench " +
      b.file + ": " + std::to_string(n) + " runs in " + std::to_string(k) + " array tasks (chunk i of " +
      std::to_string(k) + ": runs i, i+" + std::to_string(k) +
      ", ...), written by `autoscale bench --slurm`.\n"
      "# Submit: sbatch " +
      (dir / kScript).string() +
      "\n"
      "# Then:   autoscale bench merge " +
      dir.string() +
      " [--out FILE.h5]\n"
      "#SBATCH --job-name=bench-" +
      b.name +
      "\n"
      "#SBATCH --array=0-" +
      std::to_string(k - 1) +
      "\n"
      "#SBATCH --ntasks=1\n"
      "#SBATCH --cpus-per-task=" +
      std::to_string(jobs) +
      "\n"
      "#SBATCH --output=" +
      (dir / "slurm-%A_%a.out").string() +
      "\n"
      "set -eu\n"
      "cd " +
      shell_quote(cwd.string()) + "\n" + task + "\n";
  write_text(dir / kScript, script);
  fs::permissions(dir / kScript, fs::perms::owner_exec | fs::perms::group_exec, fs::perm_options::add, ec);

  const nlohmann::json manifest = {{"bench_file", b.file},
                                   {"cwd", cwd.string()},
                                   {"bench_sha256", bench_digest(b)},
                                   {"seeds", b.seeds},
                                   {"chunks", k},
                                   {"runs", n},
                                   {"jobs_per_task", jobs},
                                   {"autoscale", exe.string()},
                                   {"autoscale_version", AUTOSCALE_VERSION}};
  write_text(dir / kManifest, manifest.dump(2) + "\n");
  const std::string readme =
      "A Slurm job array of `autoscale bench " + b.file + "` (" + std::to_string(n) + " runs in " +
      std::to_string(k) + " tasks of " + std::to_string(jobs) + " CPU" + (jobs == 1 ? "" : "s") +
      "), written by `autoscale bench --slurm`.\n\n"
      "  sbatch " +
      (dir / kScript).string() +
      "\n"
      "  autoscale bench merge " +
      dir.string() +
      " [--out FILE.h5]   # when every task has finished\n\n"
      "Task i writes part-i.h5 here (its log: slurm-<job>_<i>.out). This directory must be on a file system\n"
      "every node sees. The merge checks that every part is here and was run from the same bench text\n"
      "(bench.json: its SHA-256) and seeds; a failed task is rerun alone: sbatch --array=i " +
      (dir / kScript).string() + "\n";
  write_text(dir / "README", readme);
  std::printf(
      "wrote %s: %d runs in %d array tasks (%d CPU%s each)\nsubmit: sbatch %s\nthen:   autoscale bench merge "
      "%s [--out FILE.h5]\n",
      (dir / kScript).string().c_str(), n, k, jobs, jobs == 1 ? "" : "s", (dir / kScript).string().c_str(),
      dir.string().c_str());
  return 0;
}

int cmd_bench_merge(const BenchMergeArgs& args) {
  const auto started = std::chrono::steady_clock::now();
  const fs::path dir(args.dir), manifest_path = fs::path(args.dir) / kManifest;
  std::ifstream in(manifest_path);
  if (!in)
    throw InputError(manifest_path.string(), 0, "",
                     "cannot read (expected a directory written by autoscale bench --slurm)");
  nlohmann::json m;
  std::string bench_file, cwd, sha;
  std::vector<std::uint64_t> seeds;
  int chunks = 0;
  try {
    in >> m;
    bench_file = m.at("bench_file").get<std::string>();
    cwd = m.at("cwd").get<std::string>();
    sha = m.at("bench_sha256").get<std::string>();
    seeds = m.at("seeds").get<std::vector<std::uint64_t>>();
    chunks = m.at("chunks").get<int>();
  } catch (const nlohmann::json::exception& e) {
    throw InputError(manifest_path.string(), 0, "",
                     std::string(e.what()) + " (expected the bench.json autoscale bench --slurm writes)");
  }
  if (chunks < 1 || seeds.empty())
    throw InputError(manifest_path.string(), 0, "chunks", "at least one chunk and one seed");
  // The path as the tasks were given it (recorded in the result file), read from where they ran.
  const fs::path resolved =
      fs::path(bench_file).is_absolute() ? fs::path(bench_file) : fs::path(cwd) / bench_file;
  BenchPlan plan = plan_bench(resolved.string(), seeds, false);
  plan.b.file = bench_file;
  if (bench_digest(plan.b) != sha)
    throw InputError(resolved.string(), 0, "",
                     "changed since `autoscale bench --slurm` wrote " + dir.string() +
                         " (its parts are of the old text, sha256 " + sha.substr(0, 16) +
                         "...): restore the file or run the bench again");
  std::vector<std::string> parts;
  for (int i = 0; i < chunks; ++i) parts.push_back(part_file(dir.string(), i));
  const std::string script = (dir / kScript).string();
  std::vector<CellResult> results = collect_parts(plan, parts, [&](int i) {
    return "rerun its task: sbatch --array=" + std::to_string(i) + " " + script;
  });
  return finish_bench(plan, results, bench_out(plan, args.out), args.json, started);
}

int cmd_bench_mpi(const BenchArgs& args, const dist::MpiWorld& world) {
  const auto started = std::chrono::steady_clock::now();
  const int rank = world.rank(), ranks = world.size();
  // A step's failure is reported where it happened and ends every rank with the worst status. Rank 0's
  // message is printed; another rank's only when rank 0 had none (a bad bench file fails on every rank).
  const auto step = [&](const std::function<int()>& body) {
    int status = 0;
    std::string message;
    try {
      status = body();
    } catch (const InputError& e) {
      message = e.what();
      status = 2;
    } catch (const std::exception& e) {
      message = e.what();
      status = 3;
    }
    const int worst = world.max(status);
    const bool rank0_failed = world.broadcast(std::to_string(status)) != "0";
    if (!message.empty() && (rank == 0 || !rank0_failed))
      std::fprintf(
          stderr, "error: %s%s\n",
          rank == 0 ? "" : ("rank " + std::to_string(rank) + " of " + std::to_string(ranks) + ": ").c_str(),
          message.c_str());
    return worst;
  };
  BenchPlan plan;
  std::string out;
  std::unique_ptr<ScratchDir> shared;  // rank 0's: every rank's part, removed when rank 0 is done
  int status = step([&] {
    plan = plan_bench(args.file, first_seeds(args.seeds), true);
    out = bench_out(plan, args.out);
    if (rank == 0) shared = std::make_unique<ScratchDir>(out, "mpi");
    return 0;
  });
  if (status != 0) return status;
  const std::string dir = world.broadcast(shared ? shared->path() : "");
  const bool show_progress = rank == 0 && !args.quiet && isatty(STDERR_FILENO);
  if (rank == 0 && !args.quiet && !show_progress)
    std::fprintf(stderr,
                 "bench %s: %zu runs (%zu scenarios x %zu controllers x %zu seeds) over %d MPI ranks\n",
                 plan.b.name.c_str(), plan.cells.size(), plan.b.scenarios.size(), plan.b.controllers.size(),
                 plan.b.seeds.size(), ranks);
  status = step([&] {
    return run_chunk(plan, rank, ranks, part_file(dir, rank), default_jobs(args.jobs), show_progress,
                     "bench " + plan.b.name + " (rank 0 of " + std::to_string(ranks) + ")");
  });
  if (status != 0) {
    if (rank == 0)
      std::fprintf(
          stderr,
          "error: bench %s: a run failed on one of the %d ranks (its message is above): no result written\n",
          plan.b.name.c_str(), ranks);
    return status;
  }
  return step([&] {
    if (rank != 0) return 0;
    std::vector<std::string> parts;
    for (int r = 0; r < ranks; ++r) parts.push_back(part_file(dir, r));
    std::vector<CellResult> results =
        collect_parts(plan, parts, [&](int r) { return "rank " + std::to_string(r) + " did not finish"; });
    return finish_bench(plan, results, out, args.json, started);
  });
}

}  // namespace autoscale
