#!/usr/bin/env bash
# scenarios/forecast_eval.toml: every forecaster kind (the LibTorch ones trained in the same command) evaluated on
# the WorldCup98 trace; the best at 900 s is at least 15 % below the better of naive and seasonal_naive with an 80 %
# interval covering 70-90 %; tools/plot_forecast draws the result, and refuses a file that is not one (exit 2).
# Usage: forecast_eval_scenario.sh AUTOSCALE_BINARY SOURCE_DIR
set -u
AS=$1
SRC=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$AS" forecast-eval "$SRC/scenarios/forecast_eval.toml" --json --quiet --out "$T/eval.h5" >"$T/eval.json" ||
  { echo "FAIL forecast-eval exited $?"; exit 1; }
/usr/bin/python3 - "$T/eval.json" <<'PY' || exit 1
import json, sys
j = json.load(open(sys.argv[1]))
kinds = {r["kind"] for r in j["results"]}
want = {"naive", "seasonal_naive", "moving_average", "ewma", "holt_winters", "ar", "fft", "ensemble", "direct_ar",
        "lstm", "gru", "transformer"}
if not want <= kinds:
    sys.exit(f"FAIL kinds evaluated: missing {sorted(want - kinds)}")
print("ok   every kind evaluated")
b = [b for b in j["best"] if b["horizon_s"] == 900][0]
line = f"best at 900 s: {b['forecaster']}, MAE {b['mae_ratio']:.3f} x {b['baseline']}, coverage {b['coverage_80']:.3f}"
if not (b["mae_ratio"] <= 0.85 and 0.7 <= b["coverage_80"] <= 0.9):
    sys.exit("FAIL " + line)
print("ok   " + line)
PY
"$SRC/tools/plot_forecast" "$T/eval.h5" --out "$T/plot.png" >/dev/null || { echo "FAIL plot_forecast exited $?"; exit 1; }
size=$(stat -c %s "$T/plot.png" 2>/dev/null || echo 0)
[ "$size" -gt 20000 ] || { echo "FAIL plot.png is $size bytes"; exit 1; }
echo "ok   plot written ($size bytes)"
"$SRC/tools/plot_forecast" "$T/eval.h5" --forecaster lstm --horizon 300 --out "$T/lstm.png" >/dev/null ||
  { echo "FAIL plot_forecast --forecaster lstm --horizon 300"; exit 1; }
echo "ok   plot of another forecaster and horizon"
for bad in "$SRC/README.md" "$T/eval.h5 --forecaster nope" "$T/eval.h5 --horizon 7"; do
  # shellcheck disable=SC2086
  "$SRC/tools/plot_forecast" $bad --out "$T/bad.png" 2>"$T/err" >/dev/null
  rc=$?
  if [ $rc -eq 2 ] && [ ! -e "$T/bad.png" ]; then echo "ok   refused: $bad ($(cat "$T/err"))"; else
    echo "FAIL plot_forecast $bad (rc=$rc)"
    exit 1
  fi
done
