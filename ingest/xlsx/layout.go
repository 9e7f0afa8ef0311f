package xlsx

import (
	"strings"
	"unicode"
)

// The workbook layout, shared by the template, the writer and the reader.
// Table sheets have a title (or, on Episodes, the band of Appendix 4) in row
// 1, headers in row 2 and data from row 3. The reader finds columns by their
// header text, not their position, so columns may be moved and other columns
// added.

// Sheet names.
const (
	SheetInstructions    = "Instructions"
	SheetReview          = "Review"
	SheetParticipants    = "Participants"
	SheetEpisodes        = "Episodes"
	SheetEvidence        = "Evidence"
	SheetFactors         = "Factors"
	SheetPatterns        = "Patterns"
	SheetRecommendations = "Recommendations"
	SheetLists           = "Lists"
)

const (
	headerRow   = 2 // where the template writes headers
	firstRow    = 3 // first data row in the template
	headerScan  = 10
	exampleMark = "EXAMPLE"
)

// valueKind says how a cell is read and written.
type valueKind int

const (
	kindText    valueKind = iota // free text, kept exactly
	kindCode                     // a code or enum value, trimmed; "CODE label" from a dropdown is read as CODE
	kindInt                      // a whole number
	kindFloat                    // a number
	kindIntList                  // numbers separated by commas
	kindLines                    // several short texts, one per line
	kindExample                  // the column marking example rows
)

// column is one column of a table sheet, or one row of the Review sheet.
type column struct {
	key      string
	header   string
	aliases  []string
	kind     valueKind
	list     string // name of a code list on the Lists sheet
	required bool   // the reader refuses a sheet without this column
	info     bool   // shown for guidance, never imported
	width    float64
	help     string
}

// sheetSpec is a table sheet.
type sheetSpec struct {
	name    string
	title   string
	columns []column
	anchor  string // key of the column a whole row's problems point at
}

func exampleColumn() column {
	return column{key: "example", header: "Example row", aliases: []string{"example"}, kind: kindExample, width: 14,
		help: "EXAMPLE marks a row the importer skips. Leave blank on your own rows."}
}

var participantsSheet = sheetSpec{
	name:   SheetParticipants,
	title:  "Participants in the review, by role and agency only: never a name.",
	anchor: "role",
	columns: []column{
		exampleColumn(),
		{key: "role", header: "Role", required: true, width: 36, help: "A role, such as Social worker or Health visitor. Never a name."},
		{key: "agency", header: "Agency", required: true, width: 36, help: "The agency the participant works for."},
	},
}

var episodesSheet = sheetSpec{
	name:   SheetEpisodes,
	title:  "Table of key practice episodes (Appendix 4)",
	anchor: "number",
	columns: []column{
		exampleColumn(),
		{key: "number", header: "Episode", aliases: []string{"episode number", "number", "no"}, kind: kindInt, required: true, width: 9,
			help: "The episode's number, 1, 2, 3 in the order of the case."},
		{key: "title", header: "Title", required: true, width: 30, help: "A short title for the episode."},
		{key: "description", header: "Description of key practice episode", aliases: []string{"description"}, required: true, width: 60,
			help: "What happened, kept close to participants' accounts. Roles, not names; pseudonyms for the family."},
		{key: "significance", header: "Significance with hindsight", aliases: []string{"significance"}, width: 50,
			help: "How the episode influenced, or might have influenced, what happened next."},
		{key: "adequacy", header: "Reviewers' judgement of adequacy of practice", aliases: []string{"adequacy", "judgement", "judgement of adequacy"},
			kind: kindCode, list: "adequacy", required: true, width: 22, help: "good, problematic, mixed or not_judged."},
		{key: "agencies", header: "Agencies involved (one per line)", aliases: []string{"agencies", "agencies involved"}, kind: kindLines, width: 30,
			help: "One agency per line (Alt+Enter starts a new line in a cell)."},
	},
}

var evidenceSheet = sheetSpec{
	name:   SheetEvidence,
	title:  "Evidence each episode draws on: one row per source.",
	anchor: "kind",
	columns: []column{
		exampleColumn(),
		{key: "episode", header: "Episode", aliases: []string{"episode number"}, kind: kindInt, required: true, width: 9, help: "The number of an episode on the Episodes sheet."},
		{key: "kind", header: "Evidence source", aliases: []string{"source", "kind", "evidence"}, kind: kindCode, list: "evidence", required: true, width: 18,
			help: "document, conversation or group_meeting."},
		{key: "note", header: "Note", width: 50, help: "Which document or conversation, by type and role: never a name."},
	},
}

