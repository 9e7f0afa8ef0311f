package dashboard_test

import (
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/collate-project/collate/analytics"
)

// parquetRows saves a Parquet download and reads it with DuckDB's
// read_parquet: each row as JSON, and the file's key-value metadata.
func parquetRows(t *testing.T, db *sql.DB, body []byte) ([]map[string]any, map[string]string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "download.parquet")
	if err := os.WriteFile(path, body, 0o644); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(`SELECT to_json(p)::VARCHAR FROM read_parquet(?) p`, path)
	if err != nil {
		t.Fatalf("read_parquet: %v", err)
	}
	defer rows.Close()
	var out []map[string]any
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	meta := map[string]string{}
	kv, err := db.Query(`SELECT decode(key), decode(value) FROM parquet_kv_metadata(?)`, path)
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Close()
	for kv.Next() {
		var k, v string
		if err := kv.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		meta[k] = v
	}
	return out, meta
}

// getParquet asks for a Parquet download and checks it is one.
func getParquet(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: status %d: %s", url, resp.StatusCode, truncate(body, 400))
	}
	if ct := resp.Header.Get("Content-Type"); ct != analytics.ContentTypeParquet {
		t.Errorf("Content-Type %q", ct)
	}
	if !strings.HasPrefix(string(body), "PAR1") {
		t.Fatalf("not a Parquet file: %q", truncate(body, 20))
	}
	return resp, body
}

// TestParquetDownloads downloads each researchers' list as Parquet and
// compares the rows DuckDB reads back with the JSON of the same request.
func TestParquetDownloads(t *testing.T) {
	f := mustFixture(t)
	for _, c := range []struct {
		name, path, list string
		number           string // the Parquet column of JSON's number
	}{
		{"episodes", "/api/v1/episodes?collection=ENG&q=school&per_page=40", "episodes", "episode"},
		{"recommendations", "/api/v1/search/recommendations?collection=ENG&level=national,regional&per_page=60", "recommendations", "recommendation"},
		{"patterns", "/api/v1/search/patterns?q=work&nature=unsafe&per_page=50", "patterns", "pattern"},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := f.get(t, c.path)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, truncate(body, 400))
			}
			var page map[string]any
			if err := json.Unmarshal(body, &page); err != nil {
				t.Fatal(err)
			}
			items, _ := page[c.list].([]any)
			if len(items) < 5 {
				t.Fatalf("only %d %s to compare", len(items), c.list)
			}
			presp, pbody := getParquet(t, f.http.URL+c.path+"&format=parquet")
			rows, meta := parquetRows(t, f.db, pbody)
			if len(rows) != len(items) {
				t.Fatalf("%d rows in the Parquet file, %d in the JSON", len(rows), len(items))
			}
			for i, it := range items {
				m := it.(map[string]any)
				if got, want := fmt.Sprint(rows[i]["review_id"], "/", rows[i][c.number]), fmt.Sprint(m["review_id"], "/", m["number"]); got != want {
					t.Errorf("row %d: %s, JSON %s", i, got, want)
				}
				for _, k := range []string{"review_id", "year", "board", "board_name", "excerpt", "summary", "level", "nature", "title"} {
					if v, ok := m[k]; ok && fmt.Sprint(rows[i][k]) != fmt.Sprint(v) {
						t.Errorf("row %d %s: parquet %v, JSON %v", i, k, rows[i][k], v)
					}
				}
			}
			prov := page["provenance"].(map[string]any)
			for k, want := range map[string]any{"collate.data_version": prov["data_version"], "collate.frame": prov["frame"],
				"collate.collection": prov["collection"], "collate.suppression_policy": "k=6; suppressed=false"} {
				if meta[k] != fmt.Sprint(want) {
					t.Errorf("metadata %s = %q, want %q", k, meta[k], want)
				}
			}
			var hp analytics.Provenance
			if err := json.Unmarshal([]byte(presp.Header.Get("Collate-Provenance")), &hp); err != nil || hp.DataVersion != prov["data_version"] {
				t.Errorf("Collate-Provenance header %q (%v)", presp.Header.Get("Collate-Provenance"), err)
			}
			// The CSV of the same request has the same rows, and a provenance line.
			resp, csvBody := f.get(t, c.path+"&format=csv")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("csv: status %d", resp.StatusCode)
			}
			r := csv.NewReader(strings.NewReader(string(csvBody)))
			r.FieldsPerRecord = -1
			recs, err := r.ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != len(items)+2 || !strings.HasPrefix(recs[len(recs)-1][0], "# Source: Collate") {
				t.Errorf("csv has %d lines for %d rows", len(recs), len(items))
			}
			if recs[1][0] != rows[0]["review_id"] {
				t.Errorf("csv first row %v, parquet %v", recs[1], rows[0])
			}
		})
	}
}

// TestParquetScope downloads as a regional analyst: their region's rows
// only, and nothing for the nation.
func TestParquetScope(t *testing.T) {
	f := mustFixture(t)
	s := mustServerAs(t, f.db, f.writer, slog.New(slog.DiscardHandler),
		analytics.Viewer{Role: analytics.RoleRegionalAnalyst, Region: "ENG-NE", Name: "ne"})
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	for _, p := range []string{"/api/v1/episodes?", "/api/v1/search/recommendations?", "/api/v1/search/patterns?", "/query?what=recommendations&"} {
		_, body := getParquet(t, ts.URL+p+"collection=ENG-NE&format=parquet")
		rows, meta := parquetRows(t, f.db, body)
		if len(rows) == 0 {
			t.Errorf("%s: no rows", p)
		}
		for _, r := range rows {
			if b := fmt.Sprint(r["board"]); !strings.HasPrefix(b, "ENG-NE-") {
				t.Errorf("%s: a row of board %s, outside ENG-NE", p, b)
			}
		}
		if meta["collate.viewer"] != "regional_analyst" {
			t.Errorf("%s: viewer in metadata %q", p, meta["collate.viewer"])
		}
		g := &fixture{http: ts}
		resp, body := g.get(t, strings.Replace(p, "?", "?collection=ENG&format=parquet&", 1))
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s for the nation: status %d: %s", p, resp.StatusCode, truncate(body, 300))
		}
	}
}

