package peer

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
	_ "modernc.org/sqlite"

	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/ingest/demo"
)

// BenchmarkSQLitePeer runs the aggregations behind the dashboard on the demo
// set twice: as bare SQL in DuckDB (the store Collate reads) and in SQLite
// (pure-Go modernc.org/sqlite, one connection, with the indexes a careful
// Datasette user would add and ANALYZE). Both engines get the same SQL text
// wherever the dialects allow, so they do the same work; the queries carry
// the names of BenchmarkAnalytics in package analytics, whose figures are
// Collate's own answers to the same questions.
//
//	go test ./analytics/peer -run '^$' -bench SQLitePeer -benchtime 20x
//
// Sizes 1,000 and 20,000 always; 200,000 with COLLATE_BENCH_LARGE=1;
// COLLATE_BENCH_SIZES=1000,5000 to choose. The DuckDB stores are those of
// package analytics' benchmark (os.TempDir()/collate-analytics-bench, or
// COLLATE_BENCH_STORES), built here the same way if missing; the SQLite
// copies are cached beside them. Each size also reports how long SQLite took
// to load the rows from DuckDB.
func BenchmarkSQLitePeer(b *testing.B) {
	ctx := context.Background()
	for _, size := range benchSizes() {
		src := duckStore(b, size)
		duck, err := sql.Open("duckdb", src+"?access_mode=read_only")
		if err != nil {
			b.Fatal(err)
		}
		lite := sqliteCopy(b, duck, src, size)
		for _, q := range peerQueries {
			b.Run(fmt.Sprintf("size=%d/%s/duckdb", size, q.name), func(b *testing.B) {
				timeLoop(b, func() error { return drain(ctx, duck, q.duck()) })
			})
			b.Run(fmt.Sprintf("size=%d/%s/sqlite", size, q.name), func(b *testing.B) {
				timeLoop(b, func() error { return drain(ctx, lite, q.lite()) })
			})
		}
		lite.Close()
		duck.Close()
	}
}

// peerQuery is one aggregation in both dialects; lite is empty when the
// DuckDB text runs unchanged in SQLite.
type peerQuery struct {
	name      string
	duckSQL   string
	sqliteSQL string
}

func (q peerQuery) duck() string { return q.duckSQL }

func (q peerQuery) lite() string {
	if q.sqliteSQL == "" {
		return q.duckSQL
	}
	return q.sqliteSQL
}

// codes is every factor citation of a current review rolled up to each of
// its ancestors in the default frame.
const codes = `WITH rv AS (SELECT review_key, year, board, region, nation FROM reviews WHERE status = 'current'),
	cf AS (SELECT f.review_key, f.episode_no, c.ancestor AS code FROM episode_factors f
	       JOIN frame_closure c ON c.tree = 'factor' AND c.descendant = f.code AND c.frame_id = 'scie-lt' AND c.frame_version = '2008.1') `

