package socket

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/orderbell/orderbell/models"
)

// pollClient speaks Engine.IO 4 long-polling by hand, as the pages' client
// does before it upgrades.
type pollClient struct {
	t    testing.TB
	base string // http://host/socket.io/?EIO=4&transport=polling
	sid  string
}

func newPollClient(t testing.TB, ts *testServer) *pollClient {
	t.Helper()
	base := "http" + strings.TrimPrefix(strings.TrimSuffix(ts.url, "websocket"), "ws") + "polling"
	p := &pollClient{t: t, base: base}
	status, open := p.do(http.MethodGet, base, "")
	if status != http.StatusOK || !strings.HasPrefix(open, `0{"sid":"`) || !strings.Contains(open, `"upgrades":["websocket"]`) {
		t.Fatalf("polling handshake: %d %q", status, open)
	}
	p.sid, _, _ = strings.Cut(strings.TrimPrefix(open, `0{"sid":"`), `"`)
	return p
}

func (p *pollClient) do(method, url, body string) (int, string) {
	p.t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		p.t.Fatal(err)
	}
	client := http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		p.t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func (p *pollClient) get() (int, string) { return p.do(http.MethodGet, p.base+"&sid="+p.sid, "") }

func (p *pollClient) post(body string) {
	p.t.Helper()
	if status, answer := p.do(http.MethodPost, p.base+"&sid="+p.sid, body); status != http.StatusOK || answer != "ok" {
		p.t.Fatalf("POST %q: %d %q", body, status, answer)
	}
}

// next is the next GET's packets, which must come with 200.
func (p *pollClient) next() []string {
	p.t.Helper()
	status, body := p.get()
	if status != http.StatusOK {
		p.t.Fatalf("GET: %d %q", status, body)
	}
	return strings.Split(body, "\x1e")
}

// openUpgrade leaves a GET pending, as the client's poll is when it
// upgrades, and opens the session's WebSocket; the GET's answer comes on
// the channel ("OK 6", say).
func (p *pollClient) openUpgrade(ts *testServer) (<-chan string, *websocket.Conn) {
	p.t.Helper()
	pending := make(chan string, 1)
	go func() {
		status, body := p.get()
		pending <- http.StatusText(status) + " " + body
	}()
	pollUntil(p.t, 5*time.Second, "the pending GET", pollState(ts.Server, p.sid, func(p *leanPoll) bool { return p.getting }))
	ws, _, err := websocket.DefaultDialer.Dial(ts.url+"&sid="+p.sid, nil)
	if err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(func() { _ = ws.Close() })
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	return pending, ws
}

// connect sends the CONNECT packet with token, which must be answered.
func (p *pollClient) connect(token string) {
	p.t.Helper()
	p.post(`40{"token":"` + token + `"}`)
	if got := p.next(); len(got) != 1 || !strings.HasPrefix(got[0], `40{"sid":"`) {
		p.t.Fatalf("CONNECT answer over polling: %q", got)
	}
}

// probe opens the session's WebSocket with a GET pending, as openUpgrade,
// and probes: the probe is answered and the GET gets a noop, so the client
// pauses.
func (p *pollClient) probe(ts *testServer) *websocket.Conn {
	p.t.Helper()
	pending, ws := p.openUpgrade(ts)
	if err := ws.WriteMessage(websocket.TextMessage, []byte("2probe")); err != nil {
		p.t.Fatal(err)
	}
	if _, m, err := ws.ReadMessage(); err != nil || string(m) != "3probe" {
		p.t.Fatalf("probe answer: %q, %v", m, err)
	}
	if got := <-pending; got != "OK 6" {
		p.t.Fatalf("the pending GET on the probe: %q, want a noop", got)
	}
	return ws
}

// polled reports whether the lean layer holds sid as a polling session.
func polled(s *Server, sid string) bool {
	s.lean.mu.Lock()
	defer s.lean.mu.Unlock()
	return s.lean.polling[sid] != nil
}

