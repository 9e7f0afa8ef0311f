package xlsx

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"

	"github.com/collate-project/collate/schemas"
)

func TestTemplateSheets(t *testing.T) {
	f := mustTemplate(t)
	want := []string{SheetInstructions, SheetReview, SheetParticipants, SheetEpisodes, SheetEvidence, SheetFactors, SheetPatterns, SheetRecommendations, SheetLists}
	if diff := cmp.Diff(want, f.GetSheetList()); diff != "" {
		t.Fatalf("sheets (-want +got):\n%s", diff)
	}
	for _, sh := range want[1:] {
		p, err := f.GetPanes(sh)
		must(t, err)
		if !p.Freeze || p.YSplit == 0 {
			t.Errorf("%s: header rows not frozen: %+v", sh, p)
		}
	}
	// GetSheetProtection reports zero options for an unprotected sheet; the
	// template protects with cell selection allowed.
	for _, sh := range want {
		opts, err := f.GetSheetProtection(sh)
		must(t, err)
		protected := opts != (excelize.SheetProtectionOptions{})
		if wantProtected := sh == SheetLists || sh == SheetInstructions; protected != wantProtected {
			t.Errorf("%s: protected %v, want %v", sh, protected, wantProtected)
		}
	}
}

// TestTemplateDropdowns checks that every coded column has a dropdown whose
// range on the Lists sheet holds exactly the frame's or geography's codes.
func TestTemplateDropdowns(t *testing.T) {
	f := mustTemplate(t)
	frame := schemas.BuiltinFrames()[0]
	geo := schemas.LoadGeography()
	var boards []string
	for _, p := range geo.Places() {
		boards = append(boards, p.Board)
	}
	var types, subs []string
	for _, n := range frame.Flat(schemas.TreePattern) {
		if n.Depth == 1 {
			types = append(types, n.Code)
		} else {
			subs = append(subs, n.Code)
		}
	}
	cases := []struct {
		sheet, header string
		codes         []string
	}{
		{SheetFactors, "Contributory factor", frame.Codes(schemas.TreeFactor)},
		{SheetFactors, "Influence on practice", enumInfluence},
		{SheetEpisodes, "Reviewers' judgement of adequacy of practice", enumAdequacy},
		{SheetEvidence, "Evidence source", enumEvidence},
		{SheetPatterns, "Pattern type", types},
		{SheetPatterns, "Sub-pattern", subs},
		{SheetPatterns, "Nature", enumNature},
		{SheetPatterns, "How widespread", enumWidespread},
		{SheetPatterns, "Contemporary relevance", enumRelevance},
		{SheetRecommendations, "Kind", enumRecKind},
		{SheetRecommendations, "Level addressed", enumLevel},
		{SheetReview, "Board", boards},
		{SheetReview, "Kind of review", []string{"statutory", "routine", "innovation", "positive"}},
		{SheetReview, "Coding method", enumMethod},
		{SheetReview, "Family members took part", enumTristate},
		{SheetReview, "Second-coder agreement measure", enumMeasure},
	}
	for _, tc := range cases {
		t.Run(tc.sheet+"/"+tc.header, func(t *testing.T) {
			cell := headerCell(t, f, tc.sheet, tc.header)
			dv := validationFor(t, f, tc.sheet, cell)
			if dv == nil || dv.Type != "list" {
				t.Fatalf("%s!%s has no dropdown", tc.sheet, cell)
			}
			got := listCodes(t, f, dv.Formula1)
			if diff := cmp.Diff(tc.codes, got); diff != "" {
				t.Fatalf("dropdown %s (-want +got):\n%s", dv.Formula1, diff)
			}
		})
	}
}

// headerCell returns the first cell to fill under a header (table sheets) or
// beside a label (Review sheet).
func headerCell(t *testing.T, f *excelize.File, sheet, header string) string {
	t.Helper()
	rows, err := f.GetRows(sheet)
	must(t, err)
	for ri, r := range rows {
		for ci, v := range r {
			if v != header {
				continue
			}
			if sheet == SheetReview {
				return cellName(1, ri+1)
			}
			return cellName(ci, ri+2)
		}
	}
	t.Fatalf("%s: no %q", sheet, header)
	return ""
}

func validationFor(t *testing.T, f *excelize.File, sheet, cell string) *excelize.DataValidation {
	t.Helper()
	dvs, err := f.GetDataValidations(sheet)
	must(t, err)
	c, r, _ := splitCell(cell)
	for _, dv := range dvs {
		for _, ref := range strings.Fields(dv.Sqref) {
			from, to, ok := strings.Cut(ref, ":")
			if !ok {
				to = from
			}
			c0, r0, _ := splitCell(from)
			c1, r1, _ := splitCell(to)
			if c0 <= c && c <= c1 && r0 <= r && r <= r1 {
				return dv
			}
		}
	}
	return nil
}