// peerQueries are the questions of BenchmarkAnalytics (package analytics),
// under the same names.
var peerQueries = []peerQuery{
	{name: "overview (region)", duckSQL: `SELECT count(DISTINCT r.review_key), count(*),
		count(*) FILTER (WHERE e.adequacy = 'good'), count(*) FILTER (WHERE e.adequacy = 'problematic'),
		count(DISTINCT r.review_key) FILTER (WHERE r.family_participation = 'yes')
		FROM reviews r JOIN episodes e ON e.review_key = r.review_key WHERE r.status = 'current' AND r.region = 'ENG-LDN'`},

	{name: "factor shares (region)", duckSQL: codes + `SELECT cf.code, count(DISTINCT rv.review_key) * 1.0 /
		(SELECT count(*) FROM reviews WHERE status = 'current' AND region = 'ENG-LDN')
		FROM rv JOIN cf ON cf.review_key = rv.review_key WHERE rv.region = 'ENG-LDN' GROUP BY cf.code`},

	{name: "factor shares with splits (region)", duckSQL: `SELECT c.ancestor, count(DISTINCT r.review_key),
		count(DISTINCT r.review_key) FILTER (WHERE f.influence = 'supported_good'),
		count(DISTINCT r.review_key) FILTER (WHERE e.adequacy = 'good'), count(DISTINCT r.review_key) FILTER (WHERE e.adequacy = 'problematic')
		FROM reviews r JOIN episode_factors f ON f.review_key = r.review_key
		JOIN episodes e ON e.review_key = f.review_key AND e.episode_no = f.episode_no
		JOIN frame_closure c ON c.tree = 'factor' AND c.descendant = f.code AND c.frame_id = r.frame_id AND c.frame_version = r.frame_version
		WHERE r.status = 'current' AND r.region = 'ENG-LDN' GROUP BY c.ancestor`},

	{name: "pattern types by nature (region)", duckSQL: `SELECT c.ancestor, count(DISTINCT r.review_key),
		count(DISTINCT r.review_key) FILTER (WHERE p.nature = 'unsafe')
		FROM reviews r JOIN patterns p ON p.review_key = r.review_key
		JOIN frame_closure c ON c.tree = 'pattern' AND c.descendant = coalesce(p.sub_code, p.type_code)
		 AND c.frame_id = r.frame_id AND c.frame_version = r.frame_version
		WHERE r.status = 'current' AND r.region = 'ENG-LDN' GROUP BY c.ancestor`},

	{name: "region x factor heatmap (UK)", duckSQL: codes + `SELECT rv.region, cf.code, count(DISTINCT rv.review_key)
		FROM rv JOIN cf ON cf.review_key = rv.review_key
		JOIN frame_nodes n ON n.tree = 'factor' AND n.code = cf.code AND n.depth = 3 GROUP BY rv.region, cf.code`},

	{name: "compare region with rest of nation", duckSQL: codes + `SELECT rv.region = 'ENG-LDN', cf.code, count(DISTINCT rv.review_key)
		FROM rv JOIN cf ON cf.review_key = rv.review_key WHERE rv.nation = 'ENG' GROUP BY rv.region = 'ENG-LDN', cf.code`},

	{name: "funnel of boards (nation, one factor)", duckSQL: codes + `SELECT rv.board, count(DISTINCT rv.review_key)
		FROM rv JOIN cf ON cf.review_key = rv.review_key WHERE rv.nation = 'ENG' AND cf.code = 'FL.WORK.03' GROUP BY rv.board`},

	{name: "trend of one factor (region)", duckSQL: codes + `SELECT rv.year, count(DISTINCT rv.review_key)
		FROM rv JOIN cf ON cf.review_key = rv.review_key WHERE rv.region = 'ENG-LDN' AND cf.code = 'FL.WORK.03' GROUP BY rv.year`},

	{name: "trends and emerging, all factors (region)", duckSQL: codes + `SELECT rv.year, cf.code, count(DISTINCT rv.review_key)
		FROM rv JOIN cf ON cf.review_key = rv.review_key WHERE rv.region = 'ENG-LDN' GROUP BY rv.year, cf.code`},

	{name: "co-occurring factors (region, one factor)", duckSQL: `SELECT g.code, count(*) FROM reviews r
		JOIN episode_factors f ON f.review_key = r.review_key
		JOIN episode_factors g ON g.review_key = f.review_key AND g.episode_no = f.episode_no AND g.code <> f.code
		WHERE r.status = 'current' AND r.region = 'ENG-LDN' AND f.code = 'FL.WORK.03' GROUP BY g.code`},

	{name: "factor type to pattern type flows (region)",
		duckSQL: `WITH ft AS (SELECT DISTINCT f.review_key, f.episode_no, c.ancestor AS t FROM reviews r
			JOIN episode_factors f ON f.review_key = r.review_key
			JOIN frame_closure c ON c.tree = 'factor' AND c.descendant = f.code
			JOIN frame_nodes n ON n.tree = 'factor' AND n.code = c.ancestor AND n.depth = 2
			WHERE r.status = 'current' AND r.region = 'ENG-LDN'),
			pt AS (SELECT p.review_key, unnest(p.episodes) AS episode_no, p.type_code FROM reviews r
			JOIN patterns p ON p.review_key = r.review_key WHERE r.status = 'current' AND r.region = 'ENG-LDN')
			SELECT t, type_code, count(*) FROM ft JOIN pt ON pt.review_key = ft.review_key AND pt.episode_no = ft.episode_no GROUP BY t, type_code`,
		sqliteSQL: `WITH ft AS (SELECT DISTINCT f.review_key, f.episode_no, c.ancestor AS t FROM reviews r
			JOIN episode_factors f ON f.review_key = r.review_key
			JOIN frame_closure c ON c.tree = 'factor' AND c.descendant = f.code
			JOIN frame_nodes n ON n.tree = 'factor' AND n.code = c.ancestor AND n.depth = 2
			WHERE r.status = 'current' AND r.region = 'ENG-LDN'),
			pt AS (SELECT p.review_key, j.value AS episode_no, p.type_code FROM reviews r
			JOIN patterns p ON p.review_key = r.review_key, json_each(p.episodes) j WHERE r.status = 'current' AND r.region = 'ENG-LDN')
			SELECT t, type_code, count(*) FROM ft JOIN pt ON pt.review_key = ft.review_key AND pt.episode_no = ft.episode_no GROUP BY t, type_code`},

	{name: "good practice factors (region)", duckSQL: `SELECT f.code,
		count(DISTINCT f.review_key * 1000 + f.episode_no) FILTER (WHERE e.adequacy = 'good'),
		count(DISTINCT f.review_key * 1000 + f.episode_no) FILTER (WHERE e.adequacy = 'problematic')
		FROM reviews r JOIN episode_factors f ON f.review_key = r.review_key
		JOIN episodes e ON e.review_key = f.review_key AND e.episode_no = f.episode_no
		WHERE r.status = 'current' AND r.region = 'ENG-LDN' GROUP BY f.code`},

	{name: "recommendations (region)", duckSQL: `WITH x AS (SELECT x.kind, x.level, r.review_key FROM reviews r
		JOIN recommendations x ON x.review_key = r.review_key WHERE r.status = 'current' AND r.region = 'ENG-LDN')
		SELECT kind, level, count(*), count(DISTINCT review_key) FROM x GROUP BY kind, level
		UNION ALL SELECT kind, NULL, count(*), count(DISTINCT review_key) FROM x GROUP BY kind
		UNION ALL SELECT NULL, NULL, count(*), count(DISTINCT review_key) FROM x`},

	{name: "review process (region)", duckSQL: `SELECT kind, family_participation, stage_preliminary, stage_interim, stage_final, count(*)
		FROM reviews WHERE status = 'current' AND region = 'ENG-LDN'
		GROUP BY kind, family_participation, stage_preliminary, stage_interim, stage_final`},

	{name: "repeated lessons (UK)", duckSQL: `SELECT c.ancestor, count(DISTINCT r.review_key), count(DISTINCT r.board), count(DISTINCT r.year)
		FROM reviews r JOIN patterns p ON p.review_key = r.review_key
		JOIN frame_closure c ON c.tree = 'pattern' AND c.descendant = coalesce(p.sub_code, p.type_code)
		WHERE r.status = 'current' GROUP BY c.ancestor`},

	{name: "drill-down, first page (region, one factor)", duckSQL: `SELECT r.review_id, r.year, r.board, e.episode_no, e.title, e.description
		FROM reviews r JOIN episodes e ON e.review_key = r.review_key
		WHERE r.status = 'current' AND r.region = 'ENG-LDN'
		  AND EXISTS (SELECT 1 FROM episode_factors f WHERE f.review_key = e.review_key AND f.episode_no = e.episode_no AND f.code = 'FL.WORK.03')
		ORDER BY r.year DESC, r.review_id, e.episode_no LIMIT 20`},

	{name: "custom collection by agency (region, factor shares)",
		duckSQL: codes + `SELECT cf.code, count(DISTINCT r.review_key) FROM reviews r JOIN cf ON cf.review_key = r.review_key
			WHERE r.status = 'current' AND r.region = 'ENG-LDN' AND list_contains(r.agencies, 'Police') GROUP BY cf.code`,
		sqliteSQL: codes + `SELECT cf.code, count(DISTINCT r.review_key) FROM reviews r JOIN cf ON cf.review_key = r.review_key
			WHERE r.status = 'current' AND r.region = 'ENG-LDN' AND EXISTS (SELECT 1 FROM json_each(r.agencies) WHERE value = 'Police') GROUP BY cf.code`},
}

