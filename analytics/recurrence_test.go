package analytics

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var (
	admin     = Viewer{Role: RoleAdmin, Unsuppressed: true, Name: "admin"}
	publicV   = Viewer{Role: RolePublic}
	neAnalyst = Viewer{Role: RoleRegionalAnalyst, Region: "ENG-NE", Name: "ne"}
	nclMember = Viewer{Role: RoleBoardMember, Board: "ENG-NE-NCL", Name: "ncl"}
)

// recurrenceFixtures: six reviews by hand. Counting FL.WORK.03 (Workload):
// R1 (NCL 2020) episodes 1 and 2, R2 (NCL 2021) episode 1, R4 (DUR 2021)
// episode 1, R6 (CAM 2022) episode 1: 4 reviews, 5 episodes, 5 codings.
// R3 (NCL 2020) is superseded by a version without it, R5 (SUN 2021) is withdrawn.
// Level FL in the UK: R1 has 3 episodes with 5 FL codings, R2, R3 (its current
// version, FL.IA.04), R4 and R6 one episode with one FL coding each: 5 reviews,
// 7 episodes, 9 codings.
func recurrenceFixtures() []fixture {
	return []fixture{
		{id: "R1", board: "ENG-NE-NCL", year: 2020, family: "yes",
			episodes: []string{"problematic:FL.WORK.03+p,FL.TEAM.02+p", "mixed:FL.WORK.03+g,FL.FAM.04+p", "good:FL.TEAM.02+g"},
			patterns: []fxPattern{{typ: "P2", sub: "P2.3", priority: 1, episodes: []int{1, 3}}, {typ: "P6", sub: "P6.1", priority: 2, episodes: []int{2}}},
			recs:     []fxRec{{1, "local", []int{1}}, {3, "national", []int{1, 2}}, {2, "local", nil}}},
		{id: "R2", board: "ENG-NE-NCL", year: 2021, kind: "routine",
			episodes: []string{"problematic:FL.WORK.03+p", "good:LS.ORG.04+g"},
			patterns: []fxPattern{{typ: "P6", sub: "P6.1", episodes: []int{1}}, {typ: "P4", proposed: "Schools unsure of thresholds", nature: "constructive", priority: 5, episodes: []int{2}}}},
		{id: "R3", board: "ENG-NE-NCL", year: 2020, episodes: []string{"problematic:FL.WORK.03+p"}},
		{id: "R4", board: "ENG-NE-DUR", year: 2021, family: "no", agencies: []string{"Police", "Health visiting"},
			episodes: []string{"problematic:FL.WORK.03+p,NG.POL.03+p"}},
		{id: "R5", board: "ENG-NE-SUN", year: 2021, episodes: []string{"problematic:FL.WORK.03+p"}},
		{id: "R6", board: "ENG-LDN-CAM", year: 2022, episodes: []string{"good:FL.WORK.03+g"}},
	}
}

func loadRecurrenceFixtures(t *testing.T) *Store {
	t.Helper()
	db := mustDB(t)
	fs := recurrenceFixtures()
	mustWrite(t, db, exports(fs...)...)
	r3 := fs[2]
	r3.episodes = []string{"good:FL.IA.04+g"}
	mustWrite(t, db, r3.export())
	if err := mustWriter(db).Withdraw(context.Background(), "R5", "duplicate", "test"); err != nil {
		t.Fatal(err)
	}
	return mustStore(t, db, 3)
}

func rowOf(t *testing.T, r *Recurrence, code string) RecurrenceRow {
	t.Helper()
	for _, row := range r.Rows {
		if row.Code == code {
			return row
		}
	}
	t.Fatalf("no row %s", code)
	return RecurrenceRow{}
}

func mustCount(t *testing.T, c Count) int {
	t.Helper()
	n, ok := c.Value()
	if !ok {
		t.Fatalf("count suppressed")
	}
	return n
}

