package analytics

import (
	"context"
	"math"
	"sort"
	"strings"

	"github.com/collate-project/collate/ingest/errs"
)

// singleFamily is one measure with no relation but those across places.
var singleFamily = &family{stage: []int{1}}

func firstReviews(v []int64) []int { return []int{int(v[0])} }

func (s *Store) coOccurrence(ctx context.Context, v Viewer, sel Selection, opt CoOccurrenceOptions) (*CoOccurrence, error) {
	sc, err := s.resolve(ctx, v, sel)
	if err != nil {
		return nil, err
	}
	within := opt.Within
	if within == "" {
		within = "episode"
	}
	depth := opt.Depth
	switch within {
	case "episode":
		if depth == 0 {
			depth = deepest(sc.frame, TreeFactor)
		}
	case "review":
		if depth == 0 {
			depth = 2
		}
		if depth > 2 {
			return nil, errs.E(errs.Invalid, "co-occurrence within reviews is kept for factor types (depth 2) and levels (depth 1), not depth %d", depth)
		}
	default:
		return nil, errs.E(errs.Invalid, "within %q: give episode or review", within)
	}
	nodes, err := selectNodes(sc.frame, TreeFactor, depth, nil)
	if err != nil {
		return nil, err
	}
	if opt.Focus != "" {
		n, ok := sc.frame.node(TreeFactor, opt.Focus)
		if !ok {
			return nil, errs.E(errs.NotFound, "factor %q is not in frame %s", opt.Focus, sc.frame.info.Key())
		}
		if n.Depth != depth {
			return nil, errs.E(errs.Invalid, "factor %s is at depth %d; ask for depth %d", n.Code, n.Depth, n.Depth)
		}
	}
	minSupport := max(opt.MinSupport, 1)
	limit := opt.Limit
	if limit == 0 {
		limit = 200
	}
	r, err := s.readCoOccurrence(ctx, sc, within, depth, codesOf(nodes), opt.Focus, minSupport, limit)
	if err != nil {
		return nil, err
	}
	p, tot, ms := r.p, r.tot, r.nodes
	totals, coded, codedSup := s.totalsOf(sc, tot)
	out := &CoOccurrence{Provenance: sc.prov, Collection: sc.coll, Within: within, Depth: depth}
	var total int64
	col := nEpisodes
	if within == "episode" {
		total, _ = s.collect(sc, tot, tCoded, vEpisodes)
		out.Total = totals.Episodes
	} else {
		total = coded
		out.Total = totals.ReviewsCoded
		col = nReviews
	}
	type nodeCount struct {
		v   int64
		sup bool
	}
	counts := map[string]nodeCount{}
	for _, n := range nodes {
		pr := s.protectKey(sc, p, ms, n.Code)
		c, sup := s.collect(sc, pr, 0, col)
		counts[n.Code] = nodeCount{c, sup}
		if opt.Focus == "" || n.Code == opt.Focus {
			out.Nodes = append(out.Nodes, CoNode{Node: n, Count: count(c, sup)})
		}
	}

	pset, pc := r.pairs, r.pairs.c
	pcol := 1
	if within == "review" {
		pcol = 0
	}
	out.Pairs = []Pair{}
	for _, key := range pc.keys {
		a, b, _ := strings.Cut(key, "|")
		pr := s.protectKey(sc, p, pset, key)
		n, sup := s.collect(sc, pr, 0, pcol)
		rv, _ := s.collect(sc, pr, 0, 0)
		if !sup && n < int64(minSupport) {
			continue
		}
		ca, cb := counts[a], counts[b]
		pair := Pair{A: a, B: b, Count: count(n, sup), Reviews: count(rv, sup)}
		if sup || ca.sup || cb.sup || codedSup {
			pair.Support, pair.Lift, pair.Jaccard = figure(0, true), figure(0, true), figure(0, true)
		} else {
			pair.Support = ratio(float64(n), float64(total))
			pair.Lift = ratio(float64(n)*float64(total), float64(ca.v)*float64(cb.v))
			pair.Jaccard = ratio(float64(n), float64(ca.v+cb.v-n))
		}
		out.Pairs = append(out.Pairs, pair)
	}
	sort.SliceStable(out.Pairs, func(i, j int) bool {
		x, xok := out.Pairs[i].Count.Value()
		y, yok := out.Pairs[j].Count.Value()
		if xok != yok {
			return xok
		}
		if x != y {
			return x > y
		}
		return out.Pairs[i].A+out.Pairs[i].B < out.Pairs[j].A+out.Pairs[j].B
	})
	if len(out.Pairs) > limit {
		out.Pairs = out.Pairs[:limit]
	}
	return out, nil
}

