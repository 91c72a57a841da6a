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
allocated() {
	curl -fsS "http://127.0.0.1:$port/metrics" | awk '$1 == "go_memstats_alloc_bytes_total" { printf "%.0f", $2 }'
}
# loadgen prints "connected" once every socket is up, then measures the
# idle RSS for 5 s, then places orders for 30 s: read at 12 s and 27 s.
wait_connected "$log" "$run"
sleep 12
a0=$(allocated)
sleep 15
a1=$(allocated)
wait "$run"
grep -E '^ +1000 ' "$log" || true
echo "allocated per order: $(((a1 - a0) / 15 / 1000)) bytes (15 s at 1,000 orders/s)"
