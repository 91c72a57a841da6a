// Command loadgen drives orderbell (or the Node socket.io server it
// replaces) with many Socket.IO v4 connections and orders at a fixed rate,
// and reports alert latency, lost, duplicated and misdirected alerts,
// connection rate and the server's memory and CPU. It only targets this
// machine (127.0.0.1), and every phase is bounded in count and time.
//
// See bench/README.md for how to run it and what each figure means.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		stop()
		os.Exit(1)
	}
}

// Hard bounds, whatever the flags say.
const (
	maxConns       = 19_900 // the fd limit here is 20,000 per process
	maxRate        = 100_000
	maxDuration    = 10 * time.Minute
	maxTotalTime   = 60 * time.Minute
	maxRampSteps   = 200
	maxOrdersStep  = 5_000_000
	maxInflight    = 4096
	maxDialers     = 1000
	maxSeedWorkers = 64
)

type config struct {
	url             string
	sioPath         string
	key             string
	conns           int
	ownerShare      float64
	ownerDevices    int
	clientDevices   int
	flow            string
	rate            float64
	duration        time.Duration
	ramp            string
	rampStart       float64
	rampStep        float64
	rampMax         float64
	pause           time.Duration
	p99Limit        time.Duration
	pid             int
	dbPid           int
	jsonPath        string
	seed            string
	seedDB          string
	seedConcurrency int
	seedOnly        bool
	accounts        string
	accountsOut     string
	clientIDBase    int64
	match           string
	socketID        bool
	inflight        int
	dialConcurrency int
	connectTimeout  time.Duration
	httpTimeout     time.Duration
	settle          time.Duration
	drain           time.Duration
	maxTime         time.Duration
	tokenTTL        time.Duration
	quietWait       time.Duration
	retryDisturbed  int
	tabulate        bool
	reports         []string
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	cfg := &config{}
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.url, "url", "http://127.0.0.1:3000", "server base URL; loopback only")
	fs.StringVar(&cfg.sioPath, "sio-path", "/socket.io/", "Socket.IO path")
	fs.StringVar(&cfg.key, "key", "", "ACCESS_TOKEN_KEY of the server, to mint tokens (default: $ACCESS_TOKEN_KEY)")
	fs.IntVar(&cfg.conns, "conns", 1000, fmt.Sprintf("Socket.IO connections (devices), at most %d", maxConns))
	fs.Float64Var(&cfg.ownerShare, "owner-share", 0.2, "share of connections that are owner devices")
	fs.IntVar(&cfg.ownerDevices, "owner-devices", 2, "devices per owner")
	fs.IntVar(&cfg.clientDevices, "client-devices", 1, "devices per customer")
	fs.StringVar(&cfg.flow, "flow", "http", "http: POST /order + PATCH /order-receive/:id (orderbell); emit: socket emits SUBMIT_ORDER/APPROVAL_ORDER relayed by the server (the original Node server)")
	fs.Float64Var(&cfg.rate, "rate", 1000, "orders per second (0: connect, measure, disconnect)")
	fs.DurationVar(&cfg.duration, "duration", 20*time.Second, "how long to place orders (per step with -ramp)")
	fs.StringVar(&cfg.ramp, "ramp", "", "start,step,max: raise the rate step by step until a step fails; report the highest that passed")
	fs.DurationVar(&cfg.pause, "pause", 2*time.Second, "pause between ramp steps")
	fs.DurationVar(&cfg.p99Limit, "p99-limit", 100*time.Millisecond, "a step passes with alert p99 at most this (and nothing lost)")
	fs.IntVar(&cfg.pid, "pid", 0, "server process id, to read its RSS and CPU from /proc")
	fs.IntVar(&cfg.dbPid, "db-pid", 0, "database process id (mariadbd, or orderbell's SQLite checkpoint process), so its CPU is reported apart from other processes'")
	fs.StringVar(&cfg.jsonPath, "json", "", "also write the JSON report to this file")
	fs.StringVar(&cfg.seed, "seed", "", "api: create accounts, stores and menus through the API; sql: write them into -seed-db; none: mint tokens for ids 1..N (emit flow); default api for http, none for emit")
	fs.StringVar(&cfg.seedDB, "seed-db", "", "with -seed sql: the server's DATABASE_URL (sqlite:<path> or mysql://root@127.0.0.1:3306/db)")
	fs.IntVar(&cfg.seedConcurrency, "seed-concurrency", 4, "parallel signups with -seed api")
	fs.BoolVar(&cfg.seedOnly, "seed-only", false, "seed, write -accounts-out and stop")
	fs.StringVar(&cfg.accounts, "accounts", "", "use the accounts in this file (from -accounts-out) instead of seeding")
	fs.StringVar(&cfg.accountsOut, "accounts-out", "", "write the seeded accounts (ids, tokens, stores) to this file")
	fs.Int64Var(&cfg.clientIDBase, "client-id-base", 1_000_000, "with -seed none: customer ids start after this, so bare-id rooms never mix an owner and a customer")
	fs.BoolVar(&cfg.socketID, "socket-id", true, "http flow: send the acting device's socket id (X-Socket-Id), as orderbell's pages do, so its ORDER_UPDATED skips that device")
	fs.StringVar(&cfg.match, "match", "id", "id: match alerts to orders by payload order_id; fifo: by arrival order per device (servers whose alerts carry no order_id)")
	fs.IntVar(&cfg.inflight, "inflight", 512, "most orders (HTTP request pairs) outstanding at once")
	fs.IntVar(&cfg.dialConcurrency, "dial-concurrency", 50, "connections being opened at once")
	fs.DurationVar(&cfg.connectTimeout, "connect-timeout", 30*time.Second, "bound on one connection's handshake")
	fs.DurationVar(&cfg.httpTimeout, "http-timeout", 10*time.Second, "bound on one HTTP request")
	fs.DurationVar(&cfg.settle, "settle", 5*time.Second, "wait after connecting before reading the server's RSS")
	fs.DurationVar(&cfg.drain, "drain", 5*time.Second, "after the last order, wait at most this for alerts still owed")
	fs.DurationVar(&cfg.maxTime, "max-time", 20*time.Minute, fmt.Sprintf("hard stop for the whole run, at most %s", maxTotalTime))
	fs.DurationVar(&cfg.tokenTTL, "token-ttl", 12*time.Hour, "lifetime of minted tokens")
	fs.DurationVar(&cfg.quietWait, "quiet-wait", 30*time.Second, "before each step, wait at most this for other processes to use < 10% of a core (0: don't)")
	fs.IntVar(&cfg.retryDisturbed, "retry-disturbed", 2, "repeat a failed step this many times when other processes used > 20% of a core during it")
	fs.BoolVar(&cfg.tabulate, "tabulate", false, "run nothing: print one line per step of each JSON report named after the flags (loadgen -tabulate a.json b.json)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: loadgen [flags]   (see bench/README.md)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if cfg.tabulate {
		if fs.NArg() == 0 {
			return nil, errors.New("-tabulate needs the JSON reports to read")
		}
		cfg.reports = fs.Args()
		return cfg, nil
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if cfg.key == "" {
		cfg.key = os.Getenv("ACCESS_TOKEN_KEY")
	}
	if cfg.seed == "" {
		cfg.seed = "api"
		if cfg.flow == "emit" {
			cfg.seed = "none"
		}
	}
	return cfg, cfg.validate()
}

