package main

// Checks of the deployment files (docker-compose.yml, Dockerfile,
// .dockerignore, deploy/nginx.conf.template) that need no Docker engine:
// the compose file goes through the Compose Specification's own loader, the
// build context through Docker's own .dockerignore matcher, and the nginx
// template through a real nginx when one is on PATH.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// loadCompose loads docker-compose.yml as `docker compose` would, with env
// as the only environment (no OS environment, no .env file).
func loadCompose(t *testing.T, env ...string) (*types.Project, error) {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{"docker-compose.yml"},
		cli.WithWorkingDirectory("."), cli.WithEnv(env))
	if err != nil {
		t.Fatal(err)
	}
	return opts.LoadProject(context.Background())
}

func composeEnv(t *testing.T, s types.ServiceConfig, name string) string {
	t.Helper()
	v, ok := s.Environment[name]
	if !ok || v == nil {
		t.Fatalf("service %s: environment %s is not set", s.Name, name)
	}
	return *v
}

func composeService(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, err := p.GetService(name)
	if err != nil {
		t.Fatalf("service %s: %v", name, err)
	}
	return s
}

func TestComposeFile(t *testing.T) {
	const key = "compose-test-key-0123456789abcdef"
	p, err := loadCompose(t, "ACCESS_TOKEN_KEY="+key)
	if err != nil {
		t.Fatalf("docker-compose.yml does not load: %v", err)
	}
	repo, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}

	mysql := composeService(t, p, "mysql")
	if mysql.Image != "mysql:8.4" {
		t.Errorf("mysql image = %q, want mysql:8.4", mysql.Image)
	}
	if mysql.HealthCheck == nil || mysql.HealthCheck.Disable || len(mysql.HealthCheck.Test) == 0 {
		t.Errorf("mysql has no healthcheck")
	}
	redis := composeService(t, p, "redis")
	if !strings.HasPrefix(redis.Image, "redis:7") {
		t.Errorf("redis image = %q, want redis:7…", redis.Image)
	}

	nodes := []string{"orderbell1", "orderbell2"}
	for _, name := range nodes {
		s := composeService(t, p, name)
		if s.Build == nil || s.Build.Context != repo || s.Build.Dockerfile != "Dockerfile" {
			t.Errorf("%s: build = %+v, want the repository's Dockerfile", name, s.Build)
		}
		if s.HealthCheck == nil || s.HealthCheck.Disable || !strings.Contains(strings.Join(s.HealthCheck.Test, " "), "/healthz") {
			t.Errorf("%s: healthcheck does not probe /healthz: %+v", name, s.HealthCheck)
		}
		if d := s.DependsOn["mysql"]; d.Condition != types.ServiceConditionHealthy {
			t.Errorf("%s: depends_on mysql condition = %q, want service_healthy", name, d.Condition)
		}
		if d, ok := s.DependsOn["redis"]; !ok || (d.Condition != types.ServiceConditionStarted && d.Condition != types.ServiceConditionHealthy) {
			t.Errorf("%s: does not depend on redis being started", name)
		}
		if got := composeEnv(t, s, "ACCESS_TOKEN_KEY"); got != key {
			t.Errorf("%s: ACCESS_TOKEN_KEY = %q, want the environment's %q", name, got, key)
		}
		if got := composeEnv(t, s, "LOG_FORMAT"); got != "json" {
			t.Errorf("%s: LOG_FORMAT = %q, want json", name, got)
		}
		shutdown, err := time.ParseDuration(composeEnv(t, s, "SHUTDOWN_TIMEOUT"))
		if err != nil {
			t.Errorf("%s: SHUTDOWN_TIMEOUT: %v", name, err)
		}
		if s.StopGracePeriod == nil || shutdown >= time.Duration(*s.StopGracePeriod) {
			t.Errorf("%s: SHUTDOWN_TIMEOUT %v must be below stop_grace_period %v", name, shutdown, s.StopGracePeriod)
		}

		// DATABASE_URL: the mysql service's database, user and password.
		db, err := url.Parse(composeEnv(t, s, "DATABASE_URL"))
		if err != nil {
			t.Fatalf("%s: DATABASE_URL: %v", name, err)
		}
		pass, _ := db.User.Password()
		if db.Scheme != "mysql" || db.Host != "mysql:3306" || db.Path != "/"+composeEnv(t, mysql, "MYSQL_DATABASE") ||
			db.User.Username() != composeEnv(t, mysql, "MYSQL_USER") || pass != composeEnv(t, mysql, "MYSQL_PASSWORD") {
			t.Errorf("%s: DATABASE_URL %s does not match the mysql service", name, db.Redacted())
		}
		rd, err := url.Parse(composeEnv(t, s, "REDIS_URL"))
		if err != nil || rd.Scheme != "redis" || rd.Hostname() != "redis" {
			t.Errorf("%s: REDIS_URL %q does not point at the redis service", name, composeEnv(t, s, "REDIS_URL"))
		}
	}
	// The nodes must be interchangeable: the same environment.
	a, b := composeService(t, p, nodes[0]), composeService(t, p, nodes[1])
	for k, v := range a.Environment {
		if w := b.Environment[k]; v == nil || w == nil || *v != *w {
			t.Errorf("environment %s differs between %s and %s", k, nodes[0], nodes[1])
		}
	}
	if len(a.Environment) != len(b.Environment) {
		t.Errorf("%s and %s have different environments", nodes[0], nodes[1])
	}

	nginx := composeService(t, p, "nginx")
	if !slices.ContainsFunc(nginx.Ports, func(pc types.ServicePortConfig) bool {
		return pc.Published == "3000" && pc.Target == 3000
	}) {
		t.Errorf("nginx does not publish port 3000: %+v", nginx.Ports)
	}
	for i, name := range nodes {
		addr := composeEnv(t, nginx, fmt.Sprintf("ORDERBELL_%d", i+1))
		if addr != name+":3000" {
			t.Errorf("nginx ORDERBELL_%d = %q, want %s:3000", i+1, addr, name)
		}
		if d := nginx.DependsOn[name]; d.Condition != types.ServiceConditionHealthy {
			t.Errorf("nginx: depends_on %s condition = %q, want service_healthy", name, d.Condition)
		}
	}
	if !slices.ContainsFunc(nginx.Volumes, func(v types.ServiceVolumeConfig) bool {
		return v.Source == filepath.Join(repo, "deploy", "nginx.conf.template") &&
			v.Target == "/etc/nginx/templates/nginx.conf.template"
	}) {
		t.Errorf("nginx does not mount deploy/nginx.conf.template as /etc/nginx/templates/nginx.conf.template: %+v", nginx.Volumes)
	}
	if got := composeEnv(t, nginx, "NGINX_ENVSUBST_OUTPUT_DIR"); got != "/etc/nginx" {
		t.Errorf("nginx NGINX_ENVSUBST_OUTPUT_DIR = %q: the template is a whole nginx.conf, want /etc/nginx", got)
	}
	// The image's entrypoint substitutes the variables that are set and
	// whose name matches NGINX_ENVSUBST_FILTER (an awk regular expression;
	// this one is also valid in Go).
	filter, err := regexp.Compile(composeEnv(t, nginx, "NGINX_ENVSUBST_FILTER"))
	if err != nil {
		t.Fatalf("NGINX_ENVSUBST_FILTER: %v", err)
	}
	for _, v := range nginxTemplateVars {
		if !filter.MatchString(v) {
			t.Errorf("NGINX_ENVSUBST_FILTER does not let %s through", v)
		}
		composeEnv(t, nginx, v)
	}
	for _, v := range []string{"HOSTNAME", "HOME", "PATH", "NGINX_VERSION", "host", "remote_addr"} {
		if filter.MatchString(v) {
			t.Errorf("NGINX_ENVSUBST_FILTER lets %s through", v)
		}
	}
}

