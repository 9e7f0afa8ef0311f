package analytics

import (
	"context"
	"fmt"
	"testing"
)

// risingFixtures: ten reviews a year in 2019–2023, split over two boards;
// FL.WORK.03 is cited by 1, 3, 5, 7 and 9 of them, FL.TEAM.02 by 5 every
// year, and pattern P6.1 appears in every review of ENG-NE-NCL.
func risingFixtures() []fixture {
	var fs []fixture
	n := 0
	for y := 2019; y <= 2023; y++ {
		rising := 2*(y-2019) + 1
		for i := 0; i < 10; i++ {
			n++
			codes := "problematic:"
			if i < rising {
				codes += "FL.WORK.03+p,"
			}
			if i%2 == 0 {
				codes += "FL.TEAM.02+g,"
			}
			codes += "LS.ORG.04+p"
			board := []string{"ENG-NE-NCL", "ENG-NE-DUR"}[i%2]
			f := fixture{id: fmt.Sprintf("Y%03d", n), board: board, year: y, episodes: []string{codes}}
			if board == "ENG-NE-NCL" {
				f.patterns = []fxPattern{{typ: "P6", sub: "P6.1"}}
			}
			fs = append(fs, f)
		}
	}
	return fs
}

func TestEmergingAndRepeated(t *testing.T) {
	db := mustDB(t)
	mustWrite(t, db, exports(risingFixtures()...)...)
	s := mustStore(t, db, 3)
	ctx := context.Background()
	tr, err := s.Trends(ctx, admin, Selection{Collection: "ENG-NE"}, TrendOptions{Codes: []string{"FL.WORK.03", "FL.TEAM.02"}, LastYears: 5})
	if err != nil {
		t.Fatal(err)
	}
	work, team := tr.Series[0], tr.Series[1]
	z, p := CochranArmitage([]int{1, 3, 5, 7, 9}, []int{10, 10, 10, 10, 10}, []float64{2019, 2020, 2021, 2022, 2023})
	if got := fval(t, work.Recent.Z); got != z || fval(t, work.Recent.P) != p {
		t.Errorf("recent trend z = %v p = %v, want %v, %v", got, fval(t, work.Recent.P), z, p)
	}
	if !work.Emerging || work.Trend.Direction != "rising" {
		t.Errorf("FL.WORK.03: emerging %v, direction %q; want emerging and rising", work.Emerging, work.Trend.Direction)
	}
	if team.Emerging || team.Trend.Direction != "" {
		t.Errorf("FL.TEAM.02 is flat but emerging %v, direction %q", team.Emerging, team.Trend.Direction)
	}
	// The public sees suppressed years for small boards, so no trend test there.
	tr, err = s.Trends(ctx, publicV, Selection{Collection: "ENG-NE-DUR"}, TrendOptions{Codes: []string{"FL.WORK.03"}})
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Series[0].Trend.Z.Suppressed() || tr.Series[0].Emerging {
		t.Errorf("trend on suppressed years published: %+v", tr.Series[0].Trend)
	}

	// P6.1: 25 reviews, one board, five years.
	cases := []struct {
		rule RepeatedOptions
		want bool
	}{
		{RepeatedOptions{K: 25, M: 1, Y: 5}, true},
		{RepeatedOptions{K: 26, M: 1, Y: 5}, false},
		{RepeatedOptions{K: 10, M: 2, Y: 3}, false},
		{RepeatedOptions{K: 10, M: 1, Y: 6}, false},
		{RepeatedOptions{K: 10, M: 1, Y: 5, Nature: "constructive"}, false},
		{RepeatedOptions{K: 10, M: 1, Y: 5, Nature: "unsafe"}, true},
	}
	for _, c := range cases {
		got, err := s.RepeatedLessons(ctx, admin, Selection{Collection: "ENG-NE"}, c.rule)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, l := range got.Lessons {
			if l.Code == "P6.1" {
				found = true
				if val(t, l.Reviews) != 25 || l.Boards != 1 || l.Years != 5 || l.First != 2019 || l.Last != 2023 {
					t.Errorf("P6.1 lesson = %+v", l)
				}
			}
		}
		if found != c.want {
			t.Errorf("rule %+v: P6.1 found %v, want %v", c.rule, found, c.want)
		}
	}
}

func TestReviewListAndCollections(t *testing.T) {
	db := mustDB(t)
	mustWrite(t, db, exports(risingFixtures()...)...)
	s := mustStore(t, db, 3)
	ctx := context.Background()
	p, err := s.Reviews(ctx, nclMember, Selection{Collection: "ENG-NE-NCL", From: 2023}, ReviewQuery{PerPage: 2})
	if err != nil {
		t.Fatal(err)
	}
	if p.Total != 5 || len(p.Reviews) != 2 || p.Pages != 3 {
		t.Errorf("review list: total %d, %d shown, %d pages; want 5, 2, 3", p.Total, len(p.Reviews), p.Pages)
	}
	if len(p.Facets.Boards) != 1 || p.Facets.Boards[0].Count != 5 || p.Facets.Boards[0].Label != "Newcastle upon Tyne" {
		t.Errorf("board facet = %+v", p.Facets.Boards)
	}
	if _, err := s.Reviews(ctx, nclMember, Selection{Collection: "ENG-NE"}, ReviewQuery{}); err == nil {
		t.Errorf("a board member listed the region's reviews")
	}
	cs, err := s.Collections(ctx, neAnalyst)
	if err != nil {
		t.Fatal(err)
	}
	if cs.Geography.Code != UK || cs.Geography.FullDetail || len(cs.Geography.Children) != 4 {
		t.Errorf("switcher root = %+v", cs.Geography.CollectionInfo)
	}
	var ne *CollectionNode
	for i := range cs.Geography.Children[0].Children {
		if c := &cs.Geography.Children[0].Children[i]; c.Code == "ENG-NE" {
			ne = c
		}
	}
	if ne == nil || !ne.FullDetail || !ne.Children[0].FullDetail {
		t.Errorf("the analyst's region is not marked full detail: %+v", ne)
	}
}
