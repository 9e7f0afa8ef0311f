package analytics

import (
	"context"
	"fmt"
	"strings"

	"github.com/collate-project/collate/ingest/errs"
)

// A custom collection narrowed by agency cannot use the aggregates, and it
// is open only to viewers who see it in full (errNarrowingWithheld), so no
// cell of the places around it is read or protected for it. A view that
// shows only the collection's own figures reads them for the collection as
// one place, in one statement, from the base tables. DuckDB plans a
// prepared statement with arguments afresh on every run, so one statement
// plans once; and counting distinct reviews once per node rather than once
// per board and node halves the work of the node read.

// ownRead is what a view of a narrowed collection reads for it alone.
type ownRead struct {
	tree   string   // the tree of the node figures; "" reads totals only
	codes  []string // restricts the nodes (nil: all)
	splits bool
	byYear bool
	// reviewsOnly reads, of the node figures, only the reviews citing each
	// node (as trends show them; episodes and mentions are 0), which spares
	// the node read a count of distinct episodes. Not with splits.
	reviewsOnly bool
	// overview reads the totals an overview shows (episodes by adequacy,
	// family involvement, patterns and recommendations besides), not only
	// the reviews received, the reviews coded and their episodes.
	overview bool
}

// ownPart is one part of a read of a narrowed collection: a SELECT over
// the collection's reviews (ra: all of them, with whether each is coded
// with the scope's frame; r: the coded ones) whose rows are (part, key,
// year, vals), part being name, and the cube its values are added to.
type ownPart struct {
	name string
	// with is a CTE (or several, comma-separated) the part adds after r,
	// with its arguments; parts that come later may use it too.
	with     string
	withArgs []any
	sql      string
	args     []any
	c        *cube // the cube the values are added to
	cols     []int // the cube's columns of the values (nil: in order)
	// byBoard places each row at the board its key names, in a cube over
	// the geography under key "" (rolled up once filled); otherwise rows
	// go to place 0 under their key.
	byBoard bool
}

// readOwn reads the totals and the node figures of an agency-filtered
// collection as one place (the node set is nil when o.tree is ""). Of the
// totals it reads those o asks for; the others are 0.
func (s *Store) readOwn(ctx context.Context, sc *scope, o ownRead) (*protected, *measureSet, error) {
	ny := 1
	if o.byYear {
		ny = sc.to - sc.from + 1
	}
	var stmt string
	var args []any
	var nn int
	if o.overview {
		stmt, args = s.ownTotalsSQL(sc, o.byYear)
	} else {
		stmt, args, nn = s.ownSQL(sc, o)
	}
	tot := &measureSet{fam: totalsFamily, rv: totalsReviews, own: true, c: newCube(vTotals, ny, 1)}
	var ms *measureSet
	// Where each part's values go: a cube, and the columns of its values
	// (nil: in order).
	type dest struct {
		c    *cube
		cols []int
	}
	parts := map[string]dest{"t": {tot.c, []int{vReceived, vCoded, vEpisodes}}}
	// overview: the totals laid out as agg_totals' columns.
	var raw *cube
	if o.overview {
		raw = newCube(len(totalsCols), ny, 1)
		parts["t"] = dest{raw, overviewCols}
	}
	if o.tree != "" {
		ms = &measureSet{fam: nodeFamily(o.tree, o.splits), rv: nodeReviews(o.tree, o.splits), own: true, c: newCube(nn, ny, 1)}
		parts["n"] = dest{c: ms.c}
	}
	got, err := s.ownRows(ctx, sc, stmt, args)
	if err != nil {
		return nil, nil, err
	}
	for _, r := range got {
		to, ok := parts[r.place]
		if !ok || (to.cols == nil && len(r.vals) != to.c.nv) || (to.cols != nil && len(r.vals) != len(to.cols)) {
			return nil, nil, errs.E(errs.Internal, "read the collection's reviews: part %q has %d values", r.place, len(r.vals))
		}
		y := 0
		if o.byYear {
			y = r.year - sc.from
		}
		if y < 0 || y >= ny {
			return nil, nil, errs.E(errs.Internal, "read the collection's reviews: part %q has year %d", r.place, r.year)
		}
		cell := to.c.cell(r.key, 0)
		for i, v := range r.vals {
			col := i
			if to.cols != nil {
				col = to.cols[i]
			}
			cell[y*to.c.nv+col] += v
		}
	}
	if o.overview {
		tot.c = assembleTotals(raw)
	}
	return &protected{ms: tot, key: ""}, ms, nil
}

