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

	emit := func(id int) error {
		msg := fmt.Sprintf(`42%d["APPROVAL_ORDER",{"client_id":%d}]`, id, 100+id)
		return c.conn.WriteMessage(websocket.TextMessage, []byte(msg))
	}
	for id := 1; id <= 3; id++ {
		if err := emit(id); err != nil {
			t.Fatal(err)
		}
		if got, want := c.next(t), fmt.Sprintf("43%d[", id); !strings.HasPrefix(got, want) {
			t.Fatalf("emit %d within the burst: %q, want an ack %q…", id, got, want)
		}
	}
	if sess.emits.Load() == nil {
		t.Fatal("a socket that emitted has no emit limiter")
	}

	// Five more at once: at most one token came back meanwhile. The server
	// may have closed the connection before the last of them is written
	// (then the write fails with a broken pipe): what it answered, and
	// that it closed, is read below.
	for id := 4; id <= 8; id++ {
		if emit(id) != nil {
			break
		}
	}
	acks := 0
	_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			break // closed: disconnected
		}
		switch msg := string(data); {
		case msg == "41":
			return // the server's DISCONNECT
		case strings.HasPrefix(msg, "43"):
			acks++
		case msg == "2":
			_ = c.conn.WriteMessage(websocket.TextMessage, []byte("3"))
		}
	}
	if acks == 5 {
		t.Fatalf("every emit past the burst was answered")
	}
	if !gone(sess.sock) {
		t.Fatal("the connection ended but the socket is still connected")
	}
}