// pollState is a check of polling session sid's state.
func pollState(s *Server, sid string, check func(*leanPoll) bool) func() bool {
	return func() bool {
		c := s.lean.session(sid)
		c.wmu.Lock()
		defer c.wmu.Unlock()
		return check(c.poll)
	}
}

// The pages' client connects by long-polling and then upgrades. With the
// lean layer on, it serves both: the CONNECT and the alerts over polling;
// on the probe the pending GET is answered so the client pauses; what was
// sent while it paused comes first on the WebSocket, once; the rest comes
// there, and the polling sid is no more.
func TestLeanPollingUpgrade(t *testing.T) {
	ts := newTestServer(t, Config{Lean: true})
	p := newPollClient(t, ts)
	if !polled(ts.Server, p.sid) {
		t.Fatal("the lean layer does not hold the polling session")
	}
	p.connect(ts.token(t, 1))

	ts.OrderUpdated(models.Order{ID: 7, OwnerID: 1, Status: models.StatusAccepted}, "")
	ts.OrderUpdated(models.Order{ID: 8, OwnerID: 2, Status: models.StatusAccepted}, "") // another account's
	if got := p.next(); len(got) != 1 || !strings.HasPrefix(got[0], `42["ORDER_UPDATED",`) || !strings.Contains(got[0], `"order_id":7`) {
		t.Fatalf("alert over polling: %q", got)
	}

	// The client's poll is pending when it probes, and answered.
	ws := p.probe(ts)

	// Paused: an alert now waits for the upgrade.
	ts.OrderUpdated(models.Order{ID: 9, OwnerID: 1, Status: models.StatusAccepted}, "")
	pollUntil(t, 5*time.Second, "the alert queued for the paused session",
		pollState(ts.Server, p.sid, func(p *leanPoll) bool { return len(p.out) > 0 }))
	if err := ws.WriteMessage(websocket.TextMessage, []byte("5")); err != nil {
		t.Fatal(err)
	}
	ts.OrderUpdated(models.Order{ID: 10, OwnerID: 1, Status: models.StatusAccepted}, "")
	for _, id := range []string{`"order_id":9`, `"order_id":10`} {
		got, err := nextEvent(ws)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(got), `42["ORDER_UPDATED",`) || !strings.Contains(string(got), id) {
			t.Fatalf("over the WebSocket: %q, want ORDER_UPDATED with %s", got, id)
		}
	}
	if polled(ts.Server, p.sid) {
		t.Fatal("the polling session outlived its upgrade")
	}
	if status, body := p.get(); status != http.StatusBadRequest {
		t.Fatalf("GET on the upgraded sid: %d %q, want 400", status, body)
	}
	// Still the same socket: it answers pings and emits.
	if err := emitLegacy(&rawClient{ws}, 1); err != nil {
		t.Fatal(err)
	}
	if got, err := nextEvent(ws); err != nil || !strings.HasPrefix(string(got), "431[") {
		t.Fatalf("ack over the upgraded socket: %q, %v", got, err)
	}
}

