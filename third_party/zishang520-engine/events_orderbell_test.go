package engine

import (
	"io"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	ws "github.com/gorilla/websocket"

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/servers/engine/v3/config"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// orderbell: sendPacket and flush make their events' arguments only when
// someone listens (patch 13). Whoever does still gets every event, with
// the arguments upstream gave: packetCreate with the packet, the socket's
// flush with the packets, the server's flush and drain with the socket.
func TestPacketEventsReachTheirListeners(t *testing.T) {
	type event struct {
		name string
		args []any
	}
	events := make(chan event, 64)
	record := func(name string) func(...any) {
		return func(args ...any) { events <- event{name, args} }
	}
	sock, c := openWebSocket(t, func(srv Server, sock Socket) {
		_ = sock.On("packetCreate", record("packetCreate"))
		_ = sock.On("flush", record("flush"))
		_ = srv.On("flush", record("server flush"))
		_ = srv.On("drain", record("server drain"))
	})

	hello := strings.NewReader("hello")
	isHello := func(p *packet.Packet) bool { return p.Type == packet.MESSAGE && p.Data == io.Reader(hello) }
	sock.Write(hello, nil, nil)
	if _, msg, err := c.ReadMessage(); err != nil || string(msg) != "4hello" {
		t.Fatalf("read %q, %v", msg, err)
	}
	seen := map[string]bool{}
	for len(seen) < 4 {
		var e event
		select {
		case e = <-events:
		case <-time.After(5 * time.Second):
			t.Fatalf("events seen for the message: %v; want packetCreate, flush, server flush and server drain", seen)
		}
		switch e.name {
		case "packetCreate":
			p, ok := e.args[0].(*packet.Packet)
			seen[e.name] = seen[e.name] || ok && isHello(p)
		case "flush":
			wbuf, ok := e.args[0].([]*packet.Packet)
			seen[e.name] = seen[e.name] || ok && slices.ContainsFunc(wbuf, isHello)
		case "server flush":
			s, _ := e.args[0].(Socket)
			wbuf, ok := e.args[1].([]*packet.Packet)
			seen[e.name] = seen[e.name] || s == sock && ok && slices.ContainsFunc(wbuf, isHello)
		case "server drain":
			s, _ := e.args[0].(Socket)
			seen[e.name] = seen[e.name] || s == sock
		}
		if !seen[e.name] {
			delete(seen, e.name)
		}
	}
}

// orderbell: a sent packet and its options are made together, and its
// compress flag points at a shared true or false (patch 14). Each packet
// still gets options of its own, with the sender's pre-encoded frame, and
// the flag upstream gave it: true unless the sender said false.
func TestSentPacketsKeepTheirOptions(t *testing.T) {
	created := make(chan *packet.Packet, 16)
	sock, c := openWebSocket(t, func(_ Server, sock Socket) {
		_ = sock.On("packetCreate", func(args ...any) { created <- args[0].(*packet.Packet) })
	})

	off, on := false, true
	frame := types.NewStringBuffer([]byte("4framed"))
	shared := &packet.Options{Compress: &off, WsPreEncodedFrame: frame}
	sends := []struct {
		name         string
		opts         *packet.Options
		wantCompress bool
		wantFrame    bool
		wire         string
	}{
		{"no options", nil, true, false, "4a"},
		{"no flag", &packet.Options{}, true, false, "4b"},
		{"compress", &packet.Options{Compress: &on}, true, false, "4c"},
		{"no compress, a frame", shared, false, true, "4framed"},
		{"the same options again", shared, false, true, "4framed"},
	}
	var got []*packet.Packet
	for i, s := range sends {
		sock.Write(strings.NewReader(string(rune('a'+i))), s.opts, nil)
		if _, msg, err := c.ReadMessage(); err != nil || string(msg) != s.wire {
			t.Fatalf("%s: read %q, %v; want %q", s.name, msg, err, s.wire)
		}
		select {
		case p := <-created:
			got = append(got, p)
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no packetCreate", s.name)
		}
	}
	for i, s := range sends {
		p := got[i]
		if p.Options == nil || p.Options.Compress == nil {
			t.Fatalf("%s: options %+v", s.name, p.Options)
		}
		if *p.Options.Compress != s.wantCompress {
			t.Errorf("%s: compress %v, want %v", s.name, *p.Options.Compress, s.wantCompress)
		}
		if (p.Options.WsPreEncodedFrame == frame) != s.wantFrame {
			t.Errorf("%s: pre-encoded frame %v", s.name, p.Options.WsPreEncodedFrame)
		}
		if p.Options == s.opts {
			t.Errorf("%s: the sender's options, not a copy", s.name)
		}
		for _, q := range got[:i] {
			if q.Options == p.Options {
				t.Errorf("%s: options shared with an earlier packet", s.name)
			}
		}
	}
	if off || !on {
		t.Error("the sender's own flags were written")
	}
}

// openWebSocket serves an engine (pings an hour apart, so none is among the
// packets a test watches) and connects one WebSocket client to it, past
// its OPEN packet. watch runs as the server announces the socket: the
// socket's OPEN packet was made and flushed before, so only later packets
// reach what watch adds.
func openWebSocket(t *testing.T, watch func(srv Server, sock Socket)) (Socket, *ws.Conn) {
	t.Helper()
	opts := config.DefaultServerOptions()
	opts.SetPingInterval(time.Hour)
	srv := NewServer(opts)
	t.Cleanup(func() { srv.Close() })
	sockets := make(chan Socket, 1)
	srv.On("connection", func(args ...any) {
		sock := args[0].(Socket)
		watch(srv, sock)
		sockets <- sock
	})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c, _, err := ws.DefaultDialer.Dial("ws"+strings.TrimPrefix(hs.URL, "http")+"/engine.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if _, open, err := c.ReadMessage(); err != nil || open[0] != '0' {
		t.Fatalf("open packet %q, %v", open, err)
	}
	select {
	case sock := <-sockets:
		return sock, c
	case <-time.After(5 * time.Second):
		t.Fatal("no connection")
		return nil, nil
	}
}
