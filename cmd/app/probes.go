package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/collate-project/collate/dashboard"
	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/schemas"
)

// storeReady is the server's readiness check (/readyz): the store answers a
// query, and its schema has every migration this build knows, so a store
// that another process left half migrated is not reported ready.
func storeReady(db *sql.DB) func(ctx context.Context) error {
	ms := schemas.Migrations()
	want := ms[len(ms)-1].Version
	return func(ctx context.Context) error {
		v, err := ingest.SchemaVersion(ctx, db)
		if err != nil {
			return fmt.Errorf("store: %w", err)
		}
		if v < want {
			return fmt.Errorf("store: schema version %d, this collate needs %d", v, want)
		}
		return nil
	}
}

// serveMetrics serves m at http://ADDR/metrics on a listener of its own, so
// the metrics are never reachable through the dashboard's address and need
// no account. It returns a function that stops the listener.
func serveMetrics(r *runner, addr string, m *dashboard.Metrics) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for metrics on %s: %w", addr, err)
	}
	if host, _, _ := net.SplitHostPort(ln.Addr().String()); !net.ParseIP(host).IsLoopback() {
		r.log.Warn("metrics are served on a non-loopback address: restrict it with a firewall", "metrics_addr", ln.Addr().String())
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			r.log.Error("metrics listener stopped", "error", err)
		}
	}()
	url := fmt.Sprintf("http://%s/metrics", ln.Addr().String())
	r.log.Info("serving metrics", "url", url)
	fmt.Fprintf(r.stdout, "Metrics are served on %s\n", url)
	return func() { _ = hs.Close() }, nil
}
