package xlsx

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/schemas"
)

// Template writes an empty review workbook for a frame: instructions, the
// data sheets with dropdowns and one example row each, and the protected
// Lists sheet of codes. A nil frame means the default frame; a nil geography
// the embedded one.
func Template(w io.Writer, frame *schemas.Frame, geo *schemas.Geography) error {
	b, err := newBuilder(frame, geo)
	if err != nil {
		return err
	}
	defer b.f.Close()
	if err := b.fill(nil); err != nil {
		return err
	}
	return b.save(w)
}

// TemplateFile writes Template to a file.
func TemplateFile(path string, frame *schemas.Frame, geo *schemas.Geography) error {
	return writeFile(path, func(w io.Writer) error { return Template(w, frame, geo) })
}

// Write writes an export as a workbook in the template's layout, so a JSON
// export can be edited in a spreadsheet and read back with Read. For a valid
// export the round trip is lossless: Read gives back an export with the same
// ingest.Canonical bytes. A nil frame means the frame the export names, when
// built in; a nil geography the embedded one.
func Write(w io.Writer, e *ingest.Export, frame *schemas.Frame, geo *schemas.Geography) error {
	if e == nil {
		return fmt.Errorf("write workbook: no export")
	}
	if frame == nil {
		frame = builtinFrame(e.Review.Frame.ID, e.Review.Frame.Version)
	}
	b, err := newBuilder(frame, geo)
	if err != nil {
		return err
	}
	defer b.f.Close()
	if err := b.fill(e); err != nil {
		return fmt.Errorf("write workbook for review %s: %w", e.Review.ID, err)
	}
	return b.save(w)
}

// WriteFile writes Write to a file.
func WriteFile(path string, e *ingest.Export, frame *schemas.Frame, geo *schemas.Geography) error {
	return writeFile(path, func(w io.Writer) error { return Write(w, e, frame, geo) })
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

func builtinFrame(id, version string) *schemas.Frame {
	frames := schemas.BuiltinFrames()
	for _, f := range frames {
		if f.ID == id && f.Version == version {
			return f
		}
	}
	return frames[0]
}

type styles struct {
	title, band, header, label, help                   int
	text, textQuote, number, exText, exNumber, exQuote int
	instrHead, instr                                   int
}

type builder struct {
	f      *excelize.File
	frame  *schemas.Frame
	geo    *schemas.Geography
	lists  []codeList
	ref    map[string]string // list name → absolute range on the Lists sheet
	labels map[string]map[string]string
	st     styles
}

func newBuilder(frame *schemas.Frame, geo *schemas.Geography) (*builder, error) {
	if frame == nil {
		frame = schemas.BuiltinFrames()[0]
	}
	if geo == nil {
		geo = schemas.LoadGeography()
	}
	b := &builder{f: excelize.NewFile(), frame: frame, geo: geo, ref: map[string]string{}, labels: map[string]map[string]string{}}
	b.lists = buildLists(frame, geo)
	for _, l := range b.lists {
		m := map[string]string{}
		for i, c := range l.codes {
			m[c] = l.items[i]
		}
		b.labels[l.name] = m
	}
	if err := b.makeStyles(); err != nil {
		b.f.Close()
		return nil, err
	}
	return b, nil
}

func (b *builder) makeStyles() error {
	var err error
	style := func(s *excelize.Style) int {
		if err != nil {
			return 0
		}
		var id int
		id, err = b.f.NewStyle(s)
		return id
	}
	top := &excelize.Alignment{Vertical: "top", WrapText: true}
	border := []excelize.Border{{Type: "left", Color: "A6A6A6", Style: 1}, {Type: "right", Color: "A6A6A6", Style: 1},
		{Type: "top", Color: "A6A6A6", Style: 1}, {Type: "bottom", Color: "A6A6A6", Style: 1}}
	b.st.title = style(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 13}, Alignment: &excelize.Alignment{Vertical: "center"}})
	b.st.band = style(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 11}, Border: border,
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"D9E2F3"}},
		Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true}})
	b.st.header = style(&excelize.Style{Font: &excelize.Font{Bold: true}, Border: border,
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"BDD7EE"}},
		Alignment: &excelize.Alignment{Vertical: "center", WrapText: true}})
	b.st.label = style(&excelize.Style{Font: &excelize.Font{Bold: true}, Alignment: top})
	b.st.help = style(&excelize.Style{Font: &excelize.Font{Italic: true, Color: "595959"}, Alignment: top, NumFmt: 49})
	b.st.text = style(&excelize.Style{Alignment: top, NumFmt: 49})
	b.st.number = style(&excelize.Style{Alignment: &excelize.Alignment{Vertical: "top", Horizontal: "left"}})
	exFill := excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"FFF2CC"}}
	b.st.exText = style(&excelize.Style{Font: &excelize.Font{Italic: true, Color: "7F6000"}, Fill: exFill, Alignment: top, NumFmt: 49})
	b.st.exNumber = style(&excelize.Style{Font: &excelize.Font{Italic: true, Color: "7F6000"}, Fill: exFill,
		Alignment: &excelize.Alignment{Vertical: "top", Horizontal: "left"}})
	b.st.instrHead = style(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 12}, Alignment: top})
	b.st.instr = style(&excelize.Style{Alignment: top})
	if err != nil {
		return fmt.Errorf("workbook styles: %w", err)
	}
	if b.st.textQuote, err = b.quoteStyle(b.st.text); err != nil {
		return err
	}
	b.st.exQuote, err = b.quoteStyle(b.st.exText)
	return err
}

