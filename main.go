// Command orderbell serves a food-ordering app's pages, its REST API and
// the Socket.IO order alerts that ring every device of an order's owner or
// customer.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"os/signal"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/caarlos0/env/v11"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/ulule/limiter/v3"
	redislimit "github.com/ulule/limiter/v3/drivers/store/redis"

	"github.com/orderbell/orderbell/auth"
	"github.com/orderbell/orderbell/models"
	"github.com/orderbell/orderbell/router"
	"github.com/orderbell/orderbell/socket"
	"github.com/orderbell/orderbell/static"
	"github.com/orderbell/orderbell/views"
)

func main() {
	if models.ServeCheckpointsIfAsked() { // orderbell run again by itself: models.WithCheckpointProcess
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "orderbell:", err)
		os.Exit(1)
	}
}

// config is read from the environment (SPEC §7).
type config struct {
	Port           int           `env:"PORT" envDefault:"3000"`
	Host           string        `env:"HOST" envDefault:"0.0.0.0"`
	AccessTokenKey string        `env:"ACCESS_TOKEN_KEY"`
	TokenTTL       time.Duration `env:"ACCESS_TOKEN_TTL" envDefault:"12h"`
	DatabaseURL    string        `env:"DATABASE_URL" envDefault:"sqlite:orderbell.db"`
	RedisURL       string        `env:"REDIS_URL"`
	RedisKey       string        `env:"REDIS_KEY" envDefault:"socket.io"`
	CORSOrigins    []string      `env:"CORS_ORIGINS" envSeparator:","`
	CookieSecure   bool          `env:"COOKIE_SECURE"`
	TrustedProxies []string      `env:"TRUSTED_PROXIES" envSeparator:","`
	LoginFailures  string        `env:"RATE_LIMIT_LOGIN_FAILURES" envDefault:"10-H"`
	LoginsPerAddr  string        `env:"RATE_LIMIT_LOGINS_PER_ADDRESS" envDefault:"60-M"`
	OrdersPerUser  string        `env:"RATE_LIMIT_ORDERS" envDefault:"60-M"`
	DemoData       bool          `env:"DEMO_DATA" envDefault:"true"`
	LogLevel       slog.Level    `env:"LOG_LEVEL" envDefault:"info"`
	LogFormat      string        `env:"LOG_FORMAT" envDefault:"text"`
	ShutdownGrace  time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"10s"`
	IdleTimeout    time.Duration `env:"IDLE_TIMEOUT" envDefault:"75s"`
	PprofAddr      string        `env:"PPROF_ADDR"`
	LeanWebSocket  bool          `env:"LEAN_WEBSOCKET" envDefault:"true"`
}

func run(ctx context.Context, stdout io.Writer) error {
	cfg, err := env.ParseAs[config]()
	if err != nil {
		return configError(err)
	}
	log := newLogger(cfg, stdout)

	log.Info("configuration", "addr", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)),
		"database", redact(cfg.DatabaseURL), "redis", redact(cfg.RedisURL), "cors_origins", cfg.CORSOrigins,
		"cookie_secure", cfg.CookieSecure, "token_ttl", cfg.TokenTTL, "lean_websocket", cfg.LeanWebSocket)
	key := []byte(cfg.AccessTokenKey)
	if len(key) == 0 {
		key = randomKey()
		log.Warn("ACCESS_TOKEN_KEY is not set: using a random key; logins will not survive a restart nor work across nodes")
	}
	origins, err := cleanOrigins(cfg.CORSOrigins)
	if err != nil {
		return err
	}
	if cfg.IdleTimeout < 0 {
		return fmt.Errorf("IDLE_TIMEOUT: %v is negative (0 keeps idle connections open)", cfg.IdleTimeout)
	}

	db, err := models.Open(ctx, cfg.DatabaseURL, models.WithCheckpointProcess())
	if err != nil {
		return err
	}
	defer db.Close()
	if cfg.DemoData {
		logins, err := db.SeedDemo(ctx)
		if err != nil {
			return err
		}
		for _, l := range logins {
			log.Info("demo login", "role", l.Role, "email", l.Email, "password", l.Password)
		}
	}

	pages, err := views.Parse()
	if err != nil {
		return err
	}
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	checks := []router.Check{{Name: "database", Ping: db.Ping}}
	var redis *socket.Redis
	if cfg.RedisURL != "" {
		if redis, err = socket.OpenRedis(ctx, cfg.RedisURL, cfg.RedisKey, log); err != nil {
			return err
		}
		defer redis.Close()
		checks = append(checks, router.Check{Name: "redis", Ping: redis.Ping})
	}

	tokens := auth.NewTokens(key, cfg.TokenTTL)
	sockets := socket.NewServer(socket.Config{AllowedOrigins: origins, Redis: redis, Metrics: registry, Lean: cfg.LeanWebSocket}, tokens, db, log)
	var limitStore limiter.Store
	if redis != nil {
		if limitStore, err = redislimit.NewStoreWithOptions(redis.Client(), limiter.StoreOptions{Prefix: cfg.RedisKey + "-limits"}); err != nil {
			return err
		}
	}
	handler, err := router.New(
		router.Config{
			CookieSecure: cfg.CookieSecure, AllowedOrigins: origins, TrustedProxies: cfg.TrustedProxies,
			Limits: &router.Limits{LoginFailuresPerAccount: cfg.LoginFailures, LoginsPerAddress: cfg.LoginsPerAddr, OrdersPerClient: cfg.OrdersPerUser},
		},
		router.Deps{
			DB: db, Tokens: tokens, Notifier: sockets, Sockets: sockets.Handler(),
			Static: static.FS, Pages: pages, Checks: checks, Metrics: registry, LimitStore: limitStore, Log: log,
		},
	)
	if err != nil {
		return err
	}

	if cfg.PprofAddr != "" {
		if err := servePprof(cfg.PprofAddr, log); err != nil {
			return err
		}
	}

	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)))
	if err != nil {
		return err
	}
	// IdleTimeout closes a keep-alive connection left idle between
	// requests (a page's, after its socket upgraded: it costs more than an
	// idle WebSocket). Held long-polls and WebSockets are not idle.
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: cfg.IdleTimeout}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("listening", "addr", "http://"+ln.Addr().String())

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	// Stop accepting and finish in-flight requests, close every socket so
	// its client reconnects to another node, then (deferred) close Redis
	// and the database. All bounded by SHUTDOWN_TIMEOUT.
	log.Info("shutting down", "timeout", cfg.ShutdownGrace)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
	defer cancel()
	shutdownErr := make(chan error, 1)
	go func() { shutdownErr <- srv.Shutdown(shutdownCtx) }()
	socketsClosed := make(chan struct{})
	go func() { sockets.Close(); close(socketsClosed) }()
	select {
	case <-socketsClosed:
	case <-shutdownCtx.Done():
		log.Warn("sockets did not close within the shutdown timeout")
	}
	if err := <-shutdownErr; err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// servePprof serves Go's profiler on a loopback address of its own, for
// measuring; it is never on the public listener.
func servePprof(addr string, log *slog.Logger) error {
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("PPROF_ADDR: %q must be a loopback address with a port, like 127.0.0.1:6060", addr)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	go func() { _ = http.Serve(ln, mux) }()
	log.Info("pprof listening", "addr", "http://"+ln.Addr().String()+"/debug/pprof/")
	return nil
}

// configError names the variable each parse error is about, where the
// env library names the config field ("ShutdownGrace" for SHUTDOWN_TIMEOUT).
func configError(err error) error {
	var all env.AggregateError
	if !errors.As(err, &all) {
		return fmt.Errorf("configuration: %w", err)
	}
	fields := reflect.TypeFor[config]()
	msgs := make([]string, len(all.Errors))
	for i, e := range all.Errors {
		msgs[i] = e.Error()
		var parse env.ParseError
		if errors.As(e, &parse) {
			if f, ok := fields.FieldByName(parse.Name); ok {
				name, _, _ := strings.Cut(f.Tag.Get("env"), ",")
				msgs[i] = fmt.Sprintf("%s: %v", name, parse.Err)
			}
		}
	}
	return fmt.Errorf("configuration: %s", strings.Join(msgs, "; "))
}

// redact hides the password of a URL or DSN for logging.
func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		return u.String()
	}
	if at := strings.LastIndex(raw, "@"); at > 0 {
		if colon := strings.Index(raw[:at], ":"); colon >= 0 {
			return raw[:colon+1] + "xxxxx" + raw[at:]
		}
	}
	return raw
}

func newLogger(cfg config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func randomKey() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return []byte(hex.EncodeToString(b))
}

// cleanOrigins checks CORS_ORIGINS: full origins only, never "*", since
// the login cookie rides along with every allowed request.
func cleanOrigins(list []string) ([]string, error) {
	var out []string
	for _, o := range list {
		o = strings.TrimRight(strings.TrimSpace(o), "/")
		if o == "" {
			continue
		}
		if u, err := url.Parse(o); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || u.Path != "" {
			return nil, fmt.Errorf("CORS_ORIGINS: %q is not an origin like https://shop.example (and * is never allowed with cookies)", o)
		}
		out = append(out, o)
	}
	return out, nil
}
