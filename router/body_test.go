package router_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/orderbell/orderbell/auth"
	"github.com/orderbell/orderbell/models"
	"github.com/orderbell/orderbell/models/dbtest"
	"github.com/orderbell/orderbell/router"
)

// TestBodyAsAnnounced: a body is read as its Content-Length announces,
// whichever way it is read (small bodies into a buffer of their size,
// larger or unannounced ones as they come). One that ends before its
// announced length is refused with a 400 and places nothing.
func TestBodyAsAnnounced(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *models.DB) {
		h := newHarness(t, db, router.Config{})
		s := h.shop("owner@example.com")
		_, token := h.account(models.RoleClient, "client@example.com")
		order := fmt.Sprintf(`{"store_id":%d,"items":[{"menu_id":%d,"count":1}]}`, s.storeID, s.menus[0])

		// Small, and over 4 KB (the padding is whitespace JSON allows).
		for _, body := range []string{order, order + strings.Repeat(" ", 5000)} {
			if r := h.do(req{method: "POST", path: "/order", token: token, body: rawBody{"application/json", body}}); r.status != http.StatusCreated {
				t.Fatalf("%d-byte order: %d %s", len(body), r.status, r.body)
			}
		}
		// Unannounced (chunked): read as it comes.
		conn, err := net.Dial("tcp", strings.TrimPrefix(h.url, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /order HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nCookie: %s=%s\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n",
			auth.CookieName, token, len(order), order)
		br := bufio.NewReader(conn)
		next := func() response {
			t.Helper()
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			return responseOf(resp)
		}
		if r := next(); r.status != http.StatusCreated {
			t.Fatalf("chunked order: %d %s", r.status, r.body)
		}
		orders := func() int {
			t.Helper()
			var list []map[string]any
			h.do(req{method: "GET", path: "/orders", token: token}).json(t, &list)
			return len(list)
		}
		if n := orders(); n != 3 {
			t.Fatalf("%d orders placed of 3", n)
		}

		// Ten bytes short of what it announced, then the client stops sending.
		fmt.Fprintf(conn, "POST /order HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nCookie: %s=%s\r\nContent-Length: %d\r\n\r\n%s",
			auth.CookieName, token, len(order)+10, order)
		if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
		r := next()
		if r.status != http.StatusBadRequest {
			t.Fatalf("short body: %d %s", r.status, r.body)
		}
		if msg := r.message(t); !strings.Contains(msg, "could not read the request body") {
			t.Errorf("short body: %q", msg)
		}
		// A rejected request writes nothing (SPEC §3).
		if n := orders(); n != 3 {
			t.Fatalf("the short body placed an order: %d orders", n)
		}
		if n := len(h.notes.all()); n != 3 {
			t.Fatalf("the short body sent an alert: %d alerts", n)
		}
	})
}
