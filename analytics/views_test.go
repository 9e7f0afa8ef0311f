package analytics

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/collate-project/collate/ingest/errs"
)

func val(t *testing.T, c Count) int {
	t.Helper()
	return mustCount(t, c)
}

func fval(t *testing.T, f Figure) float64 {
	t.Helper()
	v, ok := f.Value()
	if !ok {
		t.Fatalf("figure not available: %v", f)
	}
	return v
}

func TestProcessAndOverview(t *testing.T) {
	s := loadRecurrenceFixtures(t)
	ctx := context.Background()
	pr, err := s.Process(ctx, admin, Selection{Collection: UK})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, c := range append(pr.Kinds, pr.Family...) {
		got[c.Value] = val(t, c.Reviews)
	}
	// Kinds: R2 routine, the rest statutory. Family: R1 yes, R4 no, three not recorded.
	want := map[string]int{"statutory": 4, "routine": 1, "innovation": 0, "positive": 0, "yes": 1, "no": 1, "not_recorded": 3}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("process (-want +got):\n%s", diff)
	}
	ov, err := s.Overview(ctx, admin, Selection{Collection: UK})
	if err != nil {
		t.Fatal(err)
	}
	// Episodes: R1 problematic, mixed, good; R2 problematic, good; R3 good; R4 problematic; R6 good.
	if g, p, m := val(t, ov.GoodEpisodes), val(t, ov.ProblematicEpisodes), val(t, ov.MixedEpisodes); g != 4 || p != 3 || m != 1 {
		t.Errorf("episodes good/problematic/mixed = %d/%d/%d, want 4/3/1", g, p, m)
	}
	if sh := fval(t, ov.GoodShare); math.Abs(sh-4.0/7) > 1e-12 {
		t.Errorf("good share = %v, want 4/7", sh)
	}
	if val(t, ov.Totals.Episodes) != 8 || val(t, ov.Recommendations) != 3 || val(t, ov.Patterns) != 4 {
		t.Errorf("episodes, recommendations, patterns = %v, %v, %v; want 8, 3, 4", ov.Totals.Episodes, ov.Recommendations, ov.Patterns)
	}
}

