package analytics

import (
	"context"
	"database/sql"
	"sort"

	"github.com/collate-project/collate/ingest/errs"
)

// yearFamily ties a range total (stage 1, protected exactly as in the
// views without years) to its single years (stage 2). base lists stage-1
// measures that come first and their relations, so that the range total is
// protected exactly as in the family it belongs to.
func yearFamily(base *family, total, years int) *family {
	f := &family{stage: append([]int(nil), base.stage...)}
	for i := range f.stage {
		if f.stage[i] != 1 {
			f.stage[i] = 0 // not shown here: callers give it no reviews, so it is never withheld or chosen
		}
	}
	for _, g := range base.groups {
		ok := true
		for _, m := range g {
			if base.stage[m] != 1 {
				ok = false
			}
		}
		if ok {
			f.groups = append(f.groups, g)
		}
	}
	first := len(f.stage)
	rel := []int{total}
	for y := 0; y < years; y++ {
		f.stage = append(f.stage, 2)
		rel = append(rel, first+y)
	}
	f.groups = append(f.groups, rel)
	return f
}

func (s *Store) trends(ctx context.Context, v Viewer, sel Selection, opt TrendOptions) (*Trends, error) {
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
	last := opt.LastYears
	if last == 0 {
		last = 5
	}
	if last < 2 {
		return nil, errs.E(errs.Invalid, "the emerging window needs at least 2 years, not %d", last)
	}
	alpha := opt.Alpha
	if alpha == 0 {
		alpha = 0.05
	}
	if alpha <= 0 || alpha >= 1 {
		return nil, errs.E(errs.Invalid, "alpha %g: give a level between 0 and 1", alpha)
	}
	years := sc.years()
	ny := len(years)
	out := &Trends{Provenance: sc.prov, Collection: sc.coll, Tree: tree, Years: years, Test: "cochran_armitage"}
	if ny == 0 {
		return out, nil
	}
	var codes []string
	if len(opt.Codes) > 0 || depth > 0 {
		codes = codesOf(nodes)
	}
	var p plan
	var tms, nms *measureSet
	if sc.byAgency() {
		// Only the collection's own figures are shown: read them alone.
		var tot *protected
		tot, nms, err = s.readOwn(ctx, sc, ownRead{tree: tree, codes: codes, byYear: true, reviewsOnly: true})
		if tot != nil {
			tms = tot.ms
		}
	} else {
		p = s.planFor(sc)
		if tms, err = s.totalsMeasures(ctx, sc, p, true); err == nil {
			nms, err = s.readNodesByYear(ctx, sc, p, tree, codes)
		}
	}
	if err != nil {
		return nil, err
	}

	// Denominators: reviews coded per year, protected with the totals' stage-1 measures.
	nv := tms.c.nv
	tfam := yearFamily(totalsFamily, tCoded, ny)
	totRV := func(vals []int64) []int {
		sum := make([]int64, nv)
		for y := 0; y < ny; y++ {
			for j := 0; j < nv; j++ {
				sum[j] += vals[y*nv+j]
			}
		}
		r := totalsReviews(sum)
		for m := range r {
			if totalsFamily.stage[m] != 1 {
				r[m] = 0
			}
		}
		for y := 0; y < ny; y++ {
			r = append(r, int(vals[y*nv+vCoded]))
		}
		return r
	}
	tpr := s.protectKey(sc, p, &measureSet{c: tms.c, fam: tfam, rv: totRV, own: tms.own}, "")
	codedY := make([]int64, ny)
	codedSupY := make([]bool, ny)
	for y := 0; y < ny; y++ {
		codedY[y], codedSupY[y] = s.collect(sc, tpr, tMeasures+y, y*nv+vCoded)
		out.Coded = append(out.Coded, count(codedY[y], codedSupY[y]))
	}

	// Numerators: reviews citing each node per year.
	nnv := nms.c.nv
	nfam := yearFamily(nodeFamily(tree, false), 0, ny)
	nodeRV := func(vals []int64) []int {
		r := []int{0}
		for y := 0; y < ny; y++ {
			r[0] += int(vals[y*nnv+nReviews])
			r = append(r, int(vals[y*nnv+nReviews]))
		}
		return r
	}
	nset := &measureSet{c: nms.c, fam: nfam, rv: nodeRV, own: nms.own}
	scores := make([]float64, ny)
	for y := range years {
		scores[y] = float64(years[y])
	}
	for _, n := range nodes {
		pr := s.protectKey(sc, p, nset, n.Code)
		ser := TrendSeries{Node: n}
		xs := make([]int, ny)
		ns := make([]int, ny)
		anySup := make([]bool, ny)
		for y := 0; y < ny; y++ {
			x, xSup := s.collect(sc, pr, 1+y, y*nnv+nReviews)
			pt := TrendPoint{Year: years[y], Reviews: count(x, xSup), Coded: out.Coded[y]}
			pt.Share, pt.Interval = shareOf(x, codedY[y], xSup || codedSupY[y])
			ser.Points = append(ser.Points, pt)
			xs[y], ns[y], anySup[y] = int(x), int(codedY[y]), xSup || codedSupY[y]
		}
		ser.Trend = trendTest(xs, ns, scores, anySup, alpha)
		from := max(0, ny-last)
		ser.Recent = trendTest(xs[from:], ns[from:], scores[from:], anySup[from:], alpha)
		if z, ok := ser.Recent.Z.Value(); ok && z > 0 {
			if pv, ok := ser.Recent.P.Value(); ok && pv < alpha {
				ser.Emerging = true
			}
		}
		out.Series = append(out.Series, ser)
	}
	return out, nil
}

