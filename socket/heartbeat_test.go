package socket

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// The heartbeat runs on the library's timers, which orderbell patches
// (third_party/zishang520-socketio: no goroutine per waiting timer). A device
// that answers every ping stays connected; one that stops answering is
// closed after pingInterval + pingTimeout.
func TestHeartbeat(t *testing.T) {
	// A short interval for many pings; a timeout long enough that a busy
	// CI machine (race detector, packages tested in parallel) answers in
	// time.
	const interval, timeout = 100 * time.Millisecond, time.Second
	s := newTestServer(t, Config{PingInterval: interval, PingTimeout: timeout})
	token := s.token(t, 1)
	live := dialRaw(t, s.url, token)
	silent := dialRaw(t, s.url, token)

	pongs := make(chan int, 100)
	liveErr := make(chan error, 1)
	go func() {
		for n := 1; ; n++ {
			_ = live.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, data, err := live.conn.ReadMessage()
			if err == nil && string(data) != "2" {
				err = errors.New("live device got " + string(data) + ", want a ping")
			}
			if err == nil {
				err = live.conn.WriteMessage(websocket.TextMessage, []byte("3"))
			}
			if err != nil {
				liveErr <- err
				return
			}
			pongs <- n
		}
	}()

	if ping := silent.read(t); ping != "2" {
		t.Fatalf("silent device got %q, want a ping", ping)
	}
	pinged := time.Now()
	_ = silent.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, data, err := silent.conn.ReadMessage()
	var netErr net.Error
	switch {
	case err == nil:
		t.Fatalf("silent device got %q, want the connection closed", data)
	case errors.As(err, &netErr) && netErr.Timeout():
		t.Fatal("the device that stopped answering pings was not closed")
	}
	if waited := time.Since(pinged); waited < timeout/2 {
		t.Errorf("closed %v after the unanswered ping, before the ping timeout (%v)", waited, timeout)
	}

	// Meanwhile, and after, the live device keeps answering and stays.
	for n := 0; n < 6; {
		select {
		case n = <-pongs:
		case err := <-liveErr:
			t.Fatalf("the device answering pings lost its connection after %d pongs: %v", n, err)
		}
	}
}
