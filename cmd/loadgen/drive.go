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
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// driver holds the connected devices and places orders through them.
type driver struct {
	cfg   *config
	base  string // http://127.0.0.1:PORT
	wsURL string
	hc    *http.Client
	probe procProbe
	log   io.Writer

	owners, clients []account
	ownerDevs       [][]*device
	clientDevs      [][]*device
	all             []*device
	orderBodies     [][]byte // POST /order body per owner's store

	t0      time.Time
	cur     atomic.Pointer[tracker]
	strays  atomic.Int64 // alerts that arrived between runs
	dropped atomic.Int64 // connections the server ended during the test
	closing atomic.Bool
	readers sync.WaitGroup
	emitSeq atomic.Int64
}

func newDriver(cfg *config, base string, set *accountSet, nOwners, nClients int, log io.Writer) *driver {
	d := &driver{
		cfg: cfg, base: base, log: log, probe: procProbe{pid: cfg.pid, dbPid: cfg.dbPid},
		wsURL:  "ws" + base[len("http"):] + cfg.sioPath + "?EIO=4&transport=websocket",
		owners: set.Owners[:nOwners], clients: set.Clients[:nClients],
		t0: time.Now(),
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	d.hc = &http.Client{
		Timeout: cfg.httpTimeout,
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         loopbackDialFrom(dialer, httpSource),
			MaxIdleConns:        cfg.inflight,
			MaxIdleConnsPerHost: cfg.inflight,
			MaxConnsPerHost:     cfg.inflight,
			// Under the server's idle limit (orderbell: its
			// ReadHeaderTimeout, 10 s; Node's keepAliveTimeout, 5 s), so
			// the pool never sends on a connection the server is closing:
			// a POST that meets that close fails with EOF and is not
			// retried (1 in 80,000 did in a 20 s run).
			IdleConnTimeout:    4 * time.Second,
			DisableCompression: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	for _, o := range d.owners {
		d.orderBodies = append(d.orderBodies, []byte(fmt.Sprintf(`{"store_id":%d,"items":[{"menu_id":%d,"count":1}]}`, o.StoreID, o.MenuID)))
	}
	return d
}

func (d *driver) clock() time.Duration { return time.Since(d.t0) }

func (d *driver) deliver(dev *device, a alert) {
	if t := d.cur.Load(); t != nil {
		t.receive(dev, a)
		return
	}
	d.strays.Add(1)
}

// connectResult is the connection phase.
type connectResult struct {
	Conns       int      `json:"conns"`
	Failed      int      `json:"failed"`
	Seconds     float64  `json:"seconds"`
	PerSecond   float64  `json:"conns_per_s"`
	Errors      []string `json:"errors,omitempty"`
	RSSBeforeKB int64    `json:"server_rss_before_kb,omitempty"`
	RSSAfterKB  int64    `json:"server_rss_after_kb,omitempty"`
	IdleKBConn  float64  `json:"idle_kb_per_conn,omitempty"`
	SelfRSSKB   int64    `json:"generator_rss_kb"`
	ServerCPU   float64  `json:"server_cpu_pct"`
	SelfCPU     float64  `json:"generator_cpu_pct"`
	DBCPU       float64  `json:"db_cpu_pct"`
	OtherCPU    float64  `json:"other_cpu_pct"`
	SettleSecs  float64  `json:"settle_s"`
}

// addDevices makes perAccount devices for each of n accounts of role r,
// lists them in d.all and returns them by account.
func (d *driver) addDevices(r role, n, perAccount int) [][]*device {
	byAccount := make([][]*device, n)
	for i := range byAccount {
		byAccount[i] = make([]*device, perAccount)
		for s := range byAccount[i] {
			byAccount[i][s] = &device{role: r, account: i, slot: s}
			d.all = append(d.all, byAccount[i][s])
		}
	}
	return byAccount
}

// connect opens every device's socket, -dial-concurrency at a time, then
// lets the server settle and measures its RSS per connection.
func (d *driver) connect(ctx context.Context) connectResult {
	d.ownerDevs = d.addDevices(owner, len(d.owners), d.cfg.ownerDevices)
	d.clientDevs = d.addDevices(client, len(d.clients), d.cfg.clientDevices)
	dialer := &websocket.Dialer{
		NetDialContext:   loopbackDialFrom(&net.Dialer{Timeout: 10 * time.Second}, wsSources...),
		HandshakeTimeout: 10 * time.Second,
		ReadBufferSize:   1024,
		WriteBufferSize:  1024,
		WriteBufferPool:  &sync.Pool{},
	}
	res := connectResult{RSSBeforeKB: d.probe.rss()}
	cpu := startCPU(d.probe)
	var (
		mu      sync.Mutex
		failed  int
		done    atomic.Int64
		next    atomic.Int64
		workers sync.WaitGroup
	)
	stop := reportProgress(d.log, "connect", &done, len(d.all))
	start := time.Now()
	for range d.cfg.dialConcurrency {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(d.all) || ctx.Err() != nil {
					return
				}
				dev := d.all[i]
				var token string
				if dev.role == owner {
					token = d.owners[dev.account].Token
				} else {
					token = d.clients[dev.account].Token
				}
				cctx, cancel := context.WithTimeout(ctx, d.cfg.connectTimeout)
				err := dev.connect(cctx, dialer, d.wsURL, token)
				cancel()
				if err != nil {
					mu.Lock()
					failed++
					if len(res.Errors) < 5 {
						res.Errors = append(res.Errors, fmt.Sprintf("%s %d device %d: %v", dev.role, dev.account, dev.slot, err))
					}
					mu.Unlock()
					continue
				}
				done.Add(1)
				d.readers.Add(1)
				go func() {
					defer d.readers.Done()
					dev.readLoop(d.clock, d.deliver, &d.closing, &d.dropped)
				}()
			}
		}()
	}
	workers.Wait()
	elapsed := time.Since(start)
	stop()
	res.Conns, res.Failed = int(done.Load()), failed
	res.Seconds = elapsed.Seconds()
	res.PerSecond = float64(res.Conns) / elapsed.Seconds()
	shares := cpu.stop()
	res.ServerCPU, res.SelfCPU, res.DBCPU, res.OtherCPU = shares.Server, shares.Self, shares.DB, shares.Other
	if res.Failed == 0 && ctx.Err() == nil {
		sleepCtx(ctx, d.cfg.settle)
		res.SettleSecs = d.cfg.settle.Seconds()
		res.RSSAfterKB = d.probe.rss()
		res.SelfRSSKB, _ = readRSSKB(os.Getpid())
		if res.RSSBeforeKB > 0 && res.Conns > 0 {
			res.IdleKBConn = float64(res.RSSAfterKB-res.RSSBeforeKB) / float64(res.Conns)
		}
	}
	return res
}

