#!/usr/bin/env bash
# Can the claim-scheme gate be trusted? RUNS times, on this machine: `rp-sim regress --against`
# with the same build on both sides (A/A: must pass) and with this side's db_lock claims costing
# PERCENT % more CPU (RP_INJECT_BUG=extra_work, compiled only into the fault-injection test build:
# must fail on db_lock's CPU per claim; 5 runs a side). The plant is calibrated first from an interleaved pair
# and measured again over the runs. With BUSY=1 a from-scratch build of the project (no ccache,
# 2 jobs) runs beside the whole measurement, as on a shared CI runner.
# With EXACT_BASELINE, the exact gate instead, as `./rp test` runs it: one callgrind slice per
# scheme and run (a build without sanitizers), instructions per claim judged against that
# committed baseline; the plant is sized in instructions.
# Usage: regress_trust.sh RP_SIM SCENARIO OUT_DIR RUNS PERCENT [BUSY] [SCHEMES] [EXACT_BASELINE]
set -uo pipefail
sim=$1 scenario=$2 out=$3 runs=$4 percent=$5 busy=${6:-0} schemes=${7:-db_lock}
exact_baseline=${8:-}
bin=$(dirname "$sim")
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mkdir -p "$out"
say() { printf '[trust] %s\n' "$*" >&2; }

# gate FILE SCHEME FIGURE FIELD: a field ("value": this side, "baseline": the other) of a gated
# figure in a regress.json.
gate() {
  python3 - "$@" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))["gate"]
print(next(r[sys.argv[4]] for r in g if r["scheme"] == sys.argv[2] and r["figure"] == sys.argv[3]))
PY
}

neighbour_pid=""
stop_neighbour() {
  [ -n "$neighbour_pid" ] && kill -- -"$neighbour_pid" 2>/dev/null
  wait "$neighbour_pid" 2>/dev/null
  rm -rf "$out/neighbour"
}
trap stop_neighbour EXIT
if [ "$busy" = 1 ]; then
  say "a full build of the project runs beside the measurement (no ccache, 2 jobs, restarted when done)"
  set -m
  (while :; do
    rm -rf "$out/neighbour"
    cmake -S "$root" -B "$out/neighbour" -G Ninja -DCMAKE_BUILD_TYPE=Release -DRP_BUILD_TESTS=OFF \
      >/dev/null 2>&1 && CCACHE_DISABLE=1 ninja -C "$out/neighbour" -j2 >/dev/null 2>&1
  done) &
  neighbour_pid=$!
  set +m
  sleep 20  # The build is compiling before the first measurement starts.
fi

# What each mode judges: the figure's key, its label in regress's output, its unit, and the turns
# of the planted loop used to calibrate it.
if [ -n "$exact_baseline" ]; then
  side=(--exact --repeats 1 --baseline "$exact_baseline")
  figure=instructions_per_claim label="instructions per claim won" unit="instructions"
  calibration=2000
else
  side=(--against "$bin" --repeats 5)
  figure=cpu_ms_per_claim label="CPU per claim won" unit="ms"
  calibration=400000
fi

regress() {  # regress NAME SCHEMES [--server-env K=V ...]: one gate run
  local name=$1 list=$2; shift 2
  "$sim" regress "$scenario" "${side[@]}" --schemes "$list" --quiet --out "$out/$name" \
    --junit "$out/$name.xml" "$@" >"$out/$name.log" 2>&1
}
plant() { echo --server-env RP_INJECT_BUG=extra_work --server-env RP_INJECT_SCHEME=db_lock \
  --server-env "RP_INJECT_WORK_ITERATIONS=$1"; }

# shellcheck disable=SC2046  # plant's words are separate arguments.
regress calibrate db_lock $(plant $calibration)
unplanted=$(gate "$out/calibrate/regress.json" db_lock "$figure" baseline)
planted=$(gate "$out/calibrate/regress.json" db_lock "$figure" value)
iterations=$(python3 -c "import sys; u,p,c,pc=map(float,sys.argv[1:]); print(max(1,int(pc/100*u/((p-u)/c))))" \
  "$unplanted" "$planted" "$calibration" "$percent")
say "db_lock's $label here: $unplanted $unit; $calibration turns cost $(python3 -c "print('%.4f' % ($planted-$unplanted))") $unit more;"
say "a +$percent% plant is $iterations turns per claim; each run: $schemes A/A, then db_lock A/B planted"

passed=0 caught=0
printf '| run | A/A (%s): verdict | db_lock %s, A/A | planted: verdict | db_lock %s, planted vs baseline |\n|---|---|---|---|---|\n' "$schemes" "$label" "$label" >"$out/table.md"
for i in $(seq 1 "$runs"); do
  regress "unchanged-$i" "$schemes"; u_rc=$?
  # shellcheck disable=SC2046
  regress "planted-$i" db_lock $(plant "$iterations"); p_rc=$?
  u_cpu=$(gate "$out/unchanged-$i/regress.json" db_lock "$figure" value 2>/dev/null || echo "?")
  p_cpu=$(gate "$out/planted-$i/regress.json" db_lock "$figure" value 2>/dev/null || echo "?")
  p_other=$(gate "$out/planted-$i/regress.json" db_lock "$figure" baseline 2>/dev/null || echo "?")
  u_verdict="exit $u_rc" p_verdict="NOT caught (exit $p_rc)"
  [ "$u_rc" = 0 ] && { passed=$((passed + 1)); u_verdict="passed"; }
  [ "$u_rc" = 1 ] && u_verdict="FALSE ALARM: $(grep -E '^  [a-z_]+: ' "$out/unchanged-$i.log" | head -2 | tr '\n' ';')"
  if [ "$p_rc" = 1 ] && grep -q "^  db_lock: $label" "$out/planted-$i.log"; then
    caught=$((caught + 1)); p_verdict="caught"
  fi
  printf '| %d | %s | %s | %s | %s vs %s |\n' "$i" "$u_verdict" "$u_cpu" "$p_verdict" "$p_cpu" "$p_other" >>"$out/table.md"
  say "run $i of $runs: A/A $u_verdict (db_lock $u_cpu $unit), planted $p_verdict ($p_cpu vs $p_other $unit)"
done
cat "$out/table.md"
say "A/A: $passed of $runs passed; planted +$percent%: $caught of $runs caught (logs: $out)"
[ "$passed" -eq "$runs" ] && [ "$caught" -eq "$runs" ]
