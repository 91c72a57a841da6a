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
	leftovers := func() (int, int, int, int) {
		s.sockets.mu.Lock()
		defer s.sockets.mu.Unlock()
		return nsp.Sockets().Len(), nsp.Adapter().Rooms().Len(), nsp.Adapter().Sids().Len(), len(s.sockets.rooms)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		sockets, rooms, sids, accounts := leftovers()
		if sockets+rooms+sids+accounts == 0 && s.io.Engine().ClientsCount() == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 4000 sessions: %d sockets, %d rooms, %d sids, %d accounts, %d engine clients remain",
				sockets, rooms, sids, accounts, s.io.Engine().ClientsCount())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