func (cfg *config) validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	target, err := targetURL(cfg.url)
	if err != nil {
		errs = append(errs, err)
	}
	if !strings.HasPrefix(cfg.sioPath, "/") || !strings.HasSuffix(cfg.sioPath, "/") {
		bad("-sio-path must start and end with /")
	}
	if cfg.conns < 2 || cfg.conns > maxConns {
		bad("-conns must be 2..%d", maxConns)
	}
	if cfg.ownerDevices < 1 || cfg.clientDevices < 1 || cfg.ownerDevices+cfg.clientDevices > 16 {
		bad("-owner-devices and -client-devices must be ≥ 1 and add up to at most 16")
	}
	if cfg.ownerShare <= 0 || cfg.ownerShare >= 1 {
		bad("-owner-share must be between 0 and 1")
	}
	switch cfg.flow {
	case "http", "emit":
	default:
		bad("-flow must be http or emit")
	}
	switch cfg.match {
	case "id", "fifo":
	default:
		bad("-match must be id or fifo")
	}
	if cfg.match == "fifo" && cfg.flow != "emit" {
		bad("-match fifo is for -flow emit")
	}
	switch cfg.seed {
	case "api", "sql", "none":
	default:
		bad("-seed must be api, sql or none")
	}
	if cfg.seed == "sql" && cfg.seedDB == "" {
		bad("-seed sql needs -seed-db")
	}
	if (cfg.seed == "sql" || cfg.seed == "none") && cfg.key == "" && cfg.accounts == "" {
		bad("-seed %s mints tokens: give -key (or ACCESS_TOKEN_KEY)", cfg.seed)
	}
	if cfg.seed == "none" && cfg.flow == "http" && cfg.accounts == "" {
		bad("-flow http needs real accounts, stores and menus: -seed api, -seed sql or -accounts")
	}
	if cfg.seedOnly && cfg.accountsOut == "" {
		bad("-seed-only needs -accounts-out")
	}
	if math.IsNaN(cfg.rate) || cfg.rate < 0 || cfg.rate > maxRate {
		bad("-rate must be 0..%d", maxRate)
	}
	if cfg.duration < time.Second || cfg.duration > maxDuration {
		bad("-duration must be 1s..%s", maxDuration)
	}
	if cfg.ramp != "" {
		parts := strings.Split(cfg.ramp, ",")
		if len(parts) != 3 {
			bad("-ramp wants start,step,max")
		} else {
			v := make([]float64, 3)
			for i, p := range parts {
				f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
				if err != nil || f <= 0 || f > maxRate {
					bad("-ramp: %q is not a rate in 1..%d", p, maxRate)
				}
				v[i] = f
			}
			cfg.rampStart, cfg.rampStep, cfg.rampMax = v[0], v[1], v[2]
			if cfg.rampMax < cfg.rampStart {
				bad("-ramp: max below start")
			} else if cfg.rampStep > 0 && (cfg.rampMax-cfg.rampStart)/cfg.rampStep+1 > maxRampSteps {
				bad("-ramp: more than %d steps", maxRampSteps)
			}
		}
	}
	peak := math.Max(cfg.rate, cfg.rampMax)
	if peak*cfg.duration.Seconds() > maxOrdersStep {
		bad("rate × duration is over %d orders", maxOrdersStep)
	}
	for _, p := range []struct {
		name string
		pid  int
	}{{"-pid", cfg.pid}, {"-db-pid", cfg.dbPid}} {
		if p.pid < 0 {
			bad("%s must be a process id", p.name)
		} else if p.pid > 0 {
			if _, err := os.Stat(fmt.Sprintf("/proc/%d/stat", p.pid)); err != nil {
				bad("%s %d: no such process", p.name, p.pid)
			}
		}
	}
	// The server's pid must be the process that listens on -url's port
	// (when /proc lets that be seen): another's CPU and RSS would be
	// reported as the server's.
	if target != nil && cfg.pid > 0 {
		port, _ := strconv.Atoi(target.Port()) // targetURL always sets one
		if ok, err := listensOn(cfg.pid, port); err == nil && !ok {
			bad("-pid %d does not listen on port %d: it is not the server (in some shells $! names a subshell, not the process started; try pgrep)", cfg.pid, port)
		}
	}
	if cfg.seedConcurrency < 1 || cfg.seedConcurrency > maxSeedWorkers {
		bad("-seed-concurrency must be 1..%d", maxSeedWorkers)
	}
	if cfg.inflight < 1 || cfg.inflight > maxInflight {
		bad("-inflight must be 1..%d", maxInflight)
	}
	if cfg.dialConcurrency < 1 || cfg.dialConcurrency > maxDialers {
		bad("-dial-concurrency must be 1..%d", maxDialers)
	}
	for _, b := range []struct {
		name string
		v    time.Duration
		max  time.Duration
	}{
		{"-connect-timeout", cfg.connectTimeout, 2 * time.Minute},
		{"-http-timeout", cfg.httpTimeout, 2 * time.Minute},
		{"-settle", cfg.settle, 2 * time.Minute},
		{"-drain", cfg.drain, 2 * time.Minute},
		{"-pause", cfg.pause, 2 * time.Minute},
		{"-max-time", cfg.maxTime, maxTotalTime},
		{"-token-ttl", cfg.tokenTTL, 7 * 24 * time.Hour},
		{"-quiet-wait", cfg.quietWait, 5 * time.Minute},
	} {
		if b.v < 0 || b.v > b.max {
			bad("%s must be 0..%s", b.name, b.max)
		}
	}
	if cfg.retryDisturbed < 0 || cfg.retryDisturbed > 5 {
		bad("-retry-disturbed must be 0..5")
	}
	if cfg.tokenTTL < time.Minute {
		bad("-token-ttl must be at least 1m")
	}
	return errors.Join(errs...)
}

