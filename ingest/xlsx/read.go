package xlsx

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/schemas"
)

// Limits on the workbooks Read accepts.
const (
	MaxBytes      = 16 << 20  // size of the .xlsx file
	MaxUnzipBytes = 128 << 20 // everything in it, uncompressed
	maxPartBytes  = 64 << 20  // one XML part, uncompressed
)

// Workbook is a workbook converted into an export, with what Validate needs
// to report problems in the workbook's own terms.
type Workbook struct {
	Export *ingest.Export
	// Cells maps the JSON pointers of the export to the cells the values came
	// from, so the validator's problems can name Sheet!Cell.
	Cells Locations
	// Texts is every piece of text in the workbook, where it is: each
	// non-empty cell of every sheet (imported or not, example rows too),
	// each cell note, and each sheet name. The screen for identifying
	// information runs over all of it.
	Texts []Text

	order    map[string]int  // sheet name → position
	screened map[string]bool // cells whose whole text the validator's Check screens
}

// Text is one piece of text found in a workbook.
type Text struct {
	Location string // Sheet!Cell
	Value    string
	Kind     string // "" for a cell's value, "sheet's name", "cell's note"
}

func (t Text) cell() string { return t.Location }

// Read converts a workbook into an export. Problems with the workbook
// itself (a missing sheet or column, a number that is not a number, a
// formula, merged cells across columns) come back as ingest.Problems whose
// locations are Sheet!Cell. The export still has to pass the validator's
// Check; Validate does both and also screens every cell.
func Read(name string, r io.ReaderAt, size int64) (*ingest.Export, error) {
	data, err := readAll(name, r, size)
	if err != nil {
		return nil, err
	}
	wb, err := ReadWorkbook(name, data)
	if err != nil {
		return nil, err
	}
	return wb.Export, nil
}

func readAll(name string, r io.ReaderAt, size int64) ([]byte, error) {
	if size > MaxBytes {
		return nil, tooLarge(name, size)
	}
	data := make([]byte, size)
	if _, err := r.ReadAt(data, 0); err != nil && !(errors.Is(err, io.EOF) && size == 0) {
		return nil, fmt.Errorf("read workbook %s: %w", name, err)
	}
	return data, nil
}

func tooLarge(name string, size int64) error {
	return ingest.Problems{{File: name, Message: fmt.Sprintf("the workbook is %d bytes, over the limit", size),
		Expected: fmt.Sprintf("at most %d bytes", MaxBytes), Hint: "split it: one review per workbook"}}
}

// ReadWorkbook converts a workbook held in memory. When the file opens as a
// workbook at all, the returned Workbook is not nil even if err is: its Texts
// are complete, so callers can still screen them.
func ReadWorkbook(name string, data []byte) (*Workbook, error) {
	if int64(len(data)) > MaxBytes {
		return nil, tooLarge(name, int64(len(data)))
	}
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: MaxUnzipBytes, UnzipXMLSizeLimit: maxPartBytes})
	if err != nil {
		return nil, notWorkbook(name, err)
	}
	defer f.Close()
	scans, _, err := scanSheets(data, maxPartBytes)
	if err != nil {
		return nil, notWorkbook(name, err)
	}
	r := &reader{name: name, f: f, dec: newDecoder(), wb: &Workbook{Cells: Locations{}, screened: map[string]bool{}}, sheets: map[string]*grid{}, scans: scans}
	if err := r.load(); err != nil {
		return nil, notWorkbook(name, err)
	}
	for _, sheet := range r.f.GetSheetList() {
		if sc := scans[sheet]; sc != nil {
			for _, c := range sc.formulas {
				r.problem(sheet+"!"+c, "the cell holds a formula; Collate does not run formulas", "a typed value",
					"copy the cells and paste them back as values only (Paste Special, Values)")
			}
		}
	}
	r.convert()
	r.wb.order = r.order
	if len(r.probs) > 0 {
		sortProblems(r.probs, r.order)
		return r.wb, r.probs[:min(len(r.probs), maxProblems)]
	}
	return r.wb, nil
}

