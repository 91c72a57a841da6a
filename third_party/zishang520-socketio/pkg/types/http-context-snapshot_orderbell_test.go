package types

import (
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
)

// orderbell patch: a request's snapshot answers what a finished request is
// still asked for, keeping only the headers named, and its context refuses
// to be written to.
func TestSnapshotKeepsTheRequestButTheOtherHeaders(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/socket.io/?EIO=4&transport=websocket&shop=7", nil)
	r.RemoteAddr = "192.0.2.7:4242"
	r.Host = "orderbell.example:3000"
	r.TLS = &tls.ConnectionState{}
	r.Header.Set("Cookie", "accessToken=abc")
	r.Header.Set("User-Agent", "test-agent")
	r.Header.Add("X-Forwarded-For", "198.51.100.1")
	r.Header.Add("X-Forwarded-For", "198.51.100.2")
	r.Header.Set("X-Other", "dropped")
	original := NewHttpContext(httptest.NewRecorder(), r)

	snap := original.Snapshot("cookie", "User-Agent", "X-Forwarded-For", "Origin")
	d := snap.Context()

	if got := d.Request().Header; !reflect.DeepEqual(got, http.Header{
		"Cookie":          {"accessToken=abc"},
		"User-Agent":      {"test-agent"},
		"X-Forwarded-For": {"198.51.100.1", "198.51.100.2"},
	}) {
		t.Errorf("headers %v: want the named ones present, no others", got)
	}
	if c, err := d.Request().Cookie("accessToken"); err != nil || c.Value != "abc" {
		t.Errorf("cookie %v, %v", c, err)
	}
	if got := d.Query().Peek("shop"); got != "7" {
		t.Errorf("query shop = %q", got)
	}
	if d.Method() != http.MethodGet || d.Path() != "socket.io" || d.Host() != "orderbell.example" || !d.Secure() ||
		d.UserAgent() != "test-agent" || d.Request().RemoteAddr != r.RemoteAddr || d.Request().RequestURI != r.RequestURI {
		t.Errorf("method %q path %q host %q secure %v agent %q remote %q uri %q", d.Method(), d.Path(), d.Host(),
			d.Secure(), d.UserAgent(), d.Request().RemoteAddr, d.Request().RequestURI)
	}

	// The snapshot shares nothing the original may still change.
	r.Header.Set("Cookie", "changed")
	r.URL.RawQuery = "shop=8"
	again := snap.Context()
	if c, _ := again.Request().Cookie("accessToken"); c == nil || c.Value != "abc" {
		t.Errorf("the snapshot's cookie followed the original: %v", c)
	}
	if got := again.Query().Peek("shop"); got != "7" {
		t.Errorf("the snapshot's query followed the original: %q", got)
	}

	// Finished: done, and no writes.
	if !d.IsDone() {
		t.Error("a snapshot's context is not done")
	}
	select {
	case <-d.Done():
	default:
		t.Error("Done is not closed")
	}
	if _, err := d.Write([]byte("x")); !errors.Is(err, ErrResponseAlreadyWritten) {
		t.Errorf("Write: %v, want ErrResponseAlreadyWritten", err)
	}
	if err := d.SetStatusCode(http.StatusTeapot); !errors.Is(err, ErrResponseAlreadyWritten) {
		t.Errorf("SetStatusCode: %v, want ErrResponseAlreadyWritten", err)
	}
	if d.Response() == nil || d.Response().Header() == nil {
		t.Error("a snapshot's context has a nil response")
	}
	// The original is untouched.
	if original.IsDone() || original.Request() != r {
		t.Error("Snapshot changed the original context")
	}
}

// A snapshot is two objects, itself and one copy of all its strings (with
// up to two headers kept), whatever the request: it lives as long as its
// connection, and each object is work for every mark of the collector.
func TestSnapshotIsTwoObjects(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/socket.io/?EIO=4&transport=websocket", nil)
	r.RemoteAddr = "192.0.2.7:4242"
	r.Header.Set("User-Agent", "test-agent")
	r.Header.Set("X-Forwarded-For", "198.51.100.1")
	original := NewHttpContext(httptest.NewRecorder(), r)
	var snap *RequestSnapshot
	if n := testing.AllocsPerRun(100, func() { snap = original.Snapshot("User-Agent", "X-Forwarded-For", "Origin") }); n > 2 {
		t.Fatalf("a snapshot takes %.0f allocations, want 2", n)
	}
	d := snap.Context().Request()
	if d.Method != "GET" || d.RemoteAddr != r.RemoteAddr || d.Host != r.Host || d.RequestURI != r.RequestURI || d.Proto != r.Proto ||
		d.Header.Get("User-Agent") != "test-agent" || d.Header.Get("X-Forwarded-For") != "198.51.100.1" {
		t.Fatalf("the snapshot's request is %+v", d)
	}
}
