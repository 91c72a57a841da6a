package socket

import (
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"weak"

	engine "github.com/zishang520/socket.io/servers/engine/v3"
)

// Once a device has connected, nothing keeps its connection's first HTTP
// request (the upgrade, with its parsed headers, its response and their
// contexts): the engine socket holds a snapshot of a few fields instead
// (third_party/zishang520-engine patch 6). Without the release, or with any
// other reference left to the request (upstream's "headers" listener held
// it too), the requests stay reachable as long as the connections live.
func TestConnectedDevicesKeepNoUpgradeRequest(t *testing.T) {
	s := newTestServer(t, Config{})
	var mu sync.Mutex
	var requests []weak.Pointer[http.Request]
	_ = s.io.Engine().On("connection", func(args ...any) {
		r := args[0].(engine.Socket).Request().Request()
		mu.Lock()
		requests = append(requests, weak.Make(r))
		mu.Unlock()
	})
	const n = 20
	for i := range n {
		_, answer := handshake(t, s.url, s.token(t, int64(i+1)))
		if !strings.HasPrefix(answer, "40{") {
			t.Fatalf("device %d: connect answered %q", i, answer)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(requests) != n {
		t.Fatalf("%d engine connections seen, want %d", len(requests), n)
	}
	alive := 0
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		runtime.GC()
		alive = 0
		for _, r := range requests {
			if r.Value() != nil {
				alive++
			}
		}
		if alive == 0 || time.Now().After(deadline) {
			break
		}
	}
	if alive > 0 {
		t.Fatalf("%d of %d connected devices' upgrade requests are still reachable", alive, n)
	}
	if got := s.io.Engine().ClientsCount(); got != n {
		t.Fatalf("%d clients connected, want %d", got, n)
	}
}
