package dashboard_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/collate-project/collate/analytics"
	"github.com/collate-project/collate/dashboard"
	"github.com/collate-project/collate/dashboard/auth"
	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/ingest/demo"
)

// TestLoad runs readers and uploaders against a server built as
// `collate serve` builds it (accounts, API tokens, the ingest writer, the
// analytics store over a DuckDB file, Prometheus metrics) on a loopback
// port, in two phases of equal length: readers alone, then readers while
// uploaders post demo exports. It stops by itself and fails on any
// transport error, any 5xx and any answer other than 200 to a read or 201
// to an upload. It never asserts a time: it reports p50, p95 and p99 of
// every phase and route (docs/benchmarks.md, "Load"), and checks one
// ordering instead: reads complete while ingest transactions are open, so
// an ingest does not block reads.
//
// Sizes (defaults are CI's): COLLATE_LOAD_READERS=50, COLLATE_LOAD_UPLOADERS=4,
// COLLATE_LOAD_DURATION=20s (both phases), COLLATE_LOAD_REVIEWS=2000 in the
// store before it starts, COLLATE_LOAD_THINK=100ms (each reader's mean pause
// between requests; 0 for back-to-back), COLLATE_LOAD_SLOTS (the server's
// QuerySlots; its default when 0). COLLATE_LOAD_OUT=FILE appends the results
// there as Markdown.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("a load test of tens of seconds")
	}
	readers := loadEnvInt(t, "COLLATE_LOAD_READERS", 50)
	uploaders := loadEnvInt(t, "COLLATE_LOAD_UPLOADERS", 4)
	reviews := loadEnvInt(t, "COLLATE_LOAD_REVIEWS", 2000)
	duration := loadEnvDuration(t, "COLLATE_LOAD_DURATION", 20*time.Second)
	think := loadEnvDuration(t, "COLLATE_LOAD_THINK", 100*time.Millisecond)

	ls := mustLoadServer(t, reviews)
	t.Logf("store of %d demo reviews loaded in %s; %d readers, %d uploaders, %s, mean think time %s",
		reviews, ls.loadTime.Round(time.Millisecond), readers, uploaders, duration, think)

	var (
		mu      sync.Mutex
		results []loadResult
	)
	record := func(r loadResult) {
		mu.Lock()
		results = append(results, r)
		mu.Unlock()
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: readers + uploaders, MaxIdleConns: readers + uploaders}}
	t.Cleanup(client.CloseIdleConnections)

	var phaseNotes []string
	runPhase := func(phase string, withUploads bool) {
		load0, cpu0 := loadAverage(), processCPU()
		hit0, shared0, stale0, miss0 := ls.cacheCounts(t)
		n0 := len(results)
		defer func() {
			hit, shared, stale, miss := ls.cacheCounts(t)
			hit, shared, stale, miss = hit-hit0, shared-shared0, stale-stale0, miss-miss0
			cpu := processCPU() - cpu0
			mu.Lock()
			n := len(results) - n0
			mu.Unlock()
			phaseNotes = append(phaseNotes, fmt.Sprintf("%s: load average %s at the start, %s at the end; the test process used %.1f s of CPU (%.1f ms per request, clients and writer included); "+
				"analytics results from the cache %.0f, shared with a request computing them %.0f, from before an upload while overloaded %.0f, computed %.0f (%.0f%% not computed)",
				phase, load0, loadAverage(), cpu.Seconds(), msOf(cpu)/float64(max(n, 1)), hit, shared, stale, miss, 100*(hit+shared+stale)/max(hit+shared+stale+miss, 1)))
		}()
		ctx, cancel := context.WithTimeout(context.Background(), duration/2)
		defer cancel()
		var wg sync.WaitGroup
		for i := range readers {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(i), uint64(len(phase))))
				for ctx.Err() == nil {
					token := i % len(ls.readTokens)
					route, path := ls.readPath(rng, ls.seesAll[token])
					record(ls.get(client, phase, route, path, token))
					if think > 0 {
						select {
						case <-ctx.Done():
						case <-time.After(time.Duration(rng.Int64N(2 * int64(think)))):
						}
					}
				}
			})
		}
		if withUploads {
			for i := range uploaders {
				wg.Go(func() {
					rng := rand.New(rand.NewPCG(uint64(1000+i), 7))
					for ctx.Err() == nil {
						record(ls.upload(client, phase, 1+rng.IntN(5)))
					}
				})
			}
		}
		wg.Wait()
	}
	runPhase("reads alone", false)
	runPhase("reads during uploads", true)

	// No errors of any kind.
	failures := map[string]int{}
	for _, r := range results {
		if r.err != "" || r.status != r.want {
			key := fmt.Sprintf("%s %s: status %d, want %d %s", r.method, r.route, r.status, r.want, r.err)
			if failures[key] == 0 {
				t.Errorf("%s (%s)", key, r.path)
			}
			failures[key]++
		}
	}
	for k, n := range failures {
		t.Errorf("%d× %s", n, k)
	}

	report := loadReport(results)
	batches := ls.batches()
	inside := readsInside(results, batches)
	var held []time.Duration
	for _, b := range batches {
		held = append(held, b.end.Sub(b.start))
	}
	slices.Sort(held)
	report += fmt.Sprintf("\n%d ingest transactions (%d reviews uploaded)", len(batches), ls.uploaded())
	if len(held) > 0 {
		report += fmt.Sprintf(", each open for %.0f ms at the median and %.0f ms at most", msOf(quantile(held, 0.5)), msOf(held[len(held)-1]))
	}
	report += fmt.Sprintf("; %d reads started and finished while one was open.\n", inside)
	for _, n := range phaseNotes {
		report += "\n" + n + "."
	}
	report += "\n"
	t.Log("\n" + report)
	if len(batches) > 0 && inside == 0 {
		t.Error("no read completed while an ingest transaction was open: reads wait for ingests")
	}
	if out := os.Getenv("COLLATE_LOAD_OUT"); out != "" {
		f, err := os.OpenFile(out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(f, "%d readers (mean think time %s), %d uploaders, %s, %d reviews in the store at the start:\n\n%s\n", readers, think, uploaders, duration, reviews, report)
		f.Close()
	}
}

