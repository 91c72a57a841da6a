package main

import (
	"bytes"
	"fmt"
	"runtime"
	rtrace "runtime/trace"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/exp/trace"
)

// traced runs fn under the execution tracer and analyzes what it
// recorded, a wait of 5 ms or more counted as long.
func traced(t *testing.T, fn func()) *report {
	t.Helper()
	var buf bytes.Buffer
	if err := rtrace.Start(&buf); err != nil {
		t.Fatal(err)
	}
	func() {
		defer rtrace.Stop() // even if fn fails the test: the next one traces
		fn()
	}()
	rep, err := analyze(&buf, 5*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

//go:noinline
func spinFor(d time.Duration) {
	for t := time.Now(); time.Since(t) < d; {
	}
}

// spinUntil spins until stop is set (or a second has passed, should the
// scheduler never preempt it).
//
//go:noinline
func spinUntil(stop *atomic.Bool) {
	for t := time.Now(); !stop.Load() && time.Since(t) < time.Second; {
	}
}

// A goroutine that keeps the only P (until the scheduler preempts it,
// after 10 ms or more) makes one readied meanwhile wait that long: the
// report shows the spinner's slice as the longest run and names it as what
// ran during the wait, though that slice began before the wait. A slice is
// named by where its goroutine was when it ended, so the spinner spins
// until the waiter has run: its long slice ends in a preemption inside the
// spin, not wherever the goroutine happened to be when it finished (once
// in the deferred close under -race).
func TestWaitBlamedOnWhatRan(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	rep := traced(t, func() {
		ready := make(chan struct{})
		done := make(chan time.Duration)
		go func() { // the waiter: readied while the spinner runs
			<-ready
			done <- 0
		}()
		runtime.Gosched() // the waiter blocks on ready
		spun := make(chan struct{})
		var stop atomic.Bool
		go func() {
			defer close(spun)
			// The spinner's slice begins before the wait does.
			spinFor(2 * time.Millisecond)
			close(ready) // the waiter is runnable from here
			spinUntil(&stop)
		}()
		<-done // runs once the spinner is preempted
		stop.Store(true)
		<-spun // within this trace, not the next test's
	})
	top := longest(rep.runs, 1)[0]
	if top.d < 5*time.Millisecond || !strings.Contains(top.what, "spinUntil") {
		t.Errorf("longest slice %v in %q; want ≥ 5ms in spinUntil", top.d, top.what)
	}
	if len(rep.longWaits) == 0 {
		t.Fatalf("no wait of 5ms or more; longest %v", rep.waits[len(rep.waits)-1])
	}
	w := longest(rep.longWaits, 1)[0]
	if meanwhile := rep.ranDuring(w.at, w.at+trace.Time(w.d)); !strings.Contains(meanwhile, "spinUntil") {
		t.Errorf("during the %v wait: %s; want the spinner named", w.d, meanwhile)
	}
}

// What ran during a window: each slice's part inside it, a slice begun
// before the window (even behind a shorter one that ended) included.
func TestRanDuringCountsOverlaps(t *testing.T) {
	ms := trace.Time(time.Millisecond)
	rep := &report{
		runs: []span{
			{g: 1, at: 0, d: 30 * time.Millisecond, what: "long"},                // 0–30: 10 ms in the window
			{g: 2, at: 1 * ms, d: 2 * time.Millisecond, what: "short"},           // 1–3: before it
			{g: 3, at: 22 * ms, d: 4 * time.Millisecond, what: "inside"},         // 22–26: 4 ms
			{g: 4, at: 38 * ms, d: 5 * time.Millisecond, what: "across the end"}, // 38–43: 2 ms
			{g: 5, at: 45 * ms, d: 1 * time.Millisecond, what: "after"},
		},
		maxRun: 30 * time.Millisecond,
	}
	got := rep.ranDuring(20*ms, 40*ms)
	want := "16ms in all: 10ms long; 4ms inside; 2ms across the end"
	if got != want {
		t.Errorf("ranDuring(20ms, 40ms) = %q, want %q", got, want)
	}
}

// A goroutine in a system call (as SQLite's fsync was, holding the only
// P) shows among the longest system calls with its stack, and a wait
// inside it is told that the call sat there all along.
func TestSystemCallsReported(t *testing.T) {
	rep := traced(t, func() {
		ts := syscall.NsecToTimespec(int64(20 * time.Millisecond))
		if err := syscall.Nanosleep(&ts, nil); err != nil {
			t.Fatal(err)
		}
	})
	if len(rep.syscalls) == 0 {
		t.Fatal("no system call in the report")
	}
	top := longest(rep.syscalls, 1)[0]
	if top.d < 20*time.Millisecond || !strings.Contains(top.what, "syscall.Nanosleep") {
		t.Fatalf("longest system call %v in %q; want ≥ 20ms in syscall.Nanosleep", top.d, top.what)
	}
	ms := trace.Time(time.Millisecond)
	got := overlap(rep.syscalls, rep.maxSysc, top.at+5*ms, top.at+10*ms)
	if want := "5ms in all: 5ms " + top.what; got != want {
		t.Errorf("in system calls during 5 ms inside the sleep: %q, want %q", got, want)
	}
}

// A collection shows as a mark with its start and length.
func TestMarksReported(t *testing.T) {
	var took time.Duration
	rep := traced(t, func() {
		before := time.Now()
		runtime.GC()
		took = time.Since(before)
	})
	if len(rep.marks) == 0 {
		t.Fatal("no mark; want the one runtime.GC made")
	}
	// runtime.GC's own is the last (one already under way is finished
	// first), and it began after the trace did.
	m := rep.marks[len(rep.marks)-1]
	if m.d <= 0 || m.d > took || m.at <= rep.first {
		t.Errorf("mark at %v for %v; want within the %v runtime.GC took", m.at-rep.first, m.d, took)
	}
	var out strings.Builder
	rep.print(&out, 3)
	want := fmt.Sprintf("at %.3fs for %v", time.Duration(m.at-rep.first).Seconds(), m.d.Round(time.Millisecond))
	if !strings.Contains(out.String(), want) {
		t.Errorf("the report does not list the mark as %q:\n%s", want, out.String())
	}
}
