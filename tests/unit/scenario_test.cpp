// The scenario reader: defaults, runs with overrides, --set, and errors that name file, line and key.
#include <unistd.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "controllers/base/error.hpp"
#include "sim/scenario/key_ranges.hpp"
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

// `text` with `from` (which must occur) replaced by `to`.
std::string edit(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

std::string with(const std::string& from, const std::string& to) {
  return edit(kBase, from, to);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The line of `text` on which `part` first occurs.
int line_of(const std::string& text, const std::string& part) {
  auto at = text.find(part);
  REQUIRE(at != std::string::npos);
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(at), '\n'));
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

TEST_CASE("README's scenario reference shows the range of every key of the range table", "[scenario]") {
  // tests/unit/scenario_test.cpp -> the repository root.
  auto root = std::filesystem::path(__FILE__).parent_path().parent_path().parent_path();
  std::ifstream in(root / "README.md");
  REQUIRE(in);
  std::vector<std::string> reference;
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("## ", 0) == 0) inside = line == "## Scenario file reference";
    if (inside) reference.push_back(line);
  }
  REQUIRE(!reference.empty());
  for (const KeyRange& r : key_ranges()) {
    std::string table = r.table;
    std::string heading = table.empty()             ? "Top level"
                          : table == "distribution" ? "Distributions"
                                                    : "[" + table + "]";
    bool under = false, shown = false;
    for (const auto& line : reference) {
      if (line.rfind("#", 0) == 0) {
        under = contains(line, heading);
        continue;
      }
      bool names_key =
          contains(line, "`" + std::string(r.key) + "`") || contains(line, "." + std::string(r.key) + "`");
      if (under && names_key && contains(line, range_text(r))) shown = true;
    }
    INFO("table '" << table << "' key '" << r.key << "' range " << range_text(r));
    CHECK(shown);
  }
}

TEST_CASE("ranges are shown as README shows them", "[scenario]") {
  CHECK(range_text(key_range("services", "workers")) == "[1, 10000]");
  CHECK(range_text(key_range("", "duration_s")) == "(0, 31536000]");
  CHECK(range_text(key_range("", "seed")) == "[0, 2^63-1]");
  CHECK(range_text(key_range("edges", "request_bytes")) == "[0, 1e12]");
  CHECK(range_text(key_range("monitoring", "scrape_interval_s")) == "[0.001, 86400]");
  CHECK_THROWS_AS(key_range("services", "no_such_key"), std::logic_error);
}

