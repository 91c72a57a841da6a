package queue

import (
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// orderbell: tests of Go's kept goroutines (kept.go).

// goid is the calling goroutine's id, from its stack header.
func goid() string {
	var b [64]byte
	f := strings.Fields(string(b[:runtime.Stack(b[:], false)]))
	return f[1] // "goroutine <id> [running]:"
}

// waitKeptIdle waits until n kept goroutines wait for work.
func waitKeptIdle(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for KeptIdle() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d kept goroutines wait, want %d", KeptIdle(), n)
		}
		runtime.Gosched()
	}
}

// holdKept gives every kept goroutine that waits work lasting the test, so
// that the test's own are the only ones waiting.
func holdKept(t *testing.T) {
	hold := make(chan struct{})
	t.Cleanup(func() { close(hold) })
	for KeptIdle() > 0 {
		Go(func() { <-hold })
		runtime.Gosched()
	}
}

// A goroutine whose task is done runs the next one.
func TestGoKeepsTheGoroutine(t *testing.T) {
	holdKept(t)
	ids := make(chan string, 1)
	Go(func() { ids <- goid() })
	first := <-ids
	waitKeptIdle(t, 1)
	Go(func() { ids <- goid() })
	if second := <-ids; second != first {
		t.Fatalf("the second task ran on goroutine %s, want the kept %s", second, first)
	}
}

// A queue's worker for one burst is the kept goroutine of the one before.
func TestQueueWorkerIsKept(t *testing.T) {
	holdKept(t)
	var q Queue
	ids := make(chan string, 1)
	q.Enqueue(func() { ids <- goid() })
	first := <-ids
	waitKeptIdle(t, 1) // the worker found the queue empty and ended
	q.Enqueue(func() { ids <- goid() })
	if second := <-ids; second != first {
		t.Fatalf("the second burst ran on goroutine %s, want the kept %s", second, first)
	}
}

// Tasks that block do not hold up others (each gets a goroutine of its own
// when none is waiting), and once they are done at most maxKept stay.
func TestBlockedTasksDelayNoOne(t *testing.T) {
	const n = 3 * maxKept
	var started, done sync.WaitGroup
	started.Add(n)
	done.Add(n)
	release := make(chan struct{})
	for range n {
		Go(func() {
			defer done.Done()
			started.Done()
			<-release // every task blocks until all n have started
		})
	}
	started.Wait()
	close(release)
	done.Wait()
	waitKeptIdle(t, maxKept)
	// Those beyond the bound ended rather than wait.
	for range 100 {
		if got := KeptIdle(); got > maxKept {
			t.Fatalf("%d kept goroutines wait, at most %d should", got, maxKept)
		}
		runtime.Gosched()
	}
}