func notWorkbook(name string, err error) error {
	return ingest.Problems{{File: name, Message: "not a readable Excel workbook: " + err.Error(),
		Expected: "an .xlsx workbook", Hint: "save it from your spreadsheet as Excel Workbook (.xlsx); start from `collate template` for the layout"}}
}

// grid is one sheet's values, with merged ranges already applied.
type grid struct {
	name   string
	rows   [][]string
	merges []mergeRange
}

type mergeRange struct {
	c0, r0, c1, r1 int // 0-based columns, 1-based rows, inclusive
}

func (g *grid) at(c, r int) string {
	if r < 1 || r > len(g.rows) || c < 0 || c >= len(g.rows[r-1]) {
		return ""
	}
	return g.rows[r-1][c]
}

func (g *grid) set(c, r int, v string) {
	for len(g.rows) < r {
		g.rows = append(g.rows, nil)
	}
	row := g.rows[r-1]
	for len(row) <= c {
		row = append(row, "")
	}
	row[c] = v
	g.rows[r-1] = row
}

type reader struct {
	name   string
	f      *excelize.File
	dec    *decoder
	wb     *Workbook
	sheets map[string]*grid // by normalised name
	order  map[string]int   // sheet name → position, for sorting problems
	scans  map[string]*sheetScan
	probs  ingest.Problems
}

func (r *reader) problem(loc, msg, expected, hint string) {
	r.probs = append(r.probs, ingest.Problem{File: r.name, Location: loc, Message: msg, Expected: expected, Hint: hint})
}

// load reads every sheet's values and notes, and collects the texts.
func (r *reader) load() error {
	r.order = map[string]int{}
	for i, name := range r.f.GetSheetList() {
		r.order[name] = i
		r.wb.Texts = append(r.wb.Texts, Text{Location: name + "!A1", Value: name, Kind: "sheet's name"})
		rows, err := r.f.GetRows(name, excelize.Options{RawCellValue: true})
		if err != nil {
			if _, ok := err.(excelize.ErrSheetNotExist); ok {
				continue // a dialog or macro sheet: no cells to read
			}
			return fmt.Errorf("sheet %s: %w", name, err)
		}
		g := &grid{name: name, rows: rows}
		for ri, row := range rows {
			for ci, v := range row {
				if strings.TrimSpace(v) != "" {
					r.wb.Texts = append(r.wb.Texts, Text{Location: name + "!" + cellName(ci, ri+1), Value: v})
				}
			}
		}
		if sc := r.scans[name]; sc != nil {
			for _, ref := range sc.merges {
				from, to, ok := strings.Cut(ref, ":")
				if !ok {
					to = from
				}
				c0, r0, err1 := splitCell(from)
				c1, r1, err2 := splitCell(to)
				if err1 != nil || err2 != nil {
					continue
				}
				g.merges = append(g.merges, mergeRange{min(c0, c1), min(r0, r1), max(c0, c1), max(r0, r1)})
			}
		}
		comments, err := r.f.GetComments(name)
		if err == nil {
			for _, c := range comments {
				text := c.Text
				if text == "" {
					var b strings.Builder
					for _, p := range c.Paragraph {
						b.WriteString(p.Text)
					}
					text = b.String()
				}
				if strings.TrimSpace(text) != "" {
					r.wb.Texts = append(r.wb.Texts, Text{Location: name + "!" + c.Cell, Value: text, Kind: "cell's note"})
				}
			}
		}
		key := norm(name)
		if _, dup := r.sheets[key]; !dup {
			r.sheets[key] = g
		}
	}
	return nil
}

func splitCell(ref string) (col, row int, err error) {
	c, rw, err := excelize.CellNameToCoordinates(strings.ReplaceAll(ref, "$", ""))
	return c - 1, rw, err
}

func (r *reader) sheet(name string) *grid { return r.sheets[norm(name)] }

// table is a table sheet with its columns found.
type table struct {
	spec    *sheetSpec
	g       *grid
	header  int            // row of the headers
	cols    map[string]int // column key → 0-based column
	columns []column
	skipped []int // example rows with data, skipped
}

// columnsRead lists the columns found whose values are imported.
func (t *table) columnsRead() []column {
	var out []column
	for _, c := range t.columns {
		if _, ok := t.cols[c.key]; ok && !c.info {
			out = append(out, c)
		}
	}
	return out
}

