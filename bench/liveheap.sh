#!/usr/bin/env bash
# bench/liveheap.sh — the server's live heap and live objects at N idle
# connections (default 10,000), after a forced collection: what the
# collector marks on every cycle. Runs bench/run.sh with PPROF_ADDR (a heap
# profile with ?gc=1 forces the collection), then reads
# go_memstats_heap_alloc_bytes and go_memstats_heap_objects from /metrics.
#
#   bench/liveheap.sh                              # this checkout
#   ORDERBELL_BIN=/tmp/ob-other bench/liveheap.sh  # another build (A/B)
#   CONNS=2000 bench/liveheap.sh
#
# Same environment as bench/run.sh (PORT, OUT, ...), which it runs.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
port=${PORT:-3300}
out=${OUT:-/tmp/ob-bench}
pprof=${PPROF_ADDR:-127.0.0.1:6060}
mkdir -p "$out"
log="$out/liveheap-loadgen.log"
rm -f "$log"

PPROF_ADDR=$pprof bench/run.sh sqlite -conns "${CONNS:-10000}" -seed sql -rate 10 -duration 12s >"$log" 2>&1 &
run=$!
# loadgen prints "connected" once every socket is up; give the connect
# burst's garbage 5 s, then collect and read.
wait_connected "$log" "$run"
sleep 5
curl -fsS -o /dev/null "http://$pprof/debug/pprof/heap?gc=1"
metrics "$port" go_memstats_heap_alloc_bytes go_memstats_heap_objects | awk -v n="${CONNS:-10000}" '
	{ a = $1; o = $2 }
	END { printf "live heap %.1f MB, %.0f objects: %.2f KB and %.0f objects per connection (with the server'\''s own)\n", a / 1e6, o, a / n / 1024, o / n }'
wait "$run"
grep -o 'idle: .*per connection' "$log" || true
