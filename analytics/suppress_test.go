package analytics

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/collate-project/collate/ingest/errs"
)

// The attack: an adversary collects every figure the views publish for one
// filter (a frame node and a range of years) at every level, and applies
// every subtraction the figures allow: a parent place is the sum of its
// children, a range of years the sum of its years, a node's episodes the sum
// of its episodes by adequacy, its codings the sum by influence, and a
// comparison's reference the parent less the collection. Whenever a relation
// has exactly one unknown, the adversary works it out and goes on. No
// withheld figure may come out.

// cellKey names one figure: a place (or "rest:" a place, the remainder of its
// parent), a quantity, a split value ("" for all) and a period ("" for the
// whole range, or a year).
type cellKey struct {
	place, qty, split, period string
}

type knowledge struct {
	known    map[cellKey]int64
	withheld map[cellKey]bool // published as "c"
	truth    map[cellKey]int64
}

func newKnowledge() *knowledge {
	return &knowledge{known: map[cellKey]int64{}, withheld: map[cellKey]bool{}, truth: map[cellKey]int64{}}
}

// see records a figure as a view published it; it also checks that every
// view publishes the same figure the same way.
func (k *knowledge) see(t *testing.T, key cellKey, c Count) {
	t.Helper()
	if n, ok := c.Value(); ok {
		if k.withheld[key] {
			t.Errorf("%v is withheld in one view and published (%d) in another", key, n)
		}
		if old, seen := k.known[key]; seen && old != int64(n) {
			t.Errorf("%v published as %d and as %d", key, old, n)
		}
		k.known[key] = int64(n)
		return
	}
	if _, seen := k.known[key]; seen {
		t.Errorf("%v is published in one view and withheld in another", key)
	}
	k.withheld[key] = true
}

type relation struct {
	total cellKey
	parts []cellKey
}

// attack propagates single-unknown relations to a fixed point and returns
// the withheld cells it recovered.
func (k *knowledge) attack(rels []relation) []cellKey {
	val := map[cellKey]int64{}
	for c, v := range k.known {
		val[c] = v
	}
	for changed := true; changed; {
		changed = false
		for _, r := range rels {
			var unknown []int // -1 is the total
			if _, ok := val[r.total]; !ok {
				unknown = append(unknown, -1)
			}
			for i, p := range r.parts {
				if _, ok := val[p]; !ok {
					unknown = append(unknown, i)
				}
			}
			if len(unknown) != 1 {
				continue
			}
			var sum int64
			for i, p := range r.parts {
				if i != unknown[0] {
					sum += val[p]
				}
			}
			if unknown[0] == -1 {
				val[r.total] = sum
			} else {
				val[r.parts[unknown[0]]] = val[r.total] - sum
			}
			changed = true
		}
	}
	var out []cellKey
	for c := range k.withheld {
		if _, ok := val[c]; ok {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]) < fmt.Sprint(out[j]) })
	return out
}

// attackFixtures spreads small numbers of reviews over boards of two nations.
func attackFixtures(seed uint64) []fixture {
	r := rand.New(rand.NewPCG(seed, 7))
	boards := []string{"ENG-NE-NCL", "ENG-NE-DUR", "ENG-NE-SUN", "ENG-NE-GAT", "ENG-LDN-CAM", "ENG-LDN-HAC", "ENG-LDN-CRO",
		"WLS-CV-CRF", "WLS-CV-VGL", "WLS-GW-NWP"}
	codes := []string{"FL.WORK.03", "FL.TEAM.02", "FL.WORK.01", "LS.ORG.04"}
	adequacy := []string{"good", "problematic", "mixed", "not_judged"}
	var fs []fixture
	n := 0
	for _, b := range boards {
		if _, ok := fixtureGeo.Board(b); !ok {
			continue
		}
		for y := 2019; y <= 2021; y++ {
			for i := r.IntN(9); i > 0; i-- {
				n++
				f := fixture{id: fmt.Sprintf("A%04d", n), board: b, year: y, family: []string{"yes", "no", ""}[r.IntN(3)]}
				for e := r.IntN(3) + 1; e > 0; e-- {
					ep := adequacy[r.IntN(4)] + ":"
					for c := r.IntN(2) + 1; c > 0; c-- {
						inf := "p"
						if r.IntN(2) == 0 {
							inf = "g"
						}
						ep += codes[r.IntN(len(codes))] + "+" + inf + ","
					}
					f.episodes = append(f.episodes, ep)
				}
				fs = append(fs, f)
			}
		}
	}
	return fs
}

