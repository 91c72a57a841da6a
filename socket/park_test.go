package socket

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	engine "github.com/zishang520/socket.io/servers/engine/v3"
	socketio "github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/orderbell/orderbell/models"
)

// waitIdleReaders waits until the server holds no more goroutines than
// base, and the readers' epoll watcher: every connection's reader has
// ended, its socket armed for the next message
// (third_party/zishang520-engine, patch 5). The goroutines kept waiting
// for work are not counted: liveGoroutines.
func waitIdleReaders(t *testing.T, base int) {
	t.Helper()
	pollUntil(t, 5*time.Second, fmt.Sprintf("at most %d goroutines once the connections are idle", base+1),
		func() bool { return liveGoroutines() <= base+1 })
}

// Idle connections have no reader goroutine. What wakes one must still be
// seen as before: a message (answered), the client going away, and the
// server closing the connection (in both cases the engine lets the session
// go). The parking itself is tested in the patched engine's
// transports/park_linux_test.go.
func TestIdleConnectionsWakeOnEverything(t *testing.T) {
	s := newTestServer(t, Config{})
	closed := make(chan string, 3)
	_ = s.io.Engine().On("connection", func(args ...any) {
		sock := args[0].(engine.Socket)
		_ = sock.On("close", func(...any) { closed <- sock.Id() })
	})
	base := liveGoroutines()
	talker := dialRaw(t, s.url, s.token(t, 1))
	leaver := dialRaw(t, s.url, s.token(t, 2))
	dropped := dialRaw(t, s.url, s.token(t, 3))
	waitIdleReaders(t, base)

	// A message to an idle connection is read and answered, twice.
	for _, id := range []string{"1", "2"} {
		if err := talker.conn.WriteMessage(websocket.TextMessage, []byte(`42`+id+`["APPROVAL_ORDER",{"client_id":101}]`)); err != nil {
			t.Fatal(err)
		}
		if got := talker.next(t); !strings.HasPrefix(got, "43"+id+"[") {
			t.Fatalf("emit %s to an idle connection answered %q, want its ack", id, got)
		}
		waitIdleReaders(t, base)
	}

	// The client goes away: the engine lets its session go.
	_ = leaver.conn.Close()
	waitClosed(t, closed, "the client closed its connection")

	// The server closes an idle connection: the client sees it end, and the
	// engine lets the session go.
	room := socketio.Room(models.Principal{Role: models.RoleOwner, ID: 3}.Room())
	s.io.In(room).DisconnectSockets(true)
	_ = dropped.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, data, err := dropped.conn.ReadMessage()
		if err != nil {
			if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
				t.Fatal("the connection the server closed was still open after 10 s")
			}
			break
		}
		if msg := string(data); msg != "2" && !strings.HasPrefix(msg, "41") {
			t.Fatalf("the disconnected device got %q", msg)
		}
	}
	waitClosed(t, closed, "the server closed the connection")
	if n := s.io.Engine().ClientsCount(); n != 1 {
		t.Fatalf("the engine holds %d clients, want the talker's alone", n)
	}
}

func waitClosed(t *testing.T, closed <-chan string, what string) {
	t.Helper()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: the engine did not close the session within 10 s", what)
	}
}
