package socket

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// A socket's emit limiter is made at its first emit: a socket that never
// emits keeps none. Emits within the burst are answered; past it the
// socket is disconnected.
func TestEmitLimiterFromTheFirstEmit(t *testing.T) {
	s := newTestServer(t, Config{EmitRate: 1, EmitBurst: 3})
	c := dialRaw(t, s.url, s.token(t, 1))
	// The CONNECT answer comes before the connection handler lists it.
	var sess *session
	pollUntil(t, 5*time.Second, "the session to be listed", func() bool {
		if all := s.sockets.appendAll(nil); len(all) == 1 {
			sess = all[0]
		}
		return sess != nil
	})
	if sess.emits.Load() != nil {
		t.Fatal("a socket that has not emitted has an emit limiter")
	}

	for id := 1; id <= 3; id++ {
		if err := emitLegacy(c, id); err != nil {
			t.Fatal(err)
		}
		if got, want := c.next(t), fmt.Sprintf("43%d[", id); !strings.HasPrefix(got, want) {
			t.Fatalf("emit %d within the burst: %q, want an ack %q…", id, got, want)
		}
	}
	if sess.emits.Load() == nil {
		t.Fatal("a socket that emitted has no emit limiter")
	}

	// Five more at once: at most one token came back meanwhile.
	acks, disconnected := floodPastBurst(t, c, 4, 8)
	if disconnected {
		return // the server's DISCONNECT
	}
	if acks == 5 {
		t.Fatalf("every emit past the burst was answered")
	}
	if !gone(sess.sock) {
		t.Fatal("the connection ended but the socket is still connected")
	}
}

// emitLegacy sends the legacy APPROVAL_ORDER, asking for ack id.
func emitLegacy(c *rawClient, id int) error {
	msg := fmt.Sprintf(`42%d["APPROVAL_ORDER",{"client_id":%d}]`, id, 100+id)
	return c.conn.WriteMessage(websocket.TextMessage, []byte(msg))
}

// floodPastBurst emits ids from to to at once, then reads until the
// server's DISCONNECT (41) or the connection's end: the acks that came,
// and whether the DISCONNECT did. The server may have closed the
// connection before the last emit is written (then the write fails with a
// broken pipe): what it answered, and that it closed, is what is read.
func floodPastBurst(t *testing.T, c *rawClient, from, to int) (acks int, disconnected bool) {
	t.Helper()
	for id := from; id <= to; id++ {
		if emitLegacy(c, id) != nil {
			break
		}
	}
	_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			return acks, false // closed
		}
		switch msg := string(data); {
		case msg == "41":
			return acks, true
		case strings.HasPrefix(msg, "43"):
			acks++
		case msg == "2":
			_ = c.conn.WriteMessage(websocket.TextMessage, []byte("3"))
		}
	}
}
