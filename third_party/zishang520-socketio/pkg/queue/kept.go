package queue

import "sync/atomic"

// orderbell patch: Go runs f on a kept goroutine. A goroutine started for a
// short task (a queue's worker for one write burst, a connection's reader for
// one message) grows its stack again each time while it runs; a kept one has
// grown it already. Goroutines whose task is done wait here for the next,
// up to maxKept of them; with none waiting, Go starts a new one, so a task
// that blocks (a write to a full socket, a frame still arriving) holds up no
// other.
const maxKept = 32

var (
	keptWork = make(chan func())
	keptIdle atomic.Int32
)

// Go runs f on a goroutine that waits for work, or on a new one.
func Go(f func()) {
	select {
	case keptWork <- f:
	default:
		go keep(f)
	}
}

// KeptIdle is how many kept goroutines wait for work (at most 32): a count
// of goroutines that are not leaked, for tests that count them.
func KeptIdle() int { return int(keptIdle.Load()) }

func keep(f func()) {
	for f != nil {
		f()
		f = nil // not kept alive while waiting
		for {
			n := keptIdle.Load()
			if n >= maxKept {
				return
			}
			if keptIdle.CompareAndSwap(n, n+1) {
				break
			}
		}
		f = <-keptWork
		keptIdle.Add(-1)
	}
}
