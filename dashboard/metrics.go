package dashboard

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/ingest/errs"
)

// MetricsOptions configures Metrics.
type MetricsOptions struct {
	// DBPath is the store's file. Its size, and its write-ahead log's, are
	// read from the file system at each scrape; empty leaves them out.
	DBPath string
}

// Metrics counts what the server does, in Prometheus form: requests by route,
// method and status, request latency by route, uploaded reviews by outcome,
// refused files by reason, upload batch durations and the store's size on
// disk. It has its own registry, so two servers in one process (tests) do
// not collide. A nil *Metrics records nothing.
//
// Metrics are served by Handler, which cmd puts on a listener of its own
// (collate serve --metrics-addr): they are never on the dashboard's address.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	reviews  *prometheus.CounterVec
	rejected *prometheus.CounterVec
	batch    prometheus.Histogram
	cache    *prometheus.CounterVec
	compute  *prometheus.HistogramVec
}

// NewMetrics registers Collate's metrics, with the Go runtime's and the
// process's, in a new registry.
func NewMetrics(o MetricsOptions) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "collate_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status code.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "collate_http_request_duration_seconds",
			Help:    "Time from receiving a request to the end of its answer, by route pattern.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route"}),
		reviews: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "collate_ingest_reviews_total",
			Help: "Uploaded reviews by outcome: added, superseded (a new version), unchanged or rejected.",
		}, []string{"outcome"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "collate_ingest_rejections_total",
			Help: "Uploaded files kept out of the store, by reason: invalid (the file has problems), conflict, forbidden or internal.",
		}, []string{"reason"}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "collate_ingest_batch_duration_seconds",
			Help:    "Time to store one upload's batch of valid reviews through the ingest writer, waiting for the writer included.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2.5, 10),
		}),
	}
	m.cache = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "collate_cache_requests_total",
		Help: "Analytics results asked of the result cache, by outcome: hit (kept), shared (computed once for several requests at the same time), stale (from before an upload, while the server was overloaded; within --stale-for of it) or miss (computed).",
	}, []string{"outcome"})
	m.compute = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "collate_cache_wait_seconds",
		Help:    "Time to get a result not in the cache: computing it (miss, queueing for a query slot included) or waiting for another request computing it (shared).",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"outcome"})
	for _, o := range []string{"hit", "shared", "stale", "miss"} {
		m.cache.WithLabelValues(o)
	}
	for _, o := range []ingest.Outcome{ingest.Added, ingest.Superseded, ingest.Unchanged, ingest.Rejected} {
		m.reviews.WithLabelValues(string(o))
	}
	for _, k := range []errs.Kind{errs.Invalid, errs.Conflict, errs.Forbidden} {
		m.rejected.WithLabelValues(k.String())
	}
	m.reg.MustRegister(m.requests, m.latency, m.reviews, m.rejected, m.batch, m.cache, m.compute,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if o.DBPath != "" {
		m.reg.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "collate_store_size_bytes",
				Help: "Size on disk of the DuckDB store: the database file plus its write-ahead log, read at scrape time.",
			}, func() float64 { return float64(fileSize(o.DBPath) + fileSize(o.DBPath+".wal")) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "collate_store_wal_size_bytes",
				Help: "Size on disk of the store's write-ahead log (0 after a checkpoint), read at scrape time.",
			}, func() float64 { return float64(fileSize(o.DBPath + ".wal")) }),
		)
	}
	return m
}

// fileSize is the size of a file, or 0 if it does not exist.
func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Registry is the registry the metrics are in, for tests and for callers
// that add their own.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// observeRequest records one answered request. route is gin's route pattern
// (/factors/:code), never the raw path, so the label set stays small.
func (m *Metrics) observeRequest(route, method string, status int, elapsed time.Duration) {
	if m == nil {
		return
	}
	if route == "" {
		route = "unmatched"
	}
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
	default:
		method = "other"
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route).Observe(elapsed.Seconds())
}

// observeCache records one result asked of the cache and, unless it was a
// hit, how long it took to get.
func (m *Metrics) observeCache(outcome string, elapsed time.Duration) {
	if m == nil {
		return
	}
	m.cache.WithLabelValues(outcome).Inc()
	if outcome != "hit" && outcome != "stale" {
		m.compute.WithLabelValues(outcome).Observe(elapsed.Seconds())
	}
}

// observeBatch records one batch stored by the writer: each review's
// outcome, the reason for each refusal, and how long it took.
func (m *Metrics) observeBatch(receipts []ingest.Receipt, err error, elapsed time.Duration) {
	if m == nil {
		return
	}
	m.batch.Observe(elapsed.Seconds())
	if err != nil {
		return
	}
	for _, r := range receipts {
		m.reviews.WithLabelValues(string(r.Outcome)).Inc()
		if r.Outcome == ingest.Rejected {
			m.rejected.WithLabelValues(rejectionReason(r.Err)).Inc()
		}
	}
}

// observeInvalid records a file refused before storing because of its
// problems (or its size).
func (m *Metrics) observeInvalid() {
	if m == nil {
		return
	}
	m.rejected.WithLabelValues(errs.Invalid.String()).Inc()
}

func rejectionReason(err error) string {
	var ps ingest.Problems
	if errors.As(err, &ps) {
		return errs.Invalid.String()
	}
	return errs.KindOf(err).String()
}

// write stores a batch through the ingest writer and records it.
func (s *Server) write(ctx context.Context, items []ingest.Item) ([]ingest.Receipt, error) {
	start := time.Now()
	receipts, err := s.opts.Writer.Write(ctx, items)
	s.opts.Metrics.observeBatch(receipts, err, time.Since(start))
	return receipts, err
}