TEST_CASE("a scenario setting every key loads with the values written", "[scenario]") {
  std::string trace = write("every.csv", "t_s,rps\n0,1\n60,2\n120,3\n180,4\n");
  std::string text = R"(name = "every-key"
description = "every key"
seed = 9223372036854775807
duration_s = 600
record_interval_s = 30
reference_speed_gflops = 2.0
[sla]
latency_s = 0.5
[metrics]
reference_utilization = 0.7
[cluster.hosts]
count = 2
cores = 16
speed_gflops = 2.5
memory_gib = 32
cpu_overcommit = 1  # a pod's cpu_limit needs nodes that own their cores
[cluster.network]
bandwidth_gbps = 1
latency_s = 0.001
[cluster.instance_types.big]
vcpu = 16
memory_gib = 16
price_per_hour_usd = 0.5
[[cluster.node_pools]]
name = "k8s"
instance_type = "big"
dedicated = false
nodes = 2
scheduler = "most_allocated"
[[cluster.node_pools]]
name = "asg"
instance_type = "big"
min_billed_s = 0
[[services]]
name = "web"
node_pool = "k8s"
work_cpu_s = { dist = "uniform", min = 0.01, max = 0.02 }
workers = 3
queue_limit = 7
cpu_request = 0.5
cpu_limit = 1.5
memory_request_gib = 0.25
initial_instances = 2
min_instances = 1
max_instances = 9
database = false
routing = "least_outstanding"
scale_in_victim = "oldest"
drain_timeout_s = 5
[services.startup]
launch_s = 1
provision_s = { dist = "normal", mean = 2, cv = 0.1 }
boot_s = { dist = "lognormal", mean = 3, cv = 0.2 }
init_s = { dist = "empirical", values = [1, 2] }
init_cpu_s = 0.5
readiness_initial_delay_s = 1
readiness_period_s = 2
readiness_success_threshold = 2
warmup_s = 10
warmup_initial_capacity = 0.5
[[services]]
name = "db"
node_pool = "asg"
work_cpu_s = { dist = "exponential", mean = 0.01 }
startup.boot_s = { dist = "constant", value = 4 }
[[edges]]
from = "web"
to = "db"
probability = 0.5
calls = 2
request_bytes = 10
response_bytes = 20
[traffic]
entry_service = "web"
client_timeout_s = 5
resolution_s = 0.5
[[traffic.sources]]
kind = "trace"
name = "replay"
path = "TRACE"
column = "rps"
rate_scale = 2
time_scale = 0.25
start_s = 60
end_s = 180
loop = true
[[traffic.sources]]
kind = "constant"
rate_rps = 1
[[traffic.sources]]
kind = "diurnal"
rate_rps = 2
amplitude = 0.3
period_s = 3600
peak_time_s = 100
noise_cv = 0.1
noise_interval_s = 30
as_shape = false
[[traffic.sources]]
kind = "mmpp"
state_rates_rps = [0, 5]
state_mean_s = [60, 30]
[[traffic.sources]]
kind = "step"
before_rps = 1
start_s = 100
rate_rps = 2
[[traffic.sources]]
kind = "flash_crowd"
start_s = 200
ramp_s = 0
peak_multiplier = 3
duration_s = 20
decay_s = 30
[[traffic.sources]]
kind = "scheduled"
start_s = 300
duration_s = 60
multiplier = 2
ramp_s = 5
[monitoring]
scrape_interval_s = 5
lag_s = 5
window_s = 30
[controller]
kind = "threshold"
services = ["web"]
interval_s = 15
metric = "latency_p95_s"
scale_out_above = 0.4
scale_in_below = 0.1
adjustment_type = "percent_change_in_capacity"
scale_out_adjustment = 50
scale_in_adjustment = 12.5
min_adjustment_magnitude = 2
evaluation_periods = 3
cooldown_s = 45
[[run]]
name = "a"
[[run]]
name = "b.2_x-y"
[run.controller]
kind = "static"
instances = 4
[[expect]]
run = "a"
metric = "cost_usd"
op = "<"
value = -1e15
)";
  text.replace(text.find("TRACE"), 5, trace);
  std::ostringstream warnings;
  LoadOptions opts;
  opts.warnings = &warnings;
  Scenario sc = load_scenario(write("every.toml", text), opts);
  CHECK(warnings.str().empty());
  CHECK(sc.name == "every-key");
  CHECK(sc.seed == 9223372036854775807ull);
  REQUIRE(sc.runs.size() == 2);
  CHECK(sc.runs[1].name == "b.2_x-y");
  const RunSpec& r = sc.runs[0];
  CHECK(r.hosts.count == 2);
  CHECK(r.hosts.cpu_overcommit == 1);
  CHECK(r.instance_types[0].vcpu == 16);  // 8 cores x overcommit 2 hold it
  REQUIRE(r.node_pools.size() == 2);
  CHECK(r.node_pools[0].scheduler == SchedulerPolicy::most_allocated);
  CHECK(r.node_pools[1].scheduler == SchedulerPolicy::least_allocated);
  CHECK(r.node_pools[1].min_billed_s == 0);
  const ServiceSpec& web = r.services[0];
  CHECK(web.cpu_request == 0.5);
  CHECK(web.cpu_limit == 1.5);
  CHECK(web.queue_limit == 7);
  CHECK(web.startup.readiness_success_threshold == 2);
  CHECK(web.startup.init_s.values == std::vector<double>{1, 2});
  CHECK(r.services[1].cpu_limit == 0);  // absent: no limit
  CHECK(r.services[1].startup.boot_s.mean == 4);
  CHECK(r.edges[0].calls == 2);
  REQUIRE(r.traffic.components.size() == 7);
  CHECK(r.traffic.components[0].name == "replay");
  CHECK(r.traffic.components[0].trace.end_s == 180);
  CHECK(r.traffic.components[1].name == "constant-0");  // the first constant source, whatever comes before it
  CHECK(r.traffic.components[3].state_mean_s == std::vector<double>{60, 30});
  CHECK(r.traffic.components[5].ramp_s == 0);
  CHECK(r.monitoring.window_s == 30);
  CHECK(sc.expectations[0].value == -1e15);
}

