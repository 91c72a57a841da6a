package queue

import (
	"sync"
	"testing"
)

// orderbell: tests of the patched Queue (a zero Queue is ready to use; the
// done channel is made only by a Close that waits).

func TestZeroQueueRunsTasksInOrder(t *testing.T) {
	var q Queue
	var got []int
	finished := make(chan struct{})
	for i := 0; i < 100; i++ {
		q.Enqueue(func() { got = append(got, i) })
	}
	q.Enqueue(func() { close(finished) })
	<-finished
	for i, v := range got {
		if v != i {
			t.Fatalf("task %d ran as number %d", v, i)
		}
	}
	if len(got) != 100 {
		t.Fatalf("%d tasks ran, want 100", len(got))
	}
}

// Close waits for the tasks enqueued before it, however many wait; a task
// enqueued after it is dropped.
func TestCloseWaitsForQueuedTasks(t *testing.T) {
	q := New()
	release := make(chan struct{})
	ran := 0
	q.Enqueue(func() { <-release })
	q.Enqueue(func() { ran++ })

	var closers sync.WaitGroup
	closed := make(chan struct{}, 2)
	for i := 0; i < 2; i++ {
		closers.Add(1)
		go func() {
			defer closers.Done()
			q.Close()
			closed <- struct{}{}
		}()
	}
	for !q.IsShuttingDown() {
		// the closers have begun
	}
	select {
	case <-closed:
		t.Fatal("Close returned while a task was still running")
	default:
	}
	q.Enqueue(func() { t.Error("a task enqueued after Close ran") })
	close(release)
	closers.Wait()
	if ran != 1 {
		t.Fatalf("the queued task ran %d times before Close returned, want 1", ran)
	}
	q.Close() // a Close after the end returns at once
}

func TestCloseOfAnIdleQueueReturns(t *testing.T) {
	var q Queue
	q.Close()
	q.TryClose()
	q.Close()
	if !q.IsShuttingDown() {
		t.Fatal("not shutting down after Close")
	}
}

// Live memory per queue: a Queue by value in its owner is no object at all,
// and stays so after tasks ran and after TryClose.
func TestIdleQueueHoldsNothing(t *testing.T) {
	var q Queue
	done := make(chan struct{})
	q.Enqueue(func() { close(done) })
	<-done
	q.TryClose()
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.done != nil || q.tasks != nil {
		t.Fatalf("an idle, closed queue holds a channel (%v) or tasks (%d)", q.done != nil, len(q.tasks))
	}
}