// ownSQL is the statement of readOwn for a tree's node figures and its
// arguments, with the number of values of its node rows. Its rows are
// (part, key, year, values), year 0 unless o.byYear: part "n" the node
// figures of the collection; "t" the collection's reviews received, reviews
// coded and their episodes.
func (s *Store) ownSQL(sc *scope, o ownRead) (string, []any, int) {
	nq := nodesBaseSQL(sc, o.tree, o.codes, o.splits)
	year, ryear := "0", "0"
	if o.byYear {
		year, ryear = "year", "r.year"
	}
	cte, args := s.ownReviews(sc)
	var b strings.Builder
	b.WriteString(`WITH ` + cte + nq.ctes)
	args = append(args, nq.args...)
	part := func(name, key, year string, vals []string, rest string) {
		fmt.Fprintf(&b, "\n\tSELECT '%s' AS part, %s AS key, %s AS year, [%s]::BIGINT[] AS vals %s GROUP BY ALL", name, key, year, strings.Join(vals, ", "), rest)
	}
	vals := nq.vals
	if o.reviewsOnly && !o.splits {
		vals = []string{vals[nReviews], "0", "0"}
	}
	part("n", nq.key, ryear, vals, nq.from)
	b.WriteString("\n\tUNION ALL")
	part("t", "''", year, []string{"count(*)", "count(*) FILTER (WHERE coded)",
		"coalesce(sum(n_episodes) FILTER (WHERE coded), 0)"}, "FROM ra")
	return b.String(), args, len(nq.vals)
}

// ownReviews is the CTEs every read of a narrowed collection starts with,
// and their arguments: ra, every current review of the collection, all
// frames, with whether it is coded with the scope's frame; r, its coded
// reviews.
func (s *Store) ownReviews(sc *scope) (string, []any) {
	in, inArgs := sc.inBoards(s.geo)
	w, wArgs := sc.narrowing()
	args := append(append(append([]any{sc.frame.info.ID, sc.frame.info.Version}, inArgs...), sc.from, sc.to), wArgs...)
	return `ra AS MATERIALIZED (
		SELECT review_key, board, year, n_episodes, (frame_id = ? AND frame_version = ?) AS coded
		FROM reviews WHERE status = 'current' AND ` + in + ` AND year BETWEEN ? AND ?` + w + `),
	r AS (SELECT * FROM ra WHERE coded)`, args
}

// readOwnParts reads parts of a narrowed collection's figures in one
// statement over its reviews, memoised like every read, filling each
// part's cube.
func (s *Store) readOwnParts(ctx context.Context, sc *scope, parts ...*ownPart) error {
	cte, args := s.ownReviews(sc)
	var b strings.Builder
	b.WriteString("WITH " + cte)
	for _, x := range parts {
		if x.with != "" {
			b.WriteString(",\n\t" + x.with)
			args = append(args, x.withArgs...)
		}
	}
	byName := map[string]*ownPart{}
	for i, x := range parts {
		if i > 0 {
			b.WriteString("\n\tUNION ALL")
		}
		b.WriteString("\n\t" + x.sql)
		args = append(args, x.args...)
		byName[x.name] = x
	}
	got, err := s.ownRows(ctx, sc, b.String(), args)
	if err != nil {
		return err
	}
	for _, r := range got {
		x, ok := byName[r.place]
		if !ok || (x.cols == nil && len(r.vals) != x.c.nv) || (x.cols != nil && len(r.vals) != len(x.cols)) {
			return errs.E(errs.Internal, "read the collection's reviews: part %q has %d values", r.place, len(r.vals))
		}
		key, place := r.key, 0
		if x.byBoard {
			pi, ok := s.geo.byCode[r.key]
			if !ok {
				continue // a board no longer in the geography
			}
			key, place = "", pi
		}
		cell := x.c.cell(key, place)
		for i, v := range r.vals {
			col := i
			if x.cols != nil {
				col = x.cols[i]
			}
			cell[col] += v
		}
	}
	rolled := map[*cube]bool{}
	for _, x := range parts {
		if x.byBoard && !rolled[x.c] {
			x.c.rollUp(s.geo)
			rolled[x.c] = true
		}
	}
	return nil
}