func ratio(a, b float64) Figure {
	if b == 0 {
		return NoFigure()
	}
	return KnownFigure(a / b)
}

// coReads is what a co-occurrence reads: the totals, the node figures and
// the pairs, with the plan of their context.
type coReads struct {
	p            plan
	tot          *protected
	nodes, pairs *measureSet
}

// readCoOccurrence reads the figures of a co-occurrence of codes. A
// collection narrowed by kind or agency is read alone (its views are open
// only where it is seen in full): from its reviews, in one statement, when
// it is narrowed by agency; from the aggregates of its own boards when by
// kind only. Anything else is read over its context, for protection.
func (s *Store) readCoOccurrence(ctx context.Context, sc *scope, within string, depth int, codes []string, focus string, minSupport, limit int) (coReads, error) {
	var r coReads
	var err error
	switch {
	case sc.byAgency():
		t, n, p := sc.coOccurrenceParts(within, codes, focus, minSupport, limit)
		if err := s.readOwnParts(ctx, sc, t, n, p); err != nil {
			return r, err
		}
		r.tot, r.nodes, r.pairs = &protected{ms: ownSet(t.c)}, ownSet(n.c), ownSet(p.c)
		return r, nil
	case sc.alone():
		if r.tot, err = s.totalsAlone(ctx, sc); err == nil {
			r.nodes, err = s.nodesAlone(ctx, sc, TreeFactor, codes, false)
		}
	default:
		r.p = s.planFor(sc)
		if r.tot, err = s.readTotals(ctx, sc, r.p); err == nil {
			r.nodes, err = s.readNodes(ctx, sc, r.p, TreeFactor, codes, false)
		}
	}
	if err == nil {
		r.pairs, err = s.readPairs(ctx, sc, r.p, within, depth, focus, minSupport, limit)
	}
	return r, err
}

// readPairs reads the pairs of a co-occurrence from the aggregates: with a
// focus, every pair with it; otherwise the collection's strongest pairs
// first, so the context is read for those only. The table and its roll-up
// keep each pair once (a < b).
func (s *Store) readPairs(ctx context.Context, sc *scope, p plan, within string, depth int, focus string, minSupport, limit int) (*measureSet, error) {
	where := "within = ? AND depth = ?"
	args := []any{within, depth}
	if sc.alone() {
		return s.pairsAlone(ctx, sc, where, args, within, focus, minSupport, limit)
	}
	q := query{table: "agg_pairs", keys: "least(a, b), greatest(a, b)", nkeys: 2, vals: sums("reviews", "episodes")}
	if focus != "" {
		q.where, q.whereArgs = where+" AND (a = ? OR b = ?)", append(args, focus, focus)
	} else {
		keys, err := s.topPairs(ctx, sc, where, args, within, minSupport, limit)
		if err != nil {
			return nil, err
		}
		if len(keys) == 0 {
			return &measureSet{c: newCube(len(q.vals), 1, len(s.geo.nodes))}, nil
		}
		in := " AND list_contains(?::VARCHAR[], a || '|' || b)"
		q.where, q.whereArgs = where+in, append(append([]any{}, args...), keys)
		q.rollupWhere, q.rollupWhereArgs = where+" AND a < b"+in, append(append([]any{}, args...), keys)
	}
	c, err := s.read(ctx, sc, p, q)
	return &measureSet{c: c, fam: singleFamily, rv: firstReviews}, err
}

// pairsAlone reads the pairs of a co-occurrence of a collection narrowed
// by kind alone (see readAlone), in one statement: the pairs of its boards
// summed, the strongest first unless there is a focus.
func (s *Store) pairsAlone(ctx context.Context, sc *scope, where string, args []any, within, focus string, minSupport, limit int) (*measureSet, error) {
	f, fargs := sc.filter(s.geo, true)
	in, inArgs := sc.inBoardsSorted(s.geo)
	all := append(append(fargs, args...), inArgs...)
	stmt := `SELECT 'p' AS part, a || '|' || b AS key, 0 AS year, [sum(reviews), sum(episodes)]::BIGINT[] AS vals
		FROM agg_pairs WHERE ` + f + ` AND ` + where + ` AND ` + in
	if focus != "" {
		stmt += ` AND (a = ? OR b = ?) GROUP BY a, b`
		all = append(all, focus, focus)
	} else {
		col := "episodes"
		if within == "review" {
			col = "reviews"
		}
		stmt += ` GROUP BY a, b HAVING sum(` + col + `) >= ? ORDER BY sum(` + col + `) DESC, a, b LIMIT ?`
		all = append(all, minSupport, limit)
	}
	got, err := s.ownRows(ctx, sc, stmt, all)
	if err != nil {
		return nil, err
	}
	c := newCube(2, 1, 1)
	for _, r := range got {
		copy(c.cell(r.key, 0), r.vals)
	}
	return ownSet(c), nil
}