// loadResult is one request.
type loadResult struct {
	phase, method, route, path string
	start, end                 time.Time
	status, want               int
	err                        string
}

func (r loadResult) elapsed() time.Duration { return r.end.Sub(r.start) }

// loadServer is the server under load and what its clients need.
type loadServer struct {
	url         string
	readTokens  []string
	seesAll     []bool // per read token: figures are never withheld from it
	uploadToken string
	reviewIDs   []string
	loadTime    time.Duration
	metrics     *dashboard.Metrics

	mu      sync.Mutex
	gen     *demo.Generator
	next    int // the next demo export to upload
	spans   []batchSpan
	stored  int
	uploads int
}

// batchSpan is one ingest transaction, from the writer's log line.
type batchSpan struct{ start, end time.Time }

// batchLog records the writer's "ingest batch" lines.
type batchLog struct{ ls *loadServer }

func (h batchLog) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }
func (h batchLog) WithAttrs([]slog.Attr) slog.Handler           { return h }
func (h batchLog) WithGroup(string) slog.Handler                { return h }
func (h batchLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "ingest batch" {
		return nil
	}
	var ms int64
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "elapsed_ms" {
			ms = a.Value.Int64()
		}
		return true
	})
	h.ls.mu.Lock()
	h.ls.spans = append(h.ls.spans, batchSpan{start: r.Time.Add(-time.Duration(ms) * time.Millisecond), end: r.Time})
	h.ls.mu.Unlock()
	return nil
}