func (t *table) loc(key string, row int) string {
	c, ok := t.cols[key]
	if !ok {
		c = 0
	}
	return t.g.name + "!" + cellName(c, row)
}

// findTable locates a sheet's header row and columns.
func (r *reader) findTable(spec *sheetSpec, columns []column) *table {
	g := r.sheet(spec.name)
	if g == nil {
		return nil
	}
	best, bestN := 0, 0
	for row := 1; row <= headerScan && row <= len(g.rows); row++ {
		n := 0
		for _, v := range g.rows[row-1] {
			for _, c := range columns {
				if c.matches(v) {
					n++
					break
				}
			}
		}
		if n > bestN {
			best, bestN = row, n
		}
	}
	t := &table{spec: spec, g: g, header: best, cols: map[string]int{}, columns: columns}
	if best == 0 {
		var want []string
		for _, c := range columns {
			if c.required {
				want = append(want, strconv.Quote(c.header))
			}
		}
		r.problem(g.name+"!A1", "the sheet has no header row", "a row of column headers including "+strings.Join(want, ", "),
			"copy the header row from a fresh template (`collate template`)")
		return t
	}
	var unknown []string
	for ci, v := range g.rows[best-1] {
		matched := false
		for _, c := range columns {
			if !c.matches(v) {
				continue
			}
			matched = true
			if prev, dup := t.cols[c.key]; dup {
				r.problem(g.name+"!"+cellName(ci, best), fmt.Sprintf("a second column headed %q (the first is %s)", v, cellName(prev, best)),
					"each column once", "rename or delete one of them")
				break
			}
			t.cols[c.key] = ci
			break
		}
		if !matched && strings.TrimSpace(v) != "" {
			unknown = append(unknown, v)
		}
	}
	for _, c := range columns {
		if _, ok := t.cols[c.key]; ok || !c.required {
			continue
		}
		hint := "add the column back with exactly this header"
		if near := nearest(c.header, unknown); near != "" {
			hint = fmt.Sprintf("is the column headed %q meant to be %q? Headers must match the template", near, c.header)
		}
		r.problem(g.name+"!"+cellName(0, best), fmt.Sprintf("no column headed %q", c.header), "a column headed "+strconv.Quote(c.header), hint)
	}
	r.applyMerges(t)
	return t
}

// applyMerges spreads a merged cell's value down the rows it covers, so a
// factor's episode number merged over several rows counts for each; a merge
// across two imported columns is refused, since one value cannot fill two
// fields.
func (r *reader) applyMerges(t *table) {
	byCol := map[int]bool{}
	for _, c := range t.columnsRead() {
		byCol[t.cols[c.key]] = true
	}
	for _, m := range t.g.merges {
		if m.r1 <= t.header {
			continue
		}
		var covered []int
		for c := m.c0; c <= m.c1; c++ {
			if _, ok := byCol[c]; ok {
				covered = append(covered, c)
			}
		}
		ref := cellName(m.c0, m.r0) + ":" + cellName(m.c1, m.r1)
		if len(covered) > 1 {
			r.problem(t.g.name+"!"+cellName(m.c0, m.r0), fmt.Sprintf("cells %s are merged across %d columns", ref, len(covered)),
				"one value per cell", "unmerge the cells (Merge & Center, Unmerge Cells) and type each value in its own column")
			continue
		}
		if len(covered) == 0 || m.r0 <= t.header {
			continue
		}
		v := t.g.at(m.c0, m.r0)
		for row := m.r0 + 1; row <= m.r1; row++ {
			t.g.set(covered[0], row, v)
		}
	}
}

