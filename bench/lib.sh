# bench/lib.sh — shared by the scripts around bench/run.sh (source it).

# wait_log LOG PID REGEX: wait until a line of loadgen's log LOG matches
# REGEX; if the run PID ends first, print LOG and exit 1.
wait_log() {
	until grep -q "$3" "$1" 2>/dev/null; do
		if ! kill -0 "$2" 2>/dev/null; then
			cat "$1" >&2
			exit 1
		fi
		sleep 0.02
	done
}

# wait_connected LOG PID: wait until loadgen's log LOG says "connected"
# (every socket is up).
wait_connected() {
	wait_log "$1" "$2" '^connected'
}

# metrics PORT NAME...: the server's current values of the unlabelled
# metrics NAME... on its /metrics, on one line in that order.
metrics() {
	local port=$1
	shift
	curl -fsS "http://127.0.0.1:$port/metrics" | awk -v names="$*" '
		BEGIN { n = split(names, want, " ") }
		{ v[$1] = $2 }
		END { for (i = 1; i <= n; i++) printf "%.3f%s", v[want[i]], (i < n ? " " : "\n") }'
}
