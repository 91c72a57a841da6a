#!/usr/bin/env bash
# bench/transport/run.sh — RSS per idle WebSocket connection for the two
# transports, 3 runs each, alternating; server pinned to CPU 0, client to
# CPU 1, everything on 127.0.0.1:9300.
set -euo pipefail
cd "$(dirname "$0")"
out=${OUT:-/tmp/ob-transport}
mkdir -p "$out"
go build -o "$out/server" ./server
go build -o "$out/client" ./client
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
n=${N:-10000}
for _ in 1 2 3; do
	for mode in nbio gorilla; do
		taskset -c 0 "$out/server" -mode "$mode" >"$out/server-$mode.log" 2>&1 &
		server=$!
		for _ in $(seq 50); do curl -fsS http://127.0.0.1:9300/rss >/dev/null 2>&1 && break; sleep 0.1; done
		echo -n "$mode: "
		taskset -c 1 "$out/client" -n "$n"
		kill "$server"
		wait "$server" 2>/dev/null || true
	done
done
