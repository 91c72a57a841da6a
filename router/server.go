// Package router is orderbell's HTTP side: the REST API, the pages, and
// the mount point of the Socket.IO server. Handlers are methods on one
// Server that holds its dependencies; each feature registers its routes in
// its own file.
package router

import (
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-contrib/cors"
	"github.com/gin-contrib/requestid"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/ulule/limiter/v3"
	"github.com/ulule/limiter/v3/drivers/store/memory"

	"github.com/orderbell/orderbell/auth"
	"github.com/orderbell/orderbell/models"
	"github.com/orderbell/orderbell/socket"
	"github.com/orderbell/orderbell/views"
)

// Config is what the HTTP side needs from orderbell's configuration.
type Config struct {
	// CookieSecure marks the login cookie Secure (HTTPS only).
	CookieSecure bool
	// AllowedOrigins are foreign origins allowed to call with credentials.
	AllowedOrigins []string
	// MaxBodyBytes bounds a request body; default 1 MiB.
	MaxBodyBytes int64
	// Limits bound logins and orders; the zero value is DefaultLimits.
	Limits *Limits
	// TrustedProxies are the proxies (CIDRs) whose X-Forwarded-For names
	// the client's address; none by default, so nobody can pose as another
	// address to the per-address limits.
	TrustedProxies []string
}

// Server serves orderbell over HTTP.
type Server struct {
	cfg     Config
	db      *models.DB
	tokens  *auth.Tokens
	sockets http.Handler
	static  fs.FS
	pages   views.Pages
	checks  []Check
	limits  limiters
	metrics *httpMetrics
	log     *slog.Logger
	engine  *gin.Engine
}

// Deps are the services the HTTP side uses.
type Deps struct {
	DB       *models.DB
	Tokens   *auth.Tokens
	Notifier socket.Notifier
	// Sockets serves /socket.io/ (Engine.IO); nil serves none.
	Sockets http.Handler
	// Static holds the files under /static/, and socket.io.js.
	Static fs.FS
	Pages  views.Pages
	// Checks are what /readyz asks (the database; Redis when configured).
	Checks []Check
	// Metrics registers the HTTP series and is served at /metrics; nil
	// serves no metrics.
	Metrics *prometheus.Registry
	// LimitStore keeps the rate-limit counters (Redis, to share them
	// between nodes); nil keeps them in memory.
	LimitStore limiter.Store
	Log        *slog.Logger
}

// New builds the router.
func New(cfg Config, deps Deps) (*Server, error) {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.Limits == nil {
		cfg.Limits = &DefaultLimits
	}
	if deps.LimitStore == nil {
		deps.LimitStore = memory.NewStore()
	}
	limits, err := newLimiters(*cfg.Limits, deps.LimitStore)
	if err != nil {
		return nil, err
	}
	if deps.Notifier == nil {
		deps.Notifier = socket.Nop{}
	}
	// The order writer hands each changed order and its stored alert to
	// the notifier right after the commit, in commit order. Were the
	// handlers to do it after PlaceOrder returned, two alerts to one device
	// could race and arrive in the opposite order of their ids, and a
	// device that reconnected between them (with the higher id as the last
	// it got) would never be sent the other; and an order's acceptance
	// could overtake its placing on the way to the customer's devices.
	notifier := deps.Notifier
	deps.DB.OnCommit(func(o models.Order, n models.Notification, origin string) {
		notifier.Notify(n)
		notifier.OrderUpdated(o, origin)
	})
	gin.SetMode(gin.ReleaseMode)
	s := &Server{
		cfg: cfg, db: deps.DB, tokens: deps.Tokens,
		sockets: deps.Sockets, static: deps.Static, pages: deps.Pages, checks: deps.Checks, log: deps.Log,
		limits: limits, engine: gin.New(),
	}
	if err := s.engine.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		return nil, fmt.Errorf("trusted proxies: %w", err)
	}
	var gatherer prometheus.Gatherer
	var registerer prometheus.Registerer
	if deps.Metrics != nil {
		gatherer, registerer = deps.Metrics, deps.Metrics
	}
	s.metrics = newHTTPMetrics(registerer)
	s.engine.Use(gin.Recovery(), requestid.New(), s.observe, securityHeaders, s.checkOrigin)
	if len(cfg.AllowedOrigins) > 0 {
		// On the engine, not a group: preflights match no route.
		s.engine.Use(exceptSockets(cors.New(cors.Config{
			AllowOrigins:     cfg.AllowedOrigins,
			AllowMethods:     []string{"GET", "POST", "PATCH", "PUT", "DELETE"},
			AllowHeaders:     []string{"Content-Type", "Authorization", originHeader},
			AllowCredentials: true,
			MaxAge:           time.Hour,
		})))
	}
	s.registerSocketRoutes()
	s.registerOpsRoutes(s.engine, gatherer)

	api := s.engine.Group("/")
	api.Use(s.limitBody)
	s.registerAuthRoutes(api)
	s.registerStoreRoutes(api)
	s.registerOrderRoutes(api)
	s.registerNotificationRoutes(api)
	s.registerPageRoutes(api)
	s.engine.NoRoute(func(c *gin.Context) {
		c.JSON(http.StatusNotFound, gin.H{"message": "no such page: " + c.Request.URL.Path})
	})
	return s, nil
}

