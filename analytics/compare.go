package analytics

import (
	"context"
	"math"

	"github.com/collate-project/collate/ingest/errs"
)

// reference is what a collection is compared with: a place, less the
// collection when the place contains it.
type reference struct {
	info   CollectionInfo
	place  int
	minus  bool // the place less the collection
	rule   string
	parent int // for the default reference of a geographic collection: the parent whose children are the siblings
}

func (s *Store) resolveReference(ctx context.Context, sc *scope, ref string) (*reference, error) {
	if ref == "" {
		if sc.custom != nil {
			pi := s.geo.byCode[sc.coll.Parent]
			r := &reference{info: s.geo.info(pi), place: pi, minus: true, parent: -1}
			r.rule = r.info.Code + " without " + sc.coll.Ref
			return r, nil
		}
		if sc.place == 0 {
			return nil, errs.E(errs.Invalid, "the UK has no parent to compare with; give a reference collection")
		}
		pi := s.geo.nodes[sc.place].parent
		r := &reference{info: s.geo.info(pi), place: pi, minus: true, parent: pi}
		r.rule = r.info.Code + " without " + sc.coll.Code
		return r, nil
	}
	n, ok := s.geo.lookup(ref)
	if !ok {
		return nil, errs.E(errs.Invalid, "reference %q: give UK or a nation, region or board code", ref)
	}
	r := &reference{info: s.geo.info(n.idx), place: n.idx, parent: -1}
	inside := func(i int) bool {
		if sc.custom != nil {
			for _, b := range sc.boards {
				if !s.geo.within(b, i) {
					return false
				}
			}
			return true
		}
		return s.geo.within(sc.place, i)
	}
	overlaps := func(i int) bool {
		if sc.custom != nil {
			for _, b := range sc.boards {
				if s.geo.within(b, i) {
					return true
				}
			}
			return false
		}
		return s.geo.within(sc.place, i) || s.geo.within(i, sc.place)
	}
	switch {
	case n.idx == sc.place:
		return nil, errs.E(errs.Invalid, "a collection cannot be compared with itself")
	case inside(n.idx):
		r.minus = true
		r.rule = n.code + " without " + sc.coll.Code
		if sc.custom == nil && s.geo.nodes[sc.place].parent == n.idx {
			r.parent = n.idx
		}
	case overlaps(n.idx):
		return nil, errs.E(errs.Invalid, "reference %s overlaps collection %s without containing it", ref, sc.coll.Ref)
	default:
		r.rule = n.code
	}
	return r, nil
}

// refValue is the reference's value of a column and whether it is withheld:
// the place's value in at, less the collection's in pr when the place
// contains it. at and pr are the same but for a narrowed collection, whose
// reference place is read without the narrowing. A remainder is published
// when both the place and the collection are (it is then their difference,
// which anyone can work out), or when every sibling making it up is.
func (s *Store) refValue(sc *scope, r *reference, at, pr *protected, m, col int) (int64, bool) {
	v, sup := at.at(r.place, m, col)
	sup = sup && !sc.known[r.place]
	if !r.minus {
		return v, sup
	}
	cv, csup := s.collect(sc, pr, m, col)
	rest := v - cv
	if !sup && !csup {
		return rest, false
	}
	if r.parent >= 0 {
		all := true
		for _, c := range s.geo.nodes[r.parent].children {
			if c != sc.place && pr.sp.suppressed(c, m) && !sc.known[c] {
				all = false
			}
		}
		return rest, !all
	}
	return rest, true
}

