#!/usr/bin/env bash
# `rp-sim regress` must catch what it exists for: with a claim path made twice as slow
# (RP_INJECT_BUG=slow_claims, compiled only into the fault-injection test build) for one scheme,
# every one of RUNS gate runs must fail, and fail on that scheme's claims/s per ceiling.
# Usage: regress_planted.sh RP_SIM SCENARIO BASELINE OUT_DIR [RUNS] [SCHEME]
set -uo pipefail
sim=$1 scenario=$2 baseline=$3 out=$4 runs=${5:-3} scheme=${6:-db_lock}
for i in $(seq 1 "$runs"); do
  log="$out/planted-$i.log"
  mkdir -p "$out"
  RP_INJECT_BUG=slow_claims RP_INJECT_SCHEME=$scheme "$sim" regress "$scenario" \
    --baseline "$baseline" --schemes "$scheme" --quiet --out "$out/planted-$i" >"$log" 2>&1
  rc=$?
  if [ "$rc" -ne 1 ] || ! grep -q "^  $scheme: claims/s per ceiling" "$log"; then
    echo "run $i of $runs: the planted slowdown of $scheme was NOT caught (exit $rc):"
    cat "$log"
    exit 1
  fi
  echo "run $i of $runs: caught: $(grep "^  $scheme: claims/s per ceiling" "$log")"
done
