package analytics

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"testing"
)

// BenchmarkNarrowed times the views that relate figures, for a collection
// of one region narrowed by agency (read from the base tables) and by kind
// (read from the aggregates), as the region's analyst asks, beside the same
// question as naive SQL. It needs a store it may save the collections in:
//
//	cp /tmp/collate-analytics-bench/demo-20000-seed1.duckdb /tmp/x.duckdb
//	COLLATE_NARROWED_STORE=/tmp/x.duckdb go test ./analytics -run '^$' -bench Narrowed -benchtime 20x
func BenchmarkNarrowed(b *testing.B) {
	path := os.Getenv("COLLATE_NARROWED_STORE")
	if path == "" {
		b.Skip("set COLLATE_NARROWED_STORE to a copy of a demo store")
	}
	ctx := context.Background()
	db, err := sql.Open("duckdb", path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	s := mustStore(b, db, DefaultK)
	s.reads = newReadMemo(0) // each run reads DuckDB, as the first view after a change does
	analyst := Viewer{Role: RoleRegionalAnalyst, Region: benchRegion, Name: "bench"}
	for _, c := range []struct {
		coll SavedCollection
		cond string
	}{
		{SavedCollection{Name: "bench-ldn-police", Regions: []string{benchRegion}, Agencies: []string{"Police"}}, "list_contains(agencies, 'Police')"},
		{SavedCollection{Name: "bench-ldn-routine", Regions: []string{benchRegion}, Kinds: []string{"routine"}}, "kind = 'routine'"},
	} {
		if _, err := s.SaveCollection(ctx, admin, c.coll); err != nil {
			b.Fatal(err)
		}
		sel := Selection{Collection: SavedPrefix + c.coll.Name}
		cr := `WITH cr AS (SELECT review_key, board, year FROM reviews WHERE status = 'current' AND region = '` + benchRegion + `'
			AND frame_id = 'scie-lt' AND frame_version = '2008.1' AND ` + c.cond + `)`
		cf := func(depth int) string {
			return fmt.Sprintf(`, cf AS (SELECT DISTINCT f.review_key, f.episode_no, c.ancestor AS code
				FROM cr JOIN episode_factors f USING (review_key)
				JOIN frame_closure c ON c.frame_id = 'scie-lt' AND c.frame_version = '2008.1' AND c.tree = 'factor' AND c.descendant = f.code
				JOIN frame_nodes n ON n.frame_id = 'scie-lt' AND n.frame_version = '2008.1' AND n.tree = 'factor' AND n.code = c.ancestor
				WHERE n.depth = %d)`, depth)
		}
		views := []struct {
			name  string
			run   func() error
			naive string
		}{
			{"co-occurrence", func() error {
				_, err := s.CoOccurrence(ctx, analyst, sel, CoOccurrenceOptions{})
				return err
			}, cr + cf(3) + ` SELECT x.code, y.code, count(*), count(DISTINCT x.review_key) FROM cf x JOIN cf y
				ON x.review_key = y.review_key AND x.episode_no = y.episode_no AND x.code < y.code
				GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT 200`},
			{"flows", func() error {
				_, err := s.Flows(ctx, analyst, sel, FlowOptions{})
				return err
			}, cr + cf(2) + `, pt AS (SELECT DISTINCT p.review_key, p.type_code, p.nature, unnest(p.episodes) AS episode_no
				FROM cr JOIN patterns p USING (review_key))
				SELECT code, type_code, nature, count(*), count(DISTINCT review_key) FROM cf JOIN pt USING (review_key, episode_no) GROUP BY ALL`},
			{"good practice", func() error {
				_, err := s.GoodPractice(ctx, analyst, sel, GoodPracticeOptions{})
				return err
			}, cr + cf(3) + ` SELECT code, count(*) FILTER (WHERE e.adequacy = 'good'), count(*) FILTER (WHERE e.adequacy = 'problematic')
				FROM cf JOIN episodes e USING (review_key, episode_no) GROUP BY code`},
			{"recommendations", func() error {
				_, err := s.Recommendations(ctx, analyst, sel)
				return err
			}, cr + ` SELECT '', x.kind, x.level, count(*), count(DISTINCT x.review_key) FROM cr JOIN recommendations x USING (review_key)
				GROUP BY CUBE (x.kind, x.level)
				UNION ALL
				SELECT p.type_code, x.kind, x.level, count(DISTINCT (x.review_key, x.rec_no)), count(DISTINCT x.review_key)
				FROM cr JOIN recommendations x USING (review_key)
				JOIN patterns p ON p.review_key = x.review_key AND list_contains(x.patterns, p.pattern_no)
				GROUP BY p.type_code, CUBE (x.kind, x.level)`},
			{"repeated lessons", func() error {
				_, err := s.RepeatedLessons(ctx, analyst, sel, RepeatedOptions{})
				return err
			}, cr + ` SELECT c.ancestor, count(DISTINCT cr.review_key), count(DISTINCT cr.board), count(DISTINCT cr.year), min(cr.year), max(cr.year)
				FROM cr JOIN patterns p USING (review_key)
				JOIN frame_closure c ON c.frame_id = 'scie-lt' AND c.frame_version = '2008.1' AND c.tree = 'pattern'
				     AND c.descendant = coalesce(p.sub_code, p.type_code)
				GROUP BY 1`},
			{"funnel (one factor)", func() error {
				_, err := s.Funnel(ctx, analyst, sel, FunnelOptions{Code: "FL.WORK.03"})
				return err
			}, cr + ` SELECT board, count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM episode_factors f
				WHERE f.review_key = cr.review_key AND f.code = 'FL.WORK.03')) FROM cr GROUP BY board`},
			{"process", func() error {
				_, err := s.Process(ctx, analyst, sel)
				return err
			}, `SELECT kind, family_participation, stage_preliminary, stage_interim, stage_final, count(*) FROM reviews
				WHERE status = 'current' AND region = '` + benchRegion + `' AND ` + c.cond + ` GROUP BY ALL`},
		}
		for _, v := range views {
			b.Run(c.coll.Name+"/"+v.name, func(b *testing.B) {
				pairLoop(b, v.run, func() error {
					rows, err := db.QueryContext(ctx, v.naive)
					if err != nil {
						return err
					}
					for rows.Next() {
					}
					rows.Close()
					return rows.Err()
				})
			})
		}
	}
}