// collectAll asks every view that publishes figures of node code for the
// years, at every place, and records what it sees. With primaryOnly it
// records instead what primary suppression alone would publish (from the
// unsuppressed figures), to show the attack has teeth.
func collectAll(t *testing.T, s *Store, v Viewer, code string, from, to int, primaryOnly bool, k int) (*knowledge, []relation) {
	t.Helper()
	ctx := context.Background()
	kn := newKnowledge()
	places := []string{UK, "ENG", "WLS", "ENG-NE", "ENG-LDN", "WLS-CV", "WLS-GW"}
	for _, b := range []string{"ENG-NE-NCL", "ENG-NE-DUR", "ENG-NE-SUN", "ENG-NE-GAT", "ENG-LDN-CAM", "ENG-LDN-HAC", "ENG-LDN-CRO",
		"WLS-CV-CRF", "WLS-CV-VGL", "WLS-GW-NWP"} {
		if _, ok := s.geo.lookup(b); ok {
			places = append(places, b)
		}
	}
	see := func(key cellKey, c Count) {
		if primaryOnly {
			// Primary suppression only: what would be published without
			// secondary suppression (the viewer's own scope in full).
			n, _ := c.Value()
			kn.truth[key] = int64(n)
			return
		}
		kn.see(t, key, c)
	}
	years := []int{}
	for y := from; y <= to; y++ {
		years = append(years, y)
	}
	for _, pl := range places {
		sel := Selection{Collection: pl, From: from, To: to}
		rec, err := s.Recurrence(ctx, v, sel, RecurrenceOptions{Codes: []string{code}, Splits: true})
		if err != nil {
			t.Fatal(err)
		}
		row := rec.Rows[0]
		see(cellKey{pl, "reviews", "", ""}, row.Reviews)
		see(cellKey{pl, "episodes", "", ""}, row.Episodes)
		see(cellKey{pl, "mentions", "", ""}, row.Mentions)
		see(cellKey{pl, "coded", "", ""}, rec.Totals.ReviewsCoded)
		for _, sp := range row.Splits {
			see(cellKey{pl, "reviews", sp.Value, ""}, sp.Reviews)
			see(cellKey{pl, "episodes", sp.Value, ""}, sp.Episodes)
			see(cellKey{pl, "mentions", sp.Value, ""}, sp.Mentions)
		}
		tr, err := s.Trends(ctx, v, sel, TrendOptions{Codes: []string{code}})
		if err != nil {
			t.Fatal(err)
		}
		for i, pt := range tr.Series[0].Points {
			see(cellKey{pl, "reviews", "", fmt.Sprint(pt.Year)}, pt.Reviews)
			see(cellKey{pl, "coded", "", fmt.Sprint(pt.Year)}, tr.Coded[i])
		}
		if pl != UK {
			cmpr, err := s.Compare(ctx, v, sel, CompareOptions{Depth: 3})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range cmpr.Rows {
				if r.Code == code {
					see(cellKey{pl, "reviews", "", ""}, r.Reviews)
					see(cellKey{"rest:" + pl, "reviews", "", ""}, r.RefReviews)
				}
			}
			see(cellKey{pl, "coded", "", ""}, cmpr.N)
			see(cellKey{"rest:" + pl, "coded", "", ""}, cmpr.RefN)
		}
		if n, _ := s.geo.lookup(pl); n.level != LevelBoard {
			bd, err := s.Breakdown(ctx, v, sel, BreakdownOptions{Codes: []string{code}})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range bd.Places {
				see(cellKey{p.Place.Code, "reviews", "", ""}, p.Cells[0].Reviews)
				see(cellKey{p.Place.Code, "coded", "", ""}, p.ReviewsCoded)
			}
		}
		pr, err := s.Process(ctx, v, sel)
		if err != nil {
			t.Fatal(err)
		}
		see(cellKey{pl, "coded", "", ""}, pr.Reviews)
		for _, c := range pr.Kinds {
			see(cellKey{pl, "kind", c.Value, ""}, c.Reviews)
		}
		for _, c := range pr.Family {
			see(cellKey{pl, "family", c.Value, ""}, c.Reviews)
		}
		ov, err := s.Overview(ctx, v, sel)
		if err != nil {
			t.Fatal(err)
		}
		see(cellKey{pl, "coded", "", ""}, ov.Totals.ReviewsCoded)
		see(cellKey{pl, "family", "yes", ""}, ov.FamilyInvolved)
		see(cellKey{pl, "all_episodes", "", ""}, ov.Totals.Episodes)
		see(cellKey{pl, "all_episodes", "good", ""}, ov.GoodEpisodes)
		see(cellKey{pl, "all_episodes", "problematic", ""}, ov.ProblematicEpisodes)
		see(cellKey{pl, "all_episodes", "mixed", ""}, ov.MixedEpisodes)
		see(cellKey{pl, "all_episodes", "not_judged", ""}, ov.NotJudgedEpisodes)
		fn, err := s.Funnel(ctx, v, sel, FunnelOptions{Code: code})
		if err != nil {
			t.Fatal(err)
		}
		for _, pt := range fn.Points {
			see(cellKey{pt.Place.Code, "reviews", "", ""}, pt.Reviews)
			see(cellKey{pt.Place.Code, "coded", "", ""}, pt.N)
		}
	}
	// Relations the adversary knows.
	var rels []relation
	periods := []string{""}
	for _, y := range years {
		periods = append(periods, fmt.Sprint(y))
	}
	qtySplits := map[string][]string{
		"reviews":      {""},
		"coded":        {""},
		"episodes":     {"", "good", "problematic", "mixed", "not_judged"},
		"mentions":     {"", "supported_good", "made_problematic_more_likely"},
		"kind":         {"statutory", "routine", "innovation", "positive"},
		"family":       {"yes", "no", "not_recorded"},
		"all_episodes": {"", "good", "problematic", "mixed", "not_judged"},
	}
	for i := range s.geo.nodes {
		n := &s.geo.nodes[i]
		if len(n.children) == 0 {
			continue
		}
		for qty, splits := range qtySplits {
			for _, sp := range splits {
				for _, per := range periods {
					if per != "" && qty != "reviews" && qty != "coded" {
						continue
					}
					r := relation{total: cellKey{n.code, qty, sp, per}}
					for _, c := range n.children {
						r.parts = append(r.parts, cellKey{s.geo.nodes[c].code, qty, sp, per})
					}
					rels = append(rels, r)
				}
			}
		}
		for _, c := range n.children {
			for _, qty := range []string{"reviews", "coded"} {
				rels = append(rels, relation{total: cellKey{n.code, qty, "", ""},
					parts: []cellKey{{s.geo.nodes[c].code, qty, "", ""}, {"rest:" + s.geo.nodes[c].code, qty, "", ""}}})
			}
		}
	}
	for i := range s.geo.nodes {
		pl := s.geo.nodes[i].code
		for _, qty := range []string{"reviews", "coded"} {
			r := relation{total: cellKey{pl, qty, "", ""}}
			for _, y := range years {
				r.parts = append(r.parts, cellKey{pl, qty, "", fmt.Sprint(y)})
			}
			rels = append(rels, r)
		}
		rels = append(rels,
			relation{cellKey{pl, "coded", "", ""}, []cellKey{{pl, "kind", "statutory", ""}, {pl, "kind", "routine", ""}, {pl, "kind", "innovation", ""}, {pl, "kind", "positive", ""}}},
			relation{cellKey{pl, "coded", "", ""}, []cellKey{{pl, "family", "yes", ""}, {pl, "family", "no", ""}, {pl, "family", "not_recorded", ""}}},
			relation{cellKey{pl, "all_episodes", "", ""}, []cellKey{{pl, "all_episodes", "good", ""}, {pl, "all_episodes", "problematic", ""}, {pl, "all_episodes", "mixed", ""}, {pl, "all_episodes", "not_judged", ""}}},
			relation{cellKey{pl, "episodes", "", ""}, []cellKey{{pl, "episodes", "good", ""}, {pl, "episodes", "problematic", ""}, {pl, "episodes", "mixed", ""}, {pl, "episodes", "not_judged", ""}}},
			relation{cellKey{pl, "mentions", "", ""}, []cellKey{{pl, "mentions", "supported_good", ""}, {pl, "mentions", "made_problematic_more_likely", ""}}})
	}
	// Places nobody reported are zero and every view publishes zeros: the
	// adversary knows them.
	for i := range s.geo.nodes {
		pl := s.geo.nodes[i].code
		for qty, splits := range qtySplits {
			for _, sp := range splits {
				for _, per := range periods {
					key := cellKey{pl, qty, sp, per}
					if _, ok := kn.known[key]; !ok && !kn.withheld[key] && !primaryOnly {
						if !hasReviews(s, pl) {
							kn.known[key] = 0
						}
					}
				}
			}
		}
	}
	_ = k
	return kn, rels
}