// quoteStyle copies a cell style and sets Excel's quote prefix on the copy.
// The prefix tells Excel the text is text even if someone edits the cell
// later, so text starting with = + - @ stays text. excelize has no option
// for it, so the copy is made in its style sheet directly, after every
// NewStyle call, so that NewStyle never hands the copy out for another style.
func (b *builder) quoteStyle(id int) (int, error) {
	s := b.f.Styles
	if s == nil || s.CellXfs == nil || id >= len(s.CellXfs.Xf) {
		return 0, fmt.Errorf("workbook styles: style %d missing", id)
	}
	xf := s.CellXfs.Xf[id]
	yes := true
	xf.QuotePrefix = &yes
	s.CellXfs.Xf = append(s.CellXfs.Xf, xf)
	s.CellXfs.Count = len(s.CellXfs.Xf)
	return len(s.CellXfs.Xf) - 1, nil
}

func (b *builder) save(w io.Writer) error {
	if idx, err := b.f.GetSheetIndex(SheetInstructions); err == nil && idx >= 0 {
		b.f.SetActiveSheet(idx)
	}
	if err := b.f.SetDocProps(&excelize.DocProperties{Title: "Collate review workbook", Creator: "Collate",
		Description: "Review export " + schemas.ExportFormat + ", coding frame " + b.frame.Key()}); err != nil {
		return err
	}
	_, err := b.f.WriteTo(w)
	return err
}

// fill lays out every sheet. With e nil it writes the template: example rows
// and blank rows to fill in.
func (b *builder) fill(e *ingest.Export) error {
	if err := b.f.SetSheetName("Sheet1", SheetInstructions); err != nil {
		return err
	}
	for _, name := range []string{SheetReview, SheetParticipants, SheetEpisodes, SheetEvidence, SheetFactors, SheetPatterns, SheetRecommendations, SheetLists} {
		if _, err := b.f.NewSheet(name); err != nil {
			return err
		}
	}
	if err := b.writeLists(); err != nil {
		return fmt.Errorf("lists sheet: %w", err)
	}
	if err := b.writeInstructions(); err != nil {
		return fmt.Errorf("instructions sheet: %w", err)
	}
	if err := b.writeReview(e); err != nil {
		return fmt.Errorf("review sheet: %w", err)
	}
	tables, err := b.tableRows(e)
	if err != nil {
		return err
	}
	for _, spec := range tableSheets {
		if err := b.writeTable(spec, tables[spec.name], e == nil); err != nil {
			return fmt.Errorf("%s sheet: %w", spec.name, err)
		}
	}
	return nil
}

