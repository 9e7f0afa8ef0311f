package analytics

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/ingest/errs"
)

// Searches of recommendations and patterns: the researchers' Query page.
// Like drill-down to episodes, a list of recommendations or patterns with
// their reviews and boards reveals every count behind it, so only a viewer
// with full detail over the collection may search.

// RecommendationQuery filters the recommendations of a collection.
type RecommendationQuery struct {
	Text        string   `json:"text,omitempty"`         // words in the recommendation, case-insensitive
	Kinds       []int    `json:"kinds,omitempty"`        // 1, 2, 3
	Levels      []string `json:"levels,omitempty"`       // local, regional, national
	PatternType string   `json:"pattern_type,omitempty"` // linked to a pattern of this type (P1..P6)
	Before      int64    `json:"before,omitempty"`       // see EpisodeQuery.Before
	Page        int      `json:"page,omitempty"`
	PerPage     int      `json:"per_page,omitempty"`
}

// RecommendationPage is one page of recommendations with facets.
type RecommendationPage struct {
	Provenance      Provenance              `json:"provenance"`
	Collection      CollectionInfo          `json:"collection"`
	Query           RecommendationQuery     `json:"query"`
	Total           int                     `json:"total"`
	TotalExact      bool                    `json:"total_exact"` // see EpisodePage.TotalExact
	ContinueBefore  int64                   `json:"continue_before,omitempty"`
	Page            int                     `json:"page"`
	PerPage         int                     `json:"per_page"`
	Pages           int                     `json:"pages"`
	Recommendations []RecommendationExcerpt `json:"recommendations"`
	Facets          SearchFacets            `json:"facets"`
}

// RecommendationExcerpt is one recommendation as a search lists it.
type RecommendationExcerpt struct {
	ReviewID     string   `json:"review_id"`
	Version      int      `json:"version"`
	Year         int      `json:"year"`
	Board        string   `json:"board"`
	BoardName    string   `json:"board_name"`
	ReviewKind   string   `json:"review_kind"`
	Number       int      `json:"number"`
	Kind         int      `json:"kind"`  // 1, 2 or 3
	Level        string   `json:"level"` // local, regional or national
	PatternTypes []string `json:"pattern_types"`
	Excerpt      string   `json:"excerpt"` // the text, shortened and screened

	key      int64
	patterns []int
}

// PatternQuery filters the pattern instances of a collection.
type PatternQuery struct {
	Text    string `json:"text,omitempty"`   // words in the summary or proposed sub-pattern
	Code    string `json:"code,omitempty"`   // a type, sub-pattern or detail, or <type>.proposed
	Nature  string `json:"nature,omitempty"` // constructive or unsafe
	Before  int64  `json:"before,omitempty"`
	Page    int    `json:"page,omitempty"`
	PerPage int    `json:"per_page,omitempty"`
}

// PatternPage is one page of pattern instances with facets.
type PatternPage struct {
	Provenance     Provenance       `json:"provenance"`
	Collection     CollectionInfo   `json:"collection"`
	Query          PatternQuery     `json:"query"`
	Total          int              `json:"total"`
	TotalExact     bool             `json:"total_exact"`
	ContinueBefore int64            `json:"continue_before,omitempty"`
	Page           int              `json:"page"`
	PerPage        int              `json:"per_page"`
	Pages          int              `json:"pages"`
	Patterns       []PatternExcerpt `json:"patterns"`
	Facets         SearchFacets     `json:"facets"`
}

// PatternExcerpt is one pattern instance of a review.
type PatternExcerpt struct {
	ReviewID   string `json:"review_id"`
	Version    int    `json:"version"`
	Year       int    `json:"year"`
	Board      string `json:"board"`
	BoardName  string `json:"board_name"`
	ReviewKind string `json:"review_kind"`
	Number     int    `json:"number"`
	Type       string `json:"type"`
	SubPattern string `json:"sub_pattern,omitempty"`
	Proposed   string `json:"proposed,omitempty"` // a proposed sub-pattern awaiting a place, screened
	Nature     string `json:"nature"`
	Priority   *int   `json:"priority,omitempty"`
	Summary    string `json:"summary"` // shortened and screened
	Episodes   []int  `json:"episodes"`
}

