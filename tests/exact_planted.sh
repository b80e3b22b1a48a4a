#!/usr/bin/env bash
# `rp-sim --exact` must be exact and must catch a small regression: the callgrind slice RUNS times
# on the unchanged build, then RUNS times with every claim of SCHEME made ITERATIONS turns of a
# fixed loop dearer (RP_INJECT_BUG=extra_work, compiled only into -DRP_FAULT_INJECTION=ON builds;
# the default, 1290 turns of 5 instructions, is +2.0% of db_lock's ~322,700 per claim). Prints each run's instructions
# per claim. Exits 0 when the unchanged runs agree within TOLERANCE_PERCENT of their lowest
# and every planted run is above the highest unchanged one by more than that; 1 otherwise;
# 2 when a run could not be made. Needs a build without sanitizers (valgrind cannot run ASan).
# Usage: exact_planted.sh RP_SIM SCENARIO OUT_DIR [RUNS] [ITERATIONS] [SCHEME] [CLAIMS]
#   environment: TOLERANCE_PERCENT (default 0.5)
set -uo pipefail
sim=$1 scenario=$2 out=$3 runs=${4:-5} iterations=${5:-1290} scheme=${6:-db_lock} claims=${7:-2000}
tolerance=${TOLERANCE_PERCENT:-0.5}
mkdir -p "$out"

# One slice; prints its instructions per claim (or says why there is none and exits 2).
slice() {
  local name=$1
  shift
  local started=$SECONDS
  env "$@" "$sim" run "$scenario" --exact --exact-claims "$claims" --claim-scheme "$scheme" \
    --quiet --out "$out/$name" >"$out/$name.log" 2>&1
  local rc=$?
  local ipc
  ipc=$(sed -n 's/^ *"instructions_per_claim": \([0-9.e+]*\).*/\1/p' "$out/$name/summary.json" 2>/dev/null)
  if [ "$rc" -ne 0 ] || [ -z "$ipc" ]; then
    echo "$name: the slice failed (exit $rc); see $out/$name.log:" >&2
    tail -20 "$out/$name.log" >&2
    exit 2
  fi
  echo "$name: $ipc instructions per claim ($((SECONDS - started)) s)" >&2
  echo "$ipc"
}

unchanged=() planted=()
for i in $(seq 1 "$runs"); do unchanged+=("$(slice "unchanged-$i")") || exit 2; done
for i in $(seq 1 "$runs"); do
  planted+=("$(slice "planted-$i" RP_INJECT_BUG=extra_work RP_INJECT_WORK_ITERATIONS="$iterations" \
    RP_INJECT_SCHEME="$scheme")") || exit 2
done

echo "unchanged: ${unchanged[*]}"
echo "planted ($iterations turns per claim): ${planted[*]}"
awk -v tol="$tolerance" -v u="${unchanged[*]}" -v p="${planted[*]}" 'BEGIN {
  nu = split(u, us, " "); np = split(p, ps, " ")
  lo = us[1]; hi = us[1]
  for (i = 2; i <= nu; i++) { if (us[i] < lo) lo = us[i]; if (us[i] > hi) hi = us[i] }
  spread = 100 * (hi - lo) / lo
  printf "unchanged spread: %.4f%% (tolerance %s%%)\n", spread, tol
  ok = spread <= tol
  if (!ok) print "NOT EXACT: the unchanged runs differ by more than the tolerance"
  for (i = 1; i <= np; i++) {
    above = 100 * (ps[i] - hi) / hi
    printf "planted run %d: %+.3f%% over the highest unchanged run\n", i, above
    if (above <= tol) { print "NOT CAUGHT: planted run " i " is within the tolerance"; ok = 0 }
  }
  exit ok ? 0 : 1
}'