// dataRows yields each row below the headers that holds data, skipping
// blank rows and example rows.
func (r *reader) dataRows(t *table) []int {
	var out []int
	if t == nil || t.header == 0 {
		return nil
	}
	for row := t.header + 1; row <= len(t.g.rows); row++ {
		blank := true
		for _, col := range t.columnsRead() {
			if c := t.cols[col.key]; col.kind != kindExample && strings.TrimSpace(t.g.at(c, row)) != "" {
				blank = false
				break
			}
		}
		if ex, ok := t.cols["example"]; ok {
			mark := strings.TrimSpace(t.g.at(ex, row))
			if strings.HasPrefix(norm(mark), "example") {
				if !blank {
					t.skipped = append(t.skipped, row)
				}
				continue
			}
			if mark != "" && !blank {
				// Read the row anyway, so its episode is there for the
				// factors that name it and only this problem is reported.
				r.problem(t.loc("example", row), fmt.Sprintf("the Example row column holds %q", mark), "blank, or EXAMPLE for a row to skip",
					"clear the cell to import the row, or write EXAMPLE to skip it")
			}
		}
		if !blank {
			out = append(out, row)
		}
	}
	return out
}

// cell reads one field of a row.
func (t *table) text(key string, row int) string {
	c, ok := t.cols[key]
	if !ok {
		return ""
	}
	v := t.g.at(c, row)
	if strings.TrimSpace(v) == "" {
		return ""
	}
	return v
}

// free reads a free-text field, which the validator's Check screens for
// identifying information as part of the export.
func (r *reader) free(t *table, key string, row int) string {
	v := t.text(key, row)
	if v != "" {
		r.wb.screened[t.loc(key, row)] = true
	}
	return v
}

func (r *reader) code(t *table, key string, row int) string {
	return r.dec.code(t.text(key, row))
}

// integer reads a whole number; ok is false when the cell is blank or wrong
// (and then a problem has been recorded).
func (r *reader) integer(t *table, key string, row int, what string) (int, bool) {
	s := strings.TrimSpace(t.text(key, row))
	if s == "" {
		return 0, false
	}
	n, ok := parseInt(s)
	if !ok {
		r.problem(t.loc(key, row), fmt.Sprintf("%s %q is not a whole number", what, s), "a whole number", "")
	}
	return n, ok
}

func (r *reader) integers(t *table, key string, row int, what string) []int {
	s := t.text(key, row)
	fields := strings.FieldsFunc(s, func(c rune) bool { return c == ',' || c == ';' || c == ' ' || c == '\n' || c == '\r' || c == '\t' })
	out := make([]int, 0, len(fields))
	for _, fd := range fields {
		n, ok := parseInt(fd)
		if !ok {
			r.problem(t.loc(key, row), fmt.Sprintf("%s: %q is not a number", what, fd), "numbers separated by commas, for example 1, 3", "")
			continue
		}
		out = append(out, n)
	}
	return out
}

// lines reads a cell holding one item per line.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSuffix(l, "\r")
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// convert builds the export from the sheets.
func (r *reader) convert() {
	// The workbook's own Lists sheet teaches the decoder its dropdown texts,
	// so workbooks made for other frames read too.
	if g := r.sheet(SheetLists); g != nil {
		for ri := 1; ri < len(g.rows); ri++ {
			for _, v := range g.rows[ri] {
				r.dec.addItem(v, "")
			}
		}
	}
	e := &ingest.Export{Episodes: []ingest.Episode{}}
	r.wb.Export = e
	r.readReview(e)
	r.readParticipants(e)
	r.readEpisodes(e)
	r.readPatterns(e)
	r.readRecommendations(e)
}

func (r *reader) cellAt(loc, pointer string) { r.wb.Cells[pointer] = loc }

func (r *reader) readParticipants(e *ingest.Export) {
	t := r.findTable(&participantsSheet, participantsSheet.columns)
	for _, row := range r.dataRows(t) {
		p := "/review/participants/" + strconv.Itoa(len(e.Review.Participants))
		e.Review.Participants = append(e.Review.Participants, ingest.Participant{Role: r.free(t, "role", row), Agency: r.free(t, "agency", row)})
		r.cellAt(t.loc("role", row), p)
		r.cellAt(t.loc("role", row), p+"/role")
		r.cellAt(t.loc("agency", row), p+"/agency")
	}
}