// SearchFacets count the matches by each value of a facet. Places are the
// places one level under the collection (boards of a region or a saved
// collection). When a search stopped counting (TotalExact false) they count
// the matches found so far.
type SearchFacets struct {
	Places       []FacetValue `json:"places"`
	Years        []FacetValue `json:"years"`
	ReviewKinds  []FacetValue `json:"review_kinds"`
	Kinds        []FacetValue `json:"kinds,omitempty"`         // recommendations: 1, 2, 3
	Levels       []FacetValue `json:"levels,omitempty"`        // recommendations: local, regional, national
	PatternTypes []FacetValue `json:"pattern_types,omitempty"` // patterns: P1..P6
	Natures      []FacetValue `json:"natures,omitempty"`       // patterns: constructive, unsafe
}

// SearchRecommendations lists the recommendations of a collection that match
// the query, newest review first, with facets.
func (s *Store) SearchRecommendations(ctx context.Context, v Viewer, sel Selection, q RecommendationQuery) (*RecommendationPage, error) {
	return s.searchRecs(ctx, v, sel, q, maxPerPage)
}

// SearchPatterns lists the pattern instances of a collection that match the
// query, newest review first, with facets.
func (s *Store) SearchPatterns(ctx context.Context, v Viewer, sel Selection, q PatternQuery) (*PatternPage, error) {
	return s.searchPatterns(ctx, v, sel, q, maxPerPage)
}

// facetDims are the dimensions every search counts by; a search adds its own.
var facetDims = []string{"board", "year::VARCHAR", "review_kind"}

// search is the part of a recommendation or pattern search that does not
// depend on which it is.
type search struct {
	sc      *scope
	what    string // for errors: "recommendations"
	hit     string // statement prefix defining CTE hit over keys [?, ?]
	hitArgs func(lo, hi int64) []any
	dims    []string // facet dimensions: facetDims, then the search's own
	order   string   // the order of rows within a review
	budget  int64
	words   []string
}

// searchBudget is the keys a text search reads per page: a download (pages
// larger than a page on screen) reads them all.
func searchBudget(ctx context.Context, most int) int64 {
	if most > maxPerPage {
		return 0
	}
	return textBudget(ctx)
}

// searchPage is the page a search asks for.
type searchPage struct {
	before        int64
	page, perPage int
}

// facetCounts accumulates facet counts: per dimension, per value.
type facetCounts []map[string]int

// runSearch walks the collection's keys, listing a page with scan and counting
// matches and facets as it goes.
func (s *Store) runSearch(ctx context.Context, x search, q searchPage, agg *aggSearch, scan func(*sql.Rows) error) (walked, facetCounts, error) {
	fc := make(facetCounts, len(x.dims))
	for i := range fc {
		fc[i] = map[string]int{}
	}
	scopeSQL, scopeArgs := s.reviewScope(x.sc, "r")
	lo, hi, ok, err := s.keySpan(ctx, scopeSQL, scopeArgs, q.before)
	if err != nil || !ok {
		return walked{complete: true}, fc, err
	}
	total := 0
	if agg != nil {
		if total, err = s.aggFacets(ctx, x.sc, agg, fc); err != nil {
			return walked{}, nil, err
		}
		if (q.page-1)*q.perPage >= total {
			return walked{matched: total, complete: true}, fc, nil
		}
	}
	sets := make([]string, len(x.dims))
	cases := make([]string, len(x.dims))
	sel := make([]string, len(x.dims))
	for i, d := range x.dims {
		sets[i] = "(d" + strconv.Itoa(i) + ")"
		cases[i] = "WHEN grouping(d" + strconv.Itoa(i) + ") = 0 THEN " + strconv.Itoa(i)
		sel[i] = "(" + d + ")::VARCHAR AS d" + strconv.Itoa(i)
	}
	countSQL := x.hit + `, f AS (SELECT ` + strings.Join(sel, ", ") + ` FROM hit)
		SELECT CASE ` + strings.Join(cases, " ") + ` END, coalesce(` + strings.Join(dimNames(len(x.dims)), ", ") + `, ''), count(*) FROM f GROUP BY GROUPING SETS (` + strings.Join(sets, ", ") + `)`
	w := walk{lo: lo, hi: hi, skip: (q.page - 1) * q.perPage, need: q.perPage, known: agg != nil,
		count: func(lo, hi int64) (int, error) {
			if agg != nil {
				// Only the number of matches is needed: the facets are known.
				var n int
				err := s.db.QueryRowContext(ctx, x.hit+` SELECT count(*) FROM hit`, x.hitArgs(lo, hi)...).Scan(&n)
				if err != nil {
					return 0, wrapDB(ctx, err, "count "+x.what)
				}
				return n, nil
			}
			rows, err := s.db.QueryContext(ctx, countSQL, x.hitArgs(lo, hi)...)
			if err != nil {
				return 0, wrapDB(ctx, err, "count "+x.what)
			}
			defer rows.Close()
			n := 0
			for rows.Next() {
				var d, c int
				var v string
				if err := rows.Scan(&d, &v, &c); err != nil {
					return 0, wrapDB(ctx, err, "count "+x.what)
				}
				fc[d][v] += c
				if d == 0 {
					n += c
				}
			}
			return n, wrapRowsErr(ctx, rows.Err(), "count "+x.what)
		},
		list: func(lo, hi int64, limit, offset int) (int, error) {
			rows, err := s.db.QueryContext(ctx, x.hit+` SELECT * FROM hit ORDER BY review_key DESC, `+x.order+` LIMIT ? OFFSET ?`,
				append(x.hitArgs(lo, hi), limit, offset)...)
			if err != nil {
				return 0, wrapDB(ctx, err, "list "+x.what)
			}
			defer rows.Close()
			n := 0
			for rows.Next() {
				if err := scan(rows); err != nil {
					return n, wrapDB(ctx, err, "list "+x.what)
				}
				n++
			}
			return n, wrapRowsErr(ctx, rows.Err(), "list "+x.what)
		}}
	if agg != nil {
		w.width = firstWidth(lo, hi, total, w.skip, w.need)
	}
	if len(x.words) > 0 {
		w.budget = x.budget
		if w.budget > 0 {
			w.budget *= int64(q.page)
		}
	}
	res, err := w.run()
	if agg != nil {
		res = walked{matched: total, complete: true}
	}
	return res, fc, err
}

