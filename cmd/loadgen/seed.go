package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"
	"github.com/libtnb/sqlite"
	"golang.org/x/crypto/bcrypt"
	"gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/orderbell/orderbell/models"
)

// account is one seeded account, with what the generator needs to act as
// it: its token and, for an owner, the store and menu customers order.
type account struct {
	ID      int64  `json:"id"`
	Email   string `json:"email,omitempty"`
	Token   string `json:"token"`
	StoreID int64  `json:"store_id,omitempty"`
	MenuID  int64  `json:"menu_id,omitempty"`
}

// accountSet is every account of a run; -accounts-out writes it and
// -accounts reads it back, so one seeding serves many runs.
type accountSet struct {
	Target   string    `json:"target"`
	Password string    `json:"password,omitempty"`
	Owners   []account `json:"owners"`
	Clients  []account `json:"clients"`
}

// seedPassword is every seeded account's password (bcrypt needs ≥ 8).
const seedPassword = "loadgen-password"

// seedTag makes this run's emails unique, so runs on one database do not
// collide.
func seedTag() string { return strconv.FormatInt(time.Now().UnixNano()/1e6, 36) }

func seedEmail(tag string, r role, i int) string {
	return fmt.Sprintf("lg-%s-%s%d@loadgen.test", tag, r.String()[:1], i)
}

// apiClient calls orderbell's JSON API.
type apiClient struct {
	hc   *http.Client
	base string
}

func (c *apiClient) call(ctx context.Context, method, path, token string, body any, want int, out any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return resp, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode != want {
		return resp, fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(b))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return resp, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return resp, nil
}