var attackBoards = map[string]bool{"ENG-NE-NCL": true, "ENG-NE-DUR": true, "ENG-NE-SUN": true, "ENG-NE-GAT": true,
	"ENG-LDN-CAM": true, "ENG-LDN-HAC": true, "ENG-LDN-CRO": true, "WLS-CV-CRF": true, "WLS-CV-VGL": true, "WLS-GW-NWP": true}

// hasReviews reports whether any attack fixture board lies at or under pl.
func hasReviews(s *Store, pl string) bool {
	n, ok := s.geo.lookup(pl)
	if !ok {
		return false
	}
	for _, b := range s.geo.boardsUnder(n.idx) {
		if attackBoards[s.geo.nodes[b].code] {
			return true
		}
	}
	return false
}

func TestSuppressionAttack(t *testing.T) {
	if testing.Short() {
		t.Skip("the attack asks every view at every place")
	}
	for _, seed := range []uint64{1, 2} {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) { attackSeed(t, seed) })
	}
}

func attackSeed(t *testing.T, seed uint64) {
	db := mustDB(t)
	fs := attackFixtures(seed)
	for i := range fs {
		fs[i].kind = []string{"statutory", "statutory", "routine", "innovation", "positive"}[i%5]
	}
	mustWrite(t, db, exports(fs...)...)
	s := mustStore(t, db, 6)
	viewers := []struct {
		name string
		v    Viewer
	}{
		{"public", publicV},
		{"regional analyst of ENG-NE", neAnalyst},
		{"board member of ENG-NE-NCL", nclMember},
	}
	for _, code := range []string{"FL.WORK.03", "FL.TEAM.02", "FL.WORK"} {
		for _, vw := range viewers {
			t.Run(code+"/"+vw.name, func(t *testing.T) {
				kn, rels := collectAll(t, s, vw.v, code, 2019, 2021, false, 6)
				if len(kn.withheld) == 0 {
					t.Fatalf("nothing was withheld; the fixture must produce small numbers")
				}
				if got := kn.attack(rels); len(got) > 0 {
					t.Errorf("the attack recovered %d withheld figures, e.g. %v", len(got), got[:min(5, len(got))])
				}
				t.Logf("%d figures published, %d withheld, none recovered", len(kn.known), len(kn.withheld))
			})
		}
	}
	// The same attack against primary suppression alone recovers figures,
	// which shows that it can find what secondary suppression hides.
	t.Run("primary suppression alone leaks", func(t *testing.T) {
		truth, rels := collectAll(t, s, admin, "FL.WORK.03", 2019, 2021, true, 6)
		kn := newKnowledge()
		for key, v := range truth.truth {
			if v > 0 && v < 6 && !hasScope(key.place) {
				kn.withheld[key] = true
			} else {
				kn.known[key] = v
			}
		}
		for i := range s.geo.nodes {
			pl := s.geo.nodes[i].code
			if !hasReviews(s, pl) {
				for _, qty := range []string{"reviews", "coded"} {
					kn.known[cellKey{pl, qty, "", ""}] = 0
					for y := 2019; y <= 2021; y++ {
						kn.known[cellKey{pl, qty, "", fmt.Sprint(y)}] = 0
					}
				}
			}
		}
		if got := kn.attack(rels); len(got) == 0 {
			t.Errorf("primary suppression alone leaked nothing; the attack or the fixture is too weak")
		} else {
			t.Logf("primary suppression alone: %d of %d withheld figures recovered", len(got), len(kn.withheld))
		}
	})
}