// topPairs finds the collection's strongest pairs, as "a|b" keys.
func (s *Store) topPairs(ctx context.Context, sc *scope, where string, args []any, within string, minSupport, limit int) ([]string, error) {
	f, fargs := sc.filter(s.geo, true)
	col := "episodes"
	if within == "review" {
		col = "reviews"
	}
	inColl, cargs := s.collectionCond(sc)
	table := "agg_pairs"
	if s.rollupServes(sc) {
		table, where = "agg_pairs_r", where+" AND a < b"
	}
	q := `SELECT a || '|' || b FROM ` + table + ` WHERE ` + f + ` AND ` + where + inColl +
		` GROUP BY a, b HAVING sum(` + col + `) >= ? ORDER BY sum(` + col + `) DESC, a, b LIMIT ?`
	all := append(append(append(fargs, args...), cargs...), minSupport, limit)
	rows, err := s.db.QueryContext(ctx, q, all...)
	if err != nil {
		return nil, wrapDB(ctx, err, "read top pairs")
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, wrapDB(ctx, err, "read top pairs")
		}
		keys = append(keys, k)
	}
	return keys, wrapRowsErr(ctx, rows.Err(), "read top pairs")
}

// rollupServes reports whether the roll-ups hold the collection as a whole:
// a region, a nation or the UK, not narrowed by kind.
func (s *Store) rollupServes(sc *scope) bool {
	return sc.custom == nil && s.geo.nodes[sc.place].level != LevelBoard
}

// collectionCond restricts an aggregate read to the collection's own places.
func (s *Store) collectionCond(sc *scope) (string, []any) {
	if sc.custom != nil {
		boards := make([]string, len(sc.boards))
		for i, b := range sc.boards {
			boards[i] = s.geo.nodes[b].code
		}
		return " AND list_contains(?::VARCHAR[], board)", []any{boards}
	}
	switch s.geo.nodes[sc.place].level {
	case LevelNation:
		return " AND nation = ?", []any{s.geo.nodes[sc.place].code}
	case LevelRegion:
		return " AND region = ?", []any{s.geo.nodes[sc.place].code}
	case LevelBoard:
		return " AND board = ?", []any{s.geo.nodes[sc.place].code}
	}
	return "", nil
}

func (s *Store) flows(ctx context.Context, v Viewer, sel Selection, opt FlowOptions) (*Flows, error) {
	sc, err := s.resolve(ctx, v, sel)
	if err != nil {
		return nil, err
	}
	// Nature '' rows count each link once over both natures (see
	// ingest/aggregates.go); summing the two would count twice an episode
	// that patterns of both natures draw on.
	where := "nature = ?"
	args := []any{opt.Nature}
	switch opt.Nature {
	case "":
	case "constructive", "unsafe":
	default:
		return nil, errs.E(errs.Invalid, "nature %q: give constructive or unsafe", opt.Nature)
	}
	// A collection narrowed by kind or agency is read alone (see readCoOccurrence).
	var p plan
	var set *measureSet
	q := query{table: "agg_flows", keys: "factor_type, pattern_type", vals: sums("reviews", "episodes"), where: where, whereArgs: args}
	switch {
	case sc.byAgency():
		f := sc.flowsPart(opt.Nature)
		err = s.readOwnParts(ctx, sc, f)
		set = ownSet(f.c)
	case sc.alone():
		set, err = s.readAlone(ctx, sc, q)
	default:
		p = s.planFor(sc)
		set = &measureSet{fam: singleFamily, rv: firstReviews}
		set.c, err = s.read(ctx, sc, p, q)
	}
	if err != nil {
		return nil, err
	}
	c := set.c
	out := &Flows{Provenance: sc.prov, Collection: sc.coll, Links: []FlowLink{}}
	for _, n := range sc.frame.nodes(TreeFactor) {
		if n.Depth == 2 {
			out.Sources = append(out.Sources, n)
		}
	}
	for _, n := range sc.frame.nodes(TreePattern) {
		if n.Depth == 1 {
			out.Targets = append(out.Targets, n)
		}
	}
	keys := append([]string(nil), c.keys...)
	sort.Strings(keys)
	for _, key := range keys {
		src, dst, _ := strings.Cut(key, "|")
		pr := s.protectKey(sc, p, set, key)
		e, sup := s.collect(sc, pr, 0, 1)
		r, _ := s.collect(sc, pr, 0, 0)
		if !sup && e == 0 {
			continue
		}
		out.Links = append(out.Links, FlowLink{Source: src, Target: dst, Episodes: count(e, sup), Reviews: count(r, sup)})
	}
	return out, nil
}

