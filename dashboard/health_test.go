package dashboard_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/collate-project/collate/analytics"
	"github.com/collate-project/collate/dashboard"
	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/schemas"
)

// storeReady is the check collate serve gives /readyz: the store answers a
// query and carries every migration this build knows.
func storeReady(db *sql.DB) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		v, err := ingest.SchemaVersion(ctx, db)
		if err != nil {
			return err
		}
		ms := schemas.Migrations()
		if want := ms[len(ms)-1].Version; v != want {
			return fmt.Errorf("schema version %d, want %d", v, want)
		}
		return nil
	}
}

// mustProbeServer serves the dashboard over the fake analytics with ready
// as its readiness check.
func mustProbeServer(t *testing.T, ready func(context.Context) error) *httptest.Server {
	t.Helper()
	s, err := dashboard.New(dashboard.Options{Analytics: newFake(), Logger: slog.New(slog.DiscardHandler),
		DefaultViewer: analytics.Viewer{Role: analytics.RoleAdmin, Name: "test"}, Now: fixedNow, Ready: ready})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts
}

func probe(t *testing.T, method, url string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b), resp.Header
}

func TestHealthz(t *testing.T) {
	// The process is alive even when the store is not ready.
	ts := mustProbeServer(t, func(context.Context) error { return errors.New("store closed") })
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		status, body, h := probe(t, method, ts.URL+"/healthz")
		if status != http.StatusOK {
			t.Errorf("%s /healthz = %d", method, status)
		}
		if method == http.MethodGet && body != "ok\n" {
			t.Errorf("GET /healthz body = %q", body)
		}
		if h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s /healthz Cache-Control = %q", method, h.Get("Cache-Control"))
		}
	}
}

func TestReadyz(t *testing.T) {
	open := func(t *testing.T) *sql.DB {
		db, err := sql.Open("duckdb", filepath.Join(t.TempDir(), "collate.duckdb"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	migrated := func(t *testing.T) *sql.DB {
		db := open(t)
		if err := ingest.Migrate(context.Background(), db); err != nil {
			t.Fatal(err)
		}
		return db
	}
	for _, tc := range []struct {
		name  string
		ready func(t *testing.T) func(context.Context) error
		want  int
	}{
		{"no check", func(*testing.T) func(context.Context) error { return nil }, http.StatusOK},
		{"migrated store", func(t *testing.T) func(context.Context) error { return storeReady(migrated(t)) }, http.StatusOK},
		{"store not migrated", func(t *testing.T) func(context.Context) error { return storeReady(open(t)) }, http.StatusServiceUnavailable},
		{"store closed", func(t *testing.T) func(context.Context) error {
			db := migrated(t)
			db.Close()
			return storeReady(db)
		}, http.StatusServiceUnavailable},
		{"check fails", func(*testing.T) func(context.Context) error {
			return func(context.Context) error { return errors.New("open /srv/secret/collate.duckdb: permission denied") }
		}, http.StatusServiceUnavailable},
		{"check waits past the deadline", func(*testing.T) func(context.Context) error {
			return func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
		}, http.StatusServiceUnavailable},
		{"check ignores its deadline", func(t *testing.T) func(context.Context) error {
			stuck := make(chan struct{})
			t.Cleanup(func() { close(stuck) })
			return func(context.Context) error { <-stuck; return nil }
		}, http.StatusServiceUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := mustProbeServer(t, tc.ready(t))
			for _, method := range []string{http.MethodGet, http.MethodHead} {
				status, body, _ := probe(t, method, ts.URL+"/readyz")
				if status != tc.want {
					t.Errorf("%s /readyz = %d, want %d", method, status, tc.want)
				}
				if method == http.MethodHead {
					continue
				}
				// The body never says why: no paths, no errors, no data.
				want := map[int]string{http.StatusOK: "ready\n", http.StatusServiceUnavailable: "not ready\n"}[tc.want]
				if body != want {
					t.Errorf("GET /readyz body = %q, want %q", body, want)
				}
			}
		})
	}
}

// TestProbesNeedNoAccount checks that the probes answer visitors who have not
// signed in on a server with accounts and public access off.
func TestProbesNeedNoAccount(t *testing.T) {
	s := mustAccServer(t, accOptions{})
	c := s.client(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, body := c.get(path)
		if resp.StatusCode != http.StatusOK || strings.Contains(string(body), "<") {
			t.Errorf("GET %s without an account = %d %q, want 200 and a plain line", path, resp.StatusCode, body)
		}
	}
	// Everything else still asks for an account.
	if resp, _ := c.get("/api/v1/overview"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/overview without an account = %d, want 401", resp.StatusCode)
	}
}
