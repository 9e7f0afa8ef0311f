package dashboard_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"io"
	"log/slog"
	"maps"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/collate-project/collate/analytics"
	"github.com/collate-project/collate/dashboard"
	"github.com/collate-project/collate/ingest"
)

// sample is one line of the Prometheus text format.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

// scrape reads every sample the metrics handler serves.
func scrape(t *testing.T, h http.Handler) []sample {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics = %d", rec.Code)
	}
	var out []sample
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		s := sample{name: line[:i], labels: map[string]string{}, value: v}
		if name, rest, ok := strings.Cut(line[:i], "{"); ok {
			s.name = name
			for _, kv := range strings.Split(strings.TrimSuffix(rest, "}"), ",") {
				k, v, _ := strings.Cut(kv, "=")
				s.labels[k] = strings.Trim(v, `"`)
			}
		}
		out = append(out, s)
	}
	return out
}

// value is the sample of that name with exactly those labels, or -1.
func value(ss []sample, name string, labels map[string]string) float64 {
	for _, s := range ss {
		if s.name == name && maps.Equal(s.labels, labels) {
			return s.value
		}
	}
	return -1
}

func TestMetrics(t *testing.T) {
	path := filepath.Join(t.TempDir(), "collate.duckdb")
	db, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := ingest.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	m := dashboard.NewMetrics(dashboard.MetricsOptions{DBPath: path})
	s, err := dashboard.New(dashboard.Options{Analytics: newFake(), Writer: ingest.NewWriter(ingest.WriterOptions{DB: db}),
		Logger: slog.New(slog.DiscardHandler), DefaultViewer: analytics.Viewer{Role: analytics.RoleAdmin, Name: "test"},
		Now: fixedNow, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)

	do := func(method, path string, files map[string][]byte) int {
		t.Helper()
		var body io.Reader
		ctype := ""
		if files != nil {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			for _, name := range sortedKeys(files) {
				part, _ := mw.CreateFormFile("files", name)
				part.Write(files[name])
			}
			mw.Close()
			body, ctype = &buf, mw.FormDataContentType()
		}
		req, _ := http.NewRequest(method, ts.URL+path, body)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	good := mustJSON(t, mustExample(t, "METRICS-2024-01"))
	other := mustExample(t, "METRICS-2024-01")
	other.Review.Board, other.Review.Region = "ENG-NW-MAN", "ENG-NW"
	for _, step := range []struct {
		method, path string
		files        map[string][]byte
		want         int
	}{
		{"GET", "/", nil, 200},
		{"GET", "/factors/FL.WORK.03", nil, 200},
		{"GET", "/factors/FL.WORK.01", nil, 200},
		{"GET", "/no/such/page", nil, 404},
		{"GET", "/healthz", nil, 200},
		{"POST", "/api/v1/reviews", map[string][]byte{"good.json": good}, 201},
		{"POST", "/api/v1/reviews", map[string][]byte{"good.json": good}, 201},                   // unchanged
		{"POST", "/api/v1/reviews", map[string][]byte{"other.json": mustJSON(t, other)}, 409},    // another board's ID
		{"POST", "/api/v1/reviews", map[string][]byte{"bad.json": []byte(`{"format": 1}`)}, 422}, // invalid
	} {
		if got := do(step.method, step.path, step.files); got != step.want {
			t.Fatalf("%s %s = %d, want %d", step.method, step.path, got, step.want)
		}
	}

	ss := scrape(t, m.Handler())
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"collate_http_requests_total", map[string]string{"route": "/", "method": "GET", "status": "200"}, 1},
		{"collate_http_requests_total", map[string]string{"route": "/factors/:code", "method": "GET", "status": "200"}, 2},
		{"collate_http_requests_total", map[string]string{"route": "unmatched", "method": "GET", "status": "404"}, 1},
		{"collate_http_requests_total", map[string]string{"route": "/api/v1/reviews", "method": "POST", "status": "201"}, 2},
		{"collate_http_requests_total", map[string]string{"route": "/api/v1/reviews", "method": "POST", "status": "409"}, 1},
		{"collate_http_requests_total", map[string]string{"route": "/api/v1/reviews", "method": "POST", "status": "422"}, 1},
		{"collate_http_request_duration_seconds_count", map[string]string{"route": "/factors/:code"}, 2},
		{"collate_http_request_duration_seconds_bucket", map[string]string{"route": "/factors/:code", "le": "+Inf"}, 2},
		{"collate_ingest_reviews_total", map[string]string{"outcome": "added"}, 1},
		{"collate_ingest_reviews_total", map[string]string{"outcome": "unchanged"}, 1},
		{"collate_ingest_reviews_total", map[string]string{"outcome": "superseded"}, 0},
		{"collate_ingest_reviews_total", map[string]string{"outcome": "rejected"}, 1},
		{"collate_ingest_rejections_total", map[string]string{"reason": "conflict"}, 1},
		{"collate_ingest_rejections_total", map[string]string{"reason": "invalid"}, 1},
		{"collate_ingest_rejections_total", map[string]string{"reason": "forbidden"}, 0},
		{"collate_ingest_batch_duration_seconds_count", map[string]string{}, 3},
	} {
		if got := value(ss, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}

	// The store's size is read from the files at each scrape.
	size := func(p string) float64 {
		fi, err := os.Stat(p)
		if err != nil {
			return 0
		}
		return float64(fi.Size())
	}
	want := size(path) + size(path+".wal")
	if got := value(ss, "collate_store_size_bytes", map[string]string{}); got != want || got <= 0 {
		t.Errorf("collate_store_size_bytes = %v, want %v (file and WAL)", got, want)
	}
	if _, err := db.Exec(`CHECKPOINT`); err != nil {
		t.Fatal(err)
	}
	ss = scrape(t, m.Handler())
	if got := value(ss, "collate_store_wal_size_bytes", map[string]string{}); got != size(path+".wal") {
		t.Errorf("after a checkpoint collate_store_wal_size_bytes = %v, want %v", got, size(path+".wal"))
	}
	if got := value(ss, "collate_store_size_bytes", map[string]string{}); got != size(path)+size(path+".wal") {
		t.Errorf("after a checkpoint collate_store_size_bytes = %v, want %v", got, size(path)+size(path+".wal"))
	}
	if value(ss, "go_goroutines", map[string]string{}) <= 0 {
		t.Error("the Go runtime's metrics are missing")
	}
}

// TestMetricsNil checks that a server without metrics serves as before.
func TestMetricsNil(t *testing.T) {
	ts := mustProbeServer(t, nil)
	if status, _, _ := probe(t, http.MethodGet, ts.URL+"/"); status != http.StatusOK {
		t.Errorf("GET / without metrics = %d", status)
	}
}
