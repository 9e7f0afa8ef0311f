package analytics

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/ingest/demo"
	"github.com/collate-project/collate/ingest/errs"
	"github.com/collate-project/collate/schemas"
)

// mustDemoDB stores a small demo set through the real ingest path.
func mustDemoDB(t *testing.T, reviews int, seed int64) *sql.DB {
	t.Helper()
	db := mustDB(t)
	var batch []*ingest.Export
	err := demo.Generate(demo.Options{Reviews: reviews, Seed: seed}, func(i int, e *ingest.Export) error {
		batch = append(batch, e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, db, batch...)
	return db
}

// nodeCounts is what the naive SQL finds for one frame node.
type nodeCounts struct{ reviews, episodes, mentions int }

// TestAgencyCollectionsAgainstSQL checks the recurrence, overview and
// trends of collections narrowed by agency (read for the collection alone)
// against naive SQL over the coded rows, for a viewer who sees everything
// and for a regional analyst who sees the collection in full; and that
// anyone from whom figures are withheld is refused them.
func TestAgencyCollectionsAgainstSQL(t *testing.T) {
	db := mustDemoDB(t, 600, 3)
	s := mustStore(t, db, DefaultK)
	ctx := context.Background()
	ldnAnalyst := Viewer{Role: RoleRegionalAnalyst, Region: "ENG-LDN", Name: "ldn"}
	cases := []struct {
		coll  SavedCollection
		where string // the collection's places and kinds, as naive SQL over reviews
		ldn   bool   // inside London, which its analyst sees in full
	}{
		{SavedCollection{Name: "ldn-police", Regions: []string{"ENG-LDN"}, Agencies: []string{"Police"}}, "region = 'ENG-LDN'", true},
		{SavedCollection{Name: "ldn-midwives", Regions: []string{"ENG-LDN", "ENG-NW"}, Agencies: []string{"Midwifery", "Nursery"}}, "region IN ('ENG-LDN', 'ENG-NW')", false},
		{SavedCollection{Name: "eng-routine-school", Nations: []string{"ENG"}, Kinds: []string{"routine", "innovation"}, Agencies: []string{"Primary school"}},
			"nation = 'ENG' AND kind IN ('routine', 'innovation')", false},
		{SavedCollection{Name: "uk-police-recent", Agencies: []string{"Police"}, From: 2020}, "year >= 2020", false},
		{SavedCollection{Name: "ne-and-boards", Regions: []string{"ENG-NE"}, Boards: []string{"ENG-LDN-CAM", "ENG-LDN-ISL", "ENG-NW-MAN"}, Agencies: []string{"Police"}},
			"(region = 'ENG-NE' OR board IN ('ENG-LDN-CAM', 'ENG-LDN-ISL', 'ENG-NW-MAN'))", false},
	}
	full := Viewer{Role: RoleAdmin, Unsuppressed: true, Name: "admin"}
	for _, c := range cases {
		if _, err := s.SaveCollection(ctx, admin, c.coll); err != nil {
			t.Fatal(err)
		}
		where := c.where + " AND list_has_any(agencies, ['" + strings.Join(c.coll.Agencies, "', '") + "'])"
		narrowed := naiveFactorCounts(t, db, where)
		var received, coded int
		if err := db.QueryRow(`SELECT count(*), count(*) FILTER (WHERE frame_id = ? AND frame_version = ?)
			FROM reviews WHERE status = 'current' AND `+where, schemas.DefaultFrameID, schemas.DefaultFrameVersion).Scan(&received, &coded); err != nil {
			t.Fatal(err)
		}
		sel := Selection{Collection: SavedPrefix + c.coll.Name}
		t.Run(c.coll.Name, func(t *testing.T) {
			viewers := []Viewer{full}
			if c.ldn {
				viewers = append(viewers, ldnAnalyst)
			}
			for _, v := range viewers {
				r, err := s.Recurrence(ctx, v, sel, RecurrenceOptions{})
				if err != nil {
					t.Fatal(v.Role, err)
				}
				if got := val(t, r.Totals.ReviewsReceived); got != received {
					t.Errorf("%s: reviews received = %d, naive SQL %d", v.Role, got, received)
				}
				if got := val(t, r.Totals.ReviewsCoded); got != coded {
					t.Errorf("%s: reviews coded = %d, naive SQL %d", v.Role, got, coded)
				}
				for _, row := range r.Rows {
					want := narrowed[row.Node.Code]
					got := nodeCounts{val(t, row.Reviews), val(t, row.Episodes), val(t, row.Mentions)}
					if got != want {
						t.Errorf("%s: %s: reviews, episodes, mentions = %v, naive SQL %v", v.Role, row.Node.Code, got, want)
					}
				}
				checkAgencyOverview(t, s, db, v, sel, where)
				checkAgencyTrends(t, s, db, v, sel, where)
			}
			checkAgencyPatternTrends(t, s, sel)
			refused := []Viewer{publicV, {Role: RoleNationalResearcher, Name: "researcher"}, neAnalyst}
			if !c.ldn {
				refused = append(refused, ldnAnalyst)
			}
			for _, v := range refused {
				if _, err := s.Recurrence(ctx, v, sel, RecurrenceOptions{}); errs.KindOf(err) != errs.Forbidden {
					t.Errorf("%s %s asked for the narrowed collection: err %v, want it refused", v.Role, v.Region, err)
				}
			}
		})
	}
}

// naiveFactorCounts counts, per factor tree node, the current reviews coded
// with the default frame that match where, their episodes and the codings.
func naiveFactorCounts(t *testing.T, db *sql.DB, where string) map[string]nodeCounts {
	t.Helper()
	rows, err := db.Query(fmt.Sprintf(`SELECT c.ancestor, count(DISTINCT r.review_key), count(DISTINCT (r.review_key, f.episode_no)), count(*)
		FROM reviews r JOIN episode_factors f USING (review_key)
		JOIN frame_closure c ON c.tree = 'factor' AND c.descendant = f.code AND c.frame_id = r.frame_id AND c.frame_version = r.frame_version
		WHERE r.status = 'current' AND r.frame_id = '%s' AND r.frame_version = '%s' AND %s GROUP BY 1`,
		schemas.DefaultFrameID, schemas.DefaultFrameVersion, where))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]nodeCounts{}
	for rows.Next() {
		var code string
		var n nodeCounts
		if err := rows.Scan(&code, &n.reviews, &n.episodes, &n.mentions); err != nil {
			t.Fatal(err)
		}
		out[code] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestAgencyCollectionMemoFollowsWrites: the read of a collection narrowed
// by agency is kept in the read memo, and never answers after a write.
func TestAgencyCollectionMemoFollowsWrites(t *testing.T) {
	ctx := context.Background()
	db := mustDB(t)
	fs := recurrenceFixtures()
	mustWrite(t, db, exports(fs[:4]...)...) // R4 is the North East's review involving the police
	s := mustStore(t, db, 0)
	if _, err := s.SaveCollection(ctx, admin, SavedCollection{Name: "ne-police", Regions: []string{"ENG-NE"}, Agencies: []string{"Police"}}); err != nil {
		t.Fatal(err)
	}
	full := Viewer{Role: RoleAdmin, Unsuppressed: true, Name: "admin"}
	work := func() (int, int) {
		t.Helper()
		r, err := s.Recurrence(ctx, full, Selection{Collection: SavedPrefix + "ne-police"}, RecurrenceOptions{Codes: []string{"FL.WORK.03"}})
		if err != nil {
			t.Fatal(err)
		}
		return val(t, r.Totals.ReviewsCoded), val(t, r.Rows[0].Reviews)
	}
	if coded, n := work(); coded != 1 || n != 1 {
		t.Fatalf("coded %d, FL.WORK.03 %d; want 1 and 1", coded, n)
	}
	kept := len(s.reads.rows)
	if kept == 0 {
		t.Fatal("the collection's read was not kept")
	}
	if coded, n := work(); coded != 1 || n != 1 || len(s.reads.rows) != kept {
		t.Fatalf("asked again: coded %d, FL.WORK.03 %d, reads kept %d then %d", coded, n, kept, len(s.reads.rows))
	}
	r7 := fs[3]
	r7.id, r7.board = "R7", "ENG-NE-SUN"
	mustWrite(t, db, r7.export())
	if coded, n := work(); coded != 2 || n != 2 {
		t.Fatalf("after another review involving the police, coded %d, FL.WORK.03 %d; want 2 and 2", coded, n)
	}
}

// checkAgencyOverview checks the overview of a collection narrowed by agency
// (read for the collection alone), as viewer v sees it in full, against
// naive SQL over the coded rows; where selects the collection's reviews.
func checkAgencyOverview(t *testing.T, s *Store, db *sql.DB, v Viewer, sel Selection, where string) {
	t.Helper()
	ctx := context.Background()
	o, err := s.Overview(ctx, v, sel)
	if err != nil {
		t.Fatal(err)
	}
	coded := "status = 'current' AND frame_id = '" + schemas.DefaultFrameID + "' AND frame_version = '" + schemas.DefaultFrameVersion + "'"
	// of counts the rows of a table (alias x) belonging to the collection's coded reviews.
	of := func(table, cond string) string {
		return `SELECT count(*) FROM ` + table + ` x WHERE ` + cond + ` AND x.review_key IN (SELECT review_key FROM reviews r WHERE ` + coded + ` AND %s)`
	}
	cases := []struct {
		name  string
		got   Count
		naive string // %s: the collection's condition on reviews r
	}{
		{"reviews received", o.Totals.ReviewsReceived, `SELECT count(*) FROM reviews r WHERE status = 'current' AND %s`},
		{"reviews coded", o.Totals.ReviewsCoded, `SELECT count(*) FROM reviews r WHERE ` + coded + ` AND %s`},
		{"episodes", o.Totals.Episodes, of("episodes", "true")},
		{"good episodes", o.GoodEpisodes, of("episodes", "x.adequacy = 'good'")},
		{"problematic episodes", o.ProblematicEpisodes, of("episodes", "x.adequacy = 'problematic'")},
		{"mixed episodes", o.MixedEpisodes, of("episodes", "x.adequacy = 'mixed'")},
		{"not judged episodes", o.NotJudgedEpisodes, of("episodes", "x.adequacy = 'not_judged'")},
		{"family involved", o.FamilyInvolved, `SELECT count(*) FROM reviews r WHERE ` + coded + ` AND family_participation = 'yes' AND %s`},
		{"patterns", o.Patterns, of("patterns", "true")},
		{"recommendations", o.Recommendations, of("recommendations", "true")},
	}
	for _, c := range cases {
		var want int
		if err := db.QueryRow(fmt.Sprintf(c.naive, where)).Scan(&want); err != nil {
			t.Fatal(err)
		}
		if got := val(t, c.got); got != want {
			t.Errorf("%s: overview %s = %d, naive SQL %d", v.Role, c.name, got, want)
		}
	}
}

// checkAgencyTrends checks the factor trends (each factor by year, as the
// trends page asks) of a collection narrowed by agency, as viewer v sees it
// in full, against naive SQL over the coded rows.
func checkAgencyTrends(t *testing.T, s *Store, db *sql.DB, v Viewer, sel Selection, where string) {
	t.Helper()
	tr, err := s.Trends(context.Background(), v, sel, TrendOptions{Tree: TreeFactor, Depth: 3})
	if err != nil {
		t.Fatal(err)
	}
	narrowed := naiveFactorYears(t, db, where)
	if len(tr.Series) == 0 || len(tr.Years) == 0 {
		t.Fatalf("trends: %d series over %d years", len(tr.Series), len(tr.Years))
	}
	for i, y := range tr.Years {
		if got, want := val(t, tr.Coded[i]), narrowed[""][y]; got != want {
			t.Errorf("%s: %d: reviews coded = %d, naive SQL %d", v.Role, y, got, want)
		}
	}
	for _, ser := range tr.Series {
		for i, y := range tr.Years {
			if got, want := val(t, ser.Points[i].Reviews), narrowed[ser.Code][y]; got != want {
				t.Errorf("%s: %s %d: reviews = %d, naive SQL %d", v.Role, ser.Code, y, got, want)
			}
		}
	}
}

// naiveFactorYears counts, per factor tree node and year, the current
// reviews coded with the default frame that match where and cite it; key ""
// holds the reviews coded per year.
func naiveFactorYears(t *testing.T, db *sql.DB, where string) map[string]map[int]int {
	t.Helper()
	frame := fmt.Sprintf("r.status = 'current' AND r.frame_id = '%s' AND r.frame_version = '%s' AND %s",
		schemas.DefaultFrameID, schemas.DefaultFrameVersion, where)
	rows, err := db.Query(`SELECT c.ancestor, r.year, count(DISTINCT r.review_key)
		FROM reviews r JOIN episode_factors f USING (review_key)
		JOIN frame_closure c ON c.tree = 'factor' AND c.descendant = f.code AND c.frame_id = r.frame_id AND c.frame_version = r.frame_version
		WHERE ` + frame + ` GROUP BY 1, 2
		UNION ALL
		SELECT '', r.year, count(*) FROM reviews r WHERE ` + frame + ` GROUP BY 1, 2`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]map[int]int{}
	for rows.Next() {
		var code string
		var year, n int
		if err := rows.Scan(&code, &year, &n); err != nil {
			t.Fatal(err)
		}
		if out[code] == nil {
			out[code] = map[int]int{}
		}
		out[code][year] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkAgencyPatternTrends checks the pattern trends of a collection
// narrowed by agency (as the trends page asks for emerging patterns)
// against its pattern recurrence, which TestAgencyCollectionsAgainstSQL's
// naive checks cover through the same node read: each node's reviews
// summed over the years are its reviews over all of them.
func checkAgencyPatternTrends(t *testing.T, s *Store, sel Selection) {
	t.Helper()
	ctx := context.Background()
	full := Viewer{Role: RoleAdmin, Unsuppressed: true, Name: "admin"}
	tr, err := s.Trends(ctx, full, sel, TrendOptions{Tree: TreePattern})
	if err != nil {
		t.Fatal(err)
	}
	codes := make([]string, len(tr.Series))
	for i, ser := range tr.Series {
		codes[i] = ser.Code
	}
	if len(codes) == 0 {
		t.Fatal("pattern trends: no series")
	}
	rec, err := s.Recurrence(ctx, full, sel, RecurrenceOptions{Tree: TreePattern, Codes: codes})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	for _, row := range rec.Rows {
		want[row.Node.Code] = val(t, row.Reviews)
	}
	cited := 0
	for _, ser := range tr.Series {
		sum := 0
		for _, p := range ser.Points {
			sum += val(t, p.Reviews)
		}
		if sum != want[ser.Code] {
			t.Errorf("pattern %s: reviews over the years %d, recurrence %d", ser.Code, sum, want[ser.Code])
		}
		cited += sum
	}
	if cited == 0 {
		t.Error("pattern trends: no node cited in any year")
	}
}

// TestNarrowedCollectionsOnlyWhereFull: two narrowings of the same places
// (police, and police or health) differ by a group no rule looks at, so a
// collection narrowed by kind or agency is open only to a viewer who sees
// it in full. Others cannot save it, are not offered it, and are refused
// its figures and its comparison; a collection of whole places stays open.
func TestNarrowedCollectionsOnlyWhereFull(t *testing.T) {
	s := loadRecurrenceFixtures(t)
	ctx := context.Background()
	for _, c := range []SavedCollection{
		{Name: "ne-police", Regions: []string{"ENG-NE"}, Agencies: []string{"Police"}},
		{Name: "ne-police-health", Regions: []string{"ENG-NE"}, Agencies: []string{"Police", "Health"}},
		{Name: "ne-routine", Regions: []string{"ENG-NE"}, Kinds: []string{"routine"}},
		{Name: "ne-whole", Regions: []string{"ENG-NE"}},
	} {
		if _, err := s.SaveCollection(ctx, admin, c); err != nil {
			t.Fatal(err)
		}
	}
	ldn := Viewer{Role: RoleRegionalAnalyst, Region: "ENG-LDN", Name: "ldn"}
	researcher := Viewer{Role: RoleNationalResearcher, Name: "researcher"}
	offered := func(v Viewer) []string {
		t.Helper()
		cols, err := s.Collections(ctx, v)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, c := range cols.Saved {
			names = append(names, c.Name)
		}
		return names
	}
	all := []string{"ne-police", "ne-police-health", "ne-routine", "ne-whole"}
	for _, c := range []struct {
		v       Viewer
		offered []string
	}{
		{admin, all},
		{neAnalyst, all},
		{ldn, []string{"ne-whole"}},
		{researcher, []string{"ne-whole"}},
		{publicV, []string{"ne-whole"}},
	} {
		if got := offered(c.v); !slices.Equal(got, c.offered) {
			t.Errorf("%s %s is offered %v, want %v", c.v.Role, c.v.Region, got, c.offered)
		}
		for _, name := range all {
			_, err := s.Overview(ctx, c.v, Selection{Collection: SavedPrefix + name})
			if open := slices.Contains(c.offered, name); open != (err == nil) {
				t.Errorf("%s %s asked for %s: %v; offered %v", c.v.Role, c.v.Region, name, err, open)
			} else if !open && errs.KindOf(err) != errs.Forbidden {
				t.Errorf("%s %s asked for %s: %v, want forbidden", c.v.Role, c.v.Region, name, err)
			}
		}
	}
	// The North East's analyst sees the collection in full, but its
	// comparison's reference (the rest of England) lies outside the region.
	if _, err := s.Compare(ctx, neAnalyst, Selection{Collection: SavedPrefix + "ne-police"}, CompareOptions{}); errs.KindOf(err) != errs.Forbidden {
		t.Errorf("the North East's analyst compared a narrowed collection: %v, want forbidden", err)
	}
	if _, err := s.Compare(ctx, admin, Selection{Collection: SavedPrefix + "ne-police"}, CompareOptions{}); err != nil {
		t.Errorf("admin compared a narrowed collection: %v", err)
	}
	// Saving one the saver could not open is refused, naming the reason.
	_, err := s.SaveCollection(ctx, ldn, SavedCollection{Name: "ne-health", Regions: []string{"ENG-NE"}, Agencies: []string{"Health"}})
	if errs.KindOf(err) != errs.Forbidden || !strings.Contains(err.Error(), "narrowed by review kind or agency") {
		t.Errorf("London's analyst saved a narrowed North East collection: %v, want forbidden", err)
	}
	if _, err := s.SaveCollection(ctx, ldn, SavedCollection{Name: "ldn-health", Regions: []string{"ENG-LDN"}, Agencies: []string{"Health"}}); err != nil {
		t.Errorf("London's analyst saving a narrowed London collection: %v", err)
	}
}
