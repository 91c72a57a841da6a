#!/usr/bin/env bash
# bench/connect.sh — what the server spends per new connection, counted
# over loadgen's connect burst of N (default 10,000) authenticated
# WebSockets on SQLite: bytes and objects allocated
# (go_memstats_alloc_bytes_total and go_memstats_mallocs_total on /metrics)
# and CPU (process_cpu_seconds_total, in steps of 10 ms), read when loadgen
# has seeded its accounts and again when every socket is up.
#
#   bench/connect.sh                               # this checkout
#   ORDERBELL_BIN=/tmp/ob-other bench/connect.sh   # another build (A/B)
#   CONNS=5000 bench/connect.sh
#
# Same environment as bench/run.sh (PORT, OUT, ...), which it runs.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
port=${PORT:-3300}
out=${OUT:-/tmp/ob-bench}
conns=${CONNS:-10000}
mkdir -p "$out"
log="$out/connect-loadgen.log"
rm -f "$log"

bench/run.sh sqlite -conns "$conns" -seed sql -rate 10 -duration 3s >"$log" 2>&1 &
run=$!
counters=(go_memstats_alloc_bytes_total go_memstats_mallocs_total process_cpu_seconds_total)
wait_log "$log" "$run" '^seeded'
read -r b0 o0 c0 < <(metrics "$port" "${counters[@]}")
wait_connected "$log" "$run"
read -r b1 o1 c1 < <(metrics "$port" "${counters[@]}")
wait "$run"
grep '^connect:' "$log" || true
awk -v n="$conns" -v b0="$b0" -v b1="$b1" -v o0="$o0" -v o1="$o1" -v c0="$c0" -v c1="$c1" 'BEGIN {
	printf "per connection: %.0f bytes, %.0f objects allocated, %.0f µs of server CPU (%d connections)\n", (b1 - b0) / n, (o1 - o0) / n, (c1 - c0) * 1e6 / n, n
}'
