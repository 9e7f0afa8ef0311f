package dashboard

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/collate-project/collate/analytics"
	"github.com/collate-project/collate/ingest/xlsx"
)

// Table is a chart's figures as rows and columns: the HTML table beside the
// chart and the CSV download are both written from it, so they always agree.
type Table struct {
	ID         string
	Caption    string
	Columns    []Column
	Rows       []Row
	Provenance string // one line: data version, frame, collection, years, policy
}

// Column is a table heading.
type Column struct {
	Label   string
	Numeric bool
}

// Row is one line of a table; its first cell is the row's heading.
type Row struct {
	Cells []Cell
}

// Cell is one value as published. A suppressed cell has no number at all:
// it shows and downloads as "c".
type Cell struct {
	Text       string
	Numeric    bool
	Suppressed bool
	Href       string
}

func textCell(s string) Cell       { return Cell{Text: s} }
func linkCell(s, href string) Cell { return Cell{Text: s, Href: href} }
func intCell(n int) Cell           { return Cell{Text: strconv.Itoa(n), Numeric: true} }
func suppressedCell() Cell {
	return Cell{Text: analytics.SuppressedSymbol, Numeric: true, Suppressed: true}
}
func countCell(c analytics.Count) Cell {
	if c.Suppressed() {
		return suppressedCell()
	}
	n, _ := c.Value()
	return intCell(n)
}

// percentCell shows a share in [0,1] as a percentage with one decimal.
func percentCell(f analytics.Figure) Cell {
	if f.Suppressed() {
		return suppressedCell()
	}
	v, ok := f.Value()
	if !ok {
		return Cell{Text: "", Numeric: true}
	}
	return Cell{Text: strconv.FormatFloat(100*v, 'f', 1, 64), Numeric: true}
}

// figureCell shows a figure to digits significant digits (p-values, ratios).
func figureCell(f analytics.Figure, digits int) Cell {
	if f.Suppressed() {
		return suppressedCell()
	}
	v, ok := f.Value()
	if !ok {
		return Cell{Numeric: true}
	}
	return Cell{Text: strconv.FormatFloat(v, 'g', digits, 64), Numeric: true}
}

// provenanceLine cites a result so a figure can be reproduced.
func provenanceLine(p analytics.Provenance) string {
	years := "all years"
	switch {
	case p.From != 0 && p.To != 0:
		years = fmt.Sprintf("%d–%d", p.From, p.To)
	case p.From != 0:
		years = fmt.Sprintf("%d onwards", p.From)
	case p.To != 0:
		years = fmt.Sprintf("up to %d", p.To)
	}
	sup := fmt.Sprintf("figures about fewer than %d reviews suppressed (c)", p.Policy.K)
	if !p.Policy.Suppressed {
		sup = "unsuppressed: within the viewer's own scope"
	}
	if p.Policy.Rounding > 1 {
		sup += fmt.Sprintf("; totals rounded to %d", p.Policy.Rounding)
	}
	return fmt.Sprintf("Source: Collate, collection %s, %s; frame %s; data version %s; %s; generated %s.",
		p.Collection, years, p.Frame, p.DataVersion, sup, p.GeneratedAt.UTC().Format("2006-01-02 15:04 MST"))
}

// writeCSV sends a table as CSV: a heading row, the rows with "c" where
// suppressed, and the provenance as the last line. Every field is made safe
// for spreadsheets.
func writeCSV(c *gin.Context, filename string, t Table) error {
	var buf bytes.Buffer
	w := xlsx.NewSafeCSVWriter(&buf)
	head := make([]string, len(t.Columns))
	for i, col := range t.Columns {
		head[i] = col.Label
	}
	if err := w.Write(head); err != nil {
		return err
	}
	for _, r := range t.Rows {
		rec := make([]string, len(r.Cells))
		for i, cell := range r.Cells {
			rec[i] = cell.Text
		}
		if err := w.Write(rec); err != nil {
			return err
		}
	}
	if t.Provenance != "" {
		if err := w.Write([]string{"# " + t.Provenance}); err != nil {
			return err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	c.Header("Content-Disposition", `attachment; filename="`+filename+`"`)
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
	return nil
}
