package analytics

import (
	"context"
	"math"
	"slices"
	"strings"
)

// ---- figures from cells ----

func count(v int64, sup bool) Count {
	if sup {
		return SuppressedCount()
	}
	return KnownCount(int(v))
}

// shareOf is num/den with its Wilson 95% interval; suppressed when either
// count is, and not available when den is 0.
func shareOf(num, den int64, sup bool) (Figure, Interval) {
	if sup {
		return SuppressedFigure(), suppressedInterval()
	}
	if den <= 0 {
		return NoFigure(), Interval{NoFigure(), NoFigure()}
	}
	lo, hi := Wilson(int(num), int(den), z95)
	return KnownFigure(float64(num) / float64(den)), Interval{KnownFigure(lo), KnownFigure(hi)}
}

func figure(v float64, sup bool) Figure {
	if sup {
		return SuppressedFigure()
	}
	return KnownFigure(v)
}

// roundTo rounds v to the nearest multiple of base (base ≤ 1: unchanged).
func roundTo(v int64, base int) int64 {
	if base <= 1 {
		return v
	}
	b := int64(base)
	return int64(math.Round(float64(v)/float64(b))) * b
}

// ---- protection of one family over a context ----

// measureSet is the values read for a view with how to protect them: the
// family of measures and how to get each measure's review count from a
// place's values.
type measureSet struct {
	c   *cube
	fam *family
	rv  func(vals []int64) []int
	// own is set when c holds a narrowed collection as one place (place 0),
	// read for it alone (readOwn): there are no cells of the places around
	// it to protect.
	own bool
}

// protected is one key of a measure set after protection.
type protected struct {
	ms  *measureSet
	key string
	sp  *suppressor
}

// protectKey decides the cells of one key over the context of a plan.
func (s *Store) protectKey(sc *scope, p plan, ms *measureSet, key string) *protected {
	if ms.own {
		return &protected{ms: ms, key: key} // collect decides it alone
	}
	sp := newSuppressor(s.policy.K, s.geo, ms.fam, sc.known, sc.scopeNode, p.expand)
	sp.set(0, ms.rv(ms.c.at(key, 0)))
	for _, e := range p.expand {
		for _, c := range s.geo.nodes[e].children {
			sp.set(c, ms.rv(ms.c.at(key, c)))
		}
	}
	sp.run()
	return &protected{ms: ms, key: key, sp: sp}
}

// at is the value of a column at a place, with its suppression for measure m;
// not for a set read as one place (measureSet.own).
func (pr *protected) at(place, m, col int) (int64, bool) {
	return pr.ms.c.at(pr.key, place)[col], pr.sp.suppressed(place, m)
}

// restricted reports whether a custom collection narrows its places by kind
// or agency, so its figures are not sums of the places' cells.
func (sc *scope) restricted() bool {
	return sc.custom != nil && (len(sc.custom.Kinds) > 0 || len(sc.custom.Agencies) > 0)
}

// collect returns the collection's value of a column and whether it is
// withheld under measure m.
//
//   - A geographic collection is its own cell.
//   - A custom collection of whole places is the sum of its boards; it is
//     published only when that sum can be made of published cells, so it
//     tells nothing the places around it do not.
//   - A custom collection narrowed by kind or agency is open only to a
//     viewer who sees it in full (errNarrowingWithheld), so nothing of it
//     is withheld.
func (s *Store) collect(sc *scope, pr *protected, m, col int) (int64, bool) {
	if sc.custom == nil {
		v, sup := pr.at(sc.place, m, col)
		return v, sup && !sc.full
	}
	if pr.ms.own {
		return pr.ms.c.at(pr.key, 0)[col], false
	}
	var v int64
	for _, b := range sc.boards {
		v += pr.ms.c.at(pr.key, b)[col]
	}
	return v, !sc.full && !s.decomposes(sc, pr.sp, m)
}