// close ends every connection and waits for the readers.
func (d *driver) close() {
	d.closing.Store(true)
	for _, dev := range d.all {
		if dev.conn != nil {
			dev.conn.Close()
		}
	}
	d.readers.Wait()
}

// stepResult is one run at one rate.
type stepResult struct {
	Rate          float64        `json:"rate"`
	Attempt       int            `json:"attempt"`
	Seconds       float64        `json:"duration_s"`
	Scheduled     int            `json:"orders_scheduled"`
	Sent          int            `json:"orders_sent"`
	Achieved      float64        `json:"achieved_rate"`
	Orders        int            `json:"orders_placed"`
	Expected      int            `json:"deliveries_expected"`
	Received      int            `json:"deliveries_received"`
	Lost          int            `json:"lost"`
	Duplicated    int            `json:"duplicated"`
	Wrong         int            `json:"wrong_user"`
	Unmatched     int            `json:"unmatched"`
	Dropped       int64          `json:"connections_dropped"`
	Latency       summary        `json:"latency"`
	Submit        summary        `json:"latency_submit_order"`
	Approval      summary        `json:"latency_approval_order"`
	Post          summary        `json:"http_post_order"`
	Patch         summary        `json:"http_patch_order_receive"`
	HTTPErrors    map[string]int `json:"http_errors,omitempty"`
	ErrorSample   []string       `json:"error_sample,omitempty"`
	Lag           summary        `json:"send_lag"`
	InflightFull  int            `json:"inflight_full"`
	Behind        bool           `json:"generator_behind"`
	ServerCPU     float64        `json:"server_cpu_pct"`
	SelfCPU       float64        `json:"generator_cpu_pct"`
	DBCPU         float64        `json:"db_cpu_pct"`
	OtherCPU      float64        `json:"other_cpu_pct"`
	Disturbed     bool           `json:"disturbed"`
	ServerRSSKB   int64          `json:"server_rss_kb,omitempty"`
	DrainTimedOut bool           `json:"drain_timed_out"`
	Pass          bool           `json:"pass"`
	Why           string         `json:"why,omitempty"`

	// The server's read- and write-class system calls per order placed
	// (network and disk, heartbeats included); -1 when unknown.
	ReadCalls  float64 `json:"server_read_syscalls_per_order"`
	WriteCalls float64 `json:"server_write_syscalls_per_order"`
}

