package federate_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/ingest/demo"
	"github.com/collate-project/collate/ingest/errs"
	"github.com/collate-project/collate/ingest/federate"
	"github.com/collate-project/collate/schemas"
)

func mustStore(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := ingest.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	return db
}

// exports makes n distinct exports from each shipped example: each gets its
// own ID, one of boards, a year, and its own number of factors and
// recommendations, and some leave optional fields out.
func exports(t *testing.T, prefix string, boards []string, n int) []*ingest.Export {
	t.Helper()
	geo := schemas.LoadGeography()
	examples := schemas.Examples()
	names := make([]string, 0, len(examples))
	for name := range examples {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []*ingest.Export
	for _, name := range names {
		data := examples[name]
		for i := range n {
			var e ingest.Export
			if err := json.Unmarshal(data, &e); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			p, ok := geo.Board(boards[i%len(boards)])
			if !ok {
				t.Fatalf("board %s is not in the geography", boards[i%len(boards)])
			}
			rv := &e.Review
			rv.ID = fmt.Sprintf("%s-%s-%03d", prefix, strings.TrimSuffix(name, ".json"), i)
			rv.Board, rv.Region, rv.Nation = p.Board, p.Region, p.Nation
			rv.Completed.Year = 2019 + i%5
			if i%4 == 0 {
				rv.FamilyParticipation = ""
				rv.DialogueStages = nil
			}
			if i%5 == 0 {
				rv.Completed.Month = nil
			}
			for j := range e.Episodes {
				keep := 1 + (i+j)%len(e.Episodes[j].Factors)
				e.Episodes[j].Factors = e.Episodes[j].Factors[:keep]
			}
			if len(e.Recommendations) > 0 {
				e.Recommendations = e.Recommendations[:1+i%len(e.Recommendations)]
			}
			out = append(out, &e)
		}
	}
	return out
}

func mustWrite(t *testing.T, db *sql.DB, es ...*ingest.Export) []ingest.Receipt {
	t.Helper()
	var items []ingest.Item
	for _, e := range es {
		items = append(items, ingest.Item{Export: e, Source: e.Review.ID + ".json", By: "board-" + e.Review.Board})
	}
	receipts, err := ingest.NewWriter(ingest.WriterOptions{DB: db}).Write(context.Background(), items)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range receipts {
		if r.Err != nil {
			t.Fatalf("%s: %v", r.ReviewID, r.Err)
		}
	}
	return receipts
}

func mustWithdraw(t *testing.T, db *sql.DB, id string) {
	t.Helper()
	if err := ingest.NewWriter(ingest.WriterOptions{DB: db}).Withdraw(context.Background(), id, "duplicate of another review", "admin"); err != nil {
		t.Fatal(err)
	}
}

func mustExport(t *testing.T, db *sql.DB, dir, format string) federate.Manifest {
	t.Helper()
	m, err := federate.Export(context.Background(), db, dir, format)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mustImport(t *testing.T, db *sql.DB, dir string) federate.Summary {
	t.Helper()
	s, err := federate.Import(context.Background(), db, dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rows returns a query's rows rendered as text, in order.
func rows(t *testing.T, db *sql.DB, query string, args ...any) []string {
	t.Helper()
	rs, err := db.Query(`SELECT CAST(x AS VARCHAR) FROM (`+query+`) AS x`, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rs.Close()
	out := []string{}
	for rs.Next() {
		var r string
		if err := rs.Scan(&r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// reviewsOf is everything stored for the reviews whose IDs start with
// prefix, keyed by review ID and version instead of the store's own keys.
func reviewsOf(t *testing.T, db *sql.DB, prefix string) map[string][]string {
	t.Helper()
	like := prefix + "%"
	out := map[string][]string{
		"reviews":     rows(t, db, `SELECT * EXCLUDE (review_key) FROM reviews WHERE review_id LIKE ? ORDER BY review_id, version`, like),
		"withdrawals": rows(t, db, `SELECT * FROM withdrawals WHERE review_id LIKE ? ORDER BY ALL`, like),
	}
	for _, table := range []string{"episodes", "episode_factors", "patterns", "recommendations"} {
		out[table] = rows(t, db, `SELECT r.review_id, r.version, c.* EXCLUDE (review_key)
			FROM `+table+` c JOIN reviews r USING (review_key) WHERE r.review_id LIKE ? ORDER BY ALL`, like)
	}
	return out
}

func count(t *testing.T, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// TestRollUp exports a local instance A (two boards) and imports it into a
// national instance B that already holds a third board's reviews.
func TestRollUp(t *testing.T) {
	dir := t.TempDir()
	a := mustStore(t, filepath.Join(dir, "a.duckdb"))
	b := mustStore(t, filepath.Join(dir, "b.duckdb"))

	as := exports(t, "A", []string{"ENG-NE-NCL", "WLS-CV-CRF"}, 8)
	mustWrite(t, a, as...)
	v2 := *as[0]
	v2.Episodes, v2.Patterns, v2.Recommendations = v2.Episodes[:1], nil, nil
	mustWrite(t, a, &v2)
	mustWithdraw(t, a, as[1].Review.ID)
	mustWrite(t, b, exports(t, "B", []string{"SCT-N-ABE"}, 5)...)

	counts := func(db *sql.DB) map[string]int {
		out := map[string]int{}
		for _, table := range []string{"reviews", "episodes", "episode_factors", "patterns", "recommendations", "withdrawals"} {
			out[table] = count(t, db, `SELECT count(*) FROM `+table)
		}
		out["current"] = count(t, db, `SELECT count(*) FROM reviews WHERE status = 'current'`)
		return out
	}
	before := map[string]map[string]int{"a": counts(a), "b": counts(b)}

	export := filepath.Join(dir, "export-a")
	m := mustExport(t, a, export, federate.Parquet)
	if rt, _ := m.Table("reviews"); rt.Rows != int64(before["a"]["reviews"]) {
		t.Errorf("manifest counts %d reviews, store has %d", rt.Rows, before["a"]["reviews"])
	}
	for _, want := range []string{
		"reviews/nation=ENG/region=ENG-NE/year=2019/data_0.parquet",
		"episode_factors/nation=WLS/region=WLS-CV/year=2020/data_0.parquet",
		"review_bodies/nation=ENG/region=ENG-NE/year=2019/data_0.parquet",
		"withdrawals/nation=WLS/region=WLS-CV/year=2020/data_0.parquet",
		"frames/frames.parquet",
		"geography/geography.parquet",
	} {
		if _, err := os.Stat(filepath.Join(export, want)); err != nil {
			t.Errorf("export lacks %s: %v", want, err)
		}
	}

	sum := mustImport(t, b, export)
	if sum.Added != len(as) || sum.Conflicts != 0 || sum.Versions != len(as)+1 || sum.Withdrawals != 1 {
		t.Errorf("summary %+v; want %d added, %d versions, 1 withdrawal", sum, len(as), len(as)+1)
	}
	after := counts(b)
	for table, n := range after {
		if want := before["a"][table] + before["b"][table]; n != want {
			t.Errorf("B has %d %s after import, want A's %d + B's %d", n, table, before["a"][table], before["b"][table])
		}
	}
	if diff := cmp.Diff(reviewsOf(t, a, "A-"), reviewsOf(t, b, "A-")); diff != "" {
		t.Errorf("imported reviews differ from the origin's (-A +B):\n%s", diff)
	}
	var ownKeys int
	ownKeys = count(t, b, `SELECT count(DISTINCT review_key) FROM reviews`)
	if ownKeys != after["reviews"] {
		t.Errorf("review keys are not unique in B: %d keys for %d rows", ownKeys, after["reviews"])
	}

	// B's aggregates are what they would be had every review been uploaded
	// to B directly: C gets the same uploads through the writer.
	c := mustStore(t, filepath.Join(dir, "c.duckdb"))
	mustWrite(t, c, as...)
	mustWrite(t, c, &v2)
	mustWithdraw(t, c, as[1].Review.ID)
	mustWrite(t, c, exports(t, "B", []string{"SCT-N-ABE"}, 5)...)
	aggregates := `SELECT board, year, kind, frame_id, frame_version, sum(reviews), sum(episodes), sum(ep_problematic),
		sum(family_yes), sum(patterns), sum(recs) FROM agg_totals GROUP BY ALL HAVING sum(reviews) > 0 ORDER BY ALL`
	if diff := cmp.Diff(rows(t, c, aggregates), rows(t, b, aggregates)); diff != "" {
		t.Errorf("aggregates after import differ from direct uploads (-direct +imported):\n%s", diff)
	}

	t.Run("importing again changes nothing", func(t *testing.T) {
		snapshot := reviewsOf(t, b, "")
		sum := mustImport(t, b, export)
		if sum.Unchanged != len(as) || sum.Added+sum.Updated+sum.Conflicts+sum.Versions+sum.Withdrawals != 0 {
			t.Errorf("second import: %+v", sum)
		}
		if diff := cmp.Diff(snapshot, reviewsOf(t, b, "")); diff != "" {
			t.Errorf("second import changed B:\n%s", diff)
		}
	})

	t.Run("later versions and withdrawals roll up", func(t *testing.T) {
		v2 := *as[2]
		v2.Recommendations = v2.Recommendations[:min(1, len(v2.Recommendations))]
		v2.Review.Questions = append(v2.Review.Questions, "What changed after the first version?")
		mustWrite(t, a, &v2)
		mustWithdraw(t, a, as[3].Review.ID)
		sum := mustImport(t, b, mustExportTo(t, a, filepath.Join(dir, "export-a2")))
		if sum.Updated != 2 || sum.Versions != 1 || sum.Withdrawals != 1 || sum.Conflicts != 0 {
			t.Errorf("summary %+v; want 2 updated, 1 version, 1 withdrawal", sum)
		}
		if diff := cmp.Diff(reviewsOf(t, a, "A-"), reviewsOf(t, b, "A-")); diff != "" {
			t.Errorf("B differs from A after the second export (-A +B):\n%s", diff)
		}
	})

	t.Run("a review uploaded to both with different content is a conflict", func(t *testing.T) {
		c := mustStore(t, filepath.Join(dir, "clash.duckdb"))
		clash := *exports(t, "A", []string{"ENG-NE-NCL"}, 1)[0]
		clash.Review.Questions = []string{"A different question"}
		mustWrite(t, c, &clash)
		sum := mustImport(t, c, filepath.Join(dir, "export-a"))
		if sum.Conflicts != 1 || sum.Added != len(as)-1 {
			t.Fatalf("summary %+v; want 1 conflict and %d added", sum, len(as)-1)
		}
		for _, r := range sum.Reviews {
			if r.ReviewID == clash.Review.ID && (r.Outcome != federate.Conflict || !strings.Contains(r.Message, "different content")) {
				t.Errorf("clashing review: %+v", r)
			}
		}
		if n := count(t, c, `SELECT count(*) FROM reviews WHERE review_id = ?`, clash.Review.ID); n != 1 {
			t.Errorf("the clashing review has %d versions in C, want its own 1", n)
		}
	})
}

// TestRollUpDemo rolls a sample of the demo set, split by nation into two
// instances, up into a third: every review arrives with its rows intact.
func TestRollUpDemo(t *testing.T) {
	dir := t.TempDir()
	england := mustStore(t, filepath.Join(dir, "england.duckdb"))
	rest := mustStore(t, filepath.Join(dir, "rest.duckdb"))
	national := mustStore(t, filepath.Join(dir, "national.duckdb"))
	var eng, other []*ingest.Export
	if err := demo.Generate(demo.Options{Reviews: 150, Seed: 11}, func(_ int, e *ingest.Export) error {
		if e.Review.Nation == "ENG" {
			eng = append(eng, e)
		} else {
			other = append(other, e)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, england, eng...)
	mustWrite(t, rest, other...)
	for _, src := range []*sql.DB{england, rest} {
		sum := mustImport(t, national, mustExportTo(t, src, filepath.Join(t.TempDir(), "export")))
		if sum.Conflicts != 0 || sum.Unchanged != 0 {
			t.Errorf("summary %+v", sum)
		}
	}
	// The national store holds exactly the union of the two.
	want := reviewsOf(t, england, "")
	for table, rs := range reviewsOf(t, rest, "") {
		want[table] = append(want[table], rs...)
	}
	got := reviewsOf(t, national, "")
	for table := range want {
		sort.Strings(want[table])
		sort.Strings(got[table])
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the national store differs from the union of the two (-union +national):\n%s", diff)
	}
}

func mustExportTo(t *testing.T, db *sql.DB, dir string) string {
	t.Helper()
	mustExport(t, db, dir, federate.Parquet)
	return dir
}

func TestImportRefusesDamagedExport(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a := mustStore(t, filepath.Join(dir, "a.duckdb"))
	mustWrite(t, a, exports(t, "A", []string{"ENG-NE-NCL", "WLS-CV-CRF"}, 4)...)
	good := filepath.Join(dir, "good")
	mustExport(t, a, good, federate.Parquet)

	tests := []struct {
		name   string
		damage func(t *testing.T, dir string)
		want   string
	}{
		{"no manifest", func(t *testing.T, dir string) {
			must(t, os.Remove(filepath.Join(dir, federate.ManifestName)))
		}, "not a finished Collate export"},
		{"file changed", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "episodes/nation=ENG/region=ENG-NE/year=2019/data_0.parquet")
			b, err := os.ReadFile(p)
			must(t, err)
			b[len(b)/2] ^= 0xff
			must(t, os.WriteFile(p, b, 0o644))
		}, "episodes/nation=ENG/region=ENG-NE/year=2019/data_0.parquet has SHA-256"},
		{"file missing", func(t *testing.T, dir string) {
			must(t, os.Remove(filepath.Join(dir, "patterns/nation=WLS/region=WLS-CV/year=2020/data_0.parquet")))
		}, "patterns/nation=WLS/region=WLS-CV/year=2020/data_0.parquet is missing"},
		{"a body edited and its checksum redone", func(t *testing.T, dir string) {
			rewrite(t, dir, "review_bodies/nation=ENG/region=ENG-NE/year=2019/data_0.parquet",
				`SELECT * REPLACE (replace(body, 'Initial assessment', 'First assessment') AS body) FROM {src}`)
		}, "has a body that does not hash to its content_sha256"},
		{"episodes dropped and checksums redone", func(t *testing.T, dir string) {
			rewrite(t, dir, "episodes/nation=ENG/region=ENG-NE/year=2019/data_0.parquet", `SELECT * FROM {src} WHERE episode_no <> 2`)
		}, "has a different number of episodes"},
		{"a path outside the export", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m *federate.Manifest) { m.Tables[0].Files[0].Path = "../a.duckdb" })
		}, "outside the table's directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := filepath.Join(t.TempDir(), "export")
			copyTree(t, good, bad)
			tt.damage(t, bad)
			b := mustStore(t, filepath.Join(t.TempDir(), "b.duckdb"))
			_, err := federate.Import(ctx, b, bad)
			if err == nil || errs.KindOf(err) != errs.Invalid || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("import: %v; want an invalid-input error saying %q", err, tt.want)
			}
			if n := count(t, b, `SELECT count(*) FROM reviews`) + count(t, b, `SELECT count(*) FROM episodes`); n != 0 {
				t.Errorf("a refused import stored %d rows", n)
			}
		})
	}

	t.Run("csv is for reading only", func(t *testing.T) {
		csvDir := filepath.Join(t.TempDir(), "csv")
		mustExport(t, a, csvDir, federate.CSV)
		b := mustStore(t, filepath.Join(t.TempDir(), "b.duckdb"))
		_, err := federate.Import(ctx, b, csvDir)
		if errs.KindOf(err) != errs.Invalid || !strings.Contains(err.Error(), "--format parquet") {
			t.Errorf("importing a CSV export: %v", err)
		}
	})
}

// rewrite replaces one Parquet file of an export with a query over it ({src}) and
// fixes the manifest's checksum, as a careless or hostile editor would.
func rewrite(t *testing.T, dir, rel, query string) {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	must(t, err)
	defer db.Close()
	p := filepath.Join(dir, rel)
	tmp := p + ".new.parquet"
	query = strings.ReplaceAll(query, "{src}", "read_parquet('"+p+"')")
	_, err = db.Exec(`COPY (` + query + `) TO '` + tmp + `' (FORMAT parquet)`)
	must(t, err)
	must(t, os.Rename(tmp, p))
	b, err := os.ReadFile(p)
	must(t, err)
	editManifest(t, dir, func(m *federate.Manifest) {
		for i := range m.Tables {
			for j, f := range m.Tables[i].Files {
				if f.Path == rel {
					m.Tables[i].Files[j].Bytes = int64(len(b))
					m.Tables[i].Files[j].SHA256 = sha256Hex(b)
				}
			}
		}
	})
}

// TestReadByAnotherEngine runs the DuckDB example of docs/interop.md against
// an export, in a DuckDB that has never seen the store, and checks its
// answers against the store's own.
func TestReadByAnotherEngine(t *testing.T) {
	a, export := exportedStore(t, "A", []string{"ENG-NE-NCL", "ENG-NE-GAT", "WLS-CV-CRF"}, 15)

	other, err := sql.Open("duckdb", "")
	must(t, err)
	defer other.Close()
	// The documented queries name the export 'collate-export' relative to where they run.
	queries := docQueries(t)
	for name, q := range queries {
		queries[name] = strings.ReplaceAll(q, "'collate-export/", "'"+filepath.ToSlash(export)+"/")
	}
	store := map[string]string{
		"reviews by nation, region and year": `
			SELECT nation, region, year, count(*) AS reviews FROM reviews
			WHERE status = 'current' GROUP BY ALL ORDER BY ALL`,
		"problematic factors by region": `
			SELECT r.region, f.code, count(DISTINCT r.review_id) AS reviews
			FROM episode_factors f JOIN reviews r USING (review_key)
			WHERE r.status = 'current' AND f.influence = 'made_problematic_more_likely'
			GROUP BY ALL ORDER BY reviews DESC, r.region, f.code`,
		"factor labels": `
			SELECT f.code, n.label, count(*) AS episodes
			FROM episode_factors f JOIN reviews r USING (review_key)
			JOIN frame_nodes n ON n.frame_id = r.frame_id AND n.frame_version = r.frame_version AND n.tree = 'factor' AND n.code = f.code
			WHERE r.status = 'current' GROUP BY ALL ORDER BY episodes DESC, f.code`,
	}
	for name, want := range store {
		q, ok := queries[name]
		if !ok {
			t.Errorf("docs/interop.md has no DuckDB query %q", name)
			continue
		}
		got := rows(t, other, q)
		if len(got) == 0 {
			t.Errorf("%s: no rows", name)
		}
		if diff := cmp.Diff(rows(t, a, want), got); diff != "" {
			t.Errorf("%s: the export answers differently (-store +export):\n%s", name, diff)
		}
	}
}

// docQueries returns the SQL blocks of docs/interop.md that follow a
// "<!-- query: NAME -->" marker.
func docQueries(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "interop.md"))
	must(t, err)
	out := map[string]string{}
	parts := strings.Split(string(b), "<!-- query: ")
	for _, p := range parts[1:] {
		name, rest, _ := strings.Cut(p, " -->")
		_, rest, ok := strings.Cut(rest, "```sql\n")
		if !ok {
			t.Fatalf("docs/interop.md: query %q has no sql block", name)
		}
		q, _, _ := strings.Cut(rest, "```")
		out[name] = strings.TrimSuffix(strings.TrimSpace(q), ";")
	}
	return out
}

// TestCSVExportIsSafe checks that no cell of a CSV export starts a formula,
// and that plain numbers are left alone.
func TestCSVExportIsSafe(t *testing.T) {
	dir := t.TempDir()
	a := mustStore(t, filepath.Join(dir, "a.duckdb"))
	var e *ingest.Export
	for _, x := range exports(t, "A", []string{"ENG-NE-NCL"}, 1) {
		if strings.Contains(x.Review.ID, "statutory") {
			e = x
		}
	}
	e.Episodes[0].Title = `=HYPERLINK("http://127.0.0.1/x","click")`
	e.Episodes[1].Title = "-3"
	e.Episodes[2].Title = "@SUM(A1)"
	e.Episodes[0].Factors[0].Detail = "+44 staff"
	mustWrite(t, a, e)
	out := filepath.Join(dir, "csv")
	m := mustExport(t, a, out, federate.CSV)
	et, _ := m.Table("episodes")
	if len(et.Files) != 1 || !strings.HasSuffix(et.Files[0].Path, ".csv") {
		t.Fatalf("episodes files: %+v", et.Files)
	}
	titles := csvColumn(t, filepath.Join(out, et.Files[0].Path), "title")
	want := []string{`'=HYPERLINK("http://127.0.0.1/x","click")`, "-3", "'@SUM(A1)"}
	if diff := cmp.Diff(want, titles); diff != "" {
		t.Errorf("episode titles in CSV (-want +got):\n%s", diff)
	}
	if _, ok := m.Table("review_bodies"); ok {
		t.Error("a CSV export has review_bodies")
	}
	ft, _ := m.Table("episode_factors")
	if got := csvColumn(t, filepath.Join(out, ft.Files[0].Path), "detail")[0]; got != "'+44 staff" {
		t.Errorf("factor detail in CSV: %q", got)
	}
}

func csvColumn(t *testing.T, path, col string) []string {
	t.Helper()
	f, err := os.Open(path)
	must(t, err)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	must(t, err)
	idx := -1
	for i, h := range recs[0] {
		if h == col {
			idx = i
		}
	}
	if idx < 0 {
		t.Fatalf("%s has no column %s: %v", path, col, recs[0])
	}
	var out []string
	for _, r := range recs[1:] {
		out = append(out, r[idx])
	}
	return out
}

func editManifest(t *testing.T, dir string, edit func(*federate.Manifest)) {
	t.Helper()
	p := filepath.Join(dir, federate.ManifestName)
	b, err := os.ReadFile(p)
	must(t, err)
	var m federate.Manifest
	must(t, json.Unmarshal(b, &m))
	edit(&m)
	b, err = json.Marshal(m)
	must(t, err)
	must(t, os.WriteFile(p, b, 0o644))
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	must(t, filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	}))
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestReadByJavaScript reads a Parquet export with docs/examples/read-export.mjs,
// which uses hyparquet (a JavaScript Parquet reader from npm that shares no
// code with DuckDB), and checks its answers against the store the export came
// from. It needs node and the repository's npm packages (`npm ci`); without
// them it skips, unless CI=true.
func TestReadByJavaScript(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	must(t, err)
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(root, "node_modules", "hyparquet-compressors"))
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("node and the npm packages are needed (run npm ci): %v", err)
		}
		t.Skipf("skipping: node and the npm packages are needed (run npm ci): %v", err)
	}
	a, export := exportedStore(t, "J", []string{"ENG-NE-NCL", "ENG-LDN-CAM", "WLS-CV-CRF"}, 12)

	cmd := exec.Command(node, filepath.Join(root, "docs", "examples", "read-export.mjs"), export)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("node read-export.mjs: %v\n%s", err, stderr)
	}
	var got map[string][]string
	must(t, json.Unmarshal(out, &got))
	strs := func(q string) []string {
		t.Helper()
		rs, err := a.Query(q)
		must(t, err)
		defer rs.Close()
		var out []string
		for rs.Next() {
			var s string
			must(t, rs.Scan(&s))
			out = append(out, s)
		}
		must(t, rs.Err())
		return out
	}
	want := map[string][]string{
		"reviews by nation, region and year": strs(`
			SELECT nation || '|' || region || '|' || year || '|' || count(*) FROM reviews
			WHERE status = 'current' GROUP BY nation, region, year ORDER BY 1`),
		"problematic factors by region": strs(`
			SELECT r.region || '|' || f.code || '|' || count(DISTINCT r.review_id)
			FROM episode_factors f JOIN reviews r USING (review_key)
			WHERE r.status = 'current' AND f.influence = 'made_problematic_more_likely'
			GROUP BY r.region, f.code ORDER BY 1`),
	}
	if len(want["problematic factors by region"]) == 0 {
		t.Fatal("the store has no problematic factors to compare")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("hyparquet reads the export differently (-store +export):\n%s", diff)
	}
}

// exportedStore stores n reviews per board under prefix, supersedes one and
// withdraws another, and exports the store as Parquet to
// <temp dir>/collate-export, the name the documented queries use.
func exportedStore(t *testing.T, prefix string, boards []string, n int) (*sql.DB, string) {
	t.Helper()
	dir := t.TempDir()
	a := mustStore(t, filepath.Join(dir, "a.duckdb"))
	es := exports(t, prefix, boards, n)
	mustWrite(t, a, es...)
	v2 := *es[2]
	v2.Episodes, v2.Patterns, v2.Recommendations = v2.Episodes[:1], nil, nil
	mustWrite(t, a, &v2)
	mustWithdraw(t, a, es[3].Review.ID)
	export := filepath.Join(dir, "collate-export")
	mustExport(t, a, export, federate.Parquet)
	return a, export
}
