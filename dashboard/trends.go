package dashboard

import (
	"math"
	"sort"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/collate-project/collate/analytics"
)

type trendsPage struct {
	Base
	Types      *ChartView
	Emerging   *Table
	EmergeNote string
	EmergeHref string
}

// handleTrends shows factor-type shares by year and the factors and patterns
// that are emerging.
func (s *Server) handleTrends(c *gin.Context) error {
	r, err := s.request(c)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	vm := trendsPage{Base: s.base(c, "Trends")}
	vm.HasCharts = true
	cv := &ChartView{ID: "trends_factor_types", Title: "The factors changing most, by year", Size: "lg",
		Description: "The share of reviews coded each year that cite each of the eight factors with the strongest trend (largest Cochran–Armitage z, rising or falling); every factor is in the table."}
	tr, err := s.an.Trends(ctx, r.v, r.sel, analytics.TrendOptions{Tree: analytics.TreeFactor, Depth: 3})
	if cv.Empty, err = s.soft(c, cv.ID, err); err != nil {
		return err
	}
	cv.Table.Columns = []Column{{Label: "Factor"}}
	if tr != nil {
		var years []string
		for _, y := range tr.Years {
			years = append(years, strconv.Itoa(y))
			cv.Table.Columns = append(cv.Table.Columns, Column{Label: strconv.Itoa(y) + " (%)", Numeric: true})
		}
		cv.Table.Columns = append(cv.Table.Columns, Column{Label: "Trend"}, Column{Label: "p", Numeric: true}, Column{Label: "Emerging"})
		ranked := append([]analytics.TrendSeries(nil), tr.Series...)
		sort.SliceStable(ranked, func(i, j int) bool { return trendStrength(ranked[i]) > trendStrength(ranked[j]) })
		var ss []series
		for i, ts := range ranked {
			row := Row{Cells: []Cell{linkCell(nodeLabel(ts.Node), r.link("/factors/"+ts.Code))}}
			sr := series{Name: nodeLabel(ts.Node)}
			for _, p := range ts.Points {
				sr.Values = append(sr.Values, p.Share)
				row.Cells = append(row.Cells, percentCell(p.Share))
			}
			row.Cells = append(row.Cells, textCell(ts.Trend.Direction), figureCell(ts.Trend.P, 3), textCell(yesNo(ts.Emerging)))
			cv.Table.Rows = append(cv.Table.Rows, row)
			if i < 8 {
				ss = append(ss, sr)
			}
		}
		cv.Table.Provenance = provenanceLine(tr.Provenance) + " Trend test: " + tr.Test + "."
		if len(years) == 0 || len(ss) == 0 {
			cv.Empty = "No years to show for this selection."
		} else {
			cv.Options = lines(years, ss, 100, "% of reviews", nil)
		}
	}
	vm.Types = r.chart(cv)

	em := &Table{ID: "trends_emerging", Caption: "Emerging factors and patterns",
		Columns: []Column{{Label: "Factor or pattern"}, {Label: "Kind"}, {Label: "Recent trend z", Numeric: true}, {Label: "Recent p", Numeric: true},
			{Label: "Latest share (%)", Numeric: true}}}
	for _, tree := range []struct{ tree, kind, path string }{{analytics.TreeFactor, "factor", "/factors/"}, {analytics.TreePattern, "pattern", ""}} {
		t, err := s.an.Trends(ctx, r.v, r.sel, analytics.TrendOptions{Tree: tree.tree})
		note, err := s.soft(c, "emerging "+tree.kind, err)
		if err != nil {
			return err
		}
		if note != "" {
			vm.EmergeNote = note
			continue
		}
		for _, ts := range t.Series {
			if !ts.Emerging {
				continue
			}
			first := textCell(nodeLabel(ts.Node))
			if tree.path != "" {
				first = linkCell(first.Text, r.link(tree.path+ts.Code))
			}
			latest := analytics.NoFigure()
			if len(ts.Points) > 0 {
				latest = ts.Points[len(ts.Points)-1].Share
			}
			em.Rows = append(em.Rows, Row{Cells: []Cell{first, textCell(tree.kind), figureCell(ts.Recent.Z, 3), figureCell(ts.Recent.P, 3), percentCell(latest)}})
		}
		em.Provenance = provenanceLine(t.Provenance)
	}
	vm.Emerging = em
	vm.EmergeHref = r.tableHref(em.ID)
	return s.respond(c, "trends", &vm, chartTable(vm.Types), vm.Emerging)
}

// trendStrength is the size of a series' trend statistic; a suppressed or
// missing one ranks last.
func trendStrength(ts analytics.TrendSeries) float64 {
	z, ok := ts.Trend.Z.Value()
	if !ok {
		return -1
	}
	return math.Abs(z)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
