#!/usr/bin/env bash
# Time the wide-workspace queries of docs/performance.md ("Wide queries over a whole workspace").
#
#   scripts/bench-wide.sh [KQL_BINARY] [DATA_DIR] [TIMEOUT_SECONDS]
#
# DATA_DIR defaults to /tmp/wide-ws, made by `scripts/gen-wide-workspace.py /tmp/wide-ws` when
# missing (one JSON-lines table of 20 rows per built-in schema). Prints, per query, the wall time
# of one end-to-end `kql query --data DATA_DIR` run (best of 3) and its result's row count;
# `timeout` when a run exceeds TIMEOUT_SECONDS (default 60). It asserts nothing.
set -u
kql=${1:-target/release/kql}
dir=${2:-/tmp/wide-ws}
limit=${3:-60}
here=$(cd "$(dirname "$0")" && pwd)
[ -d "$dir" ] || python3 "$here/gen-wide-workspace.py" "$dir" >/dev/null
queries=(
  'union withsource=TableName * | where TimeGenerated > ago(90d) | summarize count() by TableName'
  'union * | where TimeGenerated > ago(1d) | count'
  'search "something" | take 10'
  'search in (SecurityEvent, Syslog) "x"'
  'union withsource=T * | where * has "x" | summarize count() by T'
  'print 1'
)
for q in "${queries[@]}"; do
  best=""
  rows=""
  for _ in 1 2 3; do
    start=$(date +%s.%N)
    out=$(timeout "$limit" "$kql" query --quiet --format csv --data "$dir" "$q" 2>/dev/null)
    rc=$?
    end=$(date +%s.%N)
    if [ $rc -eq 124 ]; then best="timeout(${limit}s)"; break; fi
    t=$(echo "$end - $start" | bc)
    if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then best=$t; fi
    rows=$(($(printf '%s\n' "$out" | wc -l) - 1))
    [ $rc -eq 0 ] || rows="error rc=$rc"
  done
  printf '%8s s  %6s rows  %s\n' "$best" "$rows" "$q"
done
