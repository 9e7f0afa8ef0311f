package analytics

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/collate-project/collate/ingest/errs"
	"github.com/collate-project/collate/schemas"
)

// narrowedCase is a saved collection narrowed by kind or agency, with the
// same collection as naive SQL over reviews, and the regional analyst (if
// any) who sees it in full.
type narrowedCase struct {
	coll    SavedCollection
	where   string // the collection's reviews, as a condition on the reviews table
	analyst string // a region holding the whole collection
}

func narrowedCases() []narrowedCase {
	return []narrowedCase{
		{SavedCollection{Name: "ldn-police", Regions: []string{"ENG-LDN"}, Agencies: []string{"Police"}},
			"region = 'ENG-LDN' AND list_contains(agencies, 'Police')", "ENG-LDN"},
		{SavedCollection{Name: "ldn-nw-midwives", Regions: []string{"ENG-LDN", "ENG-NW"}, Agencies: []string{"Midwifery", "Nursery"}},
			"region IN ('ENG-LDN', 'ENG-NW') AND list_has_any(agencies, ['Midwifery', 'Nursery'])", ""},
		{SavedCollection{Name: "eng-routine-school", Nations: []string{"ENG"}, Kinds: []string{"routine", "innovation"}, Agencies: []string{"Primary school"}},
			"nation = 'ENG' AND kind IN ('routine', 'innovation') AND list_contains(agencies, 'Primary school')", ""},
		{SavedCollection{Name: "uk-police-recent", Agencies: []string{"Police"}, From: 2020},
			"year >= 2020 AND list_contains(agencies, 'Police')", ""},
		{SavedCollection{Name: "ldn-routine", Regions: []string{"ENG-LDN"}, Kinds: []string{"routine"}},
			"region = 'ENG-LDN' AND kind = 'routine'", "ENG-LDN"},
		{SavedCollection{Name: "eng-statutory-positive", Nations: []string{"ENG"}, Kinds: []string{"statutory", "positive"}},
			"nation = 'ENG' AND kind IN ('statutory', 'positive')", ""},
	}
}

// TestNarrowedRelationsAgainstSQL checks the views that relate figures
// (co-occurrence, flows, good practice, recommendations, repeated lessons,
// the funnel, process) of collections narrowed by agency (read from the base
// tables) and by kind (read from the aggregates) against naive SQL over the
// base tables, for a viewer with the unsuppressed grant and for the
// regional analyst who sees the collection in full; and that every other
// viewer is refused them.
func TestNarrowedRelationsAgainstSQL(t *testing.T) {
	db := mustDemoDB(t, 600, 3)
	s := mustStore(t, db, DefaultK)
	ctx := context.Background()
	researcher := Viewer{Role: RoleNationalResearcher, Name: "researcher"}
	for _, c := range narrowedCases() {
		if _, err := s.SaveCollection(ctx, admin, c.coll); err != nil {
			t.Fatal(err)
		}
		sel := Selection{Collection: SavedPrefix + c.coll.Name}
		n := naiveOf{t: t, db: db, where: c.where}
		t.Run(c.coll.Name, func(t *testing.T) {
			n.t = t
			viewers := []Viewer{admin}
			if c.analyst != "" {
				viewers = append(viewers, Viewer{Role: RoleRegionalAnalyst, Region: c.analyst, Name: "analyst"})
			}
			for _, v := range viewers {
				t.Run(string(v.Role), func(t *testing.T) {
					n.t = t
					checkNarrowedCoOccurrence(t, s, v, sel, n)
					checkNarrowedFlows(t, s, v, sel, n)
					checkNarrowedGoodPractice(t, s, v, sel, n)
					checkNarrowedRecommendations(t, s, v, sel, n)
					checkNarrowedLessons(t, s, v, sel, n)
					checkNarrowedFunnel(t, s, v, sel, n)
					checkNarrowedProcess(t, s, v, sel, n)
				})
			}
			refused := []Viewer{publicV, researcher, {Role: RoleAdmin, Name: "preview"}, {Role: RoleBoardMember, Board: "ENG-LDN-CAM", Name: "cam"}, neAnalyst}
			if c.analyst == "" {
				refused = append(refused, Viewer{Role: RoleRegionalAnalyst, Region: "ENG-LDN", Name: "ldn"})
			}
			for _, v := range refused {
				for name, err := range narrowedViews(s, v, sel) {
					if errs.KindOf(err) != errs.Forbidden {
						t.Errorf("%s %s%s asked for %s: err %v, want it refused", v.Role, v.Region, v.Board, name, err)
					}
				}
			}
		})
	}
}

