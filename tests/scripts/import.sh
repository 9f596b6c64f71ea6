#!/usr/bin/env bash
# `autoscale import`: each manifest under tests/import/ becomes exactly the expected [controller] section (parsed
# back with Python's tomllib), unsupported fields are warned about by name and line, malformed manifests exit 2
# naming the line, and imported sections pass `autoscale validate` inside a shipped scenario (round trip).
# Usage: import.sh AUTOSCALE_BINARY SOURCE_DIR
set -u
AS=$1
SRC=$2
M="$SRC/tests/import"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }

# converts NAME MANIFEST EXPECTED_PYTHON_DICT: exit 0, and stdout parses to {"controller": EXPECTED}.
converts() {
  local name=$1 file=$2 want=$3
  timeout 20 "$AS" import "$file" >"$T/out.toml" 2>"$T/err"
  local rc=$?
  if [ $rc -ne 0 ]; then bad "$name (rc=$rc): $(cat "$T/err")"; return; fi
  if /usr/bin/python3 - "$T/out.toml" "$want" <<'PY'; then ok "$name"; else bad "$name"; cat "$T/out.toml"; fi
import sys, tomllib
got = tomllib.load(open(sys.argv[1], "rb"))
want = {"controller": eval(sys.argv[2])}
if got != want:
    print(f"  got  {got}\n  want {want}")
    sys.exit(1)
PY
}

# stderr_has NAME PATTERN...: every pattern (extended regex) is in the last command's stderr.
stderr_has() {
  local name=$1; shift
  for p in "$@"; do grep -qE -- "$p" "$T/err" || { bad "$name: no '$p' in: $(cat "$T/err")"; return; }; done
  ok "$name"
}

# rejects NAME MANIFEST PATTERN...: exit 2, nothing on stdout, every pattern in the message.
rejects() {
  local name=$1 file=$2; shift 2
  timeout 20 "$AS" import "$file" >"$T/out.toml" 2>"$T/err"
  local rc=$?
  if [ $rc -ne 2 ] || [ -s "$T/out.toml" ]; then bad "$name (rc=$rc): $(cat "$T/err")"; return; fi
  stderr_has "$name" "$@"
}

cpu60='{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 60}}}'
converts "the controllers check's manifest (HPA v2 after a Deployment)" "$M/hpa_example.yaml" "{
  'kind': 'hpa', 'minReplicas': 2, 'maxReplicas': 20, 'metrics': [$cpu60],
  'behavior': {'scaleDown': {'stabilizationWindowSeconds': 120,
                             'policies': [{'type': 'Percent', 'value': 50, 'periodSeconds': 60}]}}}"
grep -qx '# imported from .*hpa_example.yaml: HorizontalPodAutoscaler web' "$T/out.toml" &&
  grep -qx 'kind = "hpa"' "$T/out.toml" && grep -qx 'averageUtilization = 60' "$T/out.toml" &&
  grep -qx '\[\[controller.behavior.scaleDown.policies\]\]' "$T/out.toml" &&
  ok "HPA: source comment, kind, target and policy written as a scenario is" || bad "HPA text: $(cat "$T/out.toml")"
[ ! -s "$T/err" ] && ok "the Deployment is not mentioned without --verbose" || bad "stderr: $(cat "$T/err")"
timeout 20 "$AS" import "$M/hpa_example.yaml" --verbose >/dev/null 2>"$T/err"
stderr_has "--verbose names the ignored Deployment" "hpa_example.yaml:2: ignored Deployment web"

converts "HPA autoscaling/v2beta2: Pods, Object, External metrics, both behaviors" "$M/hpa_v2beta2.yaml" "{
  'kind': 'hpa', 'maxReplicas': 50, 'metrics': [
    {'type': 'Pods', 'pods': {'metric': {'name': 'http_requests_per_second'},
                              'target': {'type': 'AverageValue', 'averageValue': '1k'}}},
    {'type': 'Object', 'object': {
        'describedObject': {'apiVersion': 'networking.k8s.io/v1', 'kind': 'Ingress', 'name': 'main-route'},
        'metric': {'name': 'requests-per-second'}, 'target': {'type': 'Value', 'value': '10k'}}},
    {'type': 'External', 'external': {
        'metric': {'name': 'queue_messages_ready', 'selector': {'matchLabels': {'queue': 'worker tasks'}}},
        'target': {'type': 'AverageValue', 'averageValue': '30'}}}],
  'behavior': {
    'scaleUp': {'stabilizationWindowSeconds': 0, 'selectPolicy': 'Max',
                'policies': [{'type': 'Percent', 'value': 100, 'periodSeconds': 15},
                             {'type': 'Pods', 'value': 4, 'periodSeconds': 15}]},
    'scaleDown': {'selectPolicy': 'Disabled'}}}"

