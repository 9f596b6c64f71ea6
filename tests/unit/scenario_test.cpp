// The scenario reader: defaults, runs with overrides, --set, and errors that name file, line and key.
#include <unistd.h>
#include <catch2/catch.hpp>

#include <fstream>

#include "controllers/base/error.hpp"
#include "sim/scenario/scenario_loader.hpp"

using namespace autoscale;

namespace {
const char* kBase = R"(name = "unit"
duration_s = 600
[cluster.instance_types.small]
vcpu = 2
memory_gib = 4
price_per_hour_usd = 0.1
[[cluster.node_pools]]
name = "pool"
instance_type = "small"
[[services]]
name = "web"
workers = 4
[[services]]
name = "db"
workers = 10
max_instances = 1
[[edges]]
from = "web"
to = "db"
[[traffic.sources]]
kind = "constant"
rate_rps = 5
[controller]
kind = "threshold"
scale_out_above = 0.7
scale_in_below = 0.3
)";

std::string write(const std::string& name, const std::string& text) {
  std::string path = "/tmp/autoscale_unit_" + std::to_string(getpid()) + "_" + name;
  std::ofstream(path) << text;
  return path;
}

InputError error_of(const std::string& text, LoadOptions opts = {}) {
  try {
    load_scenario(write("err.toml", text), opts);
  } catch (const InputError& e) {
    return e;
  }
  FAIL("no error");
  return InputError("", 0, "", "");
}
}  // namespace

TEST_CASE("a scenario without runs has one run named after its controller, with defaults", "[scenario]") {
  Scenario sc = load_scenario(write("base.toml", kBase), {});
  REQUIRE(sc.runs.size() == 1);
  const RunSpec& r = sc.runs[0];
  CHECK(r.name == "threshold");
  CHECK(sc.name == "unit");
  CHECK(r.services.size() == 2);
  CHECK(r.services[0].queue_limit == 100);
  CHECK(r.services[1].max_instances == 1);
  CHECK(r.services[1].min_instances == 1);
  CHECK(r.traffic.entry_service == "web");
  CHECK(r.monitoring.scrape_interval_s == 15);
  CHECK(r.record_interval_s == 60);
  CHECK(r.sla.latency_s == 1.0);
  CHECK(r.node_pools[0].min_billed_s == 60);
}

TEST_CASE("runs override any key, and a different controller kind replaces the section", "[scenario]") {
  std::string text = std::string(kBase) + R"(
[[run]]
name = "a"
[[run]]
name = "b"
duration_s = 300
[run.controller]
kind = "static"
instances = 3
[run.services.db]
workers = 20
)";
  LoadOptions opts;
  opts.set = {"services.web.workers=8", "sla.latency_s=0.25"};
  opts.seed = 99;
  Scenario sc = load_scenario(write("runs.toml", text), opts);
  REQUIRE(sc.runs.size() == 2);
  CHECK(sc.seed == 99);
  CHECK(sc.runs[0].controller.kind == "threshold");
  CHECK(sc.runs[1].controller.kind == "static");
  CHECK(sc.runs[1].duration_s == 300);
  CHECK(sc.runs[0].duration_s == 600);
  CHECK(sc.runs[1].services[1].workers == 20);
  CHECK(sc.runs[0].services[1].workers == 10);
  CHECK(sc.runs[0].services[0].workers == 8);  // --set applies to every run
  CHECK(sc.runs[1].sla.latency_s == 0.25);
  CHECK(sc.runs[1].config_toml.find("instances = 3") != std::string::npos);
}

TEST_CASE("errors name the file, the line and the key", "[scenario]") {
  InputError e = error_of(std::string(kBase) + "[monitoring]\nwindow_seconds = 30\n");
  CHECK(e.line() == 28);
  CHECK(e.field() == "monitoring.window_seconds");
  CHECK(e.file().find("err.toml") != std::string::npos);

  std::string neg = kBase;
  neg.replace(neg.find("duration_s = 600"), 16, "duration_s = -1");
  e = error_of(neg);
  CHECK(e.line() == 2);
  CHECK(e.field() == "duration_s");

  e = error_of(std::string(kBase) + "[[run]]\nname = \"x\"\n[run.services.web]\nworkerz = 3\n");
  CHECK(e.line() == 30);
  CHECK(std::string(e.what()).find("did you mean 'workers'") != std::string::npos);

  e = error_of(std::string(kBase) + "[[expect]]\nmetric = \"sla_violations\"\nop = \"<\"\nvalue = 1\n");
  CHECK(e.field() == "expect.0.metric");
  CHECK(std::string(e.what()).find("sla_violation_fraction") != std::string::npos);

  std::string cyc = std::string(kBase) + "[[edges]]\nfrom = \"db\"\nto = \"web\"\n";
  e = error_of(cyc);
  CHECK(std::string(e.what()).find("cycle") != std::string::npos);

  LoadOptions bad_set;
  bad_set.set = {"services.cache.workers=2"};
  e = error_of(kBase, bad_set);
  CHECK(e.file() == "--set");

  std::string dist = kBase;
  dist.replace(dist.find("workers = 4"), 11, "workers = 4\nwork_cpu_s = { dist = \"lognormal\", mean = 0 }");
  e = error_of(dist);
  CHECK(e.field() == "services.web.work_cpu_s.mean");
}