// TestQuerySearches checks the Query page's searches of recommendation text
// and pattern summaries: the rows, the facets and the downloads it offers.
func TestQuerySearches(t *testing.T) {
	f := mustFixture(t)
	for _, c := range []struct {
		path, mustFacet string
	}{
		{"/query?what=recommendations&q=escalation", "Level addressed"},
		{"/query?what=recommendations&kind=1&level=local", "Recommendation kind"},
		{"/query?what=pattern_instances&pattern=P4", "Pattern type"},
		{"/query?what=pattern_instances&q=teamwork&nature=unsafe", "Nature"},
	} {
		t.Run(c.path, func(t *testing.T) {
			resp, body := f.get(t, c.path)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, truncate(body, 500))
			}
			doc := mustParse(t, body)
			table := findAll(doc, byID("query_results-table"))
			if len(table) != 1 {
				t.Fatalf("%d result tables", len(table))
			}
			rows := findAll(table[0], byTag("tr"))
			if len(rows) < 3 {
				t.Fatalf("%d table rows", len(rows))
			}
			if !strings.Contains(string(body), c.mustFacet) {
				t.Errorf("no %q facet", c.mustFacet)
			}
			total := findAll(doc, byID("query-total"))
			if len(total) != 1 || !strings.Contains(text(total[0]), "result") {
				t.Errorf("total heading missing")
			}
			links := findAll(doc, byAttr("download", ""))
			var parquet string
			for _, a := range links {
				if h, _ := attr(a, "href"); strings.Contains(h, "format=parquet") {
					parquet = h
				}
			}
			if parquet == "" {
				t.Fatal("no Parquet link")
			}
			_, pbody := getParquet(t, f.http.URL+strings.ReplaceAll(parquet, "&amp;", "&"))
			prows, _ := parquetRows(t, f.db, pbody)
			if len(prows) < len(rows)-1 {
				t.Errorf("%d Parquet rows, %d on the page", len(prows), len(rows)-1)
			}
		})
	}
	t.Run("words narrow the recommendations", func(t *testing.T) {
		_, body := f.get(t, "/api/v1/search/recommendations?q=escalation&per_page=100")
		var p analytics.RecommendationPage
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		var want int
		if err := f.db.QueryRow(`SELECT count(*) FROM recommendations x JOIN reviews r USING (review_key)
			WHERE r.status = 'current' AND lower(x.text) LIKE '%escalation%'`).Scan(&want); err != nil {
			t.Fatal(err)
		}
		if want == 0 || p.Total != want || !p.TotalExact {
			t.Errorf("total %d (exact %v), want %d", p.Total, p.TotalExact, want)
		}
		for _, r := range p.Recommendations {
			if !strings.Contains(strings.ToLower(r.Excerpt), "escalation") && len(r.Excerpt) < 270 {
				t.Errorf("%s/%d does not mention escalation: %s", r.ReviewID, r.Number, r.Excerpt)
			}
		}
	})
	t.Run("bad parameters", func(t *testing.T) {
		for _, p := range []string{"/api/v1/search/recommendations?kind=4", "/api/v1/search/recommendations?level=global",
			"/api/v1/search/patterns?nature=nice", "/api/v1/episodes?format=xlsx", "/api/v1/episodes?before=-3", "/query?what=recommendations&kind=9",
			"/query?what=factors&format=parquet"} {
			resp, body := f.get(t, p)
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("%s: status %d: %s", p, resp.StatusCode, truncate(body, 200))
			}
		}
	})
}

// BenchmarkSearch measures the researchers' searches and downloads over
// loopback HTTP, with the result cache off, like BenchmarkServer (set
// COLLATE_BENCH_DB to a demo store to use it).
func BenchmarkSearch(b *testing.B) {
	ts := benchServer(b, -1)
	client := &http.Client{}
	for _, path := range []string{
		"/query?what=recommendations", "/query?what=recommendations&q=escalation", "/query?what=recommendations&q=zebra",
		"/query?what=pattern_instances&pattern=P4", "/query?what=pattern_instances&q=teamwork",
		"/query?what=episodes&q=zebra", "/query?what=episodes&q=school&collection=ENG-NE",
		"/api/v1/search/recommendations?collection=ENG-NE&q=escalation", "/api/v1/search/patterns?q=work",
		"/api/v1/episodes?code=FL.WORK.03&format=parquet", "/api/v1/episodes?code=FL.WORK.03&format=parquet&per_page=1000",
		"/api/v1/episodes.csv?code=FL.WORK.03",
	} {
		name := strings.NewReplacer("/", "_", "?", "_", "&", "_", "=", "-").Replace(strings.TrimPrefix(path, "/"))
		b.Run(name, func(b *testing.B) {
			var times []time.Duration
			for b.Loop() {
				start := time.Now()
				resp, err := client.Get(ts.URL + path)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				times = append(times, time.Since(start))
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("%s: status %d", path, resp.StatusCode)
				}
			}
			reportPercentiles(b, times)
		})
	}
}