TEST_CASE("integers out of range are not narrowed", "[scenario]") {
  std::string text = with("workers = 4", "workers = 4294967296");
  InputError e = error_of(text);
  CHECK(e.field() == "services.web.workers");
  CHECK(e.line() == line_of(text, "4294967296"));
  CHECK(contains(e.what(), "value 4294967296 is out of range; expected an integer in [1, 10000]"));

  e = error_of(with("[[services]]\nname = \"web\"",
                    "[cluster.hosts]\ncount = 1000000000\n[[services]]\nname = \"web\""));
  CHECK(e.field() == "cluster.hosts.count");
  CHECK(contains(e.what(), "[1, 10000]"));

  e = error_of(with("workers = 10", "workers = 10\nqueue_limit = 1000000000"));
  CHECK(e.field() == "services.db.queue_limit");
  e = error_of(with("max_instances = 1", "max_instances = 1000000000"));
  CHECK(e.field() == "services.db.max_instances");

  e = error_of(with("name = \"unit\"", "name = \"unit\"\nseed = -1"));
  CHECK(e.field() == "seed");
  CHECK(contains(e.what(), "[0, 2^63-1]"));
  e = error_of(with("duration_s = 600", "duration_s = 1e300"));
  CHECK(e.field() == "duration_s");
  CHECK(contains(e.what(), "(0, 31536000]"));
}

TEST_CASE("NaN and infinity are rejected in every number, controller settings included", "[scenario]") {
  std::string text = with("scale_out_above = 0.7", "scale_out_above = nan");
  InputError e = error_of(text);
  CHECK(e.field() == "controller.scale_out_above");
  CHECK(e.line() == line_of(text, "= nan"));
  CHECK(contains(e.what(), "value nan is not a finite number"));

  e = error_of(std::string(kBase) + "cooldown_s = inf\n");
  CHECK(e.field() == "controller.cooldown_s");
  CHECK(contains(e.what(), "value inf is not a finite number"));

  e = error_of(with("rate_rps = 5", "rate_rps = -inf"));
  CHECK(e.field() == "traffic.sources.0.rate_rps");
  e = error_of(with("workers = 4", "workers = 4\nwork_cpu_s = { dist = \"empirical\", values = [1, nan] }"));
  CHECK(e.field() == "services.web.work_cpu_s.values");
  CHECK(contains(e.what(), "element 1: nan"));
}

