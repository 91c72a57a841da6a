package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/orderbell/orderbell/auth"
	"github.com/orderbell/orderbell/models"
)

func TestParseSIO(t *testing.T) {
	tests := []struct {
		in      string
		typ     byte
		ns      string
		ack     int64
		data    string
		wantErr bool
	}{
		{in: "0", typ: '0', ns: "/", ack: -1},
		{in: `0{"sid":"abc"}`, typ: '0', ns: "/", ack: -1, data: `{"sid":"abc"}`},
		{in: `2["SUBMIT_ORDER",{"order_id":1}]`, typ: '2', ns: "/", ack: -1, data: `["SUBMIT_ORDER",{"order_id":1}]`},
		{in: `2/admin,["x"]`, typ: '2', ns: "/admin", ack: -1, data: `["x"]`},
		{in: `212["x"]`, typ: '2', ns: "/", ack: 12, data: `["x"]`},
		{in: `2/admin,7["x"]`, typ: '2', ns: "/admin", ack: 7, data: `["x"]`},
		{in: `31[{"ok":true}]`, typ: '3', ns: "/", ack: 1, data: `[{"ok":true}]`},
		{in: `4{"message":"unauthorized"}`, typ: '4', ns: "/", ack: -1, data: `{"message":"unauthorized"}`},
		{in: `51-["x",{"_placeholder":true,"num":0}]`, typ: '5', ns: "/", ack: -1, data: `["x",{"_placeholder":true,"num":0}]`},
		{in: `1/admin`, typ: '1', ns: "/admin", ack: -1},
		{in: "", wantErr: true},
		{in: "9[]", wantErr: true},
		{in: `5["x"]`, wantErr: true},
	}
	for _, tt := range tests {
		p, err := parseSIO([]byte(tt.in))
		if tt.wantErr {
			if err == nil {
				t.Errorf("parseSIO(%q) = %+v, want an error", tt.in, p)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseSIO(%q): %v", tt.in, err)
			continue
		}
		if p.Type != tt.typ || p.Namespace != tt.ns || p.AckID != tt.ack || string(p.Data) != tt.data {
			t.Errorf("parseSIO(%q) = {%c %q %d %q}, want {%c %q %d %q}", tt.in, p.Type, p.Namespace, p.AckID, p.Data, tt.typ, tt.ns, tt.ack, tt.data)
		}
	}
}

func TestEventName(t *testing.T) {
	tests := []struct {
		in, name, rest string
		wantErr        bool
	}{
		{in: `["SUBMIT_ORDER",{"order_id":3}]`, name: "SUBMIT_ORDER", rest: `,{"order_id":3}]`},
		{in: ` [ "A" ]`, name: "A", rest: ` ]`},
		{in: `["A\"B",1]`, name: `A"B`, rest: `,1]`},
		{in: `{"a":1}`, wantErr: true},
		{in: `[1,2]`, wantErr: true},
		{in: `["open`, wantErr: true},
		{in: ``, wantErr: true},
	}
	for _, tt := range tests {
		name, rest, err := eventName([]byte(tt.in))
		if tt.wantErr != (err != nil) {
			t.Errorf("eventName(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if !tt.wantErr && (name != tt.name || string(rest) != tt.rest) {
			t.Errorf("eventName(%q) = %q, %q; want %q, %q", tt.in, name, rest, tt.name, tt.rest)
		}
	}
}

func TestIntField(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{`{"message":"주문이 들어왔습니다.","notification_id":7,"order_id":42,"store_id":3}`, 42, true},
		{`{"order_id" : 5}`, 5, true},
		{`{"message":"order_id","order_id":6}`, 6, true},
		{`{"order_id":"17"}`, 17, true},
		{`{"order_id":-2}`, -2, true},
		{`{"order_id_x":1}`, 0, false},
		{`{"store_id":1}`, 0, false},
		{`{"order_id":"17}`, 0, false},
		{`{"order_id":null}`, 0, false},
	}
	for _, tt := range tests {
		got, ok := intField([]byte(tt.in), "order_id")
		if got != tt.want || ok != tt.ok {
			t.Errorf("intField(%s) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestDecodeAlert(t *testing.T) {
	tests := []struct {
		in string
		ev event
		id int64
		ok bool
	}{
		{`42["SUBMIT_ORDER",{"message":"m","notification_id":9,"order_id":11,"store_id":1,"total_price":1000}]`, evSubmit, 11, true},
		{`42["APPROVAL_ORDER",{"order_id":12}]`, evApproval, 12, true},
		{`42["APPROVAL_ORDER",{"message":"주문이 승인되었습니다."}]`, evApproval, -1, true},
		{`42["ORDER_UPDATED",{"order_id":12}]`, 0, 0, false},
		{`42/admin,["SUBMIT_ORDER",{"order_id":1}]`, 0, 0, false},
		{`40{"sid":"x"}`, 0, 0, false},
		{`2`, 0, 0, false},
		{`4`, 0, 0, false},
	}
	for _, tt := range tests {
		ev, id, ok := decodeAlert([]byte(tt.in))
		if ok != tt.ok || (ok && (ev != tt.ev || id != tt.id)) {
			t.Errorf("decodeAlert(%s) = %v %d %v; want %v %d %v", tt.in, ev, id, ok, tt.ev, tt.id, tt.ok)
		}
	}
}

func TestAppendEmitRoundTrip(t *testing.T) {
	b := appendEmit(nil, "SUBMIT_ORDER", "owner_id", 3, 99)
	if string(b) != `42["SUBMIT_ORDER",{"owner_id":3,"order_id":99}]` {
		t.Fatalf("appendEmit = %s", b)
	}
	var arr []any
	if err := json.Unmarshal(b[2:], &arr); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	ev, id, ok := decodeAlert(b)
	if !ok || ev != evSubmit || id != 99 {
		t.Fatalf("decodeAlert(appendEmit) = %v %d %v", ev, id, ok)
	}
	if got := string(connectFrame(`a"b`)); got != `40{"token":"a\"b"}` {
		t.Fatalf("connectFrame = %s", got)
	}
}

// The server's own token code is the oracle for minted tokens.
func TestMintTokenAcceptedByServer(t *testing.T) {
	key := []byte("bench-key")
	tokens := auth.NewTokens(key, time.Hour)
	for _, tt := range []struct {
		role string
		id   int64
		want models.Principal
	}{
		{"owner", 7, models.Principal{Role: models.RoleOwner, ID: 7}},
		{"client", 123456, models.Principal{Role: models.RoleClient, ID: 123456}},
	} {
		tok := mintToken(key, tt.role, tt.id, time.Now(), time.Hour)
		p, exp, err := tokens.Parse(tok)
		if err != nil {
			t.Fatalf("%s %d: server refused the token: %v", tt.role, tt.id, err)
		}
		if p != tt.want || time.Until(exp) < 59*time.Minute {
			t.Errorf("%s %d: parsed %+v exp %s", tt.role, tt.id, p, exp)
		}
		if _, _, err := auth.NewTokens([]byte("other"), time.Hour).Parse(tok); err == nil {
			t.Errorf("a token minted with another key was accepted")
		}
	}
	expired := mintToken(key, "owner", 1, time.Now().Add(-2*time.Hour), time.Hour)
	if _, _, err := tokens.Parse(expired); err == nil {
		t.Errorf("an expired token was accepted")
	}
}

func ms(v ...int) []time.Duration {
	out := make([]time.Duration, len(v))
	for i, x := range v {
		out[i] = time.Duration(x) * time.Millisecond
	}
	return out
}

func TestPercentile(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one", ms(7), 99, 7 * time.Millisecond},
		{"p50 of 1..100", hundred, 50, 50 * time.Millisecond},
		{"p95 of 1..100", hundred, 95, 95 * time.Millisecond},
		{"p99 of 1..100", hundred, 99, 99 * time.Millisecond},
		{"p100", hundred, 100, 100 * time.Millisecond},
		{"p0", hundred, 0, 1 * time.Millisecond},
		{"p50 of 3", ms(1, 2, 3), 50, 2 * time.Millisecond},
		{"p99 of 10 is the max", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
		{"p90 of 10", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 90, 9 * time.Millisecond},
		{"p50 of 4 (nearest rank)", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := percentile(tt.sorted, tt.p); got != tt.want {
			t.Errorf("%s: percentile(p%.0f) = %s, want %s", tt.name, tt.p, got, tt.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	s := summarize(ms(5, 1, 3, 2, 4))
	want := summary{Count: 5, P50: 3, P95: 5, P99: 5, Max: 5, Mean: 3}
	if s != want {
		t.Errorf("summarize = %+v, want %+v", s, want)
	}
	if (summarize(nil) != summary{}) {
		t.Errorf("summarize(nil) is not zero")
	}
}

func TestProcParsers(t *testing.T) {
	rss, err := procField([]byte("Name:\tob\nVmPeak:\t 900 kB\nVmRSS:\t   51234 kB\nThreads: 5\n"), "VmRSS")
	if err != nil || rss != 51234 {
		t.Errorf("procField VmRSS = %d, %v", rss, err)
	}
	if _, err := procField([]byte("Name: x\n"), "VmRSS"); err == nil {
		t.Errorf("procField without a VmRSS line: no error")
	}
	// The command name may hold spaces and parentheses.
	stat := "1234 (ob (bench) x) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 7 0 100 1000 200"
	cpu, err := parseStatCPU([]byte(stat))
	if err != nil || cpu != 3*time.Second {
		t.Errorf("parseStatCPU = %s, %v; want 3s", cpu, err)
	}
	busy, err := parseProcStatBusy([]byte("cpu  100 20 30 5000 40 5 5 0 0 0\ncpu0 1 2 3 4\n"))
	if err != nil || busy != 1600*time.Millisecond {
		t.Errorf("parseProcStatBusy = %s, %v; want 1.6s", busy, err)
	}
	reads, writes, err := parseProcIO([]byte("rchar: 900\nwchar: 800\nsyscr: 1234\nsyscw: 567\nread_bytes: 0\n"))
	if err != nil || reads != 1234 || writes != 567 {
		t.Errorf("parseProcIO = %d, %d, %v; want 1234, 567", reads, writes, err)
	}
	if _, _, err := parseProcIO([]byte("rchar: 900\nsyscr: 1\n")); err == nil {
		t.Errorf("parseProcIO without syscw: no error")
	}
	if _, _, err := parseProcIO([]byte("syscr: x\nsyscw: 2\n")); err == nil {
		t.Errorf("parseProcIO with a malformed count: no error")
	}
	// Against the live system: this process exists.
	if _, err := readCPU(1); err != nil {
		t.Logf("readCPU(1): %v (no /proc?)", err)
	}
}

func TestLoopbackOnly(t *testing.T) {
	for _, ok := range []string{"http://127.0.0.1:3000", "http://localhost:3300/", "http://[::1]:3000", "http://127.0.0.2:80"} {
		if _, err := targetURL(ok); err != nil {
			t.Errorf("targetURL(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"http://10.0.0.1:3000", "http://example.com:3000", "http://0.0.0.0:3000", "https://127.0.0.1:3000", "http://192.168.1.2", "ws://127.0.0.1:3000", "http://u:p@127.0.0.1:3000", "http://127.0.0.1.example.com:3000"} {
		if _, err := targetURL(bad); err == nil {
			t.Errorf("targetURL(%q) accepted", bad)
		}
	}
	if _, err := seedDialector("mysql://root@10.1.1.1:3306/x"); err == nil {
		t.Errorf("a non-loopback -seed-db was accepted")
	}
	dial := loopbackDial(newNetDialer())
	if _, err := dial(context.Background(), "tcp", "93.184.216.34:80"); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Errorf("loopbackDial dialed a public address: %v", err)
	}
}

func TestConfig(t *testing.T) {
	cfg, err := parseFlags([]string{"-key", "k", "-seed", "sql", "-seed-db", "sqlite:/tmp/x.db", "-conns", "10000", "-ramp", "500,500,8000", "-duration", "10s"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o, c := cfg.split(); o != 1000 || c != 8000 {
		t.Errorf("split(10000) = %d owners, %d clients; want 1000, 8000", o, c)
	}
	if cfg.rampStart != 500 || cfg.rampStep != 500 || cfg.rampMax != 8000 {
		t.Errorf("ramp = %v %v %v", cfg.rampStart, cfg.rampStep, cfg.rampMax)
	}
	cfg.conns = 1000
	if o, c := cfg.split(); o != 100 || c != 800 {
		t.Errorf("split(1000) = %d, %d; want 100, 800", o, c)
	}
	for _, args := range [][]string{
		{"-url", "http://10.0.0.2:3000"},
		{"-conns", "50000"},
		{"-rate", "1e9"},
		{"-duration", "2h"},
		{"-ramp", "1,2"},
		{"-ramp", "100,0,200"},
		{"-ramp", "1,1,100000", "-duration", "10s"},
		{"-flow", "grpc"},
		{"-seed", "sql"},
		{"-flow", "http", "-seed", "none", "-key", "k"},
		{"-seed", "api", "-match", "fifo"},
		{"-rate", "100000", "-duration", "10m"},
		{"-max-time", "3h"},
		{"-inflight", "0"},
	} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("parseFlags(%q) accepted", args)
		}
	}
}

func dev(r role, account, slot int) *device { return &device{role: r, account: account, slot: slot} }

func TestTracker(t *testing.T) {
	tr := newTracker(2, 1)
	at := func(ms int) time.Duration { return time.Duration(ms) * time.Millisecond }
	o0a, o0b, o1a := dev(owner, 0, 0), dev(owner, 0, 1), dev(owner, 1, 0)
	c0, c1 := dev(client, 0, 0), dev(client, 1, 0)

	// Order 10 (client 0 → owner 0): one owner device hears it before the
	// POST answered, one after; accepted; the customer hears it.
	tr.receive(o0a, alert{evSubmit, 10, at(3)})
	tr.placed(10, 0, 0, at(1))
	tr.receive(o0b, alert{evSubmit, 10, at(4)})
	tr.accepting(10, at(5))
	tr.receive(c0, alert{evApproval, 10, at(7)})
	if p := tr.pending.Load(); p != 0 {
		t.Fatalf("pending after a complete order = %d", p)
	}
	// Order 11 (client 1 → owner 1): a duplicate, a wrong owner, the
	// customer of another order, and one owner device never hears it.
	tr.placed(11, 1, 1, at(10))
	tr.receive(o1a, alert{evSubmit, 11, at(12)})
	tr.receive(o1a, alert{evSubmit, 11, at(13)}) // duplicate
	tr.receive(o0a, alert{evSubmit, 11, at(13)}) // another owner
	tr.receive(c1, alert{evSubmit, 11, at(13)})  // a customer never gets SUBMIT_ORDER
	tr.receive(c1, alert{evApproval, 11, at(13)})
	// approval before any accept: wrong
	// Order 12: accepted, but the accept request failed: nothing owed.
	tr.placed(12, 0, 0, at(20))
	tr.receive(o0a, alert{evSubmit, 12, at(21)})
	tr.receive(o0b, alert{evSubmit, 12, at(21)})
	tr.accepting(12, at(22))
	tr.acceptFailed(12)
	// An alert for an order this run never placed.
	tr.receive(o0a, alert{evSubmit, 99, at(30)})

	got := tr.tally()
	if got.Orders != 3 || got.Expected != 7 || got.Lost != 1 || got.Duplicated != 1 || got.Wrong != 3 || got.Unmatched != 1 {
		t.Errorf("tally = orders %d expected %d lost %d dup %d wrong %d unmatched %d; want 3 7 1 1 3 1",
			got.Orders, got.Expected, got.Lost, got.Duplicated, got.Wrong, got.Unmatched)
	}
	if p := tr.pending.Load(); p != 1 {
		t.Errorf("pending = %d, want 1 (order 11's second owner device)", p)
	}
	// Submit latencies: order 10: 2, 3 ms; order 11: 2 ms; order 12: 1, 1 ms.
	submit := summarize(got.Submit)
	if submit.Count != 5 || got.Submit[0] != at(1) || submit.Max != 3 {
		t.Errorf("submit latencies = %+v (%v)", submit, got.Submit)
	}
	if len(got.Approval) != 1 || got.Approval[0] != at(2) {
		t.Errorf("approval latencies = %v, want [2ms]", got.Approval)
	}
}

// fakeRelay is a tiny Socket.IO v4 server over WebSocket that behaves like
// the original Node server's emit flow: rooms by bare id from the token,
// SUBMIT_ORDER {owner_id} relayed to that owner, APPROVAL_ORDER
// {client_id} to that customer, payload passed through. It checks the
// client side of the protocol: open, CONNECT with auth, pings, events.
type fakeRelay struct {
	key   []byte
	mu    sync.Mutex
	rooms map[string][]*fakeConn
	pings bool
}

type fakeConn struct {
	mu sync.Mutex
	ws *websocket.Conn
}

func (c *fakeConn) send(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	_ = c.ws.WriteMessage(websocket.TextMessage, []byte(s))
}

func (f *fakeRelay) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("EIO") != "4" || r.URL.Query().Get("transport") != "websocket" {
		http.Error(w, "bad query", http.StatusBadRequest)
		return
	}
	ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &fakeConn{ws: ws}
	defer ws.Close()
	c.send(`0{"sid":"s","upgrades":[],"pingInterval":200,"pingTimeout":20000,"maxPayload":1000000}`)
	_, msg, err := ws.ReadMessage()
	if err != nil || !bytes.HasPrefix(msg, []byte("40")) {
		return
	}
	var a struct{ Token string }
	_ = json.Unmarshal(msg[2:], &a)
	p, _, err := auth.NewTokens(f.key, time.Hour).Parse(a.Token)
	if err != nil {
		c.send(`44{"message":"unauthorized"}`)
		return
	}
	room := strconv.FormatInt(p.ID, 10)
	f.mu.Lock()
	f.rooms[room] = append(f.rooms[room], c)
	f.mu.Unlock()
	c.send(`40{"sid":"x"}`)
	if f.pings {
		c.send("2")
	}
	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			return
		}
		ev, _, ok := decodeAlert(msg)
		if !ok {
			continue
		}
		p, _ := parseSIO(msg[1:])
		_, rest, _ := eventName(p.Data)
		key := "owner_id"
		if ev == evApproval {
			key = "client_id"
		}
		to, _ := intField(rest, key)
		f.mu.Lock()
		targets := append([]*fakeConn(nil), f.rooms[strconv.FormatInt(to, 10)]...)
		f.mu.Unlock()
		for _, t := range targets {
			t.send(string(msg))
			t.send(`42["ORDER_UPDATED",{"order_id":1}]`)
		}
	}
}

func TestEmitFlowAgainstFakeRelay(t *testing.T) {
	relay := &fakeRelay{key: []byte("k"), rooms: map[string][]*fakeConn{}, pings: true}
	srv := httptest.NewServer(relay)
	defer srv.Close()
	var stderr bytes.Buffer
	var stdout bytes.Buffer
	// The relay runs in this process, so this process is the "server"
	// whose CPU and system calls are measured.
	args := []string{"-url", srv.URL, "-key", "k", "-flow", "emit", "-conns", "30", "-rate", "300", "-duration", "1s",
		"-settle", "0", "-drain", "2s", "-quiet-wait", "0", "-pid", strconv.Itoa(os.Getpid()), "-json", t.TempDir() + "/r.json"}
	if err := run(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	var rep report
	b, err := os.ReadFile(args[len(args)-1])
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Connect == nil || rep.Connect.Conns != 30 || len(rep.Runs) != 1 {
		t.Fatalf("report: %s", b)
	}
	r := rep.Runs[0]
	// 30 conns = 3 owners × 2 + 24 customers: 300 orders × 3 alerts.
	if !r.Pass || r.Orders != 300 || r.Expected != 900 || r.Received != 900 || r.Lost+r.Duplicated+r.Wrong+r.Unmatched != 0 {
		t.Errorf("run: %+v\n%s", r, stdout.String())
	}
	if !strings.Contains(stdout.String(), "rate/s") {
		t.Errorf("no table printed:\n%s", stdout.String())
	}
	// Each order is one emit written and read, and three alerts written
	// and read, all by this process: at least 4 of each per order.
	if r.ReadCalls < 4 || r.WriteCalls < 4 {
		t.Errorf("system calls per order: %.1f reads, %.1f writes; want ≥ 4 each", r.ReadCalls, r.WriteCalls)
	}
}

func TestFifoMatching(t *testing.T) {
	// Alerts without order_id, as a server with a fixed payload sends
	// them: -match fifo still counts each once, by arrival order.
	relay := &fakeRelay{key: []byte("k"), rooms: map[string][]*fakeConn{}}
	srv := httptest.NewServer(relay)
	defer srv.Close()
	cfg, err := parseFlags([]string{"-url", srv.URL, "-key", "k", "-flow", "emit", "-match", "fifo", "-conns", "12", "-settle", "0"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	o, c := cfg.split()
	d := newDriver(cfg, "http://"+srv.Listener.Addr().String(), mintedAccounts(o, c, 1000, []byte("k"), time.Hour), o, c, io.Discard)
	defer d.close()
	if res := d.connect(context.Background()); res.Failed != 0 {
		t.Fatalf("connect: %+v", res)
	}
	tr := newTracker(2, 1)
	d.cur.Store(tr)
	for i := range 5 {
		co, oo := d.pairOf(i)
		id := d.emitSeq.Add(1)
		tr.placed(id, co, oo, d.clock())
		for _, dv := range d.ownerDevs[oo] {
			dv.pushExpected(id)
			d.deliver(dv, alert{evSubmit, -1, d.clock()})
		}
	}
	got := tr.tally()
	if got.Received != 10 || got.Lost != 0 || got.Unmatched != 0 {
		t.Errorf("fifo tally: %+v", got)
	}
	d.deliver(d.ownerDevs[0][0], alert{evSubmit, -1, d.clock()})
	if tr.tally().Unmatched != 1 {
		t.Errorf("an alert with nothing owed was not counted as unmatched")
	}
}

func TestRefusedHandshake(t *testing.T) {
	relay := &fakeRelay{key: []byte("right"), rooms: map[string][]*fakeConn{}}
	srv := httptest.NewServer(relay)
	defer srv.Close()
	err := run(context.Background(), []string{"-url", srv.URL, "-key", "wrong", "-flow", "emit", "-conns", "4", "-rate", "0", "-settle", "0"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "connect_error: unauthorized") {
		t.Errorf("run with a wrong key: %v", err)
	}
}

// -seed sql writes rows the server's own models read back: a login with the
// shared password works and every owner has its store and menu.
func TestSeedSQL(t *testing.T) {
	ctx := context.Background()
	url := "sqlite:" + t.TempDir() + "/seed.db"
	db, err := models.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	set, err := seedSQL(ctx, url, 3, 5, []byte("k"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Owners) != 3 || len(set.Clients) != 5 {
		t.Fatalf("seeded %d owners, %d clients", len(set.Owners), len(set.Clients))
	}
	for _, o := range set.Owners {
		p, err := db.Authenticate(ctx, models.RoleOwner, o.Email, seedPassword)
		if err != nil || p.ID != o.ID {
			t.Errorf("owner %s: login %+v, %v", o.Email, p, err)
		}
		store, err := db.GetStore(ctx, o.StoreID)
		if err != nil || store.OwnerID != o.ID || len(store.Menus) != 1 || store.Menus[0].ID != o.MenuID {
			t.Errorf("owner %d: store %+v, %v", o.ID, store, err)
		}
	}
	c := set.Clients[4]
	if p, err := db.Authenticate(ctx, models.RoleClient, c.Email, seedPassword); err != nil || p.ID != c.ID {
		t.Errorf("client login: %+v, %v", p, err)
	}
	o := set.Owners[1]
	order, _, err := db.PlaceOrder(ctx, models.Principal{Role: models.RoleClient, ID: c.ID}, o.StoreID, []models.OrderLine{{MenuID: o.MenuID, Count: 1}})
	if err != nil || order.OwnerID != o.ID {
		t.Errorf("order on seeded rows: %+v, %v", order, err)
	}
	if _, err := seedSQL(ctx, url, 1, 1, nil, time.Hour); err == nil {
		t.Errorf("-seed sql without a key was accepted")
	}
}

// Connections dialed with sources come from them in turn, to the target
// asked for, and a public target is still refused.
func TestLoopbackDialFromSources(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dial := loopbackDialFrom(newNetDialer(), net.IPv4(127, 0, 0, 2), net.IPv4(127, 0, 0, 3))
	var from []string
	for range 4 {
		c, err := dial(context.Background(), "tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		s, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		from = append(from, s.RemoteAddr().(*net.TCPAddr).IP.String())
		_ = s.Close()
		_ = c.Close()
	}
	if from[0] == from[1] || from[0] != from[2] || from[1] != from[3] {
		t.Errorf("sources in turn: got %v", from)
	}
	for _, ip := range from {
		if ip != "127.0.0.2" && ip != "127.0.0.3" {
			t.Errorf("a connection came from %s", ip)
		}
	}
	if _, err := dial(context.Background(), "tcp", "93.184.216.34:80"); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Errorf("dialed a public address: %v", err)
	}
}

// A device keeps the socket id the server's CONNECT gives, and the http
// flow's requests name it (X-Socket-Id), as orderbell's pages do; with
// -socket-id=false they do not.
func TestSocketIDSentWithRequests(t *testing.T) {
	relay := &fakeRelay{key: []byte("k"), rooms: map[string][]*fakeConn{}}
	srv := httptest.NewServer(relay)
	defer srv.Close()
	dev := &device{}
	wsURL := "ws" + strings.TrimPrefix(srv.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	if err := dev.connect(context.Background(), websocket.DefaultDialer, wsURL, mintToken([]byte("k"), "client", 1, time.Now(), time.Hour)); err != nil {
		t.Fatal(err)
	}
	defer dev.conn.Close()
	if dev.sid != "x" {
		t.Fatalf("sid %q, want the CONNECT packet's \"x\"", dev.sid)
	}

	got := make(chan string, 1)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("X-Socket-Id")
	}))
	defer api.Close()
	for _, send := range []bool{true, false} {
		d := &driver{cfg: &config{socketID: send}, base: api.URL, hc: api.Client()}
		if _, _, err := d.do(context.Background(), http.MethodPatch, "/order-receive/1", "tok", nil, d.origin([]*device{dev})); err != nil {
			t.Fatal(err)
		}
		want := ""
		if send {
			want = "x"
		}
		if h := <-got; h != want {
			t.Errorf("-socket-id=%v: X-Socket-Id %q, want %q", send, h, want)
		}
	}
}

func TestListeningInodes(t *testing.T) {
	table := []byte(`  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0D49 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1111 1 0000000000000000 100 0 0 10 0
   1: 0100007F:0D49 0100007F:A000 01 00000000:00000000 00:00000000 00000000     0        0 2222 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:0D4A 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3333 1 0000000000000000 100 0 0 10 0
   3: 00000000000000000000000001000000:0D49 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 4444 1 0000000000000000 100 0 0 10 0
`)
	inodes := map[string]bool{}
	listeningInodes(table, 3401, inodes) // 0x0D49
	if len(inodes) != 2 || !inodes["1111"] || !inodes["4444"] {
		t.Errorf("listening on 3401: %v; want 1111 (IPv4) and 4444 (IPv6), not the connected 2222 nor 3333 on 3402", inodes)
	}
}

// A -pid must be the server's: the process that listens on -url's port.
func TestServerPidListens(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	if ok, err := listensOn(os.Getpid(), port); err != nil || !ok {
		t.Fatalf("listensOn(this process, %d) = %v, %v; want true", port, ok, err)
	}
	// A process that listens on nothing, as a shell's $! can be.
	other := exec.Command("sleep", "30")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Process.Kill(); _ = other.Wait() }()
	if ok, err := listensOn(other.Process.Pid, port); err != nil || ok {
		t.Fatalf("listensOn(sleep, %d) = %v, %v; want false", port, ok, err)
	}

	url := "http://127.0.0.1:" + strconv.Itoa(port)
	if _, err := parseFlags([]string{"-url", url, "-key", "k", "-pid", strconv.Itoa(os.Getpid())}, io.Discard); err != nil {
		t.Errorf("-pid of the listening process refused: %v", err)
	}
	_, err = parseFlags([]string{"-url", url, "-key", "k", "-pid", strconv.Itoa(other.Process.Pid)}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "does not listen on port "+strconv.Itoa(port)) {
		t.Errorf("-pid of a process that listens on nothing: %v; want refused as not the server", err)
	}
}

// -tabulate reads the JSON reports back: one line per step, the
// connection figures on each, "-" for what a run could not measure; a
// file that is not a report is named in the error.
func TestTabulate(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, rep report) string {
		t.Helper()
		b, err := json.Marshal(rep)
		if err != nil {
			t.Fatal(err)
		}
		path := dir + "/" + name
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	ramp := write("ramp.json", report{
		Connect: &connectResult{PerSecond: 4321.4, IdleKBConn: 11.8},
		Runs: []stepResult{
			{Rate: 1000, Pass: true, Latency: summary{P50: 1.234, P99: 4.567, Max: 12.34}, ServerCPU: 47.3, DBCPU: 2.4, ReadCalls: 6.2, WriteCalls: 20.5},
			{Rate: 1250, Pass: false, Latency: summary{P50: 9.5, P99: 150.25, Max: 300}, ServerCPU: 88, DBCPU: -1, Lost: 3, ReadCalls: -1, WriteCalls: -1},
		},
	})
	seedOnly := write("seed.json", report{})
	var out, errs bytes.Buffer
	if err := run(context.Background(), []string{"-tabulate", ramp, seedOnly}, &out, &errs); err != nil {
		t.Fatalf("tabulate: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("want a header and 3 lines, got:\n%s", out.String())
	}
	for i, want := range [][]string{
		{ramp, "4321", "11.8", "1000", "yes", "1.23", "4.57", "12.3", "47.3", "2.4", "6.2", "20.5"},
		{ramp, "4321", "11.8", "1250", "NO", "9.50", "150.25", "300.0", "88.0", "-", " 3 ", "-"},
		{seedOnly, "-"},
	} {
		for _, field := range want {
			if !strings.Contains(lines[i+1], field) {
				t.Errorf("line %d lacks %q: %s", i+1, field, lines[i+1])
			}
		}
		// One figure (or "-") under each of the 16 columns, none missing.
		if n := len(strings.Fields(lines[i+1])); n != 16 {
			t.Errorf("line %d has %d fields, want 16: %s", i+1, n, lines[i+1])
		}
	}

	bad := dir + "/bad.json"
	if err := os.WriteFile(bad, []byte("not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"-tabulate", ramp, bad}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("a file that is not a report: %v", err)
	}
	if err := run(context.Background(), []string{"-tabulate"}, io.Discard, io.Discard); err == nil {
		t.Error("-tabulate with no reports: no error")
	}
}
