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
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/orderbell/orderbell/auth"
	"github.com/orderbell/orderbell/models"
	"github.com/orderbell/orderbell/router"
	"github.com/orderbell/orderbell/socket"
	"github.com/orderbell/orderbell/static"
	"github.com/orderbell/orderbell/views"
)

func main() {
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
	CORSOrigins    []string      `env:"CORS_ORIGINS" envSeparator:","`
	CookieSecure   bool          `env:"COOKIE_SECURE"`
	LogLevel       slog.Level    `env:"LOG_LEVEL" envDefault:"info"`
	LogFormat      string        `env:"LOG_FORMAT" envDefault:"text"`
	ShutdownGrace  time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"10s"`
}

func run(ctx context.Context, stdout io.Writer) error {
	cfg, err := env.ParseAs[config]()
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	log := newLogger(cfg, stdout)

	if cfg.RedisURL != "" {
		return errors.New("REDIS_URL: running several nodes is not supported by this build yet; unset it to run one node")
	}
	key := []byte(cfg.AccessTokenKey)
	if len(key) == 0 {
		key = randomKey()
		log.Warn("ACCESS_TOKEN_KEY is not set: using a random key; logins will not survive a restart nor work across nodes")
	}
	origins, err := cleanOrigins(cfg.CORSOrigins)
	if err != nil {
		return err
	}

	db, err := models.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	logins, err := db.SeedDemo(ctx)
	if err != nil {
		return err
	}
	for _, l := range logins {
		log.Info("demo login", "role", l.Role, "email", l.Email, "password", l.Password)
	}

	pages, err := views.Parse()
	if err != nil {
		return err
	}
	tokens := auth.NewTokens(key, cfg.TokenTTL)
	sockets := socket.NewServer(socket.Config{AllowedOrigins: origins}, tokens, db, log)
	handler := router.New(
		router.Config{CookieSecure: cfg.CookieSecure, AllowedOrigins: origins},
		router.Deps{DB: db, Tokens: tokens, Notifier: sockets, Sockets: sockets.Handler(), Static: static.FS, Pages: pages, Log: log},
	)

	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)))
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("listening", "addr", "http://"+ln.Addr().String())

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
	defer cancel()
	sockets.Close()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
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