func (r *reader) readEpisodes(e *ingest.Export) {
	t := r.findTable(&episodesSheet, episodesSheet.columns)
	if t == nil {
		r.problem(SheetEpisodes+"!A1", "the workbook has no Episodes sheet", "a sheet named Episodes with the key practice episodes",
			"the sheets are "+strings.Join(r.f.GetSheetList(), ", ")+"; keep the template's sheet names")
		return
	}
	r.cellAt(t.g.name+"!"+cellName(0, max(t.header, 1)), "/episodes")
	byNumber := map[int]int{}
	for _, row := range r.dataRows(t) {
		i := len(e.Episodes)
		p := "/episodes/" + strconv.Itoa(i)
		ep := ingest.Episode{
			Title: r.free(t, "title", row), Description: r.free(t, "description", row), Significance: r.free(t, "significance", row),
			Adequacy: r.code(t, "adequacy", row), Agencies: lines(r.free(t, "agencies", row)), Factors: []ingest.ContributoryFactor{},
		}
		if n, ok := r.integer(t, "number", row, "the episode number"); ok {
			ep.Number = n
			if _, seen := byNumber[n]; !seen {
				byNumber[n] = i
			}
		}
		e.Episodes = append(e.Episodes, ep)
		r.cellAt(t.loc("number", row), p)
		for _, k := range []string{"number", "title", "description", "significance", "adequacy"} {
			r.cellAt(t.loc(k, row), p+"/"+k)
		}
		r.cellAt(t.loc("agencies", row), p+"/agencies")
		for j := range ep.Agencies {
			r.cellAt(t.loc("agencies", row), p+"/agencies/"+strconv.Itoa(j))
		}
		r.cellAt(t.loc("number", row), p+"/factors")
		r.cellAt(t.loc("number", row), p+"/evidence")
	}
	if len(e.Episodes) == 0 && len(t.skipped) > 0 {
		r.problem(t.loc("example", t.skipped[0]), fmt.Sprintf("every episode row on the Episodes sheet is marked EXAMPLE (%d), so no episode was read", len(t.skipped)),
			"your own rows with the Example row column blank", "clear EXAMPLE from the first column of your own rows; copying the example row copies its mark")
		return // evidence and factors would only repeat that their episodes are missing
	}
	numbers := episodeNumbers(e)
	episodeOf := func(t *table, row int) (int, bool) {
		s := strings.TrimSpace(t.text("episode", row))
		if s == "" {
			r.problem(t.loc("episode", row), "the row has no episode number", "the number of an episode on the Episodes sheet", "episodes: "+numbers)
			return 0, false
		}
		n, ok := r.integer(t, "episode", row, "the episode number")
		if !ok {
			return 0, false
		}
		i, ok := byNumber[n]
		if !ok {
			r.problem(t.loc("episode", row), fmt.Sprintf("there is no episode %d on the Episodes sheet", n), "the number of an episode on the Episodes sheet", "episodes: "+numbers)
		}
		return i, ok
	}
	if t := r.findTable(&evidenceSheet, evidenceSheet.columns); t != nil {
		for _, row := range r.dataRows(t) {
			i, ok := episodeOf(t, row)
			if !ok {
				continue
			}
			ep := &e.Episodes[i]
			p := fmt.Sprintf("/episodes/%d/evidence/%d", i, len(ep.Evidence))
			ep.Evidence = append(ep.Evidence, ingest.Evidence{Kind: r.code(t, "kind", row), Note: r.free(t, "note", row)})
			r.cellAt(t.loc("kind", row), p)
			r.cellAt(t.loc("kind", row), p+"/kind")
			r.cellAt(t.loc("note", row), p+"/note")
		}
	}
	if t := r.findTable(&factorsSheet, factorsSheet.columns); t != nil {
		for _, row := range r.dataRows(t) {
			i, ok := episodeOf(t, row)
			if !ok {
				continue
			}
			ep := &e.Episodes[i]
			p := fmt.Sprintf("/episodes/%d/factors/%d", i, len(ep.Factors))
			ep.Factors = append(ep.Factors, ingest.ContributoryFactor{Code: r.code(t, "code", row), Detail: r.free(t, "detail", row), Influence: r.code(t, "influence", row)})
			r.cellAt(t.loc("code", row), p)
			for _, k := range []string{"code", "detail", "influence"} {
				r.cellAt(t.loc(k, row), p+"/"+k)
			}
		}
	}
}