// decomposes reports whether a custom collection's boards can be covered by
// disjoint places whose cells for measure m are published.
func (s *Store) decomposes(sc *scope, sp *suppressor, m int) bool {
	in := make(map[int]bool, len(sc.boards))
	for _, b := range sc.boards {
		in[b] = true
	}
	var rec func(i int) (covered, total int, ok bool)
	// rec returns how many of the boards under i are in the collection, how
	// many boards there are, and whether the covered ones decompose.
	rec = func(i int) (int, int, bool) {
		n := &s.geo.nodes[i]
		if n.level == LevelBoard {
			if in[i] {
				return 1, 1, !sp.suppressed(i, m)
			}
			return 0, 1, true
		}
		covered, total, ok := 0, 0, true
		for _, c := range n.children {
			cv, t, cok := rec(c)
			covered, total = covered+cv, total+t
			ok = ok && cok
		}
		if covered > 0 && covered == total && sp.sup[i] != nil && !sp.sup[i][m] {
			return covered, total, true // the whole place, published
		}
		return covered, total, ok
	}
	_, _, ok := rec(0)
	return ok
}

// ---- totals of reviews ----

// Measures of the totals family.
const (
	tReceived = iota
	tCoded
	tOther // coded with another frame
	tGood  // episodes by adequacy
	tProblematic
	tMixed
	tNotJudged
	tFamilyYes
	tFamilyNo
	tFamilyNR
	tPrelimYes
	tPrelimNo
	tPrelimNR
	tInterimYes
	tInterimNo
	tInterimNR
	tFinalYes
	tFinalNo
	tFinalNR
	tAllStages
	tStatutory
	tRoutine
	tInnovation
	tPositive
	tPatterns
	tRecs
	tMeasures
)

var totalsFamily = func() *family {
	f := &family{stage: make([]int, tMeasures)}
	for m := range f.stage {
		f.stage[m] = 2
	}
	f.stage[tReceived], f.stage[tCoded], f.stage[tOther] = 1, 1, 1
	f.groups = [][]int{
		{tReceived, tCoded, tOther},
		{tCoded, tGood, tProblematic, tMixed, tNotJudged},
		{tCoded, tFamilyYes, tFamilyNo, tFamilyNR},
		{tCoded, tPrelimYes, tPrelimNo, tPrelimNR},
		{tCoded, tInterimYes, tInterimNo, tInterimNR},
		{tCoded, tFinalYes, tFinalNo, tFinalNR},
		{tCoded, tStatutory, tRoutine, tInnovation, tPositive},
	}
	return f
}()

// Value columns of a totals read, in order. Every column but the first
// counts the reviews coded with the scope's frame.
const (
	vReceived = iota
	vCoded
	vEpisodes
	vEpGood
	vEpProblematic
	vEpMixed
	vEpNotJudged
	vRGood
	vRProblematic
	vRMixed
	vRNotJudged
	vFamilyYes
	vFamilyNo
	vFamilyNR
	vPrelimYes
	vPrelimNo
	vPrelimNR
	vInterimYes
	vInterimNo
	vInterimNR
	vFinalYes
	vFinalNo
	vFinalNR
	vAllStages
	vPatterns
	vRPatterns
	vRecs
	vRRecs
	vStatutory
	vRoutine
	vInnovation
	vPositive
	vTotals
)

var totalsCols = []string{"reviews", "reviews", "episodes", "ep_good", "ep_problematic", "ep_mixed", "ep_not_judged",
	"r_good", "r_problematic", "r_mixed", "r_not_judged", "family_yes", "family_no", "family_nr",
	"prelim_yes", "prelim_no", "prelim_nr", "interim_yes", "interim_no", "interim_nr",
	"final_yes", "final_no", "final_nr", "all_stages", "patterns", "r_patterns", "recs", "r_recs"}

var kindsOrder = []string{"statutory", "routine", "innovation", "positive"}

// totalsReviews maps a totals read to the review counts of each measure.
func totalsReviews(v []int64) []int {
	r := make([]int, tMeasures)
	r[tReceived] = int(v[vReceived])
	r[tCoded] = int(v[vCoded])
	r[tOther] = int(v[vReceived] - v[vCoded])
	for i := 0; i < 4; i++ {
		r[tGood+i] = int(v[vRGood+i])
	}
	for i := 0; i < 12; i++ {
		r[tFamilyYes+i] = int(v[vFamilyYes+i])
	}
	r[tAllStages] = int(v[vAllStages])
	for i := 0; i < 4; i++ {
		r[tStatutory+i] = int(v[vStatutory+i])
	}
	r[tPatterns] = int(v[vRPatterns])
	r[tRecs] = int(v[vRRecs])
	return r
}