TEST_CASE("intervals too small for time to advance are rejected", "[scenario]") {
  InputError e = error_of(std::string(kBase) + "[monitoring]\nscrape_interval_s = 1e-300\n");
  CHECK(e.field() == "monitoring.scrape_interval_s");
  CHECK(contains(e.what(), "[0.001, 86400]"));
  e = error_of(std::string(kBase) + "interval_s = 1e-9\n");
  CHECK(e.field() == "controller.interval_s");
  e = error_of(with("[[traffic.sources]]", "[traffic]\nresolution_s = 1e-6\n[[traffic.sources]]"));
  CHECK(e.field() == "traffic.resolution_s");

  // In range, but too many of them: duration_s / record_interval_s rows.
  e = error_of(with("duration_s = 600", "duration_s = 100000\nrecord_interval_s = 0.001"));
  CHECK(e.field() == "record_interval_s");
  CHECK(contains(e.what(), "duration_s / record_interval_s = 1e8 rows"));
  CHECK(contains(e.what(), "at most 10000000"));
  LoadOptions ok;
  ok.set = {"record_interval_s=0.001"};  // 600 s / 1 ms: 600000 rows
  CHECK(load_scenario(write("rows.toml", kBase), ok).runs[0].record_interval_s == 0.001);

  // 1e6 s of 1 ms sojourns: 1e9 state switches.
  std::string mmpp = with("rate_rps = 5",
                          "rate_rps = 5\n[[traffic.sources]]\nkind = \"mmpp\"\n"
                          "state_rates_rps = [1, 2]\nstate_mean_s = [0.001, 0.001]");
  e = error_of(edit(mmpp, "duration_s = 600", "duration_s = 1e6\nrecord_interval_s = 600"));
  CHECK(e.field() == "traffic.sources.1.state_mean_s");
  CHECK(contains(e.what(), "expected state switches"));

  e = error_of(std::string(kBase) + "[monitoring]\nscrape_interval_s = 0.01\nwindow_s = 86400\n");
  CHECK(e.field() == "monitoring.window_s");
  CHECK(contains(e.what(), "at most 100000"));
}

TEST_CASE("names are safe as HDF5 groups and file names", "[scenario]") {
  for (const char* bad : {"a/b", "..", ".", "a,b", "", "a b", "tab\t"}) {
    INFO("name '" << bad << "'");
    InputError e = error_of(with("name = \"web\"", std::string("name = \"") + bad + "\""));
    CHECK(e.field().substr(e.field().size() - 5) == ".name");
    CHECK(contains(e.what(), "A-Z a-z 0-9 _ . -"));
  }
  CHECK(name_problem(std::string(64, 'x')).empty());
  CHECK(contains(name_problem(std::string(65, 'x')), "65 characters"));
  CHECK(contains(name_problem("a\x01"), "byte 0x01"));
  CHECK(name_problem("m5.large").empty());

  InputError e = error_of(with("name = \"unit\"", "name = \"../unit\""));
  CHECK(e.field() == "name");
  e = error_of(with("name = \"pool\"", "name = \"po,ol\""));
  CHECK(e.field() == "cluster.node_pools.po,ol.name");
  e = error_of(with("[cluster.instance_types.small]", "[cluster.instance_types.\"a/b\"]"));
  CHECK(e.field() == "cluster.instance_types.a/b");
  e = error_of(with("kind = \"constant\"", "kind = \"constant\"\nname = \"x/y\""));
  CHECK(e.field() == "traffic.sources.x/y.name");
  e = error_of(std::string(kBase) + "[[run]]\nname = \"..\"\n");
  CHECK(e.field() == "run.0.name");
}

