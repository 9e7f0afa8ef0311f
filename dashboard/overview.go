package dashboard

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/collate-project/collate/analytics"
)

// Headline is one headline number.
type Headline struct {
	Label string
	Value Cell
	Note  string
}

type overviewPage struct {
	Base
	Headlines    []Headline
	HeadlineNote string
	TopFactors   *ChartView
	PatternTypes *ChartView
	Lessons      *Table
	LessonsHref  string
	LessonsNote  string
	LessonsRule  string
}

func (s *Server) handleOverview(c *gin.Context) error {
	r, err := s.request(c)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	vm := overviewPage{Base: s.base(c, "Overview")}
	vm.HasCharts = true

	err = parallel(
		func() error {
			ov, err := s.an.Overview(ctx, r.v, r.sel)
			if vm.HeadlineNote, err = s.soft(c, "overview", err); err != nil {
				return err
			}
			if ov != nil {
				vm.Headlines = headlines(ov)
			}
			return nil
		},
		func() (err error) {
			vm.TopFactors, err = s.topFactorsChart(r, "overview_top_factors", 15)
			return err
		},
		func() (err error) {
			vm.PatternTypes, err = s.patternTypesChart(r, "overview_pattern_types")
			return err
		},
		func() error {
			lessons, err := s.an.RepeatedLessons(ctx, r.v, r.sel, analytics.RepeatedOptions{})
			if vm.LessonsNote, err = s.soft(c, "repeated lessons", err); err != nil {
				return err
			}
			if lessons != nil {
				vm.Lessons = lessonsTable(r, lessons)
				vm.LessonsHref = r.tableHref(vm.Lessons.ID)
				vm.LessonsRule = fmt.Sprintf("A repeated lesson is a pattern found in at least %d reviews across at least %d boards over at least %d years.",
					lessons.Rule.K, lessons.Rule.M, lessons.Rule.Y)
			}
			return nil
		},
	)
	if err != nil {
		return err
	}
	return s.respond(c, "overview", &vm, chartTable(vm.TopFactors), chartTable(vm.PatternTypes), vm.Lessons)
}

func chartTable(cv *ChartView) *Table {
	if cv == nil {
		return nil
	}
	return &cv.Table
}

func headlines(ov *analytics.Overview) []Headline {
	return []Headline{
		{Label: "Reviews received", Value: countCell(ov.Totals.ReviewsReceived)},
		{Label: "Reviews coded with the frame", Value: countCell(ov.Totals.ReviewsCoded)},
		{Label: "Key practice episodes", Value: countCell(ov.Totals.Episodes)},
		{Label: "Episodes of good practice", Value: percentText(ov.GoodShare), Note: "per cent of episodes judged good or problematic"},
		{Label: "Episodes of problematic practice", Value: percentText(ov.ProblematicShare), Note: "per cent of episodes judged good or problematic"},
		{Label: "Family took part", Value: percentText(ov.FamilyShare), Note: "per cent of reviews received" + intervalNote(ov.FamilyInterval)},
		{Label: "Patterns identified", Value: countCell(ov.Patterns)},
		{Label: "Recommendations", Value: countCell(ov.Recommendations)},
	}
}

func percentText(f analytics.Figure) Cell {
	c := percentCell(f)
	if !c.Suppressed && c.Text != "" {
		c.Text += "%"
	}
	return c
}

func intervalNote(iv analytics.Interval) string {
	lo, lok := iv.Lo.Value()
	hi, hok := iv.Hi.Value()
	if !lok || !hok {
		return ""
	}
	return fmt.Sprintf(" (95%% interval %.1f%% to %.1f%%)", 100*lo, 100*hi)
}

// topFactorsChart ranks the factors by their share of reviews coded, with
// Wilson interval whiskers. Suppressed factors are listed after the rest.
func (s *Server) topFactorsChart(r *request, id string, limit int) (*ChartView, error) {
	cv := &ChartView{ID: id, Title: "Most recurrent contributory factors",
		Description: "The contributory factors cited by the largest share of reviews coded with the frame, with 95% Wilson intervals.",
		Size:        "lg"}
	rec, err := s.an.Recurrence(r.c.Request.Context(), r.v, r.sel, analytics.RecurrenceOptions{Tree: analytics.TreeFactor, Depth: 3})
	if cv.Empty, err = s.soft(r.c, id, err); err != nil {
		return nil, err
	}
	cv.Table = Table{Columns: []Column{{Label: "Factor"}, {Label: "Reviews", Numeric: true}, {Label: "Share of reviews coded (%)", Numeric: true},
		{Label: "95% interval from (%)", Numeric: true}, {Label: "95% interval to (%)", Numeric: true}, {Label: "Episodes", Numeric: true}}}
	if rec == nil {
		return r.chart(cv), nil
	}
	rows := append([]analytics.RecurrenceRow(nil), rec.Rows...)
	sort.SliceStable(rows, func(i, j int) bool { return shareLess(rows[j].Share, rows[i].Share) })
	var bars []shareBar
	for _, row := range rows {
		if n, ok := row.Reviews.Value(); ok && n == 0 {
			continue
		}
		if len(bars) == limit {
			break
		}
		href := r.link("/factors/" + row.Code)
		bars = append(bars, shareBar{Label: nodeLabel(row.Node), Share: row.Share, Lo: row.Interval.Lo, Hi: row.Interval.Hi, Drill: href})
		cv.Table.Rows = append(cv.Table.Rows, Row{Cells: []Cell{linkCell(nodeLabel(row.Node), href), countCell(row.Reviews),
			percentCell(row.Share), percentCell(row.Interval.Lo), percentCell(row.Interval.Hi), countCell(row.Episodes)}})
	}
	cv.Table.Provenance = provenanceLine(rec.Provenance)
	if len(bars) == 0 {
		cv.Empty = "No contributory factors are recorded for this selection."
	} else {
		cv.Options = shareBars(bars, "% of reviews coded")
	}
	return r.chart(cv), nil
}

