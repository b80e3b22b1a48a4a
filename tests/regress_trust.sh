#!/usr/bin/env bash
# Can the claim-scheme gate be trusted? RUNS times, interleaved so both see the same machine:
# `rp-sim regress` on the unchanged build (every scheme of the baseline: must pass) and on a
# build whose db_lock claims cost PERCENT % more CPU (RP_INJECT_BUG=extra_work, compiled only into
# the fault-injection test build: must fail on db_lock's CPU per claim). The plant's size is
# calibrated first from the baseline and a planted run, and measured again over the runs.
# With BUSY=1 a from-scratch build of the project (no ccache, 2 jobs) runs beside the whole
# measurement, as on a shared CI runner.
# Usage: regress_trust.sh RP_SIM SCENARIO BASELINE OUT_DIR RUNS PERCENT [BUSY]
set -uo pipefail
sim=$1 scenario=$2 baseline=$3 out=$4 runs=$5 percent=$6 busy=${7:-0}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mkdir -p "$out"
say() { printf '[trust] %s\n' "$*" >&2; }

# figure FILE SCHEME KEY: a scheme's median figure from a regress.json or compare.json.
figure() {
  python3 - "$@" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))["schemes"]
print(next(r[sys.argv[3]] for r in rows if r["scheme"] == sys.argv[2]))
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

regress() {  # regress NAME [ENV...]: one gate run of db_lock alone (or all schemes with ALL=1)
  local name=$1; shift
  local schemes=(--schemes db_lock)
  [ "${ALL:-0}" = 1 ] && schemes=()
  env "$@" "$sim" regress "$scenario" --baseline "$baseline" "${schemes[@]}" --quiet \
    --out "$out/$name" >"$out/$name.log" 2>&1
}

calibration=400000
regress calibrate-unchanged
regress calibrate-planted RP_INJECT_BUG=extra_work RP_INJECT_SCHEME=db_lock \
  RP_INJECT_WORK_ITERATIONS=$calibration
unchanged_cpu=$(figure "$out/calibrate-unchanged/regress.json" db_lock cpu_ms_per_claim)
planted_cpu=$(figure "$out/calibrate-planted/regress.json" db_lock cpu_ms_per_claim)
# Both measured now, on this machine: the plant is a share of what a claim costs here.
iterations=$(python3 -c "import sys; u,p,c,pc=map(float,sys.argv[1:]); per=(p-u)/c; print(max(1,int(pc/100*u/per)))" \
  "$unchanged_cpu" "$planted_cpu" "$calibration" "$percent")
say "db_lock's CPU per claim now: $unchanged_cpu ms; $calibration turns cost $(python3 -c "print('%.4f' % ($planted_cpu-$unchanged_cpu))") ms more;"
say "a +$percent% plant is $iterations turns per claim"

passed=0 caught=0
printf '| run | unchanged: verdict | db_lock CPU/claim in /healthz | planted: verdict | db_lock CPU/claim in /healthz |\n|---|---|---|---|---|\n' >"$out/table.md"
for i in $(seq 1 "$runs"); do
  ALL=1 regress "unchanged-$i"; u_rc=$?
  regress "planted-$i" RP_INJECT_BUG=extra_work RP_INJECT_SCHEME=db_lock \
    RP_INJECT_WORK_ITERATIONS="$iterations"; p_rc=$?
  u_cpu=$(figure "$out/unchanged-$i/regress.json" db_lock cpu_per_claim_in_healthz 2>/dev/null || echo "?")
  p_cpu=$(figure "$out/planted-$i/regress.json" db_lock cpu_per_claim_in_healthz 2>/dev/null || echo "?")
  u_verdict="exit $u_rc"; p_verdict="exit $p_rc"
  [ "$u_rc" = 0 ] && { passed=$((passed + 1)); u_verdict="passed"; }
  if [ "$p_rc" = 1 ] && grep -q "^  db_lock: CPU per claim won" "$out/planted-$i.log"; then
    caught=$((caught + 1)); p_verdict="caught"
  fi
  [ "$u_rc" != 0 ] && u_verdict="FALSE ALARM: $(grep -E '^  [a-z_]+: ' "$out/unchanged-$i.log" | head -2 | tr '\n' ';')"
  printf '| %d | %s | %s | %s | %s |\n' "$i" "$u_verdict" "$u_cpu" "$p_verdict" "$p_cpu" >>"$out/table.md"
  say "run $i of $runs: unchanged $u_verdict (db_lock $u_cpu), planted $p_verdict (db_lock $p_cpu)"
done
cat "$out/table.md"
python3 - "$out" "$runs" <<'PY'
import json, statistics, sys
out, runs = sys.argv[1], int(sys.argv[2])
def cpu(kind, key):
    v = []
    for i in range(1, runs + 1):
        try:
            rows = json.load(open(f"{out}/{kind}-{i}/regress.json"))["schemes"]
            v.append(next(r[key] for r in rows if r["scheme"] == "db_lock"))
        except Exception:
            pass
    return v
for key in ("cpu_ms_per_claim", "cpu_per_claim_in_healthz"):
    u, p = cpu("unchanged", key), cpu("planted", key)
    if u and p:
        mu, mp = statistics.median(u), statistics.median(p)
        print(f"db_lock {key}: unchanged median {mu:.4f} (range {min(u):.4f}-{max(u):.4f}), "
              f"planted median {mp:.4f} (range {min(p):.4f}-{max(p):.4f}): the plant measured "
              f"+{100 * (mp / mu - 1):.1f}%")
PY
say "unchanged: $passed of $runs passed; planted +$percent%: $caught of $runs caught (logs: $out)"
[ "$passed" -eq "$runs" ] && [ "$caught" -eq "$runs" ]
