//go:build !race

package socket

import (
	"runtime"
	"testing"
)

// An idle device costs no goroutine: the patched Engine.IO reader ends its
// goroutine while the connection's read buffer is empty, with the socket
// armed in an epoll set, and a new one starts when the socket is readable
// (third_party/zishang520-engine, patch 5). Upstream each idle connection
// kept a reader goroutine parked in gorilla's read with an 8 KB stack
// (4 KB with patch 3 alone). Not under -race, whose larger stack guard
// changes the stacks' sizes: `make test-go` runs it in a second, plain
// `go test`.
func TestIdleReaderStacks(t *testing.T) {
	s := newTestServer(t, Config{})
	const n = 300
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	goroutines := liveGoroutines()
	for i := range n {
		dialRaw(t, s.url, s.token(t, int64(i+1)))
	}
	if got := s.io.Engine().ClientsCount(); got != n {
		t.Fatalf("%d clients connected, want %d", got, n)
	}
	var after runtime.MemStats
	for range 3 { // a collection halves a stack at most once
		runtime.GC()
	}
	runtime.ReadMemStats(&after)
	// Signed: run after other tests, whose goroutines' stacks are freed
	// meanwhile, the difference can be below zero.
	perConn := float64(int64(after.StackInuse)-int64(before.StackInuse)) / n
	added := liveGoroutines() - goroutines
	t.Logf("goroutine stacks: %.0f bytes per idle connection; %d goroutines more for %d connections", perConn, added, n)
	if perConn > 1<<10 || added > n/10 {
		t.Errorf("%d idle connections hold %d goroutines more and %.1f KB of stack each, want no goroutine each (upstream: one, with 8 KB)", n, added, perConn/1024)
	}
}
