package socket

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/orderbell/orderbell/auth"
	"github.com/orderbell/orderbell/models"
)

// The lean layer (lean.go): a socket with a valid token
// joins its account's room and gets what is sent there, and only that;
// a forged token is refused as the library refuses it.
func TestLeanDeliversToTheAccountOnly(t *testing.T) {
	ts := newTestServer(t, Config{Lean: true})

	dial := func(token string) (*websocket.Conn, string) {
		t.Helper()
		c, _, err := websocket.DefaultDialer.Dial(ts.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, open, err := c.ReadMessage(); err != nil || !strings.HasPrefix(string(open), `0{"sid":"`) {
			t.Fatalf("open packet: %q, %v", open, err)
		}
		if err := c.WriteMessage(websocket.TextMessage, []byte(`40{"token":"`+token+`"}`)); err != nil {
			t.Fatal(err)
		}
		_, answer, err := c.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		return c, string(answer)
	}

	one, answer := dial(ts.token(t, 1))
	if !strings.HasPrefix(answer, `40{"sid":"`) {
		t.Fatalf("CONNECT answer: %q", answer)
	}
	two, answer := dial(ts.token(t, 2))
	if !strings.HasPrefix(answer, `40{"sid":"`) {
		t.Fatalf("CONNECT answer: %q", answer)
	}
	if _, answer := dial(ts.token(t, 1) + "x"); answer != `44{"message":"unauthorized"}` {
		t.Fatalf("forged token: %q", answer)
	}

	ts.OrderUpdated(models.Order{ID: 7, OwnerID: 1, Status: models.StatusAccepted}, "")
	ts.OrderUpdated(models.Order{ID: 8, OwnerID: 2, Status: models.StatusAccepted}, "")
	ts.OrderUpdated(models.Order{ID: 9, OwnerID: 1, Status: models.StatusAccepted}, "")
	for _, want := range []struct {
		c  *websocket.Conn
		id string
	}{{one, `"order_id":7`}, {two, `"order_id":8`}, {one, `"order_id":9`}} {
		got, err := nextEvent(want.c)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(got), `42["ORDER_UPDATED",`) || !strings.Contains(string(got), want.id) {
			t.Fatalf("got %q, want ORDER_UPDATED with %s", got, want.id)
		}
	}
}

// A lean socket whose client stops reading holds up no one: deliveries to
// another account in the same delivery queue go on, and once it is a
// megabyte behind the connection is dropped.
func TestLeanSlowReaderHoldsUpNoOne(t *testing.T) {
	ts := newTestServer(t, Config{Lean: true})

	slowID := int64(1)
	fastID := slowID + 1
	for ; shardOf(fastID) != shardOf(slowID); fastID++ {
	}
	connect := func(id int64) *websocket.Conn {
		c, _, err := websocket.DefaultDialer.Dial(ts.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, _, _ = c.ReadMessage()
		_ = c.WriteMessage(websocket.TextMessage, []byte(`40{"token":"`+ts.token(t, id)+`"}`))
		if _, answer, err := c.ReadMessage(); err != nil || !strings.HasPrefix(string(answer), "40") {
			t.Fatalf("CONNECT answer: %q, %v", answer, err)
		}
		return c
	}
	connect(slowID) // and never read again
	fast := connect(fastID)
	conns := func() int { n, _ := leanHeld(ts.Server); return n }

	sent := 0
	for ; conns() == 2; sent++ {
		if sent == 200_000 {
			t.Fatal("the slow socket was not dropped after 200,000 deliveries")
		}
		ts.OrderUpdated(models.Order{ID: int64(sent), OwnerID: slowID, Status: models.StatusAccepted}, "")
		if sent%1000 == 999 {
			// Let the queue drain now and then, so it is the socket that is behind.
			pollUntil(t, 10*time.Second, "the delivery queue to drain", func() bool { return queueEmpty(ts.Server, slowID) })
		}
	}
	ts.OrderUpdated(models.Order{ID: 1, OwnerID: fastID, Status: models.StatusAccepted}, "")
	got, err := nextEvent(fast)
	if err != nil || !strings.Contains(string(got), `"order_id":1,`) {
		t.Fatalf("the other account's delivery: %q, %v", got, err)
	}
	t.Logf("dropped after %d deliveries", sent)
}

func shardOf(ownerID int64) uint64 {
	return models.Principal{Role: models.RoleOwner, ID: ownerID}.Shard() % 16
}

func queueEmpty(s *Server, ownerID int64) bool {
	q := &s.deliveries[shardOf(ownerID)]
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.pending) == 0
}