// split is how -conns divides into owners and customers.
func (cfg *config) split() (owners, clients int) {
	owners = int(math.Round(float64(cfg.conns) * cfg.ownerShare / float64(cfg.ownerDevices)))
	owners = max(owners, 1)
	clients = (cfg.conns - owners*cfg.ownerDevices) / cfg.clientDevices
	return owners, max(clients, 0)
}

// report is the JSON the run prints and writes.
type report struct {
	Tool     string         `json:"tool"`
	Started  time.Time      `json:"started"`
	Machine  machine        `json:"machine"`
	Config   map[string]any `json:"config"`
	Seed     *seedResult    `json:"seed,omitempty"`
	Connect  *connectResult `json:"connect,omitempty"`
	Runs     []stepResult   `json:"runs"`
	MaxRate  *float64       `json:"ramp_max_sustained_rate,omitempty"`
	Strays   int64          `json:"stray_alerts"`
	Error    string         `json:"error,omitempty"`
	Finished time.Time      `json:"finished"`
}

type machine struct {
	CPUs      int    `json:"cpus"`
	GoVersion string `json:"go"`
	Affinity  string `json:"generator_affinity,omitempty"`
	Kernel    string `json:"kernel,omitempty"`
}

type seedResult struct {
	Mode     string  `json:"mode"`
	Owners   int     `json:"owners"`
	Clients  int     `json:"clients"`
	Seconds  float64 `json:"seconds"`
	PerSec   float64 `json:"accounts_per_s"`
	Accounts string  `json:"accounts_file,omitempty"`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if cfg.tabulate {
		return tabulate(cfg.reports, stdout)
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.maxTime)
	defer cancel()
	target, _ := targetURL(cfg.url)
	base := target.String()
	nOwners, nClients := cfg.split()
	if nClients < 1 {
		return errors.New("-owner-share leaves no customers")
	}
	// One descriptor per socket, one per in-flight HTTP request, a few more.
	fds := uint64(cfg.conns) + 64
	if cfg.flow == "http" && (cfg.rate > 0 || cfg.ramp != "") {
		fds += uint64(cfg.inflight)
	}
	if lim, err := raiseFileLimit(); err == nil && fds > lim {
		return fmt.Errorf("%d connections and -inflight %d need %d file descriptors, over the limit %d (ulimit -n)", cfg.conns, cfg.inflight, fds, lim)
	}

	rep := &report{Tool: "orderbell loadgen", Started: time.Now().UTC(), Machine: describeMachine(), Config: cfg.asMap(nOwners, nClients)}
	defer func() { rep.Finished = time.Now().UTC() }()
	fmt.Fprintf(stderr, "loadgen: %s flow against %s: %d connections = %d owners × %d devices + %d customers × %d\n",
		cfg.flow, base, nOwners*cfg.ownerDevices+nClients*cfg.clientDevices, nOwners, cfg.ownerDevices, nClients, cfg.clientDevices)

	set, err := accountsFor(ctx, cfg, base, nOwners, nClients, rep, stderr)
	if err != nil {
		return err
	}
	if cfg.seedOnly {
		printReport(stdout, cfg, rep)
		return writeJSON(cfg, rep, stdout)
	}

	d := newDriver(cfg, base, set, nOwners, nClients, stderr)
	defer d.close()
	conn := d.connect(ctx)
	rep.Connect = &conn
	if conn.Failed > 0 || ctx.Err() != nil {
		printReport(stdout, cfg, rep)
		_ = writeJSON(cfg, rep, stdout)
		if conn.Failed > 0 {
			return fmt.Errorf("%d of %d connections failed, first: %s", conn.Failed, conn.Failed+conn.Conns, strings.Join(conn.Errors, " | "))
		}
		return ctx.Err()
	}
	fmt.Fprintf(stderr, "connected %d in %.2f s (%.0f/s)\n", conn.Conns, conn.Seconds, conn.PerSecond)

	switch {
	case cfg.ramp != "":
		var best float64
		found := false
		for rate := cfg.rampStart; rate <= cfg.rampMax+1e-9 && ctx.Err() == nil; rate += cfg.rampStep {
			r := d.step(ctx, rep, rate, stderr)
			if !r.Pass {
				break
			}
			best, found = rate, true
			if cfg.rampStep <= 0 {
				break
			}
			sleepCtx(ctx, cfg.pause)
		}
		if found {
			rep.MaxRate = &best
		}
	case cfg.rate > 0:
		d.step(ctx, rep, cfg.rate, stderr)
	}
	d.close()
	rep.Strays = d.strays.Load()
	if ctx.Err() != nil {
		rep.Error = "stopped: " + ctx.Err().Error()
	}
	printReport(stdout, cfg, rep)
	return writeJSON(cfg, rep, stdout)
}

