package http

import (
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the HTTP layer's Prometheus collectors.
type metrics struct {
	requests *prometheus.CounterVec
	errors   *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	inFlight prometheus.Gauge
	// streams counts the live streams of the log open; streamsEnded counts
	// those the server ended, by reason (revoked, slow_client).
	streams      prometheus.Gauge
	streamsEnded *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "waystation_http_requests_total",
			Help: "HTTP requests answered, by route template, method and status code.",
		}, []string{"route", "method", "code"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "waystation_http_errors_total",
			Help: "Problem answers, by route template and error code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "waystation_http_request_duration_seconds",
			Help:    "Time to answer a request, by route template and method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "waystation_http_requests_in_flight",
			Help: "Requests being answered.",
		}),
		streams: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "waystation_event_streams_open",
			Help: "Live streams of the log (GET /v1/events/stream) open.",
		}),
		streamsEnded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "waystation_event_streams_ended_total",
			Help: "Live streams of the log the server ended, by reason: revoked (the token was revoked), " +
				"slow_client (a write was not taken in time).",
		}, []string{"reason"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.requests, m.errors, m.latency, m.inFlight, m.streams, m.streamsEnded} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("http: registering metrics: %w", err)
			}
		}
	}
	return m, nil
}

// metricsHandler serves the metrics of Config.Gatherer: GET /metrics.
func (s *Server) metricsHandler() handlerFunc {
	g := s.cfg.Gatherer
	if g == nil {
		g = prometheus.DefaultGatherer
	}
	h := promhttp.HandlerFor(g, promhttp.HandlerOpts{})
	return func(w http.ResponseWriter, r *http.Request) error {
		h.ServeHTTP(w, r)
		return nil
	}
}
