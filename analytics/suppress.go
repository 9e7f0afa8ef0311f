package analytics

// Disclosure control.
//
// A figure is a cell: a place of the geography (UK, nation, region, board) and
// a measure (say, reviews citing FL.WORK.03 in good episodes). Each cell has the
// number of distinct reviews behind it, r.
//
// Primary suppression withholds every cell with 0 < r < k, unless the viewer
// sees that place in full detail (their own board or region).
//
// Secondary suppression makes sure no withheld cell can be worked out by
// subtraction. Cells are tied by additive relations, total = sum of parts:
//
//   - across places: a parent place = the sum of its children, for every measure;
//   - across measures: a measure = the sum of its split values (episodes by
//     adequacy, patterns by nature and by priority, a range of years = its
//     years, all kinds = each kind, ...).
//
// A relation with exactly one unknown (withheld) member gives that member
// away. So, until no relation has exactly one unknown, another member is
// withheld: the part with the fewest reviews above zero, then a zero part,
// and only when no part is left the total.
//
// The result must not depend on which view asks, or a figure withheld in one
// view could be published in another, and must not depend on figures the view
// does not show. So the protection runs top-down: the UK's cells first, then
// each parent's children with the parent's cells fixed. A place's cells then
// depend only on its ancestors and their children, which every view of the
// same filter computes the same way, whether it shows a nation, a region in it
// or a board in that region. Measures run in stages: stage-1 measures (a
// node's reviews, a range of years) are settled before stage-2 measures (its
// splits, single years) and never change because of them, so a view with
// splits withholds exactly the same stage-1 cells as a view without.
//
// Cells the viewer sees in full detail count as known: they are never
// withheld and are never chosen to protect another cell, and a relation
// counts them as published, which is exactly what that viewer can subtract.
// Knowing their own board or region, such a viewer can also subtract it from
// every place above it: so the primary rule applies to that remainder too
// (a nation less the analyst's region, say), and a place whose remainder is
// about fewer than k reviews is withheld from that viewer.

// family is a set of measures protected together, with their additive relations.
type family struct {
	stage  []int   // per measure: 1 or 2
	groups [][]int // each relation: the total measure, then its parts
}

func (f *family) measures() int { return len(f.stage) }

// suppressor runs the protection for one family over the places in a context.
type suppressor struct {
	k      int
	geo    *geoIndex
	fam    *family
	known  []bool  // per place: the viewer sees it in full detail
	r      [][]int // per place, per measure: distinct reviews; nil outside the context
	sup    [][]bool
	expand []int // parents whose children are in the context, top-down
	scope  int   // the place the viewer knows with everything under it; -1 for none
}

func newSuppressor(k int, geo *geoIndex, fam *family, known []bool, scope int, expand []int) *suppressor {
	return &suppressor{k: k, geo: geo, fam: fam, known: known, scope: scope, expand: expand,
		r: make([][]int, len(geo.nodes)), sup: make([][]bool, len(geo.nodes))}
}

// set records the review counts of a place.
func (s *suppressor) set(place int, r []int) { s.r[place] = r }

// run decides every cell of the context.
func (s *suppressor) run() {
	nm := s.fam.measures()
	mark := func(place int) {
		if s.r[place] == nil {
			s.r[place] = make([]int, nm)
		}
		sup := make([]bool, nm)
		if !s.known[place] {
			small := func(r int) bool { return r > 0 && r < s.k }
			above := s.scope >= 0 && s.r[s.scope] != nil && s.geo.within(s.scope, place)
			for m, r := range s.r[place] {
				sup[m] = small(r) || above && small(r-s.r[s.scope][m])
			}
		}
		s.sup[place] = sup
	}
	mark(0)
	for st := 1; st <= 2; st++ {
		for s.resolveRows(0, st) {
		}
	}
	for _, p := range s.expand {
		children := s.geo.nodes[p].children
		for _, c := range children {
			mark(c)
		}
		if s.sup[p] == nil {
			mark(p)
		}
		for st := 1; st <= 2; st++ {
			for {
				changed := false
				for m := 0; m < nm; m++ {
					if s.fam.stage[m] <= st && s.resolveColumn(p, children, m, st) {
						changed = true
					}
				}
				for _, c := range children {
					if s.resolveRows(c, st) {
						changed = true
					}
				}
				if !changed {
					break
				}
			}
		}
	}
}

// resolveColumn protects parent = sum of children for measure m; it withholds
// at most one more cell and reports whether it did.
func (s *suppressor) resolveColumn(p int, children []int, m, stage int) bool {
	unknown := 0
	if s.sup[p][m] {
		unknown++
	}
	for _, c := range children {
		if s.sup[c][m] {
			unknown++
		}
	}
	if unknown != 1 || s.fam.stage[m] != stage {
		return false
	}
	best := -1
	for _, c := range children {
		if s.sup[c][m] || s.known[c] {
			continue
		}
		if best < 0 || better(s.r[c][m], s.r[best][m]) {
			best = c
		}
	}
	if best < 0 {
		return false // every other member is known to this viewer, who may know the cell too
	}
	s.sup[best][m] = true
	return true
}

// resolveRows protects total = sum of parts for every relation at one place.
func (s *suppressor) resolveRows(place, stage int) bool {
	if s.known[place] {
		return false
	}
	changed := false
	sup, r := s.sup[place], s.r[place]
	for _, g := range s.fam.groups {
		maxStage := 0
		unknown := 0
		for _, m := range g {
			maxStage = max(maxStage, s.fam.stage[m])
			if sup[m] {
				unknown++
			}
		}
		if unknown != 1 || maxStage > stage {
			continue
		}
		best := -1
		for _, m := range g[1:] {
			if sup[m] || s.fam.stage[m] != stage {
				continue
			}
			if best < 0 || better(r[m], r[best]) {
				best = m
			}
		}
		if best < 0 && s.fam.stage[g[0]] == stage && !sup[g[0]] {
			best = g[0]
		}
		if best >= 0 {
			sup[best] = true
			changed = true
		}
	}
	return changed
}

// better reports whether a part with a reviews is a better secondary
// suppression than one with b: the fewest reviews above zero, then zeros.
func better(a, b int) bool {
	switch {
	case a > 0 && b > 0:
		return a < b
	case a > 0:
		return true
	}
	return false
}

// suppressed reports whether a cell is withheld.
func (s *suppressor) suppressed(place, m int) bool {
	return s.sup[place] != nil && s.sup[place][m]
}