TEST_CASE("settings that can never work are rejected", "[scenario]") {
  InputError e = error_of(with("vcpu = 2", "vcpu = 17"));  // 16 cores, no overcommit
  CHECK(e.field() == "cluster.instance_types.small.vcpu");
  CHECK(contains(e.what(), "cores x cpu_overcommit = 16 vCPUs"));
  e = error_of(with("memory_gib = 4", "memory_gib = 65"));
  CHECK(e.field() == "cluster.instance_types.small.memory_gib");
  CHECK(contains(e.what(), "cluster.hosts.memory_gib = 64 GiB"));

  e = error_of(with("scale_in_below = 0.3", "scale_in_below = 0.3\nscale_out_adjustment = 0.5"));
  CHECK(e.field() == "controller.scale_out_adjustment");
  CHECK(contains(e.what(), "0.5 would change the count by 0"));
  e = error_of(with("scale_in_below = 0.3", "scale_in_below = 0.3\nscale_in_adjustment = 0"));
  CHECK(e.field() == "controller.scale_in_adjustment");
  e = error_of(with("scale_in_below = 0.3", "scale_in_below = 0.3\nmin_adjustment_magnitude = 0"));
  CHECK(e.field() == "controller.min_adjustment_magnitude");
  // A fractional percent is a percent.
  LoadOptions percent;
  percent.set = {"controller.adjustment_type=\"percent_change_in_capacity\"",
                 "controller.scale_in_adjustment=0.5"};
  CHECK_NOTHROW(load_scenario(write("percent.toml", kBase), percent));

  // Fan-out: 1000 calls from web to db, 1000 from db to a third service: a million requests per arrival.
  e = error_of(
      with("to = \"db\"", "to = \"db\"\ncalls = 1000\n[[edges]]\nfrom = \"db\"\nto = \"cache\"\ncalls = 1000")
          .append("[[services]]\nname = \"cache\"\n"));
  CHECK(e.field() == "edges");
  CHECK(contains(e.what(), "1001001 service requests per end-user request"));
}

TEST_CASE("cpu_limit and scheduler: pods on fixed pools only, within the node", "[scenario]") {
  std::string fixed =
      with("instance_type = \"small\"", "instance_type = \"small\"\ndedicated = false\nnodes = 2");
  auto fixed_with = [&](const std::string& service_keys) {
    std::string t = fixed;
    return t.replace(t.find("workers = 4"), 11, "workers = 4\n" + service_keys);
  };
  Scenario sc = load_scenario(write("limit.toml", fixed_with("cpu_request = 0.5\ncpu_limit = 2")), {});
  CHECK(sc.runs[0].services[0].cpu_limit == 2);
  CHECK(sc.runs[0].node_pools[0].scheduler == SchedulerPolicy::least_allocated);

  InputError e = error_of(fixed_with("cpu_request = 1.5\ncpu_limit = 1"));
  CHECK(e.field() == "services.web.cpu_limit");
  CHECK(contains(e.what(), "cpu_limit >= cpu_request (1.5)"));
  e = error_of(fixed_with("cpu_limit = 3"));
  CHECK(contains(e.what(), "at most the 2 vCPU of a small node (pool pool)"));
  e = error_of(fixed_with("memory_request_gib = 5"));
  CHECK(e.field() == "services.web.memory_request_gib");
  e = error_of(with("workers = 4", "workers = 4\ncpu_limit = 1"));
  CHECK(e.field() == "services.web.cpu_limit");
  CHECK(contains(e.what(), "dedicated"));

  std::string packed = fixed;
  packed.replace(packed.find("nodes = 2"), 9, "nodes = 2\nscheduler = \"most_allocated\"");
  CHECK(load_scenario(write("packed.toml", packed), {}).runs[0].node_pools[0].scheduler ==
        SchedulerPolicy::most_allocated);
  e = error_of(
      with("instance_type = \"small\"", "instance_type = \"small\"\nscheduler = \"most_allocated\""));
  CHECK(e.field() == "cluster.node_pools.pool.scheduler");
  CHECK(contains(e.what(), "dedicated = false"));
}