func TestCompareWithRest(t *testing.T) {
	s := loadRecurrenceFixtures(t)
	c, err := s.Compare(context.Background(), admin, Selection{Collection: "ENG-NE"}, CompareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// ENG-NE: R1, R2, R3, R4 (4 coded); the rest of ENG is R6 (1 coded).
	if c.ReferenceRule != "ENG without ENG-NE" || val(t, c.N) != 4 || val(t, c.RefN) != 1 {
		t.Fatalf("reference %q, n %v, ref n %v", c.ReferenceRule, c.N, c.RefN)
	}
	var ps []float64
	for _, r := range c.Rows {
		a, cc := val(t, r.Reviews), val(t, r.RefReviews)
		want := FisherExact(a, 4-a, cc, 1-cc)
		if got := fval(t, r.P); math.Abs(got-want) > 1e-12 {
			t.Errorf("%s: p = %v, want %v", r.Code, got, want)
		}
		ps = append(ps, want)
		if r.Code == "FL.WORK.03" {
			if a != 3 || cc != 1 {
				t.Errorf("FL.WORK.03: %d vs %d, want 3 vs 1", a, cc)
			}
			if d := fval(t, r.Difference); math.Abs(d-(0.75-1)) > 1e-12 {
				t.Errorf("difference = %v, want -0.25", d)
			}
			if q := fval(t, r.Ratio); math.Abs(q-0.75) > 1e-12 {
				t.Errorf("ratio = %v, want 0.75", q)
			}
		}
	}
	adj := BenjaminiHochberg(ps)
	for i, r := range c.Rows {
		if got := fval(t, r.PAdjusted); math.Abs(got-adj[i]) > 1e-12 {
			t.Errorf("%s: adjusted p = %v, want %v", r.Code, got, adj[i])
		}
		if r.Flag != "" {
			t.Errorf("%s flagged %q with 5 reviews in all", r.Code, r.Flag)
		}
	}
	if _, err := s.Compare(context.Background(), admin, Selection{Collection: UK}, CompareOptions{}); errs.KindOf(err) != errs.Invalid {
		t.Errorf("comparing the UK with its parent: %v, want invalid", err)
	}
}

func TestTrendsCounts(t *testing.T) {
	s := loadRecurrenceFixtures(t)
	tr, err := s.Trends(context.Background(), admin, Selection{Collection: "ENG-NE", From: 2020, To: 2021},
		TrendOptions{Codes: []string{"FL.WORK.03"}, LastYears: 2})
	if err != nil {
		t.Fatal(err)
	}
	// 2020: R1 (of R1, R3); 2021: R2 and R4 (of R2, R4).
	pts := tr.Series[0].Points
	if val(t, pts[0].Reviews) != 1 || val(t, pts[0].Coded) != 2 || val(t, pts[1].Reviews) != 2 || val(t, pts[1].Coded) != 2 {
		t.Errorf("points = %+v", pts)
	}
	z, p := CochranArmitage([]int{1, 2}, []int{2, 2}, []float64{2020, 2021})
	if math.Abs(fval(t, tr.Series[0].Trend.Z)-z) > 1e-12 || math.Abs(fval(t, tr.Series[0].Trend.P)-p) > 1e-12 {
		t.Errorf("trend = %+v, want z %v p %v", tr.Series[0].Trend, z, p)
	}
	lo, hi := Wilson(1, 2, z95)
	if math.Abs(fval(t, pts[0].Interval.Lo)-lo) > 1e-12 || math.Abs(fval(t, pts[0].Interval.Hi)-hi) > 1e-12 {
		t.Errorf("interval = %+v, want %v..%v", pts[0].Interval, lo, hi)
	}
}

func TestCoOccurrenceAndFlows(t *testing.T) {
	s := loadRecurrenceFixtures(t)
	ctx := context.Background()
	co, err := s.CoOccurrence(ctx, admin, Selection{Collection: UK}, CoOccurrenceOptions{Focus: "FL.WORK.03"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, p := range co.Pairs {
		got[p.A+"+"+p.B] = val(t, p.Count)
		if p.A == "FL.TEAM.02" {
			// 8 episodes coded; FL.TEAM.02 in 2, FL.WORK.03 in 5, together in 1.
			if l := fval(t, p.Lift); math.Abs(l-0.8) > 1e-12 {
				t.Errorf("lift = %v, want 0.8", l)
			}
			if j := fval(t, p.Jaccard); math.Abs(j-1.0/6) > 1e-12 {
				t.Errorf("jaccard = %v, want 1/6", j)
			}
		}
	}
	want := map[string]int{"FL.TEAM.02+FL.WORK.03": 1, "FL.FAM.04+FL.WORK.03": 1, "FL.WORK.03+NG.POL.03": 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("episode pairs (-want +got):\n%s", diff)
	}
	co, err = s.CoOccurrence(ctx, admin, Selection{Collection: UK}, CoOccurrenceOptions{Within: "review"})
	if err != nil {
		t.Fatal(err)
	}
	got = map[string]int{}
	for _, p := range co.Pairs {
		got[p.A+"+"+p.B] = val(t, p.Count)
	}
	want = map[string]int{"FL.TEAM+FL.WORK": 1, "FL.FAM+FL.TEAM": 1, "FL.FAM+FL.WORK": 1, "FL.WORK+LS.ORG": 1, "FL.WORK+NG.POL": 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("review pairs (-want +got):\n%s", diff)
	}
	fl, err := s.Flows(ctx, admin, Selection{Collection: UK}, FlowOptions{})
	if err != nil {
		t.Fatal(err)
	}
	type ep = [2]int
	gotF := map[string]ep{}
	for _, l := range fl.Links {
		gotF[l.Source+">"+l.Target] = ep{val(t, l.Episodes), val(t, l.Reviews)}
	}
	wantF := map[string]ep{"FL.WORK>P6": {2, 2}, "FL.TEAM>P2": {2, 1}, "FL.WORK>P2": {1, 1}, "FL.FAM>P6": {1, 1}, "LS.ORG>P4": {1, 1}}
	if diff := cmp.Diff(wantF, gotF); diff != "" {
		t.Errorf("flows (-want +got):\n%s", diff)
	}
}

func TestRecommendationsCounts(t *testing.T) {
	s := loadRecurrenceFixtures(t)
	r, err := s.Recommendations(context.Background(), admin, Selection{Collection: UK})
	if err != nil {
		t.Fatal(err)
	}
	if val(t, r.Total) != 3 || val(t, r.Reviews) != 1 {
		t.Errorf("total %v from %v reviews, want 3 from 1", r.Total, r.Reviews)
	}
	grid := map[string]int{}
	for _, row := range r.Grid {
		for _, c := range row {
			if n := val(t, c.Recommendations); n > 0 {
				grid[c.Level+"/"+string(rune('0'+c.Kind))] = n
			}
		}
	}
	if diff := cmp.Diff(map[string]int{"local/1": 1, "local/2": 1, "national/3": 1}, grid); diff != "" {
		t.Errorf("grid (-want +got):\n%s", diff)
	}
	for _, pt := range r.ByPatternType {
		switch pt.Code {
		case "P2": // recommendations 1 (local) and 2 (national)
			if val(t, pt.Recommendations) != 2 || val(t, pt.National) != 1 || fval(t, pt.NationalShare) != 0.5 {
				t.Errorf("P2: %+v", pt)
			}
		case "P6": // recommendation 2 (national)
			if val(t, pt.Recommendations) != 1 || fval(t, pt.NationalShare) != 1 {
				t.Errorf("P6: %+v", pt)
			}
		}
	}
}

func TestDrillDownScope(t *testing.T) {
	s := loadRecurrenceFixtures(t)
	ctx := context.Background()
	cases := []struct {
		name       string
		v          Viewer
		collection string
		code       string
		tree       string
		total      int // -1: forbidden
	}{
		{"admin, region", admin, "ENG-NE", "FL.WORK.03", "", 4},
		{"admin previewing suppressed figures", Viewer{Role: RoleAdmin}, "ENG-NE", "FL.WORK.03", "", 4},
		{"analyst inside region", neAnalyst, "ENG-NE", "FL.WORK.03", "", 4},
		{"analyst, board of region", neAnalyst, "ENG-NE-NCL", "FL.WORK.03", "", 3},
		{"analyst outside region", neAnalyst, "ENG-LDN", "FL.WORK.03", "", -1},
		{"analyst, nation", neAnalyst, "ENG", "FL.WORK.03", "", -1},
		{"board member, own board", nclMember, "ENG-NE-NCL", "FL.WORK.03", "", 3},
		{"board member, region", nclMember, "ENG-NE", "FL.WORK.03", "", -1},
		{"public", publicV, "ENG-NE-NCL", "FL.WORK.03", "", -1},
		{"researcher without grant", Viewer{Role: RoleNationalResearcher}, "UK", "FL.WORK.03", "", -1},
		{"researcher with grant", Viewer{Role: RoleNationalResearcher, Unsuppressed: true}, "UK", "FL.WORK.03", "", 5},
		{"proposed sub-patterns", admin, "UK", "P4.proposed", "pattern", 1},
		{"pattern type", admin, "UK", "P2", "pattern", 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			page, err := s.Episodes(ctx, c.v, Selection{Collection: c.collection}, EpisodeQuery{Tree: c.tree, Code: c.code, PerPage: 2})
			if c.total < 0 {
				if !errors.Is(err, errs.ErrForbidden) {
					t.Fatalf("err = %v, want forbidden", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if page.Total != c.total || len(page.Episodes) != min(2, c.total) || page.Pages != (c.total+1)/2 {
				t.Fatalf("total %d, %d on the page, %d pages; want %d", page.Total, len(page.Episodes), page.Pages, c.total)
			}
			for _, e := range page.Episodes {
				if e.ReviewID == "" || e.Board == "" || e.Year == 0 || e.Excerpt == "" {
					t.Errorf("incomplete excerpt %+v", e)
				}
			}
		})
	}
	// Page by page, one episode at a time, every episode once.
	seen := map[string]bool{}
	for pg := 1; pg <= 5; pg++ {
		p, err := s.Episodes(ctx, admin, Selection{Collection: UK}, EpisodeQuery{Code: "FL.WORK.03", Page: pg, PerPage: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Episodes) != 1 || p.Pages != 5 {
			t.Fatalf("page %d: %d episodes of %d pages", pg, len(p.Episodes), p.Pages)
		}
		e := p.Episodes[0]
		id := e.ReviewID + "/" + string(rune('0'+e.Number))
		if seen[id] {
			t.Errorf("episode %s listed twice", id)
		}
		seen[id] = true
		if !slices.Contains(e.Factors, "FL.WORK.03") {
			t.Errorf("episode %s does not cite FL.WORK.03: %v", id, e.Factors)
		}
	}
	// Words narrow the list (and are counted, not read from the aggregates).
	p, err := s.Episodes(ctx, admin, Selection{Collection: UK}, EpisodeQuery{Code: "FL.WORK.03", Text: "2 of R1"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Total != 1 || p.Episodes[0].ReviewID != "R1" || p.Episodes[0].Number != 2 {
		t.Errorf("text search: %+v", p)
	}
	// The episodes behind a count are the count.
	r, err := s.Recurrence(ctx, admin, Selection{Collection: "ENG-NE"}, RecurrenceOptions{Codes: []string{"FL.WORK.03"}})
	if err != nil {
		t.Fatal(err)
	}
	if n := val(t, r.Rows[0].Episodes); n != 4 {
		t.Errorf("recurrence episodes = %d, drill-down found 4", n)
	}
	// A review outside the viewer's scope is not found, not forbidden.
	if _, err := s.Review(ctx, nclMember, "R4"); errs.KindOf(err) != errs.NotFound {
		t.Errorf("board member reading another board's review: %v, want not found", err)
	}
	if d, err := s.Review(ctx, nclMember, "R1"); err != nil || d.Export.Review.ID != "R1" {
		t.Errorf("board member reading own review: %v", err)
	}
}

func TestCustomCollections(t *testing.T) {
	s := loadRecurrenceFixtures(t)
	ctx := context.Background()
	for _, c := range []SavedCollection{
		{Name: "ne-routine", Regions: []string{"ENG-NE"}, Kinds: []string{"routine"}},
		{Name: "ne-police", Regions: []string{"ENG-NE"}, Agencies: []string{"Police"}},
		{Name: "ncl-cam", Boards: []string{"ENG-NE-NCL", "ENG-LDN-CAM"}},
	} {
		if _, err := s.SaveCollection(ctx, admin, c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.SaveCollection(ctx, publicV, SavedCollection{Name: "x"}); !errors.Is(err, errs.ErrForbidden) {
		t.Errorf("public saving a collection: %v", err)
	}
	if _, err := s.SaveCollection(ctx, admin, SavedCollection{Name: "Bad Name"}); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("bad name: %v", err)
	}
	cases := []struct {
		name  string
		coded int
		work  int // reviews citing FL.WORK.03
	}{
		{"ne-routine", 1, 1}, // R2
		{"ne-police", 1, 1},  // R4
		{"ncl-cam", 4, 3},    // R1, R2, R3, R6
	}
	for _, c := range cases {
		r, err := s.Recurrence(ctx, admin, Selection{Collection: SavedPrefix + c.name}, RecurrenceOptions{Codes: []string{"FL.WORK.03"}})
		if err != nil {
			t.Fatal(c.name, err)
		}
		if got := val(t, r.Totals.ReviewsCoded); got != c.coded {
			t.Errorf("%s: coded = %d, want %d", c.name, got, c.coded)
		}
		if got := val(t, r.Rows[0].Reviews); got != c.work {
			t.Errorf("%s: FL.WORK.03 = %d, want %d", c.name, got, c.work)
		}
		// A narrowed collection is refused to the public, who could
		// otherwise subtract two narrowings of the same places.
		r, err = s.Recurrence(ctx, publicV, Selection{Collection: SavedPrefix + c.name}, RecurrenceOptions{Codes: []string{"FL.WORK.03"}})
		if c.name != "ncl-cam" {
			if !errors.Is(err, errs.ErrForbidden) {
				t.Errorf("%s: the public asked for a narrowed collection: %v, want it refused", c.name, err)
			}
			continue
		}
		// With only a handful of reviews everything is withheld from the public.
		if err != nil {
			t.Fatal(err)
		}
		if !r.Rows[0].Reviews.Suppressed() || !r.Rows[0].Share.Suppressed() || !r.Rows[0].Interval.Lo.Suppressed() {
			t.Errorf("%s: public sees %v reviews, share %v", c.name, r.Rows[0].Reviews, r.Rows[0].Share)
		}
	}
	// Agency-filtered totals come from the base tables: R4 has one problematic episode.
	ov, err := s.Overview(ctx, admin, Selection{Collection: SavedPrefix + "ne-police"})
	if err != nil {
		t.Fatal(err)
	}
	if val(t, ov.Totals.ReviewsCoded) != 1 || val(t, ov.Totals.Episodes) != 1 || val(t, ov.ProblematicEpisodes) != 1 || val(t, ov.GoodEpisodes) != 0 {
		t.Errorf("agency overview = %+v", ov)
	}
	got, err := s.SavedCollections(ctx, publicV)
	if err != nil || len(got) != 3 {
		t.Errorf("saved collections: %d, %v", len(got), err)
	}
	if err := s.DeleteCollection(ctx, nclMember, "ne-routine"); !errors.Is(err, errs.ErrForbidden) {
		t.Errorf("deleting someone else's collection: %v", err)
	}
}

func TestViewerAndPolicyChecks(t *testing.T) {
	db := mustDB(t)
	if _, err := New(Options{DB: db, Policy: SuppressionPolicy{K: 2}}); err == nil {
		t.Errorf("k = 2 accepted; k may never be below 3")
	}
	s := mustStore(t, db, 0)
	if s.Policy().K != DefaultK {
		t.Errorf("default k = %d", s.Policy().K)
	}
	ctx := context.Background()
	bad := []Viewer{
		{},
		{Role: "superuser"},
		{Role: RoleRegionalAnalyst},
		{Role: RoleBoardMember},
		{Role: RoleRegionalAnalyst, Region: "ENG-NE", Unsuppressed: true},
		{Role: RolePublic, Unsuppressed: true},
	}
	for _, v := range bad {
		if _, err := s.Overview(ctx, v, Selection{}); err == nil {
			t.Errorf("viewer %+v accepted", v)
		}
	}
	if _, err := s.Overview(ctx, publicV, Selection{Collection: "NOWHERE"}); errs.KindOf(err) != errs.NotFound {
		t.Errorf("unknown collection: %v", err)
	}
}

func TestRoundedTotals(t *testing.T) {
	db := mustDB(t)
	var fs []fixture
	for i := 0; i < 13; i++ {
		fs = append(fs, fixture{id: "T" + string(rune('A'+i)) + "x", board: []string{"ENG-NE-NCL", "ENG-NE-DUR"}[i%2], year: 2020,
			episodes: []string{"good:FL.TEAM.02+g"}})
	}
	mustWrite(t, db, exports(fs...)...)
	s, err := New(Options{DB: db, Policy: SuppressionPolicy{K: 3, RoundTotals: 5}})
	if err != nil {
		t.Fatal(err)
	}
	ov, err := s.Overview(context.Background(), publicV, Selection{Collection: "ENG-NE"})
	if err != nil {
		t.Fatal(err)
	}
	if got := val(t, ov.Totals.ReviewsCoded); got != 15 {
		t.Errorf("rounded regional total = %d, want 15 (13 rounded to 5)", got)
	}
	ov, err = s.Overview(context.Background(), neAnalyst, Selection{Collection: "ENG-NE"})
	if err != nil {
		t.Fatal(err)
	}
	if got := val(t, ov.Totals.ReviewsCoded); got != 13 {
		t.Errorf("analyst's own region = %d, want the exact 13", got)
	}
}

// analytics must never depend on the web layer.
func TestNoForbiddenImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/collate-project/collate/analytics").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, bad := range []string{"github.com/gin-gonic/gin", "github.com/go-echarts/", "github.com/collate-project/collate/dashboard", "net/http"} {
			if strings.HasPrefix(dep, bad) {
				t.Errorf("analytics depends on %s", dep)
			}
		}
	}
}

func TestQueryByName(t *testing.T) {
	s := loadRecurrenceFixtures(t)
	ctx := context.Background()
	for _, view := range Views() {
		opts := map[string][]string{}
		switch view {
		case "funnel":
			opts["code"] = []string{"FL.WORK.03"}
		case "recurrence":
			opts["codes"] = []string{"FL.WORK.03,FL.TEAM.02"}
			opts["splits"] = []string{"true"}
		}
		out, err := s.Query(ctx, admin, view, Selection{Collection: "ENG-NE"}, opts)
		if err != nil {
			t.Errorf("%s: %v", view, err)
			continue
		}
		if b, err := json.Marshal(out); err != nil || len(b) < 20 {
			t.Errorf("%s: json %s, %v", view, b, err)
		}
	}
	if _, err := s.Query(ctx, admin, "recurrence", Selection{}, map[string][]string{"depth": {"deep"}}); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("bad option: %v", err)
	}
	if _, err := s.Query(ctx, admin, "search-recommendations", Selection{}, map[string][]string{"kinds": {"1,x"}}); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("bad kinds option: %v", err)
	}
	if _, err := s.Query(ctx, admin, "nonsense", Selection{}, nil); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("unknown view: %v", err)
	}
	r, err := s.Query(ctx, admin, "recurrence", Selection{Collection: "ENG-NE"}, map[string][]string{"codes": {"FL.WORK.03"}})
	if err != nil || len(r.(*Recurrence).Rows) != 1 {
		t.Errorf("codes option not applied: %v", err)
	}
}

func TestFunnelPoints(t *testing.T) {
	s := loadRecurrenceFixtures(t)
	f, err := s.Funnel(context.Background(), admin, Selection{Collection: "ENG-NE"}, FunnelOptions{Code: "FL.WORK.03"})
	if err != nil {
		t.Fatal(err)
	}
	// ENG-NE: 3 of 4 reviews coded cite FL.WORK.03; Newcastle 2 of 3 (R1, R2 of R1, R2, R3), Durham 1 of 1.
	if got := fval(t, f.Target); got != 0.75 {
		t.Errorf("target = %v, want 0.75", got)
	}
	got := map[string][2]int{}
	for _, p := range f.Points {
		if n := val(t, p.N); n > 0 {
			got[p.Place.Code] = [2]int{val(t, p.Reviews), n}
		}
	}
	if diff := cmp.Diff(map[string][2]int{"ENG-NE-NCL": {2, 3}, "ENG-NE-DUR": {1, 1}}, got); diff != "" {
		t.Errorf("points (-want +got):\n%s", diff)
	}
	if len(f.Points) != 12 || len(f.Limits) == 0 {
		t.Fatalf("%d points, %d limits; want the 12 boards of ENG-NE and some limits", len(f.Points), len(f.Limits))
	}
	for _, l := range f.Limits {
		if l.Lo95 != BinomialLimit(0.025, 0.75, l.N) || l.Hi998 != BinomialLimit(0.999, 0.75, l.N) || l.Lo998 > l.Lo95 || l.Hi95 > l.Hi998 {
			t.Errorf("limits at n = %d: %+v", l.N, l)
		}
	}
}