func hasScope(string) bool { return false }

// TestMentionsOnlyForCodesWithoutChildren checks the rule that closes the
// frame tree as a way round suppression: a node's mentions are the sum of
// its children's (and its own codings), so a published parent would give
// away a withheld child. Mentions are published for codes without children
// only, exactly when their reviews are.
func TestMentionsOnlyForCodesWithoutChildren(t *testing.T) {
	db := mustDB(t)
	mustWrite(t, db, exports(attackFixtures(1)...)...)
	s := mustStore(t, db, 6)
	ctx := context.Background()
	parents, leaves := 0, 0
	for _, tree := range []string{TreeFactor, TreePattern} {
		for _, pl := range []string{UK, "ENG", "ENG-NE", "ENG-NE-NCL"} {
			rec, err := s.Recurrence(ctx, publicV, Selection{Collection: pl}, RecurrenceOptions{Tree: tree, Splits: true})
			if err != nil {
				t.Fatal(err)
			}
			for _, row := range rec.Rows {
				_, published := row.Mentions.Value()
				n, reviews := row.Reviews.Value()
				if reviews && n == 0 {
					continue
				}
				if rec.hasChild(row.Node.Code) {
					parents++
					if published {
						t.Errorf("%s %s at %s has children, but its mentions are published", tree, row.Node.Code, pl)
					}
					for _, sp := range row.Splits {
						if _, ok := sp.Mentions.Value(); ok {
							t.Errorf("%s %s at %s has children, but its mentions by %s are published", tree, row.Node.Code, pl, sp.Value)
						}
					}
					continue
				}
				leaves++
				if published != reviews {
					t.Errorf("%s %s at %s: mentions published %v, reviews published %v", tree, row.Node.Code, pl, published, reviews)
				}
			}
		}
	}
	if parents == 0 || leaves == 0 {
		t.Fatalf("checked %d parents and %d codes without children; the fixture must have both", parents, leaves)
	}
}