// aggSearch reads the total and facets of a search without words from an
// aggregate table: sums of measure over the rows meeting where and, for the
// total and the place, year and kind facets, total; each of dims is one more
// facet with its own condition.
type aggSearch struct {
	table, measure string
	where, total   string
	whereArgs      []any
	totalArgs      []any
	dims           []aggDim
	natures        *aggDim // patterns: constructive (m1) and unsafe (m2) under this condition
}

type aggDim struct {
	expr, cond string
	args       []any
}

// aggFacets fills the facets from the aggregates and returns the total. Its
// dimensions follow facetDims and then the aggregate's own, in the order of
// the search's dims.
func (s *Store) aggFacets(ctx context.Context, sc *scope, a *aggSearch, fc facetCounts) (int, error) {
	// Facet i groups by cols[i]: 0 the place, 1 the year, 2 the kind of
	// review, then the aggregate's own dimensions. Regions, nations and the
	// UK read places, years and the search's own dimensions from the
	// regional roll-up (board and kind are '' there), and kinds of review
	// (and a region's boards) from the full table.
	cols := []string{"board", "year::VARCHAR", "kind"}
	for _, d := range a.dims {
		cols = append(cols, d.expr)
	}
	all := make([]int, len(cols))
	for i := range all {
		all[i] = i
	}
	if !rolled[a.table] || sc.custom != nil || s.geo.nodes[sc.place].level == LevelBoard {
		return s.aggGroup(ctx, sc, a, a.table, cols, all, fc)
	}
	rcols := slices.Clone(cols)
	rsets := []int{1}
	full := []int{2}
	switch s.geo.nodes[sc.place].level {
	case LevelUK:
		rcols[0] = "nation"
		rsets = append(rsets, 0)
	case LevelNation:
		rcols[0] = "region"
		rsets = append(rsets, 0)
	default:
		full = append(full, 0)
	}
	for i := 3; i < len(cols); i++ {
		rsets = append(rsets, i)
	}
	total, err := s.aggGroup(ctx, sc, a, a.table+"_r", rcols, rsets, fc)
	if err != nil {
		return 0, err
	}
	if _, err := s.aggGroup(ctx, sc, a, a.table, cols, full, fc); err != nil {
		return 0, err
	}
	return total, nil
}

