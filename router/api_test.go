package router_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/orderbell/orderbell/models"
	"github.com/orderbell/orderbell/models/dbtest"
	"github.com/orderbell/orderbell/router"
)

func TestSignup(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *models.DB) {
		h := newHarness(t, db, router.Config{})
		h.account(models.RoleClient, "taken@example.com")
		form := rawBody{"application/x-www-form-urlencoded", "role=owner&email=form%40example.com&password=password-123&nickname=%EC%82%AC%EC%9E%A5"}
		tests := []struct {
			name   string
			body   any
			status int
		}{
			{"client", map[string]any{"role": "client", "email": "a@example.com", "password": "password-123", "nickname": "에이"}, 201},
			{"form-encoded owner", form, 201},
			{"same email, other role", map[string]any{"role": "owner", "email": "taken@example.com", "password": "password-123", "nickname": "x"}, 201},
			{"email taken for role", map[string]any{"role": "client", "email": "TAKEN@example.com", "password": "password-123", "nickname": "x"}, 409},
			{"unknown role", map[string]any{"role": "admin", "email": "b@example.com", "password": "password-123", "nickname": "x"}, 400},
			{"no role", map[string]any{"email": "b@example.com", "password": "password-123", "nickname": "x"}, 400},
			{"short password", map[string]any{"role": "client", "email": "b@example.com", "password": "1234567", "nickname": "x"}, 400},
			{"bad email", map[string]any{"role": "client", "email": "not-an-email", "password": "password-123", "nickname": "x"}, 400},
			{"email not a string", map[string]any{"role": "client", "email": 5, "password": "password-123", "nickname": "x"}, 400},
			{"no nickname", map[string]any{"role": "client", "email": "b@example.com", "password": "password-123"}, 400},
			{"malformed JSON", rawBody{"application/json", `{"role":`}, 400},
			{"JSON array", rawBody{"application/json", `[1,2]`}, 400},
			{"unsupported type", rawBody{"text/xml", `<a/>`}, 400},
			{"huge body", rawBody{"application/json", `{"nickname":"` + strings.Repeat("x", 2<<20) + `"}`}, 413},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := h.do(req{method: "POST", path: "/signup", body: tt.body})
				if r.status != tt.status {
					t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
				}
				if tt.status >= 400 {
					r.message(t)
				}
			})
		}
		// Only the three successful signups (and the setup one) exist.
		for _, login := range []struct{ role, email string }{{"client", "b@example.com"}, {"client", "not-an-email"}} {
			r := h.do(req{method: "POST", path: "/login", body: map[string]any{"role": login.role, "email": login.email, "password": "password-123"}})
			if r.status != 401 && r.status != 400 {
				t.Errorf("refused signup %s was stored: login gave %d", login.email, r.status)
			}
		}
	})
}