// row is one data row: values by column key.
type row map[string]any

func (b *builder) tableRows(e *ingest.Export) (map[string][]row, error) {
	if e == nil {
		return b.exampleRows(), nil
	}
	out := map[string][]row{}
	for _, p := range e.Review.Participants {
		out[SheetParticipants] = append(out[SheetParticipants], row{"role": p.Role, "agency": p.Agency})
	}
	for i, ep := range e.Episodes {
		for _, a := range ep.Agencies {
			if a == "" || strings.ContainsAny(a, "\r\n") {
				return nil, fmt.Errorf("episode %d: agency %q cannot be written one per line", i+1, a)
			}
		}
		out[SheetEpisodes] = append(out[SheetEpisodes], row{"number": ep.Number, "title": ep.Title, "description": ep.Description,
			"significance": ep.Significance, "adequacy": ep.Adequacy, "agencies": ep.Agencies})
		for _, ev := range ep.Evidence {
			out[SheetEvidence] = append(out[SheetEvidence], row{"episode": ep.Number, "kind": ev.Kind, "note": ev.Note})
		}
		for _, fc := range ep.Factors {
			out[SheetFactors] = append(out[SheetFactors], row{"episode": ep.Number, "code": fc.Code, "detail": fc.Detail, "influence": fc.Influence})
		}
	}
	if err := checkEpisodeNumbers(e); err != nil {
		return nil, err
	}
	for _, p := range e.Patterns {
		r := row{"number": p.Number, "type": p.Type, "sub_pattern": p.SubPattern, "proposed_sub_pattern": p.ProposedSubPattern,
			"nature": p.Nature, "widespread": p.Widespread, "relevance": p.Relevance, "summary": p.Summary, "episodes": p.Episodes}
		if p.Priority != nil {
			r["priority"] = *p.Priority
		}
		out[SheetPatterns] = append(out[SheetPatterns], r)
	}
	for _, rc := range e.Recommendations {
		out[SheetRecommendations] = append(out[SheetRecommendations], row{"number": rc.Number, "kind": rc.Kind, "level": rc.Level,
			"text": rc.Text, "patterns": rc.Patterns})
	}
	return out, nil
}

// checkEpisodeNumbers refuses exports whose evidence and factors a workbook
// could not attach back to the right episode: they hang on episode numbers.
func checkEpisodeNumbers(e *ingest.Export) error {
	seen := map[int]bool{}
	for i, ep := range e.Episodes {
		if seen[ep.Number] && (len(ep.Factors) > 0 || len(ep.Evidence) > 0) {
			return fmt.Errorf("episode %d: number %d is used twice, so its factors cannot be told apart", i+1, ep.Number)
		}
		seen[ep.Number] = true
	}
	return nil
}

