#!/usr/bin/env bash
# Every verb ./rp dispatches reaches a function the script defines, and every verb is in the
# usage text: a verb whose function was lost (as `exact-trust` once was, to a merge) fails here
# instead of with "command not found" in a user's terminal.
# Usage: rp_verbs.sh PATH_TO_RP
set -uo pipefail
rp=$1
status=0
dispatch=$(sed -n '/^case "\${1:-}" in/,/^esac/p' "$rp")
[ -n "$dispatch" ] || { echo "no dispatch (case \"\${1:-}\" in ... esac) in $rp"; exit 1; }
verbs=0
while read -r verb fns; do
  verbs=$((verbs + 1))
  for fn in $fns; do
    if ! grep -q "^$fn() {" "$rp"; then
      echo "verb '$verb' calls $fn, which $rp does not define"
      status=1
    fi
  done
  if ! sed -n '2,/^set -euo/p' "$rp" | grep -q "\./rp $verb\b"; then
    echo "verb '$verb' is not in the usage text at the top of $rp"
    status=1
  fi
done < <(printf '%s\n' "$dispatch" | sed -n 's/^  \([a-z-]*\)) \(.*\);;$/\1 \2/p' |
  while read -r verb rest; do
    echo "$verb $(printf '%s\n' "$rest" | grep -o '\b\(cmd\|build\)_[a-z_]*' | tr '\n' ' ')"
  done)
[ "$verbs" -ge 10 ] || { echo "read only $verbs verbs from the dispatch: the parser is wrong"; exit 1; }
[ "$status" -eq 0 ] && echo "all $verbs verbs of $rp reach a defined function"
exit "$status"
