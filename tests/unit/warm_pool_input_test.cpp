// Warm pool, lifecycle hook and shadow keys (README, "[[services]]"): read, ranged, and bad input named.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <string>

#include "controllers/base/error.hpp"
#include "sim/scenario/scenario_loader.hpp"

using namespace autoscale;

namespace {
// A one-service scenario with `extra_service` in its [[services]] table and `pool_keys` in its node pool;
// "loaded" or the InputError's message.
std::string load(const std::string& extra_service, const std::string& pool_keys, Scenario* out = nullptr) {
  const std::string path = "/tmp/warm_pool_input_test_" + std::to_string(getpid()) + ".toml";
  std::ofstream(path)
      << "duration_s = 60\n[cluster.instance_types.m]\nvcpu = 2\nmemory_gib = 4\n"
         "price_per_hour_usd = 0.1\n[[cluster.node_pools]]\nname = \"p\"\ninstance_type = \"m\"\n"
      << pool_keys << "\n[[services]]\nname = \"web\"\n"
      << extra_service
      << "\n[[traffic.sources]]\nkind = \"constant\"\nrate_rps = 1\n[controller]\nkind = "
         "\"static\"\ninstances = 1\n";
  std::string result = "loaded";
  try {
    Scenario sc = load_scenario(path, {});
    if (out) *out = sc;
  } catch (const InputError& e) {
    result = e.what();
  }
  std::remove(path.c_str());
  return result;
}
}  // namespace

TEST_CASE("warm pool, lifecycle hook and shadow keys are read", "[scenario][warm_pool]") {
  Scenario sc;
  REQUIRE(load("shadow_duration_s = 45\n[services.startup]\nboot_s = 40\n[services.warm_pool]\n"
               "pool_state = \"hibernated\"\nmin_size = 2\nmax_group_prepared_capacity = 5\n"
               "reuse_on_scale_in = true\nstopped_price_per_hour_usd = 0.01\n"
               "[[services.lifecycle_hooks]]\nname = \"cm\"\ntransition = \"launching\"\n"
               "heartbeat_timeout_s = 300\ndefault_result = \"CONTINUE\"\n"
               "action_s = { dist = \"uniform\", min = 20, max = 60 }\n"
               "[[services.lifecycle_hooks]]\ntransition = \"terminating\"\n",
               "", &sc) == "loaded");
  const ServiceSpec& s = sc.runs.at(0).services.at(0);
  CHECK(s.shadow_duration_s == 45);
  CHECK(s.warm_pool.enabled);
  CHECK(s.warm_pool.pool_state == WarmPoolState::hibernated);
  CHECK(s.warm_pool.min_size == 2);
  CHECK(s.warm_pool.max_prepared_capacity == 5);
  CHECK(s.warm_pool.reuse_on_scale_in);
  CHECK(s.warm_pool.stopped_price_per_hour_usd == 0.01);
  CHECK(s.warm_pool.resume_s.expected() == 40);  // default: the service's boot_s
  REQUIRE(s.lifecycle_hooks.size() == 2);
  CHECK(s.lifecycle_hooks[0].name == "cm");
  CHECK(s.lifecycle_hooks[0].launching);
  CHECK_FALSE(s.lifecycle_hooks[0].abandon);
  CHECK(s.lifecycle_hooks[0].has_action);
  CHECK(s.lifecycle_hooks[0].action_s.expected() == 40);
  CHECK(s.lifecycle_hooks[1].name == "hook-1");
  CHECK_FALSE(s.lifecycle_hooks[1].launching);
  CHECK(s.lifecycle_hooks[1].abandon);  // AWS's default result
  CHECK(s.lifecycle_hooks[1].heartbeat_timeout_s == 3600);
  CHECK_FALSE(s.lifecycle_hooks[1].has_action);
}

TEST_CASE("warm pool and hook keys: bad input names the key", "[scenario][warm_pool]") {
  CHECK_THAT(load("[services.warm_pool]\npool_state = \"frozen\"\n", ""), Catch::Contains("pool_state"));
  CHECK_THAT(load("[services.warm_pool]\nmin_size = 1\n", "dedicated = false\nnodes = 2"),
             Catch::Contains("warm_pool") && Catch::Contains("dedicated"));
  CHECK_THAT(load("[services.warm_pool]\nmin_sise = 1\n", ""), Catch::Contains("min_sise"));
  CHECK_THAT(load("[[services.lifecycle_hooks]]\ntransition = \"launching\"\nheartbeat_timeout_s = 10\n", ""),
             Catch::Contains("heartbeat_timeout_s") && Catch::Contains("[30, 7200]"));
  CHECK_THAT(load("[[services.lifecycle_hooks]]\ntransition = \"launch\"\n", ""),
             Catch::Contains("transition"));
  CHECK_THAT(
      load("[[services.lifecycle_hooks]]\ntransition = \"launching\"\ndefault_result = \"continue\"\n", ""),
      Catch::Contains("default_result"));
  CHECK_THAT(load("[[services.lifecycle_hooks]]\nname = \"a\"\ntransition = \"launching\"\n"
                  "[[services.lifecycle_hooks]]\nname = \"a\"\ntransition = \"terminating\"\n",
                  ""),
             Catch::Contains("duplicate"));
  CHECK_THAT(load("shadow_duration_s = -1\n", ""), Catch::Contains("shadow_duration_s"));
}