// securityHeaders are on every answer. The pages load scripts and styles
// from this origin only, and have no inline script.
//
// The values are shared by every answer rather than made per request (as
// Header.Set would): net/http copies the header when it writes it, and a
// handler that sets or adds one of these replaces the shared slice, never
// changes it (appending to a full slice copies it).
var securityHeaderValues = [...]struct {
	key   string
	value []string
}{
	{"Content-Security-Policy", []string{"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"}},
	{"X-Content-Type-Options", []string{"nosniff"}},
	{"Referrer-Policy", []string{"same-origin"}},
	{"X-Frame-Options", []string{"DENY"}},
}

func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	for _, kv := range securityHeaderValues {
		h[kv.key] = kv.value[:1:1]
	}
	c.Next()
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.engine.ServeHTTP(w, r) }

// exceptSockets runs mw on every request but /socket.io/ ones, whose CORS
// the Socket.IO server answers itself.
func exceptSockets(mw gin.HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		if isSocketPath(c.Request.URL.Path) {
			c.Next()
			return
		}
		mw(c)
	}
}

func isSocketPath(path string) bool { return strings.HasPrefix(path, "/socket.io/") }

func (s *Server) limitBody(c *gin.Context) {
	if c.Request.ContentLength > s.cfg.MaxBodyBytes {
		s.fail(c, errTooLarge)
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, s.cfg.MaxBodyBytes)
	c.Next()
}

// checkOrigin refuses cross-site use of the login cookie: a request that
// changes state, or opens a socket, from a page of another origin that is
// not allowed. Clients that send no Origin (not browsers) pass.
func (s *Server) checkOrigin(c *gin.Context) {
	origin := c.GetHeader("Origin")
	if origin == "" || s.originAllowed(origin, c.Request.Host) {
		c.Next()
		return
	}
	isSocket := isSocketPath(c.Request.URL.Path)
	switch c.Request.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		if !isSocket {
			c.Next()
			return
		}
	}
	c.AbortWithStatusJSON(http.StatusForbidden, gin.H{"message": "requests from origin " + origin + " are not allowed"})
}

func (s *Server) originAllowed(origin, host string) bool {
	if slices.ContainsFunc(s.cfg.AllowedOrigins, func(o string) bool { return strings.EqualFold(o, origin) }) {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, host)
}

// registerSocketRoutes mounts Engine.IO at /socket.io/ and serves the v4
// browser client there, as the Node server does.
func (s *Server) registerSocketRoutes() {
	s.engine.Any("/socket.io/*path", func(c *gin.Context) {
		switch c.Param("path") {
		case "/socket.io.js", "/socket.io.min.js", "/socket.io.min.js.map", "/socket.io.js.map":
			if s.static != nil {
				c.Header("Cache-Control", "public, max-age=3600")
				c.FileFromFS(strings.TrimPrefix(c.Param("path"), "/"), http.FS(s.static))
				return
			}
		}
		if s.sockets == nil {
			c.AbortWithStatusJSON(http.StatusNotFound, gin.H{"message": "sockets are not served here"})
			return
		}
		s.sockets.ServeHTTP(c.Writer, c.Request)
	})
}

// loggedIn runs h for requests with a valid accessToken, from the cookie
// or an Authorization: Bearer header, with the account it names; others
// are refused. (Passed as an argument, not through the gin.Context's keys,
// which cost a map on every request.)
func (s *Server) loggedIn(h func(c *gin.Context, p models.Principal)) gin.HandlerFunc {
	return func(c *gin.Context) {
		token, _ := c.Cookie(auth.CookieName)
		if header := c.GetHeader("Authorization"); token == "" && strings.HasPrefix(header, "Bearer ") {
			token = strings.TrimPrefix(header, "Bearer ")
		}
		if token == "" {
			s.failForm(c, &models.Error{Kind: models.ErrUnauthorized, Message: "log in first"}, "/login")
			return
		}
		p, _, err := s.tokens.Parse(token)
		if err != nil {
			s.failForm(c, &models.Error{Kind: models.ErrUnauthorized, Message: "your login is invalid or expired; log in again"}, "/login")
			return
		}
		h(c, p)
	}
}
