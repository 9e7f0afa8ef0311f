package analytics

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/ingest/demo"
	"github.com/collate-project/collate/ingest/errs"
)

// searchStore holds 240 demo reviews, written through the real ingest path.
func searchStore(t *testing.T) (*Store, *sql.DB) {
	t.Helper()
	db := mustDB(t)
	var es []*ingest.Export
	if err := demo.Generate(demo.Options{Reviews: 240, Seed: 3, FirstYear: 2019, LastYear: 2024}, func(i int, e *ingest.Export) error {
		es = append(es, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, db, es...)
	return mustStore(t, db, 6), db
}

// naiveRecs lists, with plain SQL over the base tables, the recommendations
// of current reviews in a region (or everywhere) holding every word, newest
// review first: what a search must find.
func naiveRecs(t *testing.T, db *sql.DB, region string, words []string) []string {
	t.Helper()
	q := `SELECT r.review_id || '/' || x.rec_no FROM recommendations x JOIN reviews r USING (review_key)
		WHERE r.status = 'current' AND (? = '' OR r.region = ?)`
	args := []any{region, region}
	for _, w := range words {
		q += ` AND lower(x.text) LIKE '%' || ? || '%'`
		args = append(args, strings.ToLower(w))
	}
	return mustStrings(t, db, q+` ORDER BY r.review_key DESC, x.rec_no`, args...)
}

func mustStrings(t *testing.T, db *sql.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// allRecs pages through a search, following ContinueBefore where a page
// stopped short, and lists what it found.
func allRecs(ctx context.Context, t *testing.T, s *Store, v Viewer, sel Selection, q RecommendationQuery) ([]string, int) {
	t.Helper()
	got := []string{}
	requests := 0
	for page, before := 1, int64(0); ; {
		q.Page, q.Before, q.PerPage = page, before, 7
		p, err := s.SearchRecommendations(ctx, v, sel, q)
		if err != nil {
			t.Fatal(err)
		}
		requests++
		for _, r := range p.Recommendations {
			got = append(got, fmt.Sprintf("%s/%d", r.ReviewID, r.Number))
		}
		switch {
		case p.ContinueBefore > 0:
			page, before = 1, p.ContinueBefore
		case page < p.Pages:
			page++
		default:
			return got, requests
		}
		if requests > 2000 {
			t.Fatal("the search never ends")
		}
	}
}

func TestSearchRecommendations(t *testing.T) {
	s, db := searchStore(t)
	ctx := context.Background()
	for _, c := range []struct {
		name, region, text string
		budget             int64
	}{
		{"every recommendation, UK", "", "", 0},
		{"words, UK", "", "Escalation route", 0},
		{"words, region", "ENG-NE", "safeguarding", 0},
		{"words, region, small budget", "ENG-NE", "safeguarding", 16},
		{"a word found nowhere, small budget", "", "zebra", 16},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := withKeyBudget(ctx, c.budget)
			coll := c.region
			if coll == "" {
				coll = UK
			}
			want := naiveRecs(t, db, c.region, strings.Fields(c.text))
			got, requests := allRecs(ctx, t, s, admin, Selection{Collection: coll}, RecommendationQuery{Text: c.text})
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("search found (-naive SQL +search):\n%s", diff)
			}
			if c.budget > 0 && requests < 3 {
				t.Errorf("a budget of %d keys took %d requests; the walk did not stop early", c.budget, requests)
			}
			first, err := s.SearchRecommendations(ctx, admin, Selection{Collection: coll}, RecommendationQuery{Text: c.text})
			if err != nil {
				t.Fatal(err)
			}
			if c.budget == 0 && (!first.TotalExact || first.Total != len(want)) {
				t.Errorf("total %d (exact %v), want %d", first.Total, first.TotalExact, len(want))
			}
		})
	}
}

