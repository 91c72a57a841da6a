package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
)

// SPEC §5 and §7 with no configuration at all: `go run .` on a fresh
// machine opens an embedded SQLite file, orderbell.db, in the working
// directory, seeds the demo store, owner and customer and prints their
// logins, warns that the random token key will not survive a restart, and
// serves.
func TestRunsWithNoConfiguration(t *testing.T) {
	noConfiguration(t)

	ctx, cancel := context.WithCancel(context.Background())
	out, logs := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, logs)
		_ = logs.Close()
	}()

	// Read the log until the server listens, noting what came before.
	var warned, lean bool
	var demo []string
	addr := ""
	listening := regexp.MustCompile(`msg=listening addr=(\S+)`)
	lines := bufio.NewScanner(out)
	for addr == "" && lines.Scan() {
		line := lines.Text()
		switch {
		case strings.Contains(line, "ACCESS_TOKEN_KEY is not set"):
			warned = true
		case strings.Contains(line, "msg=configuration"):
			lean = strings.Contains(line, "lean_websocket=true")
		case strings.Contains(line, "msg=\"demo login\""):
			demo = append(demo, line)
		case listening.MatchString(line):
			addr = listening.FindStringSubmatch(line)[1]
		}
	}
	go func() { _, _ = io.Copy(io.Discard, out) }() // the rest of the log
	if addr == "" {
		cancel()
		t.Fatalf("run ended before it listened: %v", <-done)
	}
	if !warned {
		t.Error("no warning that the random ACCESS_TOKEN_KEY will not survive a restart")
	}
	if !lean {
		t.Error("the configuration logged does not have the lean socket layer on by default")
	}
	for _, who := range []string{"owner@demo.orderbell", "client@demo.orderbell"} {
		if !strings.Contains(strings.Join(demo, "\n"), who) {
			t.Errorf("no demo login printed for %s; printed: %q", who, demo)
		}
	}
	if _, err := os.Stat("orderbell.db"); err != nil {
		t.Errorf("no orderbell.db in the working directory: %v", err)
	}
	res, err := http.Get(addr + "/stores")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"store_id":1`) {
		t.Errorf("GET /stores: %d %s; want the demo store", res.StatusCode, body)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
}

// noConfiguration runs the test in an empty directory with none of
// orderbell's settings but a free port on loopback, so tests can run side
// by side; the environment is restored afterwards.
func noConfiguration(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, name := range []string{"PORT", "HOST", "ACCESS_TOKEN_KEY", "DATABASE_URL", "REDIS_URL", "CORS_ORIGINS", "COOKIE_SECURE", "LOG_LEVEL", "LOG_FORMAT", "DEMO_DATA", "PPROF_ADDR", "LEAN_WEBSOCKET", "IDLE_TIMEOUT"} {
		t.Setenv(name, "") // restored afterwards
		_ = os.Unsetenv(name)
	}
	t.Setenv("PORT", "0")
	t.Setenv("HOST", "127.0.0.1")
}

// A setting that makes no sense stops run before it opens anything, with
// an error that names the variable.
func TestRefusesBadConfiguration(t *testing.T) {
	for _, c := range []struct{ name, value string }{
		{"IDLE_TIMEOUT", "-1s"},
		{"IDLE_TIMEOUT", "soon"},
		{"PORT", "eighty"},
		{"CORS_ORIGINS", "*"},
	} {
		t.Run(c.name+"="+c.value, func(t *testing.T) {
			noConfiguration(t)
			t.Setenv(c.name, c.value)
			err := run(context.Background(), io.Discard)
			if err == nil || !strings.Contains(err.Error(), c.name) {
				t.Fatalf("run: %v; want an error naming %s", err, c.name)
			}
			if _, err := os.Stat("orderbell.db"); err == nil {
				t.Error("a database was opened before the configuration was checked")
			}
		})
	}
}
