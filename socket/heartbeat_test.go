package socket

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus/testutil"
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

// Devices that connect together are not pinged together (patched library,
// third_party/zishang520-engine: a random first ping). Each device's first
// ping comes at a random point of the ping interval, never later; after
// its pong, the next comes a whole interval later, as upstream. Upstream,
// every first ping came one interval after its connect: these devices,
// connected within milliseconds, would all be pinged within milliseconds,
// every interval.
func TestFirstPingsSpread(t *testing.T) {
	const interval = time.Second
	s := newTestServer(t, Config{PingInterval: interval, PingTimeout: 5 * time.Second})
	const n = 40
	type first struct {
		after time.Duration // from the connect to the first ping
		next  time.Duration // from its pong to the second ping
		err   error
	}
	results := make(chan first, n)
	for i := range n {
		c := dialRaw(t, s.url, s.token(t, int64(i+1)))
		connected := time.Now()
		go func() {
			var f first
			defer func() { results <- f }()
			read := func() bool {
				_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
				_, data, err := c.conn.ReadMessage()
				if err == nil && string(data) != "2" {
					err = errors.New("got " + string(data) + ", want a ping")
				}
				f.err = err
				return err == nil
			}
			if !read() {
				return
			}
			f.after = time.Since(connected)
			if f.err = c.conn.WriteMessage(websocket.TextMessage, []byte("3")); f.err != nil {
				return
			}
			ponged := time.Now()
			if read() {
				f.next = time.Since(ponged)
			}
		}()
	}
	var earliest, latest time.Duration = interval * 10, 0
	for range n {
		f := <-results
		if f.err != nil {
			t.Fatal(f.err)
		}
		if f.after > interval+interval/4 {
			t.Errorf("first ping %v after the connect, later than the interval (%v)", f.after, interval)
		}
		if f.next < interval*9/10 {
			t.Errorf("second ping %v after the pong, want a whole interval (%v)", f.next, interval)
		}
		earliest, latest = min(earliest, f.after), max(latest, f.after)
	}
	// 40 uniform draws over the interval span under half of it with
	// probability about 40 × 2^-39.
	if spread := latest - earliest; spread < interval/2 {
		t.Errorf("first pings of %d devices connected together fell within %v of each other (%v–%v), want them spread over the %v interval",
			n, spread, earliest, latest, interval)
	}
}

// Every socket's end is counted by its reason
// (orderbell_socket_disconnects_total): a device that leaves, one whose
// connection ends, one that stops answering pings. The counter is what
// told a "ping timeout" of a device that had answered (engine copy, patch
// 8) from a slow reader or a client that went away.
func TestDisconnectsAreCountedByReason(t *testing.T) {
	// The devices that leave do so well within a ping timeout, even on a
	// busy machine; the silent one is closed a little over a second in.
	const interval, timeout = 300 * time.Millisecond, time.Second
	s := newTestServer(t, Config{PingInterval: interval, PingTimeout: timeout})
	token := s.token(t, 1)
	count := func(reason string) float64 {
		return testutil.ToFloat64(s.metrics.disconnects.WithLabelValues(reason))
	}
	// The server counts when its socket's disconnect runs, just after the
	// client sees its end: there is no event to wait on, so it is polled.
	connected := func() float64 { return testutil.ToFloat64(s.metrics.connected.WithLabelValues("owner")) }
	// Each device ends once the one before it is counted and gone, and
	// only once the server counts it connected, and so listens for its
	// end: one that ended before that (a close that beat the server's
	// connection handler on a loaded machine) is counted as
	// closed_while_connecting.
	waitFor := func(reason string) {
		t.Helper()
		pollUntil(t, 10*time.Second, "a disconnect counted as "+reason, func() bool { return count(reason) == 1 && connected() == 0 })
	}
	dialCounted := func() *rawClient {
		t.Helper()
		c := dialRaw(t, s.url, token)
		pollUntil(t, 10*time.Second, "the socket counted as connected", func() bool { return connected() == 1 })
		return c
	}

	leaving := dialCounted()
	if err := leaving.conn.WriteMessage(websocket.TextMessage, []byte("41")); err != nil {
		t.Fatal(err)
	}
	waitFor("client_namespace_disconnect")

	gone := dialCounted()
	_ = gone.conn.Close()
	waitFor("transport_close")

	silent := dialCounted()
	_ = silent.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		if _, _, err := silent.conn.ReadMessage(); err != nil {
			break // pinged, never answered, closed
		}
	}
	waitFor("ping_timeout")
	for _, r := range []string{"client_namespace_disconnect", "transport_close"} {
		if got := count(r); got != 1 {
			t.Errorf("disconnects %q: %v, want 1", r, got)
		}
	}
}