func benchSizes() []int {
	sizes := []int{1000, 20000}
	if os.Getenv("COLLATE_BENCH_LARGE") == "1" {
		sizes = append(sizes, 200000)
	}
	if v := os.Getenv("COLLATE_BENCH_SIZES"); v != "" {
		sizes = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				panic(fmt.Sprintf("COLLATE_BENCH_SIZES=%q: give sizes such as 1000,20000", v))
			}
			sizes = append(sizes, n)
		}
	}
	return sizes
}

// storeDir is where the demo stores are cached.
func storeDir() string {
	if d := os.Getenv("COLLATE_BENCH_STORES"); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "collate-analytics-bench")
}

// duckStore returns the demo store of package analytics' benchmark for a
// size (seed 1), building it as that benchmark does when it is missing.
func duckStore(b *testing.B, size int) string {
	b.Helper()
	dir := storeDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, fmt.Sprintf("demo-%d-seed1.duckdb", size))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	tmp := path + ".building"
	os.Remove(tmp)
	os.Remove(tmp + ".wal")
	db, err := sql.Open("duckdb", tmp)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := ingest.Migrate(ctx, db); err != nil {
		b.Fatal(err)
	}
	w := ingest.NewWriter(ingest.WriterOptions{DB: db})
	start := time.Now()
	var batch []ingest.Item
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		rs, err := w.Write(ctx, batch)
		if err != nil {
			return err
		}
		for _, r := range rs {
			if r.Err != nil {
				return fmt.Errorf("%s: %w", r.ReviewID, r.Err)
			}
		}
		batch = batch[:0]
		return nil
	}
	err = demo.Generate(demo.Options{Reviews: size, Seed: 1}, func(i int, e *ingest.Export) error {
		batch = append(batch, ingest.Item{Export: e, Source: e.Review.ID + ".json", Format: "json", By: "bench"})
		if len(batch) == 5000 {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err == nil {
		err = w.Compact(ctx)
	}
	if err == nil {
		_, err = db.Exec("CHECKPOINT")
	}
	if err != nil {
		b.Fatalf("build the demo store of %d reviews: %v", size, err)
	}
	db.Close()
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	b.Logf("built the demo store of %d reviews in %s", size, time.Since(start).Round(time.Second))
	return path
}

// sqliteSchema is the coded rows the aggregations read, as SQLite tables
// (lists as JSON text), with the indexes the queries want.
var sqliteSchema = []string{
	`CREATE TABLE reviews (review_key INTEGER PRIMARY KEY, review_id TEXT NOT NULL, version INTEGER NOT NULL, status TEXT NOT NULL,
		board TEXT NOT NULL, region TEXT NOT NULL, nation TEXT NOT NULL, kind TEXT NOT NULL, year INTEGER NOT NULL,
		agencies TEXT NOT NULL, family_participation TEXT NOT NULL, stage_preliminary TEXT NOT NULL, stage_interim TEXT NOT NULL,
		stage_final TEXT NOT NULL, frame_id TEXT NOT NULL, frame_version TEXT NOT NULL)`,
	`CREATE TABLE episodes (review_key INTEGER NOT NULL, episode_no INTEGER NOT NULL, title TEXT NOT NULL, description TEXT NOT NULL,
		adequacy TEXT NOT NULL, PRIMARY KEY (review_key, episode_no)) WITHOUT ROWID`,
	`CREATE TABLE episode_factors (review_key INTEGER NOT NULL, episode_no INTEGER NOT NULL, seq INTEGER NOT NULL, code TEXT NOT NULL,
		influence TEXT NOT NULL, PRIMARY KEY (review_key, episode_no, seq)) WITHOUT ROWID`,
	`CREATE TABLE patterns (review_key INTEGER NOT NULL, pattern_no INTEGER NOT NULL, type_code TEXT NOT NULL, sub_code TEXT,
		nature TEXT NOT NULL, episodes TEXT NOT NULL, PRIMARY KEY (review_key, pattern_no)) WITHOUT ROWID`,
	`CREATE TABLE recommendations (review_key INTEGER NOT NULL, rec_no INTEGER NOT NULL, kind INTEGER NOT NULL, level TEXT NOT NULL,
		PRIMARY KEY (review_key, rec_no)) WITHOUT ROWID`,
	`CREATE TABLE frame_nodes (frame_id TEXT NOT NULL, frame_version TEXT NOT NULL, tree TEXT NOT NULL, code TEXT NOT NULL,
		parent TEXT, depth INTEGER NOT NULL, PRIMARY KEY (frame_id, frame_version, tree, code)) WITHOUT ROWID`,
	`CREATE TABLE frame_closure (frame_id TEXT NOT NULL, frame_version TEXT NOT NULL, tree TEXT NOT NULL, ancestor TEXT NOT NULL,
		descendant TEXT NOT NULL)`,
}

var sqliteIndexes = []string{
	`CREATE INDEX reviews_status_region ON reviews (status, region, year)`,
	`CREATE INDEX reviews_status_nation ON reviews (status, nation)`,
	`CREATE INDEX factors_code ON episode_factors (code, review_key, episode_no)`,
	`CREATE INDEX closure_descendant ON frame_closure (tree, descendant, frame_id, frame_version, ancestor)`,
	`CREATE INDEX nodes_code ON frame_nodes (tree, code, depth)`,
	`ANALYZE`,
}

// copies are the DuckDB queries that feed each SQLite table, column for
// column.
var copies = []struct{ table, query string }{
	{"reviews", `SELECT review_key, review_id, version, status, board, region, nation, kind, year, to_json(agencies)::VARCHAR,
		family_participation, stage_preliminary, stage_interim, stage_final, frame_id, frame_version FROM reviews`},
	{"episodes", `SELECT review_key, episode_no, title, description, adequacy FROM episodes`},
	{"episode_factors", `SELECT review_key, episode_no, seq, code, influence FROM episode_factors`},
	{"patterns", `SELECT review_key, pattern_no, type_code, sub_code, nature, to_json(episodes)::VARCHAR FROM patterns`},
	{"recommendations", `SELECT review_key, rec_no, kind, level FROM recommendations`},
	{"frame_nodes", `SELECT frame_id, frame_version, tree, code, parent, depth FROM frame_nodes`},
	{"frame_closure", `SELECT frame_id, frame_version, tree, ancestor, descendant FROM frame_closure`},
}

// sqliteCopy returns a SQLite database holding the coded rows of the DuckDB
// store, loading it (and reporting rows/s) unless a complete copy newer
// than the store is cached.
func sqliteCopy(b *testing.B, duck *sql.DB, src string, size int) *sql.DB {
	b.Helper()
	path := filepath.Join(storeDir(), fmt.Sprintf("peer-%d-seed1.sqlite", size))
	marker := path + ".complete"
	srcInfo, err := os.Stat(src)
	if err != nil {
		b.Fatal(err)
	}
	if mi, err := os.Stat(marker); err != nil || mi.ModTime().Before(srcInfo.ModTime()) {
		os.Remove(marker)
		os.Remove(path)
		os.Remove(path + "-wal")
		os.Remove(path + "-shm")
		rows, elapsed := loadSQLite(b, duck, path)
		if err := os.WriteFile(marker, []byte(fmt.Sprintf("%d rows in %s\n", rows, elapsed)), 0o644); err != nil {
			b.Fatal(err)
		}
		b.Logf("SQLite copy of %d reviews: %d rows loaded and indexed in %s (%.0f rows/s)", size, rows, elapsed.Round(time.Millisecond), float64(rows)/elapsed.Seconds())
	}
	lite, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=cache_size(-65536)&_pragma=mmap_size(1073741824)")
	if err != nil {
		b.Fatal(err)
	}
	lite.SetMaxOpenConns(1)
	return lite
}

func loadSQLite(b testing.TB, duck *sql.DB, path string) (int, time.Duration) {
	b.Helper()
	ctx := context.Background()
	lite, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)&_pragma=cache_size(-262144)")
	if err != nil {
		b.Fatal(err)
	}
	defer lite.Close()
	lite.SetMaxOpenConns(1)
	start := time.Now()
	for _, s := range sqliteSchema {
		if _, err := lite.ExecContext(ctx, s); err != nil {
			b.Fatalf("%s: %v", s, err)
		}
	}
	total := 0
	for _, c := range copies {
		n, err := copyTable(ctx, duck, lite, c.table, c.query)
		if err != nil {
			b.Fatalf("copy %s into SQLite: %v", c.table, err)
		}
		total += n
	}
	for _, s := range sqliteIndexes {
		if _, err := lite.ExecContext(ctx, s); err != nil {
			b.Fatalf("%s: %v", s, err)
		}
	}
	// Back to a rollback journal, so the copy opens read-only.
	if _, err := lite.ExecContext(ctx, `PRAGMA journal_mode=DELETE`); err != nil {
		b.Fatal(err)
	}
	return total, time.Since(start)
}

// copyTable streams a DuckDB query into a SQLite table in one transaction.
func copyTable(ctx context.Context, duck, lite *sql.DB, table, query string) (int, error) {
	rows, err := duck.QueryContext(ctx, query)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	tx, err := lite.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	ins, err := tx.PrepareContext(ctx, `INSERT INTO `+table+` VALUES (`+strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",")+`)`)
	if err != nil {
		return 0, err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		if _, err := ins.ExecContext(ctx, vals...); err != nil {
			return n, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	return n, tx.Commit()
}

// drain runs a query and reads every row.
func drain(ctx context.Context, db *sql.DB, q string) error {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	vals := make([]any, len(cols))
	for i := range vals {
		vals[i] = new(any)
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(vals...); err != nil {
			return err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("no rows")
	}
	return nil
}

// timeLoop runs fn b.N times after one warm-up call and reports the median
// and 95th percentile, as package analytics' benchmark does.
func timeLoop(b *testing.B, fn func() error) {
	if err := fn(); err != nil {
		b.Fatal(err)
	}
	durs := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		if err := fn(); err != nil {
			b.Fatal(err)
		}
		durs = append(durs, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(durs)
	b.ReportMetric(msOf(nearestRank(durs, 50)), "p50-ms")
	b.ReportMetric(msOf(nearestRank(durs, 95)), "p95-ms")
}

func nearestRank(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	return sorted[min(max(i-1, 0), len(sorted)-1)]
}

func msOf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
