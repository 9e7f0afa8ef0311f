package ingest_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/ingest/demo"
)

// aggSnapshot reads every aggregate table folded by key, as analytics sums it.
func aggSnapshot(t *testing.T, db *sql.DB) map[string][]string {
	t.Helper()
	keys := map[string]int{"agg_totals": 7, "agg_nodes": 9, "agg_pairs": 11, "agg_flows": 10, "agg_recs": 10,
		"agg_nodes_r": 9, "agg_pairs_r": 11, "agg_flows_r": 10, "agg_recs_r": 10}
	out := map[string][]string{}
	for table, nk := range keys {
		rows, err := db.Query(`SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position`, table)
		if err != nil {
			t.Fatal(err)
		}
		var cols []string
		for rows.Next() {
			var c string
			rows.Scan(&c)
			cols = append(cols, c)
		}
		rows.Close()
		var sums []string
		for _, c := range cols[nk:] {
			sums = append(sums, "coalesce(sum("+c+")::VARCHAR, 'null')")
		}
		q := fmt.Sprintf(`SELECT concat_ws('|', %s, %s) AS r FROM %s GROUP BY ALL ORDER BY r`,
			strings.Join(cols[:nk], ", "), strings.Join(sums, ", "), table)
		// Subtracting a partition from a roll-up can leave a key summing to
		// zero, which reads as no row at all.
		q = strings.Replace(q, "GROUP BY ALL", "GROUP BY "+strings.Join(cols[:nk], ", ")+" HAVING sum("+cols[nk]+") <> 0", 1)
		rs, err := db.Query(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		for rs.Next() {
			var r string
			rs.Scan(&r)
			out[table] = append(out[table], r)
		}
		rs.Close()
	}
	return out
}

// TestAggregatesMatchRebuild checks that aggregates kept incrementally through
// additions, supersessions, withdrawals and compaction always equal a rebuild
// from the base tables.
func TestAggregatesMatchRebuild(t *testing.T) {
	ctx := context.Background()
	db := mustStore(t)
	w := ingest.NewWriter(ingest.WriterOptions{DB: db})
	var all []*ingest.Export
	if err := demo.Generate(demo.Options{Reviews: 400, Seed: 3}, func(i int, e *ingest.Export) error {
		all = append(all, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for lo := 0; lo < len(all); lo += 37 {
		mustWrite(t, w, all[lo:min(lo+37, len(all))]...)
	}
	// Supersede some reviews, one of them into another year and kind.
	var changed []*ingest.Export
	for i := 0; i < len(all); i += 23 {
		e := *all[i]
		e.Episodes = e.Episodes[:len(e.Episodes)-1]
		e.Patterns, e.Recommendations = nil, nil
		if i == 0 {
			e.Review.Completed.Year--
			e.Review.Kind = "routine"
		}
		changed = append(changed, &e)
	}
	mustWrite(t, w, changed...)
	for _, i := range []int{5, 50, 150} {
		if err := w.Withdraw(ctx, all[i].Review.ID, "test", "test"); err != nil {
			t.Fatal(err)
		}
	}
	incremental := aggSnapshot(t, db)
	if len(incremental["agg_nodes"]) == 0 {
		t.Fatal("no aggregates were kept")
	}
	if err := w.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	compacted := aggSnapshot(t, db)
	if diff := cmp.Diff(incremental, compacted); diff != "" {
		t.Fatalf("compaction changed the figures (-before +after):\n%s", diff)
	}
	var dup int
	if err := db.QueryRow(`SELECT count(*) FROM (SELECT board, year, kind, frame_id, frame_version, tree, code
		FROM agg_nodes GROUP BY ALL HAVING count(*) > 1)`).Scan(&dup); err != nil {
		t.Fatal(err)
	}
	if dup != 0 {
		t.Fatalf("%d aggregate keys still have more than one row after compaction", dup)
	}
	if err := ingest.RebuildAggregates(ctx, db); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(aggSnapshot(t, db), incremental); diff != "" {
		t.Fatalf("incremental aggregates differ from a rebuild (-rebuild +incremental):\n%s", diff)
	}
}

// demoExports generates n demo exports.
func demoExports(t *testing.T, n int, seed int64) []*ingest.Export {
	t.Helper()
	var all []*ingest.Export
	if err := demo.Generate(demo.Options{Reviews: n, Seed: seed}, func(i int, e *ingest.Export) error {
		all = append(all, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return all
}

// checkAgainstRebuild fails unless the aggregates equal a rebuild from the
// base tables and count exactly the current reviews.
func checkAgainstRebuild(t *testing.T, db *sql.DB) {
	t.Helper()
	kept := aggSnapshot(t, db)
	if got, want := count(t, db, `SELECT coalesce(sum(reviews), 0) FROM agg_totals`),
		count(t, db, `SELECT count(*) FROM reviews WHERE status = 'current'`); got != want {
		t.Fatalf("aggregates count %d reviews, the store has %d current", got, want)
	}
	if err := ingest.RebuildAggregates(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(aggSnapshot(t, db), kept); diff != "" {
		t.Fatalf("aggregates differ from a rebuild (-rebuild +kept):\n%s", diff)
	}
}

// TestBulkLoad checks the bulk mode of `collate ingest`: reviews stored as
// loading count nowhere until Finish counts them all at once, a changed
// export of a counted review supersedes it at once, and the figures then
// equal a rebuild.
func TestBulkLoad(t *testing.T) {
	ctx := context.Background()
	db := mustStore(t)
	all := demoExports(t, 120, 5)
	// Some reviews are already counted before the bulk load.
	mustWrite(t, ingest.NewWriter(ingest.WriterOptions{DB: db}), all[:40]...)
	before := aggSnapshot(t, db)

	w := ingest.NewWriter(ingest.WriterOptions{DB: db, Bulk: true})
	for lo := 40; lo < 100; lo += 25 {
		mustWrite(t, w, all[lo:min(lo+25, 100)]...)
	}
	if got := count(t, db, `SELECT count(*) FROM reviews WHERE status = 'loading'`); got != 60 {
		t.Fatalf("loading reviews = %d, want 60", got)
	}
	if diff := cmp.Diff(before, aggSnapshot(t, db)); diff != "" {
		t.Fatalf("loading reviews changed the figures before Finish:\n%s", diff)
	}

	// A changed export of a counted review supersedes it at once; one of a
	// loading review replaces it while still loading; an identical one of a
	// loading review changes nothing.
	counted, loading := *all[3], *all[45]
	counted.Recommendations, loading.Recommendations = nil, nil
	rs := mustWrite(t, w, &counted, &loading, all[46])
	if rs[0].Outcome != ingest.Superseded || rs[1].Outcome != ingest.Superseded || rs[2].Outcome != ingest.Unchanged {
		t.Fatalf("outcomes = %s, %s, %s; want superseded, superseded, unchanged", rs[0].Outcome, rs[1].Outcome, rs[2].Outcome)
	}
	if got := count(t, db, `SELECT count(*) FROM reviews WHERE review_id = ? AND status = 'current' AND version = 2`, counted.Review.ID); got != 1 {
		t.Fatalf("the changed counted review is not current at once")
	}
	if got := count(t, db, `SELECT count(*) FROM reviews WHERE review_id = ? AND status = 'loading' AND version = 2`, loading.Review.ID); got != 1 {
		t.Fatalf("the changed loading review is not loading as version 2")
	}
	checkAgainstRebuild(t, db) // rebuilds count current reviews only, as the kept figures do

	n, err := w.Finish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 60 {
		t.Fatalf("Finish counted %d reviews, want 60", n)
	}
	if got := count(t, db, `SELECT count(*) FROM reviews WHERE status = 'loading'`); got != 0 {
		t.Fatalf("%d reviews still loading after Finish", got)
	}
	if got := count(t, db, `SELECT count(*) FROM reviews WHERE status = 'current'`); got != 100 {
		t.Fatalf("current reviews = %d, want 100", got)
	}
	if err := w.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	checkAgainstRebuild(t, db)
}

// TestBulkLoadIntoEmptyStore checks that a bulk load into an empty store is
// counted already folded, so compacting has nothing left to do, also when it
// is counted a few regions at a time.
func TestBulkLoadIntoEmptyStore(t *testing.T) {
	defer ingest.SetChunkReviews(20)()
	ctx := context.Background()
	db := mustStore(t)
	w := ingest.NewWriter(ingest.WriterOptions{DB: db, Bulk: true, DeferCompaction: true})
	all := demoExports(t, 150, 6)
	for lo := 0; lo < len(all); lo += 40 {
		mustWrite(t, w, all[lo:min(lo+40, len(all))]...)
	}
	if n, err := w.Finish(ctx); err != nil || n != len(all) {
		t.Fatalf("Finish counted %d (%v), want %d", n, err, len(all))
	}
	var off string
	if err := db.QueryRow(`SELECT current_setting('disabled_compression_methods')`).Scan(&off); err != nil || off != "" {
		t.Fatalf("after Finish the database's disabled compression methods are %q (%v), want none", off, err)
	}
	if got := count(t, db, `SELECT count(*) FROM (SELECT board, year, kind, frame_id, frame_version, tree, code
		FROM agg_nodes GROUP BY ALL HAVING count(*) > 1)`); got != 0 {
		t.Fatalf("agg_nodes has %d keys with more than one row", got)
	}
	if got := count(t, db, `SELECT count(*) FROM (SELECT region, year, frame_id, frame_version, within, depth, a, b
		FROM agg_pairs_r GROUP BY ALL HAVING count(*) > 1)`); got != 0 {
		t.Fatalf("agg_pairs_r has %d keys with more than one row", got)
	}
	checkAgainstRebuild(t, db)
}

// TestFinishLoadingCompletesAnInterruptedLoad checks that reviews a bulk load
// stored but never counted, because the process stopped, are counted when
// the store is next opened.
func TestFinishLoadingCompletesAnInterruptedLoad(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "collate.duckdb")
	db, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	if err := ingest.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	all := demoExports(t, 30, 7)
	mustWrite(t, ingest.NewWriter(ingest.WriterOptions{DB: db, Bulk: true}), all...)
	db.Close() // stopped before Finish

	db, err = sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := count(t, db, `SELECT count(*) FROM reviews WHERE status = 'current'`); got != 0 {
		t.Fatalf("%d reviews counted before the load was finished", got)
	}
	n, err := ingest.FinishLoading(ctx, db)
	if err != nil || n != len(all) {
		t.Fatalf("FinishLoading counted %d (%v), want %d", n, err, len(all))
	}
	if n, err := ingest.FinishLoading(ctx, db); err != nil || n != 0 {
		t.Fatalf("FinishLoading again counted %d (%v), want 0", n, err)
	}
	checkAgainstRebuild(t, db)
}

// TestPairsOneWayInCodeOrder checks that the pairs and their roll-up keep
// each pair once, its codes in order (a < b), through a load, later writes
// and compaction: they are stored by code number, and numbers must compare
// as the codes do.
func TestPairsOneWayInCodeOrder(t *testing.T) {
	ctx := context.Background()
	db := mustStore(t)
	oneWay := func(when string) {
		t.Helper()
		for _, table := range []string{"agg_pairs", "agg_pairs_r"} {
			if got := count(t, db, `SELECT count(*) FROM `+table); got == 0 {
				t.Fatalf("%s: %s is empty", when, table)
			}
			if got := count(t, db, `SELECT count(*) FROM `+table+` WHERE a >= b`); got != 0 {
				t.Fatalf("%s: %s holds %d pairs the wrong way round", when, table, got)
			}
		}
	}
	w := ingest.NewWriter(ingest.WriterOptions{DB: db})
	mustWrite(t, w, demoExports(t, 60, 8)...)
	oneWay("after a load")
	mustWrite(t, w, demoExports(t, 20, 9)...)
	oneWay("after more reviews")
	if err := w.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	oneWay("after compaction")
	checkAgainstRebuild(t, db)
}

// TestFinishLoadingRecountsWhatChanged checks that reviews stored or
// superseded while FinishLoading counts the loading reviews outside its
// transaction are counted as they are when it stores the counts.
func TestFinishLoadingRecountsWhatChanged(t *testing.T) {
	ctx := context.Background()
	db := mustStore(t)
	all := demoExports(t, 40, 10)
	w := ingest.NewWriter(ingest.WriterOptions{DB: db, Bulk: true})
	mustWrite(t, w, all[:30]...)
	changed := *all[4]
	changed.Patterns, changed.Recommendations = nil, nil
	defer ingest.SetAfterCount(func() {
		// Ten more reviews, and a changed export of a loading one.
		mustWrite(t, ingest.NewWriter(ingest.WriterOptions{DB: db, Bulk: true}), append(all[30:], &changed)...)
	})()
	n, err := ingest.FinishLoading(ctx, db)
	if err != nil || n != len(all) {
		t.Fatalf("FinishLoading counted %d (%v), want %d", n, err, len(all))
	}
	if got := count(t, db, `SELECT count(*) FROM reviews WHERE status = 'loading'`); got != 0 {
		t.Fatalf("%d reviews still loading", got)
	}
	checkAgainstRebuild(t, db)
}

// TestFinishLoadingNumbersPartitionsOnce: an upload counted between a bulk
// load's count and its transaction numbers partitions of its own, so the
// numbers the count gave new partitions may be taken; the load is counted
// again and every partition keeps one number.
func TestFinishLoadingNumbersPartitionsOnce(t *testing.T) {
	ctx := context.Background()
	db := mustStore(t)
	all := demoExports(t, 31, 12)
	mustWrite(t, ingest.NewWriter(ingest.WriterOptions{DB: db, Bulk: true}), all[:30]...)
	defer ingest.SetAfterCount(func() {
		mustWrite(t, ingest.NewWriter(ingest.WriterOptions{DB: db}), all[30])
	})()
	n, err := ingest.FinishLoading(ctx, db)
	if err != nil || n != 30 {
		t.Fatalf("FinishLoading counted %d (%v), want 30", n, err)
	}
	if got := count(t, db, `SELECT count(*) - count(DISTINCT part) FROM agg_partitions`); got != 0 {
		t.Fatalf("%d partition numbers are given twice", got)
	}
	got := count(t, db, `SELECT count(*) FROM (SELECT DISTINCT board, region, nation, year, kind, frame_id, frame_version FROM agg_partitions)`)
	if want := count(t, db, `SELECT count(*) FROM agg_partitions`); got != want {
		t.Fatalf("agg_partitions names %d partitions in %d rows", got, want)
	}
	checkAgainstRebuild(t, db)
}

// TestCheckpointFoldsTheLogWithoutFSST checks the checkpoint a large load
// ends with: the write-ahead log is folded into the file, no segment it
// writes tries FSST, and the database's compression setting is as it was.
func TestCheckpointFoldsTheLogWithoutFSST(t *testing.T) {
	ctx := context.Background()
	db := mustStore(t)
	var path string
	if err := db.QueryRow(`SELECT path FROM duckdb_databases() WHERE database_name = current_database()`).Scan(&path); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`SET checkpoint_threshold = '1GB'`, `SET disabled_compression_methods = 'rle'`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	w := ingest.NewWriter(ingest.WriterOptions{DB: db, Bulk: true})
	mustWrite(t, w, demoExports(t, 80, 8)...)
	if n, err := w.Finish(ctx); err != nil || n != 80 {
		t.Fatalf("Finish counted %d (%v), want 80", n, err)
	}
	walSize := func() int64 {
		fi, err := os.Stat(path + ".wal")
		if errors.Is(err, fs.ErrNotExist) {
			return 0
		} else if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	if walSize() == 0 {
		t.Fatal("the load left nothing in the write-ahead log; the test needs it there")
	}
	if err := ingest.Checkpoint(ctx, db); err != nil {
		t.Fatal(err)
	}
	if n := walSize(); n != 0 {
		t.Fatalf("write-ahead log holds %d bytes after Checkpoint, want 0", n)
	}
	for _, table := range []string{"reviews", "episodes", "episode_factors", "patterns", "recommendations", "agg_nodes", "agg_flows"} {
		if got := count(t, db, `SELECT count(*) FROM pragma_storage_info('`+table+`') WHERE compression ILIKE '%fsst%'`); got != 0 {
			t.Errorf("%s has %d FSST segments after Checkpoint", table, got)
		}
	}
	var off string
	if err := db.QueryRow(`SELECT current_setting('disabled_compression_methods')`).Scan(&off); err != nil || !strings.EqualFold(off, "rle") {
		t.Fatalf("after Checkpoint the disabled compression methods are %q (%v), want rle as before", off, err)
	}
}