func episodeNumbers(e *ingest.Export) string {
	var ns []string
	for _, ep := range e.Episodes {
		if ep.Number != 0 {
			ns = append(ns, strconv.Itoa(ep.Number))
		}
	}
	if len(ns) == 0 {
		return "none yet"
	}
	return strings.Join(ns, ", ")
}

func (r *reader) readPatterns(e *ingest.Export) {
	t := r.findTable(&patternsSheet, patternsSheet.columns)
	if t == nil {
		return
	}
	for _, row := range r.dataRows(t) {
		i := len(e.Patterns)
		p := "/patterns/" + strconv.Itoa(i)
		pt := ingest.Pattern{
			Type: r.code(t, "type", row), SubPattern: r.code(t, "sub_pattern", row), ProposedSubPattern: r.free(t, "proposed_sub_pattern", row),
			Nature: r.code(t, "nature", row), Widespread: r.code(t, "widespread", row), Relevance: r.code(t, "relevance", row),
			Summary: r.free(t, "summary", row), Episodes: r.integers(t, "episodes", row, "episodes drawn on"),
		}
		pt.Number, _ = r.integer(t, "number", row, "the pattern number")
		if n, ok := r.integer(t, "priority", row, "the priority"); ok {
			pt.Priority = &n
		}
		e.Patterns = append(e.Patterns, pt)
		r.cellAt(t.loc("number", row), p)
		for _, k := range []string{"number", "type", "sub_pattern", "proposed_sub_pattern", "nature", "priority", "widespread", "relevance", "summary", "episodes"} {
			r.cellAt(t.loc(k, row), p+"/"+k)
		}
		for j := range pt.Episodes {
			r.cellAt(t.loc("episodes", row), p+"/episodes/"+strconv.Itoa(j))
		}
	}
}

func (r *reader) readRecommendations(e *ingest.Export) {
	t := r.findTable(&recommendationsSheet, recommendationsSheet.columns)
	if t == nil {
		return
	}
	for _, row := range r.dataRows(t) {
		i := len(e.Recommendations)
		p := "/recommendations/" + strconv.Itoa(i)
		rc := ingest.Recommendation{Level: r.code(t, "level", row), Text: r.free(t, "text", row)}
		rc.Number, _ = r.integer(t, "number", row, "the recommendation number")
		rc.Kind, _ = r.integer(t, "kind", row, "the kind")
		if ps := r.integers(t, "patterns", row, "patterns addressed"); len(ps) > 0 {
			rc.Patterns = ps
		}
		e.Recommendations = append(e.Recommendations, rc)
		r.cellAt(t.loc("number", row), p)
		for _, k := range []string{"number", "kind", "level", "text", "patterns"} {
			r.cellAt(t.loc(k, row), p+"/"+k)
		}
		for j := range rc.Patterns {
			r.cellAt(t.loc("patterns", row), p+"/patterns/"+strconv.Itoa(j))
		}
	}
}

