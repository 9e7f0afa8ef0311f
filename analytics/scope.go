package analytics

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/collate-project/collate/ingest/errs"
	"github.com/collate-project/collate/schemas"
)

// scope is a Selection resolved for one viewer: the collection, the years,
// the frame, and which places the viewer sees in full detail.
type scope struct {
	v      Viewer
	sel    Selection
	frame  *frameData
	from   int // resolved year range; from > to when the store has no reviews
	to     int
	coll   CollectionInfo
	place  int              // the geography node of a geographic collection; -1 for a custom one
	custom *SavedCollection // the saved collection, for a custom one
	boards []int            // custom: the boards it covers, in geography order
	known  []bool           // per place: the viewer sees it in full detail
	// scopeNode is the board or region the viewer sees in full detail, with
	// everything under it; -1 when there is none (or when they see everything).
	scopeNode int
	// full is true when the viewer sees the whole collection in full detail:
	// no suppression applies to it and excerpts may be shown.
	full bool
	// ranged is true when the years are not all the store's years, which
	// run from spanFrom to spanTo.
	ranged           bool
	spanFrom, spanTo int
	prov             Provenance
	// needAdequacy asks the base-table totals of an agency-filtered
	// collection for episodes by adequacy, which cost a scan of the episodes.
	needAdequacy bool
}

// resolve checks the viewer and turns a Selection into a scope.
func (s *Store) resolve(ctx context.Context, v Viewer, sel Selection) (*scope, error) {
	if err := v.Check(); err != nil {
		return nil, err
	}
	known, scopeNode, err := s.knownPlaces(v)
	if err != nil {
		return nil, err
	}
	sc := &scope{v: v, sel: sel, place: -1, known: known, scopeNode: scopeNode}

	ref := strings.TrimSpace(sel.Collection)
	frameKey := sel.Frame
	from, to := sel.From, sel.To
	switch {
	case ref == "" || strings.EqualFold(ref, UK):
		sc.place = 0
	case strings.HasPrefix(ref, SavedPrefix):
		c, err := s.savedCollection(ctx, v, strings.TrimPrefix(ref, SavedPrefix))
		if err != nil {
			return nil, err
		}
		sc.custom = c
		if frameKey == "" {
			frameKey = c.Frame
		} else if c.Frame != "" && c.Frame != frameKey {
			return nil, errs.E(errs.Invalid, "collection %s is coded against frame %s, not %s", ref, c.Frame, frameKey)
		}
		// The collection's own years narrow the selection's.
		if c.From > from {
			from = c.From
		}
		if c.To > 0 && (to == 0 || c.To < to) {
			to = c.To
		}
	default:
		n, ok := s.geo.lookup(ref)
		if !ok {
			return nil, errs.E(errs.NotFound, "collection %q is not a nation, region or board code, %q, or %sNAME", ref, UK, SavedPrefix)
		}
		sc.place = n.idx
	}
	if sel.From != 0 && sel.To != 0 && sel.From > sel.To {
		return nil, errs.E(errs.Invalid, "years %d to %d: give the first year first", sel.From, sel.To)
	}
	f, err := s.frame(ctx, frameKey)
	if err != nil {
		return nil, err
	}
	sc.frame = f
	lo, hi, err := s.yearSpan(ctx)
	if err != nil {
		return nil, err
	}
	if from == 0 {
		from = lo
	}
	if to == 0 {
		to = hi
	}
	sc.from, sc.to = from, to

	if sc.custom != nil {
		if err := s.resolveCustom(sc); err != nil {
			return nil, err
		}
	} else {
		sc.coll = s.geo.info(sc.place)
		sc.full = sc.known[sc.place]
		sc.coll.FullDetail = sc.full
	}
	sc.ranged, sc.spanFrom, sc.spanTo = from != lo || to != hi, lo, hi
	if sc.restricted() && !sc.full {
		return nil, errNarrowingWithheld(sc.coll.Ref)
	}
	if sc.ranged && !sc.full {
		return nil, errYearsWithheld(lo, hi)
	}
	dv, n, err := s.dataVersion(ctx)
	if err != nil {
		return nil, err
	}
	sc.prov = Provenance{
		DataVersion: dv, Reviews: n, Frame: f.info.Key(), Collection: sc.coll.Ref, From: from, To: to,
		Policy: PolicyNote{K: s.policy.K, Rounding: s.policy.RoundTotals, Suppressed: !sc.full},
		Viewer: v.Role, GeneratedAt: s.now().UTC(),
	}
	if sc.full {
		sc.prov.Policy.Rounding = 0
	}
	return sc, nil
}