func (s *Store) compare(ctx context.Context, v Viewer, sel Selection, opt CompareOptions) (*Comparison, error) {
	tree, err := treeName(opt.Tree)
	if err != nil {
		return nil, err
	}
	sc, err := s.resolve(ctx, v, sel)
	if err != nil {
		return nil, err
	}
	// The reference lies outside the viewer's own place.
	switch {
	case sc.restricted() && !v.seesAll():
		return nil, errNarrowingWithheld(sc.coll.Ref)
	case sc.ranged && !v.seesAll():
		return nil, errYearsWithheld(sc.spanFrom, sc.spanTo)
	}
	ref, err := s.resolveReference(ctx, sc, opt.Reference)
	if err != nil {
		return nil, err
	}
	depth := opt.Depth
	if depth == 0 {
		depth = deepest(sc.frame, tree)
	}
	nodes, err := selectNodes(sc.frame, tree, depth, nil)
	if err != nil {
		return nil, err
	}
	var more []int
	if ref.place != 0 {
		more = append(more, s.geo.nodes[ref.place].parent)
	}
	p := s.planFor(sc, more...)
	tot, err := s.readTotals(ctx, sc, p)
	if err != nil {
		return nil, err
	}
	ms, err := s.readNodes(ctx, sc, p, tree, codesOf(nodes), false)
	if err != nil {
		return nil, err
	}
	// A narrowed collection is compared with all the reference place's
	// reviews (less its own when the place contains it): London's reviews
	// involving the police with London's others. Only viewers who see
	// everything compare one, so nothing here is withheld.
	rsc, rp, rtot, rms := sc, p, tot, ms
	if sc.restricted() {
		rsc = sc.unnarrowed()
		rp = s.planFor(rsc, more...)
		if rtot, err = s.readTotals(ctx, rsc, rp); err != nil {
			return nil, err
		}
		if rms, err = s.readNodes(ctx, rsc, rp, tree, codesOf(nodes), false); err != nil {
			return nil, err
		}
	}
	_, n1, n1Sup := s.totalsOf(sc, tot)
	n2, n2Sup := s.refValue(sc, ref, rtot, tot, tCoded, vCoded)
	out := &Comparison{Provenance: sc.prov, Collection: sc.coll, Reference: ref.info, ReferenceRule: ref.rule,
		N: count(n1, n1Sup), RefN: count(n2, n2Sup), Test: "fisher_exact_two_sided", Adjustment: "benjamini_hochberg"}
	ps := make([]float64, len(nodes))
	for i, n := range nodes {
		pr := s.protectKey(sc, p, ms, n.Code)
		rpr := pr
		if rms != ms {
			rpr = s.protectKey(rsc, rp, rms, n.Code)
		}
		a, aSup := s.collect(sc, pr, 0, nReviews)
		c, cSup := s.refValue(sc, ref, rpr, pr, 0, nReviews)
		row := CompareRow{Node: n, Reviews: count(a, aSup), RefReviews: count(c, cSup)}
		row.Share, _ = shareOf(a, n1, aSup || n1Sup)
		row.RefShare, _ = shareOf(c, n2, cSup || n2Sup)
		ps[i] = math.NaN()
		if aSup || cSup || n1Sup || n2Sup {
			row.Difference, row.Ratio, row.P, row.PAdjusted = SuppressedFigure(), SuppressedFigure(), SuppressedFigure(), SuppressedFigure()
		} else if n1 > 0 && n2 > 0 {
			s1, s2 := float64(a)/float64(n1), float64(c)/float64(n2)
			row.Difference = KnownFigure(s1 - s2)
			row.Ratio = KnownFigure(s1 / s2)
			ps[i] = FisherExact(int(a), int(n1-a), int(c), int(n2-c))
			row.P = KnownFigure(ps[i])
		}
		out.Rows = append(out.Rows, row)
	}
	adj := BenjaminiHochberg(ps)
	for i := range out.Rows {
		if math.IsNaN(adj[i]) {
			continue
		}
		row := &out.Rows[i]
		row.PAdjusted = KnownFigure(adj[i])
		if adj[i] < 0.05 {
			if d, _ := row.Difference.Value(); d > 0 {
				row.Flag = "over"
			} else if d < 0 {
				row.Flag = "under"
			}
		}
	}
	return out, nil
}

// funnelUnits lists the units of a funnel plot and the parents whose children they are.
func (s *Store) funnelUnits(sc *scope, by Level) ([]int, []int, error) {
	if by == "" {
		by = LevelBoard
	}
	if sc.custom == nil && s.geo.nodes[sc.place].level == LevelBoard {
		// A board is plotted among the boards of its region.
		region := s.geo.nodes[sc.place].parent
		return s.geo.nodes[region].children, []int{region}, nil
	}
	places, parents, _, err := s.breakdownPlaces(sc, by)
	return places, parents, err
}

