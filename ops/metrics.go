package ops

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// storeMetrics feeds the embedded store's writer statistics to Prometheus;
// it implements bolt.Observer.
type storeMetrics struct {
	events   prometheus.Counter
	batches  prometheus.Histogram
	requests prometheus.Histogram
	fsync    prometheus.Histogram
	batch    prometheus.Histogram
}

func newStoreMetrics(reg prometheus.Registerer) *storeMetrics {
	m := &storeMetrics{
		events: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "waystation_store_events_appended_total",
			Help: "Events committed to the store.",
		}),
		batches: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "waystation_store_batch_events",
			Help:    "Events per committed transaction (group commit).",
			Buckets: prometheus.ExponentialBuckets(1, 4, 8),
		}),
		requests: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "waystation_store_batch_requests",
			Help:    "Append requests per committed transaction (group commit).",
			Buckets: prometheus.ExponentialBuckets(1, 4, 8),
		}),
		fsync: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "waystation_store_fsync_seconds",
			Help:    "Time to commit and fsync one transaction.",
			Buckets: prometheus.ExponentialBuckets(0.0002, 2, 14),
		}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "waystation_store_append_seconds",
			Help:    "Time from taking the first request of a batch to acknowledging the batch.",
			Buckets: prometheus.ExponentialBuckets(0.0002, 2, 14),
		}),
	}
	reg.MustRegister(m.events, m.batches, m.requests, m.fsync, m.batch)
	return m
}

// ObserveBatch implements bolt.Observer.
func (m *storeMetrics) ObserveBatch(events, requests int, fsync, total time.Duration) {
	m.events.Add(float64(events))
	m.batches.Observe(float64(events))
	m.requests.Observe(float64(requests))
	if fsync > 0 { // the cluster backend reports no fsync of its own
		m.fsync.Observe(fsync.Seconds())
	}
	m.batch.Observe(total.Seconds())
}

// viewMetrics exposes the projections' progress and the open safety alerts,
// computed when Prometheus scrapes.
type viewMetrics struct {
	position *prometheus.Desc
	lag      *prometheus.Desc
	capped   *prometheus.Desc
	alerts   *prometheus.Desc
	source   viewSource
}

// viewSource is what viewMetrics reads at scrape time.
type viewSource interface {
	// progress returns the projections' position (the backend's commit
	// position, compared only), how many events they are behind the
	// store's head, and whether that count stopped at
	// projections.LagLimit.
	progress() (position, lag float64, capped bool)
	// openAlerts returns the number of open safety alerts per rule code.
	openAlerts() map[string]int
}

func newViewMetrics(reg prometheus.Registerer, src viewSource) {
	reg.MustRegister(&viewMetrics{
		position: prometheus.NewDesc("waystation_projections_position", "Global log position the projections have applied (the backend's commit position: on EventStoreDB a byte offset, so compare it, do not subtract).", nil, nil),
		lag:      prometheus.NewDesc("waystation_projections_lag", "Events the projections are behind the store's head, counted up to 100000.", nil, nil),
		capped:   prometheus.NewDesc("waystation_projections_lag_capped", "1 when the lag count stopped at its limit (the projections are at least that far behind).", nil, nil),
		alerts:   prometheus.NewDesc("waystation_safety_alerts_open", "Open safety-board alerts by rule.", []string{"rule"}, nil),
		source:   src,
	})
}

// Describe implements prometheus.Collector.
func (m *viewMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.position
	ch <- m.lag
	ch <- m.capped
	ch <- m.alerts
}

// Collect implements prometheus.Collector.
func (m *viewMetrics) Collect(ch chan<- prometheus.Metric) {
	pos, lag, capped := m.source.progress()
	ch <- prometheus.MustNewConstMetric(m.position, prometheus.GaugeValue, pos)
	ch <- prometheus.MustNewConstMetric(m.lag, prometheus.GaugeValue, lag)
	c := 0.0
	if capped {
		c = 1
	}
	ch <- prometheus.MustNewConstMetric(m.capped, prometheus.GaugeValue, c)
	for rule, n := range m.source.openAlerts() {
		ch <- prometheus.MustNewConstMetric(m.alerts, prometheus.GaugeValue, float64(n), rule)
	}
}

// newRegistry returns a registry with the Go runtime and process collectors.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}