func TestComposeNeedsAccessTokenKey(t *testing.T) {
	_, err := loadCompose(t)
	if err == nil || !strings.Contains(err.Error(), "set ACCESS_TOKEN_KEY") {
		t.Fatalf("loading without ACCESS_TOKEN_KEY: err = %v, want the 'set ACCESS_TOKEN_KEY' message", err)
	}
}

// dockerInstruction is one Dockerfile instruction: its keyword, upper
// case, and the rest of the line (continuations joined).
type dockerInstruction struct{ cmd, args string }

func parseDockerfile(t *testing.T, path string) [][]dockerInstruction {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var stages [][]dockerInstruction
	var cur string
	flush := func() {
		line := strings.TrimSpace(cur)
		cur = ""
		if line == "" {
			return
		}
		cmd, args, _ := strings.Cut(line, " ")
		in := dockerInstruction{strings.ToUpper(cmd), strings.TrimSpace(args)}
		switch {
		case in.cmd == "FROM":
			stages = append(stages, []dockerInstruction{in})
		case len(stages) > 0:
			stages[len(stages)-1] = append(stages[len(stages)-1], in)
		}
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if body, cont := strings.CutSuffix(strings.TrimRight(line, " \t"), `\`); cont {
			cur += body + " "
			continue
		}
		cur += line
		flush()
	}
	flush()
	return stages
}

func TestDockerfile(t *testing.T) {
	stages := parseDockerfile(t, "Dockerfile")
	if len(stages) < 2 {
		t.Fatalf("Dockerfile has %d stage(s), want a multi-stage build", len(stages))
	}
	build, final := stages[0], stages[len(stages)-1]
	buildName := ""
	if f := strings.Fields(build[0].args); len(f) == 3 && strings.EqualFold(f[1], "AS") {
		buildName = f[2]
	}
	if !slices.ContainsFunc(build, func(in dockerInstruction) bool {
		return in.cmd == "RUN" && strings.Contains(in.args, "CGO_ENABLED=0") && strings.Contains(in.args, "go build")
	}) {
		t.Errorf("the build stage has no RUN CGO_ENABLED=0 go build")
	}
	if buildName == "" || !slices.ContainsFunc(final, func(in dockerInstruction) bool {
		return in.cmd == "COPY" && strings.Contains(in.args, "--from="+buildName)
	}) {
		t.Errorf("the final stage does not COPY --from the build stage (%q)", buildName)
	}
	var user string
	for _, in := range final {
		if in.cmd == "USER" {
			user = in.args
		}
	}
	if name, _, _ := strings.Cut(user, ":"); name == "" || name == "root" || name == "0" {
		t.Errorf("the final stage runs as %q, want a non-root USER", user)
	}
	if !slices.ContainsFunc(final, func(in dockerInstruction) bool {
		return in.cmd == "ENTRYPOINT" && strings.HasPrefix(in.args, "[")
	}) {
		t.Errorf("the final stage has no exec-form ENTRYPOINT (orderbell must be PID 1 to get SIGTERM)")
	}
}

// TestDockerfileContext checks, with Docker's own .dockerignore matcher,
// that every file `go build .` reads (Go sources, embedded files, go.mod,
// go.sum) is sent in the build context, including those of modules that
// go.mod replaces with a directory of the repository (third_party/).
func TestDockerfileContext(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	f, err := os.Open(".dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(goBin, "list", "-deps", "-f",
		`{{if .Module}}{{if or .Module.Main (and .Module.Replace (not .Module.Replace.Version))}}{{$d := .Dir}}{{range .GoFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{range .EmbedFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{.Module.GoMod}}{{"\n"}}{{end}}{{end}}`, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	repo, _ := filepath.Abs(".")
	needed := []string{"go.mod", "go.sum", "Dockerfile"}
	for _, p := range strings.Fields(string(out)) {
		rel, err := filepath.Rel(repo, p)
		if err != nil {
			t.Fatal(err)
		}
		needed = append(needed, filepath.ToSlash(rel))
	}
	if len(needed) < 10 {
		t.Fatalf("go list found only %v", needed)
	}
	for _, p := range needed {
		if p == "Dockerfile" {
			continue // docker always sends the Dockerfile, ignored or not
		}
		if ignored, err := pm.MatchesOrParentMatches(p); err != nil || ignored {
			t.Errorf(".dockerignore leaves out %s, which the build needs (err %v)", p, err)
		}
	}
	for _, p := range []string{".git/HEAD", "test/package.json", "test/node_modules/x/index.js", "orderbell", "orderbell.db"} {
		if ignored, _ := pm.MatchesOrParentMatches(p); !ignored {
			t.Errorf(".dockerignore sends %s", p)
		}
	}
}

// nginxTemplateVars are the variables deploy/nginx.conf.template expects.
var nginxTemplateVars = []string{"ORDERBELL_1", "ORDERBELL_2", "LISTEN_PORT"}

var shellVarRE = regexp.MustCompile(`\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))`)

// envsubst is `envsubst '$A $B'`: only the listed variables are replaced,
// every other $name is left as it is.
func envsubst(text string, vars map[string]string) string {
	return shellVarRE.ReplaceAllStringFunc(text, func(m string) string {
		sub := shellVarRE.FindStringSubmatch(m)
		name := sub[1] + sub[2]
		if v, ok := vars[name]; ok {
			return v
		}
		return m
	})
}

func renderNginxTemplate(t *testing.T, vars map[string]string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("deploy", "nginx.conf.template"))
	if err != nil {
		t.Fatal(err)
	}
	return envsubst(string(raw), vars)
}

// writeNginxConf writes a rendered template into dir as nginx.conf, with
// its pid file moved into dir too: nginx (even nginx -t) creates that file,
// and a hand-started nginx from the same template keeps its own.
func writeNginxConf(t *testing.T, dir, conf string) string {
	t.Helper()
	conf = regexp.MustCompile(`(?m)^pid .*;$`).ReplaceAllString(conf, "pid "+filepath.Join(dir, "nginx.pid")+";")
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestNginxTemplate(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("deploy", "nginx.conf.template"))
	if err != nil {
		t.Fatal(err)
	}
	// The template's own variables are upper case, nginx's lower case.
	var mine []string
	for _, m := range shellVarRE.FindAllStringSubmatch(string(raw), -1) {
		if name := m[1] + m[2]; strings.ToLower(name) != name && !slices.Contains(mine, name) {
			mine = append(mine, name)
		}
	}
	slices.Sort(mine)
	want := slices.Sorted(slices.Values(nginxTemplateVars))
	if !slices.Equal(mine, want) {
		t.Errorf("template variables = %v, want %v", mine, want)
	}

	conf := renderNginxTemplate(t, map[string]string{
		"ORDERBELL_1": "127.0.0.1:3001", "ORDERBELL_2": "127.0.0.1:3002", "LISTEN_PORT": "127.0.0.1:3000",
	})
	for _, s := range []string{
		// nginx's own variables survived.
		"map $http_upgrade $connection_upgrade",
		"proxy_set_header Upgrade $http_upgrade;",
		"proxy_set_header Connection $connection_upgrade;",
		"proxy_set_header Host $http_host;",
		"proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
		"proxy_set_header X-Forwarded-Proto $scheme;",
		"hash $remote_addr consistent;",
		// the upstreams and the listen address are in.
		"server 127.0.0.1:3001 ",
		"server 127.0.0.1:3002 ",
		"listen 127.0.0.1:3000;",
		"proxy_http_version 1.1;",
		"client_max_body_size 1m;",
		// a whole nginx.conf, usable by any user.
		"events {",
		"http {",
		"pid /tmp/",
	} {
		if !strings.Contains(conf, s) {
			t.Errorf("rendered template lacks %q", s)
		}
	}
	// Long-polling GETs are held ~25 s and WebSockets pinged every 25 s
	// (+ pingTimeout 20 s): the proxy must wait longer.
	for _, m := range regexp.MustCompile(`proxy_(read|send)_timeout\s+(\d+)s;`).FindAllStringSubmatch(conf, -1) {
		if d, _ := time.ParseDuration(m[2] + "s"); d < 60*time.Second {
			t.Errorf("proxy_%s_timeout %v is below 60 s", m[1], d)
		}
	}
	if !strings.Contains(conf, "proxy_read_timeout") {
		t.Errorf("no proxy_read_timeout: nginx's 60 s default is too close to Socket.IO's 45 s")
	}
	// An upstream connection orderbell closes as idle while nginx sends a
	// request on it fails that request: nginx must let go first.
	idle, _ := reflect.TypeFor[config]().FieldByName("IdleTimeout")
	appIdle, err := time.ParseDuration(idle.Tag.Get("envDefault"))
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`keepalive_timeout\s+(\d+)s;`).FindStringSubmatch(conf); m == nil {
		t.Error("no keepalive_timeout in the upstream")
	} else if d, _ := time.ParseDuration(m[1] + "s"); d >= appIdle {
		t.Errorf("upstream keepalive_timeout %v is not below orderbell's IDLE_TIMEOUT %v", d, appIdle)
	}

	nginx, err := exec.LookPath("nginx")
	if err != nil {
		t.Skip("nginx is not on PATH (apt-get install nginx): skipping nginx -t")
	}
	path := writeNginxConf(t, t.TempDir(), conf)
	if out, err := exec.Command(nginx, "-t", "-c", path).CombinedOutput(); err != nil {
		t.Fatalf("nginx -t: %v\n%s", err, out)
	}
}

// TestNginxProxies runs the rendered template in a real nginx in front of
// two stand-in nodes and checks what the nodes see: stickiness per client
// address, the proxy headers, the WebSocket upgrade headers, the body limit.
func TestNginxProxies(t *testing.T) {
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		t.Skip("nginx is not on PATH (apt-get install nginx)")
	}
	type seen struct {
		Node, Host, XFF, XFP, Upgrade, Connection string
	}
	node := func(name string) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			_ = json.NewEncoder(w).Encode(seen{name, r.Host, r.Header.Get("X-Forwarded-For"),
				r.Header.Get("X-Forwarded-Proto"), r.Header.Get("Upgrade"), r.Header.Get("Connection")})
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	n1, n2 := node("n1"), node("n2")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	listen := l.Addr().String()
	l.Close()

	dir := t.TempDir()
	conf := renderNginxTemplate(t, map[string]string{
		"ORDERBELL_1": n1.Listener.Addr().String(), "ORDERBELL_2": n2.Listener.Addr().String(), "LISTEN_PORT": listen,
	})
	path := writeNginxConf(t, dir, conf)
	logFile, err := os.Create(filepath.Join(dir, "nginx.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	logs := func() string { b, _ := os.ReadFile(logFile.Name()); return string(b) }
	cmd := exec.Command(nginx, "-c", path, "-g", "daemon off;")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})

	// A client per source address in 127.0.0.0/8, so that nginx sees
	// several client addresses.
	client := func(src string) *http.Client {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
		return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext}}
	}
	get := func(c *http.Client, header map[string]string) (seen, int) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, "http://"+listen+"/socket.io/?EIO=4&transport=polling", nil)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatalf("GET through nginx: %v\n%s", err, logs())
		}
		defer res.Body.Close()
		var s seen
		_ = json.NewDecoder(res.Body).Decode(&s)
		return s, res.StatusCode
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", listen)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-exited:
			t.Fatalf("nginx exited:\n%s", logs())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx does not listen on %s:\n%s", listen, logs())
		}
	}

	used := map[string]bool{}
	for i := 1; i <= 20; i++ {
		src := fmt.Sprintf("127.0.0.%d", i)
		c := client(src)
		first, _ := get(c, nil)
		for range 3 {
			if s, code := get(c, nil); code != http.StatusOK || s.Node != first.Node {
				t.Fatalf("client %s: answered by %s, then %s (status %d): not sticky", src, first.Node, s.Node, code)
			}
		}
		c.CloseIdleConnections()
		used[first.Node] = true
		if first.XFF != src || first.XFP != "http" || first.Host != listen {
			t.Errorf("client %s: node saw X-Forwarded-For %q, X-Forwarded-Proto %q, Host %q; want %s, http, %s",
				src, first.XFF, first.XFP, first.Host, src, listen)
		}
	}
	if len(used) != 2 {
		t.Errorf("20 client addresses all went to %v: sticky, but not balanced", used)
	}

	c := client("127.0.0.1")
	s, _ := get(c, map[string]string{"Connection": "Upgrade", "Upgrade": "websocket"})
	if s.Upgrade != "websocket" || !strings.EqualFold(s.Connection, "upgrade") {
		t.Errorf("WebSocket upgrade: node saw Upgrade %q, Connection %q", s.Upgrade, s.Connection)
	}
	res, err := c.Post("http://"+listen+"/login", "application/json", strings.NewReader(strings.Repeat(" ", 2<<20)))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("2 MiB body: status %d, want 413", res.StatusCode)
	}
}
