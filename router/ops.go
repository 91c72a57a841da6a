package router

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-contrib/requestid"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Check is one dependency /readyz asks.
type Check struct {
	Name string
	Ping func(context.Context) error
}

// httpMetrics are the HTTP side's Prometheus series.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orderbell_http_requests_total", Help: "HTTP requests, by route, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "orderbell_http_request_duration_seconds", Help: "HTTP request durations, by route and method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.duration)
	}
	return m
}

func (s *Server) registerOpsRoutes(r gin.IRoutes, gatherer prometheus.Gatherer) {
	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", s.ready)
	if gatherer != nil {
		r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{})))
	}
}

// ready answers 200 when every dependency answers within two seconds,
// 503 naming the first that does not.
func (s *Server) ready(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	for _, check := range s.checks {
		if err := check.Ping(ctx); err != nil {
			s.logger(c).Warn("not ready", "dependency", check.Name, "err", err)
			c.JSON(http.StatusServiceUnavailable, gin.H{"status": "not ready", "message": check.Name + " is unreachable"})
			return
		}
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}

// observe logs and measures each request under its route pattern.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	elapsed := time.Since(start)
	status := c.Writer.Status()
	s.metrics.requests.WithLabelValues(route, c.Request.Method, strconv.Itoa(status)).Inc()
	s.metrics.duration.WithLabelValues(route, c.Request.Method).Observe(elapsed.Seconds())
	// Checked first: the arguments alone cost allocations on every request.
	if s.log.Enabled(c, slog.LevelDebug) {
		s.logger(c).Debug("request", "method", c.Request.Method, "route", route, "status", status, "duration", elapsed)
	}
}

// logger is the request's logger, carrying its request id. It is made
// when something is logged, not for every request.
func (s *Server) logger(c *gin.Context) *slog.Logger {
	return s.log.With("request_id", requestid.Get(c))
}