// seedAPI makes the accounts through the public API, as a user would:
// signup (bcrypt, ~50 ms of server CPU each), a token (minted with the key,
// or a login: a second bcrypt), and for owners a store with one menu.
func seedAPI(ctx context.Context, api *apiClient, nOwners, nClients int, key []byte, ttl time.Duration, concurrency int, progress io.Writer) (*accountSet, error) {
	tag := seedTag()
	set := &accountSet{Target: api.base, Password: seedPassword, Owners: make([]account, nOwners), Clients: make([]account, nClients)}
	type job struct {
		r role
		i int
	}
	jobs := make(chan job)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
		done     atomic.Int64
	)
	total := nOwners + nClients
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				var err error
				if j.r == owner {
					set.Owners[j.i], err = seedOneAPI(ctx, api, tag, j.r, j.i, key, ttl)
				} else {
					set.Clients[j.i], err = seedOneAPI(ctx, api, tag, j.r, j.i, key, ttl)
				}
				if err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					return
				}
				done.Add(1)
			}
		}()
	}
	stopProgress := reportProgress(progress, "seed (api)", &done, total)
	// Owners and clients interleaved, so a partial seed is still usable
	// for a smaller run.
	go func() {
		defer close(jobs)
		for i := 0; i < max(nOwners, nClients); i++ {
			for _, j := range []job{{owner, i}, {client, i}} {
				if (j.r == owner && i >= nOwners) || (j.r == client && i >= nClients) {
					continue
				}
				select {
				case jobs <- j:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	wg.Wait()
	stopProgress()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return set, nil
}

func seedOneAPI(ctx context.Context, api *apiClient, tag string, r role, i int, key []byte, ttl time.Duration) (account, error) {
	email := seedEmail(tag, r, i)
	var created struct {
		ID int64 `json:"id"`
	}
	body := map[string]any{"role": r.String(), "email": email, "password": seedPassword, "nickname": fmt.Sprintf("loadgen %s %d", r, i)}
	if _, err := api.call(ctx, http.MethodPost, "/signup", "", body, http.StatusCreated, &created); err != nil {
		return account{}, err
	}
	a := account{ID: created.ID, Email: email}
	if len(key) > 0 {
		a.Token = mintToken(key, r.String(), a.ID, time.Now(), ttl)
	} else {
		resp, err := api.call(ctx, http.MethodPost, "/login", "", map[string]any{"role": r.String(), "email": email, "password": seedPassword}, http.StatusOK, nil)
		if err != nil {
			return account{}, err
		}
		for _, c := range resp.Cookies() {
			if c.Name == "accessToken" {
				a.Token = c.Value
			}
		}
		if a.Token == "" {
			return account{}, errors.New("POST /login: no accessToken cookie")
		}
	}
	if r == client {
		return a, nil
	}
	var store struct {
		StoreID int64 `json:"store_id"`
	}
	if _, err := api.call(ctx, http.MethodPost, "/stores", a.Token, map[string]any{"name": fmt.Sprintf("loadgen store %d", i)}, http.StatusCreated, &store); err != nil {
		return account{}, err
	}
	var menu struct {
		MenuID int64 `json:"menu_id"`
	}
	path := "/stores/" + strconv.FormatInt(store.StoreID, 10) + "/menus"
	if _, err := api.call(ctx, http.MethodPost, path, a.Token, map[string]any{"name": "loadgen menu", "price": 1000}, http.StatusCreated, &menu); err != nil {
		return account{}, err
	}
	a.StoreID, a.MenuID = store.StoreID, menu.MenuID
	return a, nil
}

// seedSQL writes the accounts, stores and menus straight into the server's
// database (the server must have created the schema: start it first), with
// one bcrypt hash shared by every row. Tokens are minted, so it needs the
// key. It uses orderbell's own gorm models, so the rows are the ones the
// server would write.
func seedSQL(ctx context.Context, dbURL string, nOwners, nClients int, key []byte, ttl time.Duration) (*accountSet, error) {
	if len(key) == 0 {
		return nil, errors.New("-seed sql mints tokens: give -key")
	}
	dialector, err := seedDialector(dbURL)
	if err != nil {
		return nil, err
	}
	db, err := gorm.Open(dialector, &gorm.Config{Logger: logger.Discard, SkipDefaultTransaction: true, CreateBatchSize: 500})
	if err != nil {
		return nil, fmt.Errorf("-seed-db: %w", err)
	}
	if sqlDB, err := db.DB(); err == nil {
		defer sqlDB.Close()
		sqlDB.SetMaxOpenConns(1)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(seedPassword), bcrypt.DefaultCost)
	if err != nil {
		return nil, err
	}
	tag := seedTag()
	at := time.Now().UTC().Truncate(time.Millisecond)
	owners := make([]models.Owner, nOwners)
	for i := range owners {
		owners[i].Account = models.Account{Email: seedEmail(tag, owner, i), PasswordHash: string(hash), Nickname: fmt.Sprintf("loadgen owner %d", i), CreatedAt: at}
	}
	clients := make([]models.Client, nClients)
	for i := range clients {
		clients[i].Account = models.Account{Email: seedEmail(tag, client, i), PasswordHash: string(hash), Nickname: fmt.Sprintf("loadgen client %d", i), CreatedAt: at}
	}
	var stores []models.Store
	err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if len(owners) > 0 {
			if err := tx.Create(&owners).Error; err != nil {
				return fmt.Errorf("insert owners: %w", err)
			}
		}
		if len(clients) > 0 {
			if err := tx.Create(&clients).Error; err != nil {
				return fmt.Errorf("insert clients: %w", err)
			}
		}
		stores = make([]models.Store, nOwners)
		for i := range stores {
			stores[i] = models.Store{OwnerID: owners[i].ID, Name: fmt.Sprintf("loadgen store %d", i), CreatedAt: at}
		}
		if len(stores) > 0 {
			if err := tx.Omit("Menus").Create(&stores).Error; err != nil {
				return fmt.Errorf("insert stores: %w", err)
			}
		}
		menus := make([]models.Menu, nOwners)
		for i := range menus {
			menus[i] = models.Menu{StoreID: stores[i].ID, Name: "loadgen menu", Price: 1000}
		}
		if len(menus) > 0 {
			if err := tx.Create(&menus).Error; err != nil {
				return fmt.Errorf("insert menus: %w", err)
			}
		}
		for i := range stores {
			stores[i].Menus = []models.Menu{menus[i]}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	set := &accountSet{Target: "sql", Password: seedPassword}
	now := time.Now()
	for i, o := range owners {
		if o.ID == 0 || stores[i].ID == 0 || stores[i].Menus[0].ID == 0 {
			return nil, errors.New("-seed sql: the database did not return the new ids")
		}
		set.Owners = append(set.Owners, account{ID: o.ID, Email: o.Email, Token: mintToken(key, "owner", o.ID, now, ttl), StoreID: stores[i].ID, MenuID: stores[i].Menus[0].ID})
	}
	for _, c := range clients {
		set.Clients = append(set.Clients, account{ID: c.ID, Email: c.Email, Token: mintToken(key, "client", c.ID, now, ttl)})
	}
	return set, nil
}

// seedDialector opens the server's database the way the server does:
// sqlite:<path> or mysql://user:pass@127.0.0.1:3306/db (loopback only).
func seedDialector(raw string) (gorm.Dialector, error) {
	switch {
	case strings.HasPrefix(raw, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(raw, "sqlite:"), "//")
		if path == "" || strings.Contains(path, "?") {
			return nil, errors.New("-seed-db: want sqlite:<path to the server's file>")
		}
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("-seed-db: %w (start the server first: it creates the schema)", err)
		}
		return sqlite.Open(path + "?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)"), nil
	case strings.HasPrefix(raw, "mysql://"):
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("-seed-db: %w", err)
		}
		host, err := loopbackHost(u.Hostname())
		if err != nil {
			return nil, fmt.Errorf("-seed-db: %w", err)
		}
		port := u.Port()
		if port == "" {
			port = "3306"
		}
		cfg := mysqldriver.NewConfig()
		cfg.Net, cfg.Addr = "tcp", net.JoinHostPort(host, port)
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
		cfg.DBName = strings.TrimPrefix(u.Path, "/")
		cfg.ParseTime, cfg.Loc = true, time.UTC
		cfg.Params = map[string]string{"charset": "utf8mb4"}
		if cfg.DBName == "" {
			return nil, errors.New("-seed-db: mysql:// needs a database name")
		}
		return mysql.Open(cfg.FormatDSN()), nil
	}
	return nil, errors.New("-seed-db: want sqlite:<path> or mysql://user@127.0.0.1:3306/db")
}

// loadAccounts reads an -accounts-out file. With a key the tokens are
// minted anew (the file's may have expired).
func loadAccounts(path string, key []byte, ttl time.Duration) (*accountSet, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var set accountSet
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(key) > 0 {
		now := time.Now()
		for i := range set.Owners {
			set.Owners[i].Token = mintToken(key, "owner", set.Owners[i].ID, now, ttl)
		}
		for i := range set.Clients {
			set.Clients[i].Token = mintToken(key, "client", set.Clients[i].ID, now, ttl)
		}
	}
	return &set, nil
}

func saveAccounts(path string, set *accountSet) error {
	b, err := json.MarshalIndent(set, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o600)
}

// mintedAccounts makes accounts that exist only as tokens, for servers
// that keep no accounts (the original Node server's emit flow). Client ids
// start after clientBase so that a server with bare-id rooms does not mix
// an owner and a customer of the same number.
func mintedAccounts(nOwners, nClients int, clientBase int64, key []byte, ttl time.Duration) *accountSet {
	set := &accountSet{Target: "minted"}
	now := time.Now()
	for i := range nOwners {
		id := int64(i + 1)
		set.Owners = append(set.Owners, account{ID: id, Token: mintToken(key, "owner", id, now, ttl)})
	}
	for i := range nClients {
		id := clientBase + int64(i+1)
		set.Clients = append(set.Clients, account{ID: id, Token: mintToken(key, "client", id, now, ttl)})
	}
	return set
}

// reportProgress prints done/total every 5 s until stopped.
func reportProgress(w io.Writer, what string, done *atomic.Int64, total int) func() {
	stop := make(chan struct{})
	finished := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(finished)
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				n := done.Load()
				fmt.Fprintf(w, "%s: %d/%d (%.0f/s)\n", what, n, total, float64(n)/time.Since(start).Seconds())
			}
		}
	}()
	return func() { close(stop); <-finished }
}
