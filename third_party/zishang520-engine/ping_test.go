package engine

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	ws "github.com/gorilla/websocket"

	"github.com/zishang520/socket.io/servers/engine/v3/config"
)

// orderbell: a client that answers every ping must never be closed for
// "ping timeout", however fast its pong comes back. Upstream armed the
// timeout after sending the ping; a pong handled in between left the new
// timer armed, and it closed the connection pingTimeout later. The hook
// makes that interleaving certain: the ping's sender goes on only once
// the pong has been handled.
func TestPongBeforeTheTimeoutIsArmedKeepsTheConnection(t *testing.T) {
	opts := config.DefaultServerOptions()
	// The timeout shorter than the interval, as 20 s is to 25 s by default,
	// and long enough that a busy machine's pong comes back in time.
	opts.SetPingInterval(time.Second)
	opts.SetPingTimeout(400 * time.Millisecond)
	srv := NewServer(opts)
	t.Cleanup(func() { srv.Close() })

	heartbeats := make(chan struct{}, 64)
	closed := make(chan string, 1)
	srv.On("connection", func(args ...any) {
		sock := args[0].(Socket)
		_ = sock.On("heartbeat", func(...any) { heartbeats <- struct{}{} })
		_ = sock.On("close", func(reason ...any) {
			r, _ := reason[0].(string)
			closed <- r
		})
	})
	handled := make(chan struct{}, 64)
	hook := func() {
		// Wait for this ping's pong to have been handled (or give up,
		// and let the test see what happens).
		select {
		case <-handled:
		case <-time.After(2 * time.Second):
		}
	}
	testHookPingSent.Store(&hook)
	t.Cleanup(func() { testHookPingSent.Store(nil) })

	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c, _, err := ws.DefaultDialer.Dial("ws"+strings.TrimPrefix(hs.URL, "http")+"/engine.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	go func() {
		for {
			_, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			if string(msg) == "2" {
				if err := c.WriteMessage(ws.TextMessage, []byte("3")); err != nil {
					return
				}
			}
		}
	}()

	// Three pings answered; each pong is handled before its ping's sender
	// arms anything after the send. A timeout armed after the send would
	// close the connection 400 ms after the first ping, before the second.
	for i := 0; i < 3; i++ {
		select {
		case <-heartbeats:
			handled <- struct{}{}
		case r := <-closed:
			t.Fatalf("closed after %d pongs: %q", i, r)
		case <-time.After(5 * time.Second):
			t.Fatalf("no pong handled after %d", i)
		}
	}
	select {
	case r := <-closed:
		t.Fatalf("closed after 3 pongs: %q", r)
	default:
	}
}