var factorsSheet = sheetSpec{
	name:   SheetFactors,
	title:  "Contributory factors: why did actions and decisions make sense at the time? One row per factor.",
	anchor: "code",
	columns: []column{
		exampleColumn(),
		{key: "episode", header: "Episode", aliases: []string{"episode number"}, kind: kindInt, required: true, width: 9, help: "The number of an episode on the Episodes sheet."},
		{key: "code", header: "Contributory factor", aliases: []string{"factor", "factor code", "code"}, kind: kindCode, list: "factors", required: true, width: 48,
			help: "Pick from the list, or type the code alone (for example FL.WORK.03)."},
		{key: "detail", header: "Detail", width: 60, help: "A short account of how the factor played out in this episode."},
		{key: "influence", header: "Influence on practice", aliases: []string{"influence"}, kind: kindCode, list: "influence", required: true, width: 30,
			help: "supported_good or made_problematic_more_likely."},
	},
}

var patternsSheet = sheetSpec{
	name:   SheetPatterns,
	title:  "Underlying patterns (typology of Appendix 6): one row per pattern.",
	anchor: "number",
	columns: []column{
		exampleColumn(),
		{key: "number", header: "Pattern", aliases: []string{"pattern number", "number", "no"}, kind: kindInt, required: true, width: 9, help: "The pattern's number, 1, 2, 3."},
		{key: "type", header: "Pattern type", aliases: []string{"type"}, kind: kindCode, list: "pattern_types", required: true, width: 40, help: "One of the pattern types."},
		{key: "sub_pattern", header: "Sub-pattern", aliases: []string{"subpattern"}, kind: kindCode, list: "sub_patterns", width: 44,
			help: "A listed sub-pattern under the type, where one fits. Leave blank when you propose a new one."},
		{key: "proposed_sub_pattern", header: "Proposed new sub-pattern (in words)", aliases: []string{"proposed sub-pattern", "proposed subpattern", "proposed new sub-pattern"}, width: 40,
			help: "Only when no listed sub-pattern fits."},
		{key: "nature", header: "Nature", kind: kindCode, list: "nature", required: true, width: 14, help: "constructive or unsafe."},
		{key: "priority", header: "Priority", aliases: []string{"priority rank"}, kind: kindInt, width: 9, help: "1 is the highest priority."},
		{key: "widespread", header: "How widespread", aliases: []string{"widespread"}, kind: kindCode, list: "widespread", width: 16,
			help: "this_case, local, regional, national or not_recorded."},
		{key: "relevance", header: "Contemporary relevance", aliases: []string{"relevance"}, kind: kindCode, list: "relevance", width: 16,
			help: "high, medium, low or not_recorded."},
		{key: "summary", header: "Summary", width: 60, help: "The pattern in a few sentences."},
		{key: "episodes", header: "Episodes drawn on", aliases: []string{"episodes"}, kind: kindIntList, required: true, width: 18,
			help: "Episode numbers separated by commas, for example 1, 3."},
	},
}

var recommendationsSheet = sheetSpec{
	name:   SheetRecommendations,
	title:  "Recommendations: one row per recommendation.",
	anchor: "number",
	columns: []column{
		exampleColumn(),
		{key: "number", header: "Recommendation", aliases: []string{"recommendation number", "number", "no"}, kind: kindInt, required: true, width: 16, help: "The recommendation's number."},
		{key: "kind", header: "Kind", kind: kindInt, list: "recommendation_kind", required: true, width: 8,
			help: "1: clear-cut, addressable locally; 2: needs judgement because of competing priorities; 3: needs research and development, often national."},
		{key: "level", header: "Level addressed", aliases: []string{"level"}, kind: kindCode, list: "level", required: true, width: 16, help: "local, regional or national."},
		{key: "text", header: "Text", aliases: []string{"recommendation text"}, required: true, width: 70, help: "The recommendation as written in the report."},
		{key: "patterns", header: "Patterns addressed", aliases: []string{"patterns"}, kind: kindIntList, width: 18, help: "Pattern numbers separated by commas, for example 2, 4."},
	},
}

// tableSheets are read in this order; episodes first, since evidence and
// factors attach to them.
var tableSheets = []*sheetSpec{&participantsSheet, &episodesSheet, &evidenceSheet, &factorsSheet, &patternsSheet, &recommendationsSheet}

// The Review sheet is a list of fields: a label in the Field column and a
// value in the Value column. Question and Agency rows repeat.
const (
	reviewFieldHeader = "Field"
	reviewValueHeader = "Value"
	reviewHelpHeader  = "Guidance"
	reviewExHeader    = "Example (not imported)"
)

type reviewField struct {
	column
	repeat  bool
	example string
}