// exampleRows are the template's example rows, taken from the shipped
// example export with codes the template's frame knows.
func (b *builder) exampleRows() map[string][]row {
	var ex ingest.Export
	if err := json.Unmarshal(schemas.Examples()["statutory-review.json"], &ex); err != nil || len(ex.Episodes) == 0 {
		return nil
	}
	factor := func(code string) string {
		if _, ok := b.frame.Lookup(schemas.TreeFactor, code); ok {
			return code
		}
		if n := b.frame.Flat(schemas.TreeFactor); len(n) > 0 {
			return n[len(n)-1].Code
		}
		return code
	}
	pattern := func(code string, top bool) string {
		if n, ok := b.frame.Lookup(schemas.TreePattern, code); ok && (n.Depth == 1) == top {
			return code
		}
		for _, n := range b.frame.Flat(schemas.TreePattern) {
			if (n.Depth == 1) == top {
				return n.Code
			}
		}
		return ""
	}
	ep := ex.Episodes[0]
	out := map[string][]row{}
	for _, p := range ex.Review.Participants[:2] {
		out[SheetParticipants] = append(out[SheetParticipants], row{"role": p.Role, "agency": p.Agency})
	}
	out[SheetEpisodes] = []row{{"number": ep.Number, "title": ep.Title,
		"description":  "The social worker visited once, found the home tidy on that day and the mother engaged and positive. With twelve other assessments due, she closed the assessment with advice.",
		"significance": ep.Significance,
		"adequacy":     ep.Adequacy, "agencies": ep.Agencies}}
	for _, ev := range ep.Evidence {
		out[SheetEvidence] = append(out[SheetEvidence], row{"episode": ep.Number, "kind": ev.Kind, "note": ev.Note})
	}
	for _, fc := range ep.Factors[:2] {
		out[SheetFactors] = append(out[SheetFactors], row{"episode": ep.Number, "code": factor(fc.Code), "detail": fc.Detail, "influence": fc.Influence})
	}
	if p := ex.Patterns[0]; b.frame.Patterns != nil {
		out[SheetPatterns] = []row{{"number": p.Number, "type": pattern(p.Type, true), "sub_pattern": pattern(p.SubPattern, false),
			"nature": p.Nature, "priority": *p.Priority, "widespread": p.Widespread, "relevance": p.Relevance, "summary": p.Summary, "episodes": p.Episodes}}
	}
	rc := ex.Recommendations[1]
	out[SheetRecommendations] = []row{{"number": 1, "kind": rc.Kind, "level": rc.Level, "text": rc.Text, "patterns": []int{1}}}
	return out
}

// The template's data validations reach this far below the last row.
const validationRows = 1000

func col(i int) string {
	name, _ := excelize.ColumnNumberToName(i + 1)
	return name
}

func cellName(c, r int) string { return col(c) + strconv.Itoa(r) }