// readTotals reads the review totals of a context.
func (s *Store) readTotals(ctx context.Context, sc *scope, p plan) (*protected, error) {
	ms, err := s.totalsMeasures(ctx, sc, p, false)
	if err != nil {
		return nil, err
	}
	return s.protectKey(sc, p, ms, ""), nil
}

func (s *Store) totalsMeasures(ctx context.Context, sc *scope, p plan, byYear bool) (*measureSet, error) {
	// FILTER clauses are slow in DuckDB, so the read groups by kind and by
	// whether the row is of the scope's frame, and the columns are assembled here.
	q := query{table: "agg_totals", allFrames: true, byYear: byYear,
		keys:    "kind, (frame_id = ? AND frame_version = ?)::INT",
		valArgs: []any{sc.frame.info.ID, sc.frame.info.Version},
		vals:    sums(totalsCols...)}
	ms := &measureSet{fam: totalsFamily, rv: totalsReviews}
	if sc.byAgency() {
		c, err := s.readTotalsBase(ctx, sc, byYear)
		if err != nil {
			return nil, err
		}
		ms.c = c
	} else {
		raw, err := s.read(ctx, sc, p, q)
		if err != nil {
			return nil, err
		}
		ms.c = assembleTotals(raw)
	}
	return ms, nil
}

// assembleTotals turns a totals read keyed by "kind|in frame" into one vector
// per place laid out as the v* columns.
func assembleTotals(raw *cube) *cube {
	out := newCube(vTotals, raw.ny, raw.nodes)
	for _, key := range raw.keys {
		kind, inFrame, _ := strings.Cut(key, "|")
		ki := slices.Index(kindsOrder, kind)
		for place, vals := range raw.data[key] {
			if vals == nil {
				continue
			}
			cell := out.cell("", place)
			for y := 0; y < raw.ny; y++ {
				src := vals[y*raw.nv : (y+1)*raw.nv]
				dst := cell[y*vTotals : (y+1)*vTotals]
				dst[vReceived] += src[vReceived]
				if inFrame != "1" {
					continue
				}
				for j := vCoded; j < len(totalsCols); j++ {
					dst[j] += src[j]
				}
				if ki >= 0 {
					dst[vStatutory+ki] += src[vCoded]
				}
			}
		}
	}
	return out
}

// inBoards is the condition that a row is of one of a custom collection's boards.
func (sc *scope) inBoards(g *geoIndex) (string, []any) {
	codes := make([]string, len(sc.boards))
	for i, b := range sc.boards {
		codes[i] = g.nodes[b].code
	}
	return "list_contains(?::VARCHAR[], board)", []any{codes}
}

// inBoardsSorted is inBoards for the aggregate tables, which are sorted by
// place: naming the boards' regions too lets DuckDB skip the row groups of
// every other region, which a test of list membership cannot.
func (sc *scope) inBoardsSorted(g *geoIndex) (string, []any) {
	in, args := sc.inBoards(g)
	var regions []string
	for _, b := range sc.boards {
		if r := g.nodes[g.nodes[b].parent].code; !slices.Contains(regions, r) {
			regions = append(regions, r)
		}
	}
	rin, rargs := inList("region", regions, false)
	return in + " AND " + rin, append(args, rargs...)
}

// totalsOf builds the Totals of the collection, rounding regional and
// national totals when the policy says so and the viewer is outside them. It
// also returns the exact number of reviews coded and whether it is withheld.
func (s *Store) totalsOf(sc *scope, t *protected) (Totals, int64, bool) {
	rec, recSup := s.collect(sc, t, tReceived, vReceived)
	coded, codedSup := s.collect(sc, t, tCoded, vCoded)
	eps, _ := s.collect(sc, t, tCoded, vEpisodes)
	round := func(v int64) int64 {
		if sc.full || sc.coll.Level == LevelBoard {
			return v
		}
		return roundTo(v, s.policy.RoundTotals)
	}
	return Totals{
		ReviewsReceived: count(round(rec), recSup),
		ReviewsCoded:    count(round(coded), codedSup),
		Episodes:        count(round(eps), codedSup),
	}, coded, codedSup
}

