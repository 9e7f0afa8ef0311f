package analytics

import (
	"context"
	"database/sql"
	"fmt"
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

// TestAgencyCollectionsAgainstSQL checks the recurrence of collections
// narrowed by agency (read for the collection alone) against naive SQL over
// the coded rows: the counts a viewer who sees everything gets, and for the
// public, which figures are withheld (fewer than k reviews in the collection
// or in the same places without the narrowing, minus it).
func TestAgencyCollectionsAgainstSQL(t *testing.T) {
	db := mustDemoDB(t, 600, 3)
	s := mustStore(t, db, DefaultK)
	ctx := context.Background()
	cases := []struct {
		coll  SavedCollection
		where string // the collection's places and kinds, as naive SQL over reviews
	}{
		{SavedCollection{Name: "ldn-police", Regions: []string{"ENG-LDN"}, Agencies: []string{"Police"}}, "region = 'ENG-LDN'"},
		{SavedCollection{Name: "ldn-midwives", Regions: []string{"ENG-LDN", "ENG-NW"}, Agencies: []string{"Midwifery", "Nursery"}}, "region IN ('ENG-LDN', 'ENG-NW')"},
		{SavedCollection{Name: "eng-routine-school", Nations: []string{"ENG"}, Kinds: []string{"routine", "innovation"}, Agencies: []string{"Primary school"}},
			"nation = 'ENG' AND kind IN ('routine', 'innovation')"},
		{SavedCollection{Name: "uk-police-recent", Agencies: []string{"Police"}, From: 2020}, "year >= 2020"},
		{SavedCollection{Name: "ne-and-boards", Regions: []string{"ENG-NE"}, Boards: []string{"ENG-LDN-CAM", "ENG-LDN-ISL", "ENG-NW-MAN"}, Agencies: []string{"Police"}},
			"(region = 'ENG-NE' OR board IN ('ENG-LDN-CAM', 'ENG-LDN-ISL', 'ENG-NW-MAN'))"},
	}
	full := Viewer{Role: RoleAdmin, Unsuppressed: true, Name: "admin"}
	withheld, published := 0, 0
	for _, c := range cases {
		if _, err := s.SaveCollection(ctx, admin, c.coll); err != nil {
			t.Fatal(err)
		}
		agencies := "list_has_any(agencies, ['" + strings.Join(c.coll.Agencies, "', '") + "'])"
		narrowed := naiveFactorCounts(t, db, c.where+" AND "+agencies)
		// The same places without the narrowing by kind and agency.
		places, _, _ := strings.Cut(c.where, " AND kind")
		whole := naiveFactorCounts(t, db, places)
		var received, coded, codedWhole int
		if err := db.QueryRow(`SELECT count(*) FILTER (WHERE `+c.where+` AND `+agencies+`),
			count(*) FILTER (WHERE frame_id = ? AND frame_version = ? AND `+c.where+` AND `+agencies+`),
			count(*) FILTER (WHERE frame_id = ? AND frame_version = ? AND `+places+`)
			FROM reviews WHERE status = 'current'`, schemas.DefaultFrameID, schemas.DefaultFrameVersion,
			schemas.DefaultFrameID, schemas.DefaultFrameVersion).Scan(&received, &coded, &codedWhole); err != nil {
			t.Fatal(err)
		}
		sel := Selection{Collection: SavedPrefix + c.coll.Name}
		t.Run(c.coll.Name, func(t *testing.T) {
			r, err := s.Recurrence(ctx, full, sel, RecurrenceOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := val(t, r.Totals.ReviewsReceived); got != received {
				t.Errorf("reviews received = %d, naive SQL %d", got, received)
			}
			if got := val(t, r.Totals.ReviewsCoded); got != coded {
				t.Errorf("reviews coded = %d, naive SQL %d", got, coded)
			}
			for _, row := range r.Rows {
				want := narrowed[row.Node.Code]
				got := nodeCounts{val(t, row.Reviews), val(t, row.Episodes), val(t, row.Mentions)}
				if got != want {
					t.Errorf("%s: reviews, episodes, mentions = %v, naive SQL %v", row.Node.Code, got, want)
				}
			}
			if c.coll.From != 0 {
				// Where figures are withheld they cover all years: a
				// collection of some years is for viewers who see it in full.
				if _, err := s.Recurrence(ctx, publicV, sel, RecurrenceOptions{}); errs.KindOf(err) != errs.Invalid {
					t.Errorf("the public asked for a collection from %d: err %v, want a refusal", c.coll.From, err)
				}
				// Its overview and trends (from a year other than the
				// store's first) for a viewer who sees everything.
				checkAgencyOverview(t, s, db, sel, c.where+" AND "+agencies, places, false)
				checkAgencyTrends(t, s, db, sel, c.where+" AND "+agencies, places, false)
				return
			}
			pub, err := s.Recurrence(ctx, publicV, sel, RecurrenceOptions{})
			if err != nil {
				t.Fatal(err)
			}
			small := func(n int) bool { return n > 0 && n < DefaultK }
			codedSup := small(coded) || small(codedWhole-coded)
			if pub.Totals.ReviewsCoded.Suppressed() != codedSup {
				t.Errorf("public reviews coded (%d of %d) withheld %v, want %v", coded, codedWhole, pub.Totals.ReviewsCoded.Suppressed(), codedSup)
			}
			for _, row := range pub.Rows {
				n, b := narrowed[row.Node.Code].reviews, whole[row.Node.Code].reviews
				want := small(n) || small(b-n)
				if row.Reviews.Suppressed() != want || row.Episodes.Suppressed() != want || row.Share.Suppressed() != (want || codedSup) {
					t.Errorf("%s (%d of %d reviews): withheld %v, share withheld %v, want %v", row.Node.Code, n, b,
						row.Reviews.Suppressed(), row.Share.Suppressed(), want)
				}
				if want {
					withheld++
					continue
				}
				published++
				if got := val(t, row.Reviews); got != n {
					t.Errorf("%s: public reviews = %d, naive SQL %d", row.Node.Code, got, n)
				}
			}
			checkAgencyOverview(t, s, db, sel, c.where+" AND "+agencies, places, true)
			w, p := checkAgencyTrends(t, s, db, sel, c.where+" AND "+agencies, places, true)
			withheld, published = withheld+w, published+p
			checkAgencyPatternTrends(t, s, sel)
		})
	}
	if withheld == 0 || published == 0 {
		t.Errorf("withheld %d, published %d: the cases should have both", withheld, published)
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
// (read for the collection alone) against naive SQL over the coded rows:
// every count for a viewer who sees everything, and for the public, which
// are withheld (fewer than k reviews behind the figure in the collection, or
// in its places without the narrowing minus it). where selects the
// collection's reviews, places the same places without the narrowing;
// public says whether the public may ask for the collection.
func checkAgencyOverview(t *testing.T, s *Store, db *sql.DB, sel Selection, where, places string, public bool) {
	t.Helper()
	ctx := context.Background()
	full := Viewer{Role: RoleAdmin, Unsuppressed: true, Name: "admin"}
	o, err := s.Overview(ctx, full, sel)
	if err != nil {
		t.Fatal(err)
	}
	pub := o
	if public {
		if pub, err = s.Overview(ctx, publicV, sel); err != nil {
			t.Fatal(err)
		}
	}
	coded := "status = 'current' AND frame_id = '" + schemas.DefaultFrameID + "' AND frame_version = '" + schemas.DefaultFrameVersion + "'"
	// n counts with a naive statement; its %s is the reviews' condition.
	n := func(stmt, cond string) int {
		t.Helper()
		var v int
		if err := db.QueryRow(fmt.Sprintf(stmt, cond)).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	small := func(n int) bool { return n > 0 && n < DefaultK }
	// withheld is the rule for a figure behind which stand the coded reviews
	// satisfying cond (a condition on reviews r).
	withheld := func(cond string) bool {
		t.Helper()
		in := n(`SELECT count(*) FROM reviews r WHERE `+coded+` AND %s`, where+" AND "+cond)
		all := n(`SELECT count(*) FROM reviews r WHERE `+coded+` AND %s`, places+" AND "+cond)
		return small(in) || small(all-in)
	}
	receivedSup := func() bool {
		in := n(`SELECT count(*) FROM reviews r WHERE status = 'current' AND %s`, where)
		all := n(`SELECT count(*) FROM reviews r WHERE status = 'current' AND %s`, places)
		return small(in) || small(all-in)
	}()
	// of counts the rows of a table (alias x) belonging to the collection's coded reviews.
	of := func(table, cond string) string {
		return `SELECT count(*) FROM ` + table + ` x WHERE ` + cond + ` AND x.review_key IN (SELECT review_key FROM reviews r WHERE ` + coded + ` AND %s)`
	}
	epsOf := func(adequacy string) string {
		return `EXISTS (SELECT 1 FROM episodes e WHERE e.review_key = r.review_key AND e.adequacy = '` + adequacy + `')`
	}
	codedSup := withheld("true")
	cases := []struct {
		name     string
		got, pub Count
		naive    string // %s: the collection's condition on reviews r
		withheld bool
	}{
		{"reviews received", o.Totals.ReviewsReceived, pub.Totals.ReviewsReceived,
			`SELECT count(*) FROM reviews r WHERE status = 'current' AND %s`, receivedSup},
		{"reviews coded", o.Totals.ReviewsCoded, pub.Totals.ReviewsCoded, `SELECT count(*) FROM reviews r WHERE ` + coded + ` AND %s`, codedSup},
		{"episodes", o.Totals.Episodes, pub.Totals.Episodes,
			of("episodes", "true"), codedSup},
		{"good episodes", o.GoodEpisodes, pub.GoodEpisodes,
			of("episodes", "x.adequacy = 'good'"), withheld(epsOf("good"))},
		{"problematic episodes", o.ProblematicEpisodes, pub.ProblematicEpisodes,
			of("episodes", "x.adequacy = 'problematic'"), withheld(epsOf("problematic"))},
		{"mixed episodes", o.MixedEpisodes, pub.MixedEpisodes,
			of("episodes", "x.adequacy = 'mixed'"), withheld(epsOf("mixed"))},
		{"not judged episodes", o.NotJudgedEpisodes, pub.NotJudgedEpisodes,
			of("episodes", "x.adequacy = 'not_judged'"), withheld(epsOf("not_judged"))},
		{"family involved", o.FamilyInvolved, pub.FamilyInvolved,
			`SELECT count(*) FROM reviews r WHERE ` + coded + ` AND family_participation = 'yes' AND %s`, withheld("family_participation = 'yes'")},
		{"patterns", o.Patterns, pub.Patterns,
			of("patterns", "true"),
			withheld("EXISTS (SELECT 1 FROM patterns p WHERE p.review_key = r.review_key)")},
		{"recommendations", o.Recommendations, pub.Recommendations,
			of("recommendations", "true"),
			withheld("EXISTS (SELECT 1 FROM recommendations x WHERE x.review_key = r.review_key)")},
	}
	for _, c := range cases {
		want := n(c.naive, where)
		if got := val(t, c.got); got != want {
			t.Errorf("overview %s = %d, naive SQL %d", c.name, got, want)
		}
		if !public {
			continue
		}
		if c.pub.Suppressed() != c.withheld {
			t.Errorf("public overview %s (%d) withheld %v, want %v", c.name, want, c.pub.Suppressed(), c.withheld)
		}
		if !c.withheld && c.name != "reviews received" && c.name != "reviews coded" {
			if got := val(t, c.pub); got != want {
				t.Errorf("public overview %s = %d, naive SQL %d", c.name, got, want)
			}
		}
	}
}

// checkAgencyTrends checks the factor trends (each factor by year, as the
// trends page asks) of a collection narrowed by agency against naive SQL
// over the coded rows, as checkAgencyOverview does, and returns how many of
// the public's yearly figures were withheld and published.
func checkAgencyTrends(t *testing.T, s *Store, db *sql.DB, sel Selection, where, places string, public bool) (withheld, published int) {
	t.Helper()
	ctx := context.Background()
	full := Viewer{Role: RoleAdmin, Unsuppressed: true, Name: "admin"}
	opt := TrendOptions{Tree: TreeFactor, Depth: 3}
	tr, err := s.Trends(ctx, full, sel, opt)
	if err != nil {
		t.Fatal(err)
	}
	pub := tr
	if public {
		if pub, err = s.Trends(ctx, publicV, sel, opt); err != nil {
			t.Fatal(err)
		}
	}
	narrowed, whole := naiveFactorYears(t, db, where), naiveFactorYears(t, db, places)
	small := func(n int) bool { return n > 0 && n < DefaultK }
	if len(tr.Series) == 0 || len(tr.Years) == 0 {
		t.Fatalf("trends: %d series over %d years", len(tr.Series), len(tr.Years))
	}
	for i, y := range tr.Years {
		c, cw := narrowed[""][y], whole[""][y]
		if got := val(t, tr.Coded[i]); got != c {
			t.Errorf("%d: reviews coded = %d, naive SQL %d", y, got, c)
		}
		if !public {
			continue
		}
		if want := small(c) || small(cw-c); pub.Coded[i].Suppressed() != want {
			t.Errorf("%d: public reviews coded (%d of %d) withheld %v, want %v", y, c, cw, pub.Coded[i].Suppressed(), want)
		}
	}
	for si, ser := range tr.Series {
		for i, y := range tr.Years {
			n, b := narrowed[ser.Code][y], whole[ser.Code][y]
			if got := val(t, ser.Points[i].Reviews); got != n {
				t.Errorf("%s %d: reviews = %d, naive SQL %d", ser.Code, y, got, n)
			}
			if !public {
				continue
			}
			pp := pub.Series[si].Points[i]
			want := small(n) || small(b-n)
			if pp.Reviews.Suppressed() != want {
				t.Errorf("%s %d (%d of %d reviews): public withheld %v, want %v", ser.Code, y, n, b, pp.Reviews.Suppressed(), want)
			}
			if want {
				withheld++
				continue
			}
			published++
			if got := val(t, pp.Reviews); got != n {
				t.Errorf("%s %d: public reviews = %d, naive SQL %d", ser.Code, y, got, n)
			}
		}
	}
	return withheld, published
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