// trendTest runs Cochran–Armitage over the years given; it is withheld when
// any year is, because the statistic and the published years together could
// give a withheld year away.
func trendTest(x, n []int, t []float64, sup []bool, alpha float64) TrendTest {
	for _, s := range sup {
		if s {
			return TrendTest{Z: SuppressedFigure(), P: SuppressedFigure()}
		}
	}
	if len(x) < 2 {
		return TrendTest{Z: NoFigure(), P: NoFigure()}
	}
	z, p := CochranArmitage(x, n, t)
	out := TrendTest{Z: KnownFigure(z), P: KnownFigure(p)}
	if p < alpha {
		if z > 0 {
			out.Direction = "rising"
		} else {
			out.Direction = "falling"
		}
	}
	return out
}

// readNodesByYear reads node reviews per year, without splits.
func (s *Store) readNodesByYear(ctx context.Context, sc *scope, p plan, tree string, codes []string) (*measureSet, error) {
	q := query{table: "agg_nodes", keys: "code", vals: nodeCols(false), byYear: true,
		where: "tree = ?", whereArgs: []any{tree}}
	if codes != nil {
		q.where += " AND list_contains(?::VARCHAR[], code)"
		q.whereArgs = append(q.whereArgs, codes)
	}
	ms := &measureSet{}
	return ms, s.fillNodes(ctx, sc, p, q, ms, tree, codes, false)
}

