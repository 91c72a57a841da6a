#!/usr/bin/env bash
# bench/run.sh — one bounded benchmark run, as bench/README.md measures:
# builds orderbell and loadgen, starts orderbell pinned to CPU 0 on a fresh
# database (SQLite file or a new MariaDB database, dropped afterwards),
# runs loadgen pinned to CPU 1 against it, and stops the server.
#
#   bench/run.sh sqlite -conns 1000 -seed api -rate 1000 -duration 20s -json /tmp/r.json
#   bench/run.sh mysql  -conns 10000 -seed sql -ramp 500,250,3000 -duration 10s
#
# Environment: PORT (3300), KEY (benchkey), OUT (/tmp/ob-bench: logs, db),
# PPROF_ADDR (e.g. 127.0.0.1:6060: the server serves net/http/pprof there),
# ORDERBELL_BIN (a server binary built beforehand, for A/B runs; default:
# build this checkout), SQLITE_PARAMS (added to the server's SQLite URL, e.g.
# '_pragma=wal_autocheckpoint(0)'), GODEBUG and GOGC (passed to the server, e.g.
# GODEBUG=gctrace=1 to see its collections in $OUT/server.log),
# LOADGEN_GOGC (the generator's own GOGC, e.g. off: its collector's marks
# delay its receipt times on a slow host; twenty-seventh round),
# MYSQL_URL_BASE (mysql://root@127.0.0.1:3306). Everything is on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

db=${1:?usage: bench/run.sh sqlite|mysql [loadgen flags]}
shift
port=${PORT:-3300}
key=${KEY:-benchkey}
out=${OUT:-/tmp/ob-bench}
mysql_base=${MYSQL_URL_BASE:-mysql://root@127.0.0.1:3306}
mkdir -p "$out"

# GODEBUG and GOGC are the server's alone: not the go builds' (the build
# cache would keep and replay a compiler's gctrace) nor loadgen's.
server_godebug=${GODEBUG:-}
server_gogc=${GOGC:-}
unset GODEBUG GOGC

server_bin=${ORDERBELL_BIN:-$out/orderbell}
[ -n "${ORDERBELL_BIN:-}" ] || CGO_ENABLED=0 go build -o "$out/orderbell" .
go build -o "$out/loadgen" ./cmd/loadgen

dbname=""
case $db in
sqlite)
	rm -f "$out"/bench.db "$out"/bench.db-*
	url="sqlite:$out/bench.db${SQLITE_PARAMS:+?$SQLITE_PARAMS}"
	seed_url="sqlite:$out/bench.db"
	;;
mysql)
	dbname="obbench_$$"
	mysql -h127.0.0.1 -uroot -e "CREATE DATABASE $dbname CHARACTER SET utf8mb4"
	url="$mysql_base/$dbname"
	;;
*)
	echo "first argument: sqlite or mysql" >&2
	exit 2
	;;
esac

server=""
cleanup() {
	if [ -n "$server" ]; then
		# The server's counters as it stops (disconnect reasons, drops, …).
		curl -fsS "http://127.0.0.1:$port/metrics" >"$out/metrics.txt" 2>/dev/null || true
		kill "$server" 2>/dev/null || true
		wait "$server" 2>/dev/null || true
	fi
	if [ -n "$dbname" ]; then
		mysql -h127.0.0.1 -uroot -e "DROP DATABASE IF EXISTS $dbname" || true
	fi
}
trap cleanup EXIT

# Other work on the machine skews every figure (loadgen reports it as
# "other CPU%"): wait, up to QUIET_WAIT seconds, for 3 s with the machine
# under 10% busy.
busy() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat; }
quiet_until=$((SECONDS + ${QUIET_WAIT:-120}))
while [ "$SECONDS" -lt "$quiet_until" ]; do
	read -r b1 i1 < <(busy)
	sleep 3
	read -r b2 i2 < <(busy)
	pct=$(((b2 - b1) * 100 / ((b2 - b1) + (i2 - i1) + 1)))
	[ "$pct" -lt 10 ] && break
	echo "machine busy (${pct}% of all CPUs); waiting for quiet" >&2
done

ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
# taskset and env exec the server, so $! is the server's own pid.
# orderbell limits orders per customer (RATE_LIMIT_ORDERS, 60-M) and logins
# per address (60-M): a benchmark places far more, from one address.
taskset -c 0 env ACCESS_TOKEN_KEY="$key" DATABASE_URL="$url" PORT="$port" HOST=127.0.0.1 \
	RATE_LIMIT_ORDERS="${RATE_LIMIT_ORDERS:-1000000-M}" RATE_LIMIT_LOGINS_PER_ADDRESS="${RATE_LIMIT_LOGINS_PER_ADDRESS:-1000000-M}" \
	LOG_LEVEL=warn ${server_godebug:+GODEBUG=$server_godebug} ${server_gogc:+GOGC=$server_gogc} ${SERVER_GOMAXPROCS:+GOMAXPROCS=$SERVER_GOMAXPROCS} ${PPROF_ADDR:+PPROF_ADDR=$PPROF_ADDR} "$server_bin" >"$out/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do
	curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
	sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null || {
	cat "$out/server.log" >&2
	exit 1
}

dbpid=()
if [ "$db" = mysql ] && pid=$(pgrep -o -x mariadbd || pgrep -o -x mysqld); then
	dbpid=(-db-pid "$pid")
elif [ "$db" = sqlite ] && pid=$(pgrep -o -P "$server"); then
	dbpid=(-db-pid "$pid") # orderbell's checkpoint process (models/checkpointproc.go), on the server's core
fi
taskset -c 1 env ${LOADGEN_GOGC:+GOGC=$LOADGEN_GOGC} "$out/loadgen" -url "http://127.0.0.1:$port" -key "$key" -pid "$server" "${dbpid[@]}" -seed-db "${seed_url:-$url}" "$@"
