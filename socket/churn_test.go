package socket

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Connections that close while their socket is still being connected
// leave nothing behind: no socket in the namespace, no room, no entry in
// the per-account list. (The library alone kept about 0.15% of them.)
func TestNoSocketOutlivesItsConnection(t *testing.T) {
	s := newTestServer(t, Config{})
	url, token := s.url, s.token(t, 1)

	gone := make(chan struct{})
	close(gone) // each session connects (with a replay) and leaves at once
	var received atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 500 {
				_ = soakSession(url, token, 0, gone, &received)
			}
		}()
	}
	wg.Wait()
	nsp := s.io.Sockets()
	// listed counts the sockets orderbell lists under their accounts.
	leftovers := func() (sockets, rooms, sids, listed int) {
		listed = len(s.sockets.appendAll(nil))
		return nsp.Sockets().Len(), nsp.Adapter().Rooms().Len(), nsp.Adapter().Sids().Len(), listed
	}
	// Every session is the same account's, so their connects (each with a
	// replay query) take turns at its gate: on a loaded machine the last of
	// them run well after their connections closed. What is left must keep
	// going down; a leak stays put.
	const stall = 10 * time.Second
	least, deadline := -1, time.Now().Add(stall)
	for {
		sockets, rooms, sids, listed := leftovers()
		left := sockets + rooms + sids + listed + int(s.io.Engine().ClientsCount())
		if left == 0 {
			return
		}
		if least < 0 || left < least {
			least, deadline = left, time.Now().Add(stall)
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 4000 sessions, for %v: %d sockets, %d rooms, %d sids, %d listed sockets, %d engine clients remain",
				stall,
				sockets, rooms, sids, listed, s.io.Engine().ClientsCount())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
