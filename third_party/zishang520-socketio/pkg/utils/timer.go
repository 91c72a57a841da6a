package utils

import (
	"runtime"
	"sync/atomic"
	"time"
)

// orderbell patch: upstream ran one goroutine per timer, parked on the
// timer's channel for its whole life. Engine.IO arms a ping timer on every
// connection, so an idle server held one goroutine (and its stack) per
// connection for nothing. time.AfterFunc keeps the same behaviour (fn runs in
// a goroutine of its own when the timer fires; Refresh re-arms; Stop stops)
// with no goroutine while waiting.
type Timer struct {
	timer   *time.Timer
	sleep   time.Duration
	stopped atomic.Bool // SetInterval: no more runs once stopped
}

// Refresh re-arms the timer for its full duration, whether or not it fired.
func (t *Timer) Refresh() *Timer {
	t.timer.Reset(t.sleep)
	return t
}

// Unref stops the timer once nothing references t any more.
func (t *Timer) Unref() {
	runtime.AddCleanup(t, func(timer *time.Timer) { timer.Stop() }, t.timer)
}

func SetTimeout(fn func(), sleep time.Duration) *Timer {
	return &Timer{timer: time.AfterFunc(sleep, fn), sleep: sleep}
}

// orderbell patch: SetTimeoutFirst is SetTimeout whose first run comes after
// first instead of sleep; Refresh re-arms it for sleep, as usual. The
// Engine.IO server uses it to send each connection's first ping at a random
// point of the ping interval.
func SetTimeoutFirst(fn func(), first, sleep time.Duration) *Timer {
	return &Timer{timer: time.AfterFunc(first, fn), sleep: sleep}
}

func ClearTimeout(timer *Timer) {
	if timer != nil {
		timer.Stop()
	}
}

func (t *Timer) Stop() {
	t.stopped.Store(true)
	t.timer.Stop()
}

func SetInterval(fn func(), sleep time.Duration) *Timer {
	t := &Timer{sleep: sleep}
	t.timer = time.AfterFunc(sleep, func() {
		if t.stopped.Load() {
			return
		}
		t.timer.Reset(t.sleep)
		fn()
	})
	return t
}

func ClearInterval(timer *Timer) {
	ClearTimeout(timer)
}
