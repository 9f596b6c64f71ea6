// autoscale: the command line. Bad input of any kind exits with status 2 and a message naming file, line and
// key.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "autoscale_version.hpp"
#include "controllers/base/error.hpp"
#include "sim/cli/bench_fidelity.hpp"
#include "sim/cli/bench_run.hpp"
#include "sim/cli/calibrate.hpp"
#include "sim/cli/forecast_eval.hpp"
#include "sim/cli/runner.hpp"
#include "sim/cli/train.hpp"
#include "sim/cli/train_rl.hpp"
#include "sim/import/importer.hpp"
#include "sim/scenario/key_ranges.hpp"
#include "sim/scenario/scenario_loader.hpp"

using namespace autoscale;

int main(int argc, char** argv) {
  CLI::App app{
      "autoscale lab: a discrete-event simulator for cloud autoscaling (SimGrid cluster, real traces, "
      "pluggable controllers, HDF5 results)",
      "autoscale"};
  app.require_subcommand(1);
  app.footer(
      "Exit status: 0 success; 1 an [[expect]] assertion failed; 2 bad input (scenario, trace, result file "
      "or flag: "
      "the message names file, line and key); 3 internal error.\nScenario reference: README.md; result "
      "files: "
      "results/SCHEMA.md.");
  app.set_version_flag("--version", AUTOSCALE_VERSION);

  RunArgs run;
  auto* run_cmd = app.add_subcommand("run", "Run a scenario, write HDF5 results and print the summary");
  run_cmd->add_option("scenario", run.scenario, "Scenario TOML file")->required();
  run_cmd->add_option("--out", run.out, "Result file (default: results/<scenario name>.h5)");
  std::string seed;  // parsed by parse_seed: CLI11 would wrap "-1" into an unsigned seed
  auto* seed_opt = run_cmd->add_option(
      "--seed", seed, "Seed of every random stream, an integer in [0, 2^63-1] (replaces the scenario's)");
  run_cmd
      ->add_option("--set", run.load.set,
                   "Override a scenario key: dotted.key=value (TOML value); repeatable")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  run_cmd->add_flag("--json", run.json, "Print the summary as JSON on stdout");
  run_cmd->add_flag("--quiet", run.quiet, "No progress on stderr");
  run_cmd->add_flag("--record-requests", run.load.record_requests,
                    "Record every end-user request in the result");
  run_cmd->add_option("--jobs", run.jobs, "Runs simulated in parallel (default: one per core)")
      ->check(CLI::PositiveNumber);

  std::vector<std::string> vfiles;
  std::vector<std::string> vset;
  auto* val_cmd = app.add_subcommand(
      "validate",
      "Check scenario, training, evaluation and bench files (and their traces) without running them");
  val_cmd->add_option("scenarios", vfiles, "Scenario TOML files")->required();
  val_cmd->add_option("--set", vset, "Override a scenario key: dotted.key=value; repeatable")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);

  std::string ifile;
  bool ijson = false;
  auto* insp_cmd = app.add_subcommand("inspect", "Print the summary of a result file");
  insp_cmd->add_option("file", ifile, "HDF5 result file")->required();
  insp_cmd->add_flag("--json", ijson, "Print the summary as JSON on stdout");

  std::string dcontroller, dobservations, dout;
  auto* decide_cmd = app.add_subcommand("decide",
                                        "Replay observations of one scaled target (JSON Lines) through a "
                                        "controller; one JSON line out per line in "
                                        "(format: README.md, 'autoscale decide')");
  decide_cmd->add_option("--controller", dcontroller, "Controller file: kind and its keys (.toml or .json)")
      ->required();
  decide_cmd->add_option("--observations", dobservations, "Observations, one JSON object per line")
      ->required();
  decide_cmd->add_option("--out", dout, "Write the decisions here (default: standard output)");

  std::string imanifest, iout;
  bool iverbose = false;
  auto* import_cmd = app.add_subcommand("import",
                                        "Convert a Kubernetes manifest (HorizontalPodAutoscaler, KEDA "
                                        "ScaledObject, Knative Service or Revision) "
                                        "into a scenario's [controller] section");
  import_cmd->add_option("manifest", imanifest, "YAML manifest (several documents allowed)")->required();
  import_cmd->add_option("--out", iout, "Write the section here (default: standard output)");
  import_cmd->add_flag("--verbose", iverbose, "Also name the objects that are not autoscalers");

  ForecastEvalArgs feval;
  auto* feval_cmd =
      app.add_subcommand("forecast-eval",
                         "Rolling-origin evaluation of forecasters on a trace at several horizons "
                         "(format: README.md, 'Forecast evaluation')");
  feval_cmd->add_option("eval", feval.eval_file, "Evaluation TOML file")->required();
  feval_cmd->add_option("--out", feval.out, "Result file (default: results/<EVAL file stem>.h5)");
  feval_cmd->add_flag("--json", feval.json, "Print the results as JSON on stdout");
  feval_cmd->add_flag("--quiet", feval.quiet, "No progress on stderr");

  auto* bench_cmd = app.add_subcommand(
      "bench",
      "Benchmark controllers against each other (BENCH.toml: scenarios x controllers x "
      "seeds), locally, over MPI ranks (mpirun) or as a Slurm job array (--slurm, merge); or "
      "the engine and the forecasters (engine, forecasters)");
  bench_cmd->require_subcommand(0, 1);
  BenchArgs bench;
  bench_cmd->add_option("bench", bench.file,
                        "Bench file: scenarios x controllers x seeds (format: README.md, 'Benchmarking "
                        "controllers'); or one of the subcommands");
  bench_cmd->add_option("--out", bench.out, "Result file (default: results/<bench name>.h5)");
  bench_cmd->add_option("--jobs", bench.jobs, "Runs simulated in parallel (default: one per core)")
      ->check(CLI::PositiveNumber);
  bench_cmd->add_option("--seeds", bench.seeds, "Run seeds 1..N instead of the file's (a quick look)")
      ->check(CLI::Range(1, 10000));
  bench_cmd->add_flag("--json", bench.json, "Print the statistics as JSON on stdout");
  bench_cmd->add_flag("--quiet", bench.quiet, "No progress on stderr");
  auto* slurm_opt =
      bench_cmd
          ->add_option(
              "--slurm", bench.slurm_dir,
              "Run nothing: write DIR/bench.sbatch, a Slurm job array (one task per chunk of runs, each "
              "--jobs CPUs, default 1); then `sbatch DIR/bench.sbatch` and `autoscale bench merge DIR`. "
              "Under `mpirun -n N autoscale bench ...` the runs are spread over the ranks and rank 0 writes "
              "--out (README.md, 'Running a benchmark on MPI or Slurm')")
          ->type_name("DIR");
  bench_cmd->add_option("--chunks", bench.chunks, "With --slurm: array tasks (default: one per run)")
      ->type_name("K")
      ->check(CLI::PositiveNumber)
      ->needs(slurm_opt);
  bench_cmd
      ->add_option(
          "--chunk", bench.chunk,
          "Run only chunk I (from 0) of K (runs I, I+K, ...) into the part file --out (what each task "
          "of a --slurm job array runs)")
      ->type_name("I/K")
      ->excludes(slurm_opt);
  BenchMergeArgs bmerge;
  auto* bench_merge = bench_cmd->add_subcommand(
      "merge",
      "Assemble the parts a --slurm job array wrote in DIR into the result file a local run writes, "
      "and print its tables");
  bench_merge->add_option("dir", bmerge.dir, "The directory given to --slurm")->type_name("DIR")->required();
  bench_merge->add_option("--out", bmerge.out, "Result file (default: results/<bench name>.h5)");
  bench_merge->add_flag("--json", bmerge.json, "Print the statistics as JSON on stdout");
  bool bjson = false, bquiet = false;
  double bduration = 3000;
  auto* bench_engine =
      bench_cmd->add_subcommand("engine",
                                "Exact mode vs the fastest raw-SimGrid formulation of the "
                                "standard queue (20 nodes x 2 workers, 200 rps), and the cost "
                                "against the fleet size");
  bench_engine->add_flag("--json", bjson, "Print JSON: exact_req_per_s, baseline_req_per_s, ...");
  bench_engine->add_flag("--quiet", bquiet, "No progress on stderr");
  bench_engine->add_option("--duration-s", bduration, "Simulated seconds per measurement")
      ->check(CLI::PositiveNumber);
  int brounds = 5;
  bench_engine
      ->add_option("--rounds", brounds, "Alternating rounds; each formulation's best round is reported")
      ->check(CLI::PositiveNumber);
  std::vector<int> binstances = {20, 200, 2000};
  bench_engine
      ->add_option("--instances", binstances,
                   "Fleet sizes for the cost-against-fleet table: 600 000 requests at 10 rps per instance "
                   "(default 20 200 2000)")
      ->check(CLI::Range(1, 5000));

  BenchFidelityArgs bfid;
  std::string bfid_seed;
  auto* bench_fidelity = bench_cmd->add_subcommand(
      "fidelity",
      "Every run of the scenarios at each fidelity level (exact, fast, fluid): speed-up and error against "
      "exact mode (latency p95 / p99, SLA violations, failures, cost)");
  bench_fidelity->add_option("scenarios", bfid.scenarios, "Scenario files")->required();
  bench_fidelity->add_option("--levels", bfid.levels, "Fidelity levels (default: exact fast fluid)");
  bench_fidelity->add_option("--set", bfid.load.set,
                             "Override a scenario key: dotted.key=value (TOML value)");
  auto* bfid_seed_opt = bench_fidelity->add_option("--seed", bfid_seed, "Seed (replaces the scenarios')");
  bench_fidelity
      ->add_option("--tolerance", bfid.tolerance,
                   "Relative error a level must stay within on every metric (exit 1 otherwise; fluid is "
                   "reported, not held to it; default 0.05)")
      ->check(CLI::PositiveNumber);
  bench_fidelity->add_flag("--json", bfid.json, "Print JSON: per run and level, values and relative errors");
  bench_fidelity->add_flag("--quiet", bfid.quiet, "No progress on stderr");

  bool fjson = false, fquiet = false;
  auto* bench_forecasters = bench_cmd->add_subcommand(
      "forecasters",
      "Fit time and prediction latency (us) of every forecaster on a week of one-minute steps");
  bench_forecasters->add_flag("--json", fjson,
                              "Print JSON: {\"forecasters\": {kind: {predict_us, fit_s, ...}}}");
  bench_forecasters->add_flag("--quiet", fquiet, "No progress on stderr");

  TrainRlArgs trl;
  std::string trl_seed;
  auto* trl_cmd = app.add_subcommand(
      "train-rl",
      "Train an RL policy (PPO or DQN in LibTorch) on scenario runs into the model registry, for the `rl` "
      "controller (format: README.md, 'Training an RL policy')");
  trl_cmd->add_option("config", trl.config, "RL training file (RL.toml)")->required();
  trl_cmd->add_option("--out", trl.models_dir,
                      "Model registry directory (default: $AUTOSCALE_MODELS, else models/)");
  auto* trl_seed_opt = trl_cmd->add_option(
      "--seed", trl_seed, "Seed of the weights, sampling and episodes (replaces the file's)");
  trl_cmd->add_flag("--json", trl.json, "Print the result as JSON on stdout");
  trl_cmd->add_flag("--quiet", trl.quiet, "No progress (steps, rewards) on stderr");

  CalibrateArgs calib;
  auto* calib_cmd = app.add_subcommand(
      "calibrate",
      "Grid search of a controller's keys on training scenarios for the lowest cost + lambda x SLA-violation "
      "seconds + mu x changes (format: README.md, 'Calibrating a controller')");
  calib_cmd->add_option("config", calib.file, "Calibration file (CAL.toml)")->required();
  calib_cmd->add_option("--out", calib.out, "Write the best controller section to this TOML file");
  calib_cmd->add_option("--jobs", calib.jobs, "Runs simulated in parallel (default: one per core)")
      ->check(CLI::PositiveNumber);
  calib_cmd->add_flag("--json", calib.json, "Print every grid point's means and the best section as JSON");
  calib_cmd->add_flag("--quiet", calib.quiet, "No progress on stderr");

  TrainArgs train;
  std::string tseed;
  auto* train_cmd = app.add_subcommand(
      "train",
      "Train a LibTorch forecaster (lstm, gru, transformer) on traces into the model registry (format: "
      "README.md, 'Training forecasters')");
  train_cmd->add_option("config", train.config, "Training file (MODEL.toml)")->required();
  train_cmd->add_option("--out", train.models_dir,
                        "Model registry directory (default: $AUTOSCALE_MODELS, else models/)");
  auto* tseed_opt =
      train_cmd->add_option("--seed", tseed, "Seed of the weights and batches (replaces the file's)");
  train_cmd->add_flag("--json", train.json, "Print the result as JSON on stdout");
  train_cmd->add_flag("--quiet", train.quiet, "No progress (epochs, losses) on stderr");

  std::string models_dir, mref;
  bool mjson = false;
  auto* models_cmd = app.add_subcommand("models", "The model registry: list the models, show one");
  models_cmd->require_subcommand(1);
  auto* models_list = models_cmd->add_subcommand("list", "Every model and version in the registry");
  models_list->add_option("--models", models_dir,
                          "Registry directory (default: $AUTOSCALE_MODELS, else models/)");
  models_list->add_flag("--json", mjson, "Print JSON");
  auto* models_show = models_cmd->add_subcommand(
      "show", "Load and check one model (its model.json, the weights' SHA-256, the network) and print it");
  models_show->add_option("model", mref, "NAME, NAME@VERSION or a model directory")->required();
  models_show->add_option("--models", models_dir,
                          "Registry directory (default: $AUTOSCALE_MODELS, else models/)");
  models_show->add_flag("--json", mjson, "Print JSON");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "error: command line: %s (see autoscale --help)\n", e.what());
    return 2;
  }
  try {
    if (*run_cmd) {
      if (*seed_opt) run.load.seed = parse_seed(seed);
      return cmd_run(run);
    }
    if (*val_cmd) {
      LoadOptions lo;
      lo.set = vset;
      int status = 0;
      for (const auto& f : vfiles) {  // every file is checked; each bad one is reported
        try {
          const std::string kind = config_file_kind(f);
          if (kind == "train")
            cmd_validate_train(f);
          else if (kind == "forecast_eval")
            cmd_validate_forecast_eval(f);
          else if (kind == "bench")
            cmd_validate_bench(f);
          else if (kind == "calibrate")
            cmd_validate_calibrate(f);
          else if (kind == "train_rl")
            cmd_validate_train_rl(f);
          else
            cmd_validate(f, lo);
        } catch (const InputError& e) {
          std::fprintf(stderr, "error: %s\n", e.what());
          status = 2;
        }
      }
      return status;
    }
    if (*insp_cmd) return cmd_inspect(ifile, ijson);
    if (*train_cmd) {
      if (*tseed_opt) train.seed = parse_seed(tseed);
      return cmd_train(train);
    }
    if (*models_list) return cmd_models_list(models_dir, mjson);
    if (*models_show) return cmd_models_show(mref, models_dir, mjson);
    if (*decide_cmd) return cmd_decide(dcontroller, dobservations, dout);
    if (*import_cmd) return cmd_import(imanifest, iout, iverbose);
    if (*feval_cmd) return cmd_forecast_eval(feval);
    if (*bench_forecasters) return cmd_bench_forecasters(fjson, fquiet);
    if (*bench_merge) return cmd_bench_merge(bmerge);
    if (*calib_cmd) return cmd_calibrate(calib);
    if (*trl_cmd) {
      if (*trl_seed_opt) trl.seed = parse_seed(trl_seed);
      return cmd_train_rl(trl);
    }
    if (*bench_fidelity) {
      if (*bfid_seed_opt) bfid.load.seed = parse_seed(bfid_seed);
      return cmd_bench_fidelity(bfid);
    }
    if (*bench_engine) return cmd_bench_engine(bjson, bduration, brounds, bjson || bquiet, binstances);
    if (*bench_cmd) {
      if (bench.file.empty())
        throw InputError(
            "command line", 0, "bench",
            "a bench file (autoscale bench BENCH.toml) or a subcommand: engine, forecasters, merge");
      return cmd_bench(bench);
    }
  } catch (const InputError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 3;
  }
  return 0;
}