func TestSearchFacetsFromAggregates(t *testing.T) {
	s, db := searchStore(t)
	ctx := context.Background()
	for _, coll := range []string{UK, "ENG", "ENG-NE", "ENG-NE-NCL"} {
		t.Run(coll, func(t *testing.T) {
			where := `r.status = 'current'`
			var args []any
			if n, ok := s.geo.lookup(coll); ok && n.level != LevelUK {
				where += ` AND (r.nation = ? OR r.region = ? OR r.board = ?)`
				args = append(args, coll, coll, coll)
			}
			// Recommendations of kind 1 or 2, counted by level and by year.
			p, err := s.SearchRecommendations(ctx, admin, Selection{Collection: coll}, RecommendationQuery{Kinds: []int{1, 2}})
			if err != nil {
				t.Fatal(err)
			}
			byLevel := mustStrings(t, db, `SELECT x.level || '=' || count(*) FROM recommendations x JOIN reviews r USING (review_key)
				WHERE `+where+` AND x.kind IN (1, 2) GROUP BY x.level`, args...)
			byYear := mustStrings(t, db, `SELECT r.year || '=' || count(*) FROM recommendations x JOIN reviews r USING (review_key)
				WHERE `+where+` AND x.kind IN (1, 2) GROUP BY r.year`, args...)
			slices.Sort(byLevel)
			slices.Sort(byYear)
			if diff := cmp.Diff(byLevel, facetStrings(p.Facets.Levels)); diff != "" {
				t.Errorf("levels (-naive +facets):\n%s", diff)
			}
			if diff := cmp.Diff(byYear, facetStrings(p.Facets.Years)); diff != "" {
				t.Errorf("years (-naive +facets):\n%s", diff)
			}
			place := map[string]string{UK: "r.nation", "ENG": "r.region"}[coll]
			if place == "" {
				place = "r.board"
			}
			byPlace := mustStrings(t, db, `SELECT `+place+` || '=' || count(*) FROM recommendations x JOIN reviews r USING (review_key)
				WHERE `+where+` AND x.kind IN (1, 2) GROUP BY `+place, args...)
			byKind := mustStrings(t, db, `SELECT r.kind || '=' || count(*) FROM recommendations x JOIN reviews r USING (review_key)
				WHERE `+where+` AND x.kind IN (1, 2) GROUP BY r.kind`, args...)
			slices.Sort(byPlace)
			slices.Sort(byKind)
			if diff := cmp.Diff(byPlace, facetStrings(p.Facets.Places)); diff != "" {
				t.Errorf("places (-naive +facets):\n%s", diff)
			}
			if diff := cmp.Diff(byKind, facetStrings(p.Facets.ReviewKinds)); diff != "" {
				t.Errorf("kinds of review (-naive +facets):\n%s", diff)
			}
			if want := sumFacet(byYear); !p.TotalExact || p.Total != want {
				t.Errorf("total %d (exact %v), want %d", p.Total, p.TotalExact, want)
			}
			// Unsafe patterns of type P4, by type and by nature.
			pp, err := s.SearchPatterns(ctx, admin, Selection{Collection: coll}, PatternQuery{Code: "P4", Nature: ingest.NatureUnsafe})
			if err != nil {
				t.Fatal(err)
			}
			byType := mustStrings(t, db, `SELECT x.type_code || '=' || count(*) FROM patterns x JOIN reviews r USING (review_key)
				WHERE `+where+` AND x.nature = 'unsafe' GROUP BY x.type_code`, args...)
			byNature := mustStrings(t, db, `SELECT x.nature || '=' || count(*) FROM patterns x JOIN reviews r USING (review_key)
				WHERE `+where+` AND x.type_code = 'P4' GROUP BY x.nature`, args...)
			slices.Sort(byType)
			slices.Sort(byNature)
			if diff := cmp.Diff(byType, facetStrings(pp.Facets.PatternTypes)); diff != "" {
				t.Errorf("pattern types (-naive +facets):\n%s", diff)
			}
			if diff := cmp.Diff(byNature, facetStrings(pp.Facets.Natures)); diff != "" {
				t.Errorf("natures (-naive +facets):\n%s", diff)
			}
			want := naiveCount(t, db, `SELECT count(*) FROM patterns x JOIN reviews r USING (review_key)
				WHERE `+where+` AND x.nature = 'unsafe' AND x.type_code = 'P4'`, args...)
			if pp.Total != want || len(pp.Patterns) != min(want, defaultPerPage) {
				t.Errorf("patterns: total %d, %d listed; want %d", pp.Total, len(pp.Patterns), want)
			}
			for _, x := range pp.Patterns {
				if x.Type != "P4" || x.Nature != ingest.NatureUnsafe || x.ReviewID == "" || x.BoardName == "" {
					t.Errorf("pattern %+v does not match the query", x)
				}
			}
		})
	}
}