// step runs one rate, after waiting for a quiet machine, and repeats it
// (up to -retry-disturbed times) when it failed while other processes were
// busy. Every attempt is kept in the report; the last one counts.
func (d *driver) step(ctx context.Context, rep *report, rate float64, stderr io.Writer) stepResult {
	for attempt := 0; ; attempt++ {
		if d.cfg.quietWait > 0 {
			if other := waitQuiet(ctx, d.probe, d.cfg.quietWait); other >= 10 {
				fmt.Fprintf(stderr, "machine still busy (other processes %.0f%% of a core); measuring anyway\n", other)
			}
		}
		r := d.run(ctx, rate, d.cfg.duration)
		r.Attempt = attempt + 1
		rep.Runs = append(rep.Runs, r)
		fmt.Fprintf(stderr, "%.0f/s: p99 %.2f ms, lost %d, other CPU %.0f%%, pass %v %s\n", rate, r.Latency.P99, r.Lost, r.OtherCPU, r.Pass, r.Why)
		if r.Pass || !r.Disturbed || attempt >= d.cfg.retryDisturbed || ctx.Err() != nil {
			return r
		}
		fmt.Fprintf(stderr, "%.0f/s failed while the machine was busy: repeating it\n", rate)
		sleepCtx(ctx, d.cfg.pause)
	}
}

