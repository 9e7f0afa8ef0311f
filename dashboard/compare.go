package dashboard

import (
	"sort"

	"github.com/gin-gonic/gin"

	"github.com/collate-project/collate/analytics"
)

type comparePage struct {
	Base
	Note       string
	Reference  string
	Rule       string
	Method     string
	Ranked     *ChartView
	Funnel     *ChartView
	FactorOpts []collectionOption
}

// handleCompare sets the collection against its reference: factors ranked
// from over- to under-represented with their statistics, and a funnel plot of
// the places under the collection for one factor.
func (s *Server) handleCompare(c *gin.Context) error {
	r, err := s.request(c)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	vm := comparePage{Base: s.base(c, "Compare")}
	vm.HasCharts = true
	cmp, err := s.an.Compare(ctx, r.v, r.sel, analytics.CompareOptions{Tree: analytics.TreeFactor})
	if vm.Note, err = s.soft(c, "comparison", err); err != nil {
		return err
	}
	ranked := &ChartView{ID: "compare_ranked", Title: "Factors from over- to under-represented",
		Description: "The difference between the collection's share of reviews citing each factor and its reference's, in percentage points. Flags need a Benjamini–Hochberg adjusted p below 0.05.",
		Size:        "lg"}
	ranked.Table.Columns = []Column{{Label: "Factor"}, {Label: "Reviews", Numeric: true}, {Label: "Share (%)", Numeric: true},
		{Label: "Reference reviews", Numeric: true}, {Label: "Reference share (%)", Numeric: true}, {Label: "Difference (points)", Numeric: true},
		{Label: "Ratio", Numeric: true}, {Label: "p", Numeric: true}, {Label: "Adjusted p", Numeric: true}, {Label: "Flag"}}
	funnelCode := c.Query("factor")
	if cmp != nil {
		vm.Reference = cmp.Reference.Name
		vm.Rule = cmp.ReferenceRule
		vm.Method = "Two-sided Fisher's exact test (" + cmp.Test + "), adjusted by " + cmp.Adjustment + "."
		rows := append([]analytics.CompareRow(nil), cmp.Rows...)
		sort.SliceStable(rows, func(i, j int) bool { return shareLess(rows[j].Difference, rows[i].Difference) })
		var bars []shareBar
		for _, row := range rows {
			href := r.link("/factors/" + row.Code)
			flag := map[string]string{"over": "over-represented", "under": "under-represented"}[row.Flag]
			ranked.Table.Rows = append(ranked.Table.Rows, Row{Cells: []Cell{linkCell(nodeLabel(row.Node), href), countCell(row.Reviews),
				percentCell(row.Share), countCell(row.RefReviews), percentCell(row.RefShare), percentCell(row.Difference),
				figureCell(row.Ratio, 3), figureCell(row.P, 3), figureCell(row.PAdjusted, 3), textCell(flag)}})
			if _, ok := row.Difference.Value(); ok {
				label := nodeLabel(row.Node)
				if flag != "" {
					label += " [" + flag + "]"
				}
				bars = append(bars, shareBar{Label: label, Share: row.Difference, Drill: href})
			}
			if funnelCode == "" {
				if _, ok := row.Difference.Value(); ok {
					funnelCode = row.Code
				}
			}
		}
		ranked.Table.Provenance = provenanceLine(cmp.Provenance)
		if len(bars) > 30 {
			bars = append(bars[:15], bars[len(bars)-15:]...)
		}
		if len(bars) == 0 {
			ranked.Empty = "No factor can be compared for this selection."
		} else {
			ranked.Options = shareBars(bars, "difference in percentage points")
		}
	}
	vm.Ranked = r.chart(ranked)
	if r.frame != nil {
		for _, n := range r.frame.Factors {
			if n.Depth == 3 {
				vm.FactorOpts = append(vm.FactorOpts, collectionOption{Value: n.Code, Label: nodeLabel(n), Selected: n.Code == funnelCode})
			}
		}
	}
	if vm.Funnel, err = s.funnelChart(r, funnelCode); err != nil {
		return err
	}
	return s.respond(c, "compare", &vm, chartTable(vm.Ranked), chartTable(vm.Funnel))
}

func (s *Server) funnelChart(r *request, code string) (*ChartView, error) {
	cv := &ChartView{ID: "compare_funnel", Title: "Funnel plot of places", Size: "lg",
		Description: "Each place's share of reviews citing the factor against its number of reviews coded, with 95% (dashed) and 99.8% (dotted) limits around the collection's share. Places outside the limits are drawn as triangles (above) or diamonds (below)."}
	cv.Table.Columns = []Column{{Label: "Place"}, {Label: "Reviews coded", Numeric: true}, {Label: "Reviews citing it", Numeric: true},
		{Label: "Share (%)", Numeric: true}, {Label: "Against the 95% limits"}, {Label: "Outside the 99.8% limits"}}
	if code == "" || !codePattern.MatchString(code) {
		cv.Empty = "Choose a factor to draw its funnel plot."
		return r.chart(cv), nil
	}
	fu, err := s.an.Funnel(r.c.Request.Context(), r.v, r.sel, analytics.FunnelOptions{Tree: analytics.TreeFactor, Code: code})
	if cv.Empty, err = s.soft(r.c, cv.ID, err); err != nil {
		return nil, err
	}
	if fu == nil {
		return r.chart(cv), nil
	}
	cv.Title = "Funnel plot of places: " + nodeLabel(fu.Node)
	var points []funnelPoint
	for _, p := range fu.Points {
		outside := ""
		flag := ""
		if p.Outside998 {
			outside = "yes"
			flag = p.Position
		}
		n, _ := p.N.Value()
		href := withQuery("/compare", selQuery(analytics.Selection{Collection: p.Place.Ref, From: r.sel.From, To: r.sel.To}), "factor", code)
		points = append(points, funnelPoint{Name: p.Place.Name, N: n, Share: p.Share, Flag: flag, Drill: href})
		cv.Table.Rows = append(cv.Table.Rows, Row{Cells: []Cell{linkCell(p.Place.Name, href), countCell(p.N), countCell(p.Reviews),
			percentCell(p.Share), textCell(p.Position), textCell(outside)}})
	}
	var limits []funnelLimit
	for _, l := range fu.Limits {
		limits = append(limits, funnelLimit{N: l.N, Lo95: analytics.KnownFigure(l.Lo95), Hi95: analytics.KnownFigure(l.Hi95),
			Lo998: analytics.KnownFigure(l.Lo998), Hi998: analytics.KnownFigure(l.Hi998)})
	}
	cv.Table.Provenance = provenanceLine(fu.Provenance) + " Limits: " + fu.Method + "."
	if len(points) == 0 {
		cv.Empty = "There are no places with published figures to plot."
	} else {
		cv.Options = funnel(points, limits, fu.Target, "% of reviews")
	}
	return r.chart(cv), nil
}