// run places orders at rate for dur, open loop: order i is due at
// start + i/rate whether or not earlier ones were answered, with at most
// -inflight orders outstanding. It then waits (at most -drain) for the
// alerts still owed and tallies.
func (d *driver) run(ctx context.Context, rate float64, dur time.Duration) stepResult {
	tr := newTracker(d.cfg.ownerDevices, d.cfg.clientDevices)
	d.cur.Store(tr)
	droppedBefore := d.dropped.Load()
	total := int(rate * dur.Seconds())
	interval := float64(time.Second) / rate
	sem := make(chan struct{}, d.cfg.inflight)
	lags := make([]time.Duration, 0, total)
	var wg sync.WaitGroup
	res := stepResult{Rate: rate, Seconds: dur.Seconds(), Scheduled: total}
	buf := make([]byte, 0, 128)
	cpu := startCPU(d.probe)
	start := time.Now()
	var lastSend time.Duration
send:
	for i := 0; i < total; i++ {
		if ctx.Err() != nil {
			break
		}
		due := start.Add(time.Duration(float64(i) * interval))
		if w := time.Until(due); w > 0 {
			time.Sleep(w)
		}
		if d.cfg.flow == "emit" {
			// Inline: emits are socket writes, and one sender keeps
			// each device's alerts in emit order (-match fifo needs it).
			lags = append(lags, time.Since(due))
			buf = d.emitOrder(tr, i, buf)
		} else {
			select {
			case sem <- struct{}{}:
			default:
				res.InflightFull++
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
					break send
				}
			}
			lags = append(lags, time.Since(due))
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				defer func() { <-sem }()
				d.httpOrder(ctx, tr, i)
			}(i)
		}
		res.Sent++
		lastSend = time.Since(start)
	}
	wg.Wait()
	shares := cpu.stop()
	res.ServerCPU, res.SelfCPU, res.DBCPU, res.OtherCPU = shares.Server, shares.Self, shares.DB, shares.Other
	res.Disturbed = res.OtherCPU > disturbedCPU
	if res.Sent > 0 {
		res.Achieved = float64(res.Sent) / (lastSend.Seconds() + interval/float64(time.Second))
	}
	// Wait for what is still owed.
	deadline := time.Now().Add(d.cfg.drain)
	for tr.pending.Load() > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	res.DrainTimedOut = tr.pending.Load() > 0
	// A short grace to catch duplicates that trail the last delivery.
	sleepCtx(ctx, 200*time.Millisecond)
	d.cur.Store(nil)
	res.ServerRSSKB = d.probe.rss()
	res.Dropped = d.dropped.Load() - droppedBefore

	t := tr.tally()
	res.Orders, res.Expected, res.Received = t.Orders, t.Expected, t.Received
	res.Lost, res.Duplicated, res.Wrong, res.Unmatched = t.Lost, t.Duplicated, t.Wrong, t.Unmatched
	res.ReadCalls, res.WriteCalls = perOrder(shares.Reads, t.Orders), perOrder(shares.Writes, t.Orders)
	res.Submit = summarize(t.Submit)
	res.Approval = summarize(t.Approval)
	res.Latency = summarize(append(t.Submit, t.Approval...))
	res.Post, res.Patch = summarize(t.Post), summarize(t.Patch)
	res.HTTPErrors, res.ErrorSample = t.HTTPErrors, t.ErrSample
	if len(res.HTTPErrors) == 0 {
		res.HTTPErrors = nil
	}
	res.Lag = summarize(lags)
	res.Behind = res.Achieved < 0.97*rate || res.Lag.P99 > float64(d.cfg.p99Limit.Microseconds())/1000
	res.Pass, res.Why = d.judge(res)
	return res
}

