package dashboard_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/collate-project/collate/analytics"
	"github.com/collate-project/collate/dashboard"
	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/ingest/errs"
	"github.com/collate-project/collate/schemas"
)

// fakeAnalytics answers every view with fixed figures, some suppressed, and
// with uploaded-looking text that carries the XSS payloads, so chart options
// and pages can be checked to the byte. Figures are analytics' business and
// are tested there; this fake checks how the dashboard shows them.
type fakeAnalytics struct {
	frame *analytics.FrameInfo
}

func newFake() *fakeAnalytics {
	f := schemas.BuiltinFrames()[0]
	info := &analytics.FrameInfo{ID: f.ID, Version: f.Version, Title: f.Title}
	for _, n := range f.Flat(schemas.TreeFactor) {
		info.Factors = append(info.Factors, analytics.Node{Code: n.Code, Label: n.Label, Parent: n.Parent, Depth: n.Depth, Level: f.Factors.Levels[n.Depth-1]})
	}
	for _, n := range f.Flat(schemas.TreePattern) {
		info.Patterns = append(info.Patterns, analytics.Node{Code: n.Code, Label: n.Label, Parent: n.Parent, Depth: n.Depth, Level: f.Patterns.Levels[n.Depth-1]})
	}
	return &fakeAnalytics{frame: info}
}

var _ dashboard.Analytics = (*fakeAnalytics)(nil)

