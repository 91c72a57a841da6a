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