// knownPlaces marks the places the viewer sees in full detail, and returns
// the board or region they see with everything under it: -1 when there is
// none, or when they see everything.
func (s *Store) knownPlaces(v Viewer) ([]bool, int, error) {
	known := make([]bool, len(s.geo.nodes))
	switch {
	case v.seesAll():
		for i := range known {
			known[i] = true
		}
	case v.Role == RoleBoardMember:
		n, ok := s.geo.lookup(v.Board)
		if !ok || n.level != LevelBoard {
			return nil, -1, errs.E(errs.Forbidden, "board %q of this account is not in the geography", v.Board)
		}
		known[n.idx] = true
		return known, n.idx, nil
	case v.Role == RoleRegionalAnalyst:
		n, ok := s.geo.lookup(v.Region)
		if !ok || n.level != LevelRegion {
			return nil, -1, errs.E(errs.Forbidden, "region %q of this account is not in the geography", v.Region)
		}
		known[n.idx] = true
		for _, c := range n.children {
			known[c] = true
		}
		return known, n.idx, nil
	}
	return known, -1, nil
}

// resolveCustom works out the boards a saved collection covers and whether the
// viewer sees all of them in full detail.
func (s *Store) resolveCustom(sc *scope) error {
	c := sc.custom
	set := map[int]bool{}
	add := func(codes []string, level Level) error {
		for _, code := range codes {
			n, ok := s.geo.lookup(code)
			if !ok || n.level != level {
				return errs.E(errs.Invalid, "collection %s: %s %q is not in the geography", c.Name, level, code)
			}
			for _, b := range s.geo.boardsUnder(n.idx) {
				set[b] = true
			}
		}
		return nil
	}
	if err := errors.Join(add(c.Nations, LevelNation), add(c.Regions, LevelRegion), add(c.Boards, LevelBoard)); err != nil {
		return err
	}
	if len(set) == 0 {
		for _, b := range s.geo.boardsUnder(0) {
			set[b] = true
		}
	}
	sc.boards = sc.boards[:0]
	for b := range set {
		sc.boards = append(sc.boards, b)
	}
	slices.Sort(sc.boards)
	// The smallest place containing every board.
	parent := sc.boards[0]
	for _, b := range sc.boards[1:] {
		for !s.geo.within(b, parent) {
			parent = s.geo.nodes[parent].parent
		}
	}
	full := true
	for _, b := range sc.boards {
		if !sc.known[b] {
			full = false
		}
	}
	sc.full = full
	sc.coll = CollectionInfo{Ref: SavedPrefix + c.Name, Level: LevelCustom, Code: c.Name, Name: c.Title,
		Parent: s.geo.nodes[parent].code, FullDetail: full}
	return nil
}

