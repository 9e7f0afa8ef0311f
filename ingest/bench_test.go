package ingest_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/ingest/demo"
)

// The ingest benchmark of issue 2: demo exports on disk are read, validated
// and stored through ingest.Writer in batches, and compared in the same run
// with DuckDB's own read_json bulk load of the same files.
//
//	go test -run '^$' -bench 'BenchmarkIngest|BenchmarkReadJSONReference' -benchtime 1x ./ingest
//
// docs/benchmarks.md holds the figures.

const (
	benchSeed  = 1
	benchBatch = 1000 // reviews per Writer.Write, as the ingest command does
)

// ingestSizes are the sizes measured: 1,000 and 20,000 reviews, or those
// listed in COLLATE_BENCH_SIZES (for example 1000,20000,200000).
func ingestSizes(b *testing.B) []int {
	v := os.Getenv("COLLATE_BENCH_SIZES")
	if v == "" {
		return []int{1_000, 20_000}
	}
	var sizes []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			b.Fatalf("COLLATE_BENCH_SIZES=%q: %q is not a number of reviews", v, f)
		}
		sizes = append(sizes, n)
	}
	return sizes
}

// benchFiles returns the demo set of n reviews as files on disk, generating it
// once into a cache under os.TempDir keyed by size, seed and the content of the
// first review (so a changed generator makes a new set).
func benchFiles(b *testing.B, n int) []string {
	b.Helper()
	g, err := demo.New(demo.Options{Reviews: n, Seed: benchSeed})
	if err != nil {
		b.Fatal(err)
	}
	first, err := json.Marshal(g.Export(0))
	if err != nil {
		b.Fatal(err)
	}
	sum := sha256.Sum256(first)
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("collate-bench-demo-%d-seed%d-%s", n, benchSeed, hex.EncodeToString(sum[:6])))
	marker := filepath.Join(dir, ".complete")
	if _, err := os.Stat(marker); err != nil {
		start := time.Now()
		if err := os.RemoveAll(dir); err != nil {
			b.Fatal(err)
		}
		if _, err := demo.WriteDir(context.Background(), dir, demo.Options{Reviews: n, Seed: benchSeed}); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(marker, nil, 0o644); err != nil {
			b.Fatal(err)
		}
		b.Logf("generated %d demo reviews into %s in %s", n, dir, time.Since(start).Round(time.Millisecond))
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		b.Fatal(err)
	}
	if len(files) != n {
		b.Fatalf("%s holds %d files, want %d; remove it to regenerate", dir, len(files), n)
	}
	sort.Strings(files)
	return files
}

// benchStore opens a fresh, migrated DuckDB file.
func benchStore(b *testing.B, open func(path string) (*sql.DB, error)) *sql.DB {
	b.Helper()
	db, err := open(filepath.Join(b.TempDir(), "collate.duckdb"))
	if err != nil {
		b.Fatal(err)
	}
	if err := ingest.Migrate(context.Background(), db); err != nil {
		b.Fatal(err)
	}
	return db
}

// openDuckDB opens a DuckDB file the usual way, as the server does.
func openDuckDB(path string) (*sql.DB, error) { return sql.Open("duckdb", path) }

// rowsOf counts the rows an export adds: the review, its episodes, factors,
// patterns and recommendations.
func rowsOf(e *ingest.Export) int {
	n := 1 + len(e.Episodes) + len(e.Patterns) + len(e.Recommendations)
	for _, ep := range e.Episodes {
		n += len(ep.Factors)
	}
	return n
}

// reportLoad reports a load of n reviews and rows rows that took elapsed
// and cpu seconds of CPU over b.N runs: the figures both ingest benchmarks
// give, so they compare column by column.
func reportLoad(b *testing.B, n, rows int, elapsed time.Duration, cpu float64) {
	secs := elapsed.Seconds() / float64(b.N)
	b.ReportMetric(float64(n)/secs, "reviews/s")
	b.ReportMetric(float64(rows)/secs, "rows/s")
	b.ReportMetric(peakRSSMiB(b), "peak-RSS-MiB")
	b.ReportMetric(1000*cpu/float64(b.N*n), "cpu-ms/review")
}

// resetPeakRSS asks Linux to restart the high-water mark, so each size reports
// its own peak; where that is not possible the peak covers the whole process.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSSMiB reads VmHWM, the process's peak resident set size.
func peakRSSMiB(b testing.TB) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Logf("peak RSS not available: %v", err)
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				b.Fatalf("VmHWM %q: %v", rest, err)
			}
			return kb / 1024
		}
	}
	return 0
}

// cpuSeconds reads the CPU time (user and system) the process has used so far,
// DuckDB's threads included, from /proc/self/stat; 0 where that is not available.
// On a shared machine it shows the cost of the work apart from waiting for a CPU.
func cpuSeconds() float64 {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100 // USER_HZ is 100 on Linux
}

// ingestFiles is the path under test: read and validate on every CPU, store
// in batches through one Writer. It returns the rows stored.
func ingestFiles(ctx context.Context, b *testing.B, v *ingest.Validator, w *ingest.Writer, files []string) int {
	type result struct {
		i    int
		item ingest.Item
		rows int
	}
	jobs := make(chan int)
	results := make(chan result, 2*benchBatch)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range jobs {
				data, err := os.ReadFile(files[i])
				if err != nil {
					b.Error(err)
					continue
				}
				e, err := v.Validate(filepath.Base(files[i]), data)
				if err != nil {
					b.Errorf("%s: %v", files[i], err)
					continue
				}
				results <- result{i, ingest.Item{Export: e, Source: filepath.Base(files[i]), By: "bench"}, rowsOf(e)}
			}
		})
	}
	go func() {
		for i := range files {
			jobs <- i
		}
		close(jobs)
		wg.Wait()
		close(results)
	}()

	// On a failure below, let the readers finish so none is left blocked.
	defer func() {
		for range results {
		}
	}()
	rows := 0
	batch := make([]ingest.Item, 0, benchBatch)
	flush := func() {
		if len(batch) == 0 {
			return
		}
		receipts, err := w.Write(ctx, batch)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range receipts {
			if r.Outcome != ingest.Added {
				b.Fatalf("%s: %s %v", r.Source, r.Outcome, r.Err)
			}
		}
		batch = batch[:0]
	}
	for r := range results {
		batch = append(batch, r.item)
		rows += r.rows
		if len(batch) == benchBatch {
			flush()
		}
	}
	flush()
	return rows
}

// BenchmarkIngest measures files on disk → read → validate → Writer.Write →
// Writer.Finish → Writer.Compact → Checkpoint, the path of `collate ingest`
// for 1,000 files or more: no write-ahead log, and Go's garbage collector
// at ingest.BulkGCPercent.
func BenchmarkIngest(b *testing.B) {
	for _, n := range ingestSizes(b) {
		b.Run(fmt.Sprintf("reviews=%d", n), func(b *testing.B) {
			files := benchFiles(b, n)
			v, err := ingest.NewValidator(ingest.ValidatorOptions{})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			// As `collate ingest` does with 1,000 files or more.
			defer debug.SetGCPercent(debug.SetGCPercent(ingest.BulkGCPercent))
			runtime.GC()
			resetPeakRSS()
			var elapsed time.Duration
			var cpu float64
			rows := 0
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				// As `collate ingest` does with 1,000 files or more: a bulk
				// load without a write-ahead log, counted at the end.
				db := benchStore(b, ingest.OpenWithoutWAL)
				w := ingest.NewWriter(ingest.WriterOptions{DB: db, Bulk: true, DeferCompaction: true})
				b.StartTimer()
				start, cpu0 := time.Now(), cpuSeconds()
				rows = ingestFiles(ctx, b, v, w, files)
				written, cpuW := time.Now(), cpuSeconds()
				if counted, err := w.Finish(ctx); err != nil || counted != n {
					b.Fatalf("Finish counted %d reviews (%v), want %d", counted, err, n)
				}
				finished, cpuF := time.Now(), cpuSeconds()
				if err := w.Compact(ctx); err != nil {
					b.Fatal(err)
				}
				compacted, cpuC := time.Now(), cpuSeconds()
				// Write what the load stored into the file, as the
				// reference's CHECKPOINT does and as `collate ingest` does
				// at the end, so both end with the data in the file.
				if err := ingest.Checkpoint(ctx, db); err != nil {
					b.Fatal(err)
				}
				// One line per run, so medians and percentiles can be taken.
				cpuE := cpuSeconds()
				b.Logf("%d reviews: %s in all (%.2f cpu-s): validate and write %s (%.2f), count (Finish) %s (%.2f), compact %s (%.2f), checkpoint %s (%.2f)",
					n, time.Since(start).Round(time.Millisecond), cpuE-cpu0, written.Sub(start).Round(time.Millisecond), cpuW-cpu0,
					finished.Sub(written).Round(time.Millisecond), cpuF-cpuW, compacted.Sub(finished).Round(time.Millisecond), cpuC-cpuF,
					time.Since(compacted).Round(time.Millisecond), cpuE-cpuC)
				elapsed += time.Since(start)
				cpu += cpuSeconds() - cpu0
				b.StopTimer()
				var stored int
				if err := db.QueryRow(`SELECT count(*) FROM reviews WHERE status = 'current'`).Scan(&stored); err != nil || stored != n {
					b.Fatalf("store holds %d current reviews (%v), want %d", stored, err, n)
				}
				// Where the memory went: Go's own, and DuckDB's buffer pool.
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				var duckMem string
				_ = db.QueryRow(`SELECT format_bytes(sum(memory_usage_bytes)::BIGINT) FROM duckdb_memory()`).Scan(&duckMem)
				var dbSize string
				_ = db.QueryRow(`SELECT database_size FROM pragma_database_size() WHERE database_name = current_database()`).Scan(&dbSize)
				b.Logf("%d reviews: Go runtime holds %d MiB from the OS; DuckDB memory %s; database %s",
					n, ms.Sys>>20, duckMem, dbSize)
				db.Close()
				b.StartTimer()
			}
			b.StopTimer()
			reportLoad(b, n, rows, elapsed, cpu)
		})
	}
}

// referenceColumns is the export format as read_json column types, so the
// reference does not depend on which files its type detection samples.
const referenceColumns = `{
	format: 'VARCHAR',
	review: 'STRUCT(id VARCHAR, board VARCHAR, region VARCHAR, nation VARCHAR, kind VARCHAR, questions VARCHAR[],
		completed STRUCT(year INTEGER, month INTEGER), agencies VARCHAR[], participants STRUCT(role VARCHAR, agency VARCHAR)[],
		family_participation VARCHAR, dialogue_stages STRUCT(preliminary VARCHAR, interim VARCHAR, final VARCHAR),
		frame STRUCT(id VARCHAR, version VARCHAR),
		coding STRUCT(coder_role VARCHAR, method VARCHAR, second_coder_agreement STRUCT(measure VARCHAR, value DOUBLE)))',
	episodes: 'STRUCT(number INTEGER, title VARCHAR, description VARCHAR, significance VARCHAR, adequacy VARCHAR,
		agencies VARCHAR[], evidence STRUCT(kind VARCHAR, note VARCHAR)[],
		factors STRUCT(code VARCHAR, detail VARCHAR, influence VARCHAR)[])[]',
	patterns: 'STRUCT(number INTEGER, type VARCHAR, sub_pattern VARCHAR, proposed_sub_pattern VARCHAR, nature VARCHAR,
		priority INTEGER, widespread VARCHAR, relevance VARCHAR, summary VARCHAR, episodes INTEGER[])[]',
	recommendations: 'STRUCT(number INTEGER, kind INTEGER, level VARCHAR, text VARCHAR, patterns INTEGER[])[]'
}`

// referenceSQL loads the files with read_json and unnests them into one table
// per level, as the store keeps them, so the work compares with the Writer's.
// It is tuned as DuckDB's guide advises for bulk loads: without
// preserve_insertion_order, read_json over thousands of small files holds
// every file's buffers until the end (about 0.8 MiB a file: 20,000 files ran
// out of 18.8 GiB) and runs four to five times slower. maximum_object_size is
// 1 MiB, twenty times the largest demo file.
var referenceSQL = []string{
	`SET preserve_insertion_order = false`,
	`CREATE TABLE raw AS SELECT * FROM read_json($1, format = 'auto', records = true,
	   maximum_object_size = 1048576, columns = ` + referenceColumns + `)`,
	`CREATE TABLE ref_reviews AS
	   SELECT review.id AS review_id, review.board, review.region, review.nation, review.kind,
	          review.completed.year AS year, review.completed.month AS month, review.questions, review.agencies,
	          review.participants, review.family_participation, review.dialogue_stages, review.frame.id AS frame_id,
	          review.frame.version AS frame_version, review.coding
	   FROM raw`,
	`CREATE TABLE ref_episodes AS
	   SELECT raw.review.id AS review_id, e.number, e.title, e.description, e.significance, e.adequacy, e.agencies, e.evidence
	   FROM raw, unnest(raw.episodes) AS t(e)`,
	`CREATE TABLE ref_factors AS
	   SELECT raw.review.id AS review_id, e.number AS episode_no, f.code, f.detail, f.influence
	   FROM raw, unnest(raw.episodes) AS t(e), unnest(e.factors) AS u(f)`,
	`CREATE TABLE ref_patterns AS
	   SELECT raw.review.id AS review_id, p.number, p.type, p.sub_pattern, p.proposed_sub_pattern, p.nature,
	          p.priority, p.widespread, p.relevance, p.summary, p.episodes
	   FROM raw, unnest(raw.patterns) AS t(p)`,
	`CREATE TABLE ref_recommendations AS
	   SELECT raw.review.id AS review_id, r.number, r.kind, r.level, r.text, r.patterns
	   FROM raw, unnest(raw.recommendations) AS t(r)`,
}

// BenchmarkReadJSONReference measures DuckDB's own bulk load of the same files.
func BenchmarkReadJSONReference(b *testing.B) {
	for _, n := range ingestSizes(b) {
		b.Run(fmt.Sprintf("reviews=%d", n), func(b *testing.B) {
			files := benchFiles(b, n)
			glob := filepath.Join(filepath.Dir(files[0]), "*.json")
			ctx := context.Background()
			runtime.GC()
			resetPeakRSS()
			var elapsed time.Duration
			var cpu float64
			rows := 0
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				db, err := sql.Open("duckdb", filepath.Join(b.TempDir(), "reference.duckdb"))
				if err != nil {
					b.Fatal(err)
				}
				conn, err := db.Conn(ctx)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start, cpu0 := time.Now(), cpuSeconds()
				for _, q := range referenceSQL {
					var args []any
					if strings.Contains(q, "$1") {
						args = append(args, glob)
					}
					if _, err := conn.ExecContext(ctx, q, args...); err != nil {
						b.Fatalf("%.40s: %v", q, err)
					}
				}
				if _, err := conn.ExecContext(ctx, `CHECKPOINT`); err != nil {
					b.Fatal(err)
				}
				elapsed += time.Since(start)
				cpu += cpuSeconds() - cpu0
				b.StopTimer()
				rows = 0
				for _, t := range []string{"ref_reviews", "ref_episodes", "ref_factors", "ref_patterns", "ref_recommendations"} {
					var c int
					if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM `+t).Scan(&c); err != nil {
						b.Fatal(err)
					}
					rows += c
				}
				var reviews int
				if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM ref_reviews`).Scan(&reviews); err != nil || reviews != n {
					b.Fatalf("reference loaded %d reviews (%v), want %d", reviews, err, n)
				}
				conn.Close()
				db.Close()
				b.StartTimer()
			}
			b.StopTimer()
			reportLoad(b, n, rows, elapsed, cpu)
		})
	}
}

// BenchmarkUpload measures one upload as the server stores it: a single
// review written through Writer.Write into a store that already holds a
// demo collection, with its aggregates added in the same transaction.
//
//	go test -run '^$' -bench BenchmarkUpload -benchtime 50x ./ingest
func BenchmarkUpload(b *testing.B) {
	const base, most = 1_000, 1_000
	if b.N > most {
		b.Fatalf("at most %d uploads (-benchtime %dx)", most, most)
	}
	files := benchFiles(b, base+most)
	v, err := ingest.NewValidator(ingest.ValidatorOptions{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	db := benchStore(b, openDuckDB)
	defer db.Close()
	bulk := ingest.NewWriter(ingest.WriterOptions{DB: db, Bulk: true})
	ingestFiles(ctx, b, v, bulk, files[:base])
	if _, err := bulk.Finish(ctx); err != nil {
		b.Fatal(err)
	}
	items := make([]ingest.Item, b.N)
	for i := range items {
		data, err := os.ReadFile(files[base+i])
		if err != nil {
			b.Fatal(err)
		}
		e, err := v.Validate(filepath.Base(files[base+i]), data)
		if err != nil {
			b.Fatal(err)
		}
		items[i] = ingest.Item{Export: e, Source: filepath.Base(files[base+i]), By: "bench"}
	}
	w := ingest.NewWriter(ingest.WriterOptions{DB: db})
	times := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		rs, err := w.Write(ctx, items[i:i+1])
		if err != nil || rs[0].Outcome != ingest.Added {
			b.Fatalf("upload %d: %v %v", i, err, rs)
		}
		times = append(times, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(times[(len(times)*95)/100].Microseconds())/1000, "p95-ms")
}
