package engine

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	ws "github.com/gorilla/websocket"

	"github.com/zishang520/socket.io/servers/engine/v3/config"
)

// orderbell: the open packet is marshalled from a struct, not a map. A
// client still gets exactly upstream's five fields with the server's
// settings: the socket's id, the upgrades its transport can make (polling
// to websocket; none from websocket), the heartbeat and the payload limit.
func TestOpenPacketCarriesTheHandshake(t *testing.T) {
	opts := config.DefaultServerOptions()
	opts.SetPingInterval(12345 * time.Millisecond)
	opts.SetPingTimeout(6789 * time.Millisecond)
	opts.SetMaxHttpBufferSize(4321)
	srv := NewServer(opts)
	t.Cleanup(func() { srv.Close() })
	ids := make(chan string, 2)
	srv.On("connection", func(args ...any) { ids <- string(args[0].(Socket).Id()) })
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	base := hs.URL + "/engine.io/?EIO=4&transport="

	res, err := http.Get(base + "polling")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	checkOpen(t, "polling", string(body), <-ids, []string{"websocket"})

	c, _, err := ws.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_, open, err := c.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	checkOpen(t, "websocket", string(open), <-ids, []string{})
}

func checkOpen(t *testing.T, transport, open, sid string, upgrades []string) {
	t.Helper()
	data, ok := strings.CutPrefix(open, "0")
	if !ok {
		t.Fatalf("%s: open packet %q", transport, open)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(data), &fields); err != nil {
		t.Fatalf("%s: open packet %q: %v", transport, open, err)
	}
	want := map[string]string{
		"sid":          `"` + sid + `"`,
		"pingInterval": "12345",
		"pingTimeout":  "6789",
		"maxPayload":   "4321",
	}
	var got []string
	if err := json.Unmarshal(fields["upgrades"], &got); err != nil || got == nil || !slices.Equal(got, upgrades) {
		t.Errorf("%s: upgrades %s, want %q", transport, fields["upgrades"], upgrades)
	}
	delete(fields, "upgrades")
	for k, v := range want {
		if string(fields[k]) != v {
			t.Errorf("%s: %s is %s, want %s", transport, k, fields[k], v)
		}
		delete(fields, k)
	}
	if len(fields) != 0 {
		t.Errorf("%s: fields upstream does not send: %v", transport, fields)
	}
}