func (s *Store) goodPractice(ctx context.Context, v Viewer, sel Selection, opt GoodPracticeOptions) (*GoodPractice, error) {
	sc, err := s.resolve(ctx, v, sel)
	if err != nil {
		return nil, err
	}
	depth := opt.Depth
	if depth == 0 {
		depth = deepest(sc.frame, TreeFactor)
	}
	nodes, err := selectNodes(sc.frame, TreeFactor, depth, nil)
	if err != nil {
		return nil, err
	}
	// A collection narrowed by kind or agency is read alone (see readCoOccurrence).
	var p plan
	var tot *protected
	var ms *measureSet
	switch {
	case sc.byAgency():
		a, n := sc.goodPracticeParts(codesOf(nodes))
		err = s.readOwnParts(ctx, sc, a, n)
		tot, ms = &protected{ms: ownSet(a.c)}, ownSet(n.c)
	case sc.alone():
		if tot, err = s.totalsAlone(ctx, sc); err == nil {
			ms, err = s.nodesAlone(ctx, sc, TreeFactor, codesOf(nodes), true)
		}
	default:
		sc.needAdequacy = true
		p = s.planFor(sc)
		if tot, err = s.readTotals(ctx, sc, p); err == nil {
			ms, err = s.readNodes(ctx, sc, p, TreeFactor, codesOf(nodes), true)
		}
	}
	if err != nil {
		return nil, err
	}
	G, gSup := s.collect(sc, tot, tGood, vEpGood)
	P, pSup := s.collect(sc, tot, tProblematic, vEpProblematic)
	out := &GoodPractice{Provenance: sc.prov, Collection: sc.coll, GoodEpisodes: count(G, gSup),
		ProblematicEpisodes: count(P, pSup), Test: "fisher_exact_two_sided, benjamini_hochberg"}
	// Measures of the split family: 1 + index of the split value.
	const mGood, mProb = 3, 4 // adequacy good, adequacy problematic
	ps := make([]float64, len(nodes))
	ors := make([]float64, len(nodes))
	for i, n := range nodes {
		pr := s.protectKey(sc, p, ms, n.Code)
		g, gs := s.collect(sc, pr, mGood, nE+2)
		b, bs := s.collect(sc, pr, mProb, nE+3)
		row := PracticeRow{Node: n, Good: count(g, gs), Problematic: count(b, bs)}
		ps[i], ors[i] = math.NaN(), math.NaN()
		if gs || bs || gSup || pSup {
			row.GoodShare, row.OddsRatio, row.P, row.PAdjusted = SuppressedFigure(), SuppressedFigure(), SuppressedFigure(), SuppressedFigure()
		} else {
			row.GoodShare = ratio(float64(g), float64(g+b))
			// Haldane–Anscombe correction keeps the odds ratio finite with a zero cell.
			a, bb, c, d := float64(g), float64(b), float64(G-g), float64(P-b)
			if a == 0 || bb == 0 || c == 0 || d == 0 {
				a, bb, c, d = a+0.5, bb+0.5, c+0.5, d+0.5
			}
			ors[i] = a * d / (bb * c)
			row.OddsRatio = KnownFigure(ors[i])
			if g+b > 0 {
				ps[i] = FisherExact(int(g), int(b), int(G-g), int(P-b))
				row.P = KnownFigure(ps[i])
			}
		}
		out.Rows = append(out.Rows, row)
	}
	adj := BenjaminiHochberg(ps)
	for i := range out.Rows {
		if math.IsNaN(adj[i]) {
			continue
		}
		out.Rows[i].PAdjusted = KnownFigure(adj[i])
		if adj[i] < 0.05 {
			if ors[i] > 1 {
				out.Rows[i].Leaning = "good"
			} else if ors[i] < 1 {
				out.Rows[i].Leaning = "problematic"
			}
		}
	}
	idx := make([]int, len(out.Rows))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(x, y int) bool {
		a, b := ors[idx[x]], ors[idx[y]]
		if math.IsNaN(a) != math.IsNaN(b) {
			return !math.IsNaN(a)
		}
		return a > b
	})
	rows := make([]PracticeRow, len(idx))
	for i, j := range idx {
		rows[i] = out.Rows[j]
	}
	out.Rows = rows
	if opt.Limit > 0 && len(out.Rows) > opt.Limit {
		out.Rows = out.Rows[:opt.Limit]
	}
	return out, nil
}
