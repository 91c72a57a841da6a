package engine

import (
	"net/http/httptest"
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
	srv := NewServer(config.DefaultServerOptions())
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
	srv.On("connection", func(args ...any) {
		sock := args[0].(Socket)
		_ = sock.On("packetCreate", record("packetCreate"))
		_ = sock.On("flush", record("flush"))
		sockets <- sock
	})
	_ = srv.On("flush", record("server flush"))
	_ = srv.On("drain", record("server drain"))

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
	// The open packet's own events came before the listeners were added.
	for len(events) > 0 {
		<-events
	}

	sock.Write(strings.NewReader("hello"), nil, nil)
	if _, msg, err := c.ReadMessage(); err != nil || string(msg) != "4hello" {
		t.Fatalf("read %q, %v", msg, err)
	}
	want := []string{"packetCreate", "flush", "server flush", "server drain"}
	got := map[string][]any{}
	for len(got) < len(want) {
		select {
		case e := <-events:
			got[e.name] = e.args
		case <-time.After(5 * time.Second):
			t.Fatalf("events %v, want %v", got, want)
		}
	}
	if p, ok := got["packetCreate"][0].(*packet.Packet); !ok || p.Type != packet.MESSAGE {
		t.Errorf("packetCreate %v", got["packetCreate"])
	}
	if wbuf, ok := got["flush"][0].([]*packet.Packet); !ok || len(wbuf) != 1 || wbuf[0].Type != packet.MESSAGE {
		t.Errorf("flush %v", got["flush"])
	}
	if s, ok := got["server flush"][0].(Socket); !ok || s != sock || len(got["server flush"]) != 2 {
		t.Errorf("server flush %v", got["server flush"])
	}
	if s, ok := got["server drain"][0].(Socket); !ok || s != sock {
		t.Errorf("server drain %v", got["server drain"])
	}
}
