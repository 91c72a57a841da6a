package models

import (
	"testing"
	"time"
)

// The writer waits for a fuller batch only after a slot of busyPerSlot
// changes or more, and never once it has been quiet for a slot.
func TestPaceWaitsOnlyWhenBusy(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	var p pace
	if p.busy(t0) {
		t.Fatal("a writer that has batched nothing is busy")
	}
	// fill adds n changes, one at a time, spread over the slot after
	// start (start itself excluded), and returns the next slot's start.
	fill := func(start time.Time, n int) time.Time {
		for i := 1; i <= n; i++ {
			p.add(start.Add(time.Duration(i)*paceSlot/time.Duration(n+1)), 1)
		}
		return start.Add(paceSlot)
	}
	threshold := busyPerSlot

	p.add(t0, 1)
	next := fill(t0, threshold-2) // threshold-1 in the slot from t0
	p.add(next, 1)                // the next slot's first change closes it
	if p.busy(next) {
		t.Errorf("%d changes in a slot count as busy", threshold-1)
	}
	next = fill(next, threshold-1) // threshold in this one
	p.add(next, 1)
	if !p.busy(next) {
		t.Errorf("%d changes in a slot do not count as busy", threshold)
	}
	if !p.busy(next.Add(paceSlot)) {
		t.Error("busy ended within the slot after a busy one")
	}
	if p.busy(next.Add(2 * paceSlot)) {
		t.Error("still busy after a whole slot with no change")
	}
	// A change after a quiet spell starts afresh: one lone change is no pace.
	quiet := next.Add(5 * paceSlot)
	p.add(quiet, 1)
	if p.busy(quiet) {
		t.Error("busy after a quiet spell")
	}
}
