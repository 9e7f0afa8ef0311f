package xlsx

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"

	"github.com/collate-project/collate/ingest"
)

// These tests start from the template and edit it the way a person would in
// a spreadsheet: typing into cells, picking dropdown texts, inserting rows,
// merging cells, adding sheets and notes. Then they validate the workbook.

func mustTemplate(t testing.TB) *excelize.File {
	t.Helper()
	var buf bytes.Buffer
	if err := Template(&buf, nil, nil); err != nil {
		t.Fatalf("template: %v", err)
	}
	return mustOpen(t, buf.Bytes())
}

func mustOpen(t testing.TB, data []byte) *excelize.File {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("open workbook: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func mustBytes(t testing.TB, f *excelize.File) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatalf("save workbook: %v", err)
	}
	return buf.Bytes()
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// set types values into a row, starting at the given cell.
func set(t testing.TB, f *excelize.File, sheet, cell string, values ...any) {
	t.Helper()
	c, r, err := excelize.CellNameToCoordinates(cell)
	must(t, err)
	for i, v := range values {
		name, _ := excelize.CoordinatesToCellName(c+i, r)
		must(t, f.SetCellValue(sheet, name, v))
	}
}

// reviewRow finds the Review sheet row labelled label whose value is still
// blank, as a person filling the sheet top to bottom would.
func reviewRow(t testing.TB, f *excelize.File, label string) int {
	t.Helper()
	rows, err := f.GetRows(SheetReview)
	must(t, err)
	for i, r := range rows {
		if len(r) > 0 && r[0] == label && (len(r) < 2 || r[1] == "") {
			return i + 1
		}
	}
	t.Fatalf("no blank Review row labelled %q", label)
	return 0
}

func setReview(t testing.TB, f *excelize.File, label string, v any) {
	t.Helper()
	must(t, f.SetCellValue(SheetReview, "B"+itoa(reviewRow(t, f, label)), v))
}

func itoa(n int) string { return strconv.Itoa(n) }

// fill fills the template with a small review: dropdown texts where a person
// would pick from a list, typed values elsewhere. Example rows stay in place.
func fill(t testing.TB, f *excelize.File) {
	t.Helper()
	setReview(t, f, "Review ID", "DUR-CSPR-2024-01")
	setReview(t, f, "Board", "ENG-NE-DUR County Durham")
	setReview(t, f, "Region", "ENG-NE North East")
	setReview(t, f, "Nation", "ENG England")
	setReview(t, f, "Kind of review", "Statutory")
	setReview(t, f, "Question", "Why was the risk from the new partner not seen?")
	setReview(t, f, "Question", "How well did agencies share information?")
	setReview(t, f, "Year completed", 2024)
	setReview(t, f, "Month completed", "March")
	setReview(t, f, "Agency", "Children's social care")
	setReview(t, f, "Agency", "Police")
	setReview(t, f, "Agency", "Health visiting")
	setReview(t, f, "Family members took part", "yes")
	setReview(t, f, "Coder role", "Lead reviewer")
	setReview(t, f, "Coding method", "human")

	set(t, f, SheetParticipants, "B5", "Social worker", "Children's social care")
	set(t, f, SheetEpisodes, "B4", 1, "Referral screened out", "The referral was screened out as not meeting the threshold.", "", "Problematic", "Children's social care\nPolice")
	set(t, f, SheetEpisodes, "B5", 2, "Health visitor escalates", "The health visitor escalated through supervision.", "Led to a strategy discussion.", "good", "Health visiting")
	set(t, f, SheetEvidence, "B5", 1, "document", "Referral record")
	set(t, f, SheetFactors, "B5", 1, "FL.WORK.03 Workload", "Duty worker had fourteen contacts that morning.", "made_problematic_more_likely")
	set(t, f, SheetFactors, "B6", 1, "LS.ORG.04", "", "made_problematic_more_likely")
	set(t, f, SheetFactors, "B7", 2, "FL.TEAM.02 Supervision", "Monthly supervision.", "supported_good")
	set(t, f, SheetPatterns, "B4", 1, "P2 Human–management system operation", "P2.1.1", "", "unsafe", 1, "local", "high", "", "1, 2")
	set(t, f, SheetRecommendations, "B4", 1, 1, "local", "Review the threshold guidance for referrals about new partners.", "1")
}

// filled is the export fill describes.
func filled() *ingest.Export {
	month, prio := 3, 1
	return &ingest.Export{
		Format: "collate.review/1",
		Review: ingest.Review{
			ID: "DUR-CSPR-2024-01", Board: "ENG-NE-DUR", Region: "ENG-NE", Nation: "ENG", Kind: "statutory",
			Questions: []string{"Why was the risk from the new partner not seen?", "How well did agencies share information?"},
			Completed: ingest.Completed{Year: 2024, Month: &month},
			Agencies:  []string{"Children's social care", "Police", "Health visiting"},
			Participants: []ingest.Participant{
				{Role: "Social worker", Agency: "Children's social care"},
			},
			FamilyParticipation: "yes",
			Frame:               ingest.FrameRef{ID: "scie-lt", Version: "2008.1"},
			Coding:              ingest.Coding{CoderRole: "Lead reviewer", Method: "human"},
		},
		Episodes: []ingest.Episode{
			{Number: 1, Title: "Referral screened out", Description: "The referral was screened out as not meeting the threshold.",
				Adequacy: "problematic", Agencies: []string{"Children's social care", "Police"},
				Evidence: []ingest.Evidence{{Kind: "document", Note: "Referral record"}},
				Factors: []ingest.ContributoryFactor{
					{Code: "FL.WORK.03", Detail: "Duty worker had fourteen contacts that morning.", Influence: "made_problematic_more_likely"},
					{Code: "LS.ORG.04", Influence: "made_problematic_more_likely"},
				}},
			{Number: 2, Title: "Health visitor escalates", Description: "The health visitor escalated through supervision.",
				Significance: "Led to a strategy discussion.", Adequacy: "good", Agencies: []string{"Health visiting"},
				Factors: []ingest.ContributoryFactor{{Code: "FL.TEAM.02", Detail: "Monthly supervision.", Influence: "supported_good"}}},
		},
		Patterns: []ingest.Pattern{{Number: 1, Type: "P2", SubPattern: "P2.1.1", Nature: "unsafe", Priority: &prio, Widespread: "local",
			Relevance: "high", Episodes: []int{1, 2}}},
		Recommendations: []ingest.Recommendation{{Number: 1, Kind: 1, Level: "local",
			Text: "Review the threshold guidance for referrals about new partners.", Patterns: []int{1}}},
	}
}

func TestFilledTemplateValidates(t *testing.T) {
	v := mustValidator(t)
	f := mustTemplate(t)
	fill(t, f)
	e, err := Validate(v, "review.xlsx", mustBytes(t, f))
	if err != nil {
		t.Fatalf("filled template refused: %v", err)
	}
	if diff := cmp.Diff(filled(), e); diff != "" {
		t.Fatalf("export differs from what was typed (-want +got):\n%s", diff)
	}
}

// TestEmptyTemplateReadsEmpty: the template's example rows are skipped, so
// an untouched template converts to an export with nothing in it, and the
// reader says that its only episode is an example.
func TestEmptyTemplateReadsEmpty(t *testing.T) {
	data := mustBytes(t, mustTemplate(t))
	wb, err := ReadWorkbook("template.xlsx", data)
	var ps ingest.Problems
	if !errors.As(err, &ps) || len(ps) != 1 || ps[0].Location != "Episodes!A3" || !strings.Contains(ps[0].Message, "marked EXAMPLE") {
		t.Fatalf("untouched template: got %v, want one problem saying the only episode is an example", err)
	}
	e := wb.Export
	if len(e.Episodes) != 0 || len(e.Patterns) != 0 || len(e.Recommendations) != 0 || len(e.Review.Participants) != 0 {
		t.Fatalf("example rows were imported: %+v", e)
	}
	if e.Format != "collate.review/1" || e.Review.Frame.ID != "scie-lt" || e.Review.Frame.Version != "2008.1" {
		t.Fatalf("template's fixed fields: format %q frame %+v", e.Format, e.Review.Frame)
	}
}

type want struct {
	loc  string // Sheet!Cell
	text string // in the message, expected value or hint
}

func TestEditedWorkbooks(t *testing.T) {
	v := mustValidator(t)
	cases := []struct {
		name  string
		edit  func(t *testing.T, f *excelize.File)
		want  []want                               // problems expected, in order; none means valid
		check func(t *testing.T, e *ingest.Export) // for valid workbooks
	}{
		{
			name: "added rows",
			edit: func(t *testing.T, f *excelize.File) {
				// A third question: insert a row under the questions and label it.
				row := reviewRow(t, f, "Question")
				must(t, f.InsertRows(SheetReview, row+1, 1))
				set(t, f, SheetReview, "A"+itoa(row+1), "Question", "What helped the health visitor escalate?")
				// A factor far below the others, after blank rows.
				set(t, f, SheetFactors, "B40", 2, "FL.STAFF.01", "Experienced practitioner.", "supported_good")
			},
			check: func(t *testing.T, e *ingest.Export) {
				if n := len(e.Review.Questions); n != 3 {
					t.Errorf("questions: got %d, want 3", n)
				}
				if fs := e.Episodes[1].Factors; len(fs) != 2 || fs[1].Code != "FL.STAFF.01" {
					t.Errorf("episode 2 factors: %+v", fs)
				}
			},
		},
		{
			name: "example rows overwritten and unmarked",
			edit: func(t *testing.T, f *excelize.File) {
				set(t, f, SheetRecommendations, "A3", "", 2, 3, "national", "Research into thresholds for new partners.", "")
			},
			check: func(t *testing.T, e *ingest.Export) {
				if len(e.Recommendations) != 2 || e.Recommendations[0].Kind != 3 {
					t.Errorf("recommendations: %+v", e.Recommendations)
				}
			},
		},
		{
			name: "blank required cell",
			edit: func(t *testing.T, f *excelize.File) { set(t, f, SheetEpisodes, "C5", "") },
			want: []want{{loc: "Episodes!C5"}},
		},
		{
			name: "wrong factor code",
			edit: func(t *testing.T, f *excelize.File) { set(t, f, SheetFactors, "C6", "FL.WORK.3") },
			want: []want{{loc: "Factors!C6", text: "FL.WORK.03"}},
		},
		{
			name: "wrong board",
			edit: func(t *testing.T, f *excelize.File) {
				rows, _ := f.GetRows(SheetReview)
				for i, r := range rows {
					if r[0] == "Board" {
						set(t, f, SheetReview, "B"+itoa(i+1), "ENG-NE-DUX")
					}
				}
			},
			want: []want{{loc: "Review!B5", text: "ENG-NE-DUR"}},
		},
		{
			name: "episode number merged down factor rows",
			edit: func(t *testing.T, f *excelize.File) {
				set(t, f, SheetFactors, "B6", "")
				must(t, f.MergeCell(SheetFactors, "B5", "B6"))
			},
			check: func(t *testing.T, e *ingest.Export) {
				if n := len(e.Episodes[0].Factors); n != 2 {
					t.Errorf("episode 1 factors: got %d, want 2", n)
				}
			},
		},
		{
			name: "cells merged across columns",
			edit: func(t *testing.T, f *excelize.File) { must(t, f.MergeCell(SheetEpisodes, "D4", "E4")) },
			want: []want{{loc: "Episodes!D4", text: "merged"}},
		},
		{
			name: "extra sheet and extra column",
			edit: func(t *testing.T, f *excelize.File) {
				_, err := f.NewSheet("Our notes")
				must(t, err)
				set(t, f, "Our notes", "A1", "Chronology checked against the case file in the panel meeting.")
				set(t, f, SheetFactors, "F2", "Reviewer's note")
				set(t, f, SheetFactors, "F5", "Discussed with the team manager.")
			},
			check: func(t *testing.T, e *ingest.Export) {
				if diff := cmp.Diff(filled(), e); diff != "" {
					t.Errorf("extra sheet or column changed the export:\n%s", diff)
				}
			},
		},
		{
			name: "formula cell",
			edit: func(t *testing.T, f *excelize.File) {
				must(t, f.SetCellFormula(SheetEpisodes, "C5", `"Health visitor "&"escalates"`))
			},
			want: []want{{loc: "Episodes!C5", text: "formula"}},
		},
		{
			name: "formula on an extra sheet",
			edit: func(t *testing.T, f *excelize.File) {
				_, err := f.NewSheet("Sums")
				must(t, err)
				must(t, f.SetCellFormula("Sums", "B2", "COUNTA(Factors!C:C)"))
			},
			want: []want{{loc: "Sums!B2", text: "formula"}},
		},
		{
			name: "factor for a missing episode",
			edit: func(t *testing.T, f *excelize.File) { set(t, f, SheetFactors, "B7", 7) },
			want: []want{{loc: "Factors!B7", text: "episodes: 1, 2"}},
		},
		{
			name: "episode number not a number",
			edit: func(t *testing.T, f *excelize.File) { set(t, f, SheetEpisodes, "B5", "two") },
			want: []want{{loc: "Episodes!B5", text: "whole number"}, {loc: "Factors!B7", text: "no episode 2"}},
		},
		{
			name: "something typed in the example column",
			edit: func(t *testing.T, f *excelize.File) { set(t, f, SheetEpisodes, "A5", "x") },
			want: []want{{loc: "Episodes!A5", text: "EXAMPLE"}},
		},
		{
			name: "misspelt header",
			edit: func(t *testing.T, f *excelize.File) { set(t, f, SheetFactors, "E2", "Influnce on practice") },
			want: []want{{loc: "Factors!A2", text: "Influnce on practice"}},
		},
		{
			name: "duplicate episode numbers",
			edit: func(t *testing.T, f *excelize.File) {
				set(t, f, SheetEpisodes, "B6", 2, "Again", "A second episode 2.", "", "mixed")
			},
			want: []want{{loc: "Episodes!B6"}},
		},
		{
			name: "columns reordered, no title row, no example column",
			edit: func(t *testing.T, f *excelize.File) {
				must(t, f.DeleteSheet(SheetFactors))
				_, err := f.NewSheet(SheetFactors)
				must(t, err)
				set(t, f, SheetFactors, "A1", "Influence", "Detail", "Factor", "Episode")
				set(t, f, SheetFactors, "A2", "made_problematic_more_likely", "Duty worker had fourteen contacts that morning.", "FL.WORK.03", 1)
				set(t, f, SheetFactors, "A3", "made_problematic_more_likely", "", "LS.ORG.04 Thresholds", "1")
				set(t, f, SheetFactors, "A4", "Supported good", "Monthly supervision.", "FL.TEAM.02", 2)
			},
			check: func(t *testing.T, e *ingest.Export) {
				if diff := cmp.Diff(filled(), e); diff != "" {
					t.Errorf("reordered columns read wrongly:\n%s", diff)
				}
			},
		},
		{
			name: "email address in a description",
			edit: func(t *testing.T, f *excelize.File) {
				set(t, f, SheetEpisodes, "D5", "The health visitor wrote to duty.team@example.org.uk to escalate.")
			},
			want: []want{{loc: "Episodes!D5", text: "email address"}},
		},
		{
			name: "phone number in an extra column",
			edit: func(t *testing.T, f *excelize.File) {
				set(t, f, SheetFactors, "F2", "Contact")
				set(t, f, SheetFactors, "F6", "Call 07700 900123 for the file")
			},
			want: []want{{loc: "Factors!F6", text: "phone number"}},
		},
		{
			name: "email address on an extra sheet",
			edit: func(t *testing.T, f *excelize.File) {
				_, err := f.NewSheet("Notes")
				must(t, err)
				set(t, f, "Notes", "B2", "Send queries to reviewer@example.com")
			},
			want: []want{{loc: "Notes!B2", text: "email address"}},
		},
		{
			name: "name in a cell's note",
			edit: func(t *testing.T, f *excelize.File) {
				must(t, f.AddComment(SheetEpisodes, excelize.Comment{Cell: "C4", Author: "Reviewer", Text: "Checked with Mrs Jennings at the school."}))
			},
			want: []want{{loc: "Episodes!C4", text: "note"}},
		},
		{
			name: "name as a sheet name",
			edit: func(t *testing.T, f *excelize.File) {
				_, err := f.NewSheet("Dr Okonkwo notes")
				must(t, err)
			},
			want: []want{{loc: "Dr Okonkwo notes!A1", text: "sheet's name"}},
		},
		{
			name: "postcode in an example row that is skipped",
			edit: func(t *testing.T, f *excelize.File) {
				set(t, f, SheetEpisodes, "D3", "The family moved to NE1 4ST in May.")
			},
			want: []want{{loc: "Episodes!D3", text: "postcode"}},
		},
		{
			name: "identifier and a formula: both reported",
			edit: func(t *testing.T, f *excelize.File) {
				must(t, f.SetCellFormula(SheetEpisodes, "C5", `"x"`))
				set(t, f, SheetEpisodes, "D4", "Mother's NI number AB 12 34 56 C was on the form.")
			},
			want: []want{{loc: "Episodes!D4", text: "National Insurance"}, {loc: "Episodes!C5", text: "formula"}},
		},
		{
			name: "question typed in a row without a label",
			edit: func(t *testing.T, f *excelize.File) {
				row := reviewRow(t, f, "Question")
				must(t, f.InsertRows(SheetReview, row, 1))
				set(t, f, SheetReview, "B"+itoa(row), "What did the family say helped?")
			},
			want: []want{{loc: "Review!B11", text: "label"}},
		},
		{
			name: "misspelt label with a value",
			edit: func(t *testing.T, f *excelize.File) {
				row := reviewRow(t, f, "Question")
				set(t, f, SheetReview, "A"+itoa(row), "Questoin", "What did the family say helped?")
			},
			want: []want{{loc: "Review!A11", text: `did you mean "Question"`}},
		},
		{
			name: "own rows copied from the example keep its mark",
			edit: func(t *testing.T, f *excelize.File) {
				set(t, f, SheetEpisodes, "A4", "EXAMPLE")
				set(t, f, SheetEpisodes, "A5", "Example")
			},
			want: []want{{loc: "Episodes!A3", text: "marked EXAMPLE (3)"}},
		},
		{
			name: "Lists sheet deleted",
			edit: func(t *testing.T, f *excelize.File) { must(t, f.DeleteSheet(SheetLists)) },
			check: func(t *testing.T, e *ingest.Export) {
				if diff := cmp.Diff(filled(), e); diff != "" {
					t.Errorf("dropdown texts not read without the Lists sheet:\n%s", diff)
				}
			},
		},
		{
			name: "episodes sheet renamed",
			edit: func(t *testing.T, f *excelize.File) { must(t, f.SetSheetName(SheetEpisodes, "KPEs")) },
			want: []want{{loc: "Episodes!A1", text: "no Episodes sheet"}},
		},
		{
			name: "review label misspelt",
			edit: func(t *testing.T, f *excelize.File) { set(t, f, SheetReview, "A4", "Reveiw ID") },
			want: []want{{loc: "Review!A4", text: `did you mean "Review ID"`}},
		},
		{
			name: "review row deleted",
			edit: func(t *testing.T, f *excelize.File) { must(t, f.RemoveRow(SheetReview, 4)) },
			want: []want{{loc: "Review!A2", text: `no row labelled "Review ID"`}},
		},
		{
			name: "agreement measure without value",
			edit: func(t *testing.T, f *excelize.File) {
				setReview(t, f, "Second-coder agreement measure", "cohens_kappa")
			},
			want: []want{{loc: "Review!B29", text: "value"}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := mustTemplate(t)
			fill(t, f)
			tc.edit(t, f)
			e, err := Validate(v, "review.xlsx", mustBytes(t, f))
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				tc.check(t, e)
				return
			}
			var ps ingest.Problems
			if !errors.As(err, &ps) {
				t.Fatalf("got %v, want problems %+v", err, tc.want)
			}
			t.Logf("problems:\n%s", listProblems(ps))
			assertProblems(t, ps, tc.want)
		})
	}
}