// mustLoadServer builds the server as cmd/app/serve.go does, over a store
// holding n demo reviews, and listens on a loopback port.
func mustLoadServer(t *testing.T, n int) *loadServer {
	t.Helper()
	ctx := context.Background()
	ls := &loadServer{}
	gen, err := demo.New(demo.Options{Reviews: demo.MaxReviews, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	ls.gen, ls.next = gen, n

	path := filepath.Join(t.TempDir(), "collate.duckdb")
	db, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := ingest.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	log := slog.New(batchLog{ls})
	frames, err := ingest.LoadFrames(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	validator, err := ingest.NewValidator(ingest.ValidatorOptions{Frames: frames})
	if err != nil {
		t.Fatal(err)
	}
	writer := ingest.NewWriter(ingest.WriterOptions{DB: db, Logger: log})
	start := time.Now()
	var batch []ingest.Item
	for i := range n {
		e := gen.Export(i)
		ls.reviewIDs = append(ls.reviewIDs, e.Review.ID)
		batch = append(batch, ingest.Item{Export: e, Source: e.Review.ID + ".json", By: "load"})
		if len(batch) == 500 || i == n-1 {
			mustLoad2(t, writer, batch)
			batch = batch[:0]
		}
	}
	if _, err := db.ExecContext(ctx, `CHECKPOINT`); err != nil {
		t.Fatal(err)
	}
	ls.loadTime = time.Since(start)
	if v := os.Getenv("COLLATE_LOAD_DB_THREADS"); v != "" {
		if _, err := db.ExecContext(ctx, `SET threads = `+v); err != nil {
			t.Fatal(err)
		}
	}
	ls.mu.Lock()
	ls.spans = nil // the initial load is not part of the test
	ls.mu.Unlock()

	store, err := analytics.New(analytics.Options{DB: db, Logger: log, WritesAnnounced: true}) // as collate serve
	if err != nil {
		t.Fatal(err)
	}
	accounts := auth.New(auth.Options{DB: db, Logger: log})
	cli := auth.WithPrincipal(ctx, auth.CLI("load"))
	for _, u := range []struct {
		name  string
		scope auth.Scope
	}{
		{"uploader", auth.Scope{Role: auth.RoleAdmin}},
		{"national", auth.Scope{Role: auth.RoleNationalResearcher}},
		{"granted", auth.Scope{Role: auth.RoleNationalResearcher, Unsuppressed: true}},
		{"regional", auth.Scope{Role: auth.RoleRegionalAnalyst, Region: "ENG-LDN"}},
		{"board", auth.Scope{Role: auth.RoleBoardMember, Board: "ENG-NE-NCL"}},
	} {
		if _, err := accounts.AddUser(cli, auth.NewUser{Username: u.name, Scope: u.scope}); err != nil {
			t.Fatal(err)
		}
		tok, _, err := accounts.CreateToken(cli, auth.TokenRequest{Username: u.name, Name: "load test"})
		if err != nil {
			t.Fatal(err)
		}
		if u.name == "uploader" {
			ls.uploadToken = tok
		} else {
			ls.readTokens = append(ls.readTokens, tok)
			ls.seesAll = append(ls.seesAll, u.scope.Unsuppressed)
		}
	}
	// All clients share one address and few accounts here; in production
	// each has its own, so the limits are lifted.
	unlimited := func() *auth.Limiter {
		return auth.NewLimiter(auth.LimiterOptions{Every: time.Microsecond, Burst: 1 << 30})
	}
	access, err := dashboard.NewAccess(dashboard.AccessOptions{Store: accounts, Logger: log,
		AddressLimiter: unlimited(), AccountLimiter: unlimited(), LoginLimiter: unlimited()})
	if err != nil {
		t.Fatal(err)
	}
	ls.metrics = dashboard.NewMetrics(dashboard.MetricsOptions{DBPath: path})
	// The server's writer rests as collate serve's does by default
	// (--writer-rest 1), unless COLLATE_LOAD_WRITER_REST says otherwise.
	rest := 1.0
	if v := os.Getenv("COLLATE_LOAD_WRITER_REST"); v != "" {
		if rest, err = strconv.ParseFloat(v, 64); err != nil {
			t.Fatalf("COLLATE_LOAD_WRITER_REST=%q: %v", v, err)
		}
	}
	uploads := ingest.NewWriter(ingest.WriterOptions{DB: db, Logger: log, Rest: rest})
	srv, err := dashboard.New(dashboard.Options{Analytics: store, Writer: uploads, Validator: validator, Logger: log,
		Authenticate: access.Authenticate, Ready: storeReady(db), Metrics: ls.metrics,
		QuerySlots: loadEnvInt(t, "COLLATE_LOAD_SLOTS", 0), StaleFor: loadEnvDuration(t, "COLLATE_LOAD_STALE_FOR", 0)})
	if err != nil {
		t.Fatal(err)
	}
	access.Mount(srv)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: access.Wrap(srv.Handler()), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 2 * time.Minute,
		WriteTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	go hs.Serve(ln)
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
	})
	ls.url = "http://" + ln.Addr().String()
	return ls
}

func mustLoad2(t *testing.T, w *ingest.Writer, items []ingest.Item) {
	t.Helper()
	rs, err := w.Write(context.Background(), items)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Err != nil {
			t.Fatalf("load %s: %v", r.ReviewID, r.Err)
		}
	}
}

