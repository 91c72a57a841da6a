package socket

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zishang520/socket.io/v3/pkg/queue"

	"github.com/orderbell/orderbell/auth"
	"github.com/orderbell/orderbell/models"
)

// testServer is a Server on a fresh SQLite file, served over HTTP.
type testServer struct {
	*Server
	tokens *auth.Tokens
	url    string // the Engine.IO WebSocket endpoint
	stop   func() // closes the sockets, the listener and the database; idempotent
}

func newTestServer(t testing.TB, cfg Config) *testServer {
	t.Helper()
	// The Makefile runs the suite again with the lean layer on.
	cfg.Lean = cfg.Lean || os.Getenv("ORDERBELL_TEST_LEAN") == "1"
	db, err := models.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	tokens := auth.NewTokens([]byte("k"), time.Hour)
	s := NewServer(cfg, tokens, db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv := httptest.NewServer(s.Handler())
	var once sync.Once
	ts := &testServer{
		Server: s, tokens: tokens,
		url: "ws" + strings.TrimPrefix(srv.URL, "http") + "/socket.io/?EIO=4&transport=websocket",
		stop: func() {
			once.Do(func() {
				srv.Close()
				s.Close()
				_ = db.Close()
			})
		},
	}
	t.Cleanup(ts.stop)
	return ts
}

// token is a login of owner id.
func (ts *testServer) token(t testing.TB, ownerID int64) string {
	t.Helper()
	token, _, err := ts.tokens.Issue(models.Principal{Role: models.RoleOwner, ID: ownerID}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// liveGoroutines is the process's goroutines but those kept waiting for
// work (at most 32, which no connection holds: queue.Go, patch 9 of
// third_party/zishang520-socketio).
func liveGoroutines() int { return runtime.NumGoroutine() - queue.KeptIdle() }

// pollUntil waits, up to within, for done to hold, checking every few
// milliseconds, for server state that no event announces (a counter, a
// list emptying); past within it fails the test with what it waited for.
func pollUntil(t testing.TB, within time.Duration, what string, done func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); !done(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", within, what)
		}
	}
}
