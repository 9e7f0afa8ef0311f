package analytics

import (
	"context"

	"github.com/collate-project/collate/ingest/errs"
)

// selectNodes picks the nodes of a tree by depth or codes, in tree order.
func selectNodes(f *frameData, tree string, depth int, codes []string) ([]Node, error) {
	all := f.nodes(tree)
	if len(codes) > 0 {
		out := make([]Node, 0, len(codes))
		for _, c := range codes {
			n, ok := f.node(tree, c)
			if !ok {
				return nil, errs.E(errs.NotFound, "%s %q is not in frame %s", tree, c, f.info.Key())
			}
			out = append(out, n)
		}
		return out, nil
	}
	if depth == 0 {
		return all, nil
	}
	var out []Node
	for _, n := range all {
		if n.Depth == depth {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, errs.E(errs.Invalid, "the %s tree of frame %s has no depth %d", tree, f.info.Key(), depth)
	}
	return out, nil
}

// deepest is the deepest level of a tree that holds listed (not virtual) nodes.
func deepest(f *frameData, tree string) int {
	d := 1
	for _, n := range f.nodes(tree) {
		if !n.Virtual && n.Depth > d {
			d = n.Depth
		}
	}
	return d
}

func codesOf(nodes []Node) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.Code
	}
	return out
}

// noAgencies refuses views that need the aggregates for a custom collection
// filtered by agency; those go to the base tables.
func (sc *scope) byAgency() bool { return sc.custom != nil && len(sc.custom.Agencies) > 0 }

func (s *Store) recurrence(ctx context.Context, v Viewer, sel Selection, opt RecurrenceOptions) (*Recurrence, error) {
	tree, err := treeName(opt.Tree)
	if err != nil {
		return nil, err
	}
	sc, err := s.resolve(ctx, v, sel)
	if err != nil {
		return nil, err
	}
	nodes, err := selectNodes(sc.frame, tree, opt.Depth, opt.Codes)
	if err != nil {
		return nil, err
	}
	var codes []string
	if len(opt.Codes) > 0 || opt.Depth > 0 {
		codes = codesOf(nodes)
	}
	var p plan
	var tot *protected
	var ms *measureSet
	if sc.byAgency() {
		// Only the collection's own figures are shown: read them alone.
		tot, ms, err = s.readOwn(ctx, sc, ownRead{tree: tree, codes: codes, splits: opt.Splits})
	} else {
		p = s.planFor(sc)
		if tot, err = s.readTotals(ctx, sc, p); err == nil {
			ms, err = s.readNodes(ctx, sc, p, tree, codes, opt.Splits)
		}
	}
	if err != nil {
		return nil, err
	}
	totals, coded, codedSup := s.totalsOf(sc, tot)
	received, _ := s.collect(sc, tot, tReceived, vReceived)
	out := &Recurrence{Provenance: sc.prov, Collection: sc.coll, Tree: tree, Totals: totals}
	defs := splitsOf(tree)
	for _, n := range nodes {
		pr := s.protectKey(sc, p, ms, n.Code)
		rv, sup := s.collect(sc, pr, 0, nReviews)
		eps, _ := s.collect(sc, pr, 0, nEpisodes)
		men, _ := s.collect(sc, pr, 0, nMentions)
		// A node's mentions (codings, or pattern instances) are the sum of
		// its children's and its own, so a parent's would give away a
		// withheld child's by subtraction: unless the viewer sees the
		// collection in full, they are given for codes without children
		// only, and withheld for the rest.
		parent := !sc.full && sc.frame.hasChildren(tree, n.Code)
		row := RecurrenceRow{Node: n, Reviews: count(rv, sup), Episodes: count(eps, sup), Mentions: count(men, sup || parent)}
		row.Share, row.Interval = shareOf(rv, coded, sup || codedSup)
		row.ShareReceived, _ = shareOf(rv, received, sup || codedSup)
		if opt.Splits {
			for i, d := range defs {
				r, ssup := s.collect(sc, pr, i+1, nR+d.col-1)
				e, _ := s.collect(sc, pr, i+1, nE+d.col-1)
				m, _ := s.collect(sc, pr, i+1, nM+d.col-1)
				sh, iv := shareOf(r, coded, ssup || codedSup)
				row.Splits = append(row.Splits, Split{Dim: d.dim, Value: d.value, Reviews: count(r, ssup),
					Share: sh, Interval: iv, Episodes: count(e, ssup), Mentions: count(m, ssup || parent)})
			}
		}
		out.Rows = append(out.Rows, row)
	}
	return out, nil
}

