#!/usr/bin/env bash
# `rp-sim regress` must catch what it exists for: with SCHEME's claims made dearer
# (RP_INJECT_BUG=extra_work: ITERATIONS turns of a fixed loop per claim, compiled only into
# -DRP_FAULT_INJECTION=ON builds), every one of RUNS gate runs must fail, and fail on SCHEME's
# cost per claim won: CPU in /healthz answers by default, instructions per claim with --exact
# (one callgrind slice per run; needs a build without sanitizers). `./rp regress-trust` measures
# the smallest plant caught every time.
# Usage: regress_planted.sh RP_SIM SCENARIO BASELINE OUT_DIR [RUNS] [SCHEME] [ITERATIONS] [--exact]
set -uo pipefail
sim=$1 scenario=$2 baseline=$3 out=$4 runs=${5:-3} scheme=${6:-db_lock} iterations=${7:-700000}
mode=${8:-}
extra=() figure=cpu_per_claim_in_healthz label="CPU per claim won"
if [ "$mode" = --exact ]; then
  extra=(--exact --repeats 1) figure=instructions_per_claim label="instructions per claim won"
elif [ -n "$mode" ]; then
  echo "regress_planted.sh: the 8th argument is --exact or nothing, not '$mode'" >&2
  exit 2
fi
for i in $(seq 1 "$runs"); do
  log="$out/planted-$i.log"
  mkdir -p "$out"
  RP_INJECT_BUG=extra_work RP_INJECT_SCHEME=$scheme RP_INJECT_WORK_ITERATIONS=$iterations \
    "$sim" regress "$scenario" --baseline "$baseline" --schemes "$scheme" --quiet "${extra[@]}" \
    --out "$out/planted-$i" --junit "$out/planted-$i.xml" >"$log" 2>&1
  rc=$?
  if [ "$rc" -ne 1 ] || ! grep -q "^  $scheme: $label" "$log"; then
    echo "run $i of $runs: the planted regression of $scheme was NOT caught (exit $rc):"
    cat "$log"
    exit 1
  fi
  # What CI shows must say the same: a failing case in the JUnit file, the verdict first.
  if ! grep -q "<testcase classname=\"rp-sim.gate\" name=\"$scheme: $figure\">" \
    "$out/planted-$i.xml" || ! head -1 "$out/planted-$i/regress.md" | grep -q "REGRESSION"; then
    echo "run $i of $runs: caught, but the JUnit file or regress.md does not say so"
    exit 1
  fi
  echo "run $i of $runs: caught: $(grep "^  $scheme: $label" "$log")"
done