// yearSpan is the first and last completion year of any current review.
func (s *Store) yearSpan(ctx context.Context) (int, int, error) {
	var lo, hi sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT min(year), max(year) FROM agg_totals`).Scan(&lo, &hi); err != nil {
		return 0, 0, wrapDB(ctx, err, "read years")
	}
	if !lo.Valid {
		return 1, 0, nil
	}
	return int(lo.Int64), int(hi.Int64), nil
}

// years lists the years of the scope.
func (sc *scope) years() []int {
	var out []int
	for y := sc.from; y <= sc.to; y++ {
		out = append(out, y)
	}
	return out
}

// tree checks a tree name; empty means the factor tree.
func treeName(t string) (string, error) {
	switch t {
	case "", TreeFactor:
		return TreeFactor, nil
	case TreePattern:
		return TreePattern, nil
	}
	return "", errs.E(errs.Invalid, "tree %q: give %q or %q", t, TreeFactor, TreePattern)
}

// frame returns a registered frame by id@version, loading it once.
func (s *Store) frame(ctx context.Context, key string) (*frameData, error) {
	if key == "" {
		key = schemas.DefaultFrameID + "@" + schemas.DefaultFrameVersion
	}
	s.frames.mu.Lock()
	f, ok := s.frames.frames[key]
	s.frames.mu.Unlock()
	if ok {
		return f, nil
	}
	id, version, ok := strings.Cut(key, "@")
	if !ok {
		return nil, errs.E(errs.Invalid, "frame %q: give id@version, e.g. %s@%s", key, schemas.DefaultFrameID, schemas.DefaultFrameVersion)
	}
	var body string
	err := s.db.QueryRowContext(ctx, `SELECT body FROM frames WHERE frame_id = ? AND frame_version = ?`, id, version).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "frame %s is not registered", key)
	}
	if err != nil {
		return nil, wrapDB(ctx, err, "read frame "+key)
	}
	pf, err := schemas.ParseFrame([]byte(body))
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "frame %s cannot be read", key)
	}
	f = buildFrameData(pf)
	s.frames.mu.Lock()
	s.frames.frames[key] = f
	s.frames.mu.Unlock()
	return f, nil
}

func buildFrameData(pf *schemas.Frame) *frameData {
	f := &frameData{info: FrameInfo{ID: pf.ID, Version: pf.Version, Title: pf.Title},
		index: map[string]map[string]int{TreeFactor: {}, TreePattern: {}}}
	levelName := func(t *schemas.Tree, depth int) string {
		if t != nil && depth >= 1 && depth <= len(t.Levels) {
			return t.Levels[depth-1]
		}
		return fmt.Sprintf("Depth %d", depth)
	}
	for _, n := range pf.Flat(TreeFactor) {
		f.index[TreeFactor][n.Code] = len(f.info.Factors)
		f.info.Factors = append(f.info.Factors, Node{Code: n.Code, Label: n.Label, Parent: n.Parent, Depth: n.Depth,
			Level: levelName(&pf.Factors, n.Depth)})
	}
	for _, n := range pf.Flat(TreePattern) {
		f.index[TreePattern][n.Code] = len(f.info.Patterns)
		f.info.Patterns = append(f.info.Patterns, Node{Code: n.Code, Label: n.Label, Parent: n.Parent, Depth: n.Depth,
			Level: levelName(pf.Patterns, n.Depth)})
	}
	// Insert each type's proposed group after the last node under the type.
	if len(f.info.Patterns) > 0 {
		var out []Node
		ps := f.info.Patterns
		for i, n := range ps {
			out = append(out, n)
			typ := n.Code
			if n.Depth > 1 {
				typ = topOf(ps, i)
			}
			next := i + 1
			if next == len(ps) || ps[next].Depth == 1 {
				out = append(out, Node{Code: typ + ProposedSuffix, Label: "Proposed sub-patterns awaiting a place",
					Parent: typ, Depth: 2, Level: levelName(pf.Patterns, 2), Virtual: true})
			}
		}
		f.info.Patterns = out
		f.index[TreePattern] = map[string]int{}
		for i, n := range out {
			f.index[TreePattern][n.Code] = i
		}
	}
	return f
}

// topOf finds the pattern type above position i of a tree-ordered list.
func topOf(ps []Node, i int) string {
	for ; i >= 0; i-- {
		if ps[i].Depth == 1 {
			return ps[i].Code
		}
	}
	return ""
}

// listFrames lists every registered frame.
func (s *Store) listFrames(ctx context.Context) ([]FrameInfo, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT frame_id || '@' || frame_version FROM frames ORDER BY frame_id, frame_version`)
	if err != nil {
		return nil, wrapDB(ctx, err, "list frames")
	}
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return nil, wrapDB(ctx, err, "list frames")
		}
		keys = append(keys, k)
	}
	rows.Close()
	var out []FrameInfo
	for _, k := range keys {
		f, err := s.frame(ctx, k)
		if err != nil {
			return nil, err
		}
		out = append(out, f.info)
	}
	return out, nil
}

// errNarrowingWithheld refuses a collection narrowed by review kind or
// agency to a viewer from whom figures are withheld. Each narrowing is a
// new way of counting the same places: two of them (police, and police or
// health) differ by a group no rule looks at, and three kinds subtracted
// from all four leave the fourth, so no suppression of each narrowing on
// its own could stop a withheld figure being recovered.
func errNarrowingWithheld(ref string) error {
	return errs.E(errs.Forbidden, "collection %s is narrowed by review kind or agency. Where figures are withheld to protect "+
		"small numbers, collections count whole places only, since two narrowings of the same places could be subtracted "+
		"to reveal a withheld figure. Narrowed collections are open where you see every figure in full: "+
		"inside your own board or region, or with the unsuppressed grant", ref)
}

// errYearsWithheld refuses a range of years for figures that suppression
// applies to. Two ranges differ by the years between them, so publishing
// suppressed figures for any range would let a withheld figure (a single
// year's, say) be recovered by subtracting one published range from
// another; all of them are published for all years only, and single years
// within that protection, on the trends view.
func errYearsWithheld(lo, hi int) error {
	return errs.E(errs.Invalid, "where figures are withheld to protect small numbers they cover all years (%d to %d), "+
		"since two year ranges could be subtracted to reveal a withheld figure; single years are on the trends page. "+
		"Year ranges are open where you see every figure in full: your own board or region, or with the unsuppressed grant", lo, hi)
}
