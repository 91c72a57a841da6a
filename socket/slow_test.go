package socket

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/orderbell/orderbell/models"
)

// rawClient is a Socket.IO v4 client over a bare WebSocket.
type rawClient struct{ conn *websocket.Conn }

// dialRaw is a device connected with token.
func dialRaw(t testing.TB, url, token string) *rawClient {
	t.Helper()
	c, ack := handshake(t, url, token)
	if !strings.HasPrefix(ack, `40{"sid"`) {
		t.Fatalf("connect answer %q", ack)
	}
	return c
}

// handshake opens a WebSocket, reads Engine.IO's open packet, asks to join
// the main namespace with token and returns the server's answer.
func handshake(t testing.TB, url, token string) (*rawClient, string) {
	t.Helper()
	return handshakeAuth(t, url, map[string]any{"token": token})
}

// handshakeAuth is handshake with the whole auth payload.
func handshakeAuth(t testing.TB, url string, authPayload map[string]any) (*rawClient, string) {
	t.Helper()
	return handshakeHeader(t, url, nil, authPayload)
}

// handshakeHeader is handshakeAuth with the upgrade request's headers.
func handshakeHeader(t testing.TB, url string, header http.Header, authPayload map[string]any) (*rawClient, string) {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial(url, header)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	c := &rawClient{conn}
	if open := c.read(t); !strings.HasPrefix(open, "0{") {
		t.Fatalf("open packet %q", open)
	}
	auth, _ := json.Marshal(authPayload)
	if err := conn.WriteMessage(websocket.TextMessage, append([]byte("40"), auth...)); err != nil {
		t.Fatal(err)
	}
	return c, c.next(t)
}

// next is the next message other than an Engine.IO ping, which it answers
// as a client does. The first ping comes at a random point of the interval
// (patched engine), so it may come before any answer a test waits for.
func (c *rawClient) next(t testing.TB) string {
	t.Helper()
	for {
		msg := c.read(t)
		if msg != "2" {
			return msg
		}
		if err := c.conn.WriteMessage(websocket.TextMessage, []byte("3")); err != nil {
			t.Fatal(err)
		}
	}
}

func (c *rawClient) read(t testing.TB) string {
	t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, data, err := c.conn.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(data)
}

// A device that stops reading is dropped once its queue passes the bound;
// meanwhile another device of the same account gets every alert promptly.
func TestSlowReaderIsDropped(t *testing.T) {
	reg := prometheus.NewRegistry()
	// The stall rule alone: the test's burst is far past any real device's
	// queue, so the hard limit is out of the way, and the stall timeout
	// leaves room for a slow (race-detector) writer.
	s := newTestServer(t, Config{Metrics: reg, StallTimeout: 2 * time.Second, QueueHardLimit: 1 << 30})

	token := s.token(t, 1)
	stalled := dialRaw(t, s.url, token)
	healthy := dialRaw(t, s.url, token)
	_ = stalled // never read again

	// The healthy device reads everything; every alert it gets is counted.
	got := make(chan int, 1<<20)
	go func() {
		for {
			_ = healthy.conn.SetReadDeadline(time.Now().Add(20 * time.Second))
			_, data, err := healthy.conn.ReadMessage()
			if err != nil {
				close(got)
				return
			}
			switch msg := string(data); {
			case strings.HasPrefix(msg, `42["SUBMIT_ORDER"`):
				got <- 1
			case msg == "2":
				_ = healthy.conn.WriteMessage(websocket.TextMessage, []byte("3"))
			}
		}
	}()
	next := int64(0)
	notify := func() {
		next++
		s.Notify(models.Notification{ID: next, RecipientRole: models.RoleOwner, RecipientID: 1,
			Event: models.EventSubmitOrder, OrderID: next, StoreID: 1, TotalPrice: 1000, CreatedAt: time.Now()})
	}
	received := func(n int64) {
		for i := int64(0); i < n; i++ {
			if _, ok := <-got; !ok {
				t.Fatalf("the healthy device was disconnected after %d alerts", i)
			}
		}
	}
	// A burst far past the queue bound: the healthy device, though its
	// queue grows past the bound for a moment, is not dropped, and gets
	// all of it; the stalled one fills the kernel's buffers and stalls.
	const burst = 40_000
	start := time.Now()
	for range burst {
		notify()
	}
	received(burst)
	t.Logf("%d alerts to two devices, one stalled, in %v", burst, time.Since(start))

	// Alerts keep coming, one at a time: once the stalled device has taken
	// nothing for the stall timeout, the next alert drops it.
	dropped := func() float64 { return testutil.ToFloat64(s.metrics.dropped.WithLabelValues("slow_reader")) }
	deadline := time.Now().Add(20 * time.Second)
	var waits []time.Duration // alert to receipt on the healthy device, while the other is stalled
	for (dropped() == 0 || len(waits) < 200) && time.Now().Before(deadline) {
		sent := time.Now()
		notify()
		received(1)
		waits = append(waits, time.Since(sent))
	}
	if dropped() != 1 {
		t.Fatalf("slow readers dropped: %v, want 1", dropped())
	}
	slices.Sort(waits)
	t.Logf("the healthy device beside a stalled one: %d alerts, p50 %v, p99 %v, max %v",
		len(waits), waits[len(waits)/2], waits[len(waits)*99/100], waits[len(waits)-1])
	_ = stalled.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, _, err := stalled.conn.ReadMessage(); err != nil {
			break // the server closed it (after what the kernel still held)
		}
	}
}

// Past the hard limit a connection is dropped whatever its transport does,
// here with the stall rule out of the way (an hour), at the next sweep.
func TestQueuePastTheHardLimitIsDropped(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := newTestServer(t, Config{Metrics: reg, StallTimeout: time.Hour, QueueHardLimit: 2 * maxQueued})
	stalled := dialRaw(t, s.url, s.token(t, 1)) // never read again
	dropped := func() float64 { return testutil.ToFloat64(s.metrics.dropped.WithLabelValues("slow_reader")) }

	// Far more than the kernel's buffers hold: the rest waits in the
	// engine's queue, past the limit.
	for id := range int64(40_000) {
		s.Notify(models.Notification{ID: id + 1, RecipientRole: models.RoleOwner, RecipientID: 1,
			Event: models.EventSubmitOrder, OrderID: id + 1, StoreID: 1, TotalPrice: 1000, CreatedAt: time.Now()})
	}
	// Not read meanwhile: reading would drain the queue. The drop has no
	// event of its own to wait on; its counter is polled.
	pollUntil(t, 20*time.Second, fmt.Sprintf("the drop past the hard limit (%d) after 40,000 alerts", 2*maxQueued),
		func() bool { return dropped() != 0 })
	if got := dropped(); got != 1 {
		t.Fatalf("slow readers dropped: %v, want 1", got)
	}
	_ = stalled.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		if _, _, err := stalled.conn.ReadMessage(); err != nil {
			var netErr net.Error
			if errors.As(err, &netErr) && netErr.Timeout() {
				t.Fatal("dropped, but its connection is still open")
			}
			return // the server closed it, after what the kernel held
		}
	}
}
