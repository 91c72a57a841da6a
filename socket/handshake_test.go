package socket

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	socketio "github.com/zishang520/socket.io/servers/socket/v3"
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
