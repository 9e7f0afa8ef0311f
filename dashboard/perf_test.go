package dashboard_test

import (
	"bytes"
	"compress/gzip"
	"database/sql"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/collate-project/collate/analytics"
	"github.com/collate-project/collate/dashboard"
	"github.com/collate-project/collate/ingest"
)

// jsBudget is the most gzipped JavaScript a page may ship.
const jsBudget = 300 * 1024

// TestJSBudget gzips every built script and fails over 300 KB in all.
func TestJSBudget(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("static", "dist", "*.js"))
	if len(files) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("no built scripts in dashboard/static/dist: run npm ci && npm run build")
		}
		t.Skip("no built scripts in dashboard/static/dist: run npm ci && npm run build")
	}
	total := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		w.Write(b)
		w.Close()
		t.Logf("%s: %d bytes, %d gzipped", filepath.Base(f), len(b), buf.Len())
		total += buf.Len()
	}
	t.Logf("total gzipped JavaScript: %d bytes (budget %d)", total, jsBudget)
	if total > jsBudget {
		t.Errorf("gzipped JavaScript is %d bytes, over the %d budget", total, jsBudget)
	}
}

// benchServer serves the store named by COLLATE_BENCH_DB (a demo store of
// 20,000 or 200,000 reviews, opened read-only), or else the small fixture.
func benchServer(b *testing.B, cacheEntries int) *httptest.Server {
	b.Helper()
	path := os.Getenv("COLLATE_BENCH_DB")
	if path == "" {
		f := mustFixture(b)
		s, err := dashboard.New(dashboard.Options{Analytics: mustAnalytics(b, f.db, slog.New(slog.DiscardHandler)), Writer: f.writer,
			DefaultViewer: testViewer, CacheEntries: cacheEntries})
		if err != nil {
			b.Fatal(err)
		}
		f.http.Config.Handler = s.Handler()
		return f.http
	}
	db, err := sql.Open("duckdb", path+"?access_mode=read_only")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	log := slog.New(slog.DiscardHandler)
	a, err := analytics.New(analytics.Options{DB: db, Logger: log, NoReadMemo: cacheEntries < 0})
	if err != nil {
		b.Fatal(err)
	}
	s, err := dashboard.New(dashboard.Options{Analytics: a, Writer: ingest.NewWriter(ingest.WriterOptions{DB: db}), Logger: log,
		DefaultViewer: testViewer, CacheEntries: cacheEntries})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	b.Cleanup(ts.Close)
	return ts
}

var benchPaths = append(append([]string(nil), pagePaths...),
	"/api/v1/overview", "/api/v1/recurrence?tree=factor&depth=3", "/api/v1/breakdown?collection=ENG&tree=factor&depth=2",
	"/api/v1/compare?collection=ENG-NE", "/api/v1/trends?tree=factor&depth=2", "/api/v1/cooccurrence?focus=FL.WORK.03",
	"/api/v1/flows", "/api/v1/recommendations", "/api/v1/episodes?code=FL.WORK.03", "/api/v1/reviews?collection=ENG-NE",
	"/api/v1/repeated-lessons", "/api/v1/reviews", "/api/v1/collections", "/api/v1/episodes?q=school")

// BenchmarkServer measures server time per page and API call, over loopback
// HTTP, and reports the median and 95th percentile of each: "cold" with the
// result cache and the read memo off (every request asks analytics, and
// analytics asks DuckDB), "warm" with the cache on (the
// same request again).
func BenchmarkServer(b *testing.B) {
	for _, mode := range []struct {
		name  string
		cache int
	}{{"cold", -1}, {"warm", 0}} {
		b.Run(mode.name, func(b *testing.B) { benchPaths2(b, benchServer(b, mode.cache), mode.cache >= 0) })
	}
}

func benchPaths2(b *testing.B, ts *httptest.Server, warm bool) {
	client := &http.Client{}
	for _, path := range benchPaths {
		name := strings.NewReplacer("/", "_", "?", "_", "&", "_", "=", "-").Replace(strings.TrimPrefix(path, "/"))
		if name == "" {
			name = "overview"
		}
		b.Run(name, func(b *testing.B) {
			var times []time.Duration
			if warm {
				// One untimed request fills the cache.
				if resp, err := client.Get(ts.URL + path); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
			for b.Loop() {
				start := time.Now()
				resp, err := client.Get(ts.URL + path)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				times = append(times, time.Since(start))
				if resp.StatusCode == http.StatusServiceUnavailable {
					b.Skipf("%s: analytics cannot answer yet (503)", path)
				}
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("%s: status %d", path, resp.StatusCode)
				}
			}
			reportPercentiles(b, times)
		})
	}
}

func reportPercentiles(b *testing.B, times []time.Duration) {
	if len(times) == 0 {
		return
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(times[len(times)/2]), "p50-ms")
	b.ReportMetric(ms(times[(len(times)*95)/100]), "p95-ms")
}

// BenchmarkFirstChart measures, in headless Chromium, the time from
// navigation start to the first chart's 'finished' event
// (performance.now() when it fires), for the overview and a factor page.
func BenchmarkFirstChart(b *testing.B) {
	f := mustFakeServer(b)
	if path := os.Getenv("COLLATE_BENCH_DB"); path != "" {
		ts := benchServer(b, -1)
		f = &fixture{http: ts}
	}
	u, _ := url.Parse(f.http.URL)
	br := mustBrowser(b, u.Host)
	for _, path := range []string{"/", "/factors/FL.WORK.03", "/compare?collection=ENG-NE"} {
		b.Run(strings.NewReplacer("/", "_", "?", "_", "=", "-").Replace(path), func(b *testing.B) {
			var times []time.Duration
			for b.Loop() {
				br.open(b, f.http.URL+path)
				ms := eval[float64](b, br, `window.collate && window.collate.firstChartMs !== null ? window.collate.firstChartMs : -1`)
				if ms < 0 {
					b.Fatalf("%s: no chart finished drawing", path)
				}
				times = append(times, time.Duration(ms*float64(time.Millisecond)))
			}
			reportPercentiles(b, times)
		})
	}
}
