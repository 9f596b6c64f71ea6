#!/usr/bin/env bash
# tools/report turns a result file into a PNG, and refuses with exit 2 a file that is not a result file.
# Usage: report.sh RESULT.h5 SOURCE_DIR
set -u
result=$1
src=$2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$src/tools/report" "$result" --out "$out/plot.png" >/dev/null || { echo "FAIL report exited $?"; exit 1; }
size=$(stat -c %s "$out/plot.png" 2>/dev/null || echo 0)
[ "$size" -gt 20000 ] || { echo "FAIL plot.png is $size bytes"; exit 1; }
echo "ok   plot written ($size bytes)"
"$src/tools/report" "$src/README.md" --out "$out/bad.png" 2>"$out/err"
rc=$?
if [ $rc -eq 2 ] && grep -q "README.md" "$out/err" && [ ! -e "$out/bad.png" ]; then echo "ok   not a result file: exit 2"; else echo "FAIL bad input (rc=$rc)"; exit 1; fi