converts "HPA autoscaling/v1: targetCPUUtilizationPercentage becomes a Resource metric" "$M/hpa_v1.yaml" "{
  'kind': 'hpa', 'minReplicas': 1, 'maxReplicas': 10,
  'metrics': [{'type': 'Resource', 'resource': {'name': 'cpu',
               'target': {'type': 'Utilization', 'averageUtilization': 50}}}]}"

converts "KEDA ScaledObject: cron and cpu triggers, fallback, HPA behavior" "$M/keda_cron_cpu.yaml" "{
  'kind': 'keda', 'pollingInterval': 15, 'cooldownPeriod': 120, 'idleReplicaCount': 0, 'minReplicaCount': 1,
  'maxReplicaCount': 40, 'fallback': {'failureThreshold': 3, 'replicas': 6},
  'advanced': {'horizontalPodAutoscalerConfig': {'behavior': {'scaleDown': {
    'stabilizationWindowSeconds': 60, 'policies': [{'type': 'Pods', 'value': 2, 'periodSeconds': 30}]}}}},
  'triggers': [
    {'type': 'cron', 'metadata': {'timezone': 'Europe/Paris', 'start': '0 8 * * 1-5', 'end': '0 20 * * 1-5',
                                  'desiredReplicas': '10'}},
    {'type': 'cpu', 'metricType': 'Utilization', 'metadata': {'value': '60'}}]}"

converts "Knative Service: annotations, durations in seconds, utilization as a fraction" "$M/knative_service.yaml" "{
  'kind': 'kpa', 'scalingMetric': 'concurrency', 'totalValue': 10, 'targetUtilization': 0.7,
  'containerConcurrency': 50, 'minScale': 0, 'maxScale': 20, 'initialScale': 2, 'activationScale': 2,
  'targetBurstCapacity': -1, 'stableWindow': 90, 'panicWindowPercentage': 20, 'panicThresholdPercentage': 150,
  'scaleDownDelay': 120}"
stderr_has "Knative: an annotation kpa has no setting for is named with its line" \
  "^warning: .*knative_service.yaml:24: '.*autoscaling.knative.dev/scale-to-zero-pod-retention-period': not supported"

converts "multi-document file: the first autoscaler, the Deployment and Service ignored" "$M/multi_doc.yaml" "{
  'kind': 'keda', 'maxReplicaCount': 12,
  'triggers': [{'type': 'cpu', 'metricType': 'Utilization', 'metadata': {'value': '75'}}]}"
stderr_has "multi-document file: the second autoscaler is named in a warning" \
  "^warning: .*multi_doc.yaml:42: HorizontalPodAutoscaler worker-backup ignored: a scenario has one controller"
grep -q Deployment "$T/err" && bad "the Deployment is mentioned: $(cat "$T/err")" || ok "the Deployment is not mentioned"

converts "unsupported fields are left out" "$M/unsupported.yaml" "{
  'kind': 'hpa', 'maxReplicas': 8,
  'metrics': [{'type': 'ContainerResource', 'containerResource': {'name': 'cpu', 'container': 'app',
               'target': {'type': 'Utilization', 'averageUtilization': 60}}}],
  'behavior': {'scaleDown': {}}}"
stderr_has "unsupported fields: each warned about with its name and line" \
  "^warning: .*unsupported.yaml:22: 'spec\.metrics\[1\]\.resource\.name': only cpu is simulated" \
  "^warning: .*unsupported.yaml:28: 'spec\.behavior\.scaleDown\.stabilisationWindowSeconds': not supported.*did you mean 'stabilizationWindowSeconds'"

rejects "YAML syntax error: exit 2 naming the line" "$M/malformed_syntax.yaml" "^error: .*malformed_syntax.yaml:9: YAML syntax error"
rejects "wrong type: exit 2 naming the line and field" "$M/malformed_type.yaml" \
  "^error: .*malformed_type.yaml:7: 'spec\.maxReplicas': expected an integer, got 'twenty'"
