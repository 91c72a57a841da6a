package router_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orderbell/orderbell/auth"
	"github.com/orderbell/orderbell/models"
	"github.com/orderbell/orderbell/router"
)

// recorder is a Notifier that keeps what it was asked to deliver.
type recorder struct {
	mu      sync.Mutex
	sent    []models.Notification
	updates []update
}

// update is one OrderUpdated call.
type update struct {
	orderID int64
	status  int
	origin  string
}

func (r *recorder) Notify(n models.Notification) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, n)
}

func (r *recorder) OrderUpdated(o models.Order, origin string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.updates = append(r.updates, update{o.ID, o.Status, origin})
}

func (r *recorder) allUpdates() []update {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]update(nil), r.updates...)
}

func (r *recorder) all() []models.Notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]models.Notification(nil), r.sent...)
}

type harness struct {
	t      *testing.T
	db     *models.DB
	tokens *auth.Tokens
	notes  *recorder
	url    string
}

func newHarness(t *testing.T, db *models.DB, cfg router.Config) *harness {
	t.Helper()
	return newLoggingHarness(t, db, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// newLoggingHarness is newHarness with the server logging to log.
func newLoggingHarness(t *testing.T, db *models.DB, cfg router.Config, log *slog.Logger) *harness {
	t.Helper()
	h := &harness{t: t, db: db, tokens: auth.NewTokens([]byte("router-test-key"), 0), notes: &recorder{}}
	if cfg.Limits == nil {
		cfg.Limits = &router.Limits{} // no limits, unless the test is about them
	}
	handler, err := router.New(cfg, router.Deps{
		DB: db, Tokens: h.tokens, Notifier: h.notes, Log: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	h.url = srv.URL
	return h
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into v.
func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("status %d, body %q is not JSON: %v", r.status, r.body, err)
	}
}

// message is the {"message"} of an error body.
func (r response) message(t *testing.T) string {
	t.Helper()
	var e struct {
		Message string `json:"message"`
	}
	r.json(t, &e)
	if e.Message == "" {
		t.Fatalf("error body %q has no message", r.body)
	}
	return e.Message
}

// req is one request. Body may be a value (sent as JSON) or a rawBody.
type req struct {
	method, path string
	body         any
	token        string
	header       map[string]string
}

type rawBody struct {
	contentType string
	data        string
}

func (h *harness) do(r req) response {
	h.t.Helper()
	var body io.Reader
	contentType := ""
	switch b := r.body.(type) {
	case nil:
	case rawBody:
		body, contentType = strings.NewReader(b.data), b.contentType
	default:
		data, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		body, contentType = bytes.NewReader(data), "application/json"
	}
	hr, err := http.NewRequest(r.method, h.url+r.path, body)
	if err != nil {
		h.t.Fatal(err)
	}
	if contentType != "" {
		hr.Header.Set("Content-Type", contentType)
	}
	if r.token != "" {
		hr.AddCookie(&http.Cookie{Name: auth.CookieName, Value: r.token})
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		h.t.Fatal(err)
	}
	return responseOf(resp)
}

// responseOf reads and closes resp.
func responseOf(resp *http.Response) response {
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

// account signs up and logs in an account, returning it and its token.
func (h *harness) account(role models.Role, email string) (models.Principal, string) {
	h.t.Helper()
	r := h.do(req{method: "POST", path: "/signup", body: map[string]any{
		"role": role, "email": email, "password": "password-123", "nickname": "nick " + email}})
	if r.status != http.StatusCreated {
		h.t.Fatalf("signup %s: %d %s", email, r.status, r.body)
	}
	var acc struct {
		ID   int64       `json:"id"`
		Role models.Role `json:"role"`
	}
	r.json(h.t, &acc)
	token, _, err := h.tokens.Issue(models.Principal{Role: role, ID: acc.ID}, time.Now())
	if err != nil {
		h.t.Fatal(err)
	}
	return models.Principal{Role: acc.Role, ID: acc.ID}, token
}

// shop is an owner with a store of two menus (1000 and 2500 won).
type shop struct {
	owner   models.Principal
	token   string
	storeID int64
	menus   [2]int64
}

func (h *harness) shop(email string) shop {
	h.t.Helper()
	s := shop{}
	s.owner, s.token = h.account(models.RoleOwner, email)
	r := h.do(req{method: "POST", path: "/stores", token: s.token, body: map[string]any{"name": "store of " + email}})
	if r.status != http.StatusCreated {
		h.t.Fatalf("create store: %d %s", r.status, r.body)
	}
	var st struct {
		StoreID int64 `json:"store_id"`
	}
	r.json(h.t, &st)
	s.storeID = st.StoreID
	for i, price := range []int{1000, 2500} {
		r := h.do(req{method: "POST", path: "/stores/" + itoa(s.storeID) + "/menus", token: s.token,
			body: map[string]any{"name": "menu " + itoa(int64(i)), "price": price}})
		if r.status != http.StatusCreated {
			h.t.Fatalf("create menu: %d %s", r.status, r.body)
		}
		var m struct {
			MenuID int64 `json:"menu_id"`
		}
		r.json(h.t, &m)
		s.menus[i] = m.MenuID
	}
	return s
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
