package dashboard

import (
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/collate-project/collate/analytics"
)

type patternsPage struct {
	Base
	Types    *ChartView
	Typology *Table
	TypNote  string
	TypHref  string
	Flows    *ChartView
}

// handlePatterns shows the six pattern types, every sub-pattern (and the
// proposed sub-patterns still awaiting a place), and the flows into them from
// factor types.
func (s *Server) handlePatterns(c *gin.Context) error {
	r, err := s.request(c)
	if err != nil {
		return err
	}
	vm := patternsPage{Base: s.base(c, "Patterns")}
	vm.HasCharts = true
	err = parallel(
		func() (err error) {
			vm.Types, err = s.patternTypesChart(r, "patterns_types")
			return err
		},
		func() error {
			rec, err := s.an.Recurrence(c.Request.Context(), r.v, r.sel, analytics.RecurrenceOptions{Tree: analytics.TreePattern, Splits: true})
			if vm.TypNote, err = s.soft(c, "typology", err); err != nil {
				return err
			}
			if rec != nil {
				focus := c.Query("type")
				t := &Table{ID: "patterns_typology", Caption: "Pattern types, sub-patterns and proposed sub-patterns",
					Columns: []Column{{Label: "Pattern"}, {Label: "Level"}, {Label: "Reviews", Numeric: true}, {Label: "Share of reviews coded (%)", Numeric: true},
						{Label: "Episodes", Numeric: true}, {Label: "Constructive (reviews)", Numeric: true}, {Label: "Unsafe (reviews)", Numeric: true}},
					Provenance: provenanceLine(rec.Provenance)}
				for _, row := range rec.Rows {
					if focus != "" && row.Code != focus && !strings.HasPrefix(row.Code, focus+".") {
						continue
					}
					label := strings.Repeat("— ", max(row.Depth-1, 0)) + nodeLabel(row.Node)
					level := row.Level
					if row.Virtual {
						level = "proposed sub-patterns awaiting a place"
					}
					t.Rows = append(t.Rows, Row{Cells: []Cell{textCell(label), textCell(level), countCell(row.Reviews), percentCell(row.Share),
						countCell(row.Episodes), countCell(splitCount(row.Splits, "nature", "constructive")), countCell(splitCount(row.Splits, "nature", "unsafe"))}})
				}
				vm.Typology = t
				vm.TypHref = r.tableHref(t.ID)
			}
			return nil
		},
		func() error {
			cv := &ChartView{ID: "patterns_flows", Title: "From factor types to pattern types",
				Description: "Key practice episodes carrying a factor of each type that patterns of each type draw on.", Size: "lg"}
			fl, err := s.an.Flows(c.Request.Context(), r.v, r.sel, analytics.FlowOptions{})
			if cv.Empty, err = s.soft(c, cv.ID, err); err != nil {
				return err
			}
			cv.Table.Columns = []Column{{Label: "Factor type"}, {Label: "Pattern type"}, {Label: "Episodes", Numeric: true}, {Label: "Reviews", Numeric: true}}
			if fl != nil {
				flows, rows := flowRows(r, fl, func(analytics.FlowLink) bool { return true })
				cv.Table.Rows = rows
				cv.Table.Provenance = provenanceLine(fl.Provenance)
				if len(flows) == 0 {
					cv.Empty = "No pattern draws on coded episodes in this selection."
				} else {
					cv.Options = sankey(flows, nil)
				}
			}
			vm.Flows = r.chart(cv)
			return nil
		},
	)
	if err != nil {
		return err
	}
	return s.respond(c, "patterns", &vm, chartTable(vm.Types), vm.Typology, chartTable(vm.Flows))
}