// breakdownPlaces lists the places a breakdown shows and the parents whose
// children they are.
func (s *Store) breakdownPlaces(sc *scope, by Level) ([]int, []int, Level, error) {
	if sc.custom != nil {
		if by != "" && by != LevelBoard {
			return nil, nil, "", errs.E(errs.Invalid, "a custom collection breaks down by board only")
		}
		var parents []int
		for _, b := range sc.boards {
			parents = append(parents, s.geo.nodes[b].parent)
		}
		return sc.boards, parents, LevelBoard, nil
	}
	target := sc.place
	if by == "" {
		switch s.geo.nodes[target].level {
		case LevelUK:
			by = LevelNation
		case LevelNation:
			by = LevelRegion
		default:
			by = LevelBoard
		}
	}
	rank := map[Level]int{LevelUK: 0, LevelNation: 1, LevelRegion: 2, LevelBoard: 3}
	r, ok := rank[by]
	if !ok || by == LevelUK {
		return nil, nil, "", errs.E(errs.Invalid, "break down by %q: give nation, region or board", by)
	}
	if r < rank[s.geo.nodes[target].level] {
		return nil, nil, "", errs.E(errs.Invalid, "a %s cannot be broken down by %s", s.geo.nodes[target].level, by)
	}
	var places, parents []int
	var walk func(i int)
	walk = func(i int) {
		n := &s.geo.nodes[i]
		if n.level == by {
			places = append(places, i)
			if n.parent >= 0 {
				parents = append(parents, n.parent)
			}
			return
		}
		for _, c := range n.children {
			walk(c)
		}
	}
	walk(target)
	return places, parents, by, nil
}

func (s *Store) breakdown(ctx context.Context, v Viewer, sel Selection, opt BreakdownOptions) (*Breakdown, error) {
	tree, err := treeName(opt.Tree)
	if err != nil {
		return nil, err
	}
	sc, err := s.resolve(ctx, v, sel)
	if err != nil {
		return nil, err
	}
	depth := opt.Depth
	if depth == 0 && len(opt.Codes) == 0 {
		depth = deepest(sc.frame, tree)
	}
	nodes, err := selectNodes(sc.frame, tree, depth, opt.Codes)
	if err != nil {
		return nil, err
	}
	places, parents, by, err := s.breakdownPlaces(sc, opt.By)
	if err != nil {
		return nil, err
	}
	p := s.planFor(sc, parents...)
	tot, err := s.readTotals(ctx, sc, p)
	if err != nil {
		return nil, err
	}
	ms, err := s.readNodes(ctx, sc, p, tree, codesOf(nodes), false)
	if err != nil {
		return nil, err
	}
	out := &Breakdown{Provenance: sc.prov, Collection: sc.coll, By: by, Tree: tree, Nodes: nodes}
	prs := make([]*protected, len(nodes))
	for j, n := range nodes {
		prs[j] = s.protectKey(sc, p, ms, n.Code)
	}
	for _, pl := range places {
		info := s.geo.info(pl)
		info.FullDetail = sc.known[pl]
		coded, codedSup := tot.at(pl, tCoded, vCoded)
		shown := coded
		if !info.FullDetail && info.Level != LevelBoard {
			shown = roundTo(coded, s.policy.RoundTotals)
		}
		row := BreakdownPlace{Place: info, ReviewsCoded: count(shown, codedSup)}
		for j := range nodes {
			rv, sup := prs[j].at(pl, 0, nReviews)
			sh, iv := shareOf(rv, coded, sup || codedSup)
			row.Cells = append(row.Cells, Cell{Reviews: count(rv, sup), Share: sh, Interval: iv})
		}
		out.Places = append(out.Places, row)
	}
	return out, nil
}
