package router_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/orderbell/orderbell/models"
	"github.com/orderbell/orderbell/router"
)

// lockedBuffer is a log destination the server's goroutines share.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// records are the JSON log lines written so far.
func (b *lockedBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		out = append(out, rec)
	}
	return out
}

// What a request logs carries the id the answer's X-Request-ID gave the
// caller: the debug line of every request, and the error of a request
// that failed inside (here: its database is closed).
func TestLogsCarryTheRequestID(t *testing.T) {
	db, err := models.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	h := newLoggingHarness(t, db, router.Config{}, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	_, token := h.account(models.RoleOwner, "owner@example.com")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	r := h.do(req{method: "GET", path: "/orders", token: token})
	id := r.header.Get("X-Request-ID")
	if r.status != 500 || id == "" {
		t.Fatalf("with the database closed: status %d, X-Request-ID %q; want 500 and an id", r.status, id)
	}
	var failed, debugged bool
	for _, rec := range logs.records(t) {
		if rec["request_id"] != id {
			continue
		}
		switch rec["msg"] {
		case "request failed":
			failed = rec["level"] == "ERROR" && rec["path"] == "/orders"
		case "request":
			debugged = rec["level"] == "DEBUG" && rec["route"] == "/orders" && rec["status"] == float64(500)
		}
	}
	if !failed || !debugged {
		t.Errorf("request %s: logged its failure %v, its debug line %v; want both, with its id. Logs:\n%s", id, failed, debugged, logs.buf.String())
	}
}
