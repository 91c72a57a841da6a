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
	// disconnects counts every socket's end by the library's reason (the
	// client left, its connection closed or failed, a ping went unanswered,
	// the server disconnected it: dropped says why).
	disconnects *prometheus.CounterVec
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
		disconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orderbell_socket_disconnects_total", Help: "Sockets ended, by the Socket.IO disconnect reason.",
		}, []string{"reason"}),
	}
	if reg != nil {
		reg.MustRegister(m.connected, m.emitted, m.latency, m.replayed, m.refused, m.dropped, m.disconnects)
	}
	return m
}

// disconnectReasons are the reasons the Socket.IO server gives a socket's
// disconnect (its "disconnect" event), as metric labels; any other is
// "other", so the series stay few.
var disconnectReasons = map[string]string{
	"client namespace disconnect": "client_namespace_disconnect",
	"server namespace disconnect": "server_namespace_disconnect",
	"server shutting down":        "server_shutting_down",
	"transport close":             "transport_close",
	"transport error":             "transport_error",
	"ping timeout":                "ping_timeout",
	"parse error":                 "parse_error",
	"forced close":                "forced_close",
	"forced server close":         "forced_server_close",
}

// closedWhileConnecting labels the end of a socket whose connection closed
// while the server was still connecting it (onConnection): the library
// may have sent its disconnect event before the server listened for it,
// or never sends one.
const closedWhileConnecting = "closed_while_connecting"

// disconnectReason is the metric label of a disconnect event's arguments.
func disconnectReason(args []any) string {
	if len(args) > 0 {
		if r, ok := args[0].(string); ok {
			if label, ok := disconnectReasons[r]; ok {
				return label
			}
		}
	}
	return "other"
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
