package router_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/orderbell/orderbell/models"
	"github.com/orderbell/orderbell/models/dbtest"
	"github.com/orderbell/orderbell/router"
)

func TestLoginLimits(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *models.DB) {
		h := newHarness(t, db, router.Config{Limits: &router.Limits{LoginFailuresPerAccount: "3-H", LoginsPerAddress: "8-M"}})
		h.account(models.RoleClient, "victim@example.com")
		h.account(models.RoleClient, "other@example.com")
		login := func(email, password string) response {
			return h.do(req{method: "POST", path: "/login", body: map[string]any{"role": "client", "email": email, "password": password}})
		}
		for i := range 3 {
			if r := login("victim@example.com", "wrong-password"); r.status != 401 {
				t.Fatalf("failure %d: %d", i, r.status)
			}
		}
		// The account waits, even with the right password; the answer says how long.
		r := login("Victim@Example.com ", "password-123")
		retry, _ := strconv.Atoi(r.header.Get("Retry-After"))
		if r.status != 429 || retry < 1 || retry > 3600 {
			t.Fatalf("4th login: %d, Retry-After %q; want 429 and ≤ 1 h", r.status, r.header.Get("Retry-After"))
		}
		if len(r.header.Values("Set-Cookie")) != 0 {
			t.Error("a refused login set a cookie")
		}
		r.message(t)
		// Another account from the same address is not held back...
		if r := login("other@example.com", "password-123"); r.status != 200 {
			t.Fatalf("other account: %d %s", r.status, r.body)
		}
		// ...until the address itself has tried too often (8 per minute).
		statuses := []int{}
		for range 4 {
			statuses = append(statuses, login("other@example.com", "password-123").status)
		}
		if statuses[2] != 200 || statuses[3] != 429 {
			t.Errorf("attempts 6 to 9 from one address: %v; want the 9th refused", statuses)
		}
	})
}

func TestOrderLimit(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *models.DB) {
		h := newHarness(t, db, router.Config{Limits: &router.Limits{OrdersPerClient: "2-M"}})
		s := h.shop("owner@example.com")
		_, token := h.account(models.RoleClient, "client@example.com")
		_, other := h.account(models.RoleClient, "other@example.com")
		order := map[string]any{"store_id": s.storeID, "items": []any{map[string]any{"menu_id": s.menus[0], "count": 1}}}
		var got []int
		for range 3 {
			got = append(got, h.do(req{method: "POST", path: "/order", token: token, body: order}).status)
		}
		if got[0] != 201 || got[1] != 201 || got[2] != 429 {
			t.Fatalf("three orders in a minute with a limit of 2: %v", got)
		}
		if n := len(h.notes.all()); n != 2 {
			t.Errorf("%d alerts; the refused order rang", n)
		}
		if r := h.do(req{method: "POST", path: "/order", token: other, body: order}); r.status != 201 {
			t.Errorf("another customer was held back: %d", r.status)
		}
	})
}

func TestSecurityHeaders(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *models.DB) {
		h := newHarness(t, db, router.Config{})
		for _, path := range []string{"/stores", "/nope"} {
			r := h.do(req{method: "GET", path: path})
			csp := r.header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
				t.Errorf("%s: CSP %q", path, csp)
			}
			if r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("Referrer-Policy") == "" {
				t.Errorf("%s: headers %v", path, r.header)
			}
		}
	})
}

// Without trusted proxies, X-Forwarded-For cannot make one address look
// like many to the per-address limit.
func TestForwardedForIsNotTrusted(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *models.DB) {
		h := newHarness(t, db, router.Config{Limits: &router.Limits{LoginsPerAddress: "2-M"}})
		var last int
		for i := range 3 {
			last = h.do(req{method: "POST", path: "/login", header: map[string]string{"X-Forwarded-For": "10.0.0." + strconv.Itoa(i)},
				body: map[string]any{"role": "client", "email": "x@example.com", "password": "password-123"}}).status
		}
		if last != 429 {
			t.Errorf("3rd login with a new X-Forwarded-For each time: %d; want 429", last)
		}
	})
}