// accountsFor loads, seeds or mints the accounts the run acts as.
func accountsFor(ctx context.Context, cfg *config, base string, nOwners, nClients int, rep *report, stderr io.Writer) (*accountSet, error) {
	key := []byte(cfg.key)
	start := time.Now()
	var set *accountSet
	var err error
	mode := cfg.seed
	switch {
	case cfg.accounts != "":
		mode = "file"
		set, err = loadAccounts(cfg.accounts, key, cfg.tokenTTL)
	case cfg.seed == "api":
		api := &apiClient{base: base, hc: &http.Client{Timeout: cfg.httpTimeout, Transport: &http.Transport{
			Proxy: nil, DialContext: loopbackDial(newNetDialer()), MaxIdleConnsPerHost: cfg.seedConcurrency,
		}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
		set, err = seedAPI(ctx, api, nOwners, nClients, key, cfg.tokenTTL, cfg.seedConcurrency, stderr)
	case cfg.seed == "sql":
		set, err = seedSQL(ctx, cfg.seedDB, nOwners, nClients, key, cfg.tokenTTL)
	default:
		set = mintedAccounts(nOwners, nClients, cfg.clientIDBase, key, cfg.tokenTTL)
	}
	if err != nil {
		return nil, fmt.Errorf("accounts (%s): %w", mode, err)
	}
	if len(set.Owners) < nOwners || len(set.Clients) < nClients {
		return nil, fmt.Errorf("accounts (%s): have %d owners and %d customers, need %d and %d", mode, len(set.Owners), len(set.Clients), nOwners, nClients)
	}
	if cfg.flow == "http" {
		for _, o := range set.Owners[:nOwners] {
			if o.StoreID <= 0 || o.MenuID <= 0 {
				return nil, fmt.Errorf("accounts (%s): owner %d has no store and menu; -flow http needs them", mode, o.ID)
			}
		}
	}
	elapsed := time.Since(start)
	sr := &seedResult{Mode: mode, Owners: nOwners, Clients: nClients, Seconds: elapsed.Seconds()}
	if mode == "api" || mode == "sql" {
		sr.PerSec = float64(nOwners+nClients) / elapsed.Seconds()
		fmt.Fprintf(stderr, "seeded %d owners (with a store and a menu) and %d customers via %s in %.1f s\n", nOwners, nClients, mode, elapsed.Seconds())
	}
	if cfg.accountsOut != "" {
		if err := saveAccounts(cfg.accountsOut, set); err != nil {
			return nil, err
		}
		sr.Accounts = cfg.accountsOut
	}
	rep.Seed = sr
	return set, nil
}

func describeMachine() machine {
	m := machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
				m.Affinity = strings.TrimSpace(v)
			}
		}
	}
	return m
}

