package xlsx

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/schemas"
)

func mustValidator(t testing.TB) *ingest.Validator {
	t.Helper()
	v, err := ingest.NewValidator(ingest.ValidatorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mustCanonical(t testing.TB, e *ingest.Export) []byte {
	t.Helper()
	b, _, err := ingest.Canonical(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustWrite(t testing.TB, e *ingest.Export) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, e, nil, nil); err != nil {
		t.Fatalf("write: %v", err)
	}
	return buf.Bytes()
}

// roundTrip writes e as a workbook, reads it back and fails unless the
// canonical JSON is byte for byte the same.
func roundTrip(t *testing.T, name string, e *ingest.Export) {
	t.Helper()
	data := mustWrite(t, e)
	wb, err := ReadWorkbook(name, data)
	if err != nil {
		t.Fatalf("%s: read back: %v", name, err)
	}
	want, got := mustCanonical(t, e), mustCanonical(t, wb.Export)
	if !bytes.Equal(want, got) {
		var w, g any
		json.Unmarshal(want, &w)
		json.Unmarshal(got, &g)
		t.Fatalf("%s: round trip changed the export (-json +xlsx):\n%s", name, cmp.Diff(w, g))
	}
}

func TestRoundTripExamples(t *testing.T) {
	v := mustValidator(t)
	for name, data := range schemas.Examples() {
		t.Run(name, func(t *testing.T) {
			e, err := v.Validate(name, data)
			if err != nil {
				t.Fatalf("example does not validate: %v", err)
			}
			roundTrip(t, name, e)
			// The workbook also passes the same checks as the JSON.
			if _, err := Validate(v, name+".xlsx", mustWrite(t, e)); err != nil {
				t.Fatalf("workbook of a valid export refused: %v", err)
			}
		})
	}
}

// TestRoundTripAwkwardText covers values a spreadsheet could change: text
// that looks like a formula or a number, spaces at the ends, line breaks,
// non-ASCII, and fields left out.
func TestRoundTripAwkwardText(t *testing.T) {
	e := exampleExport(t)
	month := 1
	prio := 12
	e.Review.Completed.Month = &month
	e.Review.Questions = append(e.Review.Questions, "=HYPERLINK(\"http://127.0.0.1/\",\"click\")", "  leading and trailing spaces  ", "+44 is not a number here", "-", "@mention")
	e.Review.Agencies = append(e.Review.Agencies, "Children's social care, out of hours", "0123", "Ysgol — gofal cymdeithasol")
	e.Review.FamilyParticipation = ""
	e.Review.DialogueStages = &ingest.DialogueStage{Interim: ingest.No}
	e.Review.Coding.SecondCoderAgreement = &ingest.Agreement{Measure: "percent_agreement", Value: 87.25}
	e.Review.Participants = nil
	ep := &e.Episodes[0]
	ep.Description = "Line one.\nLine two, with a tab\there.\n\nA blank line above; ünïcödé; 1/3 ≈ 0.333…"
	ep.Significance = ""
	ep.Agencies = nil
	ep.Evidence = nil
	ep.Title = "007"
	e.Episodes[1].Factors = []ingest.ContributoryFactor{}
	e.Episodes[1].Number = 20
	e.Patterns[0].Priority = &prio
	e.Patterns[1].Priority = nil
	e.Patterns[1].Widespread = ""
	e.Patterns[0].Episodes = []int{1, 20, 3}
	e.Recommendations[0].Patterns = nil
	e.Recommendations[1].Text = "-1 is a bad sign"
	roundTrip(t, "awkward", e)
}

func TestRoundTripMinimal(t *testing.T) {
	e := exampleExport(t)
	e.Patterns, e.Recommendations = nil, nil
	e.Review.Participants, e.Review.DialogueStages, e.Review.Coding.SecondCoderAgreement = nil, nil, nil
	e.Review.Completed.Month = nil
	e.Episodes = e.Episodes[:1]
	roundTrip(t, "minimal", e)
}

func exampleExport(t testing.TB) *ingest.Export {
	t.Helper()
	var e ingest.Export
	if err := json.Unmarshal(schemas.Examples()["statutory-review.json"], &e); err != nil {
		t.Fatal(err)
	}
	return &e
}

// TestRoundTripEscapes: characters XML cannot hold, and text that looks like
// the format's own escapes, come back as they were.
func TestRoundTripEscapes(t *testing.T) {
	for _, s := range []string{"a\r\nb", "a\rb", "bell\x07", "a\x01b", "_x0041_", "__x005F_x0041__", "_x0041\x01", "_x00_", "_X0041_", "a\u2028b", "\uFFFE", "tab\tend", " lead", "trail\n"} {
		e := exampleExport(t)
		e.Episodes[0].Description = s
		e.Review.Agencies[0] = s + "x"
		roundTrip(t, strconv.Quote(s), e)
	}
}