// listCodes reads the codes a dropdown range offers, as the reader decodes them.
func listCodes(t *testing.T, f *excelize.File, ref string) []string {
	t.Helper()
	sheet, rng, _ := strings.Cut(ref, "!")
	from, to, _ := strings.Cut(strings.ReplaceAll(rng, "$", ""), ":")
	c, r0, _ := splitCell(from)
	_, r1, _ := splitCell(to)
	d := newDecoder()
	var out []string
	for r := r0; r <= r1; r++ {
		v, err := f.GetCellValue(sheet, cellName(c, r))
		must(t, err)
		d.addItem(v, "")
		out = append(out, d.code(v))
	}
	return out
}

func TestTemplateOtherFrame(t *testing.T) {
	frame, err := schemas.ParseFrame([]byte(`{"format":"collate.frame/1","id":"panel-themes","version":"1",
		"title":"A national panel's themes","factors":{"label":"Themes","levels":["Theme","Sub-theme"],
		"nodes":[{"code":"T1","label":"Information sharing","children":[{"code":"T1.1","label":"Between schools and social care"}]},
		{"code":"T2","label":"Risk assessment"}]}}`))
	must(t, err)
	var buf bytes.Buffer
	must(t, Template(&buf, frame, nil))
	f := mustOpen(t, buf.Bytes())
	got := listCodes(t, f, validationFor(t, f, SheetFactors, headerCell(t, f, SheetFactors, "Contributory factor")).Formula1)
	if diff := cmp.Diff([]string{"T1", "T1.1", "T2"}, got); diff != "" {
		t.Fatalf("factor dropdown (-want +got):\n%s", diff)
	}
	// The example factors use the frame's own codes, and a frame without a
	// typology leaves the Patterns sheet without examples.
	wb, _ := ReadWorkbook("t.xlsx", buf.Bytes()) // refused: only example rows
	if wb.Export.Review.Frame.ID != "panel-themes" {
		t.Fatalf("frame: %+v", wb.Export.Review.Frame)
	}
	rows, _ := f.GetRows(SheetFactors)
	if len(rows) < 3 || !strings.HasPrefix(rows[2][2], "T2") {
		t.Fatalf("example factor row: %q", rows[2])
	}
	// "T1.1 Between schools and social care" is read back as T1.1 thanks to
	// the workbook's own Lists sheet.
	set(t, f, SheetEpisodes, "A3", "")
	set(t, f, SheetFactors, "A3", "", 1, "T1.1 Between schools and social care")
	wb, err = ReadWorkbook("t.xlsx", mustBytes(t, f))
	must(t, err)
	if fs := wb.Export.Episodes[0].Factors; len(fs) != 1 || fs[0].Code != "T1.1" {
		t.Fatalf("factors: %+v", fs)
	}
}

// TestWrittenTextStaysText: text that a spreadsheet could take for a
// formula is written as a text cell, formatted as Text and quote-prefixed,
// and no cell of a written workbook is a formula.
func TestWrittenTextStaysText(t *testing.T) {
	e := exampleExport(t)
	e.Episodes[0].Title = "=1+1"
	e.Episodes[0].Description = "@SUM(A1:A9)"
	e.Recommendations[0].Text = "+44 dial"
	data := mustWrite(t, e)
	formulas, err := findFormulas(data, maxPartBytes)
	must(t, err)
	if len(formulas) != 0 {
		t.Fatalf("written workbook has formulas: %+v", formulas)
	}
	f := mustOpen(t, data)
	for _, cell := range []struct{ sheet, cell, want string }{
		{SheetEpisodes, "C3", "=1+1"},
		{SheetEpisodes, "D3", "@SUM(A1:A9)"},
		{SheetRecommendations, "E3", "+44 dial"},
	} {
		v, err := f.GetCellValue(cell.sheet, cell.cell)
		must(t, err)
		if v != cell.want {
			t.Errorf("%s!%s = %q, want %q", cell.sheet, cell.cell, v, cell.want)
		}
		typ, err := f.GetCellType(cell.sheet, cell.cell)
		must(t, err)
		if typ != excelize.CellTypeSharedString && typ != excelize.CellTypeInlineString {
			t.Errorf("%s!%s has cell type %v, want a string", cell.sheet, cell.cell, typ)
		}
		id, err := f.GetCellStyle(cell.sheet, cell.cell)
		must(t, err)
		xf := f.Styles.CellXfs.Xf[id]
		if xf.QuotePrefix == nil || !*xf.QuotePrefix || xf.NumFmtID == nil || *xf.NumFmtID != 49 {
			t.Errorf("%s!%s: style without quote prefix or Text format", cell.sheet, cell.cell)
		}
	}
	// An ordinary title is not quote-prefixed.
	id, _ := f.GetCellStyle(SheetEpisodes, "C4")
	if xf := f.Styles.CellXfs.Xf[id]; xf.QuotePrefix != nil && *xf.QuotePrefix {
		t.Errorf("ordinary text is quote-prefixed")
	}
}