func (cfg *config) asMap(nOwners, nClients int) map[string]any {
	m := map[string]any{
		"url": cfg.url, "flow": cfg.flow, "conns": cfg.conns, "owners": nOwners, "clients": nClients,
		"owner_devices": cfg.ownerDevices, "client_devices": cfg.clientDevices, "owner_share": cfg.ownerShare,
		"rate": cfg.rate, "duration_s": cfg.duration.Seconds(), "p99_limit_ms": cfg.p99Limit.Seconds() * 1000,
		"seed": cfg.seed, "match": cfg.match, "socket_id": cfg.socketID, "inflight": cfg.inflight, "dial_concurrency": cfg.dialConcurrency,
		"pid": cfg.pid, "db_pid": cfg.dbPid, "settle_s": cfg.settle.Seconds(), "drain_s": cfg.drain.Seconds(),
	}
	if cfg.ramp != "" {
		m["ramp"] = cfg.ramp
	}
	return m
}

func writeJSON(cfg *config, rep *report, stdout io.Writer) error {
	rep.Finished = time.Now().UTC()
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if cfg.jsonPath != "" {
		if err := os.WriteFile(cfg.jsonPath, b, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "JSON report: %s\n", cfg.jsonPath)
		return nil
	}
	_, err = stdout.Write(b)
	return err
}

