#!/usr/bin/env bash
# Can the claim-scheme gate be trusted? RUNS times, on this machine: `rp-sim regress --against`
# with the same build on both sides (A/A: must pass) and with this side's db_lock claims costing
# PERCENT % more CPU (RP_INJECT_BUG=extra_work, compiled only into the fault-injection test build:
# must fail on db_lock's CPU per claim; 5 runs a side). The plant is calibrated first from an interleaved pair
# and measured again over the runs. With BUSY=1 a from-scratch build of the project (no ccache,
# 2 jobs) runs beside the whole measurement, as on a shared CI runner.
# Usage: regress_trust.sh RP_SIM SCENARIO OUT_DIR RUNS PERCENT [BUSY] [SCHEMES]
set -uo pipefail
sim=$1 scenario=$2 out=$3 runs=$4 percent=$5 busy=${6:-0} schemes=${7:-db_lock}
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

regress() {  # regress NAME SCHEMES [--server-env K=V ...]: one interleaved gate run
  local name=$1 list=$2; shift 2
  "$sim" regress "$scenario" --against "$bin" --schemes "$list" --repeats 5 --quiet --out "$out/$name" \
    --junit "$out/$name.xml" "$@" >"$out/$name.log" 2>&1
}
plant() { echo --server-env RP_INJECT_BUG=extra_work --server-env RP_INJECT_SCHEME=db_lock \
  --server-env "RP_INJECT_WORK_ITERATIONS=$1"; }

calibration=400000
# shellcheck disable=SC2046  # plant's words are separate arguments.
regress calibrate db_lock $(plant $calibration)
unplanted=$(gate "$out/calibrate/regress.json" db_lock cpu_ms_per_claim baseline)
planted=$(gate "$out/calibrate/regress.json" db_lock cpu_ms_per_claim value)
iterations=$(python3 -c "import sys; u,p,c,pc=map(float,sys.argv[1:]); print(max(1,int(pc/100*u/((p-u)/c))))" \
  "$unplanted" "$planted" "$calibration" "$percent")
say "db_lock's CPU per claim here: $unplanted ms; $calibration turns cost $(python3 -c "print('%.4f' % ($planted-$unplanted))") ms more;"
say "a +$percent% plant is $iterations turns per claim; each run: $schemes A/A, then db_lock A/B planted"

passed=0 caught=0
printf '| run | A/A (%s): verdict | db_lock CPU ms/claim, A/A | planted: verdict | db_lock CPU ms/claim, planted vs other side |\n|---|---|---|---|---|\n' "$schemes" >"$out/table.md"
for i in $(seq 1 "$runs"); do
  regress "unchanged-$i" "$schemes"; u_rc=$?
  # shellcheck disable=SC2046
  regress "planted-$i" db_lock $(plant "$iterations"); p_rc=$?
  u_cpu=$(gate "$out/unchanged-$i/regress.json" db_lock cpu_ms_per_claim value 2>/dev/null || echo "?")
  p_cpu=$(gate "$out/planted-$i/regress.json" db_lock cpu_ms_per_claim value 2>/dev/null || echo "?")
  p_other=$(gate "$out/planted-$i/regress.json" db_lock cpu_ms_per_claim baseline 2>/dev/null || echo "?")
  u_verdict="exit $u_rc" p_verdict="NOT caught (exit $p_rc)"
  [ "$u_rc" = 0 ] && { passed=$((passed + 1)); u_verdict="passed"; }
  [ "$u_rc" = 1 ] && u_verdict="FALSE ALARM: $(grep -E '^  [a-z_]+: ' "$out/unchanged-$i.log" | head -2 | tr '\n' ';')"
  if [ "$p_rc" = 1 ] && grep -q "^  db_lock: CPU per claim won" "$out/planted-$i.log"; then
    caught=$((caught + 1)); p_verdict="caught"
  fi
  printf '| %d | %s | %s | %s | %s vs %s |\n' "$i" "$u_verdict" "$u_cpu" "$p_verdict" "$p_cpu" "$p_other" >>"$out/table.md"
  say "run $i of $runs: A/A $u_verdict (db_lock $u_cpu ms), planted $p_verdict ($p_cpu vs $p_other ms)"
done
cat "$out/table.md"
say "A/A: $passed of $runs passed; planted +$percent%: $caught of $runs caught (logs: $out)"
[ "$passed" -eq "$runs" ] && [ "$caught" -eq "$runs" ]
