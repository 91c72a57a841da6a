//go:build !race

package socket

import (
	"runtime"
	"testing"
)

// An idle device costs its reader goroutine's stack: it grew to 8 KB while
// the connection was set up, and the runtime halves a parked goroutine's
// stack at a collection only while it uses under a quarter of it. The
// patched Engine.IO reader parks from a shallow frame, so after a few
// collections each idle connection holds a 4 KB stack (8 KB upstream, where
// it parks deep inside gorilla and bufio). Not under -race, whose larger
// stack guard keeps every stack from shrinking: `make test-go` runs it in
// a second, plain `go test`.
func TestIdleReaderStacks(t *testing.T) {
	s := newTestServer(t, Config{})
	const n = 300
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
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
	perConn := float64(after.StackInuse-before.StackInuse) / n
	t.Logf("goroutine stacks: %.0f bytes per idle connection", perConn)
	if perConn > 6<<10 {
		t.Errorf("goroutine stacks hold %.1f KB per idle connection, want about 4 KB (at most 6)", perConn/1024)
	}
}
