package main

import (
	"bytes"
	"runtime"
	rtrace "runtime/trace"
	"strings"
	"testing"
	"time"

	"golang.org/x/exp/trace"
)

//go:noinline
func spinFor(d time.Duration) {
	for t := time.Now(); time.Since(t) < d; {
	}
}

// A goroutine that keeps the only P (until the scheduler preempts it,
// after 10 ms or more) makes one readied meanwhile wait that long: the
// report shows the spinner's slice as the longest run and names it as what
// ran during the wait.
func TestWaitBlamedOnWhatRan(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var buf bytes.Buffer
	if err := rtrace.Start(&buf); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	done := make(chan time.Duration)
	go func() { // the waiter: readied while the spinner runs
		<-ready
		done <- 0
	}()
	go func() {
		close(ready) // the waiter is runnable from here
		spinFor(30 * time.Millisecond)
	}()
	<-done
	rtrace.Stop()

	rep, err := analyze(&buf, 5*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	top := longest(rep.runs, 1)[0]
	if top.d < 5*time.Millisecond || !strings.Contains(top.what, "spinFor") {
		t.Errorf("longest slice %v in %q; want ≥ 5ms in spinFor", top.d, top.what)
	}
	if len(rep.longWaits) == 0 {
		t.Fatalf("no wait of 5ms or more; longest %v", rep.waits[len(rep.waits)-1])
	}
	w := longest(rep.longWaits, 1)[0]
	if meanwhile := rep.ranDuring(w.at, w.at+trace.Time(w.d)); !strings.Contains(meanwhile, "spinFor") {
		t.Errorf("during the %v wait: %s; want the spinner named", w.d, meanwhile)
	}
}