// perOrder is n per order, -1 when n is unknown or no order was placed.
func perOrder(n int64, orders int) float64 {
	if n < 0 || orders == 0 {
		return -1
	}
	return float64(n) / float64(orders)
}

// disturbedCPU is how much CPU (percent of one core) other processes may
// use during a step before its figures are flagged as disturbed.
const disturbedCPU = 20

// judge: sustained means every alert arrived once, to its user, p99 within
// the limit, no request failed and the generator kept to the schedule.
func (d *driver) judge(r stepResult) (bool, string) {
	limit := float64(d.cfg.p99Limit.Microseconds()) / 1000
	var why []string
	if r.Sent < r.Scheduled {
		why = append(why, "stopped early")
	}
	if r.Lost+r.Duplicated+r.Wrong+r.Unmatched > 0 {
		why = append(why, fmt.Sprintf("lost %d, duplicated %d, wrong user %d, unmatched %d", r.Lost, r.Duplicated, r.Wrong, r.Unmatched))
	}
	if r.Dropped > 0 {
		why = append(why, fmt.Sprintf("%d connections dropped", r.Dropped))
	}
	if n := sumCounts(r.HTTPErrors); n > 0 {
		why = append(why, fmt.Sprintf("%d HTTP errors", n))
		for kind := range r.HTTPErrors {
			if strings.HasSuffix(kind, " 429") {
				why = append(why, "429 is the server's rate limit (orderbell: RATE_LIMIT_ORDERS, 60 orders per customer per minute by default; bench/run.sh lifts it)")
				break
			}
		}
	}
	if r.Latency.Count == 0 {
		why = append(why, "no deliveries")
	} else if r.Latency.P99 > limit {
		why = append(why, fmt.Sprintf("p99 %.1f ms > %.0f ms", r.Latency.P99, limit))
	}
	if r.Behind {
		why = append(why, fmt.Sprintf("fell behind: achieved %.0f/s, send lag p99 %.1f ms, in-flight limit hit %d times", r.Achieved, r.Lag.P99, r.InflightFull))
	}
	if len(why) == 0 {
		return true, ""
	}
	return false, joinWhy(why)
}