func (s *Store) repeatedLessons(ctx context.Context, v Viewer, sel Selection, opt RepeatedOptions) (*RepeatedLessons, error) {
	sc, err := s.resolve(ctx, v, sel)
	if err != nil {
		return nil, err
	}
	if opt.K == 0 {
		opt.K = 10
	}
	if opt.M == 0 {
		opt.M = 3
	}
	if opt.Y == 0 {
		opt.Y = 3
	}
	if opt.K < 1 || opt.M < 1 || opt.Y < 1 {
		return nil, errs.E(errs.Invalid, "repeated lesson rule K=%d M=%d Y=%d: each must be at least 1", opt.K, opt.M, opt.Y)
	}
	m := 0 // measure in the node family
	col := "reviews"
	switch opt.Nature {
	case "":
	case "constructive":
		m, col = 1, "r1"
	case "unsafe":
		m, col = 2, "r2"
	default:
		return nil, errs.E(errs.Invalid, "nature %q: give constructive or unsafe", opt.Nature)
	}
	var nodes []Node
	for _, n := range sc.frame.nodes(TreePattern) {
		if n.Virtual {
			continue
		}
		if (opt.Depth == 0 && n.Depth >= 2) || n.Depth == opt.Depth {
			nodes = append(nodes, n)
		}
	}
	out := &RepeatedLessons{Provenance: sc.prov, Collection: sc.coll, Rule: opt, Lessons: []Lesson{}}
	// The rule is checked on boards and years inside the collection.
	var got map[string]lessonCount
	if sc.byAgency() {
		// Only the collection's own figures are shown: read them alone.
		own := sc.lessonsPart(opt.Nature)
		err = s.readOwnParts(ctx, sc, own)
		got = lessonCounts(own.c)
	} else {
		got, err = s.readLessonCounts(ctx, sc, col)
	}
	if err != nil {
		return nil, err
	}
	var hits []Node
	for _, n := range nodes {
		f := got[n.Code]
		if f.reviews >= int64(opt.K) && f.boards >= opt.M && f.years >= opt.Y {
			hits = append(hits, n)
		}
	}
	if len(hits) == 0 {
		return out, nil
	}
	ncol := nReviews
	if m > 0 {
		ncol = nR + m - 1 // r1 constructive, r2 unsafe
	}
	var p plan
	var ms *measureSet
	if sc.restricted() {
		// A narrowed collection is open only where it is seen in full, so
		// none of it is withheld: the reviews the rule counted are the
		// figures shown.
		ms = ownSet(newCube(nR+2, 1, 1))
		for _, n := range hits {
			ms.c.cell(n.Code, 0)[ncol] = got[n.Code].reviews
		}
	} else {
		p = s.planFor(sc)
		if ms, err = s.readNodes(ctx, sc, p, TreePattern, codesOf(hits), opt.Nature != ""); err != nil {
			return nil, err
		}
	}
	for _, n := range hits {
		pr := s.protectKey(sc, p, ms, n.Code)
		r, sup := s.collect(sc, pr, m, ncol)
		f := got[n.Code]
		out.Lessons = append(out.Lessons, Lesson{Node: n, Reviews: count(r, sup), Boards: f.boards, Years: f.years,
			First: int(f.first.Int64), Last: int(f.last.Int64)})
	}
	sort.SliceStable(out.Lessons, func(i, j int) bool {
		a, b := out.Lessons[i], out.Lessons[j]
		if a.Last != b.Last {
			return a.Last > b.Last
		}
		return got[a.Code].reviews > got[b.Code].reviews
	})
	return out, nil
}

// lessonCount is what the rule of repeated lessons looks at for one
// pattern node: the reviews citing it, the boards and years they come
// from, and the first and last of those years.
type lessonCount struct {
	reviews       int64
	boards, years int
	first, last   sql.NullInt64
}

// readLessonCounts reads the lesson counts of every pattern node from the
// aggregates, counting the reviews of column col (reviews, or r1 or r2 for
// one nature) over the boards and years inside the collection.
func (s *Store) readLessonCounts(ctx context.Context, sc *scope, col string) (map[string]lessonCount, error) {
	where, args := sc.filter(s.geo, true)
	where += " AND tree = 'pattern' AND " + col + " > 0"
	if sc.custom != nil {
		boards := make([]string, len(sc.boards))
		for i, b := range sc.boards {
			boards[i] = s.geo.nodes[b].code
		}
		where += " AND list_contains(?::VARCHAR[], board)"
		args = append(args, boards)
	} else if sc.place != 0 {
		switch s.geo.nodes[sc.place].level {
		case LevelNation:
			where += " AND nation = ?"
		case LevelRegion:
			where += " AND region = ?"
		case LevelBoard:
			where += " AND board = ?"
		}
		args = append(args, s.geo.nodes[sc.place].code)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT code, sum(`+col+`)::BIGINT, count(DISTINCT board), count(DISTINCT year),
		min(year), max(year) FROM agg_nodes WHERE `+where+` GROUP BY code`, args...)
	if err != nil {
		return nil, wrapDB(ctx, err, "read repeated lessons")
	}
	defer rows.Close()
	got := map[string]lessonCount{}
	for rows.Next() {
		var code string
		var f lessonCount
		if err := rows.Scan(&code, &f.reviews, &f.boards, &f.years, &f.first, &f.last); err != nil {
			return nil, wrapDB(ctx, err, "read repeated lessons")
		}
		got[code] = f
	}
	return got, wrapRowsErr(ctx, rows.Err(), "read repeated lessons")
}

// lessonCounts takes the lesson counts of a collection read alone from its
// lessons part.
func lessonCounts(c *cube) map[string]lessonCount {
	got := make(map[string]lessonCount, len(c.keys))
	for _, code := range c.keys {
		v := c.at(code, 0)
		got[code] = lessonCount{reviews: v[lReviews], boards: int(v[lBoards]), years: int(v[lYears]),
			first: sql.NullInt64{Int64: v[lFirst], Valid: true}, last: sql.NullInt64{Int64: v[lLast], Valid: true}}
	}
	return got
}