// cacheCounts reads the result cache's counters from the server's metrics.
func (ls *loadServer) cacheCounts(t *testing.T) (hit, shared, stale, miss float64) {
	t.Helper()
	mfs, err := ls.metrics.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "collate_cache_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				switch l.GetValue() {
				case "hit":
					hit = m.GetCounter().GetValue()
				case "shared":
					shared = m.GetCounter().GetValue()
				case "stale":
					stale = m.GetCounter().GetValue()
				case "miss":
					miss = m.GetCounter().GetValue()
				}
			}
		}
	}
	return hit, shared, stale, miss
}

// processCPU is the user and system CPU time of this process so far, DuckDB's
// threads included: on a shared machine, CPU per request is steadier than
// wall-clock latency.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAverage is the 1-minute load average, for the report.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "unknown"
	}
	return f[0]
}

// loadCollections are the collections readers ask about: the UK, nations,
// regions and boards, so that many results are asked for, not one.
var loadCollections = []string{"", "ENG", "WLS", "SCT", "NIR", "ENG-NE", "ENG-LDN", "ENG-NW", "ENG-SE", "WLS-CV",
	"ENG-NE-NCL", "ENG-LDN-CAM", "ENG-NW-MAN", "WLS-CV-CRF", "SCT-N-ABE", "NIR-SBNI-BEL"}