// ---- frame nodes ----

// splitDef is one split value of a tree and its column in agg_nodes.
type splitDef struct {
	dim, value string
	col        int // 1..7
}

var factorSplits = []splitDef{
	{"influence", "supported_good", 1}, {"influence", "made_problematic_more_likely", 2},
	{"adequacy", "good", 3}, {"adequacy", "problematic", 4}, {"adequacy", "mixed", 5}, {"adequacy", "not_judged", 6},
}

var patternSplits = []splitDef{
	{"nature", "constructive", 1}, {"nature", "unsafe", 2},
	{"priority", "1", 3}, {"priority", "2", 4}, {"priority", "3", 5}, {"priority", "4+", 6}, {"priority", "none", 7},
}

func splitsOf(tree string) []splitDef {
	if tree == TreePattern {
		return patternSplits
	}
	return factorSplits
}

// nodeFamily is a node's measures: every review citing it (stage 1) and, with
// splits, each split value (stage 2), tied to the total by dimension.
func nodeFamily(tree string, splits bool) *family {
	f := &family{stage: []int{1}}
	if !splits {
		return f
	}
	defs := splitsOf(tree)
	byDim := map[string][]int{}
	var dims []string
	for i, d := range defs {
		f.stage = append(f.stage, 2)
		if _, ok := byDim[d.dim]; !ok {
			dims = append(dims, d.dim)
		}
		byDim[d.dim] = append(byDim[d.dim], i+1)
	}
	for _, d := range dims {
		f.groups = append(f.groups, append([]int{0}, byDim[d]...))
	}
	return f
}

// Value columns of a node read.
const (
	nReviews  = 0
	nEpisodes = 1
	nMentions = 2
	nR        = 3  // r1..r7 at nR+col-1
	nE        = 10 // e1..e7
	nM        = 17 // m1..m7
)

func nodeCols(splits bool) []string {
	cols := []string{"reviews", "episodes", "mentions"}
	if splits {
		for _, p := range []string{"r", "e", "m"} {
			for i := 1; i <= 7; i++ {
				cols = append(cols, p+string(rune('0'+i)))
			}
		}
	}
	return sums(cols...)
}

// nodeReviews maps node values to the review counts of its family's measures.
func nodeReviews(tree string, splits bool) func([]int64) []int {
	defs := splitsOf(tree)
	return func(v []int64) []int {
		r := []int{int(v[nReviews])}
		if splits {
			for _, d := range defs {
				r = append(r, int(v[nR+d.col-1]))
			}
		}
		return r
	}
}

// readNodes reads the node aggregates of a tree over a context; codes
// restricts the nodes read (nil: all).
func (s *Store) readNodes(ctx context.Context, sc *scope, p plan, tree string, codes []string, splits bool) (*measureSet, error) {
	q := query{table: "agg_nodes", keys: "code", vals: nodeCols(splits),
		where: "tree = ?", whereArgs: []any{tree}}
	if codes != nil {
		q.where += " AND list_contains(?::VARCHAR[], code)"
		q.whereArgs = append(q.whereArgs, codes)
	}
	ms := &measureSet{fam: nodeFamily(tree, splits), rv: nodeReviews(tree, splits)}
	return ms, s.fillNodes(ctx, sc, p, q, ms, tree, codes, splits)
}

// fillNodes reads the node figures of q into ms: from the aggregates, or from
// the base tables for a collection filtered by agency.
func (s *Store) fillNodes(ctx context.Context, sc *scope, p plan, q query, ms *measureSet, tree string, codes []string, splits bool) error {
	var err error
	if sc.byAgency() {
		ms.c, err = s.readNodesBase(ctx, sc, tree, codes, splits, q.byYear)
	} else {
		ms.c, err = s.read(ctx, sc, p, q)
	}
	return err
}