// printReport prints the human table.
func printReport(w io.Writer, cfg *config, rep *report) {
	fmt.Fprintf(w, "\norderbell loadgen — %s flow, %s, %d owners × %d + %d customers × %d devices, generator CPUs %s\n",
		cfg.flow, cfg.url, rep.Config["owners"], cfg.ownerDevices, rep.Config["clients"], cfg.clientDevices, rep.Machine.Affinity)
	if s := rep.Seed; s != nil {
		fmt.Fprintf(w, "accounts: %s, %d owners + %d customers", s.Mode, s.Owners, s.Clients)
		if s.Mode == "api" || s.Mode == "sql" {
			fmt.Fprintf(w, " in %.1f s (%.0f accounts/s)", s.Seconds, s.PerSec)
		}
		fmt.Fprintln(w)
	}
	if c := rep.Connect; c != nil {
		fmt.Fprintf(w, "connect: %d connections (%d failed) in %.2f s = %.0f conns/s", c.Conns, c.Failed, c.Seconds, c.PerSecond)
		if c.ServerCPU >= 0 && cfg.pid > 0 {
			fmt.Fprintf(w, ", server CPU %.0f%%", c.ServerCPU)
		}
		if c.DBCPU >= 0 && cfg.dbPid > 0 {
			fmt.Fprintf(w, ", database CPU %.0f%%", c.DBCPU)
		}
		fmt.Fprintf(w, ", generator CPU %.0f%%, other processes %.0f%%\n", c.SelfCPU, c.OtherCPU)
		if c.RSSBeforeKB > 0 && c.RSSAfterKB > 0 {
			fmt.Fprintf(w, "idle: server RSS %.1f → %.1f MiB after %.0f s = %.1f KB per connection (generator RSS %.1f MiB)\n",
				float64(c.RSSBeforeKB)/1024, float64(c.RSSAfterKB)/1024, c.SettleSecs, c.IdleKBConn, float64(c.SelfRSSKB)/1024)
		}
		if c.OtherCPU > disturbedCPU {
			fmt.Fprintf(w, "  connect: DISTURBED: other processes used %.0f%% of a core meanwhile\n", c.OtherCPU)
		}
		for _, e := range c.Errors {
			fmt.Fprintf(w, "  connect error: %s\n", e)
		}
	}
	if len(rep.Runs) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "rate/s\tachieved\torders\tdeliveries\tlost\tdup\twrong\tunmatched\tp50 ms\tp95 ms\tp99 ms\tmax ms\tPOST p99\tPATCH p99\tlag p99\tsrv CPU%\tsrv rd/o\tsrv wr/o\tdb CPU%\tgen CPU%\tother CPU%\tpass\t")
		for _, r := range rep.Runs {
			srv := "-"
			if r.ServerCPU >= 0 && cfg.pid > 0 {
				srv = fmt.Sprintf("%.0f", r.ServerCPU)
			}
			rd, wr := known(r.ReadCalls, "%.1f"), known(r.WriteCalls, "%.1f")
			dbc := "-"
			if r.DBCPU >= 0 && cfg.dbPid > 0 {
				dbc = fmt.Sprintf("%.0f", r.DBCPU)
			}
			pass := "yes"
			if !r.Pass {
				pass = "NO"
			}
			fmt.Fprintf(tw, "%.0f\t%.0f\t%d\t%d/%d\t%d\t%d\t%d\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%s\t%s\t%s\t%s\t%.0f\t%.0f\t%s\t\n",
				r.Rate, r.Achieved, r.Orders, r.Received, r.Expected, r.Lost, r.Duplicated, r.Wrong, r.Unmatched,
				r.Latency.P50, r.Latency.P95, r.Latency.P99, r.Latency.Max, r.Post.P99, r.Patch.P99, r.Lag.P99, srv, rd, wr, dbc, r.SelfCPU, r.OtherCPU, pass)
		}
		tw.Flush()
		for _, r := range rep.Runs {
			if r.Why != "" {
				fmt.Fprintf(w, "  %.0f/s: %s\n", r.Rate, r.Why)
			}
			if r.Disturbed {
				fmt.Fprintf(w, "  %.0f/s: DISTURBED: other processes used %.0f%% of a core during the step; repeat on a quiet machine\n", r.Rate, r.OtherCPU)
			}
			for _, e := range r.ErrorSample {
				fmt.Fprintf(w, "  %.0f/s error: %s\n", r.Rate, e)
			}
		}
		last := rep.Runs[len(rep.Runs)-1]
		fmt.Fprintf(w, "latency by alert at %.0f/s: SUBMIT_ORDER p50 %.2f p99 %.2f ms (n=%d); APPROVAL_ORDER p50 %.2f p99 %.2f ms (n=%d)\n",
			last.Rate, last.Submit.P50, last.Submit.P99, last.Submit.Count, last.Approval.P50, last.Approval.P99, last.Approval.Count)
	}
	if cfg.ramp != "" {
		if rep.MaxRate != nil {
			fmt.Fprintf(w, "ramp: highest rate sustained (p99 ≤ %s, nothing lost): %.0f orders/s\n", cfg.p99Limit, *rep.MaxRate)
		} else {
			fmt.Fprintf(w, "ramp: no step passed\n")
		}
	}
	if rep.Strays > 0 {
		fmt.Fprintf(w, "stray alerts between runs: %d\n", rep.Strays)
	}
	if rep.Error != "" {
		fmt.Fprintln(w, rep.Error)
	}
}
