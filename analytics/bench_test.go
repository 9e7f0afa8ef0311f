package analytics

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Benchmarks of every dashboard-facing query on the demo set, beside the same
// question asked as naive SQL over the coded rows, run bare in DuckDB.
//
//	go test ./analytics -run '^$' -bench Analytics -benchtime 40x
//
// Sizes 1,000 and 20,000 always run; 200,000 only with COLLATE_BENCH_LARGE=1
// (building that store once takes about an hour; it is cached under
// os.TempDir()/collate-analytics-bench keyed by size, seed and schema). With
// COLLATE_BENCH_OUT=file the results are appended to file as Markdown rows.
// docs/benchmarks.md has the table.

type benchQuery struct {
	name  string
	run   func(ctx context.Context, s *Store) error
	naive string
	args  []any
}

const benchRegion = "ENG-LDN" // the largest region: 33 boards

func benchQueries() []benchQuery {
	pub := publicV
	// A narrowed collection is open only to viewers who see it in full: here
	// the region's own analyst.
	analyst := Viewer{Role: RoleRegionalAnalyst, Region: benchRegion, Name: "bench"}
	region := Selection{Collection: benchRegion}
	coded := `(SELECT count(*) FROM reviews WHERE status = 'current' AND region = 'ENG-LDN')`
	codesCTE := `WITH rv AS (SELECT review_key, year, board, region, nation, frame_id, frame_version FROM reviews WHERE status = 'current'),
		cf AS (SELECT f.review_key, f.episode_no, c.ancestor AS code FROM episode_factors f
		       JOIN frame_closure c ON c.tree = 'factor' AND c.descendant = f.code AND c.frame_id = 'scie-lt' AND c.frame_version = '2008.1')`
	return []benchQuery{
		{name: "overview (region)", run: func(ctx context.Context, s *Store) error {
			_, err := s.Overview(ctx, pub, region)
			return err
		}, naive: `SELECT count(DISTINCT r.review_key), count(*), count(*) FILTER (WHERE e.adequacy = 'good'),
			count(*) FILTER (WHERE e.adequacy = 'problematic'), count(DISTINCT r.review_key) FILTER (WHERE r.family_participation = 'yes')
			FROM reviews r JOIN episodes e USING (review_key) WHERE r.status = 'current' AND r.region = 'ENG-LDN'`},

		{name: "factor shares (region)", run: func(ctx context.Context, s *Store) error {
			_, err := s.Recurrence(ctx, pub, region, RecurrenceOptions{})
			return err
		}, naive: codesCTE + ` SELECT cf.code, count(DISTINCT rv.review_key) / ` + coded + `
			FROM rv JOIN cf USING (review_key) WHERE rv.region = 'ENG-LDN' GROUP BY cf.code`},

		{name: "factor shares with splits (region)", run: func(ctx context.Context, s *Store) error {
			_, err := s.Recurrence(ctx, pub, region, RecurrenceOptions{Splits: true})
			return err
		}, naive: `SELECT c.ancestor, count(DISTINCT r.review_key), count(DISTINCT r.review_key) FILTER (WHERE f.influence = 'supported_good'),
			count(DISTINCT r.review_key) FILTER (WHERE e.adequacy = 'good'), count(DISTINCT r.review_key) FILTER (WHERE e.adequacy = 'problematic')
			FROM reviews r JOIN episode_factors f USING (review_key) JOIN episodes e ON e.review_key = f.review_key AND e.episode_no = f.episode_no
			JOIN frame_closure c ON c.tree = 'factor' AND c.descendant = f.code AND c.frame_id = r.frame_id AND c.frame_version = r.frame_version
			WHERE r.status = 'current' AND r.region = 'ENG-LDN' GROUP BY 1`},

		{name: "pattern types by nature (region)", run: func(ctx context.Context, s *Store) error {
			_, err := s.Recurrence(ctx, pub, region, RecurrenceOptions{Tree: TreePattern, Splits: true})
			return err
		}, naive: `SELECT c.ancestor, count(DISTINCT r.review_key), count(DISTINCT r.review_key) FILTER (WHERE p.nature = 'unsafe')
			FROM reviews r JOIN patterns p USING (review_key)
			JOIN frame_closure c ON c.tree = 'pattern' AND c.descendant = coalesce(p.sub_code, p.type_code) AND c.frame_id = r.frame_id AND c.frame_version = r.frame_version
			WHERE r.status = 'current' AND r.region = 'ENG-LDN' GROUP BY 1`},

		{name: "region x factor heatmap (UK)", run: func(ctx context.Context, s *Store) error {
			_, err := s.Breakdown(ctx, pub, Selection{Collection: UK}, BreakdownOptions{By: LevelRegion})
			return err
		}, naive: codesCTE + ` SELECT rv.region, cf.code, count(DISTINCT rv.review_key) FROM rv JOIN cf USING (review_key)
			JOIN frame_nodes n ON n.tree = 'factor' AND n.code = cf.code AND n.depth = 3 GROUP BY 1, 2`},

		{name: "compare region with rest of nation", run: func(ctx context.Context, s *Store) error {
			_, err := s.Compare(ctx, pub, region, CompareOptions{})
			return err
		}, naive: codesCTE + ` SELECT rv.region = 'ENG-LDN', cf.code, count(DISTINCT rv.review_key) FROM rv JOIN cf USING (review_key)
			WHERE rv.nation = 'ENG' GROUP BY 1, 2`},

		{name: "funnel of boards (nation, one factor)", run: func(ctx context.Context, s *Store) error {
			_, err := s.Funnel(ctx, pub, Selection{Collection: "ENG"}, FunnelOptions{Code: "FL.WORK.03"})
			return err
		}, naive: codesCTE + ` SELECT rv.board, count(DISTINCT rv.review_key) FROM rv JOIN cf USING (review_key)
			WHERE rv.nation = 'ENG' AND cf.code = 'FL.WORK.03' GROUP BY 1`},

		{name: "trend of one factor (region)", run: func(ctx context.Context, s *Store) error {
			_, err := s.Trends(ctx, pub, region, TrendOptions{Codes: []string{"FL.WORK.03"}})
			return err
		}, naive: codesCTE + ` SELECT rv.year, count(DISTINCT rv.review_key) FROM rv JOIN cf USING (review_key)
			WHERE rv.region = 'ENG-LDN' AND cf.code = 'FL.WORK.03' GROUP BY 1`},

		{name: "trends and emerging, all factors (region)", run: func(ctx context.Context, s *Store) error {
			_, err := s.Trends(ctx, pub, region, TrendOptions{})
			return err
		}, naive: codesCTE + ` SELECT rv.year, cf.code, count(DISTINCT rv.review_key) FROM rv JOIN cf USING (review_key)
			WHERE rv.region = 'ENG-LDN' GROUP BY 1, 2`},

		{name: "co-occurring factors (region, one factor)", run: func(ctx context.Context, s *Store) error {
			_, err := s.CoOccurrence(ctx, pub, region, CoOccurrenceOptions{Focus: "FL.WORK.03"})
			return err
		}, naive: `SELECT g.code, count(*) FROM reviews r JOIN episode_factors f USING (review_key)
			JOIN episode_factors g ON g.review_key = f.review_key AND g.episode_no = f.episode_no AND g.code <> f.code
			WHERE r.status = 'current' AND r.region = 'ENG-LDN' AND f.code = 'FL.WORK.03' GROUP BY 1`},

		{name: "factor type to pattern type flows (region)", run: func(ctx context.Context, s *Store) error {
			_, err := s.Flows(ctx, pub, region, FlowOptions{})
			return err
		}, naive: `WITH ft AS (SELECT DISTINCT f.review_key, f.episode_no, c.ancestor AS t FROM reviews r JOIN episode_factors f USING (review_key)
			JOIN frame_closure c ON c.tree = 'factor' AND c.descendant = f.code JOIN frame_nodes n ON n.tree = 'factor' AND n.code = c.ancestor AND n.depth = 2
			WHERE r.status = 'current' AND r.region = 'ENG-LDN'),
			pt AS (SELECT p.review_key, unnest(p.episodes) AS episode_no, p.type_code FROM reviews r JOIN patterns p USING (review_key)
			WHERE r.status = 'current' AND r.region = 'ENG-LDN')
			SELECT t, type_code, count(*) FROM ft JOIN pt USING (review_key, episode_no) GROUP BY 1, 2`},

		{name: "good practice factors (region)", run: func(ctx context.Context, s *Store) error {
			_, err := s.GoodPractice(ctx, pub, region, GoodPracticeOptions{})
			return err
		}, naive: `SELECT f.code, count(DISTINCT (f.review_key, f.episode_no)) FILTER (WHERE e.adequacy = 'good'),
			count(DISTINCT (f.review_key, f.episode_no)) FILTER (WHERE e.adequacy = 'problematic')
			FROM reviews r JOIN episode_factors f USING (review_key) JOIN episodes e ON e.review_key = f.review_key AND e.episode_no = f.episode_no
			WHERE r.status = 'current' AND r.region = 'ENG-LDN' GROUP BY 1`},

		{name: "recommendations (region)", run: func(ctx context.Context, s *Store) error {
			_, err := s.Recommendations(ctx, pub, region)
			return err
		}, naive: `SELECT x.kind, x.level, count(*), count(DISTINCT r.review_key) FROM reviews r JOIN recommendations x USING (review_key)
			WHERE r.status = 'current' AND r.region = 'ENG-LDN' GROUP BY ROLLUP (1, 2)`},

		{name: "review process (region)", run: func(ctx context.Context, s *Store) error {
			_, err := s.Process(ctx, pub, region)
			return err
		}, naive: `SELECT kind, family_participation, stage_preliminary, stage_interim, stage_final, count(*) FROM reviews
			WHERE status = 'current' AND region = 'ENG-LDN' GROUP BY ALL`},

		{name: "repeated lessons (UK)", run: func(ctx context.Context, s *Store) error {
			_, err := s.RepeatedLessons(ctx, pub, Selection{Collection: UK}, RepeatedOptions{})
			return err
		}, naive: `SELECT c.ancestor, count(DISTINCT r.review_key), count(DISTINCT r.board), count(DISTINCT r.year)
			FROM reviews r JOIN patterns p USING (review_key)
			JOIN frame_closure c ON c.tree = 'pattern' AND c.descendant = coalesce(p.sub_code, p.type_code)
			WHERE r.status = 'current' GROUP BY 1`},

		{name: "drill-down, first page (region, one factor)", run: func(ctx context.Context, s *Store) error {
			_, err := s.Episodes(ctx, admin, region, EpisodeQuery{Code: "FL.WORK.03"})
			return err
		}, naive: `SELECT r.review_id, r.year, r.board, e.episode_no, e.title, e.description FROM reviews r
			JOIN episodes e USING (review_key)
			WHERE r.status = 'current' AND r.region = 'ENG-LDN'
			  AND EXISTS (SELECT 1 FROM episode_factors f WHERE f.review_key = e.review_key AND f.episode_no = e.episode_no AND f.code = 'FL.WORK.03')
			ORDER BY r.year DESC, r.review_id, e.episode_no LIMIT 20`},

		{name: "custom collection by agency (region, factor shares)", run: func(ctx context.Context, s *Store) error {
			_, err := s.Recurrence(ctx, analyst, Selection{Collection: SavedPrefix + "ldn-police"}, RecurrenceOptions{})
			return err
		}, // The same question as the view: reviews and episodes citing each node.
			naive: codesCTE + ` SELECT cf.code, count(DISTINCT r.review_key), count(DISTINCT (r.review_key, cf.episode_no))
			FROM reviews r JOIN cf USING (review_key)
			WHERE r.status = 'current' AND r.region = 'ENG-LDN' AND list_has_any(r.agencies, ['Police']) GROUP BY 1`},

		{name: "custom collection by agency (region, overview)", run: func(ctx context.Context, s *Store) error {
			_, err := s.Overview(ctx, analyst, Selection{Collection: SavedPrefix + "ldn-police"})
			return err
		}, // The same question as the view: reviews received and coded, their
			// episodes by adequacy, and the reviews with the family involved.
			naive: `SELECT count(DISTINCT r.review_key), count(DISTINCT r.review_key) FILTER (WHERE r.frame_id = 'scie-lt' AND r.frame_version = '2008.1'),
			count(e.episode_no) FILTER (WHERE r.frame_id = 'scie-lt' AND r.frame_version = '2008.1'),
			count(*) FILTER (WHERE e.adequacy = 'good'), count(*) FILTER (WHERE e.adequacy = 'problematic'),
			count(*) FILTER (WHERE e.adequacy = 'mixed'), count(*) FILTER (WHERE e.adequacy = 'not_judged'),
			count(DISTINCT r.review_key) FILTER (WHERE r.family_participation = 'yes')
			FROM reviews r LEFT JOIN episodes e USING (review_key)
			WHERE r.status = 'current' AND r.region = 'ENG-LDN' AND list_has_any(r.agencies, ['Police'])`},

		{name: "custom collection by agency (region, factor trends)", run: func(ctx context.Context, s *Store) error {
			// What the dashboard's trends page asks first: every factor by year.
			_, err := s.Trends(ctx, analyst, Selection{Collection: SavedPrefix + "ldn-police"}, TrendOptions{Tree: TreeFactor, Depth: 3})
			return err
		}, // The same question as the view: reviews coded per year, and the
			// reviews citing each factor per year.
			naive: codesCTE + ` SELECT r.year, NULL, count(*) FROM reviews r
			WHERE r.status = 'current' AND r.region = 'ENG-LDN' AND list_has_any(r.agencies, ['Police'])
			  AND r.frame_id = 'scie-lt' AND r.frame_version = '2008.1' GROUP BY 1
			UNION ALL
			SELECT r.year, cf.code, count(DISTINCT r.review_key) FROM reviews r JOIN cf USING (review_key)
			JOIN frame_nodes n ON n.frame_id = 'scie-lt' AND n.frame_version = '2008.1' AND n.tree = 'factor' AND n.code = cf.code AND n.depth = 3
			WHERE r.status = 'current' AND r.region = 'ENG-LDN' AND list_has_any(r.agencies, ['Police']) GROUP BY 1, 2`},
	}
}

