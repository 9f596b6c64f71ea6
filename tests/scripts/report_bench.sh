#!/usr/bin/env bash
# tools/report turns a bench file (autoscale bench) into a static HTML report: index.html naming every scenario and
# controller, with valid PNGs (Pareto plot, capacity against need, latency CDFs) beside it, by default next to the file.
# Usage: report_bench.sh AUTOSCALE_BINARY SOURCE_DIR
set -u
AS=$1
src=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
check() { if [ "$2" = ok ]; then echo "ok   $1"; else echo "FAIL $1: $3"; fail=1; fi; }

cat >"$T/b.toml" <<TOML
name = "tiny"
seeds = 2
baseline = "reactive"
[[scenario]]
file = "$src/scenarios/worldcup.toml"
set = ["duration_s=900"]
[[scenario]]
name = "worldcup_short"
file = "$src/scenarios/worldcup.toml"
set = ["duration_s=600"]
[[controller]]
name = "reactive"
run = "reactive"
[[controller]]
name = "peak_fleet"
run = "peak_fleet"
TOML
"$AS" bench "$T/b.toml" --out "$T/tiny.h5" --jobs 2 --quiet >/dev/null 2>"$T/bench.err" || { echo "FAIL bench: $(tail -3 "$T/bench.err")"; exit 1; }

"$src/tools/report" "$T/tiny.h5" --out "$T/rep" >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 0 ] && [ -s "$T/rep/index.html" ] && r=ok || r=no
check "report writes index.html" $r "rc=$rc $(tail -3 "$T/err")"
missing=""
for name in worldcup worldcup_short; do
  grep -q "<h2>scenario $name</h2>" "$T/rep/index.html" 2>/dev/null || missing="$missing scenario:$name"
  for c in reactive peak_fleet; do  # a table row per controller in each scenario's section
    sed -n "/<h2>scenario $name<\/h2>/,/<\/table>/p" "$T/rep/index.html" | grep -q "<td class=name>$c" ||
      missing="$missing $name/$c"
  done
done
[ -z "$missing" ] && r=ok || r=no
check "the HTML names every scenario and controller" $r "missing:$missing"
grep -qi "approximate" "$T/rep/index.html" 2>/dev/null && r=ok || r=no
check "the HTML says the latency CDFs are approximated from the percentile series" $r "no such note"
n=0; bad=""
for png in "$T"/rep/*.png; do
  [ -e "$png" ] || continue
  n=$((n + 1))
  sig=$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')
  size=$(stat -c %s "$png")
  { [ "$sig" = "89504e470d0a1a0a" ] && [ "$size" -gt 5000 ]; } || bad="$bad $(basename "$png")($size bytes, $sig)"
  grep -q "src=\"$(basename "$png")\"" "$T/rep/index.html" || bad="$bad $(basename "$png")(not in the HTML)"
done
[ $n -eq 6 ] && [ -z "$bad" ] && r=ok || r=no
check "6 PNGs (3 per scenario), valid images, all in the HTML" $r "$n PNGs;$bad"
for img in $(grep -o 'src="[^"]*"' "$T/rep/index.html" | sed 's/src="//; s/"$//'); do
  [ -s "$T/rep/$img" ] || { r=no; bad="$bad $img"; }
done
[ -z "$bad" ] && r=ok || r=no
check "every image the HTML shows exists" $r "$bad"

"$src/tools/report" "$T/tiny.h5" >/dev/null 2>"$T/err2"
[ $? -eq 0 ] && [ -s "$T/tiny-report/index.html" ] && r=ok || r=no
check "default output: next to the file (tiny-report/)" $r "$(tail -3 "$T/err2")"

"$src/tools/report" "$T/tiny.h5" --run reactive --out "$T/rep2" >/dev/null 2>"$T/err3"
rc=$?
[ $rc -eq 2 ] && grep -q "tiny.h5" "$T/err3" && r=ok || r=no
check "--run on a bench file: exit 2 naming the file" $r "rc=$rc $(cat "$T/err3")"
exit $fail
