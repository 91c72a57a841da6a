package router_test

import (
	"net/http"
	"testing"

	"github.com/orderbell/orderbell/models"
	"github.com/orderbell/orderbell/models/dbtest"
	"github.com/orderbell/orderbell/router"
)

// SPEC §3: a database that cannot be reached is 503 with a message, and a
// rejected request writes nothing; once it is back, requests work again.
func TestDatabaseUnavailableIs503(t *testing.T) {
	engines := dbtest.Engines(t)
	if len(engines) < 2 {
		t.Skipf("%s not set", dbtest.MySQLEnv)
	}
	proxy, url := dbtest.BehindProxy(t, engines[1].URL(t))
	h := newHarness(t, dbtest.Open(t, url), router.Config{})
	s := h.shop("owner@example.com")
	_, token := h.account(models.RoleClient, "client@example.com")
	order := req{method: "POST", path: "/order", token: token,
		body: map[string]any{"store_id": s.storeID, "items": []any{map[string]any{"menu_id": s.menus[0], "count": 1}}}}

	proxy.Cut()
	for _, r := range []req{order, {method: "GET", path: "/orders", token: token}, {method: "GET", path: "/stores"}} {
		resp := h.do(r)
		if resp.status != http.StatusServiceUnavailable || resp.message(t) == "" {
			t.Errorf("%s %s while the database is away: %d %s; want 503 with a message", r.method, r.path, resp.status, resp.body)
		}
	}
	if sent := h.notes.all(); len(sent) != 0 {
		t.Errorf("%d alerts sent for refused orders", len(sent))
	}

	proxy.Restore()
	var orders []map[string]any
	h.do(req{method: "GET", path: "/orders", token: token}).json(t, &orders)
	if len(orders) != 0 {
		t.Errorf("after the outage the customer has %d orders; the refused one wrote something", len(orders))
	}
	if r := h.do(order); r.status != http.StatusCreated {
		t.Errorf("order after the outage: %d %s", r.status, r.body)
	}
	if sent := h.notes.all(); len(sent) != 1 {
		t.Errorf("%d alerts sent; want the one order's", len(sent))
	}
}
