package analytics

import (
	"context"
	"strconv"
)

var (
	recKinds  = []int{1, 2, 3}
	recLevels = []string{"local", "regional", "national"}
)

// recKey is the agg_recs key of a kind (0: every kind), level ("": every
// level) and pattern type ("": every recommendation).
func recKey(kind int, level, ptype string) string {
	return strconv.Itoa(kind) + "|" + level + "|" + ptype
}

// recGrid gathers the cells of one pattern type (or of every recommendation)
// into one vector per place: for measure i, reviews at 2i and recommendations
// at 2i+1. Measures: 0 the total, 1..3 kinds, 4..6 levels, then with grid the
// nine kind × level cells.
type recGrid struct {
	keys []string
	fam  *family
}

func newRecGrid(ptype string, grid bool) recGrid {
	g := recGrid{keys: []string{recKey(0, "", ptype)}}
	f := &family{stage: []int{1}}
	kindsM, levelsM := []int{0}, []int{0}
	for _, k := range recKinds {
		kindsM = append(kindsM, len(g.keys))
		g.keys = append(g.keys, recKey(k, "", ptype))
		f.stage = append(f.stage, 2)
	}
	for _, l := range recLevels {
		levelsM = append(levelsM, len(g.keys))
		g.keys = append(g.keys, recKey(0, l, ptype))
		f.stage = append(f.stage, 2)
	}
	f.groups = [][]int{kindsM, levelsM}
	if grid {
		for i, k := range recKinds {
			row := []int{1 + i}
			for _, l := range recLevels {
				row = append(row, len(g.keys))
				g.keys = append(g.keys, recKey(k, l, ptype))
				f.stage = append(f.stage, 2)
			}
			f.groups = append(f.groups, row)
		}
		for j := range recLevels {
			col := []int{4 + j}
			for i := range recKinds {
				col = append(col, 7+3*i+j)
			}
			f.groups = append(f.groups, col)
		}
	}
	g.fam = f
	return g
}

// gather builds the family's cube: one key with every measure's values.
func (g recGrid) gather(c *cube, key string) *cube {
	out := newCube(2*len(g.keys), 1, c.nodes)
	for place := 0; place < c.nodes; place++ {
		any := false
		for _, k := range g.keys {
			if d, ok := c.data[k]; ok && d[place] != nil {
				any = true
			}
		}
		if !any {
			continue
		}
		cell := out.cell(key, place)
		for i, k := range g.keys {
			v := c.at(k, place)
			cell[2*i], cell[2*i+1] = v[0], v[1]
		}
	}
	return out
}

func gridReviews(v []int64) []int {
	r := make([]int, len(v)/2)
	for i := range r {
		r[i] = int(v[2*i])
	}
	return r
}

func (s *Store) recommendations(ctx context.Context, v Viewer, sel Selection) (*Recommendations, error) {
	sc, err := s.resolve(ctx, v, sel)
	if err != nil {
		return nil, err
	}
	// A collection narrowed by kind or agency is read alone (see readCoOccurrence).
	var p plan
	var c *cube
	q := query{table: "agg_recs", keys: "rec_kind, level, pattern_type", vals: sums("reviews", "recs")}
	switch {
	case sc.byAgency():
		r := sc.recsPart()
		err = s.readOwnParts(ctx, sc, r)
		c = r.c
	case sc.alone():
		var ms *measureSet
		if ms, err = s.readAlone(ctx, sc, q); err == nil {
			c = ms.c
		}
	default:
		p = s.planFor(sc)
		c, err = s.read(ctx, sc, p, q)
	}
	if err != nil {
		return nil, err
	}
	out := &Recommendations{Provenance: sc.prov, Collection: sc.coll, Kinds: recKinds, Levels: recLevels}
	protectGrid := func(ptype string, grid bool) (recGrid, *protected) {
		g := newRecGrid(ptype, grid)
		ms := &measureSet{c: g.gather(c, "g"), fam: g.fam, rv: gridReviews, own: sc.restricted()}
		return g, s.protectKey(sc, p, ms, "g")
	}
	cell := func(pr *protected, m int) RecCell {
		n, sup := s.collect(sc, pr, m, 2*m+1)
		r, _ := s.collect(sc, pr, m, 2*m)
		return RecCell{Recommendations: count(n, sup), Reviews: count(r, sup)}
	}
	_, pr := protectGrid("", true)
	all := cell(pr, 0)
	out.Total, out.Reviews = all.Recommendations, all.Reviews
	for i, k := range recKinds {
		c := cell(pr, 1+i)
		c.Kind = k
		out.ByKind = append(out.ByKind, c)
		var row []RecCell
		for j, l := range recLevels {
			x := cell(pr, 7+3*i+j)
			x.Kind, x.Level = k, l
			row = append(row, x)
		}
		out.Grid = append(out.Grid, row)
	}
	for j, l := range recLevels {
		c := cell(pr, 4+j)
		c.Level = l
		out.ByLevel = append(out.ByLevel, c)
	}
	for _, n := range sc.frame.nodes(TreePattern) {
		if n.Depth != 1 {
			continue
		}
		_, pr := protectGrid(n.Code, false)
		t := cell(pr, 0)
		row := PatternTypeRecs{Node: n, Recommendations: t.Recommendations, Reviews: t.Reviews}
		for i, k := range recKinds {
			x := cell(pr, 1+i)
			x.Kind = k
			row.ByKind = append(row.ByKind, x)
		}
		for j, l := range recLevels {
			x := cell(pr, 4+j)
			x.Level = l
			row.ByLevel = append(row.ByLevel, x)
		}
		nat := row.ByLevel[2].Recommendations
		row.National = nat
		tn, tok := t.Recommendations.Value()
		nn, nok := nat.Value()
		row.NationalShare, row.Interval = shareOf(int64(nn), int64(tn), !tok || !nok)
		out.ByPatternType = append(out.ByPatternType, row)
	}
	return out, nil
}