// narrowedViews asks for every view this file checks, returning each error.
func narrowedViews(s *Store, v Viewer, sel Selection) map[string]error {
	ctx := context.Background()
	out := map[string]error{}
	_, out["co-occurrence"] = s.CoOccurrence(ctx, v, sel, CoOccurrenceOptions{})
	_, out["flows"] = s.Flows(ctx, v, sel, FlowOptions{})
	_, out["good practice"] = s.GoodPractice(ctx, v, sel, GoodPracticeOptions{})
	_, out["recommendations"] = s.Recommendations(ctx, v, sel)
	_, out["repeated lessons"] = s.RepeatedLessons(ctx, v, sel, RepeatedOptions{K: 1, M: 1, Y: 1})
	_, out["funnel"] = s.Funnel(ctx, v, sel, FunnelOptions{Code: "FL.WORK.03"})
	_, out["process"] = s.Process(ctx, v, sel)
	return out
}

// naiveOf asks naive SQL about a collection's current reviews coded with
// the default frame (the relation cr: review_key, board, year).
type naiveOf struct {
	t     *testing.T
	db    *sql.DB
	where string
}

// rows runs q (after the cr CTE and a comma, or alone when it starts with
// SELECT) and returns its rows keyed by the first column, a string; the
// other columns are integers.
func (n naiveOf) rows(q string, args ...any) map[string][]int {
	n.t.Helper()
	cte := fmt.Sprintf(`WITH cr AS (SELECT review_key, board, year FROM reviews
		WHERE status = 'current' AND frame_id = '%s' AND frame_version = '%s' AND %s)`,
		schemas.DefaultFrameID, schemas.DefaultFrameVersion, n.where)
	if !strings.HasPrefix(strings.TrimSpace(q), "SELECT") {
		cte += ","
	}
	rows, err := n.db.Query(cte+"\n"+q, args...)
	if err != nil {
		n.t.Fatalf("naive SQL: %v\n%s", err, q)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	out := map[string][]int{}
	for rows.Next() {
		var key string
		vals := make([]int, len(cols)-1)
		dest := []any{&key}
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		if err := rows.Scan(dest...); err != nil {
			n.t.Fatal(err)
		}
		if _, dup := out[key]; dup {
			n.t.Fatalf("naive SQL: key %q twice", key)
		}
		out[key] = vals
	}
	if err := rows.Err(); err != nil {
		n.t.Fatal(err)
	}
	return out
}

// one returns the single row of q.
func (n naiveOf) one(q string, args ...any) []int {
	n.t.Helper()
	got := n.rows(q, args...)
	if len(got) != 1 {
		n.t.Fatalf("naive SQL: %d rows, want 1", len(got))
	}
	for _, v := range got {
		return v
	}
	return nil
}

// factorCodes is a CTE (after cr) of each coded episode's factor codes at a
// depth with their ancestors: review_key, episode_no, code.
func factorCodes(depth int) string {
	return fmt.Sprintf(`cf AS (SELECT DISTINCT f.review_key, f.episode_no, c.ancestor AS code
		FROM cr JOIN episode_factors f USING (review_key)
		JOIN frame_closure c ON c.frame_id = '%[1]s' AND c.frame_version = '%[2]s' AND c.tree = 'factor' AND c.descendant = f.code
		JOIN frame_nodes n ON n.frame_id = '%[1]s' AND n.frame_version = '%[2]s' AND n.tree = 'factor' AND n.code = c.ancestor
		WHERE n.depth = %[3]d)`, schemas.DefaultFrameID, schemas.DefaultFrameVersion, depth)
}

// eq reports a difference between a figure of a view and naive SQL.
func eq(t *testing.T, what string, got Count, want int) {
	t.Helper()
	if g := val(t, got); g != want {
		t.Errorf("%s = %d, naive SQL %d", what, g, want)
	}
}

func checkNarrowedCoOccurrence(t *testing.T, s *Store, v Viewer, sel Selection, n naiveOf) {
	ctx := context.Background()
	deep := deepest(mustFrame(t, s), TreeFactor)
	for _, c := range []struct {
		within string
		depth  int
	}{{"episode", deep}, {"episode", 2}, {"review", 2}, {"review", 1}} {
		what := fmt.Sprintf("co-occurrence within %s at depth %d", c.within, c.depth)
		got, err := s.CoOccurrence(ctx, v, sel, CoOccurrenceOptions{Within: c.within, Depth: c.depth, Limit: 1 << 20})
		if err != nil {
			t.Fatal(what, err)
		}
		// Pairs: episodes holding both and their reviews, or reviews citing both.
		cond, count := "x.episode_no = y.episode_no", "count(DISTINCT (x.review_key, x.episode_no))"
		nodeCount := "count(DISTINCT (review_key, episode_no))"
		total := n.one(`SELECT '', count(*) FROM cr JOIN episodes USING (review_key)`)[0]
		if c.within == "review" {
			cond, count, nodeCount = "true", "count(DISTINCT x.review_key)", "count(DISTINCT review_key)"
			total = n.one(`SELECT '', count(*) FROM cr`)[0]
		}
		pairs := n.rows(factorCodes(c.depth) + `
			SELECT x.code || '|' || y.code, ` + count + `, count(DISTINCT x.review_key)
			FROM cf x JOIN cf y ON x.review_key = y.review_key AND ` + cond + ` AND x.code < y.code GROUP BY 1`)
		nodes := n.rows(factorCodes(c.depth) + ` SELECT code, ` + nodeCount + ` FROM cf GROUP BY 1`)
		if len(pairs) == 0 {
			t.Fatalf("%s: naive SQL finds no pairs", what)
		}
		eq(t, what+": total", got.Total, total)
		for _, nd := range got.Nodes {
			eq(t, what+": "+nd.Code, nd.Count, at(nodes, nd.Code, 0))
		}
		if len(got.Pairs) != len(pairs) {
			t.Errorf("%s: %d pairs, naive SQL %d", what, len(got.Pairs), len(pairs))
		}
		for _, p := range got.Pairs {
			key := p.A + "|" + p.B
			eq(t, what+": pair "+key, p.Count, at(pairs, key, 0))
			eq(t, what+": reviews of pair "+key, p.Reviews, at(pairs, key, 1))
			if sup := fval(t, p.Support); sup != float64(at(pairs, key, 0))/float64(total) {
				t.Errorf("%s: support of %s = %g, naive SQL %d/%d", what, key, sup, at(pairs, key, 0), total)
			}
		}
		if c.within != "episode" || c.depth != deep {
			continue
		}
		// The strongest pairs, and those of one factor.
		top, err := s.CoOccurrence(ctx, v, sel, CoOccurrenceOptions{MinSupport: 2, Limit: 5})
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for k, p := range pairs {
			if p[0] >= 2 {
				want = append(want, k)
			}
		}
		sort.Slice(want, func(i, j int) bool {
			a, b := pairs[want[i]][0], pairs[want[j]][0]
			if a != b {
				return a > b
			}
			ai, bi, _ := strings.Cut(want[i], "|")
			aj, bj, _ := strings.Cut(want[j], "|")
			if ai != aj {
				return ai < aj
			}
			return bi < bj
		})
		want = want[:min(5, len(want))]
		var keys []string
		for _, p := range top.Pairs {
			keys = append(keys, p.A+"|"+p.B)
		}
		slices.Sort(keys)
		slices.Sort(want)
		if len(want) == 0 || !slices.Equal(keys, want) {
			t.Errorf("the 5 strongest pairs of at least 2 episodes: %v, naive SQL %v", keys, want)
		}
		focus, _, _ := strings.Cut(want[0], "|")
		around, err := s.CoOccurrence(ctx, v, sel, CoOccurrenceOptions{Focus: focus, Limit: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		wantN := 0
		for k := range pairs {
			if a, b, _ := strings.Cut(k, "|"); a == focus || b == focus {
				wantN++
			}
		}
		if len(around.Pairs) != wantN || len(around.Nodes) != 1 {
			t.Errorf("pairs around %s: %d (and %d nodes), naive SQL %d", focus, len(around.Pairs), len(around.Nodes), wantN)
		}
		for _, p := range around.Pairs {
			eq(t, "pair around "+focus, p.Count, at(pairs, p.A+"|"+p.B, 0))
		}
	}
}

// at is row key's column i, 0 when naive SQL has no row.
func at(rows map[string][]int, key string, i int) int {
	if r, ok := rows[key]; ok {
		return r[i]
	}
	return 0
}

func mustFrame(t *testing.T, s *Store) *frameData {
	t.Helper()
	f, err := s.frame(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func checkNarrowedFlows(t *testing.T, s *Store, v Viewer, sel Selection, n naiveOf) {
	for _, nature := range []string{"", "unsafe"} {
		got, err := s.Flows(context.Background(), v, sel, FlowOptions{Nature: nature})
		if err != nil {
			t.Fatal(err)
		}
		// Each link counted once, whatever the nature of the patterns
		// behind it, unless one nature is asked for.
		want := n.rows(factorCodes(2)+`,
			pt AS (SELECT DISTINCT review_key, episode_no, type_code
			       FROM (SELECT review_key, type_code, nature, unnest(episodes) AS episode_no FROM patterns) p SEMI JOIN cr USING (review_key)
			       WHERE nature = ? OR ? = '')
			SELECT cf.code || '|' || type_code AS link, count(DISTINCT (review_key, episode_no))::INT, count(DISTINCT review_key)::INT
			FROM cf JOIN pt USING (review_key, episode_no) GROUP BY link`, nature, nature)
		if len(want) == 0 {
			t.Fatalf("flows %q: naive SQL finds no links", nature)
		}
		if len(got.Links) != len(want) {
			t.Errorf("flows %q: %d links, naive SQL %d", nature, len(got.Links), len(want))
		}
		for _, l := range got.Links {
			key := l.Source + "|" + l.Target
			eq(t, "flows "+nature+" "+key+" episodes", l.Episodes, at(want, key, 0))
			eq(t, "flows "+nature+" "+key+" reviews", l.Reviews, at(want, key, 1))
		}
	}
}

func checkNarrowedGoodPractice(t *testing.T, s *Store, v Viewer, sel Selection, n naiveOf) {
	got, err := s.GoodPractice(context.Background(), v, sel, GoodPracticeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tot := n.one(`SELECT '', count(*) FILTER (WHERE adequacy = 'good'), count(*) FILTER (WHERE adequacy = 'problematic')
		FROM cr JOIN episodes USING (review_key)`)
	eq(t, "good episodes", got.GoodEpisodes, tot[0])
	eq(t, "problematic episodes", got.ProblematicEpisodes, tot[1])
	want := n.rows(factorCodes(deepest(mustFrame(t, s), TreeFactor)) + `
		SELECT code, count(*) FILTER (WHERE e.adequacy = 'good'), count(*) FILTER (WHERE e.adequacy = 'problematic')
		FROM cf JOIN episodes e USING (review_key, episode_no) GROUP BY code`)
	if len(got.Rows) == 0 || tot[0] == 0 || tot[1] == 0 {
		t.Fatalf("good practice: %d rows, %d good and %d problematic episodes", len(got.Rows), tot[0], tot[1])
	}
	for _, r := range got.Rows {
		eq(t, "good episodes citing "+r.Code, r.Good, at(want, r.Code, 0))
		eq(t, "problematic episodes citing "+r.Code, r.Problematic, at(want, r.Code, 1))
	}
}

func checkNarrowedRecommendations(t *testing.T, s *Store, v Viewer, sel Selection, n naiveOf) {
	got, err := s.Recommendations(context.Background(), v, sel)
	if err != nil {
		t.Fatal(err)
	}
	// Keyed pattern type|kind|level, '' for every one; recommendations and their reviews.
	want := n.rows(`
		SELECT '|' || coalesce(x.kind::VARCHAR, '') || '|' || coalesce(x.level, ''), count(*), count(DISTINCT x.review_key)
		FROM cr JOIN recommendations x USING (review_key) GROUP BY CUBE (x.kind, x.level)
		UNION ALL
		SELECT p.type_code || '|' || coalesce(x.kind::VARCHAR, '') || '|' || coalesce(x.level, ''),
		       count(DISTINCT (x.review_key, x.rec_no)), count(DISTINCT x.review_key)
		FROM cr JOIN recommendations x USING (review_key)
		JOIN patterns p ON p.review_key = x.review_key AND list_contains(x.patterns, p.pattern_no)
		GROUP BY p.type_code, CUBE (x.kind, x.level)`)
	cell := func(what string, c RecCell, key string) {
		t.Helper()
		eq(t, "recommendations "+what, c.Recommendations, at(want, key, 0))
		eq(t, "reviews with recommendations "+what, c.Reviews, at(want, key, 1))
	}
	if at(want, "||", 0) == 0 {
		t.Fatal("recommendations: naive SQL finds none")
	}
	cell("", RecCell{Recommendations: got.Total, Reviews: got.Reviews}, "||")
	for i, k := range got.ByKind {
		cell(fmt.Sprint("of kind ", k.Kind), k, fmt.Sprintf("|%d|", k.Kind))
		for _, x := range got.Grid[i] {
			cell(fmt.Sprint("of kind ", x.Kind, " at level ", x.Level), x, fmt.Sprintf("|%d|%s", x.Kind, x.Level))
		}
	}
	for _, l := range got.ByLevel {
		cell("at level "+l.Level, l, "||"+l.Level)
	}
	linked := 0
	for _, pt := range got.ByPatternType {
		cell("linked to "+pt.Code, RecCell{Recommendations: pt.Recommendations, Reviews: pt.Reviews}, pt.Code+"||")
		linked += val(t, pt.Recommendations)
		for _, k := range pt.ByKind {
			cell(fmt.Sprint("linked to ", pt.Code, " of kind ", k.Kind), k, fmt.Sprintf("%s|%d|", pt.Code, k.Kind))
		}
		for _, l := range pt.ByLevel {
			cell("linked to "+pt.Code+" at level "+l.Level, l, pt.Code+"||"+l.Level)
		}
	}
	if linked == 0 {
		t.Error("recommendations: none linked to a pattern type")
	}
}

func checkNarrowedLessons(t *testing.T, s *Store, v Viewer, sel Selection, n naiveOf) {
	for _, rule := range []RepeatedOptions{{K: 3, M: 2, Y: 2}, {K: 2, M: 1, Y: 1, Nature: "constructive"}, {K: 2, M: 2, Y: 2, Nature: "unsafe"}} {
		nature := rule.Nature
		got, err := s.RepeatedLessons(context.Background(), v, sel, rule)
		if err != nil {
			t.Fatal(err)
		}
		want := n.rows(fmt.Sprintf(`
			SELECT c.ancestor, count(DISTINCT cr.review_key), count(DISTINCT cr.board), count(DISTINCT cr.year), min(cr.year), max(cr.year)
			FROM cr JOIN patterns p USING (review_key)
			JOIN frame_closure c ON c.frame_id = '%[1]s' AND c.frame_version = '%[2]s' AND c.tree = 'pattern'
			     AND c.descendant = coalesce(p.sub_code, p.type_code)
			JOIN frame_nodes n ON n.frame_id = '%[1]s' AND n.frame_version = '%[2]s' AND n.tree = 'pattern' AND n.code = c.ancestor
			WHERE n.depth >= 2 AND (p.nature = ? OR ? = '')
			GROUP BY 1
			HAVING count(DISTINCT cr.review_key) >= ? AND count(DISTINCT cr.board) >= ? AND count(DISTINCT cr.year) >= ?`,
			schemas.DefaultFrameID, schemas.DefaultFrameVersion), nature, nature, rule.K, rule.M, rule.Y)
		if len(want) == 0 {
			t.Fatalf("repeated lessons %q: naive SQL finds none", nature)
		}
		if len(got.Lessons) != len(want) {
			t.Errorf("repeated lessons %q: %d, naive SQL %d", nature, len(got.Lessons), len(want))
		}
		for _, l := range got.Lessons {
			w, ok := want[l.Code]
			if !ok {
				t.Errorf("repeated lessons %q: %s is not one for naive SQL", nature, l.Code)
				continue
			}
			eq(t, "reviews of lesson "+l.Code, l.Reviews, w[0])
			if g := []int{l.Boards, l.Years, l.First, l.Last}; !slices.Equal(g, w[1:]) {
				t.Errorf("lesson %s %q: boards, years, first, last %v, naive SQL %v", l.Code, nature, g, w[1:])
			}
		}
	}
}

func checkNarrowedFunnel(t *testing.T, s *Store, v Viewer, sel Selection, n naiveOf) {
	for _, c := range []struct{ tree, code, cites string }{
		{TreeFactor, "FL.WORK", `SELECT 1 FROM episode_factors f JOIN frame_closure c ON c.tree = 'factor' AND c.descendant = f.code
			AND c.frame_id = '%[1]s' AND c.frame_version = '%[2]s' WHERE f.review_key = cr.review_key AND c.ancestor = 'FL.WORK'`},
		{TreePattern, "P2", `SELECT 1 FROM patterns p JOIN frame_closure c ON c.tree = 'pattern' AND c.descendant = coalesce(p.sub_code, p.type_code)
			AND c.frame_id = '%[1]s' AND c.frame_version = '%[2]s' WHERE p.review_key = cr.review_key AND c.ancestor = 'P2'`},
	} {
		got, err := s.Funnel(context.Background(), v, sel, FunnelOptions{Tree: c.tree, Code: c.code})
		if err != nil {
			t.Fatal(err)
		}
		want := n.rows(fmt.Sprintf(`SELECT board, count(*), count(*) FILTER (WHERE EXISTS (`+c.cites+`)) FROM cr GROUP BY board`,
			schemas.DefaultFrameID, schemas.DefaultFrameVersion))
		all := []int{0, 0}
		for _, w := range want {
			all[0], all[1] = all[0]+w[0], all[1]+w[1]
		}
		if all[1] == 0 {
			t.Fatalf("funnel of %s: naive SQL finds no review citing it", c.code)
		}
		if sh := fval(t, got.Target); sh != float64(all[1])/float64(all[0]) {
			t.Errorf("funnel of %s: target %g, naive SQL %d/%d", c.code, sh, all[1], all[0])
		}
		for _, p := range got.Points {
			eq(t, "funnel of "+c.code+": reviews coded in "+p.Place.Code, p.N, at(want, p.Place.Code, 0))
			eq(t, "funnel of "+c.code+": reviews citing it in "+p.Place.Code, p.Reviews, at(want, p.Place.Code, 1))
			delete(want, p.Place.Code)
		}
		if len(want) > 0 {
			t.Errorf("funnel of %s: boards missing: %v", c.code, want)
		}
	}
}

func checkNarrowedProcess(t *testing.T, s *Store, v Viewer, sel Selection, n naiveOf) {
	got, err := s.Process(context.Background(), v, sel)
	if err != nil {
		t.Fatal(err)
	}
	want := n.rows(`SELECT 'kind ' || kind, count(*) FROM reviews SEMI JOIN cr USING (review_key) GROUP BY kind
		UNION ALL SELECT 'family ' || family_participation, count(*) FROM reviews SEMI JOIN cr USING (review_key) GROUP BY family_participation
		UNION ALL SELECT 'preliminary ' || stage_preliminary, count(*) FROM reviews SEMI JOIN cr USING (review_key) GROUP BY stage_preliminary
		UNION ALL SELECT 'interim ' || stage_interim, count(*) FROM reviews SEMI JOIN cr USING (review_key) GROUP BY stage_interim
		UNION ALL SELECT 'final ' || stage_final, count(*) FROM reviews SEMI JOIN cr USING (review_key) GROUP BY stage_final
		UNION ALL SELECT 'all three', count(*) FROM reviews SEMI JOIN cr USING (review_key)
		          WHERE stage_preliminary = 'yes' AND stage_interim = 'yes' AND stage_final = 'yes'
		UNION ALL SELECT 'all', count(*) FROM cr`)
	eq(t, "process: reviews", got.Reviews, at(want, "all", 0))
	for _, k := range got.Kinds {
		eq(t, "process: kind "+k.Value, k.Reviews, at(want, "kind "+k.Value, 0))
	}
	for _, f := range got.Family {
		eq(t, "process: family "+f.Value, f.Reviews, at(want, "family "+f.Value, 0))
	}
	for _, st := range got.Stages {
		for _, f := range st.Values {
			eq(t, "process: "+st.Stage+" stage "+f.Value, f.Reviews, at(want, st.Stage+" "+f.Value, 0))
		}
	}
	eq(t, "process: all three stages", got.AllStages.Reviews, at(want, "all three", 0))
}

// TestNarrowedCompareAgainstSQL: a narrowed collection is compared with all
// the reviews of its reference place, in its years, less its own (London's
// reviews involving the police with London's others), by default the
// smallest place containing it, or a place given; checked against naive SQL.
func TestNarrowedCompareAgainstSQL(t *testing.T) {
	db := mustDemoDB(t, 600, 3)
	s := mustStore(t, db, DefaultK)
	ctx := context.Background()
	coded := func(where string) int {
		t.Helper()
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM reviews WHERE status = 'current' AND frame_id = ? AND frame_version = ? AND `+where,
			schemas.DefaultFrameID, schemas.DefaultFrameVersion).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, c := range narrowedCases() {
		if _, err := s.SaveCollection(ctx, admin, c.coll); err != nil {
			t.Fatal(err)
		}
		for _, ref := range []string{"", UK} {
			t.Run(c.coll.Name+"/"+ref, func(t *testing.T) {
				cmp, err := s.Compare(ctx, admin, Selection{Collection: SavedPrefix + c.coll.Name}, CompareOptions{Reference: ref})
				if err != nil {
					t.Fatal(err)
				}
				place := "true"
				if lv := cmp.Reference.Level; lv != LevelUK {
					place = fmt.Sprintf("%s = '%s'", lv, cmp.Reference.Code)
				}
				// The comparison covers the collection's years only.
				if c.coll.From != 0 {
					place += fmt.Sprintf(" AND year >= %d", c.coll.From)
				}
				rest := place + " AND NOT (" + c.where + ")"
				if got, want := val(t, cmp.N), coded(c.where); got != want {
					t.Errorf("n = %d, naive SQL %d", got, want)
				}
				wantRef := coded(rest)
				if got := val(t, cmp.RefN); got != wantRef || wantRef == 0 {
					t.Errorf("reference %s: n = %d, naive SQL %d (of %s)", cmp.ReferenceRule, got, wantRef, rest)
				}
				in, out := naiveFactorCounts(t, db, c.where), naiveFactorCounts(t, db, rest)
				tested := 0
				for _, row := range cmp.Rows {
					if got, want := val(t, row.Reviews), in[row.Node.Code].reviews; got != want {
						t.Errorf("%s: reviews = %d, naive SQL %d", row.Node.Code, got, want)
					}
					if got, want := val(t, row.RefReviews), out[row.Node.Code].reviews; got != want {
						t.Errorf("%s: reference reviews = %d, naive SQL %d", row.Node.Code, got, want)
					}
					if _, ok := row.P.Value(); ok {
						tested++
					}
				}
				if tested == 0 {
					t.Error("no factor was tested")
				}
			})
		}
	}
}

// TestNarrowedBreakdownAgainstSQL: a narrowed collection breaks down by
// board, each board's reviews coded and reviews citing each factor type
// matching naive SQL.
func TestNarrowedBreakdownAgainstSQL(t *testing.T) {
	db := mustDemoDB(t, 600, 3)
	s := mustStore(t, db, DefaultK)
	ctx := context.Background()
	for _, c := range narrowedCases() {
		if _, err := s.SaveCollection(ctx, admin, c.coll); err != nil {
			t.Fatal(err)
		}
		t.Run(c.coll.Name, func(t *testing.T) {
			b, err := s.Breakdown(ctx, admin, Selection{Collection: SavedPrefix + c.coll.Name}, BreakdownOptions{Depth: 2})
			if err != nil {
				t.Fatal(err)
			}
			cited := 0
			for _, pl := range b.Places {
				where := c.where + " AND board = '" + pl.Place.Code + "'"
				var coded int
				if err := db.QueryRow(`SELECT count(*) FROM reviews WHERE status = 'current' AND frame_id = ? AND frame_version = ? AND `+where,
					schemas.DefaultFrameID, schemas.DefaultFrameVersion).Scan(&coded); err != nil {
					t.Fatal(err)
				}
				if got := val(t, pl.ReviewsCoded); got != coded {
					t.Errorf("%s: reviews coded = %d, naive SQL %d", pl.Place.Code, got, coded)
				}
				naive := naiveFactorCounts(t, db, where)
				for j, n := range b.Nodes {
					got := val(t, pl.Cells[j].Reviews)
					if want := naive[n.Code].reviews; got != want {
						t.Errorf("%s %s: reviews = %d, naive SQL %d", pl.Place.Code, n.Code, got, want)
					}
					cited += got
				}
			}
			if cited == 0 {
				t.Error("no board cites any factor type")
			}
		})
	}
}
