package models

import (
	"slices"
	"testing"
	"time"
)

// nopCheckpoints stands in for a checkpointer's connection or process.
type nopCheckpoints struct{}

func (nopCheckpoints) round() error { return nil }
func (nopCheckpoints) rest() error  { return nil }
func (nopCheckpoints) close()       {}

// Rounds the clock starts (a steady, moderate stream) are followed by the
// writer's rest one in restRounds; rounds the writer's commits start (a
// heavy stream, whose log grows fastest) each by one.
func TestRestAfterEveryFourthRoundOfTheClock(t *testing.T) {
	c := &checkpointer{run: nopCheckpoints{}, wake: make(chan bool, 1)}
	// woken is the round committed started, if any: whether by commits.
	woken := func() (byBatches, ok bool) {
		select {
		case byBatches = <-c.wake:
			return byBatches, true
		default:
			return false, false
		}
	}

	// A round the clock starts: the last began checkpointEvery ago.
	c.lastRound = time.Now().Add(-checkpointEvery)
	c.committed()
	if byBatches, ok := woken(); !ok || byBatches {
		t.Fatalf("after checkpointEvery: woken %v, by commits %v; want a round started by the clock", ok, byBatches)
	}
	var rests, want []bool
	for i := range 2 * restRounds {
		rests = append(rests, c.restAfterRound(false))
		want = append(want, (i+1)%restRounds == 0)
	}
	if !slices.Equal(rests, want) {
		t.Errorf("rests after rounds of the clock: %v; want %v", rests, want)
	}

	// A round the commits start (the clock's is an hour away).
	c.lastRound = time.Now().Add(time.Hour)
	for range checkpointBatches {
		c.committed()
	}
	if byBatches, ok := woken(); !ok || !byBatches {
		t.Fatalf("after checkpointBatches commits: woken %v, by commits %v; want a round started by them", ok, byBatches)
	}
	for i := range restRounds {
		if !c.restAfterRound(true) {
			t.Errorf("round %d started by commits: no rest after it", i)
		}
	}
}
