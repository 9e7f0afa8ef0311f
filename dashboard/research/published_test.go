package research_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/collate-project/collate/analytics"
	"github.com/collate-project/collate/dashboard/research"
	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/ingest/demo"
)

// mustDemoFixture is a store holding the demo collection (300 reviews,
// fixed seed) loaded through ingest, and analytics over it.
func mustDemoFixture(t testing.TB) (*fixture, *analytics.Store) {
	t.Helper()
	f := mustFixture(t)
	var items []ingest.Item
	err := demo.Generate(demo.Options{Reviews: 300, Seed: 1, FirstYear: 2018, LastYear: 2024}, func(i int, e *ingest.Export) error {
		items = append(items, ingest.Item{Export: e, Source: e.Review.ID + ".json", Format: "json", By: "test"})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := f.writer.Write(context.Background(), items)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Err != nil {
			t.Fatalf("load %s: %v", r.ReviewID, r.Err)
		}
	}
	a, err := analytics.New(analytics.Options{DB: f.db})
	if err != nil {
		t.Fatal(err)
	}
	return f, a
}

// TestPublishedTier queries, as a researcher without the unsuppressed grant,
// the suppressed aggregates that analytics publishes, and tries to get a
// withheld figure back out of them with SQL.
func TestPublishedTier(t *testing.T) {
	f, a := mustDemoFixture(t)
	s := f.sandbox(t, research.Limits{Timeout: 20e9}, research.PublishedTables(a))
	ctx := context.Background()
	rows := func(q string) [][]any {
		t.Helper()
		return mustQuery(t, s, ungranted, q).Rows
	}
	num := func(v any) string { b, _ := json.Marshal(v); return string(b) }

	t.Run("the tables are there, for every place", func(t *testing.T) {
		got := num(rows(`SELECT table_name FROM duckdb_tables() WHERE table_name IN ('collections', 'factor_recurrence', 'pattern_recurrence') ORDER BY 1`))
		if got != `[["collections"],["factor_recurrence"],["pattern_recurrence"]]` {
			t.Fatalf("published tables: %s", got)
		}
		got = num(rows(`SELECT (SELECT count(*) FROM collections), (SELECT count(*) FROM geography) + (SELECT count(DISTINCT region) FROM geography) + (SELECT count(DISTINCT nation) FROM geography) + 1`))
		var pair [][]int
		_ = json.Unmarshal([]byte(got), &pair)
		if len(pair) != 1 || pair[0][0] != pair[0][1] {
			t.Fatalf("collections: %s, want the UK and every nation, region and board", got)
		}
	})

	t.Run("a suppressed figure is NULL, never 0, and analytics says c", func(t *testing.T) {
		got := rows(`SELECT collection, code, reviews, suppressed FROM factor_recurrence WHERE suppressed ORDER BY collection, code LIMIT 1`)
		if len(got) != 1 {
			t.Fatal("no suppressed figure at all in 300 reviews: the test would prove nothing")
		}
		coll, code := got[0][0].(string), got[0][1].(string)
		if got[0][2] != nil || got[0][3] != true {
			t.Fatalf("suppressed row %v: want reviews NULL", got[0])
		}
		rec, err := a.Recurrence(ctx, research.PublishedViewer, analytics.Selection{Collection: coll}, analytics.RecurrenceOptions{Tree: "factor"})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rec.Rows {
			if r.Code == code {
				if b, _ := json.Marshal(r.Reviews); string(b) != `"c"` {
					t.Fatalf("analytics publishes %s %s as %s, the table as NULL", coll, code, b)
				}
			}
		}
		// The true count behind it is not 0: 0 would be published as 0.
		truth, err := a.Recurrence(ctx, analytics.Viewer{Role: analytics.RoleAdmin, Unsuppressed: true}, analytics.Selection{Collection: coll}, analytics.RecurrenceOptions{Tree: "factor"})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range truth.Rows {
			if n, _ := r.Reviews.Value(); r.Code == code && n == 0 {
				t.Fatalf("%s %s is withheld, but its true count is 0", coll, code)
			}
		}
		if n := rows(`SELECT count(*) FROM factor_recurrence WHERE reviews IS NULL AND NOT suppressed`); num(n) != `[[0]]` {
			t.Fatalf("NULL reviews not marked suppressed: %s", num(n))
		}
	})

	t.Run("published figures are analytics' figures", func(t *testing.T) {
		for _, coll := range []string{"UK", "ENG", "ENG-NE", "ENG-NE-NCL", "WLS-CV"} {
			rec, err := a.Recurrence(ctx, research.PublishedViewer, analytics.Selection{Collection: coll}, analytics.RecurrenceOptions{Tree: "pattern"})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{}
			for _, r := range rec.Rows {
				b, _ := json.Marshal(r.Reviews)
				want[r.Code] = string(b)
			}
			for _, row := range rows(`SELECT code, coalesce(reviews::VARCHAR, '"c"') FROM pattern_recurrence WHERE collection = '` + coll + `'`) {
				if want[row[0].(string)] != row[1] {
					t.Errorf("%s %s: table %v, analytics %s", coll, row[0], row[1], want[row[0].(string)])
				}
				delete(want, row[0].(string))
			}
			if len(want) != 0 {
				t.Errorf("%s: nodes missing from pattern_recurrence: %v", coll, want)
			}
		}
	})

	// Sum of parts against the total: where a parent place's count is
	// published and exactly one of its children's is not, parent minus the
	// other children gives the withheld count away. Secondary suppression
	// must leave no such relation, for any node and for the totals.
	t.Run("no withheld figure is the difference of published ones", func(t *testing.T) {
		for _, table := range []string{"factor_recurrence", "pattern_recurrence"} {
			q := `WITH kids AS (
				SELECT c.parent AS parent, r.code, count(*) FILTER (WHERE r.reviews IS NULL) AS unknown, count(*) AS n,
				       sum(r.reviews) AS known_sum
				FROM ` + table + ` r JOIN collections c USING (collection)
				WHERE c.parent IS NOT NULL GROUP BY ALL)
			SELECT k.parent, k.code, p.reviews - k.known_sum AS recovered, k.unknown, k.n
			FROM kids k JOIN ` + table + ` p ON p.collection = k.parent AND p.code = k.code
			WHERE p.reviews IS NOT NULL`
			var exposed, protected int
			for _, row := range rows(q + ` ORDER BY 1, 2`) {
				switch num(row[3]) {
				case "1":
					exposed++
					if exposed <= 3 {
						t.Errorf("%s: %v %v has one withheld child, which is %v", table, row[0], row[1], row[2])
					}
				case "0":
				default:
					protected++
				}
			}
			if exposed > 0 {
				t.Errorf("%s: %d withheld figures recoverable by subtraction", table, exposed)
			}
			if protected == 0 {
				t.Errorf("%s: no published total has withheld parts: the check proves nothing", table)
			}
		}
		// Across the node tree: a column for which every fully published
		// family of children adds up to its parent is an additive relation
		// there, and must not leave a published parent with exactly one
		// withheld child either. (Mentions were such a column, which is why
		// the tables leave them out.)
		for _, table := range []string{"factor_recurrence", "pattern_recurrence"} {
			for _, col := range []string{"reviews", "episodes"} {
				q := `WITH k AS (
					SELECT collection, parent_code, sum(` + col + `) AS s, count(*) FILTER (WHERE ` + col + ` IS NULL) AS unknown
					FROM ` + table + ` WHERE parent_code IS NOT NULL GROUP BY ALL)
				SELECT count(*) FILTER (WHERE k.unknown = 0 AND p.` + col + ` = k.s),
				       count(*) FILTER (WHERE k.unknown = 0 AND p.` + col + ` <> k.s),
				       count(*) FILTER (WHERE k.unknown = 1)
				FROM k JOIN ` + table + ` p ON p.collection = k.collection AND p.code = k.parent_code
				WHERE p.` + col + ` IS NOT NULL`
				got := rows(q)[0]
				additive, notAdditive, single := num(got[0]), num(got[1]), num(got[2])
				if notAdditive == "0" && additive != "0" && single != "0" {
					t.Errorf("%s.%s adds up over the node tree, and %s published parents have exactly one withheld child", table, col, single)
				}
			}
		}
		if _, err := s.Query(ctx, ungranted, `SELECT mentions FROM factor_recurrence`); err == nil {
			t.Error("factor_recurrence publishes mentions, which add up over the node tree")
		}
		for _, col := range []string{"reviews_received", "reviews_coded", "episodes"} {
			q := `SELECT c.parent, count(*) FILTER (WHERE c.` + col + ` IS NULL) AS unknown
				FROM collections c JOIN collections p ON p.collection = c.parent
				WHERE p.` + col + ` IS NOT NULL GROUP BY ALL HAVING unknown = 1`
			if got := rows(q); len(got) != 0 {
				t.Errorf("collections.%s: a single withheld child under %v", col, got)
			}
		}
	})
}

// BenchmarkPublishedTier measures what a data change costs the first research
// query after it in the published tier: asking analytics for every published
// figure, writing the snapshot and running one query (demo collection of 300
// reviews; each iteration sees a new data version). Report the load average
// beside the figure: the machine is shared.
func BenchmarkPublishedTier(b *testing.B) {
	f, a := mustDemoFixture(b)
	version := 0
	s, err := research.New(research.Options{Source: f.db, Audit: f.auth, Worker: []string{os.Args[0]}, TempDir: f.tmp,
		Published: research.PublishedTables(a),
		Version:   func(context.Context) (string, error) { version++; return fmt.Sprint(version), nil }})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Query(context.Background(), ungranted, `SELECT count(*) FROM factor_recurrence`); err != nil {
			b.Fatal(err)
		}
	}
}