rejects "HPA without maxReplicas: exit 2" "$M/malformed_no_max.yaml" "^error: .*malformed_no_max.yaml:5: 'spec\.maxReplicas': required"
rejects "no autoscaler in the file: exit 2" "$SRC/scenarios/quickstart.toml" "quickstart.toml"
rejects "missing file: exit 2" "$T/nowhere.yaml" "nowhere.yaml"

timeout 20 "$AS" import "$M/hpa_v1.yaml" >"$T/stdout.toml" 2>/dev/null
if timeout 20 "$AS" import "$M/hpa_v1.yaml" --out "$T/written.toml" >"$T/out.toml" 2>"$T/err" &&
   [ ! -s "$T/out.toml" ] && cmp -s "$T/stdout.toml" "$T/written.toml"; then ok "--out writes the section"; else bad "--out"; fi

# Round trip: the imported section replaces a shipped scenario's [controller] section and the scenario validates.
# Optional: text of the section to replace ($4) by other text ($5) first.
round_trip() {
  local name=$1 file=$2 extra=$3 from=${4:-} to=${5:-} slug
  slug=$(basename "$file" .yaml)
  timeout 20 "$AS" import "$file" >"$T/section.toml" 2>/dev/null || { bad "round trip $name: import failed"; return; }
  /usr/bin/python3 - "$SRC/scenarios/quickstart.toml" "$T/section.toml" "$extra" "$T/rt_$slug.toml" "$from" "$to" <<'PY'
import re, sys
base, section, extra, out = open(sys.argv[1]).read(), open(sys.argv[2]).read(), sys.argv[3], sys.argv[4]
base = base.replace('path = "../traces/', 'path = "' + sys.argv[1].rsplit("/", 2)[0] + '/traces/')
start = base.index("\n[controller]\n")
end = re.compile(r"^\[", re.M).search(base, start + len("\n[controller]\n")).start()
if extra:
    section = section.replace("\n[controller]\n", "\n[controller]\n" + extra + "\n", 1)
if sys.argv[5]:
    assert sys.argv[5] in section, sys.argv[5]
    section = section.replace(sys.argv[5], sys.argv[6])
open(out, "w").write(base[:start + 1] + section + "\n" + base[end:])
PY
  if timeout 60 "$AS" validate "$T/rt_$slug.toml" >"$T/out" 2>&1; then ok "round trip $name: validate accepts it"
  else bad "round trip $name: $(cat "$T/out")"; fi
}
round_trip "HPA (services as the comment suggests)" "$M/hpa_example.yaml" 'services = ["web"]'
round_trip "HPA v2beta2" "$M/hpa_v2beta2.yaml" ""
round_trip "HPA v1" "$M/hpa_v1.yaml" ""
round_trip "Knative Service" "$M/knative_service.yaml" ""
round_trip "HPA with a ContainerResource cpu metric (the memory one left out)" "$M/unsupported.yaml" ""
# KEDA: cron in a fixed zone, cpu, fallback and the HPA's behavior. No time zone database: a zone with daylight
# saving time is refused, naming it. A ScaledObject with only cpu triggers needs minReplicaCount >= 1, as KEDA's
# admission webhook requires.
round_trip "KEDA ScaledObject (its cron zone as UTC+01:00)" "$M/keda_cron_cpu.yaml" "" '"Europe/Paris"' '"UTC+01:00"'
sed 's|"UTC+01:00"|"Europe/Paris"|' "$T/rt_keda_cron_cpu.toml" >"$T/rt_keda_paris.toml"
timeout 60 "$AS" validate "$T/rt_keda_paris.toml" >/dev/null 2>"$T/err"
stderr_has "KEDA: a cron zone with daylight saving time is bad input naming the key" \
  "rt_keda_paris.toml:[0-9]+: 'controller\.triggers\.0\.metadata\.timezone': .*daylight saving.*Europe/Paris"
round_trip "KEDA ScaledObject, cpu alone at minReplicaCount 1" "$M/multi_doc.yaml" "minReplicaCount = 1"
sed '/^minReplicaCount = 1$/d' "$T/rt_multi_doc.toml" >"$T/rt_keda_cpu_zero.toml"
timeout 60 "$AS" validate "$T/rt_keda_cpu_zero.toml" >/dev/null 2>"$T/err"
stderr_has "KEDA: only cpu triggers at minReplicaCount 0 is bad input, as KEDA's webhook refuses it" \
  "'controller\.minReplicaCount': .*only cpu triggers"

exit $fail