func (s *Store) funnel(ctx context.Context, v Viewer, sel Selection, opt FunnelOptions) (*Funnel, error) {
	tree, err := treeName(opt.Tree)
	if err != nil {
		return nil, err
	}
	sc, err := s.resolve(ctx, v, sel)
	if err != nil {
		return nil, err
	}
	node, ok := sc.frame.node(tree, opt.Code)
	if !ok {
		return nil, errs.E(errs.NotFound, "%s %q is not in frame %s", tree, opt.Code, sc.frame.info.Key())
	}
	units, parents, err := s.funnelUnits(sc, opt.By)
	if err != nil {
		return nil, err
	}
	var p plan
	var tot *protected
	var ms *measureSet
	if sc.byAgency() {
		// Only the collection's own boards are plotted, all seen in full:
		// read them alone.
		t, n := s.funnelParts(sc, tree, node.Code)
		err = s.readOwnParts(ctx, sc, t, n)
		tot = &protected{ms: &measureSet{c: t.c, own: true}}
		ms = &measureSet{c: n.c, own: true}
	} else {
		p = s.planFor(sc, parents...)
		if tot, err = s.readTotals(ctx, sc, p); err == nil {
			ms, err = s.readNodes(ctx, sc, p, tree, []string{node.Code}, false)
		}
	}
	if err != nil {
		return nil, err
	}
	key := node.Code
	if ms.own {
		key = ""
	}
	pr := s.protectKey(sc, p, ms, key)
	_, n, nSup := s.totalsOf(sc, tot)
	x, xSup := s.collect(sc, pr, 0, nReviews)
	out := &Funnel{Provenance: sc.prov, Collection: sc.coll, Node: node,
		Method: "exact binomial limits around the collection's share, interpolated (Spiegelhalter 2005)"}
	out.Target, _ = shareOf(x, n, xSup || nSup)
	theta, known := out.Target.Value()
	maxN := 0
	for _, u := range units {
		info := s.geo.info(u)
		info.FullDetail = sc.known[u]
		un, unSup := unitValue(sc, tot, u, tCoded, vCoded)
		ux, uxSup := unitValue(sc, pr, u, 0, nReviews)
		pt := FunnelPoint{Place: info, N: count(un, unSup), Reviews: count(ux, uxSup)}
		pt.Share, _ = shareOf(ux, un, unSup || uxSup)
		if sh, ok := pt.Share.Value(); ok && known && un > 0 {
			w := newBinomWindow(int(un), theta)
			switch {
			case sh > w.limit(0.975, int(un)):
				pt.Position = "above"
			case sh < w.limit(0.025, int(un)):
				pt.Position = "below"
			}
			pt.Outside998 = sh > w.limit(0.999, int(un)) || sh < w.limit(0.001, int(un))
		}
		if !unSup {
			maxN = max(maxN, int(un))
		}
		out.Points = append(out.Points, pt)
	}
	if known && theta > 0 && theta < 1 {
		for _, m := range funnelSteps(maxN) {
			w := newBinomWindow(m, theta)
			out.Limits = append(out.Limits, FunnelLimit{N: m,
				Lo95: w.limit(0.025, m), Hi95: w.limit(0.975, m), Lo998: w.limit(0.001, m), Hi998: w.limit(0.999, m)})
		}
	}
	return out, nil
}

// unitValue is a funnel unit's value of a column and whether it is withheld
// from the viewer under measure m. A set read for a narrowed collection
// alone (own) holds only the collection's boards, all seen in full.
func unitValue(sc *scope, pr *protected, u, m, col int) (int64, bool) {
	if pr.ms.own {
		return pr.ms.c.at(pr.key, u)[col], false
	}
	v, sup := pr.at(u, m, col)
	return v, sup && !sc.known[u]
}

// funnelSteps spaces about 60 denominators from 1 to at least maxN.
func funnelSteps(maxN int) []int {
	top := max(maxN, 10)
	top = top + top/10
	var out []int
	last := 0
	for i := 0; i <= 60; i++ {
		m := int(math.Round(math.Pow(float64(top), float64(i)/60)))
		if m > last {
			out = append(out, m)
			last = m
		}
	}
	return out
}

// unnarrowed is a narrowed collection's scope without its kinds and
// agencies: the same boards, years and frame.
func (sc *scope) unnarrowed() *scope {
	plain := *sc
	c := *sc.custom
	c.Kinds, c.Agencies = nil, nil
	plain.custom = &c
	return &plain
}