// hasChild reports whether some row of the recurrence is a child of code.
func (r *Recurrence) hasChild(code string) bool {
	for _, row := range r.Rows {
		if row.Node.Parent == code {
			return true
		}
	}
	return false
}

// TestYearRangesOnlyWhereFull: figures that suppression applies to cover
// all years. Two ranges differ by the years between them, so if both were
// published a withheld figure could be recovered by subtraction; a range is
// therefore answered only where the viewer sees every figure in full, and a
// comparison (whose reference lies outside the viewer's place) only for a
// viewer who sees everything.
func TestYearRangesOnlyWhereFull(t *testing.T) {
	s := loadRecurrenceFixtures(t)
	ctx := context.Background()
	lo, hi, err := s.yearSpan(ctx)
	if err != nil || lo >= hi {
		t.Fatalf("years %d to %d (%v): the fixture must span several years", lo, hi, err)
	}
	overview := func(v Viewer, sel Selection) error { _, err := s.Overview(ctx, v, sel); return err }
	trends := func(v Viewer, sel Selection) error { _, err := s.Trends(ctx, v, sel, TrendOptions{}); return err }
	compare := func(v Viewer, sel Selection) error { _, err := s.Compare(ctx, v, sel, CompareOptions{}); return err }
	for _, tc := range []struct {
		name string
		ask  func(Viewer, Selection) error
		v    Viewer
		sel  Selection
		ok   bool
	}{
		{"public, a region from a year", overview, publicV, Selection{Collection: "ENG-NE", From: hi}, false},
		{"public, the UK up to a year", trends, publicV, Selection{To: hi - 1}, false},
		{"public, a region over all years named", overview, publicV, Selection{Collection: "ENG-NE", From: lo, To: hi}, true},
		{"public, a region's trends over all years", trends, publicV, Selection{Collection: "ENG-NE"}, true},
		{"analyst, own region from a year", overview, neAnalyst, Selection{Collection: "ENG-NE", From: hi}, true},
		{"analyst, own board's trends to a year", trends, neAnalyst, Selection{Collection: "ENG-NE-NCL", To: hi - 1}, true},
		{"analyst, the nation from a year", overview, neAnalyst, Selection{Collection: "ENG", From: hi}, false},
		{"analyst, own region compared with the rest, from a year", compare, neAnalyst, Selection{Collection: "ENG-NE", From: hi}, false},
		{"analyst, own region compared with the rest, all years", compare, neAnalyst, Selection{Collection: "ENG-NE"}, true},
		{"board member, own board from a year", overview, nclMember, Selection{Collection: "ENG-NE-NCL", From: hi}, true},
		{"board member, own region from a year", overview, nclMember, Selection{Collection: "ENG-NE", From: hi}, false},
		{"unsuppressed admin, the UK from a year", overview, admin, Selection{From: hi}, true},
		{"unsuppressed admin, a region compared, from a year", compare, admin, Selection{Collection: "ENG-NE", From: hi}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.ask(tc.v, tc.sel)
			if tc.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tc.ok && (errs.KindOf(err) != errs.Invalid || !strings.Contains(errs.Message(err), "cover all years")) {
				t.Fatalf("err %v, want the refusal of a range of years", err)
			}
		})
	}
}