// A polling session is refused, pinged and closed as a WebSocket one is:
// a forged token gets the refusal; an unanswered ping closes it (the
// pending GET gets the close packet) and it leaves nothing; a client's
// close packet ends it; two GETs at once, a binary packet and an
// oversized POST are transport errors.
func TestLeanPollingLifecycle(t *testing.T) {
	ts := newTestServer(t, Config{Lean: true, PingInterval: 100 * time.Millisecond, PingTimeout: 200 * time.Millisecond, MaxMessageBytes: 1000})

	forged := newPollClient(t, ts)
	forged.post(`40{"token":"` + ts.token(t, 1) + `x"}`)
	for {
		got := forged.next()
		if got[len(got)-1] == `44{"message":"unauthorized"}` {
			break
		}
		if got[0] != "2" {
			t.Fatalf("refused CONNECT: %q", got)
		}
		forged.post("3")
	}

	silent := newPollClient(t, ts)
	silent.post(`40{"token":"` + ts.token(t, 1) + `"}`)
	var seen []string
	for {
		got := silent.next()
		seen = append(seen, got...)
		if got[len(got)-1] == "1" {
			break
		}
	}
	if !strings.HasPrefix(seen[0], `40{"sid":"`) || seen[1] != "2" {
		t.Fatalf("a silent polling client got %q, want the answer, a ping, and at last the close packet", seen)
	}
	if polled(ts.Server, silent.sid) {
		t.Fatal("a timed-out polling session is still held")
	}

	leaving := newPollClient(t, ts)
	leaving.post("1")
	if polled(ts.Server, leaving.sid) {
		t.Fatal("a polling session that sent the close packet is still held")
	}

	for name, body := range map[string]string{"binary packet": "bAQID", "oversized POST": "4" + strings.Repeat("x", 1000)} {
		c := newPollClient(t, ts)
		if status, _ := c.do(http.MethodPost, c.base+"&sid="+c.sid, body); status/100 != 4 {
			t.Fatalf("%s: %d, want a 4xx", name, status)
		}
		if polled(ts.Server, c.sid) {
			t.Fatalf("%s: the session is still held", name)
		}
	}

	pollUntil(t, 5*time.Second, "the lean layer to hold nothing", func() bool {
		conns, accounts := leanHeld(ts.Server)
		return conns == 0 && accounts == 0
	})
}

// A client that upgrades without probing first (5 straight away) while
// its poll is pending: the GET is answered with a noop rather than left
// hanging (then aborted, which would end the upgraded socket), and the
// socket goes on over the WebSocket.
func TestLeanUpgradeWithoutProbe(t *testing.T) {
	ts := newTestServer(t, Config{Lean: true})
	p := newPollClient(t, ts)
	p.connect(ts.token(t, 1))
	pending, ws := p.openUpgrade(ts)
	if err := ws.WriteMessage(websocket.TextMessage, []byte("5")); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-pending:
		if got != "OK 6" {
			t.Fatalf("the pending GET at the upgrade: %q, want a noop", got)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the pending GET was left hanging by the upgrade")
	}
	ts.OrderUpdated(models.Order{ID: 11, OwnerID: 1, Status: models.StatusAccepted}, "")
	if got, err := nextEvent(ws); err != nil || !strings.Contains(string(got), `"order_id":11`) {
		t.Fatalf("over the WebSocket after the upgrade: %q, %v", got, err)
	}
}

// A session the server closes while the client is paused for its upgrade
// (a replay that fails, say): the paused client sends no GET and listens
// only on its probe, so the probe is kept; on the upgrade packet the
// client gets what was queued there, and then the close. (engine.io's
// client drops a failed probe and stays paused until its ping timeout,
// 45 s: closing the probe at once hid the close from it.)
func TestLeanClosedWhileUpgrading(t *testing.T) {
	ts := newTestServer(t, Config{Lean: true})
	p := newPollClient(t, ts)
	p.connect(ts.token(t, 1))
	ws := p.probe(ts)
	ts.OrderUpdated(models.Order{ID: 12, OwnerID: 1, Status: models.StatusAccepted}, "")
	pollUntil(t, 5*time.Second, "the alert queued for the paused session",
		pollState(ts.Server, p.sid, func(p *leanPoll) bool { return len(p.out) > 0 }))
	ts.lean.session(p.sid).close("forced server close")

	if err := ws.WriteMessage(websocket.TextMessage, []byte("5")); err != nil {
		t.Fatal(err)
	}
	if got, err := nextEvent(ws); err != nil || !strings.Contains(string(got), `"order_id":12`) {
		t.Fatalf("on the probe after the close: %q, %v; want the queued alert", got, err)
	}
	if got, err := nextEvent(ws); err == nil {
		t.Fatalf("the closed session's socket stayed open: %q", got)
	}
	if status, _ := p.get(); status != http.StatusBadRequest {
		t.Fatalf("GET on the closed sid: %d, want 400", status)
	}
}