func TestLoginAndLogout(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *models.DB) {
		for _, secure := range []bool{false, true} {
			h := newHarness(t, db, router.Config{CookieSecure: secure})
			email := map[bool]string{false: "plain@example.com", true: "secure@example.com"}[secure]
			me, _ := h.account(models.RoleOwner, email)

			r := h.do(req{method: "POST", path: "/login", body: map[string]any{"role": "owner", "email": email, "password": "password-123"}})
			if r.status != 200 {
				t.Fatalf("login: %d %s", r.status, r.body)
			}
			var acc struct {
				ID   int64  `json:"id"`
				Role string `json:"role"`
			}
			r.json(t, &acc)
			if acc.ID != me.ID || acc.Role != "owner" {
				t.Errorf("login body = %+v, want id %d role owner", acc, me.ID)
			}
			cookie := (&http.Response{Header: r.header}).Cookies()[0]
			if cookie.Name != "accessToken" || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/" || cookie.Secure != secure {
				t.Errorf("cookie = %+v; want accessToken, HttpOnly, SameSite=Lax, Path=/, Secure=%v", cookie, secure)
			}
			p, exp, err := h.tokens.Parse(cookie.Value)
			if err != nil || p != me {
				t.Errorf("cookie token = %v, %v", p, err)
			}
			if d := time.Until(exp); d < 11*time.Hour || d > 12*time.Hour+time.Minute {
				t.Errorf("token lasts %v, want 12h", d)
			}
			// The cookie works for the API.
			if r := h.do(req{method: "GET", path: "/orders", token: cookie.Value}); r.status != 200 {
				t.Errorf("GET /orders with the login cookie: %d %s", r.status, r.body)
			}

			r = h.do(req{method: "POST", path: "/logout"})
			cleared := (&http.Response{Header: r.header}).Cookies()
			if r.status != 204 || len(cleared) != 1 || cleared[0].Name != "accessToken" || cleared[0].MaxAge >= 0 {
				t.Errorf("logout: %d, cookies %+v; want 204 and accessToken cleared", r.status, cleared)
			}
		}

		h := newHarness(t, db, router.Config{})
		tests := []struct {
			name   string
			body   any
			status int
		}{
			{"wrong password", map[string]any{"role": "owner", "email": "plain@example.com", "password": "password-999"}, 401},
			{"wrong role", map[string]any{"role": "client", "email": "plain@example.com", "password": "password-123"}, 401},
			{"unknown email", map[string]any{"role": "owner", "email": "nobody@example.com", "password": "password-123"}, 401},
			{"no password", map[string]any{"role": "owner", "email": "plain@example.com"}, 400},
			{"password not a string", map[string]any{"role": "owner", "email": "plain@example.com", "password": 12345678}, 400},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := h.do(req{method: "POST", path: "/login", body: tt.body})
				if r.status != tt.status || len(r.header.Values("Set-Cookie")) != 0 {
					t.Fatalf("status %d, cookies %v; want %d and no cookie: %s", r.status, r.header.Values("Set-Cookie"), tt.status, r.body)
				}
				r.message(t)
			})
		}
	})
}

