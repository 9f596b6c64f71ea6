#include "sim/scenario/key_ranges.hpp"

#include <cctype>
#include <climits>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <stdexcept>

#include "controllers/base/error.hpp"

namespace autoscale {

namespace {

using K = KeyKind;
constexpr double kDay = 86400;
constexpr double kMaxD = kMaxDurationS;
constexpr double kMinI = kMinIntervalS;
constexpr double kInt64Max = 9223372036854775807.0;  // 2^63 as a double: every TOML integer is at most 2^63-1

constexpr KeyRange kRanges[] = {
    {"", "seed", K::int64, 0, false, kInt64Max, "a seed"},
    {"", "duration_s", K::real, 0, true, kMaxD, "seconds of simulated time"},
    {"", "record_interval_s", K::real, kMinI, false, kMaxD, "seconds"},
    {"", "reference_speed_gflops", K::real, 0, true, 1e6, "Gflop/s per core"},
    {"sla", "latency_s", K::real, 0, true, kDay, "seconds"},
    {"sla", "episode_threshold", K::real, 0, false, 1, "a fraction of requests"},
    {"sla", "episode_lookback_s", K::real, 0, false, kMaxD, "seconds"},
    {"metrics", "reference_utilization", K::real, 0, true, 1, "a utilization"},
    {"fluid", "step_s", K::real, kMinI, false, kDay, "seconds"},

    {"cluster.hosts", "count", K::count, 1, false, 10000, "hosts"},
    {"cluster.hosts", "cores", K::count, 1, false, 1024, "cores per host"},
    {"cluster.hosts", "speed_gflops", K::real, 0, true, 1e6, "Gflop/s per core"},
    {"cluster.hosts", "memory_gib", K::real, 0, true, 1e6, "GiB"},
    {"cluster.hosts", "cpu_overcommit", K::real, 0, true, 100, "vCPUs per core"},
    {"cluster.network", "bandwidth_gbps", K::real, 0, true, 1e6, "Gbit/s"},
    {"cluster.network", "latency_s", K::real, 0, false, 60, "seconds"},
    {"cluster.instance_types.<name>", "vcpu", K::count, 1, false, 1024, "vCPUs"},
    {"cluster.instance_types.<name>", "memory_gib", K::real, 0, true, 1e6, "GiB"},
    {"cluster.instance_types.<name>", "price_per_hour_usd", K::real, 0, false, 1e6, "USD per hour"},
    {"cluster.instance_types.<name>", "spot_price_per_hour_usd", K::real, 0, false, 1e6, "USD per hour"},
    {"cluster.instance_types.<name>", "reserved_price_per_hour_usd", K::real, 0, false, 1e6, "USD per hour"},
    {"cluster.node_pools", "nodes", K::count, 0, false, 10000, "nodes"},
    {"cluster.node_pools", "min_billed_s", K::real, 0, false, kDay, "seconds"},
    {"cluster.node_pools", "node_startup_s", K::real, 0, false, kDay, "seconds"},
    {"cluster.node_pools", "min_nodes", K::count, 0, false, 10000, "nodes"},
    {"cluster.node_pools", "max_nodes", K::count, 0, false, 10000, "nodes"},
    {"cluster.node_pools", "spot_interruptions_per_hour", K::real, 0, false, 3600,
     "interruptions per node-hour"},
    {"cluster.node_pools", "spot_notice_s", K::real, 0, false, kDay, "seconds"},
    {"cluster.node_pools", "reserved_nodes", K::count, 0, false, 10000, "nodes"},
    {"node_autoscaler", "interval_s", K::real, kMinI, false, kDay, "seconds"},
    {"node_autoscaler", "scale_down_unneeded_time_s", K::real, 0, false, kMaxD, "seconds"},
    {"node_autoscaler", "scale_down_utilization_threshold", K::real, 0, false, 1, "a utilization"},
    {"node_autoscaler", "scale_down_delay_after_add_s", K::real, 0, false, kMaxD, "seconds"},
    {"node_autoscaler", "max_node_provision_time_s", K::real, 0, true, kMaxD, "seconds"},
    {"node_autoscaler", "consolidate_after_s", K::real, 0, false, kMaxD, "seconds"},

    {"services", "work_cpu_s", K::real, 0, false, kMaxD, "CPU-seconds"},
    {"services", "workers", K::count, 1, false, 10000, "concurrent requests per instance"},
    {"services", "queue_limit", K::count, 0, false, 100000, "waiting requests per instance"},
    {"services", "cpu_request", K::real, 0, true, 1024, "cores"},
    {"services", "cpu_limit", K::real, 0, false, 1024, "cores; 0: no limit"},
    {"services", "memory_request_gib", K::real, 0, false, 1e6, "GiB"},
    {"services", "initial_instances", K::count, 0, false, 10000, "instances"},
    {"services", "min_instances", K::count, 0, false, 10000, "instances"},
    {"services", "max_instances", K::count, 0, false, 10000, "instances"},
    {"services", "drain_timeout_s", K::real, 0, false, kMaxD, "seconds"},
    {"services", "activator_capacity", K::count, 1, false, 1000000, "requests buffered"},
    {"services.startup", "launch_s", K::real, 0, false, kMaxD, "seconds"},
    {"services.startup", "provision_s", K::real, 0, false, kMaxD, "seconds"},
    {"services.startup", "boot_s", K::real, 0, false, kMaxD, "seconds"},
    {"services.startup", "init_s", K::real, 0, false, kMaxD, "seconds"},
    {"services.startup", "init_cpu_s", K::real, 0, false, kMaxD, "CPU-seconds"},
    {"services.startup", "readiness_initial_delay_s", K::real, 0, false, kMaxD, "seconds"},
    {"services.startup", "readiness_period_s", K::real, kMinI, false, kDay, "seconds"},
    {"services.startup", "readiness_success_threshold", K::count, 1, false, 1000, "probes"},
    {"services.startup", "warmup_s", K::real, 0, false, kMaxD, "seconds"},
    {"services.startup", "warmup_initial_capacity", K::real, 0, true, 1, "a fraction of full speed"},
    {"services", "shadow_duration_s", K::real, 0, false, kMaxD, "seconds"},
    {"services.warm_pool", "min_size", K::count, 0, false, 10000, "instances"},
    {"services.warm_pool", "max_group_prepared_capacity", K::count, 0, false, 10000, "instances"},
    {"services.warm_pool", "resume_s", K::real, 0, false, kMaxD, "seconds"},
    {"services.warm_pool", "stopped_price_per_hour_usd", K::real, 0, false, 1e6, "USD per hour"},
    {"services.lifecycle_hooks", "heartbeat_timeout_s", K::real, 30, false, 7200, "seconds"},
    {"services.lifecycle_hooks", "action_s", K::real, 0, false, kMaxD, "seconds"},
    {"distribution", "value", K::real, 0, false, kMaxD, "seconds"},
    {"distribution", "min", K::real, 0, false, kMaxD, "seconds"},
    {"distribution", "max", K::real, 0, false, kMaxD, "seconds"},
    {"distribution", "mean", K::real, 0, false, kMaxD, "seconds"},
    {"distribution", "cv", K::real, 0, false, 100, "a coefficient of variation"},
    {"distribution", "values", K::real, 0, false, kMaxD, "seconds"},
    {"edges", "probability", K::real, 0, false, 1, "a probability"},
    {"edges", "calls", K::count, 1, false, 1000, "calls"},
    {"edges", "request_bytes", K::real, 0, false, 1e12, "bytes"},
    {"edges", "response_bytes", K::real, 0, false, 1e12, "bytes"},

    {"traffic", "client_timeout_s", K::real, kMinI, false, kDay, "seconds"},
    {"traffic", "resolution_s", K::real, kMinI, false, kDay, "seconds"},
    {"traffic.sources", "rate_scale", K::real, 0, false, 1e6, "a scale factor"},
    {"traffic.sources", "time_scale", K::real, 0, true, 1e6, "trace seconds per simulated second"},
    {"traffic.sources", "start_s", K::real, 0, false, 1e10, "seconds"},
    {"traffic.sources", "end_s", K::real, 0, true, 1e10, "seconds of trace time"},
    {"traffic.sources", "rate_rps", K::real, 0, false, 1e6, "requests per second"},
    {"traffic.sources", "before_rps", K::real, 0, false, 1e6, "requests per second"},
    {"traffic.sources", "state_rates_rps", K::real, 0, false, 1e6, "requests per second"},
    {"traffic.sources", "state_mean_s", K::real, kMinI, false, kMaxD, "seconds"},
    {"traffic.sources", "amplitude", K::real, 0, false, 1, "a fraction of the mean"},
    {"traffic.sources", "period_s", K::real, 0, true, kMaxD, "seconds"},
    {"traffic.sources", "peak_time_s", K::real, 0, false, kMaxD, "seconds"},
    {"traffic.sources", "noise_cv", K::real, 0, false, 100, "a coefficient of variation"},
    {"traffic.sources", "noise_interval_s", K::real, kMinI, false, kMaxD, "seconds"},
    {"traffic.sources", "ramp_s", K::real, 0, false, kMaxD, "seconds"},
    {"traffic.sources", "peak_multiplier", K::real, 0, true, 1e4, "a multiple of the rate"},
    {"traffic.sources", "duration_s", K::real, 0, false, kMaxD, "seconds"},
    {"traffic.sources", "decay_s", K::real, 0, true, kMaxD, "seconds"},
    {"traffic.sources", "multiplier", K::real, 0, false, 1e4, "a multiple of the rate"},

    {"monitoring", "scrape_interval_s", K::real, kMinI, false, kDay, "seconds"},
    {"monitoring", "lag_s", K::real, 0, false, kDay, "seconds"},
    {"monitoring", "window_s", K::real, kMinI, false, kDay, "seconds"},
    {"monitoring", "history_s", K::real, 0, false, 366 * kDay, "seconds"},
    {"monitoring", "history_step_s", K::real, 1, false, kDay, "seconds"},

    {"controller", "interval_s", K::real, kMinI, false, kDay, "seconds"},
    {"controller", "instances", K::count, 0, false, 10000, "instances"},
    {"controller", "scale_out_above", K::real, 0, false, 1e9, "a metric value"},
    {"controller", "scale_in_below", K::real, 0, false, 1e9, "a metric value"},
    {"controller", "scale_out_adjustment", K::real, 0, true, 10000, "instances, or percent"},
    {"controller", "scale_in_adjustment", K::real, 0, true, 10000, "instances, or percent"},
    {"controller", "min_adjustment_magnitude", K::count, 1, false, 10000, "instances"},
    {"controller", "cooldown_s", K::real, 0, false, kMaxD, "seconds"},
    {"controller", "evaluation_periods", K::count, 1, false, 1000, "evaluations"},
    // hpa (upstream's names; the bounds upstream's validation sets, where it sets one)
    {"controller", "minReplicas", K::count, 0, false, 10000, "replicas"},
    {"controller", "maxReplicas", K::count, 1, false, 10000, "replicas"},
    {"controller", "tolerance", K::real, 0, false, 100, "a fraction of the target"},
    {"controller", "cpuInitializationPeriodSeconds", K::real, 0, false, kMaxD, "seconds"},
    {"controller", "initialReadinessDelaySeconds", K::real, 0, false, kMaxD, "seconds"},
    {"controller", "downscaleStabilizationWindowSeconds", K::real, 0, false, kMaxD, "seconds"},
    {"controller", "syncPeriodSeconds", K::real, kMinI, false, kDay, "seconds"},
    {"controller.metrics.resource.target", "averageUtilization", K::count, 1, false, 100000, "percent"},
    {"controller.metrics.resource.target", "averageValue", K::real, 0, true, 1e15, "cores per pod"},
    {"controller.metrics.containerResource.target", "averageUtilization", K::count, 1, false, 100000,
     "percent"},
    {"controller.metrics.containerResource.target", "averageValue", K::real, 0, true, 1e15, "cores per pod"},
    {"controller.metrics.pods.target", "averageValue", K::real, 0, true, 1e15, "metric value per pod"},
    {"controller.metrics.object.target", "value", K::real, 0, true, 1e15, "metric value"},
    {"controller.metrics.object.target", "averageValue", K::real, 0, true, 1e15, "metric value per pod"},
    {"controller.metrics.external.target", "value", K::real, 0, true, 1e15, "metric value"},
    {"controller.metrics.external.target", "averageValue", K::real, 0, true, 1e15, "metric value per pod"},
    {"controller.behavior.scaleUp", "stabilizationWindowSeconds", K::count, 0, false, 3600, "seconds"},
    {"controller.behavior.scaleUp", "tolerance", K::real, 0, false, 100, "a fraction of the target"},
    {"controller.behavior.scaleDown", "stabilizationWindowSeconds", K::count, 0, false, 3600, "seconds"},
    {"controller.behavior.scaleDown", "tolerance", K::real, 0, false, 100, "a fraction of the target"},
    {"controller.behavior.scaleUp.policies", "value", K::count, 1, false, 1000000, "pods, or percent"},
    {"controller.behavior.scaleUp.policies", "periodSeconds", K::count, 1, false, 1800, "seconds"},
    {"controller.behavior.scaleDown.policies", "value", K::count, 1, false, 1000000, "pods, or percent"},
    {"controller.behavior.scaleDown.policies", "periodSeconds", K::count, 1, false, 1800, "seconds"},
    // kpa (Knative's names and, where upstream validates them, its bounds)
    {"controller", "target", K::real, 0.01, false, 1e9, "metric value per pod, utilization applied"},
    {"controller", "totalValue", K::real, 0, true, 1e9, "metric value a pod can take"},
    {"controller", "targetUtilization", K::real, 0.01, false, 1, "a fraction of the pod's capacity"},
    {"controller", "containerConcurrency", K::count, 0, false, 1000, "requests per pod; 0: unlimited"},
    {"controller", "targetBurstCapacity", K::real, -1, false, 1e9, "requests; 0: none, -1: unlimited"},
    {"controller", "activatorCapacity", K::real, 1, false, 1e9, "requests per activator"},
    {"controller", "panicThresholdPercentage", K::real, 110, false, 1e6, "percent of the ready pods' target"},
    {"controller", "stableWindow", K::real, 6, false, 3600, "seconds"},
    {"controller", "panicWindowPercentage", K::real, 1, false, 100, "percent of the stable window"},
    {"controller", "maxScaleUpRate", K::real, 1, true, 1e6, "a factor of the ready pods"},
    {"controller", "maxScaleDownRate", K::real, 1, true, 1e6, "a divisor of the ready pods"},
    {"controller", "scaleDownDelay", K::real, 0, false, 3600, "seconds"},
    {"controller", "activationScale", K::count, 0, false, 10000, "pods; 0: unset"},
    {"controller", "minScale", K::count, 0, false, 10000, "pods"},
    {"controller", "maxScale", K::count, 0, false, 10000, "pods; 0: unbounded"},
    {"controller", "scaleToZeroGracePeriod", K::real, 0, true, 3600, "seconds"},
    {"controller", "initialScale", K::count, 0, false, 10000, "pods"},
    // keda (KEDA's names; the generated HPA's behavior has the hpa's bounds)
    {"controller", "pollingInterval", K::count, 1, false, kDay, "seconds"},
    {"controller", "cooldownPeriod", K::count, 0, false, kMaxD, "seconds"},
    {"controller", "initialCooldownPeriod", K::count, 0, false, kMaxD, "seconds"},
    {"controller", "minReplicaCount", K::count, 0, false, 10000, "replicas"},
    {"controller", "maxReplicaCount", K::count, 1, false, 10000, "replicas"},
    {"controller", "idleReplicaCount", K::count, 0, false, 10000, "replicas"},
    {"controller.fallback", "failureThreshold", K::count, 0, false, 1000000, "failed reads"},
    {"controller.fallback", "replicas", K::count, 0, false, 10000, "replicas"},
    {"controller.safety", "min_instances", K::count, 0, false, 10000, "instances"},
    {"controller.safety", "max_instances", K::count, 0, false, 10000, "instances"},
    {"controller.safety", "max_step_up", K::count, 1, false, 10000, "instances per decision"},
    {"controller.safety", "max_step_down", K::count, 1, false, 10000, "instances per decision"},
    {"controller.safety", "out_of_range_margin", K::real, 0, false, 100, "normalised feature units"},
    {"controller.advanced.horizontalPodAutoscalerConfig.behavior.scaleUp", "stabilizationWindowSeconds",
     K::count, 0, false, 3600, "seconds"},
    {"controller.advanced.horizontalPodAutoscalerConfig.behavior.scaleUp", "tolerance", K::real, 0, false,
     100, "a fraction of the target"},
    {"controller.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown", "stabilizationWindowSeconds",
     K::count, 0, false, 3600, "seconds"},
    {"controller.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown", "tolerance", K::real, 0, false,
     100, "a fraction of the target"},
    {"controller.advanced.horizontalPodAutoscalerConfig.behavior.scaleUp.policies", "value", K::count, 1,
     false, 1000000, "pods, or percent"},
    {"controller.advanced.horizontalPodAutoscalerConfig.behavior.scaleUp.policies", "periodSeconds", K::count,
     1, false, 1800, "seconds"},
    {"controller.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.policies", "value", K::count, 1,
     false, 1000000, "pods, or percent"},
    {"controller.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.policies", "periodSeconds",
     K::count, 1, false, 1800, "seconds"},

    // AWS EC2 Auto Scaling (AWS's names; ours in camelCase where AWS has none) and the wrappers
    {"controller", "DefaultInstanceWarmup", K::real, 0, false, kMaxD, "seconds"},
    {"controller", "EstimatedInstanceWarmup", K::real, 0, false, kMaxD, "seconds"},
    {"controller", "scaleOutDatapoints", K::count, 1, false, 1000, "datapoints"},
    {"controller", "scaleInDatapoints", K::count, 1, false, 1000, "datapoints"},
    {"controller", "scaleOutThreshold", K::real, 0, false, 1e9, "a metric value"},
    {"controller.TargetTrackingConfiguration", "TargetValue", K::real, 0, true, 1e9, "a metric value"},
    {"controller.ScalingPolicies", "Threshold", K::real, 0, false, 1e9, "a metric value"},
    {"controller.ScalingPolicies", "EvaluationPeriods", K::count, 1, false, 1000, "datapoints"},
    {"controller.ScalingPolicies", "DatapointsToAlarm", K::count, 1, false, 1000, "datapoints"},
    {"controller.ScalingPolicies", "MinAdjustmentMagnitude", K::count, 1, false, 10000, "instances"},
    {"controller.ScalingPolicies", "EstimatedInstanceWarmup", K::real, 0, false, kMaxD, "seconds"},
    {"controller.ScalingPolicies.StepAdjustments", "MetricIntervalLowerBound", K::real, -1e9, false, 1e9,
     "a metric value relative to Threshold"},
    {"controller.ScalingPolicies.StepAdjustments", "MetricIntervalUpperBound", K::real, -1e9, false, 1e9,
     "a metric value relative to Threshold"},
    {"controller.ScalingPolicies.StepAdjustments", "ScalingAdjustment", K::count, -10000, false, 10000,
     "instances, percent, or a capacity"},
    {"controller.actions", "MinSize", K::count, 0, false, 10000, "instances"},
    {"controller.actions", "MaxSize", K::count, 0, false, 10000, "instances"},
    {"controller.actions", "DesiredCapacity", K::count, 0, false, 10000, "instances"},

    // predictive (controllers/predictive/) and its inline forecaster (forecasters/: the ranges it checks)
    {"controller", "rps_per_instance", K::real, 0, true, 1e9, "requests per second per instance"},
    {"controller", "quantile", K::real, 0.01, false, 0.99, "a probability"},
    {"controller", "target_utilization", K::real, 0, true, 10, "a CPU utilization"},
    {"controller", "capacity_alpha", K::real, 0, true, 1, "a smoothing weight"},
    {"controller", "buffer_spread", K::real, 0, false, 100, "multiples of the 80 % interval width"},
    {"controller", "lead_s", K::real, 0, false, kDay, "seconds"},
    {"controller", "buffer_fraction", K::real, 0, false, 10, "a fraction of the forecast"},
    {"controller", "buffer_instances", K::count, 0, false, 10000, "instances"},
    {"controller", "scale_in_intervals", K::count, 1, false, 10000, "intervals"},
    {"controller", "max_scale_in_step", K::count, 1, false, 10000, "instances"},
    {"controller", "floor_scale_out_above", K::real, 0, false, 1e9, "a CPU utilization"},
    {"controller", "floor_step", K::count, 1, false, 10000, "instances"},
    {"controller", "refit_intervals", K::count, 0, false, 1000000, "intervals; 0: never"},
    {"controller", "warmup_intervals", K::count, 1, false, 1000000, "intervals"},
    // `autoscale bench BENCH.toml` (sim/scenario/bench_loader.cpp); its [[controller]] have the controllers'
    // ranges
    {"bench.expect", "value", K::real, -1e15, false, 1e15,
     "a metric value, or a factor with than_controller"},
    {"bench", "seeds", K::real, 0, false, 9007199254740992.0,
     "a count of seeds (1, 2, ...) or a list of seeds"},
    // oracle (controllers/oracle/): rps_per_instance and target_utilization as predictive's (the oracle holds
    // target_utilization to (0, 1] itself: one entry per key)
    {"controller", "headroom", K::real, 0, false, 10, "a fraction of the rate"},
    // mpc (controllers/mpc/): rps_per_instance, refit_intervals and warmup_intervals as predictive's
    {"controller", "horizon_steps", K::count, 1, false, 1000, "intervals"},
    {"controller", "startup_s", K::real, 0, false, kDay, "seconds"},
    {"controller", "cost_per_instance_hour", K::real, 0, false, 1e9, "cost per instance-hour"},
    {"controller", "sla_penalty", K::real, 0, false, 1e9, "cost per request not served"},
    {"controller", "change_penalty", K::real, 0, false, 1e9, "cost per instance added or removed"},
    {"controller", "demand_quantiles", K::real, 0.01, false, 0.99, "probabilities"},
    {"controller", "startup_quantile", K::real, 0, true, 1, "a probability"},
    // event (controllers/event/); vote (controllers/vote/) has no numeric keys of its own
    {"controller.events", "start_s", K::real, 0, false, kMaxD, "seconds"},
    {"controller.events", "end_s", K::real, 0, true, kMaxD, "seconds"},
    {"controller.events", "duration_s", K::real, 0, true, kMaxD, "seconds"},
    {"controller.events", "instances", K::count, 0, false, 10000, "instances"},
    {"controller.events", "multiplier", K::real, 0, true, 1000, "a factor of the count at the pre-warm"},
    {"controller.events", "lead_s", K::real, 0, false, kDay, "seconds"},
    {"controller.events", "lead_quantile", K::real, 0, true, 1, "a probability"},
    {"controller.events", "every_s", K::real, 0, true, kMaxD, "seconds"},
    // aws_predictive (controllers/aws_predictive/): its TargetTrackingConfiguration as aws_target_tracking's
    {"controller.PredictiveScalingConfiguration", "SchedulingBufferTime", K::count, 0, false, 3600,
     "seconds"},
    {"controller.PredictiveScalingConfiguration", "MaxCapacityBuffer", K::count, 0, false, 100,
     "percent of the forecast capacity"},
    {"controller.PredictiveScalingConfiguration.MetricSpecifications", "TargetValue", K::real, 0, true, 1e9,
     "the scaling metric per instance"},
    {"controller", "MaxSize", K::count, 0, false, 10000, "instances"},
    // scryer (controllers/scryer/): rps_per_instance, headroom and lead_s as predictive's and oracle's
    {"controller", "step_s", K::real, 1, false, kDay, "seconds"},
    {"controller", "period_s", K::real, 2, false, 7 * kDay, "seconds"},
    {"controller", "fft_days", K::count, 1, false, 60, "periods"},
    {"controller", "match_s", K::real, 1, false, 7 * kDay, "seconds"},
    {"controller", "neighbours", K::count, 1, false, 60, "periods"},
    {"controller", "max_days", K::count, 1, false, 60, "periods"},
    {"controller", "error_window_steps", K::count, 1, false, 10000, "steps"},
    {"controller", "harmonics", K::count, 1, false, 100, "harmonics"},
    // `autoscale train-rl RL.toml` (sim/scenario/train_rl_loader.cpp)
    {"train_rl", "seed", K::int64, 0, false, kInt64Max, "a seed"},
    {"train_rl.env", "num_envs", K::count, 1, false, 256, "environments"},
    {"train_rl.env", "interval_s", K::real, 0, true, kDay, "seconds per step"},
    {"train_rl.env", "max_step", K::count, 1, false, 1000, "instances per step"},
    {"train_rl.env", "lambda_usd_per_violation_s", K::real, 0, false, 1e6, "USD per SLA-violation second"},
    {"train_rl.env", "mu_usd_per_change", K::real, 0, false, 1e6, "USD per change of the desired count"},
    {"train_rl.env", "day_s", K::real, 0, true, 365 * kDay,
     "seconds: the period of the time-of-day features"},
    {"train_rl.env", "max_steps", K::count, 0, false, 100000000, "steps per episode; 0: the scenario's end"},
    {"train_rl.curriculum", "steps", K::int64, 1, false, 1e12, "environment steps"},
    {"train_rl.eval", "every_updates", K::count, 1, false, 1000000, "updates"},
    {"train_rl.eval", "seeds", K::real, 0, false, kInt64Max, "seeds (integers)"},
    // `autoscale calibrate CAL.toml` (sim/scenario/calibrate_loader.cpp)
    {"calibrate", "seeds", K::real, 0, false, kInt64Max, "seeds (integers)"},
    {"calibrate.objective", "lambda_usd_per_violation_s", K::real, 0, false, 1e6,
     "USD per SLA-violation second"},
    {"calibrate.objective", "mu_usd_per_change", K::real, 0, false, 1e6,
     "USD per change of the desired count"},
    // `autoscale train MODEL.toml` (sim/cli/train.cpp); its [model] has the forecaster ranges
    {"train.data", "step_s", K::real, 0, false, 1e7, "seconds; 0: the trace's bin"},
    {"train.data", "train_fraction", K::real, 0, true, 1, "a fraction of each trace"},
    {"train.data", "validation_fraction", K::real, 0, false, 1, "a fraction of each trace"},
    {"train.data", "test_horizons_s", K::real, 0, true, 1e7, "seconds"},
    {"controller.forecaster", "period_steps", K::count, 1, false, 1000000, "steps"},
    {"controller.forecaster", "window_steps", K::count, 1, false, 1000000, "steps"},
    {"controller.forecaster", "alpha", K::real, 0, true, 1, "a smoothing weight"},
    {"controller.forecaster", "beta", K::real, 0, false, 1, "a smoothing weight"},
    {"controller.forecaster", "gamma", K::real, 0, false, 1, "a smoothing weight"},
    {"controller.forecaster", "phi", K::real, 0, true, 1, "a damping factor"},
    {"controller.forecaster", "order", K::count, 1, false, 64, "lags"},
    {"controller.forecaster", "differencing", K::count, 0, false, 1, "differences"},
    {"controller.forecaster", "harmonics", K::count, 1, false, 100, "harmonics"},
    {"controller.forecaster", "calibration_window_steps", K::count, 20, false, 100000, "errors per horizon"},
    {"controller.forecaster", "calibration_horizon_steps", K::count, 1, false, 1000, "steps"},
    // lstm, gru, transformer (forecasters/torch/neural_config.cpp)
    {"controller.forecaster", "input_steps", K::count, 1, false, 10000, "steps"},
    {"controller.forecaster", "max_horizon_steps", K::count, 1, false, 1000, "steps"},
    {"controller.forecaster", "quantiles", K::real, 0.001, false, 0.999, "probabilities"},
    {"controller.forecaster", "hidden", K::count, 1, false, 1024, "units"},
    {"controller.forecaster", "layers", K::count, 1, false, 8, "layers"},
    {"controller.forecaster", "heads", K::count, 1, false, 64, "attention heads"},
    {"controller.forecaster", "dropout", K::real, 0, false, 0.9, "a dropout probability"},
    {"controller.forecaster", "epochs", K::count, 1, false, 10000, "epochs"},
    {"controller.forecaster", "batch_size", K::count, 1, false, 65536, "windows"},
    {"controller.forecaster", "learning_rate", K::real, 0, true, 1, "an Adam step size"},
    {"controller.forecaster", "weight_decay", K::real, 0, false, 1, "an L2 weight"},
    {"controller.forecaster", "patience", K::count, 1, false, 10000, "epochs"},
    {"controller.forecaster", "validation_fraction", K::real, 0, false, 0.9, "a fraction of the series"},
    {"controller.forecaster", "seed", K::int64, 0, false, kInt64Max, "a seed"},
    {"controller.forecaster", "threads", K::count, 1, false, 256, "threads"},
    {"controller.forecaster.members", "period_steps", K::count, 1, false, 1000000, "steps"},
    {"controller.forecaster.members", "window_steps", K::count, 1, false, 1000000, "steps"},
    {"controller.forecaster.members", "alpha", K::real, 0, true, 1, "a smoothing weight"},
    {"controller.forecaster.members", "beta", K::real, 0, false, 1, "a smoothing weight"},
    {"controller.forecaster.members", "gamma", K::real, 0, false, 1, "a smoothing weight"},
    {"controller.forecaster.members", "phi", K::real, 0, true, 1, "a damping factor"},
    {"controller.forecaster.members", "order", K::count, 1, false, 64, "lags"},
    {"controller.forecaster.members", "differencing", K::count, 0, false, 1, "differences"},
    {"controller.forecaster.members", "harmonics", K::count, 1, false, 100, "harmonics"},
    {"controller.forecaster.members", "calibration_window_steps", K::count, 20, false, 100000,
     "errors per horizon"},
    {"controller.forecaster.members", "calibration_horizon_steps", K::count, 1, false, 1000, "steps"},
    {"controller.forecaster.members", "input_steps", K::count, 1, false, 10000, "steps"},
    {"controller.forecaster.members", "max_horizon_steps", K::count, 1, false, 1000, "steps"},
    {"controller.forecaster.members", "quantiles", K::real, 0.001, false, 0.999, "probabilities"},
    {"controller.forecaster.members", "hidden", K::count, 1, false, 1024, "units"},
    {"controller.forecaster.members", "layers", K::count, 1, false, 8, "layers"},
    {"controller.forecaster.members", "heads", K::count, 1, false, 64, "attention heads"},
    {"controller.forecaster.members", "dropout", K::real, 0, false, 0.9, "a dropout probability"},
    {"controller.forecaster.members", "epochs", K::count, 1, false, 10000, "epochs"},
    {"controller.forecaster.members", "batch_size", K::count, 1, false, 65536, "windows"},
    {"controller.forecaster.members", "learning_rate", K::real, 0, true, 1, "an Adam step size"},
    {"controller.forecaster.members", "weight_decay", K::real, 0, false, 1, "an L2 weight"},
    {"controller.forecaster.members", "patience", K::count, 1, false, 10000, "epochs"},
    {"controller.forecaster.members", "validation_fraction", K::real, 0, false, 0.9,
     "a fraction of the series"},
    {"controller.forecaster.members", "seed", K::int64, 0, false, kInt64Max, "a seed"},
    {"controller.forecaster.members", "threads", K::count, 1, false, 256, "threads"},

    // `autoscale forecast-eval` files, read as a controller file: [trace], [evaluation], [anomaly], and the
    // [[forecaster]] sections above (controller.forecaster)
    {"controller.trace", "step_s", K::real, 0, true, kMaxD, "seconds"},
    {"controller.trace", "start_s", K::real, 0, false, 1e10, "seconds of trace time"},
    {"controller.trace", "end_s", K::real, 0, true, 1e10, "seconds of trace time"},
    {"controller.evaluation", "horizons_s", K::real, 0, true, kMaxD, "seconds"},
    {"controller.evaluation", "train_fraction", K::real, 0, true, 0.99, "a fraction of the series"},
    {"controller.evaluation", "train_until_s", K::real, 0, true, 1e10, "seconds of trace time"},
    {"controller.evaluation", "stride_steps", K::count, 1, false, 1000000, "steps"},
    {"controller.evaluation", "season_s", K::real, 0, true, kMaxD, "seconds"},
    {"controller.evaluation", "worst_windows", K::count, 0, false, 1000, "windows"},
    {"controller.evaluation", "worst_window_s", K::real, 0, true, kMaxD, "seconds"},
    {"controller.evaluation", "burst_window_s", K::real, 0, true, kMaxD, "seconds"},
    {"controller.evaluation", "burst_z", K::real, 0, true, 1000, "robust standard deviations"},
    {"controller.anomaly", "k_steps", K::count, 1, false, 10000, "consecutive forecasts"},

    {"expect", "value", K::real, -1e15, false, 1e15, "a metric value"},
    {"train_rl.expect", "value", K::real, -1e15, false, 1e15, "a metric value"},
    {"calibrate.expect", "value", K::real, -1e15, false, 1e15, "a metric value"},
};

// Counts are narrowed to int after their range check: their maximum must fit.
constexpr bool counts_fit_int() {
  for (const auto& r : kRanges)
    if (r.kind == K::count && (r.max > INT_MAX || r.min < INT_MIN)) return false;
  return true;
}
static_assert(counts_fit_int(), "a count's range must fit an int");

}  // namespace

std::string format_number(double v) {
  if (v == kInt64Max) return "2^63-1";
  char buf[32];
  if (v == std::floor(v) && std::fabs(v) < 1e8) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  std::snprintf(buf, sizeof buf, "%g", v);
  std::string s = buf;  // 1e+10 -> 1e10
  auto e = s.find("e+");
  if (e != std::string::npos) {
    size_t digits = e + 2;
    while (digits + 1 < s.size() && s[digits] == '0') ++digits;
    s = s.substr(0, e + 1) + s.substr(digits);
  }
  return s;
}

const std::vector<KeyRange>& key_ranges() {
  static const std::vector<KeyRange> all(std::begin(kRanges), std::end(kRanges));
  return all;
}

const KeyRange& key_range(const std::string& table, const std::string& key) {
  // A wrapped controller ([controller.inner] of `scheduled`, `flapping_guard` and `event`, a
  // [[controller.controllers]] of `composite`, a [[controller.voters]] of `vote`, at any depth) has the
  // ranges of a controller of its own.
  std::string own = table;
  // A bench file's [[controller]] sections are controllers.
  if (own.rfind("bench.controller", 0) == 0) own = own.substr(std::string("bench.").size());
  if (own.rfind("controller", 0) == 0)
    for (const std::string segment : {".inner", ".controllers", ".voters"})
      for (size_t p; (p = own.find(segment)) != std::string::npos &&
                     (p + segment.size() == own.size() || own[p + segment.size()] == '.');)
        own.erase(p, segment.size());
  // A forecaster section has the ranges of a predictive controller's wherever it is: in an evaluation file's
  // [[forecaster]], a training file's [model], an ensemble's members.
  auto ends_with = [&](const std::string& suffix) {
    return own.size() >= suffix.size() && own.compare(own.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (own == "train.model" || own == "train.model.members")
    own = "controller.forecaster" + own.substr(std::string("train.model").size());
  else if (own.rfind("controller", 0) != 0 && (ends_with(".forecaster") || ends_with(".forecaster.members")))
    own = "controller" + own.substr(own.find(".forecaster"));
  for (const auto& r : kRanges)
    if (own == r.table && key == r.key) return r;
  // An rl controller's [controller.fallback] is a controller of its own (KEDA's fallback keys matched above).
  if (size_t p = own.find(".fallback"); own.rfind("controller", 0) == 0 && p != std::string::npos)
    return key_range(own.erase(p, std::string(".fallback").size()), key);
  throw std::logic_error("scenario key '" + (table.empty() ? key : table + "." + key) +
                         "' has no range in sim/scenario/key_ranges.cpp");
}

std::string range_text(const KeyRange& r) {
  return (r.min_open ? "(" : "[") + format_number(r.min) + ", " + format_number(r.max) + "]";
}

bool in_range(const KeyRange& r, double v) {
  return (r.min_open ? v > r.min : v >= r.min) && v <= r.max;
}

std::string expected_text(const KeyRange& r) {
  return std::string(r.kind == K::real ? "a number" : "an integer") + " in " + range_text(r) + " (" + r.what +
         ")";
}

const char* const kNameRule =
    "a name of 1 to 64 characters among A-Z a-z 0-9 _ . - (not \".\" or \"..\"), as names become HDF5 "
    "groups and file names";

std::string name_problem(const std::string& name) {
  if (name.empty()) return "the name is empty";
  if (name.size() > kMaxNameChars) return "the name has " + std::to_string(name.size()) + " characters";
  if (name == "." || name == "..") return "the name \"" + name + "\" is a path component";
  for (unsigned char ch : name)
    if (!std::isalnum(ch) && ch != '_' && ch != '.' && ch != '-') {
      char buf[16];
      std::snprintf(buf, sizeof buf, std::isprint(ch) ? "'%c'" : "byte 0x%02x", ch);
      return "the name contains " + std::string(buf);
    }
  return "";
}

uint64_t parse_seed(const std::string& text) {
  const KeyRange& r = key_range("", "seed");
  bool digits =
      !text.empty() && text.size() <= 19 && text.find_first_not_of("0123456789") == std::string::npos;
  // 19 digits may still exceed 2^63-1; compare as unsigned, which holds any 19-digit number.
  if (!digits || std::stoull(text) > static_cast<uint64_t>(INT64_MAX))
    throw InputError("command line", 0, "--seed", "got '" + text + "'; expected " + expected_text(r));
  return std::stoull(text);
}

}  // namespace autoscale