// aggGroup runs one grouping-sets read of an aggregate table for the facets
// listed in sets (indexes into cols) and adds its counts to fc. The total
// (and, for patterns, the natures) are taken from the year facet when it is
// among the sets; it returns the total.
func (s *Store) aggGroup(ctx context.Context, sc *scope, a *aggSearch, table string, cols []string, sets []int, fc facetCounts) (int, error) {
	where, args := sc.filter(s.geo, true)
	inColl, cargs := s.collectionCond(sc)
	var selArgs []any
	vals := []string{"coalesce(sum(" + a.measure + ") FILTER (WHERE " + a.total + "), 0)::BIGINT"}
	selArgs = append(selArgs, a.totalArgs...)
	for _, d := range a.dims {
		vals = append(vals, "coalesce(sum("+a.measure+") FILTER (WHERE "+d.cond+"), 0)::BIGINT")
		selArgs = append(selArgs, d.args...)
	}
	if a.natures != nil {
		vals = append(vals, "coalesce(sum(m1) FILTER (WHERE "+a.natures.cond+"), 0)::BIGINT",
			"coalesce(sum(m2) FILTER (WHERE "+a.natures.cond+"), 0)::BIGINT")
		selArgs = append(selArgs, a.natures.args...)
		selArgs = append(selArgs, a.natures.args...)
	}
	cases := make([]string, len(sets))
	groups := make([]string, len(sets))
	exprs := make([]string, len(sets))
	for j, i := range sets {
		cases[j] = "WHEN grouping(" + cols[i] + ") = 0 THEN " + strconv.Itoa(i)
		groups[j] = "(" + cols[i] + ")"
		exprs[j] = cols[i]
	}
	stmt := `SELECT CASE ` + strings.Join(cases, " ") + ` END, coalesce(` + strings.Join(castAll(exprs), ", ") + `, ''), ` +
		strings.Join(vals, ", ") + ` FROM ` + table + ` WHERE ` + where + inColl + ` AND ` + a.where +
		` GROUP BY GROUPING SETS (` + strings.Join(groups, ", ") + `)`
	all := append(append(append(append([]any{}, selArgs...), args...), cargs...), a.whereArgs...)
	rows, err := s.db.QueryContext(ctx, stmt, all...)
	if err != nil {
		return 0, wrapDB(ctx, err, "read "+table)
	}
	defer rows.Close()
	total := 0
	nv := len(vals)
	for rows.Next() {
		var d int
		var v string
		vs := make([]int64, nv)
		dest := []any{&d, &v}
		for i := range vs {
			dest = append(dest, &vs[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return 0, wrapDB(ctx, err, "read "+table)
		}
		switch {
		case d < 3:
			fc[d][v] += int(vs[0])
			if d == 1 {
				total += int(vs[0])
				if a.natures != nil {
					fc[4][ingest.NatureConstructive] += int(vs[nv-2])
					fc[4][ingest.NatureUnsafe] += int(vs[nv-1])
				}
			}
		default:
			fc[d][v] += int(vs[d-2])
		}
	}
	return total, wrapRowsErr(ctx, rows.Err(), "read "+table)
}

func castAll(cols []string) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = "(" + c + ")::VARCHAR"
	}
	return out
}

func dimNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "d" + strconv.Itoa(i)
	}
	return out
}

// placeFacet rolls board counts up to the places one level under the collection.
func (s *Store) placeFacet(sc *scope, boards map[string]int) []FacetValue {
	level := LevelBoard
	if sc.custom == nil {
		switch s.geo.nodes[sc.place].level {
		case LevelUK:
			level = LevelNation
		case LevelNation:
			level = LevelRegion
		}
	}
	counts := map[int]int{}
	for b, n := range boards {
		node, ok := s.geo.lookup(b)
		if !ok {
			continue
		}
		i := node.idx
		for s.geo.nodes[i].level != level && i != 0 {
			i = s.geo.nodes[i].parent
		}
		counts[i] += n
	}
	out := []FacetValue{}
	for i, n := range counts {
		out = append(out, FacetValue{Value: s.geo.nodes[i].code, Label: s.geo.nodes[i].name, Count: n})
	}
	sortFacet(out)
	return out
}

// facetValues turns counts into facet values, most first; label names them.
func facetValues(m map[string]int, label func(string) string) []FacetValue {
	out := []FacetValue{}
	for v, n := range m {
		if n == 0 {
			continue
		}
		f := FacetValue{Value: v, Label: v, Count: n}
		if label != nil {
			f.Label = label(v)
		}
		out = append(out, f)
	}
	sortFacet(out)
	return out
}