func (f *fakeAnalytics) prov(sel analytics.Selection) analytics.Provenance {
	return analytics.Provenance{DataVersion: "test-1", Frame: "scie-lt@2008.1", Collection: sel.Collection, From: sel.From, To: sel.To,
		Policy: analytics.PolicyNote{K: 6, Suppressed: true}, Viewer: analytics.RoleAdmin, GeneratedAt: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (f *fakeAnalytics) coll(sel analytics.Selection) analytics.CollectionInfo {
	return analytics.CollectionInfo{Ref: sel.Collection, Code: sel.Collection, Name: "Collection " + sel.Collection, Level: analytics.LevelRegion, FullDetail: true}
}

// count gives a deterministic count for a code; every seventh is suppressed.
func count(i int) analytics.Count {
	if i%7 == 3 {
		return analytics.SuppressedCount()
	}
	return analytics.KnownCount(40 - (i*13)%37)
}

func share(c analytics.Count) analytics.Figure {
	n, ok := c.Value()
	if !ok {
		return analytics.SuppressedFigure()
	}
	return analytics.KnownFigure(float64(n) / 48)
}

func interval(c analytics.Count) analytics.Interval {
	n, ok := c.Value()
	if !ok {
		return analytics.Interval{Lo: analytics.SuppressedFigure(), Hi: analytics.SuppressedFigure()}
	}
	p := float64(n) / 48
	return analytics.Interval{Lo: analytics.KnownFigure(p * 0.8), Hi: analytics.KnownFigure(min(1, p*1.2))}
}

func (f *fakeAnalytics) nodes(tree string) []analytics.Node {
	if tree == analytics.TreePattern {
		return append(append([]analytics.Node(nil), f.frame.Patterns...),
			analytics.Node{Code: "P4.proposed", Label: xssScript, Parent: "P4", Depth: 2, Level: "Sub-pattern", Virtual: true})
	}
	return f.frame.Factors
}

func (f *fakeAnalytics) Collections(ctx context.Context, v analytics.Viewer) (*analytics.Collections, error) {
	uk := analytics.CollectionNode{CollectionInfo: analytics.CollectionInfo{Ref: "UK", Level: analytics.LevelUK, Code: "UK", Name: "United Kingdom", FullDetail: true},
		Children: []analytics.CollectionNode{{CollectionInfo: analytics.CollectionInfo{Ref: "ENG", Level: analytics.LevelNation, Code: "ENG", Name: "England", Parent: "UK", FullDetail: true}}}}
	return &analytics.Collections{Geography: uk, Saved: []analytics.SavedCollection{{Name: "north", Title: "North " + xssImg}}}, nil
}

func (f *fakeAnalytics) Frame(ctx context.Context, key string) (*analytics.FrameInfo, error) {
	if key != "" && key != "scie-lt@2008.1" {
		return nil, errs.E(errs.NotFound, "no frame %s", key)
	}
	return f.frame, nil
}

func (f *fakeAnalytics) Overview(ctx context.Context, v analytics.Viewer, sel analytics.Selection) (*analytics.Overview, error) {
	return &analytics.Overview{Provenance: f.prov(sel), Collection: f.coll(sel),
		Totals:       analytics.Totals{ReviewsReceived: analytics.KnownCount(49), ReviewsCoded: analytics.KnownCount(48), Episodes: analytics.KnownCount(120)},
		GoodEpisodes: analytics.KnownCount(30), ProblematicEpisodes: analytics.KnownCount(80), MixedEpisodes: analytics.SuppressedCount(),
		GoodShare: analytics.KnownFigure(30.0 / 110), ProblematicShare: analytics.KnownFigure(80.0 / 110),
		FamilyInvolved: analytics.SuppressedCount(), FamilyShare: analytics.SuppressedFigure(), FamilyInterval: interval(analytics.SuppressedCount()),
		Patterns: analytics.KnownCount(150), Recommendations: analytics.KnownCount(140)}, nil
}

func (f *fakeAnalytics) Process(ctx context.Context, v analytics.Viewer, sel analytics.Selection) (*analytics.Process, error) {
	return &analytics.Process{Provenance: f.prov(sel), Collection: f.coll(sel), Reviews: analytics.KnownCount(49)}, nil
}

func (f *fakeAnalytics) Recurrence(ctx context.Context, v analytics.Viewer, sel analytics.Selection, opt analytics.RecurrenceOptions) (*analytics.Recurrence, error) {
	r := &analytics.Recurrence{Provenance: f.prov(sel), Collection: f.coll(sel), Tree: opt.Tree}
	for i, n := range f.nodes(opt.Tree) {
		if opt.Depth != 0 && n.Depth != opt.Depth {
			continue
		}
		if len(opt.Codes) > 0 && !contains(opt.Codes, n.Code) {
			continue
		}
		c := count(i)
		row := analytics.RecurrenceRow{Node: n, Reviews: c, Share: share(c), Interval: interval(c), ShareReceived: share(c), Episodes: c, Mentions: c}
		if opt.Splits {
			for j, dv := range [][2]string{{"influence", "supported_good"}, {"influence", "made_problematic_more_likely"}, {"nature", "constructive"}, {"nature", "unsafe"}} {
				sc := count(i + j + 1)
				row.Splits = append(row.Splits, analytics.Split{Dim: dv[0], Value: dv[1], Reviews: sc, Share: share(sc), Interval: interval(sc), Episodes: sc, Mentions: sc})
			}
		}
		r.Rows = append(r.Rows, row)
	}
	return r, nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func (f *fakeAnalytics) places() []analytics.CollectionInfo {
	return []analytics.CollectionInfo{
		{Ref: "ENG-NE-NCL", Code: "ENG-NE-NCL", Name: "Newcastle upon Tyne", Level: analytics.LevelBoard},
		{Ref: "ENG-NE-DUR", Code: "ENG-NE-DUR", Name: "County Durham", Level: analytics.LevelBoard},
		{Ref: "ENG-NE-GAT", Code: "ENG-NE-GAT", Name: "Gateshead", Level: analytics.LevelBoard},
	}
}

func (f *fakeAnalytics) Breakdown(ctx context.Context, v analytics.Viewer, sel analytics.Selection, opt analytics.BreakdownOptions) (*analytics.Breakdown, error) {
	b := &analytics.Breakdown{Provenance: f.prov(sel), Collection: f.coll(sel), By: analytics.LevelBoard, Tree: opt.Tree}
	for _, n := range f.frame.Factors {
		if contains(opt.Codes, n.Code) {
			b.Nodes = append(b.Nodes, n)
		}
	}
	for i, p := range f.places() {
		bp := analytics.BreakdownPlace{Place: p, ReviewsCoded: count(i)}
		for j := range b.Nodes {
			c := count(i*5 + j)
			bp.Cells = append(bp.Cells, analytics.Cell{Reviews: c, Share: share(c), Interval: interval(c)})
		}
		b.Places = append(b.Places, bp)
	}
	return b, nil
}

func (f *fakeAnalytics) Compare(ctx context.Context, v analytics.Viewer, sel analytics.Selection, opt analytics.CompareOptions) (*analytics.Comparison, error) {
	c := &analytics.Comparison{Provenance: f.prov(sel), Collection: f.coll(sel), Reference: analytics.CollectionInfo{Ref: "ENG", Code: "ENG", Level: analytics.LevelNation, Name: "England"},
		ReferenceRule: "ENG without " + sel.Collection, N: analytics.KnownCount(48), RefN: analytics.KnownCount(400),
		Test: "fisher_exact_two_sided", Adjustment: "benjamini_hochberg"}
	for i, n := range f.frame.Factors {
		if n.Depth != 3 || i > 30 {
			continue
		}
		a, b := count(i), count(i+2)
		row := analytics.CompareRow{Node: n, Reviews: a, Share: share(a), RefReviews: b, RefShare: share(b), P: analytics.KnownFigure(0.01 * float64(i%9)),
			PAdjusted: analytics.KnownFigure(0.02 * float64(i%9))}
		sa, aok := share(a).Value()
		sb, bok := share(b).Value()
		if aok && bok {
			row.Difference = analytics.KnownFigure(sa - sb)
			row.Ratio = analytics.KnownFigure(sa / sb)
			if i%9 == 1 {
				row.Flag = map[bool]string{true: "over", false: "under"}[sa > sb]
			}
		} else {
			row.Difference, row.Ratio = analytics.SuppressedFigure(), analytics.SuppressedFigure()
		}
		c.Rows = append(c.Rows, row)
	}
	return c, nil
}

func (f *fakeAnalytics) Funnel(ctx context.Context, v analytics.Viewer, sel analytics.Selection, opt analytics.FunnelOptions) (*analytics.Funnel, error) {
	fu := &analytics.Funnel{Provenance: f.prov(sel), Collection: f.coll(sel), Node: analytics.Node{Code: opt.Code, Label: "factor " + opt.Code},
		Target: analytics.KnownFigure(0.4), Method: "exact binomial"}
	for i, p := range f.places() {
		n := 10 + 12*i
		k := count(i + 1)
		pt := analytics.FunnelPoint{Place: p, N: analytics.KnownCount(n), Reviews: k, Share: share(k)}
		if i == 2 {
			pt.Place.Name = xssImg
			pt.Position, pt.Outside998 = "above", true
			pt.Share = analytics.KnownFigure(0.95)
		}
		fu.Points = append(fu.Points, pt)
	}
	for n := 5; n <= 50; n += 15 {
		fu.Limits = append(fu.Limits, analytics.FunnelLimit{N: n, Lo95: 0.4 - 1.0/float64(n), Hi95: 0.4 + 1.0/float64(n), Lo998: 0.4 - 1.5/float64(n), Hi998: 0.4 + 1.5/float64(n)})
	}
	return fu, nil
}

func (f *fakeAnalytics) Trends(ctx context.Context, v analytics.Viewer, sel analytics.Selection, opt analytics.TrendOptions) (*analytics.Trends, error) {
	t := &analytics.Trends{Provenance: f.prov(sel), Collection: f.coll(sel), Tree: opt.Tree, Years: []int{2020, 2021, 2022, 2023}, Test: "cochran_armitage"}
	for range t.Years {
		t.Coded = append(t.Coded, analytics.KnownCount(12))
	}
	for i, n := range f.nodes(opt.Tree) {
		if len(opt.Codes) > 0 && !contains(opt.Codes, n.Code) {
			continue
		}
		if len(opt.Codes) == 0 && opt.Depth != 0 && n.Depth != opt.Depth {
			continue
		}
		ts := analytics.TrendSeries{Node: n, Emerging: i%11 == 4}
		for j, y := range t.Years {
			c := count(i + j)
			ts.Points = append(ts.Points, analytics.TrendPoint{Year: y, Reviews: c, Coded: analytics.KnownCount(12), Share: share(c), Interval: interval(c)})
		}
		ts.Trend = analytics.TrendTest{Z: analytics.KnownFigure(1.5), P: analytics.KnownFigure(0.13)}
		ts.Recent = analytics.TrendTest{Z: analytics.KnownFigure(2.5), P: analytics.KnownFigure(0.012), Direction: "rising"}
		t.Series = append(t.Series, ts)
	}
	return t, nil
}

func (f *fakeAnalytics) RepeatedLessons(ctx context.Context, v analytics.Viewer, sel analytics.Selection, opt analytics.RepeatedOptions) (*analytics.RepeatedLessons, error) {
	return &analytics.RepeatedLessons{Provenance: f.prov(sel), Collection: f.coll(sel), Rule: analytics.RepeatedOptions{K: 10, M: 3, Y: 3},
		Lessons: []analytics.Lesson{{Node: analytics.Node{Code: "P2.2.1", Label: "Lesson label"}, Reviews: analytics.KnownCount(12), Boards: 4, Years: 3, First: 2020, Last: 2023},
			{Node: analytics.Node{Code: "P4.proposed", Label: xssImg, Virtual: true}, Reviews: analytics.SuppressedCount(), Boards: 3, Years: 3, First: 2021, Last: 2023}}}, nil
}

func (f *fakeAnalytics) CoOccurrence(ctx context.Context, v analytics.Viewer, sel analytics.Selection, opt analytics.CoOccurrenceOptions) (*analytics.CoOccurrence, error) {
	co := &analytics.CoOccurrence{Provenance: f.prov(sel), Collection: f.coll(sel), Within: "episode", Depth: 3, Total: analytics.KnownCount(120)}
	var others []analytics.Node
	for _, n := range f.frame.Factors {
		if n.Depth == 3 && n.Code != opt.Focus && len(others) < 6 {
			others = append(others, n)
		}
	}
	for _, n := range f.frame.Factors {
		if n.Code == opt.Focus {
			co.Nodes = append(co.Nodes, analytics.CoNode{Node: n, Count: analytics.KnownCount(30)})
		}
	}
	for i, n := range others {
		c := count(i)
		co.Nodes = append(co.Nodes, analytics.CoNode{Node: n, Count: analytics.KnownCount(20)})
		co.Pairs = append(co.Pairs, analytics.Pair{A: opt.Focus, B: n.Code, Count: c, Reviews: c, Support: share(c), Lift: analytics.KnownFigure(1.1 + float64(i)/10), Jaccard: analytics.KnownFigure(0.2)})
	}
	return co, nil
}

func (f *fakeAnalytics) Flows(ctx context.Context, v analytics.Viewer, sel analytics.Selection, opt analytics.FlowOptions) (*analytics.Flows, error) {
	fl := &analytics.Flows{Provenance: f.prov(sel), Collection: f.coll(sel)}
	for _, n := range f.frame.Factors {
		if n.Depth == 2 && len(fl.Sources) < 4 {
			fl.Sources = append(fl.Sources, n)
		}
	}
	for _, n := range f.frame.Patterns {
		if n.Depth == 1 && len(fl.Targets) < 3 {
			fl.Targets = append(fl.Targets, n)
		}
	}
	fl.Targets = append(fl.Targets, analytics.Node{Code: "P4.proposed", Label: xssScript, Depth: 2, Virtual: true})
	i := 0
	for _, s := range fl.Sources {
		for _, t := range fl.Targets {
			c := count(i)
			i++
			fl.Links = append(fl.Links, analytics.FlowLink{Source: s.Code, Target: t.Code, Episodes: c, Reviews: c})
		}
	}
	return fl, nil
}

func (f *fakeAnalytics) GoodPractice(ctx context.Context, v analytics.Viewer, sel analytics.Selection, opt analytics.GoodPracticeOptions) (*analytics.GoodPractice, error) {
	return &analytics.GoodPractice{Provenance: f.prov(sel), Collection: f.coll(sel)}, nil
}

func (f *fakeAnalytics) Recommendations(ctx context.Context, v analytics.Viewer, sel analytics.Selection) (*analytics.Recommendations, error) {
	r := &analytics.Recommendations{Provenance: f.prov(sel), Collection: f.coll(sel), Total: analytics.KnownCount(140), Reviews: analytics.KnownCount(47),
		Kinds: []int{1, 2, 3}, Levels: []string{"local", "regional", "national"}}
	for i := range r.Kinds {
		var row []analytics.RecCell
		for j := range r.Levels {
			row = append(row, analytics.RecCell{Kind: r.Kinds[i], Level: r.Levels[j], Recommendations: count(i*3 + j), Reviews: count(i*3 + j)})
		}
		r.Grid = append(r.Grid, row)
	}
	for i, n := range f.frame.Patterns {
		if n.Depth != 1 {
			continue
		}
		c := count(i)
		r.ByPatternType = append(r.ByPatternType, analytics.PatternTypeRecs{Node: n, Recommendations: c, Reviews: c, National: count(i + 1), NationalShare: share(count(i + 1)), Interval: interval(count(i + 1))})
	}
	return r, nil
}

func (f *fakeAnalytics) Episodes(ctx context.Context, v analytics.Viewer, sel analytics.Selection, q analytics.EpisodeQuery) (*analytics.EpisodePage, error) {
	p := &analytics.EpisodePage{Provenance: f.prov(sel), Collection: f.coll(sel), Query: q, Total: 23, Reviews: 9, Page: max(q.Page, 1), PerPage: 10, Pages: 3}
	for i := 0; i < 3; i++ {
		p.Episodes = append(p.Episodes, analytics.EpisodeExcerpt{ReviewID: fmt.Sprintf("XSS-TEST-2024-%02d", i+1), Version: 1, Year: 2024, Board: "ENG-NE-NCL",
			BoardName: "Newcastle upon Tyne", Kind: "statutory", Number: i + 1, Title: xssScript, Excerpt: xssImg + " excerpt", Adequacy: "problematic",
			Factors: []string{"FL.WORK.03"}})
	}
	return p, nil
}

func (f *fakeAnalytics) Reviews(ctx context.Context, v analytics.Viewer, sel analytics.Selection, q analytics.ReviewQuery) (*analytics.ReviewPage, error) {
	p := &analytics.ReviewPage{Provenance: f.prov(sel), Collection: f.coll(sel), Total: 1, Page: 1, PerPage: 25, Pages: 1,
		Reviews: []analytics.ReviewSummary{{ID: "XSS-TEST-2024-01", Version: 1, Board: "ENG-NE-NCL", BoardName: "Newcastle upon Tyne", Region: "ENG-NE",
			Nation: "ENG", Kind: "statutory", Year: 2024, Agencies: []string{xssImg}, Episodes: 3, Patterns: 4, Recommendations: 3, FamilyParticipation: "yes"}},
		Facets: analytics.ReviewFacets{Kinds: []analytics.FacetValue{{Value: "statutory", Label: "statutory", Count: 1}},
			Agencies: []analytics.FacetValue{{Value: xssImg, Label: xssScript, Count: 1}},
			Boards:   []analytics.FacetValue{{Value: "ENG-NE-NCL", Label: "Newcastle upon Tyne", Count: 1}},
			Years:    []analytics.FacetValue{{Value: "2024", Label: "2024", Count: 1}}}}
	return p, nil
}

func (f *fakeAnalytics) Review(ctx context.Context, v analytics.Viewer, id string) (*analytics.ReviewDetail, error) {
	return nil, errs.E(errs.NotFound, "no review %s", id)
}

// mustFakeServer serves the dashboard over the fake analytics, with a real
// store for uploads.
func mustFakeServer(t testing.TB) *fixture {
	t.Helper()
	f := mustFixture(t)
	log := slog.New(slog.DiscardHandler)
	s, err := dashboard.New(dashboard.Options{Analytics: newFake(), Writer: f.writer, Logger: log,
		DefaultViewer: analytics.Viewer{Role: analytics.RoleAdmin, Name: "test"}, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	f.server = s
	f.http.Config.Handler = s.Handler()
	return f
}

var _ = ingest.Added
