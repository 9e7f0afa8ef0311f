package analytics

import (
	"context"
	"database/sql"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/collate-project/collate/ingest"
)

// aggSnapshot reads every aggregate table in a fixed order.
func aggSnapshot(t *testing.T, db *sql.DB) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, tbl := range []string{"agg_totals", "agg_nodes", "agg_pairs", "agg_flows", "agg_recs"} {
		rows, err := db.Query(`SELECT CAST(COLUMNS(*) AS VARCHAR) FROM ` + tbl + ` ORDER BY ALL`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			line := ""
			for _, v := range vals {
				line += v.String + "|"
			}
			out[tbl] = append(out[tbl], line)
		}
		rows.Close()
	}
	return out
}

// The incremental refresh done by the writer must leave exactly what a full
// rebuild computes, through adds, supersessions and withdrawals.
func TestRefreshMatchesRebuild(t *testing.T) {
	db := mustDB(t)
	ctx := context.Background()
	fs := []fixture{
		{id: "R-001", board: "ENG-NE-NCL", year: 2020, family: "yes", stages: [3]string{"yes", "yes", "yes"},
			episodes: []string{"problematic:FL.WORK.03+p,FL.TEAM.02+p", "good:FL.TEAM.02+g"},
			patterns: []fxPattern{{typ: "P2", sub: "P2.3", priority: 1, episodes: []int{1, 2}}, {typ: "P4", proposed: "Something new", nature: "constructive", episodes: []int{2}}},
			recs:     []fxRec{{1, "local", []int{1}}, {3, "national", []int{1, 2}}}},
		{id: "R-002", board: "ENG-NE-NCL", year: 2020, episodes: []string{"mixed:FL.WORK.03+p,FL.WORK.03+g,LS.ORG.04+p"}},
		{id: "R-003", board: "ENG-NE-DUR", year: 2021, kind: "routine", episodes: []string{"not_judged:NG.POL.03+p"}},
	}
	mustWrite(t, db, exports(fs...)...)
	// Supersede R-002 with different content, withdraw R-003.
	fs[1].episodes = []string{"good:FL.FAM.04+g"}
	mustWrite(t, db, fs[1].export())
	w := ingest.NewWriter(ingest.WriterOptions{DB: db})
	if err := w.Withdraw(ctx, "R-003", "test", "tester"); err != nil {
		t.Fatal(err)
	}
	got := aggSnapshot(t, db)
	if len(got["agg_nodes"]) == 0 || len(got["agg_pairs"]) == 0 || len(got["agg_flows"]) == 0 || len(got["agg_recs"]) == 0 {
		t.Fatalf("aggregates not filled: %v", got)
	}
	if err := ingest.RebuildAggregates(ctx, db); err != nil {
		t.Fatal(err)
	}
	want := aggSnapshot(t, db)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("refresh differs from rebuild (-rebuild +refresh):\n%s", diff)
	}
	for _, l := range want["agg_totals"] {
		t.Log(l)
	}
	for _, l := range want["agg_nodes"] {
		t.Log(l)
	}
}