func assertProblems(t *testing.T, ps ingest.Problems, ws []want) {
	t.Helper()
	if len(ps) != len(ws) {
		t.Fatalf("got %d problems, want %d:\n%s", len(ps), len(ws), listProblems(ps))
	}
	for i, w := range ws {
		p := ps[i]
		if p.File != "review.xlsx" || p.Location != w.loc || !strings.Contains(p.Message+" | "+p.Expected+" | "+p.Hint, w.text) {
			t.Errorf("problem %d: got %s\nwant location %s mentioning %q", i, p, w.loc, w.text)
		}
	}
}

func listProblems(ps ingest.Problems) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString("  " + p.String() + "\n")
	}
	return b.String()
}

func TestNotAWorkbook(t *testing.T) {
	for name, data := range map[string][]byte{
		"empty":     nil,
		"text":      []byte("Episode,Title\n1,Referral\n"),
		"truncated": mustBytes(t, mustTemplate(t))[:2000],
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Validate(mustValidator(t), "review.xlsx", data)
			var ps ingest.Problems
			if !errors.As(err, &ps) || len(ps) != 1 || !strings.Contains(ps[0].Message, "not a readable Excel workbook") || ps[0].File != "review.xlsx" {
				t.Fatalf("got %v", err)
			}
		})
	}
}
