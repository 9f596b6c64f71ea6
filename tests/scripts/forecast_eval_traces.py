#!/usr/bin/python3
"""`autoscale forecast-eval` on every trace it is given, with one EVAL file whose only difference is the trace path
(no forecaster named: the default set). Each run exits 0; the JSON has every documented key; the HDF5 file reads back
with h5py and agrees with the JSON; a trace with NAME.anomalies.json beside it is scored against those windows; the
best forecaster's MAE at the 900 s horizon (rounded to whole steps) is at least 15 % below the better of naive and
seasonal_naive, and its 80 % interval covers 70-90 % of the actual values. One trace (the first with labels) is
evaluated twice: same JSON, identical datasets.

Usage: forecast_eval_traces.py AUTOSCALE_BINARY SOURCE_DIR [TRACES_DIR]
(TRACES_DIR: more traces, e.g. ../shared/traces; every *.csv in it, skipped when absent.)"""
import glob
import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

RESULT_KEYS = {"forecaster", "kind", "horizon_s", "horizon_steps", "n", "mae", "rmse", "smape", "mase", "pinball",
               "coverage_80", "width_80", "bias", "under_forecast_fraction", "under_forecast_mae",
               "over_forecast_fraction", "over_forecast_mae", "burst_fraction", "mae_burst", "mae_calm",
               "worst_windows"}
TOP_KEYS = {"eval", "trace", "column", "step_s", "t0_s", "values", "train_until_s", "origins", "stride_steps",
            "season_steps", "mase_scale", "horizons", "results", "best", "anomaly", "output"}
ANOMALY_KEYS = {"forecaster", "horizon_s", "k_steps", "events", "labels", "windows", "windows_detected",
                "true_events", "precision", "recall", "f1"}

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def run(binary, eval_file, out):
    p = subprocess.run([binary, "forecast-eval", eval_file, "--json", "--quiet", "--out", out],
                       capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        return None, f"exit {p.returncode}: {p.stderr.strip()}"
    return json.loads(p.stdout), ""


def datasets(path):
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: out.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return out


def check_trace(binary, trace, tmp, twice):
    name = os.path.basename(trace)
    eval_file = os.path.join(tmp, "eval.toml")
    with open(eval_file, "w") as f:
        f.write(f'[trace]\npath = "{trace}"\n[evaluation]\nhorizons_s = [60, 300, 900]\n')
    out = os.path.join(tmp, "eval.h5")
    j, err = run(binary, eval_file, out)
    check(j is not None, f"{name}: exit 0 {err}")
    if j is None:
        return
    check(TOP_KEYS <= set(j), f"{name}: top-level JSON keys")
    check(all(RESULT_KEYS <= set(r) for r in j["results"]), f"{name}: every result has the documented keys")
    check(ANOMALY_KEYS <= set(j["anomaly"]), f"{name}: anomaly keys")
    kinds = {r["kind"] for r in j["results"]}
    check({"naive", "seasonal_naive"} <= kinds, f"{name}: the baselines are evaluated")
    labels = os.path.splitext(trace)[0] + ".anomalies.json"
    if os.path.exists(labels):
        a = j["anomaly"]
        check(a["labels"] is not None and os.path.samefile(a["labels"], labels) and a["windows"] > 0,
              f"{name}: scored against {os.path.basename(labels)} ({a['windows_detected']} of {a['windows']} "
              f"windows detected, precision {a['precision']})")
    best = [b for b in j["best"] if b["horizon_s"] >= 900][0]
    check(best["mae_ratio"] <= 0.85 and 0.7 <= best["coverage_80"] <= 0.9,
          f"{name}: best at {best['horizon_s']:g} s is {best['forecaster']}, MAE {best['mae_ratio']:.3f} x "
          f"{best['baseline']}, coverage {best['coverage_80']:.3f}")
    with h5py.File(out, "r") as f:
        ok = f.attrs["file_kind"] == "forecast_eval" and len(f["series/actual"]) == j["values"]
        rows = f["results"][()]
        ok = ok and len(rows) == len(j["results"])
        for r, jr in zip(rows, j["results"]):
            ok = ok and r["forecaster"].decode() == jr["forecaster"] and np.isclose(r["mae"], jr["mae"])
        for jr in j["results"]:
            g = f["forecasters"][jr["forecaster"]][f"{jr['horizon_s']:.0f}"]
            ok = ok and len(g["p50"]) == jr["n"] and np.isclose(g.attrs["coverage_80"], jr["coverage_80"])
            ok = ok and np.allclose(g["error"][()], g["actual"][()] - g["p50"][()])
        ok = ok and len(f["anomaly/events"]) == len(j["anomaly"]["events"])
    check(ok, f"{name}: the HDF5 file reads back with h5py and agrees with the JSON")
    if twice:
        first = datasets(out)
        j2, err = run(binary, eval_file, os.path.join(tmp, "again.h5"))
        second = datasets(os.path.join(tmp, "again.h5"))
        same = j2 is not None and {k: v for k, v in j2.items() if k != "output"} == {
            k: v for k, v in j.items() if k != "output"}
        same = same and first.keys() == second.keys() and all(np.array_equal(first[k], second[k]) for k in first)
        check(same, f"{name}: deterministic (same JSON, identical datasets)")


def main():
    binary, src = sys.argv[1], sys.argv[2]
    traces = sorted(glob.glob(os.path.join(src, "traces", "*.csv")))
    if len(sys.argv) > 3 and os.path.isdir(sys.argv[3]):
        shipped = {os.path.basename(t) for t in traces}
        traces += [t for t in sorted(glob.glob(os.path.join(sys.argv[3], "*.csv")))
                   if os.path.basename(t) not in shipped]
    labelled = [t for t in traces if os.path.exists(os.path.splitext(t)[0] + ".anomalies.json")]
    twice = (labelled or traces)[0]
    with tempfile.TemporaryDirectory() as tmp:
        for t in traces:
            check_trace(binary, os.path.abspath(t), tmp, t == twice)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
