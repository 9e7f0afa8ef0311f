package dashboard

import (
	"strconv"

	"github.com/gin-gonic/gin"
)

type recommendationsPage struct {
	Base
	Note      string
	Total     Cell
	Reviews   Cell
	KindLevel *ChartView
	ByPattern *ChartView
}

// recKindNames are the seed's three kinds of recommendation.
var recKindNames = map[int]string{1: "Kind 1: clear-cut, local", 2: "Kind 2: competing priorities", 3: "Kind 3: research and development"}

// handleRecommendations shows recommendations by kind × level and by pattern type.
func (s *Server) handleRecommendations(c *gin.Context) error {
	r, err := s.request(c)
	if err != nil {
		return err
	}
	vm := recommendationsPage{Base: s.base(c, "Recommendations")}
	vm.HasCharts = true
	rec, err := s.an.Recommendations(c.Request.Context(), r.v, r.sel)
	if vm.Note, err = s.soft(c, "recommendations", err); err != nil {
		return err
	}
	kl := &ChartView{ID: "recommendations_kind_level", Title: "Recommendations by kind and level",
		Description: "Recommendations of each kind, stacked by the level they are addressed to."}
	bp := &ChartView{ID: "recommendations_pattern_types", Title: "Share addressed to national level, by pattern type", Size: "lg",
		Description: "Of the recommendations linked to patterns of each type, the share addressed to national level, with 95% intervals."}
	kl.Table.Columns = []Column{{Label: "Kind"}}
	bp.Table.Columns = []Column{{Label: "Pattern type"}, {Label: "Recommendations", Numeric: true}, {Label: "Reviews", Numeric: true},
		{Label: "National", Numeric: true}, {Label: "National share (%)", Numeric: true}, {Label: "95% interval from (%)", Numeric: true}, {Label: "95% interval to (%)", Numeric: true}}
	if rec != nil {
		vm.Total, vm.Reviews = countCell(rec.Total), countCell(rec.Reviews)
		var cats []string
		for _, k := range rec.Kinds {
			cats = append(cats, kindName(k))
		}
		var ss []series
		for j, lvl := range rec.Levels {
			kl.Table.Columns = append(kl.Table.Columns, Column{Label: lvl, Numeric: true})
			sr := series{Name: lvl}
			for i := range rec.Kinds {
				sr.Values = append(sr.Values, countFigure(rec.Grid[i][j].Recommendations))
			}
			ss = append(ss, sr)
		}
		for i, k := range rec.Kinds {
			row := Row{Cells: []Cell{textCell(kindName(k))}}
			for j := range rec.Levels {
				row.Cells = append(row.Cells, countCell(rec.Grid[i][j].Recommendations))
			}
			kl.Table.Rows = append(kl.Table.Rows, row)
		}
		kl.Table.Provenance = provenanceLine(rec.Provenance)
		if len(cats) > 0 && len(ss) > 0 {
			kl.Options = groupedBars(cats, ss, true, 1, "recommendations", nil)
		} else {
			kl.Empty = "No recommendations in this selection."
		}
		var bars []shareBar
		for _, p := range rec.ByPatternType {
			bars = append(bars, shareBar{Label: nodeLabel(p.Node), Share: p.NationalShare, Lo: p.Interval.Lo, Hi: p.Interval.Hi})
			bp.Table.Rows = append(bp.Table.Rows, Row{Cells: []Cell{textCell(nodeLabel(p.Node)), countCell(p.Recommendations), countCell(p.Reviews),
				countCell(p.National), percentCell(p.NationalShare), percentCell(p.Interval.Lo), percentCell(p.Interval.Hi)}})
		}
		bp.Table.Provenance = provenanceLine(rec.Provenance)
		if len(bars) > 0 {
			bp.Options = shareBars(bars, "% addressed to national level")
		} else {
			bp.Empty = "No recommendations are linked to patterns in this selection."
		}
	}
	vm.KindLevel, vm.ByPattern = r.chart(kl), r.chart(bp)
	return s.respond(c, "recommendations", &vm, chartTable(vm.KindLevel), chartTable(vm.ByPattern))
}

func kindName(k int) string {
	if n, ok := recKindNames[k]; ok {
		return n
	}
	return "Kind " + strconv.Itoa(k)
}
