package socket

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/orderbell/orderbell/auth"
)

// metrics are the socket side's Prometheus series.
type metrics struct {
	connected *prometheus.GaugeVec
	emitted   *prometheus.CounterVec
	latency   prometheus.Histogram
	replayed  prometheus.Counter
	refused   *prometheus.CounterVec
	dropped   *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		connected: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "orderbell_sockets_connected", Help: "Sockets connected to this node, by role.",
		}, []string{"role"}),
		emitted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orderbell_alerts_emitted_total", Help: "Alerts emitted by this node after a commit, by event.",
		}, []string{"event"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "orderbell_alert_emit_latency_seconds",
			Help:    "Time from the commit that stored an alert to its emit.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		}),
		replayed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "orderbell_alerts_replayed_total", Help: "Stored alerts replayed to reconnecting devices.",
		}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orderbell_handshakes_refused_total", Help: "Socket handshakes refused, by reason.",
		}, []string{"reason"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orderbell_sockets_dropped_total", Help: "Sockets the server disconnected, by reason.",
		}, []string{"reason"}),
	}
	if reg != nil {
		reg.MustRegister(m.connected, m.emitted, m.latency, m.replayed, m.refused, m.dropped)
	}
	return m
}

var errNoToken = errors.New("no token")

// refusalReason is the metric label of a refused handshake.
func refusalReason(err error) string {
	switch {
	case errors.Is(err, errNoToken):
		return "no_token"
	case errors.Is(err, errBadLastSeen):
		return "bad_last_notification_id"
	case errors.Is(err, auth.ErrInvalidToken):
		return "invalid_token"
	}
	return "other"
}