// ownTotalsSQL is the statement of readOwn for the totals an overview
// shows, and its arguments. Its rows are (part, key, year, values), part
// "t", year 0 unless byYear: the overviewCols, keyed "|in frame" as
// assembleTotals takes them (no kind: the overview shows none), counted in
// one pass over the collection's current reviews. Reading only those
// columns and grouping by frame rather than testing it in every column
// keep the statement short, which at 1,000 reviews is most of its cost.
func (s *Store) ownTotalsSQL(sc *scope, byYear bool) (string, []any) {
	in, inArgs := sc.inBoards(s.geo)
	w, args := sc.narrowing()
	args = append(append(append([]any{sc.frame.info.ID, sc.frame.info.Version}, inArgs...), sc.from, sc.to), args...)
	year := "0"
	if byYear {
		year = "year"
	}
	// The columns over the review rows, with ep their episodes by adequacy.
	var cols []string
	for _, i := range overviewCols {
		switch i {
		case vReceived, vCoded:
			cols = append(cols, "count(*)")
		case vEpisodes:
			cols = append(cols, "sum(n_episodes)")
		case vEpGood, vEpProblematic, vEpMixed, vEpNotJudged:
			cols = append(cols, "sum(coalesce(ep."+adequacies[i-vEpGood]+", 0))")
		case vRGood, vRProblematic, vRMixed, vRNotJudged:
			cols = append(cols, "count_if(ep."+adequacies[i-vRGood]+" > 0)")
		case vFamilyYes:
			cols = append(cols, "count_if(family_participation = 'yes')")
		case vPatterns:
			cols = append(cols, "sum(n_patterns)")
		case vRPatterns:
			cols = append(cols, "count_if(n_patterns > 0)")
		case vRecs:
			cols = append(cols, "sum(n_recommendations)")
		case vRRecs:
			cols = append(cols, "count_if(n_recommendations > 0)")
		}
	}
	stmt := `WITH ra AS MATERIALIZED (
		SELECT review_key, year, (frame_id = ? AND frame_version = ?) AS coded,
		       family_participation, n_episodes, n_patterns, n_recommendations
		FROM reviews WHERE status = 'current' AND ` + in + ` AND year BETWEEN ? AND ?` + w + `)
	SELECT 't' AS part, '|' || coded::INT AS key, ` + year + ` AS year,
	       [` + strings.Join(cols, ", ") + `]::BIGINT[] AS vals
	FROM ra LEFT JOIN (
		SELECT e.review_key,
		       count_if(e.adequacy = 'good') AS good, count_if(e.adequacy = 'problematic') AS problematic,
		       count_if(e.adequacy = 'mixed') AS mixed, count_if(e.adequacy = 'not_judged') AS not_judged
		FROM episodes e SEMI JOIN ra ON e.review_key = ra.review_key GROUP BY e.review_key) ep USING (review_key)
	GROUP BY ALL`
	return stmt, args
}

// overviewCols are the totals columns (v*, which index totalsCols too) an
// overview shows or protects with.
var overviewCols = []int{vReceived, vCoded, vEpisodes, vEpGood, vEpProblematic, vEpMixed, vEpNotJudged,
	vRGood, vRProblematic, vRMixed, vRNotJudged, vFamilyYes, vPatterns, vRPatterns, vRecs, vRRecs}

// adequacies are the adequacy values of episodes, in the order of the
// totals columns.
var adequacies = []string{"good", "problematic", "mixed", "not_judged"}

// ownRows runs the statement of readOwn, or takes its rows from the read
// memo (as readInto does for aggregate reads: the rows are those of the data
// version the view resolved); each row's part is held as its place.
func (s *Store) ownRows(ctx context.Context, sc *scope, stmt string, args []any) ([]readRow, error) {
	if got, ok := s.reads.get(sc.prov.DataVersion, stmt, args); ok {
		return got, nil
	}
	rows, err := s.db.QueryContext(ctx, stmt, args...)
	if err != nil {
		return nil, wrapDB(ctx, err, "read the collection's reviews")
	}
	defer rows.Close()
	var got []readRow
	for rows.Next() {
		var r readRow
		var vals any
		if err := rows.Scan(&r.place, &r.key, &r.year, &vals); err != nil {
			return nil, wrapDB(ctx, err, "read the collection's reviews")
		}
		list, _ := vals.([]any)
		r.vals = make([]int64, len(list))
		for i, v := range list {
			r.vals[i], _ = v.(int64)
		}
		got = append(got, r)
	}
	if err := rows.Err(); err != nil {
		return nil, wrapRowsErr(ctx, err, "read the collection's reviews")
	}
	s.reads.put(sc.prov.DataVersion, stmt, args, got)
	return got, nil
}