func TestStoresAndMenus(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *models.DB) {
		h := newHarness(t, db, router.Config{})
		mine := h.shop("mine@example.com")
		other := h.shop("other@example.com")
		_, clientToken := h.account(models.RoleClient, "client@example.com")
		storePath := "/stores/" + itoa(mine.storeID)

		tests := []struct {
			name   string
			req    req
			status int
		}{
			{"owner opens a store", req{method: "POST", path: "/stores", token: mine.token, body: map[string]any{"name": "두번째 가게"}}, 201},
			{"store name missing", req{method: "POST", path: "/stores", token: mine.token, body: map[string]any{}}, 400},
			{"store name blank", req{method: "POST", path: "/stores", token: mine.token, body: map[string]any{"name": "  "}}, 400},
			{"client opens a store", req{method: "POST", path: "/stores", token: clientToken, body: map[string]any{"name": "x"}}, 403},
			{"anonymous opens a store", req{method: "POST", path: "/stores", body: map[string]any{"name": "x"}}, 401},
			{"forged token", req{method: "POST", path: "/stores", token: "eyJhbGciOiJub25lIn0.eyJvd25lcl9pZCI6MX0.", body: map[string]any{"name": "x"}}, 401},
			{"owner adds a menu", req{method: "POST", path: storePath + "/menus", token: mine.token, body: map[string]any{"name": "라면", "price": 4000}}, 201},
			{"menu price as form text", req{method: "POST", path: storePath + "/menus", token: mine.token, body: rawBody{"application/x-www-form-urlencoded", "name=%EB%A7%8C%EB%91%90&price=3000"}}, 201},
			{"menu on another's store", req{method: "POST", path: storePath + "/menus", token: other.token, body: map[string]any{"name": "x", "price": 1000}}, 403},
			{"menu by a client", req{method: "POST", path: storePath + "/menus", token: clientToken, body: map[string]any{"name": "x", "price": 1000}}, 403},
			{"menu on no store", req{method: "POST", path: "/stores/999999/menus", token: mine.token, body: map[string]any{"name": "x", "price": 1000}}, 404},
			{"menu price zero", req{method: "POST", path: storePath + "/menus", token: mine.token, body: map[string]any{"name": "x", "price": 0}}, 400},
			{"menu price fraction", req{method: "POST", path: storePath + "/menus", token: mine.token, body: map[string]any{"name": "x", "price": 1.5}}, 400},
			{"menu price text", req{method: "POST", path: storePath + "/menus", token: mine.token, body: map[string]any{"name": "x", "price": "abc"}}, 400},
			{"menu price bool", req{method: "POST", path: storePath + "/menus", token: mine.token, body: map[string]any{"name": "x", "price": true}}, 400},
			{"menu bad store id", req{method: "POST", path: "/stores/abc/menus", token: mine.token, body: map[string]any{"name": "x", "price": 1}}, 400},
			{"get a store", req{method: "GET", path: storePath}, 200},
			{"get no store", req{method: "GET", path: "/stores/999999"}, 404},
			{"get bad store id", req{method: "GET", path: "/stores/-1"}, 400},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := h.do(tt.req)
				if r.status != tt.status {
					t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
				}
				if tt.status >= 400 {
					r.message(t)
				}
			})
		}

		var list []struct {
			StoreID int64  `json:"store_id"`
			Name    string `json:"name"`
			OwnerID int64  `json:"owner_id"`
		}
		h.do(req{method: "GET", path: "/stores"}).json(t, &list)
		if len(list) != 3 || list[0].StoreID != mine.storeID || list[0].OwnerID != mine.owner.ID || list[2].Name != "두번째 가게" {
			t.Errorf("GET /stores = %+v; want mine, other's, then 두번째 가게", list)
		}
		var store struct {
			StoreID int64 `json:"store_id"`
			OwnerID int64 `json:"owner_id"`
			Menus   []struct {
				MenuID int64  `json:"menu_id"`
				Name   string `json:"name"`
				Price  int64  `json:"price"`
			} `json:"menus"`
		}
		h.do(req{method: "GET", path: storePath}).json(t, &store)
		if len(store.Menus) != 4 || store.Menus[2].Name != "라면" || store.Menus[2].Price != 4000 || store.Menus[3].Price != 3000 {
			t.Errorf("menus = %+v; want the 2 from setup, 라면 4000 and 만두 3000 (refused menus not stored)", store.Menus)
		}
	})
}