// readReview reads the Review sheet's Field and Value columns.
func (r *reader) readReview(e *ingest.Export) {
	spec := &sheetSpec{name: SheetReview}
	t := r.findTable(spec, reviewColumns)
	if t == nil {
		r.problem(SheetReview+"!A1", "the workbook has no Review sheet", "a sheet named Review with the review's fields",
			"the sheets are "+strings.Join(r.f.GetSheetList(), ", ")+"; keep the template's sheet names")
		e.Format = schemas.ExportFormat
		e.Review.Questions, e.Review.Agencies = []string{}, []string{}
		return
	}
	sheetLoc := t.g.name + "!" + cellName(0, max(t.header, 1))
	r.cellAt(sheetLoc, "/review")
	values := map[string][]string{} // field key → values
	locs := map[string][]string{}   // field key → value cells
	labels := map[string]string{}   // field key → label cell of its first row
	var unknown []string
	reported := map[string]bool{} // unknown labels already reported
	fc, vc := t.cols["field"], t.cols["value"]
	for row := t.header + 1; t.header > 0 && row <= len(t.g.rows); row++ {
		label, value := t.g.at(fc, row), t.g.at(vc, row)
		if isBlank(label) {
			if !isBlank(value) {
				r.problem(t.g.name+"!"+cellName(vc, row), "a value in a row without a label in the Field column", "a label such as Question or Agency",
					"a row added for another question or agency needs the label Question or Agency in its Field cell")
			}
			continue
		}
		var fd *reviewField
		for i := range reviewFields {
			if reviewFields[i].matches(label) {
				fd = &reviewFields[i]
				break
			}
		}
		if fd == nil {
			unknown = append(unknown, label)
			if !isBlank(value) {
				var labels []string
				for _, f := range reviewFields {
					labels = append(labels, f.header)
				}
				hint := "use one of the template's labels; put notes in the Guidance column or on a sheet of your own"
				if near := nearest(label, labels); near != "" {
					hint = fmt.Sprintf("did you mean %q?", near)
				}
				r.problem(t.g.name+"!"+cellName(fc, row), fmt.Sprintf("unknown field %q", label), "a field of the template", hint)
				reported[label] = true
			}
			continue
		}
		loc := t.g.name + "!" + cellName(vc, row)
		if _, ok := labels[fd.key]; !ok {
			labels[fd.key] = loc
		}
		if r.mergedDown(t.g, vc, row) {
			r.problem(loc, "the value cell is merged with the rows below", "one value per row", "unmerge the cells")
		}
		v := t.g.at(vc, row)
		if strings.TrimSpace(v) == "" {
			continue
		}
		if prev := locs[fd.key]; len(prev) > 0 && !fd.repeat {
			r.problem(loc, fmt.Sprintf("a second %q row with a value (the first is %s)", fd.header, prev[0]), "each field once", "delete one of the rows")
			continue
		}
		values[fd.key] = append(values[fd.key], v)
		locs[fd.key] = append(locs[fd.key], loc)
	}
	for _, fd := range reviewFields {
		if _, ok := labels[fd.key]; ok || !fd.required || t.header == 0 {
			continue
		}
		hint := "add a row with this label in the Field column"
		near := nearest(fd.header, unknown)
		if reported[near] {
			continue // the misspelt label's own problem says it all
		}
		if near != "" {
			hint = fmt.Sprintf("is the row labelled %q meant to be %q? Labels must match the template", near, fd.header)
		}
		r.problem(sheetLoc, fmt.Sprintf("no row labelled %q", fd.header), "a row labelled "+strconv.Quote(fd.header), hint)
	}
	one := func(key string) string {
		if v := values[key]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	loc := func(key string) string {
		if l := locs[key]; len(l) > 0 {
			return l[0]
		}
		if l, ok := labels[key]; ok {
			return l
		}
		return sheetLoc
	}
	codeOf := func(key string) string { return r.dec.code(one(key)) }
	intOf := func(key, what string) (int, bool) {
		s := strings.TrimSpace(one(key))
		if s == "" {
			return 0, false
		}
		n, ok := parseInt(s)
		if !ok && key == "month" {
			n, ok = monthNumber(s)
		}
		if !ok {
			r.problem(loc(key), fmt.Sprintf("%s %q is not a whole number", what, s), "a whole number", "")
		}
		return n, ok
	}

	e.Format = codeOf("format")
	if e.Format == "" {
		e.Format = schemas.ExportFormat
	}
	rv := &e.Review
	rv.ID, rv.Board, rv.Region, rv.Nation, rv.Kind = codeOf("id"), codeOf("board"), codeOf("region"), codeOf("nation"), codeOf("kind")
	rv.Questions = append([]string{}, values["question"]...)
	rv.Agencies = append([]string{}, values["agency"]...)
	rv.Completed.Year, _ = intOf("year", "the year")
	if m, ok := intOf("month", "the month"); ok {
		rv.Completed.Month = &m
	}
	rv.FamilyParticipation = codeOf("family_participation")
	if d := (ingest.DialogueStage{Preliminary: codeOf("dialogue_preliminary"), Interim: codeOf("dialogue_interim"), Final: codeOf("dialogue_final")}); d != (ingest.DialogueStage{}) {
		rv.DialogueStages = &d
	}
	rv.Frame = ingest.FrameRef{ID: codeOf("frame_id"), Version: codeOf("frame_version")}
	rv.Coding = ingest.Coding{CoderRole: one("coder_role"), Method: codeOf("method")}
	measure, value := codeOf("agreement_measure"), strings.TrimSpace(one("agreement_value"))
	if measure != "" || value != "" {
		a := &ingest.Agreement{Measure: measure}
		if value == "" {
			r.problem(loc("agreement_value"), "a second-coder agreement measure without its value", "a number", "give the value, or clear the measure")
		} else if v, err := strconv.ParseFloat(strings.TrimSuffix(value, "%"), 64); err != nil {
			r.problem(loc("agreement_value"), fmt.Sprintf("the agreement value %q is not a number", value), "a number", "")
		} else {
			a.Value = v
		}
		rv.Coding.SecondCoderAgreement = a
	}

	pointers := map[string]string{
		"/format": "format", "/review/id": "id", "/review/board": "board", "/review/region": "region", "/review/nation": "nation",
		"/review/kind": "kind", "/review/questions": "question", "/review/completed": "year", "/review/completed/year": "year",
		"/review/completed/month": "month", "/review/agencies": "agency", "/review/family_participation": "family_participation",
		"/review/dialogue_stages": "dialogue_preliminary", "/review/dialogue_stages/preliminary": "dialogue_preliminary",
		"/review/dialogue_stages/interim": "dialogue_interim", "/review/dialogue_stages/final": "dialogue_final",
		"/review/frame": "frame_id", "/review/frame/id": "frame_id", "/review/frame/version": "frame_version",
		"/review/coding": "coder_role", "/review/coding/coder_role": "coder_role", "/review/coding/method": "method",
		"/review/coding/second_coder_agreement": "agreement_measure", "/review/coding/second_coder_agreement/measure": "agreement_measure",
		"/review/coding/second_coder_agreement/value": "agreement_value",
	}
	for p, key := range pointers {
		r.cellAt(loc(key), p)
	}
	for _, key := range []string{"id", "question", "agency", "coder_role"} {
		for _, l := range locs[key] {
			r.wb.screened[l] = true
		}
	}
	for i, l := range locs["question"] {
		r.cellAt(l, "/review/questions/"+strconv.Itoa(i))
	}
	for i, l := range locs["agency"] {
		r.cellAt(l, "/review/agencies/"+strconv.Itoa(i))
	}
	r.cellAt(sheetLoc, "/review/participants")
	if g := r.sheet(SheetParticipants); g != nil {
		r.cellAt(g.name+"!A1", "/review/participants")
	}
}

// mergedDown reports whether a cell is the top of a merge over several rows.
func (r *reader) mergedDown(g *grid, c, row int) bool {
	for _, m := range g.merges {
		if m.c0 <= c && c <= m.c1 && m.r0 == row && m.r1 > row {
			return true
		}
	}
	return false
}

var months = []string{"january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"}

func monthNumber(s string) (int, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) < 3 {
		return 0, false
	}
	for i, m := range months {
		if strings.HasPrefix(m, s) {
			return i + 1, true
		}
	}
	return 0, false
}

// sortProblems puts problems in the workbook's order: by sheet, then row,
// then column.
func sortProblems(ps ingest.Problems, order map[string]int) {
	key := func(p ingest.Problem) (int, int, int) {
		sheet, cell, ok := strings.Cut(p.Location, "!")
		if !ok {
			return -1, 0, 0
		}
		s, known := order[sheet]
		if !known {
			s = len(order)
		}
		c, row, err := splitCell(cell)
		if err != nil {
			return s, 0, 0
		}
		return s, row, c
	}
	sort.SliceStable(ps, func(i, j int) bool {
		si, ri, ci := key(ps[i])
		sj, rj, cj := key(ps[j])
		if si != sj {
			return si < sj
		}
		if ri != rj {
			return ri < rj
		}
		return ci < cj
	})
}

// nearest returns the candidate closest to want, if any is close.
func nearest(want string, candidates []string) string {
	best, bestD := "", -1
	w := norm(want)
	for _, c := range candidates {
		d := levenshtein(w, norm(c))
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	if bestD < 0 || bestD > max(2, len(w)/3) {
		return ""
	}
	return best
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// isBlank reports a cell the reader treats as empty: a field not recorded.
func isBlank(s string) bool { return strings.TrimSpace(s) == "" }
