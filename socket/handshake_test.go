package socket

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	engine "github.com/zishang520/socket.io/servers/engine/v3"
	socketio "github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// The patched library builds a socket's handshake when it is first asked
// for, not at every connect (third_party/zishang520-socket, patch 3). What
// it then holds is still the connect's: the query of the session's first
// request, the headers a socket keeps (keptHeaders: the rest of the
// request, the cookie with its login token among them, is let go at the
// connect, third_party/zishang520-engine patch 6), the time of the
// connect. The auth payload is let go at the connect too
// (third_party/zishang520-socket, patch 4): the login token in it is not
// kept for the socket's life, nor handed to another node that asks.
func TestHandshakeIsTheConnects(t *testing.T) {
	s := newTestServer(t, Config{})
	before := time.Now()
	header := http.Header{"User-Agent": {"orderbell-test"}, "X-Orderbell-Test": {"yes"}, "Cookie": {"theme=dark"}}
	_, answer := handshakeHeader(t, s.url+"&shop=7", header, map[string]any{"token": s.token(t, 1), "note": "hello"})
	if !strings.HasPrefix(answer, `40{"sid":`) {
		t.Fatalf("connect answered %q", answer)
	}
	after := time.Now()

	// Asked for later, through the adapter, as another node would.
	got := make(chan []*socketio.RemoteSocket, 1)
	s.io.Sockets().FetchSockets()(func(list []*socketio.RemoteSocket, err error) {
		if err != nil {
			t.Error(err)
		}
		got <- list
	})
	list := <-got
	if len(list) != 1 {
		t.Fatalf("%d sockets, want 1", len(list))
	}
	hs := list[0].Handshake()
	if h := hs.Headers["User-Agent"]; !reflect.DeepEqual(h, []string{"orderbell-test"}) {
		t.Errorf("header User-Agent = %#v, want [orderbell-test]", h)
	}
	for _, name := range []string{"X-Orderbell-Test", "Cookie"} {
		if h, kept := hs.Headers[name]; kept {
			t.Errorf("header %s = %#v: the request's other headers should have been let go", name, h)
		}
	}
	if q := hs.Query["shop"]; !reflect.DeepEqual(q, []string{"7"}) {
		t.Errorf("query shop = %#v, want [7]", q)
	}
	if len(hs.Auth) != 0 {
		t.Errorf("auth = %v, want it let go at the connect", hs.Auth)
	}
	if !strings.Contains(hs.Url, "shop=7") || !strings.HasPrefix(hs.Address, "127.0.0.1") {
		t.Errorf("url %q, address %q", hs.Url, hs.Address)
	}
	issued := time.UnixMilli(hs.Issued)
	if issued.Before(before.Truncate(time.Millisecond)) || issued.After(after) {
		t.Errorf("issued %v, want the connect's time, between %v and %v", issued, before, after)
	}
}

// The request and the auth are let go before the CONNECT answer is made, so
// no one can find them kept once the client is connected (in onConnection
// they went only after the answer was on its way). The engine makes the
// answer's packet (packetCreate) on the goroutine that connects the socket,
// so what this sees there is what any later reader could have seen.
func TestHandshakeLetGoBeforeTheAnswer(t *testing.T) {
	s := newTestServer(t, Config{})
	keptAtAnswer := make(chan bool, 1)
	_ = s.io.Engine().On("connection", func(args ...any) {
		conn := args[0].(engine.Socket)
		_ = conn.On("packetCreate", func(args ...any) {
			p, ok := args[0].(*packet.Packet)
			if !ok || p.Type != packet.MESSAGE {
				return
			}
			if b, ok := p.Data.(types.BufferInterface); ok && strings.HasPrefix(b.String(), "0") { // Socket.IO CONNECT
				select {
				case keptAtAnswer <- conn.Request().Headers().Peek("X-Orderbell-Test") != "":
				default:
				}
			}
		})
	})
	header := http.Header{"X-Orderbell-Test": {"yes"}}
	_, answer := handshakeHeader(t, s.url, header, map[string]any{"token": s.token(t, 1)})
	if !strings.HasPrefix(answer, `40{"sid":`) {
		t.Fatalf("connect answered %q", answer)
	}
	select {
	case kept := <-keptAtAnswer:
		if kept {
			t.Fatal("the CONNECT answer was made while the connection still kept its whole first request")
		}
	default:
		t.Fatal("no CONNECT packet was seen being made")
	}
}
