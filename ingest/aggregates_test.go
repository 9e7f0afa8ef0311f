package ingest_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/ingest/demo"
)

// aggSnapshot reads every aggregate table folded by key, as analytics sums it.
func aggSnapshot(t *testing.T, db *sql.DB) map[string][]string {
	t.Helper()
	keys := map[string]int{"agg_totals": 7, "agg_nodes": 9, "agg_pairs": 11, "agg_flows": 10, "agg_recs": 10}
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
		q = strings.Replace(q, "GROUP BY ALL", "GROUP BY "+strings.Join(cols[:nk], ", "), 1)
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