func (b *builder) writeTable(spec *sheetSpec, rows []row, example bool) error {
	f, sh := b.f, spec.name
	if spec.name == SheetEpisodes {
		if err := b.writeEpisodeBand(spec); err != nil {
			return err
		}
	} else {
		if err := f.SetCellStr(sh, "A1", spec.title); err != nil {
			return err
		}
		if err := f.SetCellStyle(sh, "A1", "A1", b.st.title); err != nil {
			return err
		}
	}
	if err := f.SetRowHeight(sh, 1, 30); err != nil {
		return err
	}
	if err := f.SetRowHeight(sh, headerRow, 45); err != nil {
		return err
	}
	last := firstRow + len(rows) + validationRows
	for i, c := range spec.columns {
		if err := f.SetCellStr(sh, cellName(i, headerRow), c.header); err != nil {
			return err
		}
		if err := f.SetColWidth(sh, col(i), col(i), c.width); err != nil {
			return err
		}
		colStyle := b.st.number
		if c.kind != kindInt && c.kind != kindFloat {
			colStyle = b.st.text
		}
		if err := f.SetColStyle(sh, col(i), colStyle); err != nil {
			return err
		}
		if err := b.validate(sh, c, fmt.Sprintf("%s%d:%s%d", col(i), firstRow, col(i), last)); err != nil {
			return err
		}
	}
	if err := f.SetCellStyle(sh, cellName(0, headerRow), cellName(len(spec.columns)-1, headerRow), b.st.header); err != nil {
		return err
	}
	for ri, r := range rows {
		rn := firstRow + ri
		if example {
			r["example"] = exampleMark
		}
		for ci, c := range spec.columns {
			if err := b.setCell(sh, cellName(ci, rn), c, r[c.key], example); err != nil {
				return err
			}
		}
	}
	if err := f.SetPanes(sh, &excelize.Panes{Freeze: true, YSplit: headerRow, TopLeftCell: cellName(0, firstRow), ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	return nil
}

// writeEpisodeBand writes row 1 of the Episodes sheet like the column heads
// of the seed's Appendix 4 table.
func (b *builder) writeEpisodeBand(spec *sheetSpec) error {
	idx := map[string]int{}
	for i, c := range spec.columns {
		idx[c.key] = i
	}
	bands := []struct {
		from, to string
		text     string
	}{
		{"number", "title", "Key practice episode"},
		{"description", "significance", "Description of key practice episode and significance with hindsight"},
		{"adequacy", "agencies", "Breakdown and reviewers' judgement of adequacy of practice"},
	}
	for _, band := range bands {
		from, to := cellName(idx[band.from], 1), cellName(idx[band.to], 1)
		if err := b.f.SetCellStr(spec.name, from, band.text); err != nil {
			return err
		}
		if from != to {
			if err := b.f.MergeCell(spec.name, from, to); err != nil {
				return err
			}
		}
		if err := b.f.SetCellStyle(spec.name, from, to, b.st.band); err != nil {
			return err
		}
	}
	last := len(spec.columns)
	note := cellName(last, 1)
	if err := b.f.SetCellStr(spec.name, note, "Contributory factors (why did actions and decisions make sense at the time?): on the Factors sheet"); err != nil {
		return err
	}
	if err := b.f.SetColWidth(spec.name, col(last), col(last), 40); err != nil {
		return err
	}
	return b.f.SetCellStyle(spec.name, note, note, b.st.band)
}

// setCell writes one value as the column's kind. Text is always a string
// cell, never a formula; text a spreadsheet could take for a formula carries
// the quote prefix.
func (b *builder) setCell(sheet, cell string, c column, v any, example bool) error {
	f := b.f
	textStyle, quoteStyle, numStyle := b.st.text, b.st.textQuote, b.st.number
	if example {
		textStyle, quoteStyle, numStyle = b.st.exText, b.st.exQuote, b.st.exNumber
	}
	setText := func(s string) error {
		st := textStyle
		if Risky(s) {
			st = quoteStyle
		}
		if err := f.SetCellStyle(sheet, cell, cell, st); err != nil {
			return err
		}
		if s == "" {
			return nil
		}
		return f.SetCellStr(sheet, cell, escapeText(s))
	}
	setInt := func(n int) error {
		if err := f.SetCellStyle(sheet, cell, cell, numStyle); err != nil {
			return err
		}
		return f.SetCellInt(sheet, cell, int64(n))
	}
	switch x := v.(type) {
	case nil:
		if c.kind == kindInt || c.kind == kindFloat {
			return f.SetCellStyle(sheet, cell, cell, numStyle)
		}
		return setText("")
	case int:
		return setInt(x)
	case float64:
		if err := f.SetCellStyle(sheet, cell, cell, numStyle); err != nil {
			return err
		}
		return f.SetCellFloat(sheet, cell, x, -1, 64)
	case []int:
		parts := make([]string, len(x))
		for i, n := range x {
			parts[i] = strconv.Itoa(n)
		}
		return setText(strings.Join(parts, ", "))
	case []string:
		return setText(strings.Join(x, "\n"))
	case string:
		if c.kind == kindCode && c.list != "" {
			if item, ok := b.labels[c.list][x]; ok {
				x = item
			}
		}
		return setText(x)
	}
	return fmt.Errorf("cell %s: cannot write %T", cell, v)
}

// validate adds the column's dropdown or number check. Dropdowns warn rather
// than stop, so a code typed alone (FL.WORK.03) is accepted as typed.
func (b *builder) validate(sheet string, c column, sqref string) error {
	if c.kind == kindExample {
		dv := excelize.NewDataValidation(true)
		dv.Sqref = sqref
		if err := dv.SetDropList([]string{exampleMark}); err != nil {
			return err
		}
		dv.SetInput("Example row", c.help)
		return b.f.AddDataValidation(sheet, dv)
	}
	dv := excelize.NewDataValidation(true)
	dv.Sqref = sqref
	switch {
	case c.list != "":
		ref, ok := b.ref[c.list]
		if !ok {
			return nil
		}
		dv.SetSqrefDropList(ref)
		dv.SetError(excelize.DataValidationErrorStyleWarning, "Not on the list", "This value is not on the list. Keep it only if it is a code of the frame typed alone.")
	case c.kind == kindInt:
		lo, hi := 1, 999
		switch c.key {
		case "year":
			lo, hi = 1990, 2100
		case "month":
			lo, hi = 1, 12
		}
		if err := dv.SetRange(lo, hi, excelize.DataValidationTypeWhole, excelize.DataValidationOperatorBetween); err != nil {
			return err
		}
		dv.SetError(excelize.DataValidationErrorStyleWarning, "Whole number", fmt.Sprintf("Expected a whole number from %d to %d.", lo, hi))
	case c.kind == kindFloat:
		if err := dv.SetRange(-1, 100, excelize.DataValidationTypeDecimal, excelize.DataValidationOperatorBetween); err != nil {
			return err
		}
		dv.SetError(excelize.DataValidationErrorStyleWarning, "Number", "Expected a number from -1 to 100.")
	}
	if c.help != "" {
		dv.SetInput(trimRunes(c.header, 32), trimRunes(c.help, 255))
	}
	if dv.Type == "" && !dv.ShowInputMessage {
		return nil
	}
	return b.f.AddDataValidation(sheet, dv)
}

func trimRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func (b *builder) writeLists() error {
	f, sh := b.f, SheetLists
	for i, l := range b.lists {
		if err := f.SetCellStr(sh, cellName(i, 1), l.header); err != nil {
			return err
		}
		for j, it := range l.items {
			if err := f.SetCellStr(sh, cellName(i, 2+j), it); err != nil {
				return err
			}
		}
		width := 16.0
		if len(l.items) > 0 && l.items[0] != l.codes[0] {
			width = 60
		}
		if err := f.SetColWidth(sh, col(i), col(i), width); err != nil {
			return err
		}
		if len(l.items) > 0 {
			b.ref[l.name] = fmt.Sprintf("%s!$%s$2:$%s$%d", SheetLists, col(i), col(i), 1+len(l.items))
		}
	}
	if err := f.SetCellStyle(sh, "A1", cellName(len(b.lists)-1, 1), b.st.header); err != nil {
		return err
	}
	if err := f.SetPanes(sh, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	return f.ProtectSheet(sh, &excelize.SheetProtectionOptions{SelectLockedCells: true, SelectUnlockedCells: true})
}

func (b *builder) writeReview(e *ingest.Export) error {
	f, sh := b.f, SheetReview
	if err := f.SetCellStr(sh, "A1", "The review: one value per row. Question and Agency rows repeat; insert more rows with the same label as needed."); err != nil {
		return err
	}
	if err := f.SetCellStyle(sh, "A1", "A1", b.st.title); err != nil {
		return err
	}
	for i, c := range reviewColumns {
		if err := f.SetCellStr(sh, cellName(i, headerRow), c.header); err != nil {
			return err
		}
		if err := f.SetColWidth(sh, col(i), col(i), c.width); err != nil {
			return err
		}
	}
	if err := f.SetCellStyle(sh, "A2", cellName(len(reviewColumns)-1, headerRow), b.st.header); err != nil {
		return err
	}
	values := reviewValues(e, b.frame)
	rn := firstRow
	for _, fd := range reviewFields {
		vs := values[fd.key]
		if len(vs) == 0 {
			vs = []any{nil}
			if e == nil && fd.key == "question" {
				vs = []any{nil, nil, nil}
			} else if e == nil && fd.key == "agency" {
				vs = []any{nil, nil, nil, nil, nil, nil}
			}
		}
		for i, v := range vs {
			label := cellName(0, rn)
			if err := f.SetCellStr(sh, label, fd.header); err != nil {
				return err
			}
			if err := f.SetCellStyle(sh, label, label, b.st.label); err != nil {
				return err
			}
			if err := b.setCell(sh, cellName(1, rn), fd.column, v, false); err != nil {
				return err
			}
			if err := b.validate(sh, fd.column, cellName(1, rn)); err != nil {
				return err
			}
			if i == 0 {
				for ci, s := range []string{fd.help, fd.example} {
					cell := cellName(2+ci, rn)
					if err := f.SetCellStr(sh, cell, s); err != nil {
						return err
					}
					if err := f.SetCellStyle(sh, cell, cell, b.st.help); err != nil {
						return err
					}
				}
			}
			rn++
		}
	}
	return f.SetPanes(sh, &excelize.Panes{Freeze: true, YSplit: headerRow, TopLeftCell: "A3", ActivePane: "bottomLeft"})
}

// reviewValues gives the Review sheet's values by field key.
func reviewValues(e *ingest.Export, frame *schemas.Frame) map[string][]any {
	if e == nil {
		return map[string][]any{"format": {schemas.ExportFormat}, "frame_id": {frame.ID}, "frame_version": {frame.Version}}
	}
	r := e.Review
	v := map[string][]any{
		"format": {e.Format}, "id": {r.ID}, "board": {r.Board}, "region": {r.Region}, "nation": {r.Nation}, "kind": {r.Kind},
		"year": {r.Completed.Year}, "family_participation": {r.FamilyParticipation},
		"frame_id": {r.Frame.ID}, "frame_version": {r.Frame.Version}, "coder_role": {r.Coding.CoderRole}, "method": {r.Coding.Method},
	}
	if r.Completed.Month != nil {
		v["month"] = []any{*r.Completed.Month}
	}
	for _, q := range r.Questions {
		v["question"] = append(v["question"], q)
	}
	for _, a := range r.Agencies {
		v["agency"] = append(v["agency"], a)
	}
	if d := r.DialogueStages; d != nil {
		v["dialogue_preliminary"], v["dialogue_interim"], v["dialogue_final"] = []any{d.Preliminary}, []any{d.Interim}, []any{d.Final}
	}
	if a := r.Coding.SecondCoderAgreement; a != nil {
		v["agreement_measure"], v["agreement_value"] = []any{a.Measure}, []any{a.Value}
	}
	return v
}

// escapeText prepares text for a cell so that it reads back exactly. The
// format escapes characters XML cannot hold as _xHHHH_, and an underscore
// that would otherwise start such an escape as _x005F_. excelize reads
// escapes but, for shared strings, does not write them, so text holding a
// control character or a literal "_x0041_" would come back changed.
//
// The reader takes escapes left to right, each a whole _xHHHH_, so an
// underscore is escaped exactly when it and what follows it in the written
// text would read as one: "_x" and four hex digits, then "_" or a character
// that is itself written as an escape.
func escapeText(s string) string {
	if !strings.Contains(s, "_x") && strings.IndexFunc(s, xmlInvalid) < 0 {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case xmlInvalid(r):
			fmt.Fprintf(&b, "_x%04X_", r)
		case r == '_' && startsEscape(s[i:]):
			b.WriteString("_x005F_")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func startsEscape(s string) bool {
	if len(s) < 7 || s[1] != 'x' {
		return false
	}
	for _, c := range s[2:6] {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	next, _ := utf8.DecodeRuneInString(s[6:])
	return next == '_' || xmlInvalid(next)
}

// xmlInvalid reports a character XML 1.0 cannot carry.
func xmlInvalid(r rune) bool {
	return (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0xFFFE || r == 0xFFFF
}