// shareLess orders figures with suppressed and unavailable ones lowest.
func shareLess(a, b analytics.Figure) bool {
	av, aok := a.Value()
	bv, bok := b.Value()
	switch {
	case !aok && !bok:
		return false
	case !aok:
		return true
	case !bok:
		return false
	}
	return av < bv
}

// patternTypesChart shows the six pattern types, constructive and unsafe.
func (s *Server) patternTypesChart(r *request, id string) (*ChartView, error) {
	cv := &ChartView{ID: id, Title: "Pattern types, constructive and unsafe",
		Description: "Reviews identifying each of the typology's pattern types, split into constructive and unsafe patterns."}
	rec, err := s.an.Recurrence(r.c.Request.Context(), r.v, r.sel, analytics.RecurrenceOptions{Tree: analytics.TreePattern, Depth: 1, Splits: true})
	if cv.Empty, err = s.soft(r.c, id, err); err != nil {
		return nil, err
	}
	cv.Table = Table{Columns: []Column{{Label: "Pattern type"}, {Label: "Reviews", Numeric: true}, {Label: "Share of reviews coded (%)", Numeric: true},
		{Label: "Constructive (reviews)", Numeric: true}, {Label: "Unsafe (reviews)", Numeric: true}}}
	if rec == nil {
		return r.chart(cv), nil
	}
	var cats []string
	constructive := series{Name: "constructive"}
	unsafe := series{Name: "unsafe"}
	drill := map[string]string{}
	for _, row := range rec.Rows {
		con, uns := splitCount(row.Splits, "nature", "constructive"), splitCount(row.Splits, "nature", "unsafe")
		label := nodeLabel(row.Node)
		cats = append(cats, label)
		drill[label] = r.link("/patterns", "type", row.Code)
		constructive.Values = append(constructive.Values, countFigure(con))
		unsafe.Values = append(unsafe.Values, countFigure(uns))
		cv.Table.Rows = append(cv.Table.Rows, Row{Cells: []Cell{textCell(label), countCell(row.Reviews), percentCell(row.Share), countCell(con), countCell(uns)}})
	}
	cv.Table.Provenance = provenanceLine(rec.Provenance)
	if len(cats) == 0 {
		cv.Empty = "No patterns are recorded for this selection."
	} else {
		cv.Options = groupedBars(cats, []series{constructive, unsafe}, false, 1, "reviews", drill)
	}
	return r.chart(cv), nil
}

func splitCount(ss []analytics.Split, dim, value string) analytics.Count {
	for _, s := range ss {
		if s.Dim == dim && s.Value == value {
			return s.Reviews
		}
	}
	return analytics.KnownCount(0)
}

// countFigure carries a count into a chart series (suppressed stays suppressed).
func countFigure(c analytics.Count) analytics.Figure {
	if n, ok := c.Value(); ok {
		return analytics.KnownFigure(float64(n))
	}
	return analytics.SuppressedFigure()
}

func lessonsTable(r *request, l *analytics.RepeatedLessons) *Table {
	t := &Table{ID: "overview_repeated_lessons", Caption: "Repeated lessons",
		Columns: []Column{{Label: "Pattern"}, {Label: "Reviews", Numeric: true}, {Label: "Boards", Numeric: true},
			{Label: "Years", Numeric: true}, {Label: "First found", Numeric: true}, {Label: "Last found", Numeric: true}},
		Provenance: provenanceLine(l.Provenance)}
	for _, ls := range l.Lessons {
		t.Rows = append(t.Rows, Row{Cells: []Cell{linkCell(nodeLabel(ls.Node), r.link("/patterns", "type", ls.Code)), countCell(ls.Reviews),
			intCell(ls.Boards), intCell(ls.Years), textCell(strconv.Itoa(ls.First)), textCell(strconv.Itoa(ls.Last))}})
	}
	return t
}