func TestPlaceOrder(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *models.DB) {
		h := newHarness(t, db, router.Config{})
		s := h.shop("owner@example.com")
		other := h.shop("other@example.com")
		client, token := h.account(models.RoleClient, "client@example.com")
		item := func(menu int64, count any) map[string]any { return map[string]any{"menu_id": menu, "count": count} }

		tests := []struct {
			name   string
			token  string
			body   any
			status int
		}{
			{"anonymous", "", map[string]any{"store_id": s.storeID, "items": []any{item(s.menus[0], 1)}}, 401},
			{"owner orders", s.token, map[string]any{"store_id": s.storeID, "items": []any{item(s.menus[0], 1)}}, 403},
			{"no such store", token, map[string]any{"store_id": 999999, "items": []any{item(s.menus[0], 1)}}, 404},
			{"no store_id", token, map[string]any{"items": []any{item(s.menus[0], 1)}}, 400},
			{"store_id text", token, map[string]any{"store_id": "one", "items": []any{item(s.menus[0], 1)}}, 400},
			{"no items", token, map[string]any{"store_id": s.storeID, "items": []any{}}, 400},
			{"items not a list", token, map[string]any{"store_id": s.storeID, "items": "lots"}, 400},
			{"item not an object", token, map[string]any{"store_id": s.storeID, "items": []any{5}}, 400},
			{"count zero", token, map[string]any{"store_id": s.storeID, "items": []any{item(s.menus[0], 0)}}, 400},
			{"count 100", token, map[string]any{"store_id": s.storeID, "items": []any{item(s.menus[0], 100)}}, 400},
			{"count fraction", token, map[string]any{"store_id": s.storeID, "items": []any{item(s.menus[0], 1.5)}}, 400},
			{"menu of another store", token, map[string]any{"store_id": s.storeID, "items": []any{item(other.menus[0], 1)}}, 400},
			{"second menu of another store", token, map[string]any{"store_id": s.storeID, "items": []any{item(s.menus[0], 1), item(other.menus[0], 1)}}, 400},
			{"no such store, two menus", token, map[string]any{"store_id": 999999, "items": []any{item(s.menus[0], 1), item(s.menus[1], 1)}}, 404},
			{"menu twice", token, map[string]any{"store_id": s.storeID, "items": []any{item(s.menus[0], 1), item(s.menus[0], 2)}}, 400},
			{"huge body", token, rawBody{"application/json", `{"store_id":1,"items":[` + strings.Repeat(`{"menu_id":1,"count":1},`, 60000) + `{}]}`}, 413},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := h.do(req{method: "POST", path: "/order", token: tt.token, body: tt.body})
				if r.status != tt.status {
					t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
				}
				r.message(t)
			})
		}
		if n := len(h.notes.all()); n != 0 {
			t.Fatalf("refused orders sent %d alerts", n)
		}
		var orders []map[string]any
		h.do(req{method: "GET", path: "/orders", token: token}).json(t, &orders)
		if len(orders) != 0 {
			t.Fatalf("refused orders were stored: %v", orders)
		}

		// JSON and jQuery-style form bodies both place an order.
		bodies := []any{
			map[string]any{"store_id": s.storeID, "items": []any{item(s.menus[0], 2), item(s.menus[1], "1")}},
			rawBody{"application/x-www-form-urlencoded", "store_id=" + itoa(s.storeID) +
				"&items%5B0%5D%5Bmenu_id%5D=" + itoa(s.menus[0]) + "&items%5B0%5D%5Bcount%5D=2" +
				"&items%5B1%5D%5Bmenu_id%5D=" + itoa(s.menus[1]) + "&items%5B1%5D%5Bcount%5D=1"},
		}
		var placed []float64 // the order ids, in the order placed
		for i, body := range bodies {
			r := h.do(req{method: "POST", path: "/order", token: token, body: body})
			if r.status != 201 {
				t.Fatalf("order %d: %d %s", i, r.status, r.body)
			}
			var got struct {
				OrderID    int64 `json:"order_id"`
				OwnerID    int64 `json:"owner_id"`
				StoreID    int64 `json:"store_id"`
				Status     *int  `json:"status"`
				TotalPrice int64 `json:"total_price"`
			}
			r.json(t, &got)
			if got.OrderID <= 0 || got.OwnerID != s.owner.ID || got.StoreID != s.storeID || got.Status == nil || *got.Status != 0 || got.TotalPrice != 4500 {
				t.Errorf("order %d = %s; want owner %d, store %d, status 0, total 4500", i, r.body, s.owner.ID, s.storeID)
			}
			placed = append(placed, float64(got.OrderID))
			notes := h.notes.all()
			if len(notes) != i+1 {
				t.Fatalf("%d alerts after %d orders", len(notes), i+1)
			}
			n := notes[i]
			if n.Event != "SUBMIT_ORDER" || n.Recipient() != s.owner || n.OrderID != got.OrderID || n.TotalPrice != 4500 || n.ID <= 0 {
				t.Errorf("alert = %+v; want SUBMIT_ORDER to %v for order %d", n, s.owner, got.OrderID)
			}
		}
		h.do(req{method: "GET", path: "/orders", token: token}).json(t, &orders)
		if len(orders) != 2 || orders[0]["client_id"] != float64(client.ID) || len(orders[0]["items"].([]any)) != 2 {
			t.Fatalf("GET /orders = %v; want two orders of client %d with two items each", orders, client.ID)
		}
		// Newest first (SPEC §3).
		if orders[0]["order_id"] != placed[1] || orders[1]["order_id"] != placed[0] {
			t.Errorf("GET /orders lists orders %v, %v; want the newest first: %v, %v", orders[0]["order_id"], orders[1]["order_id"], placed[1], placed[0])
		}
	})
}

