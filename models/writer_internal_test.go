package models

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
)

// doneCounter counts its callers' requests for its Done channel (a
// request's context makes one at the first).
type doneCounter struct {
	context.Context
	calls atomic.Int32
}

func (c *doneCounter) Done() <-chan struct{} {
	c.calls.Add(1)
	return c.Context.Done()
}

// A change for a lane with room is queued without asking its context for
// a Done channel; its outcome is the writer's.
func TestChangeQueuedWithoutAskingForDone(t *testing.T) {
	w := &writer{lanes: []chan *change{make(chan *change, 1)}}
	refused := notFound("no such order")
	go func() { c := <-w.lanes[0]; c.done <- refused }()
	ctx := &doneCounter{Context: context.Background()}
	if err := w.do(ctx, 0, nil, nil, nil); !errors.Is(err, refused) {
		t.Fatalf("do: %v, want the writer's %v", err, refused)
	}
	if n := ctx.calls.Load(); n != 0 {
		t.Errorf("Done asked for %d times, want 0", n)
	}
}

// A change for a full lane waits for room only while its caller waits.
func TestChangeForAFullLaneEndsWithItsContext(t *testing.T) {
	w := &writer{lanes: []chan *change{make(chan *change, 1)}}
	w.lanes[0] <- &change{} // full, and no writer takes from it
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- w.do(ctx, 0, nil, nil, nil) }()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("do on a full lane, its caller gone: %v, want context.Canceled", err)
	}
	if len(w.lanes[0]) != 1 {
		t.Fatalf("%d changes queued, want only the one there before", len(w.lanes[0]))
	}
}
