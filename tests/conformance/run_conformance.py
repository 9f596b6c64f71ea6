#!/usr/bin/python3
"""Runs upstream's test cases, re-expressed as data, through `autoscale decide` (the same code path a user runs).

Usage: run_conformance.py AUTOSCALE FOLDER
Every *.json file in FOLDER is a list of cases: {"name", "source", "controller", "observations",
"expected_desired_replicas", optionally "expected": [{field: value, ...} per line]}. The controller's kind defaults to
the folder's name (hpa, kpa, ...). Prints one line per case; exits 1 when a case fails or when there is none.
"""
import json
import math
import os
import subprocess
import sys
import tempfile


def same(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(b, float) or isinstance(a, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def run_case(autoscale, kind, case, tmp):
    controller = dict(case["controller"])
    controller.setdefault("kind", kind)
    cfile = os.path.join(tmp, "controller.json")
    ofile = os.path.join(tmp, "observations.jsonl")
    with open(cfile, "w") as f:
        json.dump(controller, f)
    with open(ofile, "w") as f:
        for o in case["observations"]:
            f.write(json.dumps(o) + "\n")
    p = subprocess.run([autoscale, "decide", "--controller", cfile, "--observations", ofile],
                       capture_output=True, text=True)
    if p.returncode != 0:
        return "exit %d: %s" % (p.returncode, p.stderr.strip()[:300])
    out = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    got = [o.get("desired_replicas") for o in out]
    want = case["expected_desired_replicas"]
    if got != want:
        return "desired_replicas %s, expected %s" % (got, want)
    for i, expected in enumerate(case.get("expected", [])):
        for key, value in expected.items():
            if not same(out[i].get(key), value):
                return "line %d: %s = %r, expected %r" % (i + 1, key, out[i].get(key), value)
    return None


def main():
    autoscale, folder = sys.argv[1], sys.argv[2]
    kind = os.path.basename(os.path.normpath(folder))
    cases = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name in sorted(os.listdir(folder)):
            if not name.endswith(".json"):
                continue
            with open(os.path.join(folder, name)) as f:
                for case in json.load(f):
                    cases += 1
                    problem = run_case(autoscale, kind, case, tmp)
                    label = "%s: %s (%s)" % (name, case["name"], case.get("source", ""))
                    if problem:
                        failed += 1
                        print("FAIL " + label + ": " + problem)
                    else:
                        print("ok   " + label)
    print("%d case(s), %d failed" % (cases, failed))
    sys.exit(1 if failed or cases == 0 else 0)


if __name__ == "__main__":
    main()