func TestAcceptOrder(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *models.DB) {
		h := newHarness(t, db, router.Config{})
		s := h.shop("owner@example.com")
		other := h.shop("other@example.com")
		client, token := h.account(models.RoleClient, "client@example.com")
		r := h.do(req{method: "POST", path: "/order", token: token, body: map[string]any{"store_id": s.storeID, "items": []any{map[string]any{"menu_id": s.menus[1], "count": 3}}}})
		var placed struct {
			OrderID int64 `json:"order_id"`
		}
		r.json(t, &placed)
		path := "/order-receive/" + itoa(placed.OrderID)

		tests := []struct {
			name   string
			token  string
			path   string
			status int
		}{
			{"anonymous", "", path, 401},
			{"the client", token, path, 403},
			{"another owner", other.token, path, 403},
			{"no such order", s.token, "/order-receive/999999", 404},
			{"bad id", s.token, "/order-receive/abc", 400},
			{"the store's owner", s.token, path, 200},
			{"again", s.token, path, 409},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := h.do(req{method: "PATCH", path: tt.path, token: tt.token})
				if r.status != tt.status {
					t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
				}
				if tt.status != 200 {
					r.message(t)
					return
				}
				var got map[string]any
				r.json(t, &got)
				if got["order_id"] != float64(placed.OrderID) || got["client_id"] != float64(client.ID) || got["status"] != float64(1) {
					t.Errorf("accept = %v; want order %d, client %d, status 1", got, placed.OrderID, client.ID)
				}
			})
		}
		notes := h.notes.all()
		if len(notes) != 2 || notes[1].Event != "APPROVAL_ORDER" || notes[1].Recipient() != client || notes[1].OrderID != placed.OrderID {
			t.Fatalf("alerts = %+v; want SUBMIT_ORDER then one APPROVAL_ORDER to %v", notes, client)
		}
		var orders []map[string]any
		h.do(req{method: "GET", path: "/orders", token: s.token}).json(t, &orders)
		if len(orders) != 1 || orders[0]["status"] != float64(1) {
			t.Errorf("owner's GET /orders = %v; want the accepted order", orders)
		}
		h.do(req{method: "GET", path: "/orders", token: other.token}).json(t, &orders)
		if len(orders) != 0 {
			t.Errorf("another owner sees %v", orders)
		}
	})
}