var reviewFields = []reviewField{
	{column: column{key: "format", header: "Format", kind: kindCode, help: "Leave as it is: the version of the export format."}, example: "collate.review/1"},
	{column: column{key: "id", header: "Review ID", kind: kindCode, required: true, help: "An opaque ID your board chooses. Never a case number or a person's identifier."}, example: "NCL-CSPR-2023-04"},
	{column: column{key: "board", header: "Board", kind: kindCode, list: "boards", required: true, help: "The safeguarding board or partnership."}, example: "ENG-NE-NCL Newcastle upon Tyne"},
	{column: column{key: "region", header: "Region", kind: kindCode, list: "regions", required: true, help: "The board's region."}, example: "ENG-NE North East"},
	{column: column{key: "nation", header: "Nation", kind: kindCode, list: "nations", required: true, help: "The region's nation."}, example: "ENG England"},
	{column: column{key: "kind", header: "Kind of review", aliases: []string{"kind"}, kind: kindCode, list: "kinds", required: true,
		help: "statutory: serious case or practice review; routine: routine practice; innovation: new practice; positive: practice families and professionals were positive about."}, example: "statutory"},
	{column: column{key: "question", header: "Question", kind: kindText, help: "A question that started the review. One row each: insert more Question rows as needed."}, repeat: true,
		example: "How did agencies share what they knew about the family once concerns were raised?"},
	{column: column{key: "year", header: "Year completed", aliases: []string{"year"}, kind: kindInt, required: true, help: "The year the review was completed."}, example: "2023"},
	{column: column{key: "month", header: "Month completed", aliases: []string{"month"}, kind: kindInt, help: "1 to 12; leave blank if not recorded."}, example: "9"},
	{column: column{key: "agency", header: "Agency", kind: kindText, help: "An agency involved. One row each: insert more Agency rows as needed."}, repeat: true, example: "Health visiting"},
	{column: column{key: "family_participation", header: "Family members took part", aliases: []string{"family participation"}, kind: kindCode, list: "tristate",
		help: "yes, no or not_recorded; blank means the field was left out."}, example: "yes"},
	{column: column{key: "dialogue_preliminary", header: "Dialogue: preliminary report stage held", kind: kindCode, list: "tristate", help: "yes, no or not_recorded."}, example: "yes"},
	{column: column{key: "dialogue_interim", header: "Dialogue: interim report stage held", kind: kindCode, list: "tristate", help: "yes, no or not_recorded."}, example: "yes"},
	{column: column{key: "dialogue_final", header: "Dialogue: final report stage held", kind: kindCode, list: "tristate", help: "yes, no or not_recorded."}, example: "not_recorded"},
	{column: column{key: "frame_id", header: "Coding frame", kind: kindCode, list: "frame_ids", required: true, help: "Leave as it is: the coding frame this workbook was made for."}, example: "scie-lt"},
	{column: column{key: "frame_version", header: "Coding frame version", kind: kindCode, list: "frame_versions", required: true, help: "Leave as it is."}, example: "2008.1"},
	{column: column{key: "coder_role", header: "Coder role", kind: kindText, required: true, help: "The role of whoever coded the review. Never a name."}, example: "Lead reviewer"},
	{column: column{key: "method", header: "Coding method", kind: kindCode, list: "methods", required: true, help: "human or machine_assisted."}, example: "human"},
	{column: column{key: "agreement_measure", header: "Second-coder agreement measure", kind: kindCode, list: "measures", help: "percent_agreement or cohens_kappa; blank if there was no second coder."}, example: "cohens_kappa"},
	{column: column{key: "agreement_value", header: "Second-coder agreement value", kind: kindFloat, help: "A percentage (0 to 100) or a kappa (-1 to 1)."}, example: "0.74"},
}

// reviewColumns is the header row of the Review sheet.
var reviewColumns = []column{
	{key: "field", header: reviewFieldHeader, required: true, width: 40},
	{key: "value", header: reviewValueHeader, required: true, width: 60},
	{key: "help", header: reviewHelpHeader, info: true, width: 70},
	{key: "example", header: reviewExHeader, aliases: []string{"example"}, info: true, width: 40},
}

// norm reduces a header or label to letters and digits, without any text in
// brackets, so "Agencies involved (one per line)" matches "agencies involved".
func norm(s string) string {
	var b strings.Builder
	depth := 0
	for _, r := range strings.ToLower(s) {
		switch {
		case r == '(':
			depth++
		case r == ')':
			if depth > 0 {
				depth--
			}
		case depth > 0:
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// matches reports whether a header text names the column.
func (c column) matches(text string) bool {
	n := norm(text)
	if n == "" {
		return false
	}
	if n == norm(c.header) {
		return true
	}
	for _, a := range c.aliases {
		if n == norm(a) {
			return true
		}
	}
	return false
}
