#!/usr/bin/env bash
# bench/alloc.sh — bytes the server allocates per order, counted exactly:
# the runtime's own total (go_memstats_alloc_bytes_total on /metrics), read
# 15 s apart while loadgen places 1,000 orders/s at N = 10,000 on SQLite.
# The idle connections' heartbeats (~1 MB/s at N = 10,000) are included.
#
#   bench/alloc.sh                               # this checkout
#   ORDERBELL_BIN=/tmp/ob-other bench/alloc.sh   # another build (A/B)
#
# Same environment as bench/run.sh (PORT, OUT, ...), which it runs.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
port=${PORT:-3300}
out=${OUT:-/tmp/ob-bench}
mkdir -p "$out"
log="$out/alloc-loadgen.log"
rm -f "$log"

bench/run.sh sqlite -conns 10000 -seed sql -rate 1000 -duration 30s >"$log" 2>&1 &
run=$!
# loadgen prints "connected" once every socket is up, then measures the
# idle RSS for 5 s, then places orders for 30 s: read at 12 s and 27 s.
wait_connected "$log" "$run"
sleep 12
a0=$(metrics "$port" go_memstats_alloc_bytes_total)
sleep 15
a1=$(metrics "$port" go_memstats_alloc_bytes_total)
wait "$run"
grep -E '^ +1000 ' "$log" || true
awk -v a0="$a0" -v a1="$a1" 'BEGIN { printf "allocated per order: %.0f bytes (15 s at 1,000 orders/s)\n", (a1 - a0) / 15 / 1000 }'