// nextEvent reads c's next message but pings.
func nextEvent(c *websocket.Conn) ([]byte, error) {
	for {
		_, m, err := c.ReadMessage()
		if err != nil || string(m) != "2" {
			return m, err
		}
	}
}

// The lean layer's emits: the legacy events are answered on their ack
// within the burst; past it the socket is disconnected (41).
func TestLeanEmitLimit(t *testing.T) {
	ts := newTestServer(t, Config{EmitRate: 1, EmitBurst: 3, Lean: true})
	c := dialRaw(t, ts.url, ts.token(t, 1))
	for id := 1; id <= 3; id++ {
		if err := emitLegacy(c, id); err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf(`43%d[{"ok":false,"message":"you have no order with that client"}]`, id)
		if got := c.next(t); got != want {
			t.Fatalf("emit %d within the burst: %q, want %q", id, got, want)
		}
	}
	acks, disconnected := floodPastBurst(t, c, 4, 8)
	if !disconnected {
		t.Fatal("the connection ended before the DISCONNECT")
	}
	if acks == 5 {
		t.Fatal("every emit past the burst was answered")
	}
}

// Lean connections that close at once, while their connect (with a
// replay) is still on its way, leave nothing behind: no connection in the
// ring, no socket listed or in a room, the connected gauge back to 0, and
// every end counted once.
func TestLeanNoSocketOutlivesItsConnection(t *testing.T) {
	s := newTestServer(t, Config{Lean: true})
	url, token := s.url, s.token(t, 1)
	gone := make(chan struct{})
	close(gone)
	var received atomic.Int64
	var wg sync.WaitGroup
	const workers, each = 8, 250
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				_ = soakSession(url, token, 0, gone, &received)
			}
		}()
	}
	wg.Wait()
	pollUntil(t, 20*time.Second, "every connection and socket to be gone", func() bool {
		conns, rooms := leanHeld(s.Server)
		return conns == 0 && rooms == 0 && testutil.ToFloat64(s.metrics.connected.WithLabelValues("owner")) == 0
	})
	pollUntil(t, 5*time.Second, "every end to be counted", func() bool {
		_, ended := disconnectCounts(t, s)
		return ended == workers*each
	})
}