func benchSizes() []int {
	sizes := []int{1000, 20000}
	if os.Getenv("COLLATE_BENCH_LARGE") == "1" {
		sizes = append(sizes, 200000)
	}
	if v := os.Getenv("COLLATE_BENCH_SIZES"); v != "" {
		sizes = nil
		for _, f := range strings.Split(v, ",") {
			n, _ := strconv.Atoi(f)
			sizes = append(sizes, n)
		}
	}
	return sizes
}

var benchOutMu sync.Mutex

func BenchmarkAnalytics(b *testing.B) {
	ctx := context.Background()
	for _, size := range benchSizes() {
		path := demoStorePath(b, size, 1)
		ensureBenchCollection(b, path)
		// Read-only, so other benchmarks may read the same cached store at once.
		db, err := sql.Open("duckdb", path+"?access_mode=read_only")
		if err != nil {
			b.Fatal(err)
		}
		s := mustStore(b, db, DefaultK)
		s.reads = newReadMemo(0) // each run reads DuckDB, as the first view after a change does
		for _, q := range benchQueries() {
			var ours, naive, alone []time.Duration
			// One sub-benchmark runs both sides, alternating call by call,
			// so that both see the same load on a shared machine.
			b.Run(fmt.Sprintf("size=%d/%s/collate", size, q.name), func(b *testing.B) {
				ours, naive, alone = pairLoop(b, func() error { return q.run(ctx, s) }, func() error {
					rows, err := db.QueryContext(ctx, q.naive, q.args...)
					if err != nil {
						return err
					}
					for rows.Next() {
					}
					rows.Close()
					return rows.Err()
				})
			})
			if out := os.Getenv("COLLATE_BENCH_OUT"); out != "" && len(ours) > 0 && len(naive) > 0 {
				benchOutMu.Lock()
				f, err := os.OpenFile(out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
				if err == nil {
					p50, p95 := pct(ours, 50), pct(ours, 95)
					n50, n95 := pct(naive, 50), pct(naive, 95)
					fmt.Fprintf(f, "| %d | %s | %.1f | %.1f | %.1f | %.1f | %.2f | %.1f / %.1f |\n", size, q.name, ms(p50), ms(p95), ms(n50), ms(n95), ms(p50)/ms(n50),
						ms(pct(alone, 50)), ms(pct(alone, 95)))
					f.Close()
				}
				benchOutMu.Unlock()
			}
		}
		db.Close()
	}
}

// ensureBenchCollection saves the custom collection the benchmark asks for,
// unless the store already has it.
func ensureBenchCollection(b *testing.B, path string) {
	ctx := context.Background()
	db, err := sql.Open("duckdb", path+"?access_mode=read_only")
	if err != nil {
		b.Fatal(err)
	}
	var n int
	err = db.QueryRowContext(ctx, `SELECT count(*) FROM saved_collections WHERE name = 'ldn-police'`).Scan(&n)
	db.Close()
	if err != nil {
		b.Fatal(err)
	}
	if n > 0 {
		return
	}
	db, err = sql.Open("duckdb", path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := mustStore(b, db, DefaultK).SaveCollection(ctx, admin, SavedCollection{Name: "ldn-police",
		Title: "London reviews involving the police", Regions: []string{benchRegion}, Agencies: []string{"Police"}}); err != nil {
		b.Fatal(err)
	}
}

// pairLoop runs ours and naive b.N times each after one warm-up call of
// each, alternating call by call (and which goes first), so that a busy
// moment of a shared machine falls on both alike. It reports, for ours, the
// median and p95 of the wall time and the median CPU time of the process per
// call (DuckDB's threads included), which varies less than the wall time
// when the machine is shared; the same for naive as naive-*; and the ratio
// of the medians. ns/op is the time of both calls.
func pairLoop(b *testing.B, ours, naive func() error) (oursDurs, naiveDurs, aloneDurs []time.Duration) {
	for _, fn := range []func() error{ours, naive} {
		if err := fn(); err != nil {
			b.Fatal(err)
		}
	}
	var cpus [2][]time.Duration
	var durs [2][]time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := 0; j < 2; j++ {
			side := (i + j) % 2
			fn := ours
			if side == 1 {
				fn = naive
			}
			c0, t0 := processCPU(), time.Now()
			if err := fn(); err != nil {
				b.Fatal(err)
			}
			durs[side] = append(durs[side], time.Since(t0))
			cpus[side] = append(cpus[side], processCPU()-c0)
		}
	}
	// Ours again, run after run: right after a naive query that scanned
	// the store (a second or more at 200,000 reviews), the next call pays
	// for memory the naive query released, so the alternating p95 is a
	// view's latency beside such a query, and this one its latency alone,
	// as a dashboard without a researcher's scan running sees it.
	var alone []time.Duration
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if err := ours(); err != nil {
			b.Fatal(err)
		}
		alone = append(alone, time.Since(t0))
	}
	b.StopTimer()
	b.ReportMetric(ms(pct(alone, 50)), "alone-p50-ms")
	b.ReportMetric(ms(pct(alone, 95)), "alone-p95-ms")
	b.ReportMetric(ms(pct(durs[0], 50)), "p50-ms")
	b.ReportMetric(ms(pct(durs[0], 95)), "p95-ms")
	b.ReportMetric(ms(pct(cpus[0], 50)), "cpu-p50-ms")
	b.ReportMetric(ms(pct(durs[1], 50)), "naive-p50-ms")
	b.ReportMetric(ms(pct(durs[1], 95)), "naive-p95-ms")
	b.ReportMetric(ms(pct(cpus[1], 50)), "naive-cpu-p50-ms")
	b.ReportMetric(ms(pct(durs[0], 50))/ms(pct(durs[1], 50)), "ratio")
	return durs[0], durs[1], alone
}

// processCPU is the user and system CPU time the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func pct(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[min(max(i-1, 0), len(s)-1)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// TestBuildBenchStores builds (or brings up to date) the cached demo stores
// of the benchmark sizes, so a benchmark run does not pay for them:
//
//	COLLATE_BENCH_BUILD=1 go test ./analytics -run TestBuildBenchStores -timeout 3h
func TestBuildBenchStores(t *testing.T) {
	if os.Getenv("COLLATE_BENCH_BUILD") != "1" {
		t.Skip("set COLLATE_BENCH_BUILD=1 to build the benchmark stores")
	}
	for _, size := range benchSizes() {
		t.Log(demoStorePath(t, size, 1))
	}
}