func TestNotifications(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *models.DB) {
		h := newHarness(t, db, router.Config{})
		s := h.shop("owner@example.com")
		_, token := h.account(models.RoleClient, "client@example.com")
		for range 3 {
			r := h.do(req{method: "POST", path: "/order", token: token, body: map[string]any{"store_id": s.storeID, "items": []any{map[string]any{"menu_id": s.menus[0], "count": 1}}}})
			if r.status != 201 {
				t.Fatalf("order: %d %s", r.status, r.body)
			}
		}
		type note struct {
			NotificationID int64  `json:"notification_id"`
			Event          string `json:"event"`
			Message        string `json:"message"`
			Read           bool   `json:"read"`
		}
		var all []note
		r := h.do(req{method: "GET", path: "/notifications", token: s.token})
		r.json(t, &all)
		if len(all) != 3 || all[0].NotificationID >= all[2].NotificationID || all[0].Event != "SUBMIT_ORDER" || all[0].Message != "주문이 들어왔습니다." || r.header.Get("X-Unread-Count") != "3" {
			t.Fatalf("notifications = %+v, unread %s; want 3 SUBMIT_ORDER oldest first, 3 unread", all, r.header.Get("X-Unread-Count"))
		}
		var after []note
		h.do(req{method: "GET", path: "/notifications?after=" + itoa(all[0].NotificationID), token: s.token}).json(t, &after)
		if len(after) != 2 || after[0].NotificationID != all[1].NotificationID {
			t.Errorf("after %d = %+v; want the last two", all[0].NotificationID, after)
		}
		var clientNotes []note
		h.do(req{method: "GET", path: "/notifications", token: token}).json(t, &clientNotes)
		if len(clientNotes) != 0 {
			t.Errorf("the client sees the owner's alerts: %+v", clientNotes)
		}

		for _, tt := range []struct {
			name   string
			token  string
			body   any
			status int
		}{
			{"anonymous", "", map[string]any{"up_to_id": 1}, 401},
			{"no up_to_id", s.token, map[string]any{}, 400},
			{"up_to_id text", s.token, map[string]any{"up_to_id": "x"}, 400},
			{"another's alerts", token, map[string]any{"up_to_id": all[2].NotificationID}, 204},
			{"read two", s.token, map[string]any{"up_to_id": all[1].NotificationID}, 204},
		} {
			r := h.do(req{method: "POST", path: "/notifications/read", token: tt.token, body: tt.body})
			if r.status != tt.status {
				t.Errorf("%s: status %d, want %d: %s", tt.name, r.status, tt.status, r.body)
			}
		}
		r = h.do(req{method: "GET", path: "/notifications", token: s.token})
		r.json(t, &all)
		if r.header.Get("X-Unread-Count") != "1" || !all[0].Read || !all[1].Read || all[2].Read {
			t.Errorf("after reading two: unread %s, %+v", r.header.Get("X-Unread-Count"), all)
		}
		if r := h.do(req{method: "GET", path: "/notifications?after=-3", token: s.token}); r.status != 400 {
			t.Errorf("after=-3: %d", r.status)
		}
	})
}

func TestForeignOrigin(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *models.DB) {
		h := newHarness(t, db, router.Config{AllowedOrigins: []string{"https://shop.example"}})
		s := h.shop("owner@example.com")
		_, token := h.account(models.RoleClient, "client@example.com")
		order := map[string]any{"store_id": s.storeID, "items": []any{map[string]any{"menu_id": s.menus[0], "count": 1}}}
		for _, tt := range []struct {
			origin string
			status int
		}{
			{"https://evil.example", 403},
			{"null", 403},
			{h.url, 201},
			{"https://shop.example", 201},
		} {
			r := h.do(req{method: "POST", path: "/order", token: token, body: order, header: map[string]string{"Origin": tt.origin}})
			if r.status != tt.status {
				t.Errorf("Origin %s: status %d, want %d: %s", tt.origin, r.status, tt.status, r.body)
			}
			if tt.origin == "https://shop.example" && (r.header.Get("Access-Control-Allow-Origin") != tt.origin || r.header.Get("Access-Control-Allow-Credentials") != "true") {
				t.Errorf("allowed origin got CORS headers %v", r.header)
			}
		}
		if n := len(h.notes.all()); n != 2 {
			t.Errorf("%d orders alerted; want 2 (the refused ones write nothing)", n)
		}
		// An allowed page's preflight may name its socket (X-Socket-Id).
		pre := h.do(req{method: "OPTIONS", path: "/order", header: map[string]string{
			"Origin": "https://shop.example", "Access-Control-Request-Method": "POST",
			"Access-Control-Request-Headers": "content-type,x-socket-id",
		}})
		if allowed := strings.ToLower(pre.header.Get("Access-Control-Allow-Headers")); pre.status >= 300 || !strings.Contains(allowed, "x-socket-id") {
			t.Errorf("preflight with X-Socket-Id: %d, allowed headers %q", pre.status, allowed)
		}
		// A foreign page never gets a CORS grant, so it cannot read answers.
		if r := h.do(req{method: "GET", path: "/orders", token: token, header: map[string]string{"Origin": "https://evil.example"}}); r.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("GET /orders from evil: %d with ACAO %q", r.status, r.header.Get("Access-Control-Allow-Origin"))
		}
	})
}