// loadRoutes are every page and API read, each as a route label and a
// function giving a path for a random collection and review.
var loadRoutes = []struct {
	route string
	path  func(sel string, id string) string
}{
	{"/", func(s, _ string) string { return "/?" + s }},
	{"/factors", func(s, _ string) string { return "/factors?" + s }},
	{"/factors/:code", func(s, _ string) string { return "/factors/FL.WORK.03?" + s }},
	{"/patterns", func(s, _ string) string { return "/patterns?" + s }},
	{"/compare", func(s, _ string) string { return "/compare?" + orRegion(s) }},
	{"/trends", func(s, _ string) string { return "/trends?" + s }},
	{"/recommendations", func(s, _ string) string { return "/recommendations?" + s }},
	{"/reviews", func(s, _ string) string { return "/reviews?" + s }},
	{"/reviews/:id", func(_, id string) string { return "/reviews/" + id }},
	{"/query", func(s, _ string) string { return "/query?what=episodes&code=FL.WORK.03&" + s }},
	{"/ (CSV download)", func(s, _ string) string { return "/?download=overview_repeated_lessons&" + s }},
	{"/api/v1/collections", func(string, string) string { return "/api/v1/collections" }},
	{"/api/v1/frame", func(string, string) string { return "/api/v1/frame" }},
	{"/api/v1/overview", func(s, _ string) string { return "/api/v1/overview?" + s }},
	{"/api/v1/process", func(s, _ string) string { return "/api/v1/process?" + s }},
	{"/api/v1/recurrence", func(s, _ string) string { return "/api/v1/recurrence?tree=factor&splits=true&" + s }},
	{"/api/v1/breakdown", func(string, string) string { return "/api/v1/breakdown?collection=ENG&by=region&depth=2" }},
	{"/api/v1/compare", func(s, _ string) string { return "/api/v1/compare?" + orRegion(s) }},
	{"/api/v1/funnel", func(s, _ string) string { return "/api/v1/funnel?code=FL.WORK.03&" + s }},
	{"/api/v1/trends", func(s, _ string) string { return "/api/v1/trends?depth=2&" + s }},
	{"/api/v1/repeated-lessons", func(s, _ string) string { return "/api/v1/repeated-lessons?" + s }},
	{"/api/v1/cooccurrence", func(s, _ string) string { return "/api/v1/cooccurrence?focus=FL.WORK.03&" + s }},
	{"/api/v1/flows", func(s, _ string) string { return "/api/v1/flows?" + s }},
	{"/api/v1/good-practice", func(s, _ string) string { return "/api/v1/good-practice?" + s }},
	{"/api/v1/recommendations", func(s, _ string) string { return "/api/v1/recommendations?" + s }},
	{"/api/v1/episodes", func(s, _ string) string { return "/api/v1/episodes?code=FL.WORK.03&" + s }},
	{"/api/v1/episodes.csv", func(s, _ string) string { return "/api/v1/episodes.csv?code=FL.WORK.03&per_page=100&" + s }},
	{"/api/v1/reviews", func(s, _ string) string { return "/api/v1/reviews?" + s }},
	{"/api/v1/reviews/:id", func(_, id string) string { return "/api/v1/reviews/" + id }},
}

// orRegion keeps a selection that names a collection; the UK, which has
// nothing to be compared with, becomes a region.
func orRegion(sel string) string {
	if strings.Contains(sel, "collection=") {
		return sel
	}
	return "collection=ENG-NE&" + sel
}

// readPath picks a route, a collection and, one time in four for a reader
// who sees every figure in full, a start year: where figures are withheld
// they cover all years.
func (ls *loadServer) readPath(rng *rand.Rand, ranged bool) (string, string) {
	r := loadRoutes[rng.IntN(len(loadRoutes))]
	sel := url.Values{}
	if c := loadCollections[rng.IntN(len(loadCollections))]; c != "" {
		sel.Set("collection", c)
	}
	if rng.IntN(4) == 0 && ranged {
		sel.Set("from", strconv.Itoa(2018+rng.IntN(3)))
	}
	return r.route, r.path(sel.Encode(), ls.reviewIDs[rng.IntN(len(ls.reviewIDs))])
}

func (ls *loadServer) get(client *http.Client, phase, route, path string, token int) loadResult {
	r := loadResult{phase: phase, method: "GET", route: route, path: path, want: http.StatusOK, start: time.Now()}
	req, _ := http.NewRequest(http.MethodGet, ls.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+ls.readTokens[token])
	r.status, r.err = roundTrip(client, req)
	r.end = time.Now()
	// Scoped readers may be refused another region's reviews or episodes;
	// that is an answer, not an error.
	if r.status == http.StatusForbidden || (r.status == http.StatusNotFound && strings.Contains(route, ":id")) {
		r.want, r.err = r.status, ""
	}
	return r
}

// upload posts the next k demo exports as one multipart request.
func (ls *loadServer) upload(client *http.Client, phase string, k int) loadResult {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	ls.mu.Lock()
	first := ls.next
	ls.next += k
	ls.mu.Unlock()
	for i := first; i < first+k; i++ {
		e := ls.gen.Export(i % demo.MaxReviews)
		data, _ := json.Marshal(e)
		part, _ := mw.CreateFormFile("files", e.Review.ID+".json")
		part.Write(data)
	}
	mw.Close()
	r := loadResult{phase: phase, method: "POST", route: "/api/v1/reviews", path: "/api/v1/reviews", want: http.StatusCreated, start: time.Now()}
	req, _ := http.NewRequest(http.MethodPost, ls.url+"/api/v1/reviews", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+ls.uploadToken)
	r.status, r.err = roundTrip(client, req)
	r.end = time.Now()
	if r.status == http.StatusCreated {
		ls.mu.Lock()
		ls.stored += k
		ls.uploads++
		ls.mu.Unlock()
	}
	return r
}

