package analytics

import (
	"context"
	"database/sql"
	"strings"
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
	checkRollups(t, db)
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
	checkRollups(t, db)
}

// checkRollups checks that each roll-up, folded, equals its table summed by region and year.
func checkRollups(t *testing.T, db *sql.DB) {
	t.Helper()
	keys := map[string][]string{
		"agg_nodes": {"tree", "code"}, "agg_pairs": {"within", "depth", "a", "b"},
		"agg_flows": {"factor_type", "pattern_type", "nature"}, "agg_recs": {"rec_kind", "level", "pattern_type"},
	}
	for tbl, k := range keys {
		rows, err := db.Query(`SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position`, tbl)
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
		group := "region, nation, year, frame_id, frame_version, " + strings.Join(k, ", ")
		var sums []string
		for _, c := range cols[7+len(k):] {
			sums = append(sums, "coalesce(sum("+c+"), 0)")
		}
		q := func(from string) []string {
			where := ""
			if tbl == "agg_pairs" {
				where = " WHERE a < b" // the roll-up also holds (b, a)
			}
			rows, err := db.Query(`SELECT CAST(COLUMNS(*) AS VARCHAR) FROM (SELECT ` + group + `, ` + strings.Join(sums, ", ") +
				` FROM ` + from + where + ` GROUP BY ` + group + ` HAVING sum(reviews) <> 0) ORDER BY ALL`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var out []string
			n := len(strings.Split(group, ",")) + len(sums)
			for rows.Next() {
				vals := make([]sql.NullString, n)
				ptrs := make([]any, n)
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
				out = append(out, line)
			}
			return out
		}
		if diff := cmp.Diff(q(tbl), q(tbl+"_r")); diff != "" {
			t.Errorf("%s_r differs from %s rolled up (-table +roll-up):\n%s", tbl, tbl, diff)
		}
	}
}