// A token that is valid except for its algorithm is refused by the API.
func TestAPIRefusesOtherAlgorithms(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *models.DB) {
		h := newHarness(t, db, router.Config{})
		s := h.shop("owner@example.com")
		hs512, _ := jwt.NewWithClaims(jwt.SigningMethodHS512, jwt.MapClaims{"owner_id": s.owner.ID, "exp": time.Now().Add(time.Hour).Unix()}).SignedString([]byte("router-test-key"))
		if r := h.do(req{method: "GET", path: "/orders", token: hs512}); r.status != 401 {
			t.Errorf("HS512 token: %d", r.status)
		}
		r := h.do(req{method: "GET", path: "/orders", header: map[string]string{"Authorization": "Bearer " + s.token}})
		if r.status != 200 {
			t.Errorf("Bearer token: %d %s", r.status, r.body)
		}
	})
}

// X-Socket-Id names the device making a change: its ORDER_UPDATED skips
// that socket. A well-formed id reaches the notifier with its change (the
// socket tests check what the devices then get); one that is no socket id
// is refused with a message, and nothing is stored or sent.
func TestSocketIDOfTheActingDevice(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *models.DB) {
		h := newHarness(t, db, router.Config{})
		s := h.shop("owner@example.com")
		_, token := h.account(models.RoleClient, "client@example.com")
		order := map[string]any{"store_id": s.storeID, "items": []any{map[string]any{"menu_id": s.menus[0], "count": 1}}}
		place := func(sid string) response {
			return h.do(req{method: "POST", path: "/order", token: token, body: order, header: map[string]string{"X-Socket-Id": sid}})
		}
		accept := func(id int64, sid string) response {
			return h.do(req{method: "PATCH", path: "/order-receive/" + itoa(id), token: s.token, header: map[string]string{"X-Socket-Id": sid}})
		}

		for _, bad := range []string{"has space", "semi;colon", "a/b", strings.Repeat("x", 37), "\"quoted\""} {
			if r := place(bad); r.status != 400 || !strings.Contains(r.message(t), "X-Socket-Id") {
				t.Errorf("POST /order with X-Socket-Id %q: %d %s; want 400 naming the header", bad, r.status, r.body)
			}
		}
		var orders []map[string]any
		h.do(req{method: "GET", path: "/orders", token: token}).json(t, &orders)
		if len(orders) != 0 || len(h.notes.all()) != 0 || len(h.notes.allUpdates()) != 0 {
			t.Fatalf("refused orders left %d orders, %d alerts, %d updates", len(orders), len(h.notes.all()), len(h.notes.allUpdates()))
		}

		var placed, plain struct {
			OrderID int64 `json:"order_id"`
		}
		r := place("Aq3_x-9ZkLmN0pQrStUvWxYz")
		r.json(t, &placed)
		place("").json(t, &plain) // an empty header is no header
		if r := accept(placed.OrderID, "not a socket"); r.status != 400 {
			t.Fatalf("PATCH with a malformed X-Socket-Id: %d %s; want 400", r.status, r.body)
		}
		if r := accept(placed.OrderID, "owner-tablet_2"); r.status != 200 {
			t.Fatalf("PATCH: %d %s", r.status, r.body)
		}
		want := []update{
			{placed.OrderID, models.StatusPending, "Aq3_x-9ZkLmN0pQrStUvWxYz"},
			{plain.OrderID, models.StatusPending, ""},
			{placed.OrderID, models.StatusAccepted, "owner-tablet_2"},
		}
		if got := h.notes.allUpdates(); !slices.Equal(got, want) {
			t.Fatalf("updates %+v, want %+v", got, want)
		}
		if n := len(h.notes.all()); n != 3 {
			t.Fatalf("%d alerts, want 3: the header never holds an alert back", n)
		}
	})
}
