package analytics

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/ingest/demo"
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