func sumCounts(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func joinWhy(why []string) string {
	var b bytes.Buffer
	for i, w := range why {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(w)
	}
	return b.String()
}

// pairOf is the customer and owner of order i: customers in turn, each
// always ordering from the same store.
func (d *driver) pairOf(i int) (c, o int) {
	c = i % len(d.clients)
	return c, c % len(d.owners)
}

// httpOrder is orderbell's flow: the customer POSTs /order, the owner
// PATCHes /order-receive/:id; the server alerts after each commit.
func (d *driver) httpOrder(ctx context.Context, tr *tracker, i int) {
	c, o := d.pairOf(i)
	submitAt := d.clock()
	status, body, err := d.do(ctx, http.MethodPost, "/order", d.clients[c].Token, d.orderBodies[o], d.origin(d.clientDevs[c]))
	tr.httpDone(true, d.clock()-submitAt)
	if err != nil || status != http.StatusCreated {
		tr.httpError(httpErrKind("POST /order", status, err), httpErrDetail("POST /order", status, body, err))
		return
	}
	var placed struct {
		OrderID int64 `json:"order_id"`
		OwnerID int64 `json:"owner_id"`
	}
	if err := json.Unmarshal(body, &placed); err != nil || placed.OrderID <= 0 {
		tr.httpError("POST /order bad body", fmt.Sprintf("POST /order: %.200s", body))
		return
	}
	if placed.OwnerID != d.owners[o].ID {
		tr.httpError("POST /order wrong owner", fmt.Sprintf("POST /order: owner %d, want %d", placed.OwnerID, d.owners[o].ID))
	}
	tr.placed(placed.OrderID, c, o, submitAt)

	approveAt := d.clock()
	tr.accepting(placed.OrderID, approveAt)
	path := "/order-receive/" + strconv.FormatInt(placed.OrderID, 10)
	status, body, err = d.do(ctx, http.MethodPatch, path, d.owners[o].Token, nil, d.origin(d.ownerDevs[o]))
	tr.httpDone(false, d.clock()-approveAt)
	if err != nil || status != http.StatusOK {
		tr.acceptFailed(placed.OrderID)
		tr.httpError(httpErrKind("PATCH /order-receive", status, err), httpErrDetail("PATCH "+path, status, body, err))
	}
}

// origin is the X-Socket-Id of a request made from an account's first
// device (empty with -socket-id=false): as orderbell's own pages do, so
// the ORDER_UPDATED the change causes skips that device.
func (d *driver) origin(devs []*device) string {
	if !d.cfg.socketID || len(devs) == 0 {
		return ""
	}
	return devs[0].sid
}

func (d *driver) do(ctx context.Context, method, path, token string, body []byte, socketID string) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, d.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	if socketID != "" {
		req.Header.Set("X-Socket-Id", socketID)
	}
	resp, err := d.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, b, err
}

func httpErrKind(what string, status int, err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded) || os.IsTimeout(err):
		return what + " timeout"
	case err != nil:
		return what + " error"
	}
	return what + " " + strconv.Itoa(status)
}

func httpErrDetail(what string, status int, body []byte, err error) string {
	if err != nil {
		return fmt.Sprintf("%s: %v", what, err)
	}
	return fmt.Sprintf("%s: HTTP %d %.200s", what, status, bytes.TrimSpace(body))
}

// emitOrder is the original Node server's flow: the customer emits
// SUBMIT_ORDER {owner_id}, the owner's first device emits APPROVAL_ORDER
// {client_id}, and the server relays each to the room of that id. The
// generator adds its own order_id to both so a relaying server's alerts
// can be matched by id.
func (d *driver) emitOrder(tr *tracker, i int, buf []byte) []byte {
	c, o := d.pairOf(i)
	id := d.emitSeq.Add(1)
	fifo := d.cfg.match == "fifo"
	submitAt := d.clock()
	tr.placed(id, c, o, submitAt)
	if fifo {
		for _, dev := range d.ownerDevs[o] {
			dev.pushExpected(id)
		}
	}
	buf = appendEmit(buf[:0], "SUBMIT_ORDER", "owner_id", d.owners[o].ID, id)
	if err := d.clientDevs[c][0].write(buf); err != nil {
		tr.httpError("emit SUBMIT_ORDER error", err.Error())
	}
	tr.accepting(id, d.clock())
	if fifo {
		for _, dev := range d.clientDevs[c] {
			dev.pushExpected(id)
		}
	}
	buf = appendEmit(buf[:0], "APPROVAL_ORDER", "client_id", d.clients[c].ID, id)
	if err := d.ownerDevs[o][0].write(buf); err != nil {
		tr.acceptFailed(id)
		tr.httpError("emit APPROVAL_ORDER error", err.Error())
	}
	return buf
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