func TestRecurrenceCounts(t *testing.T) {
	s := loadRecurrenceFixtures(t)
	ctx := context.Background()
	type want struct{ reviews, episodes, mentions int }
	cases := []struct {
		name       string
		collection string
		from, to   int
		tree       string
		coded      int
		rows       map[string]want
	}{
		{"UK factors", "UK", 0, 0, "factor", 5, map[string]want{
			"FL.WORK.03": {4, 5, 5}, "FL.WORK": {4, 5, 5}, "FL": {5, 7, 9},
			"FL.TEAM.02": {1, 2, 2}, "FL.IA.04": {1, 1, 1}, "LS.ORG.04": {1, 1, 1}, "LS": {1, 1, 1},
			"NG.POL.03": {1, 1, 1}, "NG": {1, 1, 1}, "FL.FAM.04": {1, 1, 1}, "FL.ROLE.01": {0, 0, 0}}},
		{"North East factors", "ENG-NE", 0, 0, "factor", 4, map[string]want{
			"FL.WORK.03": {3, 4, 4}, "FL": {4, 6, 8}}},
		{"Newcastle 2020 only", "ENG-NE-NCL", 2020, 2020, "factor", 2, map[string]want{
			"FL.WORK.03": {1, 2, 2}, "FL.IA.04": {1, 1, 1}, "FL.TEAM.02": {1, 2, 2}}},
		{"London", "ENG-LDN", 0, 0, "factor", 1, map[string]want{"FL.WORK.03": {1, 1, 1}}},
		// Patterns: P6.1 in R1 and R2; P2.3 in R1 drawing on episodes 1 and 3;
		// the proposed P4 sub-pattern in R2 counts under P4 and P4.proposed.
		{"UK patterns", "UK", 0, 0, "pattern", 5, map[string]want{
			"P6": {2, 2, 2}, "P6.1": {2, 2, 2}, "P2": {1, 2, 1}, "P2.3": {1, 2, 1},
			"P4": {1, 1, 1}, "P4.proposed": {1, 1, 1}, "P1": {0, 0, 0}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := s.Recurrence(ctx, admin, Selection{Collection: c.collection, From: c.from, To: c.to}, RecurrenceOptions{Tree: c.tree})
			if err != nil {
				t.Fatal(err)
			}
			if got := mustCount(t, r.Totals.ReviewsCoded); got != c.coded {
				t.Errorf("reviews coded = %d, want %d", got, c.coded)
			}
			for code, w := range c.rows {
				row := rowOf(t, r, code)
				got := want{mustCount(t, row.Reviews), mustCount(t, row.Episodes), mustCount(t, row.Mentions)}
				if got != w {
					t.Errorf("%s: (reviews, episodes, mentions) = %v, want %v", code, got, w)
				}
				if sh, ok := row.Share.Value(); !ok || sh != float64(w.reviews)/float64(c.coded) {
					t.Errorf("%s: share = %v, want %d/%d", code, row.Share, w.reviews, c.coded)
				}
			}
		})
	}
}

func TestRecurrenceSplits(t *testing.T) {
	s := loadRecurrenceFixtures(t)
	r, err := s.Recurrence(context.Background(), admin, Selection{Collection: "ENG-NE"},
		RecurrenceOptions{Codes: []string{"FL.WORK.03", "FL.TEAM.02"}, Splits: true})
	if err != nil {
		t.Fatal(err)
	}
	type sp = [3]int
	got := map[string]sp{}
	for _, x := range rowOf(t, r, "FL.WORK.03").Splits {
		got[x.Dim+"="+x.Value] = sp{mustCount(t, x.Reviews), mustCount(t, x.Episodes), mustCount(t, x.Mentions)}
	}
	// FL.WORK.03 in the North East: R1 ep1 (problematic, p), R1 ep2 (mixed, g),
	// R2 ep1 (problematic, p), R4 ep1 (problematic, p).
	want := map[string]sp{
		"influence=supported_good": {1, 1, 1}, "influence=made_problematic_more_likely": {3, 3, 3},
		"adequacy=good": {0, 0, 0}, "adequacy=problematic": {3, 3, 3}, "adequacy=mixed": {1, 1, 1}, "adequacy=not_judged": {0, 0, 0},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("splits (-want +got):\n%s", diff)
	}
	// Patterns by nature and priority in the UK.
	r, err = s.Recurrence(context.Background(), admin, Selection{Collection: "UK"},
		RecurrenceOptions{Tree: "pattern", Codes: []string{"P4", "P6.1"}, Splits: true})
	if err != nil {
		t.Fatal(err)
	}
	got = map[string]sp{}
	for _, x := range rowOf(t, r, "P4").Splits {
		got[x.Dim+"="+x.Value] = sp{mustCount(t, x.Reviews), mustCount(t, x.Episodes), mustCount(t, x.Mentions)}
	}
	want = map[string]sp{"nature=constructive": {1, 1, 1}, "nature=unsafe": {0, 0, 0},
		"priority=1": {}, "priority=2": {}, "priority=3": {}, "priority=4+": {1, 1, 1}, "priority=none": {}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("P4 splits (-want +got):\n%s", diff)
	}
}

func TestFigureJSON(t *testing.T) {
	type row struct {
		A Count  `json:"a"`
		B Count  `json:"b"`
		C Figure `json:"c"`
		D Figure `json:"d"`
		E Figure `json:"e"`
	}
	b, err := json.Marshal(row{KnownCount(0), SuppressedCount(), KnownFigure(0.25), SuppressedFigure(), NoFigure()})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"a":0,"b":"c","c":0.25,"d":"c","e":null}`; got != want {
		t.Errorf("json = %s, want %s", got, want)
	}
	var back row
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !back.B.Suppressed() || back.A.Suppressed() || !back.D.Suppressed() || back.E.Available() {
		t.Errorf("round trip lost suppression: %+v", back)
	}
	if n, ok := SuppressedCount().Value(); ok || n != 0 {
		t.Errorf("suppressed count gave a value")
	}
	if SuppressedCount().String() != "c" || SuppressedFigure().String() != "c" {
		t.Errorf("suppressed figures must print as c")
	}
}