func sortFacet(fs []FacetValue) {
	sort.Slice(fs, func(i, j int) bool {
		if fs[i].Count != fs[j].Count {
			return fs[i].Count > fs[j].Count
		}
		return fs[i].Value < fs[j].Value
	})
}

// searchScope resolves the selection of a search and checks the viewer may
// see the rows.
// startSearch checks what every search needs before it reads: the viewer's
// scope over the selection, the page asked for and the search words.
func (s *Store) startSearch(ctx context.Context, v Viewer, sel Selection, what string, before int64, page, perPage, most int,
	text string) (*scope, int, int, []string, error) {
	sc, err := s.searchScope(ctx, v, sel, what, before)
	if err != nil {
		return nil, 0, 0, nil, err
	}
	page, perPage, err = pageUpTo(page, perPage, most)
	if err != nil {
		return nil, 0, 0, nil, err
	}
	words, err := searchWords(text)
	if err != nil {
		return nil, 0, 0, nil, err
	}
	return sc, page, perPage, words, nil
}

func (s *Store) searchScope(ctx context.Context, v Viewer, sel Selection, what string, before int64) (*scope, error) {
	sc, err := s.resolve(ctx, v, sel)
	if err != nil {
		return nil, err
	}
	if err := sc.requireFull(what); err != nil {
		return nil, err
	}
	if before < 0 {
		return nil, errs.E(errs.Invalid, "before must be a position given by an earlier page")
	}
	return sc, nil
}

// reviewCTE is the CTE r of a search: the collection's reviews with keys in [?, ?].
func (s *Store) reviewCTE(sc *scope) (string, func(lo, hi int64) []any) {
	scopeSQL, scopeArgs := s.reviewScope(sc, "r")
	return `WITH r AS (SELECT review_key, review_id, version, board, year, kind FROM reviews r WHERE ` + scopeSQL + ` AND r.review_key BETWEEN ? AND ?)`,
		func(lo, hi int64) []any { return append(append([]any{}, scopeArgs...), lo, hi) }
}

