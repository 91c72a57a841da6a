# bench/lib.sh — shared by the scripts around bench/run.sh (source it).

# wait_connected LOG PID: wait until loadgen's log LOG says "connected"
# (every socket is up); if the run PID ends first, print LOG and exit 1.
wait_connected() {
	until grep -q '^connected' "$1" 2>/dev/null; do
		if ! kill -0 "$2" 2>/dev/null; then
			cat "$1" >&2
			exit 1
		fi
		sleep 0.2
	done
}