TEST_CASE("a bad --set value is blamed on --set and its key", "[scenario]") {
  auto set_error = [](const std::string& assignment) {
    LoadOptions o;
    o.set = {assignment};
    return error_of(kBase, o);
  };
  InputError e = set_error("services.web.workers=four");  // not TOML: a bare string
  CHECK(e.file() == "--set");
  CHECK(e.line() == 0);
  CHECK(e.field() == "services.web.workers");
  CHECK(contains(e.what(), "--set: 'services.web.workers': expected an integer in [1, 10000]"));
  e = set_error("services.web.workers=0");  // TOML, out of range
  CHECK(e.file() == "--set");
  CHECK(e.field() == "services.web.workers");
  e = set_error("controller.scale_out_above=nan");
  CHECK(e.file() == "--set");
  CHECK(e.field() == "controller.scale_out_above");
  e = set_error("monitoring={scrape_interval_s=1e-9}");  // a table value: its keys too
  CHECK(e.file() == "--set");
  CHECK(e.field() == "monitoring.scrape_interval_s");
  e = set_error("monitoring={scrape_intervall_s=10}");
  CHECK(e.file() == "--set");
  CHECK(contains(e.what(), "did you mean 'scrape_interval_s'"));
  e = set_error("services.web..workers=2");
  CHECK(e.file() == "--set");

  // A bad value in the file is still blamed on the file, --set or not.
  LoadOptions o;
  o.set = {"services.web.workers=8"};
  std::string text = with("rate_rps = 5", "rate_rps = -5");
  e = error_of(text, o);
  CHECK(e.line() == line_of(text, "rate_rps = -5"));
  CHECK(contains(e.file(), "err.toml"));
}

TEST_CASE("the --seed value is a decimal integer in the seed's range", "[scenario]") {
  CHECK(parse_seed("0") == 0);
  CHECK(parse_seed("42") == 42);
  CHECK(parse_seed("9223372036854775807") == 9223372036854775807ull);
  for (const char* bad :
       {"-1", "1e30", "99999999999999999999999", "9223372036854775808", "", " 5", "0x10", "+3"}) {
    INFO("--seed '" << bad << "'");
    try {
      parse_seed(bad);
      FAIL("accepted");
    } catch (const InputError& e) {
      CHECK(e.field() == "--seed");
      CHECK(contains(e.what(), "[0, 2^63-1]"));
    }
  }
}

TEST_CASE("a trace window past the trace's end is bad input; one running past it warns once", "[scenario]") {
  std::string trace = write("short.csv", "t_s,rps\n0,1\n60,2\n120,3\n");  // spans [0, 180) s
  auto trace_source = [&](const std::string& keys) {
    return with("kind = \"constant\"\nrate_rps = 5", "kind = \"trace\"\npath = \"" + trace + "\"\n" + keys);
  };
  std::string text = trace_source("start_s = 500");
  InputError e = error_of(text);
  CHECK(e.field() == "traffic.sources.0.start_s");
  CHECK(e.line() == line_of(text, "start_s = 500"));
  CHECK(contains(e.what(), "spans [0, 180) s; expected start_s < 180"));
  e = error_of(trace_source("start_s = 180"));
  CHECK(e.field() == "traffic.sources.0.start_s");

  // Two runs, one warning: 600 s of a 180 s trace from 60 s.
  std::ostringstream warnings;
  LoadOptions opts;
  opts.warnings = &warnings;
  load_scenario(
      write("past.toml", trace_source("start_s = 60") + "[[run]]\nname = \"a\"\n[[run]]\nname = \"b\"\n"),
      opts);
  std::string w = warnings.str();
  CHECK(std::count(w.begin(), w.end(), '\n') == 1);
  CHECK(contains(w, "warning: "));
  CHECK(contains(w, "past.toml"));
  CHECK(contains(w, "traffic.sources.0.path"));
  CHECK(contains(w, "no traffic after simulated time 120 s"));

  warnings.str("");
  load_scenario(write("endpast.toml", trace_source("end_s = 1000")), opts);
  CHECK(contains(warnings.str(), "'traffic.sources.0.end_s': end_s 1000 is past the trace's end"));

  warnings.str("");
  load_scenario(write("loop.toml", trace_source("start_s = 60\nloop = true")), opts);
  load_scenario(write("window.toml", trace_source("end_s = 120")), opts);      // stops inside the trace
  load_scenario(write("fast.toml", trace_source("time_scale = 0.25")), opts);  // 600 s x 0.25 = 150 s < 180 s
  CHECK(warnings.str().empty());
}
