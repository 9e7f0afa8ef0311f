package dashboard_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
	"golang.org/x/net/html"

	"github.com/collate-project/collate/dashboard"
	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/schemas"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// The payloads every chart label, table and tooltip must keep as text.
const (
	xssScript = `</script><script>alert(1)</script>`
	xssImg    = `"><img src=x onerror=alert(1)>`
)

// fixture is a running dashboard over a real DuckDB file loaded through the
// real ingest path.
type fixture struct {
	db     *sql.DB
	writer *ingest.Writer
	server *dashboard.Server
	http   *httptest.Server
	logs   *bytes.Buffer
}

// mustFixture opens a migrated store in t.TempDir(), loads the demo reviews
// and starts the dashboard on a loopback port.
func mustFixture(t testing.TB) *fixture {
	t.Helper()
	db, err := sql.Open("duckdb", filepath.Join(t.TempDir(), "collate.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	if err := ingest.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	w := ingest.NewWriter(ingest.WriterOptions{DB: db, Logger: log})
	mustLoad(t, w, demoExports(t)...)
	f := &fixture{db: db, writer: w, logs: logs}
	f.server = mustServer(t, db, w, log)
	f.http = httptest.NewServer(f.server.Handler())
	t.Cleanup(f.http.Close)
	return f
}

func mustLoad(t testing.TB, w *ingest.Writer, es ...*ingest.Export) {
	t.Helper()
	var items []ingest.Item
	for _, e := range es {
		items = append(items, ingest.Item{Export: e, Source: e.Review.ID + ".json", By: "test"})
	}
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

// mustExample decodes the shipped statutory example under a new ID.
func mustExample(t testing.TB, id string) *ingest.Export {
	t.Helper()
	var e ingest.Export
	if err := json.Unmarshal(schemas.Examples()["statutory-review.json"], &e); err != nil {
		t.Fatal(err)
	}
	e.Review.ID = id
	return &e
}

// xssExport is a valid export whose free text carries the payloads.
func xssExport(t testing.TB) *ingest.Export {
	e := mustExample(t, "XSS-TEST-2024-01")
	e.Review.Completed.Year = 2024
	e.Episodes[0].Title = xssScript
	e.Episodes[0].Description = xssImg + " " + e.Episodes[0].Description
	if len(e.Recommendations) > 0 {
		e.Recommendations[0].Text = xssScript + " " + xssImg
	}
	if len(e.Patterns) > 0 {
		e.Patterns[0].Summary = xssImg
	}
	return e
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// get fetches path from the fixture and returns status, headers and body.
func (f *fixture) get(t testing.TB, path string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(f.http.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// postFiles posts files as multipart "files" parts.
func (f *fixture) postFiles(t testing.TB, path string, files map[string][]byte, accept string) (*http.Response, []byte) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, name := range sortedKeys(files) {
		part, err := mw.CreateFormFile("files", name)
		if err != nil {
			t.Fatal(err)
		}
		part.Write(files[name])
	}
	mw.Close()
	req, err := http.NewRequest(http.MethodPost, f.http.URL+path, &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func sortedKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// mustParse parses an HTML page.
func mustParse(t testing.TB, b []byte) *html.Node {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// findAll returns the elements for which match is true, in document order.
func findAll(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func byTag(tag string) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.Data == tag }
}

func byAttr(key, val string) func(*html.Node) bool {
	return func(n *html.Node) bool {
		v, ok := attr(n, key)
		return ok && (val == "" || v == val)
	}
}

func byClass(class string) func(*html.Node) bool {
	return func(n *html.Node) bool {
		v, _ := attr(n, "class")
		for _, c := range strings.Fields(v) {
			if c == class {
				return true
			}
		}
		return false
	}
}

func byID(id string) func(*html.Node) bool { return byAttr("id", id) }

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// text is the text content of n.
func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// golden compares got with testdata/dashboard/NAME, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("..", "testdata", "dashboard", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./dashboard -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs from the golden file; run with -update if the change is intended\n--- got\n%s", name, truncate(got, 4000))
	}
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

var fixedNow = func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }
