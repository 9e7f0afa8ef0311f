package analytics

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/ingest/demo"
)

// mustDB opens a fresh migrated DuckDB file in t.TempDir().
func mustDB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", filepath.Join(t.TempDir(), "collate.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := ingest.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	return db
}

// mustStore returns an analytics Store over db with the given k.
func mustStore(t testing.TB, db *sql.DB, k int) *Store {
	t.Helper()
	s, err := New(Options{DB: db, Policy: SuppressionPolicy{K: k},
		Now: func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// mustWrite stores exports through the real ingest writer.
func mustWrite(t testing.TB, db *sql.DB, exports ...*ingest.Export) {
	t.Helper()
	items := make([]ingest.Item, len(exports))
	for i, e := range exports {
		items[i] = ingest.Item{Export: e, Source: e.Review.ID + ".json", By: "test"}
	}
	rs, err := ingest.NewWriter(ingest.WriterOptions{DB: db}).Write(context.Background(), items)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Err != nil {
			t.Fatalf("write %s: %v", r.ReviewID, r.Err)
		}
	}
}

// demoStorePath returns a DuckDB file holding the demo set of the given size
// and seed, built through the real ingest path once and cached under
// os.TempDir() (keyed by size, seed and schema) for later runs.
func demoStorePath(tb testing.TB, size int, seed int64) string {
	tb.Helper()
	dir := filepath.Join(os.TempDir(), "collate-analytics-bench")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(dir, fmt.Sprintf("demo-%d-seed%d.duckdb", size, seed))
	if _, err := os.Stat(path); err == nil {
		// A cached store is brought up to the current schema the way a
		// deployed one is; COLLATE_BENCH_REBUILD=1 also recomputes its
		// aggregates, after a change to how they are computed.
		db, err := sql.Open("duckdb", path)
		if err != nil {
			tb.Fatal(err)
		}
		defer db.Close()
		if err := ingest.Migrate(context.Background(), db); err != nil {
			// Another process (a dashboard benchmark, say) may hold the
			// file open; then it is used as it is.
			tb.Logf("demo store %d reviews: not migrated: %v", size, err)
			return path
		}
		if os.Getenv("COLLATE_BENCH_REBUILD") == "1" {
			if err := ingest.RebuildAggregates(context.Background(), db); err != nil {
				tb.Fatal(err)
			}
		}
		return path
	}
	tmp := path + ".building"
	os.Remove(tmp)
	os.Remove(tmp + ".wal")
	db, err := sql.Open("duckdb", tmp)
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	if err := ingest.Migrate(ctx, db); err != nil {
		tb.Fatal(err)
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
	err = demo.Generate(demo.Options{Reviews: size, Seed: seed}, func(i int, e *ingest.Export) error {
		batch = append(batch, ingest.Item{Export: e, Source: e.Review.ID + ".json", Format: "json", By: "bench"})
		if len(batch) == 5000 {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		tb.Fatalf("build demo store: %v", err)
	}
	tb.Logf("demo store %d reviews: ingested in %s", size, time.Since(start).Round(time.Millisecond))
	start = time.Now()
	if err := w.Compact(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("demo store %d reviews: aggregates compacted in %s", size, time.Since(start).Round(time.Millisecond))
	if _, err := db.Exec("CHECKPOINT"); err != nil {
		tb.Fatal(err)
	}
	db.Close()
	if err := os.Rename(tmp, path); err != nil {
		tb.Fatal(err)
	}
	return path
}

func mustWriter(db *sql.DB) *ingest.Writer { return ingest.NewWriter(ingest.WriterOptions{DB: db}) }