func naiveCount(t *testing.T, db *sql.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func facetStrings(fs []FacetValue) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s=%d", f.Value, f.Count))
	}
	slices.Sort(out)
	return out
}

func sumFacet(xs []string) int {
	n := 0
	for _, x := range xs {
		var v int
		fmt.Sscanf(x[strings.Index(x, "=")+1:], "%d", &v)
		n += v
	}
	return n
}

func TestSearchScope(t *testing.T) {
	s, _ := searchStore(t)
	ctx := context.Background()
	for _, c := range []struct {
		name string
		v    Viewer
		coll string
		ok   bool
	}{
		{"analyst, own region", neAnalyst, "ENG-NE", true},
		{"analyst, nation", neAnalyst, "ENG", false},
		{"board member, own board", nclMember, "ENG-NE-NCL", true},
		{"board member, region", nclMember, "ENG-NE", false},
		{"researcher without grant", Viewer{Role: RoleNationalResearcher}, UK, false},
		{"public", publicV, "ENG-NE-NCL", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := s.SearchPatterns(ctx, c.v, Selection{Collection: c.coll}, PatternQuery{Text: "work"})
			r, rerr := s.SearchRecommendations(ctx, c.v, Selection{Collection: c.coll}, RecommendationQuery{})
			if !c.ok {
				if !errors.Is(err, errs.ErrForbidden) || !errors.Is(rerr, errs.ErrForbidden) {
					t.Fatalf("errors %v and %v, want forbidden", err, rerr)
				}
				return
			}
			if err != nil || rerr != nil {
				t.Fatal(err, rerr)
			}
			if len(p.Patterns) == 0 || len(r.Recommendations) == 0 {
				t.Fatal("nothing found")
			}
			for _, x := range p.Patterns {
				if !strings.HasPrefix(x.Board, c.coll) {
					t.Errorf("pattern of %s outside %s", x.Board, c.coll)
				}
			}
			for _, x := range r.Recommendations {
				if !strings.HasPrefix(x.Board, c.coll) {
					t.Errorf("recommendation of %s outside %s", x.Board, c.coll)
				}
			}
		})
	}
}