// With Redis, a lean socket gets what another node emits to its account,
// once, and what its own node emits, once (its own messages coming back
// from Redis are skipped). Needs the Redis on 127.0.0.1:6379.
func TestLeanTakesOtherNodesEmits(t *testing.T) {
	key := fmt.Sprintf("orderbell-test-%d", time.Now().UnixNano())
	node := func() *testServer {
		r, err := OpenRedis(context.Background(), "redis://127.0.0.1:6379/0", key, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Skipf("no Redis on 127.0.0.1:6379: %v", err)
		}
		ts := newTestServer(t, Config{Lean: true, Redis: r})
		t.Cleanup(func() { ts.stop(); _ = r.Close() })
		if ts.lean == nil {
			t.Fatal("the lean layer is off with Redis")
		}
		return ts
	}
	a, b := node(), node()
	onA, onB := dialRaw(t, a.url, a.token(t, 1)), dialRaw(t, b.url, b.token(t, 1))
	other := dialRaw(t, b.url, b.token(t, 2))

	a.OrderUpdated(models.Order{ID: 7, OwnerID: 1, Status: models.StatusAccepted}, "")
	b.OrderUpdated(models.Order{ID: 8, OwnerID: 1, Status: models.StatusAccepted}, "")
	a.OrderUpdated(models.Order{ID: 9, OwnerID: 2, Status: models.StatusAccepted}, "")
	// Each device gets 7 and 8, in some order (they come from two nodes),
	// and nothing twice: the next thing after them is 10, sent last.
	for _, c := range []*rawClient{onA, onB} {
		got := map[string]bool{}
		for range 2 {
			msg := c.next(t)
			if !strings.HasPrefix(msg, `42["ORDER_UPDATED",`) {
				t.Fatalf("got %q, want ORDER_UPDATED", msg)
			}
			got[orderIDOf(t, msg)] = true
		}
		if !got["7"] || !got["8"] {
			t.Fatalf("a device of account 1 got orders %v, want 7 and 8", got)
		}
	}
	if msg := other.next(t); orderIDOf(t, msg) != "9" {
		t.Fatalf("the device of account 2 got %q, want order 9", msg)
	}
	a.OrderUpdated(models.Order{ID: 10, OwnerID: 1, Status: models.StatusAccepted}, "")
	for _, c := range []*rawClient{onA, onB} {
		if msg := c.next(t); orderIDOf(t, msg) != "10" {
			t.Fatalf("after 7 and 8 came %q, want order 10 and nothing twice", msg)
		}
	}
}

// orderIDOf is the order_id of an ORDER_UPDATED packet.
func orderIDOf(t *testing.T, msg string) string {
	t.Helper()
	var frame []json.RawMessage
	var u struct {
		OrderID json.Number `json:"order_id"`
	}
	if !strings.HasPrefix(msg, "42") || json.Unmarshal([]byte(msg[2:]), &frame) != nil || len(frame) != 2 || json.Unmarshal(frame[1], &u) != nil {
		t.Fatalf("want ORDER_UPDATED, got %q", msg)
	}
	return u.OrderID.String()
}

// leanHeld is what the lean layer holds: its connections (in the ping
// ring) and the accounts it lists sockets under; none without the layer.
func leanHeld(s *Server) (conns, accounts int) {
	if s.lean == nil {
		return 0, 0
	}
	s.lean.mu.Lock()
	defer s.lean.mu.Unlock()
	for _, b := range s.lean.buckets {
		conns += len(b)
	}
	return conns, len(s.lean.rooms)
}

// The accessToken cookie logs a lean socket in when auth carries no token
// (SPEC §4: browsers); with neither, or a forged cookie, the CONNECT is
// refused as "unauthorized", and the connection, closed by the connect
// timeout, leaves nothing behind.
func TestLeanCookieHandshake(t *testing.T) {
	s := newTestServer(t, Config{Lean: true, ConnectTimeout: 300 * time.Millisecond})
	cookie := func(token string) http.Header {
		return http.Header{"Cookie": {auth.CookieName + "=" + token}}
	}
	if _, answer := handshakeHeader(t, s.url, cookie(s.token(t, 1)), map[string]any{}); !strings.HasPrefix(answer, `40{"sid":"`) {
		t.Fatalf("CONNECT with the cookie: %q", answer)
	}
	for name, header := range map[string]http.Header{"no token": nil, "forged cookie": cookie(s.token(t, 1) + "x")} {
		c, answer := handshakeHeader(t, s.url, header, map[string]any{})
		if answer != `44{"message":"unauthorized"}` {
			t.Fatalf("%s: %q, want the refusal", name, answer)
		}
		_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			_, data, err := c.conn.ReadMessage()
			if err != nil {
				if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
					t.Fatalf("%s: the refused connection was still open after 10 s", name)
				}
				break
			}
			if string(data) != "2" {
				t.Fatalf("%s: the refused connection got %q", name, data)
			}
		}
	}
	pollUntil(t, 5*time.Second, "the refused connections to be let go", func() bool {
		conns, accounts := leanHeld(s.Server)
		return conns == 1 && accounts == 1 // the one logged in
	})
}