func (s *Store) searchRecs(ctx context.Context, v Viewer, sel Selection, q RecommendationQuery, most int) (*RecommendationPage, error) {
	sc, page, perPage, words, err := s.startSearch(ctx, v, sel, "searching recommendations", q.Before, q.Page, q.PerPage, most, q.Text)
	if err != nil {
		return nil, err
	}
	var filter string
	var fargs []any
	for _, k := range q.Kinds {
		if !slices.Contains(recKinds, k) {
			return nil, errs.E(errs.Invalid, "recommendation kind %d: give 1, 2 or 3", k)
		}
	}
	// The driver binds lists of int32 (not int) to INTEGER[].
	kinds := make([]int32, len(q.Kinds))
	for i, k := range q.Kinds {
		kinds[i] = int32(k)
	}
	if len(q.Kinds) > 0 {
		filter += " AND list_contains(?::INTEGER[], x.kind)"
		fargs = append(fargs, kinds)
	}
	for _, l := range q.Levels {
		if !slices.Contains(recLevels, l) {
			return nil, errs.E(errs.Invalid, "recommendation level %q: give local, regional or national", l)
		}
	}
	if len(q.Levels) > 0 {
		filter += " AND list_contains(?::VARCHAR[], x.level)"
		fargs = append(fargs, q.Levels)
	}
	if q.PatternType != "" {
		if n, ok := sc.frame.node(TreePattern, q.PatternType); !ok || n.Depth != 1 {
			return nil, errs.E(errs.NotFound, "pattern type %q is not in frame %s", q.PatternType, sc.frame.info.Key())
		}
		filter += ` AND EXISTS (SELECT 1 FROM patterns p WHERE p.review_key = x.review_key AND list_contains(x.patterns, p.pattern_no) AND p.type_code = ?)`
		fargs = append(fargs, q.PatternType)
	}
	cond, cargs := textCond(words, "r.review_key IS NULL", "x.text")
	rcte, rargs := s.reviewCTE(sc)
	x := search{sc: sc, what: "recommendations", words: words, budget: searchBudget(ctx, most), order: "rec_no",
		dims: append(append([]string{}, facetDims...), "rec_kind", "level"),
		hit: rcte + `, hit AS (SELECT x.review_key, x.rec_no, x.kind AS rec_kind, x.level, x.text, x.patterns,
			r.review_id, r.version, r.board, r.year, r.kind AS review_kind
			FROM recommendations x JOIN r ON r.review_key = x.review_key WHERE x.review_key BETWEEN ? AND ?` + filter + cond + `)`,
		hitArgs: func(lo, hi int64) []any {
			return append(append(append(rargs(lo, hi), lo, hi), fargs...), cargs...)
		}}
	out := &RecommendationPage{Provenance: sc.prov, Collection: sc.coll, Query: q, Page: page, PerPage: perPage,
		Recommendations: []RecommendationExcerpt{}}
	var agg *aggSearch
	if len(words) == 0 && q.Before == 0 && !sc.byAgency() {
		// The aggregates count every recommendation by kind, level and
		// linked pattern type; rec_kind 0 and level '' hold the sums over
		// every kind and level.
		kindCond, levelCond := "rec_kind = 0", "level = ''"
		var kargs, largs []any
		if len(q.Kinds) > 0 {
			kindCond, kargs = "list_contains(?::INTEGER[], rec_kind)", []any{kinds}
		}
		if len(q.Levels) > 0 {
			levelCond, largs = "list_contains(?::VARCHAR[], level)", []any{q.Levels}
		}
		agg = &aggSearch{table: "agg_recs", measure: "recs", where: "pattern_type = ?", whereArgs: []any{q.PatternType},
			total: kindCond + " AND " + levelCond, totalArgs: append(append([]any{}, kargs...), largs...),
			dims: []aggDim{{"rec_kind::VARCHAR", "rec_kind <> 0 AND " + levelCond, largs}, {"level", "level <> '' AND " + kindCond, kargs}}}
	}
	res, fc, err := s.runSearch(ctx, x, searchPage{q.Before, page, perPage}, agg, func(rows *sql.Rows) error {
		var e RecommendationExcerpt
		var text string
		var pats []any
		if err := rows.Scan(&e.key, &e.Number, &e.Kind, &e.Level, &text, &pats, &e.ReviewID, &e.Version, &e.Board, &e.Year, &e.ReviewKind); err != nil {
			return err
		}
		for _, p := range pats {
			if n, ok := p.(int32); ok {
				e.patterns = append(e.patterns, int(n))
			}
		}
		if n, ok := s.geo.lookup(e.Board); ok {
			e.BoardName = n.name
		}
		e.Excerpt = excerpt(text)
		out.Recommendations = append(out.Recommendations, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.Total, out.TotalExact, out.ContinueBefore = res.matched, res.complete, res.continueAt()
	out.Pages = pagesOf(res, page, perPage)
	out.Facets = SearchFacets{Places: s.placeFacet(sc, fc[0]), Years: facetValues(fc[1], nil), ReviewKinds: facetValues(fc[2], nil),
		Kinds: facetValues(fc[3], nil), Levels: facetValues(fc[4], nil)}
	if err := s.recPatternTypes(ctx, out.Recommendations); err != nil {
		return nil, err
	}
	return out, nil
}

// recPatternTypes fills in the types of the patterns each listed
// recommendation is linked to.
func (s *Store) recPatternTypes(ctx context.Context, recs []RecommendationExcerpt) error {
	if len(recs) == 0 {
		return nil
	}
	keys := make([]int64, 0, len(recs))
	lo, hi := recs[0].key, recs[0].key
	for _, r := range recs {
		keys = append(keys, r.key)
		lo, hi = min(lo, r.key), max(hi, r.key)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT review_key, pattern_no, type_code FROM patterns
		WHERE review_key BETWEEN ? AND ? AND list_contains(?::BIGINT[], review_key)`, lo, hi, keys)
	if err != nil {
		return wrapDB(ctx, err, "read the patterns of recommendations")
	}
	defer rows.Close()
	type pk struct {
		key int64
		no  int
	}
	types := map[pk]string{}
	for rows.Next() {
		var k pk
		var t string
		if err := rows.Scan(&k.key, &k.no, &t); err != nil {
			return wrapDB(ctx, err, "read the patterns of recommendations")
		}
		types[k] = t
	}
	for i := range recs {
		recs[i].PatternTypes = []string{}
		for _, p := range recs[i].patterns {
			if t, ok := types[pk{recs[i].key, p}]; ok && !slices.Contains(recs[i].PatternTypes, t) {
				recs[i].PatternTypes = append(recs[i].PatternTypes, t)
			}
		}
		sort.Strings(recs[i].PatternTypes)
	}
	return wrapRowsErr(ctx, rows.Err(), "read the patterns of recommendations")
}

func (s *Store) searchPatterns(ctx context.Context, v Viewer, sel Selection, q PatternQuery, most int) (*PatternPage, error) {
	sc, page, perPage, words, err := s.startSearch(ctx, v, sel, "searching patterns", q.Before, q.Page, q.PerPage, most, q.Text)
	if err != nil {
		return nil, err
	}
	var filter string
	var fargs []any
	if q.Code != "" {
		if typ, ok := strings.CutSuffix(q.Code, ProposedSuffix); ok {
			filter += " AND x.proposed IS NOT NULL AND x.type_code = ?"
			fargs = append(fargs, typ)
		} else {
			if _, ok := sc.frame.node(TreePattern, q.Code); !ok {
				return nil, errs.E(errs.NotFound, "pattern %q is not in frame %s", q.Code, sc.frame.info.Key())
			}
			filter += " AND list_contains(?::VARCHAR[], coalesce(x.sub_code, x.type_code))"
			fargs = append(fargs, descendants(sc.frame, TreePattern, q.Code))
		}
	}
	switch q.Nature {
	case "":
	case ingest.NatureConstructive, ingest.NatureUnsafe:
		filter += " AND x.nature = ?"
		fargs = append(fargs, q.Nature)
	default:
		return nil, errs.E(errs.Invalid, "nature %q: give constructive or unsafe", q.Nature)
	}
	cond, cargs := textCond(words, "r.review_key IS NULL", "coalesce(x.summary, '')", "coalesce(x.proposed, '')")
	rcte, rargs := s.reviewCTE(sc)
	x := search{sc: sc, what: "patterns", words: words, budget: searchBudget(ctx, most), order: "pattern_no",
		dims: append(append([]string{}, facetDims...), "type_code", "nature"),
		hit: rcte + `, hit AS (SELECT x.review_key, x.pattern_no, x.type_code, x.sub_code, x.proposed, x.nature, x.priority,
			x.summary, x.episodes, r.review_id, r.version, r.board, r.year, r.kind AS review_kind
			FROM patterns x JOIN r ON r.review_key = x.review_key WHERE x.review_key BETWEEN ? AND ?` + filter + cond + `)`,
		hitArgs: func(lo, hi int64) []any {
			return append(append(append(rargs(lo, hi), lo, hi), fargs...), cargs...)
		}}
	out := &PatternPage{Provenance: sc.prov, Collection: sc.coll, Query: q, Page: page, PerPage: perPage, Patterns: []PatternExcerpt{}}
	var agg *aggSearch
	if len(words) == 0 && q.Before == 0 && !sc.byAgency() {
		// The aggregates count pattern instances (mentions) per node, by
		// nature in m1 (constructive) and m2 (unsafe); a type's node counts
		// every instance of the type.
		var types []string
		for _, n := range sc.frame.nodes(TreePattern) {
			if n.Depth == 1 {
				types = append(types, n.Code)
			}
		}
		codes := types
		if q.Code != "" {
			codes = []string{q.Code}
		}
		measure := map[string]string{"": "mentions", ingest.NatureConstructive: "m1", ingest.NatureUnsafe: "m2"}[q.Nature]
		agg = &aggSearch{table: "agg_nodes", measure: measure, where: "tree = 'pattern'",
			total: "list_contains(?::VARCHAR[], code)", totalArgs: []any{codes},
			dims:    []aggDim{{"code", "list_contains(?::VARCHAR[], code)", []any{types}}},
			natures: &aggDim{cond: "list_contains(?::VARCHAR[], code)", args: []any{codes}}}
	}
	res, fc, err := s.runSearch(ctx, x, searchPage{q.Before, page, perPage}, agg, func(rows *sql.Rows) error {
		var e PatternExcerpt
		var key int64
		var sub, proposed, summary sql.NullString
		var pri sql.NullInt64
		var eps []any
		if err := rows.Scan(&key, &e.Number, &e.Type, &sub, &proposed, &e.Nature, &pri, &summary, &eps,
			&e.ReviewID, &e.Version, &e.Board, &e.Year, &e.ReviewKind); err != nil {
			return err
		}
		e.SubPattern = sub.String
		e.Proposed = screenText(strings.Join(strings.Fields(proposed.String), " "))
		if pri.Valid {
			p := int(pri.Int64)
			e.Priority = &p
		}
		e.Summary = excerpt(summary.String)
		e.Episodes = []int{}
		for _, n := range eps {
			if v, ok := n.(int32); ok {
				e.Episodes = append(e.Episodes, int(v))
			}
		}
		if n, ok := s.geo.lookup(e.Board); ok {
			e.BoardName = n.name
		}
		out.Patterns = append(out.Patterns, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.Total, out.TotalExact, out.ContinueBefore = res.matched, res.complete, res.continueAt()
	out.Pages = pagesOf(res, page, perPage)
	label := func(code string) string {
		if n, ok := sc.frame.node(TreePattern, code); ok {
			return code + " " + n.Label
		}
		return code
	}
	out.Facets = SearchFacets{Places: s.placeFacet(sc, fc[0]), Years: facetValues(fc[1], nil), ReviewKinds: facetValues(fc[2], nil),
		PatternTypes: facetValues(fc[3], label), Natures: facetValues(fc[4], nil)}
	return out, nil
}

// RecommendationsParquet writes the recommendations of SearchRecommendations
// as a Parquet file: the page asked for, up to MaxDownloadRows a page.
func (s *Store) RecommendationsParquet(ctx context.Context, v Viewer, sel Selection, q RecommendationQuery) (*File, error) {
	if q.PerPage == 0 {
		q.PerPage = MaxDownloadRows
	}
	p, err := s.searchRecs(ctx, v, sel, q, MaxDownloadRows)
	if err != nil {
		return nil, err
	}
	cols := []column{{"review_id", "VARCHAR"}, {"version", "INTEGER"}, {"year", "INTEGER"}, {"board", "VARCHAR"},
		{"board_name", "VARCHAR"}, {"review_kind", "VARCHAR"}, {"recommendation", "INTEGER"}, {"kind", "INTEGER"},
		{"level", "VARCHAR"}, {"pattern_types", "VARCHAR[]"}, {"excerpt", "VARCHAR"}}
	rows := make([][]driver.Value, len(p.Recommendations))
	for i, r := range p.Recommendations {
		rows[i] = []driver.Value{r.ReviewID, int32(r.Version), int32(r.Year), r.Board, r.BoardName, r.ReviewKind, int32(r.Number),
			int32(r.Kind), r.Level, r.PatternTypes, r.Excerpt}
	}
	return s.pageParquet(ctx, "recommendations.parquet", cols, rows, p.Provenance, p.Page, p.Pages, p.Total)
}

// PatternsParquet writes the pattern instances of SearchPatterns as a Parquet file.
func (s *Store) PatternsParquet(ctx context.Context, v Viewer, sel Selection, q PatternQuery) (*File, error) {
	if q.PerPage == 0 {
		q.PerPage = MaxDownloadRows
	}
	p, err := s.searchPatterns(ctx, v, sel, q, MaxDownloadRows)
	if err != nil {
		return nil, err
	}
	cols := []column{{"review_id", "VARCHAR"}, {"version", "INTEGER"}, {"year", "INTEGER"}, {"board", "VARCHAR"},
		{"board_name", "VARCHAR"}, {"review_kind", "VARCHAR"}, {"pattern", "INTEGER"}, {"type", "VARCHAR"},
		{"sub_pattern", "VARCHAR"}, {"proposed", "VARCHAR"}, {"nature", "VARCHAR"}, {"priority", "INTEGER"},
		{"summary", "VARCHAR"}, {"episodes", "INTEGER[]"}}
	rows := make([][]driver.Value, len(p.Patterns))
	for i, x := range p.Patterns {
		var pri driver.Value
		if x.Priority != nil {
			pri = int32(*x.Priority)
		}
		eps := make([]int32, len(x.Episodes))
		for j, e := range x.Episodes {
			eps[j] = int32(e)
		}
		rows[i] = []driver.Value{x.ReviewID, int32(x.Version), int32(x.Year), x.Board, x.BoardName, x.ReviewKind, int32(x.Number),
			x.Type, x.SubPattern, x.Proposed, x.Nature, pri, x.Summary, eps}
	}
	return s.pageParquet(ctx, "patterns.parquet", cols, rows, p.Provenance, p.Page, p.Pages, p.Total)
}