// TestEpisodeTextSearch checks the walk of a text search against plain SQL,
// with the budget low enough that it stops and goes on many times.
func TestEpisodeTextSearch(t *testing.T) {
	s, db := searchStore(t)
	want := mustStrings(t, db, `SELECT r.review_id || '/' || e.episode_no FROM episodes e JOIN reviews r USING (review_key)
		WHERE r.status = 'current' AND r.region = 'ENG-NE' AND (lower(e.title) LIKE '%school%' OR lower(e.description) LIKE '%school%')
		ORDER BY r.review_key DESC, e.episode_no`)
	for _, budget := range []int64{0, 8} {
		ctx := withKeyBudget(context.Background(), budget)
		var got []string
		for page, before, n := 1, int64(0), 0; n < 1000; n++ {
			p, err := s.Episodes(ctx, neAnalyst, Selection{Collection: "ENG-NE"}, EpisodeQuery{Text: "SCHOOL", Page: page, PerPage: 5, Before: before})
			if err != nil {
				t.Fatal(err)
			}
			if budget == 0 && n == 0 && (!p.TotalExact || p.Total != len(want)) {
				t.Errorf("total %d (exact %v), want %d", p.Total, p.TotalExact, len(want))
			}
			for _, e := range p.Episodes {
				got = append(got, fmt.Sprintf("%s/%d", e.ReviewID, e.Number))
			}
			if p.ContinueBefore > 0 {
				page, before = 1, p.ContinueBefore
			} else if page < p.Pages {
				page++
			} else {
				break
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("budget %d (-naive SQL +search):\n%s", budget, diff)
		}
	}
}

// readParquet saves a download and reads it back with DuckDB's read_parquet:
// its rows as strings, and its key-value metadata.
func readParquet(t *testing.T, db *sql.DB, f *File) ([]string, map[string]string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), f.Name)
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(out, f)
	out.Close()
	if err != nil || n != f.Size {
		t.Fatalf("copied %d of %d bytes: %v", n, f.Size, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	got := mustStrings(t, db, `SELECT to_json(p)::VARCHAR FROM read_parquet(?) p`, path)
	meta := map[string]string{}
	for _, kv := range mustStrings(t, db, `SELECT decode(key) || '=' || decode(value) FROM parquet_kv_metadata(?)`, path) {
		k, v, _ := strings.Cut(kv, "=")
		meta[k] = v
	}
	return got, meta
}

func TestParquetDownloads(t *testing.T) {
	s, db := searchStore(t)
	ctx := context.Background()
	sel := Selection{Collection: "ENG-NE"}

	eq := EpisodeQuery{Text: "school", PerPage: 50}
	page, err := s.Episodes(ctx, neAnalyst, sel, eq)
	if err != nil {
		t.Fatal(err)
	}
	f, err := s.EpisodesParquet(ctx, neAnalyst, sel, eq)
	if err != nil {
		t.Fatal(err)
	}
	got, meta := readParquet(t, db, f)
	var want []string
	for _, e := range page.Episodes {
		want = append(want, mustJSONRow(t, db, `SELECT to_json({review_id: ?, version: ?::INTEGER, year: ?::INTEGER, board: ?, board_name: ?, kind: ?,
			episode: ?::INTEGER, title: ?, adequacy: ?, factors: ?::VARCHAR[], excerpt: ?})::VARCHAR`,
			e.ReviewID, e.Version, e.Year, e.Board, e.BoardName, e.Kind, e.Number, e.Title, e.Adequacy, e.Factors, e.Excerpt))
	}
	if len(want) == 0 {
		t.Fatal("no episodes to download")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("episodes.parquet (-JSON +parquet):\n%s", diff)
	}
	for k, v := range map[string]string{"collate.data_version": page.Provenance.DataVersion, "collate.frame": page.Provenance.Frame,
		"collate.collection": "ENG-NE", "collate.suppression_policy": "k=6; suppressed=false", "collate.total": fmt.Sprint(page.Total)} {
		if meta[k] != v {
			t.Errorf("metadata %s = %q, want %q", k, meta[k], v)
		}
	}
	if _, err := os.Stat(filepath.Dir(f.f.Name())); !os.IsNotExist(err) {
		t.Errorf("the temporary file is still there after Close: %v", err)
	}

	rq := RecommendationQuery{Levels: []string{"national", "regional"}, PerPage: 30}
	rp, err := s.SearchRecommendations(ctx, neAnalyst, sel, rq)
	if err != nil {
		t.Fatal(err)
	}
	f, err = s.RecommendationsParquet(ctx, neAnalyst, sel, rq)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = readParquet(t, db, f)
	want = nil
	for _, r := range rp.Recommendations {
		want = append(want, mustJSONRow(t, db, `SELECT to_json({review_id: ?, version: ?::INTEGER, year: ?::INTEGER, board: ?, board_name: ?,
			review_kind: ?, recommendation: ?::INTEGER, kind: ?::INTEGER, level: ?, pattern_types: ?::VARCHAR[], excerpt: ?})::VARCHAR`,
			r.ReviewID, r.Version, r.Year, r.Board, r.BoardName, r.ReviewKind, r.Number, r.Kind, r.Level, r.PatternTypes, r.Excerpt))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("recommendations.parquet (-JSON +parquet):\n%s", diff)
	}

	pq := PatternQuery{Code: "P4", PerPage: 25}
	pp, err := s.SearchPatterns(ctx, neAnalyst, sel, pq)
	if err != nil {
		t.Fatal(err)
	}
	f, err = s.PatternsParquet(ctx, neAnalyst, sel, pq)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = readParquet(t, db, f)
	if len(got) != len(pp.Patterns) || len(got) == 0 {
		t.Fatalf("patterns.parquet has %d rows, the search %d", len(got), len(pp.Patterns))
	}
	for i, x := range pp.Patterns {
		if !strings.Contains(got[i], `"review_id":"`+x.ReviewID+`"`) || !strings.Contains(got[i], fmt.Sprintf(`"pattern":%d,`, x.Number)) {
			t.Errorf("row %d: %s, want %s pattern %d", i, got[i], x.ReviewID, x.Number)
		}
	}

	// Outside the viewer's scope there is nothing to download.
	if _, err := s.EpisodesParquet(ctx, neAnalyst, Selection{Collection: "ENG"}, eq); !errors.Is(err, errs.ErrForbidden) {
		t.Errorf("download for the nation: %v, want forbidden", err)
	}
	if _, err := s.RecommendationsParquet(ctx, publicV, sel, rq); !errors.Is(err, errs.ErrForbidden) {
		t.Errorf("public download: %v, want forbidden", err)
	}
}

func mustJSONRow(t *testing.T, db *sql.DB, q string, args ...any) string {
	t.Helper()
	var s string
	if err := db.QueryRow(q, args...).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestReviewList checks the review list, read from the aggregates a year at
// a time, against plain SQL over the reviews: the pages in order, the total
// and every facet.
func TestReviewList(t *testing.T) {
	s, db := searchStore(t)
	ctx := context.Background()
	for _, c := range []struct {
		name, coll string
		q          ReviewQuery
		cond       string
		args       []any
	}{
		{"UK", UK, ReviewQuery{}, "true", nil},
		{"region", "ENG-NE", ReviewQuery{}, "region = 'ENG-NE'", nil},
		{"board", "ENG-NE-NCL", ReviewQuery{}, "board = 'ENG-NE-NCL'", nil},
		{"kinds", "ENG", ReviewQuery{Kinds: []string{"routine", "positive"}}, "nation = 'ENG' AND kind IN ('routine', 'positive')", nil},
		{"agency", UK, ReviewQuery{Agencies: []string{"Police"}}, "list_contains(agencies, 'Police')", nil},
		{"words", UK, ReviewQuery{Text: "escalation"}, `EXISTS (SELECT 1 FROM recommendations x WHERE x.review_key = reviews.review_key AND x.text ILIKE '%escalation%')
			OR review_id ILIKE '%escalation%' OR array_to_string(questions, ' ') ILIKE '%escalation%'`, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			where := "status = 'current' AND (" + c.cond + ")"
			want := mustStrings(t, db, `SELECT review_id FROM reviews WHERE `+where+` ORDER BY year DESC, review_id`, c.args...)
			if len(want) == 0 {
				t.Fatal("nothing to list")
			}
			var got []string
			var first *ReviewPage
			for page := 1; page <= 100; page++ {
				q := c.q
				q.Page, q.PerPage = page, 9
				p, err := s.Reviews(ctx, admin, Selection{Collection: c.coll}, q)
				if err != nil {
					t.Fatal(err)
				}
				if first == nil {
					first = p
				}
				for _, r := range p.Reviews {
					got = append(got, r.ID)
				}
				if page >= p.Pages {
					break
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("pages (-SQL +list):\n%s", diff)
			}
			if first.Total != len(want) {
				t.Errorf("total %d, want %d", first.Total, len(want))
			}
			for _, f := range []struct {
				name string
				expr string
				got  []FacetValue
			}{
				{"nations", "nation", first.Facets.Nations}, {"regions", "region", first.Facets.Regions}, {"boards", "board", first.Facets.Boards},
				{"years", "year::VARCHAR", first.Facets.Years}, {"kinds", "kind", first.Facets.Kinds},
				{"agencies", "unnest(agencies)", first.Facets.Agencies},
			} {
				want := mustStrings(t, db, `SELECT v || '=' || count(*) FROM (SELECT `+f.expr+` AS v FROM reviews WHERE `+where+`) GROUP BY v`, c.args...)
				slices.Sort(want)
				if diff := cmp.Diff(want, facetStrings(f.got)); diff != "" {
					t.Errorf("%s (-SQL +facet):\n%s", f.name, diff)
				}
			}
		})
	}
}
