package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"
)

// dialRelay opens a WebSocket to the relay, reads its open packet and
// sends the namespace CONNECT with token; it returns the connection and
// the server's answer to the CONNECT.
func dialRelay(t *testing.T, url, token string) (*websocket.Conn, string) {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(url, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, open, err := c.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		SID          string `json:"sid"`
		PingInterval int    `json:"pingInterval"`
	}
	if len(open) == 0 || open[0] != '0' || json.Unmarshal(open[1:], &o) != nil || o.SID == "" || o.PingInterval != 25000 {
		t.Fatalf("open packet %q", open)
	}
	auth, _ := json.Marshal(map[string]string{"token": token})
	if err := c.WriteMessage(websocket.TextMessage, append([]byte("40"), auth...)); err != nil {
		t.Fatal(err)
	}
	_, answer, err := c.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	return c, string(answer)
}

func token(t *testing.T, key string, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// startRelay serves a relay with key on a test server, stopped when the
// test ends.
func startRelay(t *testing.T, key string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	var conns atomic.Int64
	stop, err := serveRelay(mux, &conns, key)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { srv.Close(); stop() })
	return srv
}

func TestRelayDeliversToTheRoomOfTheIDNamed(t *testing.T) {
	srv := startRelay(t, "k")

	owner, ok1 := dialRelay(t, srv.URL, token(t, "k", jwt.MapClaims{"owner_id": 7}))
	other, ok2 := dialRelay(t, srv.URL, token(t, "k", jwt.MapClaims{"owner_id": 8}))
	client, ok3 := dialRelay(t, srv.URL, token(t, "k", jwt.MapClaims{"client_id": 1007}))
	for _, ok := range []string{ok1, ok2, ok3} {
		if !strings.HasPrefix(ok, `40{"sid":"`) {
			t.Fatalf("CONNECT answered %q", ok)
		}
	}

	if err := client.WriteMessage(websocket.TextMessage, []byte(`42["SUBMIT_ORDER",{"owner_id":7,"order_id":31}]`)); err != nil {
		t.Fatal(err)
	}
	_, got, err := owner.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if want := `42["SUBMIT_ORDER",{"message":"주문이 들어왔습니다.","owner_id":7,"order_id":31}]`; string(got) != want {
		t.Fatalf("owner 7 got %q, want %q", got, want)
	}
	if err := owner.WriteMessage(websocket.TextMessage, []byte(`42["APPROVAL_ORDER",{"client_id":1007,"order_id":31}]`)); err != nil {
		t.Fatal(err)
	}
	_, got, err = client.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if want := `42["APPROVAL_ORDER",{"message":"주문이 승인되었습니다.","client_id":1007,"order_id":31}]`; string(got) != want {
		t.Fatalf("client 1007 got %q, want %q", got, want)
	}
	// Owner 8 was in no room named: nothing came to it.
	_ = other.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if _, msg, err := other.ReadMessage(); err == nil {
		t.Fatalf("owner 8 got %q", msg)
	}
}

func TestRelayRefusesAForgedToken(t *testing.T) {
	srv := startRelay(t, "k")
	for _, tok := range []string{token(t, "not-k", jwt.MapClaims{"owner_id": 7}), token(t, "k", jwt.MapClaims{}), "x"} {
		if _, answer := dialRelay(t, srv.URL, tok); answer != `44{"message":"unauthorized"}` {
			t.Errorf("token %.20q: CONNECT answered %q", tok, answer)
		}
	}
}