// roundTrip sends req and reads the whole answer. The error is a transport
// error, or the start of the body of an answer of 400 or more.
func roundTrip(client *http.Client, req *http.Request) (int, string) {
	resp, err := client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, "reading the body: " + err.Error()
	}
	if resp.StatusCode >= 400 {
		return resp.StatusCode, string(b[:min(len(b), 300)])
	}
	return resp.StatusCode, ""
}

func (ls *loadServer) batches() []batchSpan {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return slices.Clone(ls.spans)
}

func (ls *loadServer) uploaded() int {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return ls.stored
}

// readsInside counts reads that started after an ingest transaction began
// and finished before it committed.
func readsInside(results []loadResult, spans []batchSpan) int {
	n := 0
	for _, r := range results {
		if r.method != http.MethodGet {
			continue
		}
		for _, s := range spans {
			if r.start.After(s.start) && r.end.Before(s.end) {
				n++
				break
			}
		}
	}
	return n
}

// loadReport is the Markdown table of latencies by phase, then by route.
func loadReport(results []loadResult) string {
	type key struct{ phase, route string }
	groups := map[key][]time.Duration{}
	var phases []string
	for _, r := range results {
		if !slices.Contains(phases, r.phase) {
			phases = append(phases, r.phase)
		}
		kind := "reads"
		if r.method == http.MethodPost {
			kind = "uploads"
		}
		groups[key{r.phase, "all " + kind}] = append(groups[key{r.phase, "all " + kind}], r.elapsed())
		groups[key{r.phase, r.method + " " + r.route}] = append(groups[key{r.phase, r.method + " " + r.route}], r.elapsed())
	}
	routes := map[string]bool{}
	for k := range groups {
		routes[k.route] = true
	}
	var names []string
	for r := range routes {
		names = append(names, r)
	}
	sort.Slice(names, func(i, j int) bool {
		ai, aj := strings.HasPrefix(names[i], "all "), strings.HasPrefix(names[j], "all ")
		if ai != aj {
			return ai
		}
		return names[i] < names[j]
	})
	var b strings.Builder
	b.WriteString("| requests | phase | n | req/s | p50 ms | p95 ms | p99 ms | max ms |\n|---|---|--:|--:|--:|--:|--:|--:|\n")
	span := map[string][2]time.Time{}
	for _, r := range results {
		s := span[r.phase]
		if s[0].IsZero() || r.start.Before(s[0]) {
			s[0] = r.start
		}
		if r.end.After(s[1]) {
			s[1] = r.end
		}
		span[r.phase] = s
	}
	for _, name := range names {
		for _, p := range phases {
			d := groups[key{p, name}]
			if len(d) == 0 {
				continue
			}
			slices.Sort(d)
			secs := span[p][1].Sub(span[p][0]).Seconds()
			fmt.Fprintf(&b, "| %s | %s | %d | %.1f | %.1f | %.1f | %.1f | %.1f |\n", name, p, len(d), float64(len(d))/secs,
				msOf(quantile(d, 0.50)), msOf(quantile(d, 0.95)), msOf(quantile(d, 0.99)), msOf(d[len(d)-1]))
		}
	}
	return b.String()
}

// quantile is the nearest-rank quantile of sorted durations.
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func msOf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func loadEnvInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q is not a whole number", name, v)
	}
	return n
}

func loadEnvDuration(t *testing.T, name string, def time.Duration) time.Duration {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("%s=%q is not a duration such as 60s", name, v)
	}
	return d
}
