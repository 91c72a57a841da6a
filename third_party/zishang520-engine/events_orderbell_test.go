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
)

// orderbell: sendPacket and flush make their events' arguments only when
// someone listens (patch 13). Whoever does still gets every event, with
// the arguments upstream gave: packetCreate with the packet, the socket's
// flush with the packets, the server's flush and drain with the socket.
func TestPacketEventsReachTheirListeners(t *testing.T) {
	opts := config.DefaultServerOptions()
	opts.SetPingInterval(time.Hour) // no ping among the packets watched
	srv := NewServer(opts)
	t.Cleanup(func() { srv.Close() })

	type event struct {
		name string
		args []any
	}
	events := make(chan event, 64)
	record := func(name string) func(...any) {
		return func(args ...any) { events <- event{name, args} }
	}
	sockets := make(chan Socket, 1)
	// Added once the socket is open: its OPEN packet was made and flushed
	// before the server announced the connection.
	srv.On("connection", func(args ...any) {
		sock := args[0].(Socket)
		_ = sock.On("packetCreate", record("packetCreate"))
		_ = sock.On("flush", record("flush"))
		_ = srv.On("flush", record("server flush"))
		_ = srv.On("drain", record("server drain"))
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
	var sock Socket
	select {
	case sock = <-sockets:
	case <-time.After(5 * time.Second):
		t.Fatal("no connection")
	}

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
