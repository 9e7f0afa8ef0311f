package ingest

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/collate-project/collate/schemas"
)

// testNow fixes the clock for year checks: mid-June 2026.
var testNow = time.Date(2026, time.June, 15, 12, 0, 0, 0, time.UTC)

// mustValidator builds a validator with the clock fixed and only the default
// frame plus a small frame without a pattern typology, so that hints listing
// frames do not change when frames are added to the product.
func mustValidator(t testing.TB) *Validator {
	t.Helper()
	frames := []*schemas.Frame{defaultFrame(t), mustFrame(t, factorsOnlyFrame)}
	v, err := NewValidator(ValidatorOptions{Frames: frames, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatalf("NewValidator: %v", err)
	}
	return v
}

func defaultFrame(t testing.TB) *schemas.Frame {
	t.Helper()
	for _, f := range schemas.BuiltinFrames() {
		if f.ID == schemas.DefaultFrameID && f.Version == schemas.DefaultFrameVersion {
			return f
		}
	}
	t.Fatalf("default frame %s %s not built in", schemas.DefaultFrameID, schemas.DefaultFrameVersion)
	return nil
}

// factorsOnlyFrame is a two-level frame with no pattern typology, as a
// national panel's own themes might be.
const factorsOnlyFrame = `{
  "format": "collate.frame/1", "id": "panel-themes", "version": "1", "title": "Panel themes",
  "factors": {"label": "Themes", "levels": ["Theme", "Sub-theme"], "nodes": [
    {"code": "T1", "label": "Information sharing", "children": [{"code": "T1.1", "label": "Between agencies"}]},
    {"code": "T2", "label": "Supervision", "children": [{"code": "T2.1", "label": "Reflective"}, {"code": "T2.2", "label": "Retired theme", "retired": true}]}
  ]}
}`

func mustFrame(t testing.TB, src string) *schemas.Frame {
	t.Helper()
	f, err := schemas.ParseFrame([]byte(src))
	if err != nil {
		t.Fatalf("ParseFrame: %v", err)
	}
	return f
}

// exampleDoc returns the shipped example as generic JSON, to be bent into
// each bad case; numbers stay exact.
func exampleDoc(t testing.TB) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(schemas.Examples()["statutory-review.json"]))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("decode example: %v", err)
	}
	return doc
}

// edit is one change to a document: set the value at a JSON pointer, or
// delete it when del is true.
type edit struct {
	ptr string
	val any
	del bool
}

func set(ptr string, val any) edit { return edit{ptr: ptr, val: val} }
func del(ptr string) edit          { return edit{ptr: ptr, del: true} }

// bent returns the example with edits applied, as indented JSON.
func bent(t testing.TB, edits ...edit) []byte {
	t.Helper()
	doc := exampleDoc(t)
	for _, e := range edits {
		toks := strings.Split(e.ptr, "/")[1:]
		var parent any = doc
		for _, tok := range toks[:len(toks)-1] {
			parent = child(t, parent, tok, e.ptr)
		}
		last := toks[len(toks)-1]
		switch p := parent.(type) {
		case map[string]any:
			if e.del {
				delete(p, last)
			} else {
				p[last] = e.val
			}
		case []any:
			i, err := strconv.Atoi(last)
			if err != nil || i >= len(p) || e.del {
				t.Fatalf("edit %s: cannot set list item %q", e.ptr, last)
			}
			p[i] = e.val
		default:
			t.Fatalf("edit %s: parent is %T", e.ptr, parent)
		}
	}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func child(t testing.TB, x any, tok, ptr string) any {
	t.Helper()
	switch p := x.(type) {
	case map[string]any:
		c, ok := p[tok]
		if !ok {
			t.Fatalf("edit %s: no %q", ptr, tok)
		}
		return c
	case []any:
		i, err := strconv.Atoi(tok)
		if err != nil || i >= len(p) {
			t.Fatalf("edit %s: no item %q", ptr, tok)
		}
		return p[i]
	}
	t.Fatalf("edit %s: cannot descend into %T", ptr, x)
	return nil
}

func n(i int) json.Number { return json.Number(strconv.Itoa(i)) }

const (
	hintTruncated = "the file was cut short; export or copy it again"
	hintSchema    = "see schemas/REFERENCE.md for this field"
	hintPlaces    = "region and nation must be those of the board in schemas/geography.json"
	hintFrames    = "known frames and versions: scie-lt 2008.1, panel-themes 1; a review coded against another frame needs that frame registered first"
	valueExpected = "a value (an object, a list, text in double quotes, a number, true, false or null)"
)

func TestValidate(t *testing.T) {
	v := mustValidator(t)
	tests := []struct {
		name string
		data []byte
		want Problems
	}{
		// Size, encoding and syntax: found by the byte scan before decoding.
		{
			name: "oversized file",
			data: bytes.Repeat([]byte(" "), DefaultMaxBytes+1),
			want: Problems{{File: "f.json", Location: "/", Message: "the file is 8388609 bytes, over the size limit",
				Expected: "at most 8388608 bytes (8 MiB)",
				Hint:     "a review export is usually well under 1 MiB; check that this is a single review and that no document was pasted into a text field"}},
		},
		{
			name: "empty file",
			data: []byte(" \n"),
			want: Problems{{File: "f.json", Location: "/", Message: "the file is empty",
				Expected: "a JSON object holding one review export", Hint: "check that the export was written completely"}},
		},
		{
			name: "malformed: missing comma between fields",
			data: []byte("{\"format\": \"collate.review/1\"\n \"review\": {}}"),
			want: Problems{{File: "f.json", Location: "/", Message: `malformed JSON at line 2, column 2 (byte 31): unexpected '"'`,
				Expected: "',' or '}'", Hint: "a comma is missing before this point"}},
		},
		{
			name: "malformed: trailing comma",
			data: []byte(`{"review": {"id": "NCL-1", "kind": "statutory",}}`),
			want: Problems{{File: "f.json", Location: "/review", Message: "malformed JSON at line 1, column 48 (byte 47): unexpected '}'",
				Expected: "a field name in double quotes", Hint: "remove the comma before '}'"}},
		},
		{
			name: "malformed: trailing comma in a list",
			data: []byte(`{"review": {"agencies": ["Police",]}}`),
			want: Problems{{File: "f.json", Location: "/review/agencies/1", Message: "malformed JSON at line 1, column 35 (byte 34): unexpected ']'",
				Expected: valueExpected, Hint: "remove the comma before ']'"}},
		},
		{
			name: "malformed: single quotes",
			data: []byte(`{"review": {"kind": 'statutory'}}`),
			want: Problems{{File: "f.json", Location: "/review/kind", Message: `malformed JSON at line 1, column 21 (byte 20): unexpected '\''`,
				Expected: valueExpected, Hint: "JSON text goes in double quotes, not single quotes"}},
		},
		{
			name: "malformed: unquoted text",
			data: []byte(`{"episodes": [{"adequacy": good}]}`),
			want: Problems{{File: "f.json", Location: "/episodes/0/adequacy", Message: `malformed JSON at line 1, column 28 (byte 27): unexpected word "good"`,
				Expected: valueExpected, Hint: "put text and field names in double quotes"}},
		},
		{
			name: "malformed: raw line break in text",
			data: []byte("{\"review\": {\"id\": \"NCL\n-1\"}}"),
			want: Problems{{File: "f.json", Location: "/review/id", Message: "malformed JSON at line 1, column 23 (byte 22): control character U+000A inside text",
				Expected: "\\n, \\t or \\u00XX in place of the raw character",
				Hint:     "a line break inside text must be written as \\n; or the text's closing quote is missing"}},
		},
		{
			name: "malformed: bad escape",
			data: []byte(`{"review": {"id": "C:\path"}}`),
			want: Problems{{File: "f.json", Location: "/review/id", Message: "malformed JSON at line 1, column 22 (byte 21): invalid escape in text",
				Expected: `one of \" \\ \/ \b \f \n \r \t \uXXXX`, Hint: "to write a backslash in text, double it: \\\\"}},
		},
		{
			name: "malformed: leading zero",
			data: []byte(`{"episodes": [{"number": 01}]}`),
			want: Problems{{File: "f.json", Location: "/episodes/0", Message: "malformed JSON at line 1, column 27 (byte 26): unexpected '1'",
				Expected: "',' or '}'", Hint: "numbers are written without leading zeros"}},
		},
		{
			name: "malformed: text after the export",
			data: []byte("{}\n{}"),
			want: Problems{{File: "f.json", Location: "/", Message: "malformed JSON at line 2, column 1 (byte 3): unexpected '{' after the end of the JSON value",
				Expected: "the end of the file", Hint: "a file holds exactly one review export; remove what follows its closing '}'"}},
		},
		{
			name: "truncated inside text",
			data: []byte(`{"format": "collate.review/1", "review": {"questions": ["Why was the`),
			want: Problems{{File: "f.json", Location: "/review/questions/0", Message: "truncated JSON: the file ends at line 1, column 69 (byte 68) inside text",
				Expected: `a closing '"'`, Hint: hintTruncated}},
		},
		{
			name: "truncated between fields",
			data: []byte("{\"format\": \"collate.review/1\",\n \"review\": {\"id\": \"NCL-1\""),
			want: Problems{{File: "f.json", Location: "/review", Message: "truncated JSON: the file ends at line 2, column 26 (byte 56) before the object is closed",
				Expected: "',' or '}'", Hint: hintTruncated}},
		},
		{
			name: "truncated example",
			data: truncatedExample,
			want: Problems{{File: "f.json", Location: "/review/dialogue_stages", Message: fmt.Sprintf("truncated JSON: the file ends at %s before the object is closed", endOf(truncatedExample)),
				Expected: "',' or '}'", Hint: hintTruncated}},
		},
		{
			name: "invalid UTF-8 in text",
			data: []byte("{\"review\": {\"agencies\": [\"Police\", \"Sant\xe9\"]}}"),
			want: Problems{{File: "f.json", Location: "/review/agencies/1", Message: "invalid UTF-8 at byte 40 (line 1, column 41)",
				Expected: "text encoded as UTF-8", Hint: "save the file as UTF-8; text pasted from older Windows programs is often Windows-1252"}},
		},
		{
			name: "invalid UTF-8 outside text",
			data: []byte("{\"review\": \xff}"),
			want: Problems{{File: "f.json", Location: "/review", Message: "invalid UTF-8 at byte 11 (line 1, column 12)",
				Expected: "text encoded as UTF-8", Hint: "save the file as UTF-8; text pasted from older Windows programs is often Windows-1252"}},
		},
		{
			name: "nesting too deep",
			data: []byte(`{"review": {"x": ` + strings.Repeat("[", 31) + strings.Repeat("]", 31) + `}}`),
			want: Problems{{File: "f.json", Location: "/review/x" + strings.Repeat("/0", 30), Message: "nesting deeper than 32 levels at line 1, column 48 (byte 47)",
				Expected: "at most 32 levels of nested objects and lists",
				Hint:     "a review export nests five levels deep; this file is damaged or is not a review export"}},
		},
		{
			name: "list far too long",
			data: []byte(`{"review": {"agencies": [` + strings.Repeat(`"a",`, 1000) + `"a"]}}`),
			want: Problems{{File: "f.json", Location: "/review/agencies", Message: "the list has more than 1000 items at line 1, column 4026 (byte 4025)",
				Expected: "a list of the format, which has at most 200 items", Hint: "this file is damaged or is not a review export"}},
		},
		{
			name: "object with far too many fields",
			data: []byte(`{"review": {` + manyFields(101) + `}}`),
			want: Problems{{File: "f.json", Location: "/review", Message: "the object has more than 100 fields at line 1, column 913 (byte 912)",
				Expected: "an object of the format, which has at most 13 fields", Hint: "this file is damaged or is not a review export"}},
		},
		{
			name: "duplicate field",
			data: []byte("{\"format\": \"collate.review/1\",\n \"format\": \"collate.review/1\"}"),
			want: Problems{{File: "f.json", Location: "/format", Message: `duplicate field "format" at line 2, column 2`,
				Expected: "each field once in an object", Hint: "remove one of the two; readers disagree on which copy counts"}},
		},

		// The JSON Schema.
		{
			name: "wrong type: number in quotes",
			data: bent(t, set("/episodes/0/number", "1")),
			want: Problems{{File: "f.json", Location: "/episodes/0/number", Message: "wrong type: found text",
				Expected: "a whole number from 1 to 999", Hint: "write the number without quotes"}},
		},
		{
			name: "wrong type: text where a list is expected",
			data: bent(t, set("/review/questions", "Why?")),
			want: Problems{{File: "f.json", Location: "/review/questions", Message: "wrong type: found text",
				Expected: "a list of 1 to 20 texts", Hint: "put the value in a list: [ … ]"}},
		},
		{
			name: "wrong type: fractional year",
			data: bent(t, set("/review/completed/year", json.Number("2023.5"))),
			want: Problems{{File: "f.json", Location: "/review/completed/year", Message: "wrong type: found a number",
				Expected: "a year from 1990 to 2026", Hint: hintSchema}},
		},
		{
			name: "wrong type: null",
			data: bent(t, set("/episodes/1/title", nil)),
			want: Problems{{File: "f.json", Location: "/episodes/1/title", Message: "wrong type: found null",
				Expected: "text of 1 to 200 characters", Hint: "leave an optional field out when it was not recorded; a required field needs a value"}},
		},
		{
			name: "wrong type: the whole file is a list",
			data: []byte(`[]`),
			want: Problems{{File: "f.json", Location: "/", Message: "wrong type: found a list",
				Expected: "an object with format, review, episodes", Hint: hintSchema}},
		},
		{
			name: "missing required field",
			data: bent(t, del("/review/board")),
			want: Problems{{File: "f.json", Location: "/review/board", Message: `required field "board" is missing`,
				Expected: "a code of letters, digits, '.', '_' or '-' (at most 64 characters)", Hint: "Board code from schemas/geography.json."}},
		},
		{
			name: "missing required fields are each named",
			data: bent(t, del("/episodes/1/factors"), del("/episodes/1/adequacy")),
			want: Problems{
				{File: "f.json", Location: "/episodes/1/adequacy", Message: `required field "adequacy" is missing`,
					Expected: `one of "good", "problematic", "mixed", "not_judged"`, Hint: hintSchema},
				{File: "f.json", Location: "/episodes/1/factors", Message: `required field "factors" is missing`,
					Expected: "a list of at most 100 objects", Hint: hintSchema},
			},
		},
		{
			name: "unknown field with a near name",
			data: bent(t, set("/episodes/0/significanse", "x")),
			want: Problems{{File: "f.json", Location: "/episodes/0/significanse", Message: `unknown field "significanse"`,
				Expected: "one of the fields adequacy, agencies, description, evidence, factors, number, significance, title",
				Hint:     `did you mean "significance"?`}},
		},
		{
			name: "unknown field",
			data: bent(t, set("/review/child_name", "x")),
			want: Problems{{File: "f.json", Location: "/review/child_name", Message: `unknown field "child_name"`,
				Expected: "one of the fields agencies, board, coding, completed, dialogue_stages, family_participation, frame, id, kind, nation, participants, questions, region",
				Hint:     "allowed fields here: agencies, board, coding, completed, dialogue_stages, family_participation, frame, id, kind, nation, participants, questions, region"}},
		},
		{
			name: "value not allowed",
			data: bent(t, set("/episodes/2/adequacy", "great")),
			want: Problems{{File: "f.json", Location: "/episodes/2/adequacy", Message: `"great" is not an allowed value`,
				Expected: `one of "good", "problematic", "mixed", "not_judged"`, Hint: hintSchema}},
		},
		{
			name: "value misspelt",
			data: bent(t, set("/episodes/1/factors/0/influence", "supported_goood")),
			want: Problems{{File: "f.json", Location: "/episodes/1/factors/0/influence", Message: `"supported_goood" is not an allowed value`,
				Expected: `one of "supported_good", "made_problematic_more_likely"`, Hint: `did you mean "supported_good"?`}},
		},
		{
			name: "recommendation kind out of the list",
			data: bent(t, set("/recommendations/1/kind", n(4))),
			want: Problems{{File: "f.json", Location: "/recommendations/1/kind", Message: "4 is not an allowed value",
				Expected: "one of 1, 2, 3", Hint: "1: clear-cut, addressable locally; 2: needs judgement because of competing priorities; 3: needs research and development, often national."}},
		},
		{
			name: "unsupported format",
			data: bent(t, set("/format", "collate.review/2")),
			want: Problems{{File: "f.json", Location: "/format", Message: `unsupported format "collate.review/2"`,
				Expected: `"collate.review/1"`, Hint: "this version of Collate reads collate.review/1 exports; check the tool that wrote the file"}},
		},
		{
			name: "code with spaces",
			data: bent(t, set("/episodes/0/factors/1/code", "FL FAM 04")),
			want: Problems{{File: "f.json", Location: "/episodes/0/factors/1/code", Message: `"FL FAM 04" is not a valid code`,
				Expected: "a code of letters, digits, '.', '_' or '-' (at most 64 characters)", Hint: "use only letters, digits, '.', '_' and '-', with no spaces"}},
		},
		{
			name: "review ID with spaces",
			data: bent(t, set("/review/id", "NCL 2023")),
			want: Problems{{File: "f.json", Location: "/review/id", Message: `"NCL 2023" is not a valid review ID`,
				Expected: "an ID of 3 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", Hint: "use only letters, digits, '.', '_' and '-', with no spaces"}},
		},
		{
			name: "text too long",
			data: bent(t, set("/episodes/0/description", strings.Repeat("a", 4001))),
			want: Problems{{File: "f.json", Location: "/episodes/0/description", Message: "the text is 4001 characters long, too long",
				Expected: "text of 1 to 4000 characters", Hint: "summarise; the full account stays in the review report"}},
		},
		{
			name: "empty text",
			data: bent(t, set("/episodes/0/significance", "")),
			want: Problems{{File: "f.json", Location: "/episodes/0/significance", Message: "the text is empty",
				Expected: "text of 1 to 4000 characters", Hint: "Significance with hindsight."}},
		},
		{
			name: "no episodes",
			data: bent(t, set("/episodes", []any{})),
			want: Problems{{File: "f.json", Location: "/episodes", Message: "the list is empty",
				Expected: "a list of 1 to 200 objects", Hint: hintSchema}},
		},
		{
			name: "agency listed twice",
			data: bent(t, set("/review/agencies", []any{"Police", "Health visiting", "Police"})),
			want: Problems{{File: "f.json", Location: "/review/agencies/2", Message: "repeats the value at /review/agencies/0",
				Expected: "each value once", Hint: "remove the repeated value"}},
		},
		{
			name: "month out of range",
			data: bent(t, set("/review/completed/month", n(13))),
			want: Problems{{File: "f.json", Location: "/review/completed/month", Message: "13 is too large",
				Expected: "a whole number from 1 to 12", Hint: hintSchema}},
		},
		{
			name: "listed and proposed sub-pattern together",
			data: bent(t, set("/patterns/0/proposed_sub_pattern", "Indicators crowd out assessment")),
			want: Problems{{File: "f.json", Location: "/patterns/0/proposed_sub_pattern", Message: "the pattern has both a listed sub_pattern and a proposed_sub_pattern",
				Expected: "sub_pattern or proposed_sub_pattern, not both", Hint: "use proposed_sub_pattern only where no listed sub-pattern fits"}},
		},
		{
			name: "episode reference too large to store",
			data: bent(t, set("/patterns/0/episodes", []any{json.Number("1e30")})),
			want: Problems{{File: "f.json", Location: "/patterns/0/episodes/0", Message: "1e30 is not a whole number Collate can store",
				Expected: "a whole number of at most 9 digits", Hint: "check for a typing error"}},
		},
		{
			name: "several problems in document order",
			data: replaced(t, `"level": "local", "text": "Add`, `"level": "county", "text": "Add`, `"kind": "statutory"`, `"kind": "serious"`,
				`"adequacy": "problematic",
      "agencies": ["Primary school"`, `"adequacy": "bad",
      "agencies": ["Primary school"`, `"method": "human",`, ``),
			want: Problems{
				{File: "f.json", Location: "/review/kind", Message: `"serious" is not an allowed value`,
					Expected: `one of "statutory", "routine", "innovation", "positive"`,
					Hint:     "statutory: serious case or child safeguarding practice review; routine: review of routine practice; innovation: review of new practice or an innovation; positive: practice families and professionals were positive about."},
				{File: "f.json", Location: "/review/coding/method", Message: `required field "method" is missing`,
					Expected: `one of "human", "machine_assisted"`, Hint: hintSchema},
				{File: "f.json", Location: "/episodes/2/adequacy", Message: `"bad" is not an allowed value`,
					Expected: `one of "good", "problematic", "mixed", "not_judged"`, Hint: hintSchema},
				{File: "f.json", Location: "/recommendations/0/level", Message: `"county" is not an allowed value`,
					Expected: `one of "local", "regional", "national"`, Hint: hintSchema},
			},
		},

		// Frame, geography, numbering, references and dates.
		{
			name: "unknown frame version",
			data: bent(t, set("/review/frame/version", "2009.1")),
			want: Problems{{File: "f.json", Location: "/review/frame/version", Message: `unknown version "2009.1" of coding frame scie-lt`,
				Expected: `one of "2008.1"`, Hint: hintFrames}},
		},
		{
			name: "unknown frame",
			data: bent(t, set("/review/frame/id", "london-protocol")),
			want: Problems{{File: "f.json", Location: "/review/frame/id", Message: `unknown coding frame "london-protocol"`,
				Expected: "a registered frame", Hint: hintFrames}},
		},
		{
			name: "unknown factor code",
			data: bent(t, set("/episodes/0/factors/0/code", "FL.WORK.3")),
			want: Problems{{File: "f.json", Location: "/episodes/0/factors/0/code", Message: `unknown factor code "FL.WORK.3"`,
				Expected: "a code of the factor tree of frame scie-lt 2008.1", Hint: "nearest valid codes: FL.WORK.03, FL.WORK.01, FL.WORK.02"}},
		},
		{
			name: "factor code in the wrong case",
			data: bent(t, set("/episodes/2/factors/1/code", "fl.ia.04")),
			want: Problems{{File: "f.json", Location: "/episodes/2/factors/1/code", Message: `unknown factor code "fl.ia.04"`,
				Expected: "a code of the factor tree of frame scie-lt 2008.1", Hint: "nearest valid codes: FL.IA.04, FL.IA.01, FL.IA.02"}},
		},
		{
			name: "unknown pattern type",
			data: bent(t, set("/patterns/1/type", "P7"), del("/patterns/1/sub_pattern")),
			want: Problems{{File: "f.json", Location: "/patterns/1/type", Message: `unknown pattern type "P7"`,
				Expected: `one of "P1", "P2", "P3", "P4", "P5", "P6"`, Hint: "nearest pattern types: P1, P2, P3"}},
		},
		{
			name: "sub-pattern given as the type",
			data: bent(t, set("/patterns/1/type", "P3.5"), del("/patterns/1/sub_pattern")),
			want: Problems{{File: "f.json", Location: "/patterns/1/type", Message: "P3.5 is a sub-pattern, not a pattern type",
				Expected: `one of "P1", "P2", "P3", "P4", "P5", "P6"`, Hint: "put P3.5 in sub_pattern and its type P3 in type"}},
		},
		{
			name: "unknown sub-pattern",
			data: bent(t, set("/patterns/0/sub_pattern", "P2.9")),
			want: Problems{{File: "f.json", Location: "/patterns/0/sub_pattern", Message: `unknown sub-pattern "P2.9"`,
				Expected: "a sub-pattern of pattern type P2", Hint: "nearest valid codes: P2.1, P2.2, P2.3"}},
		},
		{
			name: "sub-pattern under another type",
			data: bent(t, set("/patterns/1/sub_pattern", "P2.3")),
			want: Problems{{File: "f.json", Location: "/patterns/1/sub_pattern", Message: "sub-pattern P2.3 is not under pattern type P3",
				Expected: "a sub-pattern of pattern type P3", Hint: "P2.3 belongs to type P2; nearest sub-patterns of P3: P3.3, P3.1, P3.2"}},
		},
		{
			name: "patterns with a frame that has no typology",
			data: bent(t, set("/review/frame", map[string]any{"id": "panel-themes", "version": "1"}),
				set("/episodes", []any{map[string]any{"number": n(1), "title": "Strategy discussion", "description": "Agencies met.", "adequacy": "good",
					"factors": []any{map[string]any{"code": "T1.1", "influence": "supported_good"}}}}),
				set("/patterns", []any{map[string]any{"number": n(1), "type": "T1", "nature": "constructive", "episodes": []any{n(1)}}}),
				del("/recommendations")),
			want: Problems{{File: "f.json", Location: "/patterns", Message: "the export has patterns, but frame panel-themes 1 has no pattern typology",
				Expected: "no patterns for this frame", Hint: "leave patterns out, or code the review against a frame with a typology of patterns"}},
		},
		{
			name: "retired code",
			data: bent(t, set("/review/frame", map[string]any{"id": "panel-themes", "version": "1"}),
				set("/episodes", []any{map[string]any{"number": n(1), "title": "Supervision", "description": "Supervision was cancelled.", "adequacy": "problematic",
					"factors": []any{map[string]any{"code": "T2.2", "influence": "made_problematic_more_likely"}}}}),
				del("/patterns"), del("/recommendations")),
			want: Problems{{File: "f.json", Location: "/episodes/0/factors/0/code", Message: "factor code T2.2 is retired in frame panel-themes 1",
				Expected: "a current code of the factor tree", Hint: "nearest current codes: T2.1, T2, T1.1"}},
		},
		{
			name: "unknown board",
			data: bent(t, set("/review/board", "ENG-NE-NCX")),
			want: Problems{{File: "f.json", Location: "/review/board", Message: `unknown board "ENG-NE-NCX"`,
				Expected: "a board code from schemas/geography.json", Hint: "nearest board codes: ENG-NE-NCL, ENG-NE-NTY, ENG-NE-NBL (boards of region ENG-NE)"}},
		},
		{
			name: "board in another region",
			data: bent(t, set("/review/region", "ENG-NW")),
			want: Problems{{File: "f.json", Location: "/review/region", Message: "board ENG-NE-NCL is in region ENG-NE, not ENG-NW",
				Expected: `"ENG-NE"`, Hint: hintPlaces}},
		},
		{
			name: "board in another nation",
			data: bent(t, set("/review/nation", "WLS")),
			want: Problems{{File: "f.json", Location: "/review/nation", Message: "board ENG-NE-NCL is in nation ENG, not WLS",
				Expected: `"ENG"`, Hint: hintPlaces}},
		},
		{
			name: "unknown nation",
			data: bent(t, set("/review/nation", "UK")),
			want: Problems{{File: "f.json", Location: "/review/nation", Message: `unknown nation "UK"`,
				Expected: `"ENG", the nation of board ENG-NE-NCL`, Hint: "nearest nation codes: ENG, WLS, SCT"}},
		},
		{
			name: "duplicate episode numbers",
			data: bent(t, set("/episodes/2/number", n(1))),
			want: Problems{
				{File: "f.json", Location: "/episodes/2/number", Message: "episode number 1 is used twice (first at /episodes/0)",
					Expected: "a number no other episode uses", Hint: "number the key practice episodes 1, 2, 3, … in the order of the case"},
				// Episode 3 is gone, so the patterns that drew on it now point nowhere.
				{File: "f.json", Location: "/patterns/1/episodes/1", Message: "episode 3 does not exist",
					Expected: "the number of one of this review's episodes (1, 2)", Hint: "patterns refer to episodes by their number, not by their position in the list"},
				{File: "f.json", Location: "/patterns/3/episodes/0", Message: "episode 3 does not exist",
					Expected: "the number of one of this review's episodes (1, 2)", Hint: "patterns refer to episodes by their number, not by their position in the list"},
			},
		},
		{
			name: "duplicate pattern numbers",
			data: bent(t, set("/patterns/3/number", n(2))),
			want: Problems{
				{File: "f.json", Location: "/patterns/3/number", Message: "pattern number 2 is used twice (first at /patterns/1)",
					Expected: "a number no other pattern uses", Hint: "number the patterns 1, 2, 3, …"},
				{File: "f.json", Location: "/recommendations/0/patterns/1", Message: "pattern 4 does not exist",
					Expected: "the number of one of this review's patterns (1–3)", Hint: "recommendations refer to patterns by their number, not by their position in the list"},
			},
		},
		{
			name: "duplicate recommendation numbers",
			data: bent(t, set("/recommendations/2/number", n(1))),
			want: Problems{{File: "f.json", Location: "/recommendations/2/number", Message: "recommendation number 1 is used twice (first at /recommendations/0)",
				Expected: "a number no other recommendation uses", Hint: "number the recommendations 1, 2, 3, …"}},
		},
		{
			name: "pattern refers to a missing episode",
			data: bent(t, set("/patterns/1/episodes", []any{n(1), n(7)})),
			want: Problems{{File: "f.json", Location: "/patterns/1/episodes/1", Message: "episode 7 does not exist",
				Expected: "the number of one of this review's episodes (1–3)", Hint: "patterns refer to episodes by their number, not by their position in the list"}},
		},
		{
			name: "recommendation refers to a missing pattern",
			data: bent(t, set("/recommendations/0/patterns", []any{n(2), n(9)})),
			want: Problems{{File: "f.json", Location: "/recommendations/0/patterns/1", Message: "pattern 9 does not exist",
				Expected: "the number of one of this review's patterns (1–4)", Hint: "recommendations refer to patterns by their number, not by their position in the list"}},
		},
		{
			name: "recommendation refers to a pattern when there are none",
			data: bent(t, del("/patterns")),
			want: Problems{
				{File: "f.json", Location: "/recommendations/0/patterns/0", Message: "pattern 2 does not exist",
					Expected: "no pattern references: this review records no patterns", Hint: "recommendations refer to patterns by their number, not by their position in the list"},
				{File: "f.json", Location: "/recommendations/0/patterns/1", Message: "pattern 4 does not exist",
					Expected: "no pattern references: this review records no patterns", Hint: "recommendations refer to patterns by their number, not by their position in the list"},
				{File: "f.json", Location: "/recommendations/1/patterns/0", Message: "pattern 1 does not exist",
					Expected: "no pattern references: this review records no patterns", Hint: "recommendations refer to patterns by their number, not by their position in the list"},
				{File: "f.json", Location: "/recommendations/2/patterns/0", Message: "pattern 1 does not exist",
					Expected: "no pattern references: this review records no patterns", Hint: "recommendations refer to patterns by their number, not by their position in the list"},
			},
		},
		{
			name: "year before 1990",
			data: bent(t, set("/review/completed/year", n(1985))),
			want: Problems{{File: "f.json", Location: "/review/completed/year", Message: "impossible year 1985: before 1990",
				Expected: "a year from 1990 to 2026", Hint: "the year the review was completed, as four digits"}},
		},
		{
			name: "year in the future",
			data: bent(t, set("/review/completed/year", n(2027))),
			want: Problems{{File: "f.json", Location: "/review/completed/year", Message: "impossible year 2027: in the future",
				Expected: "a year from 1990 to 2026", Hint: "the year the review was completed, as four digits"}},
		},
		{
			name: "year far in the future",
			data: bent(t, set("/review/completed/year", n(20230))),
			want: Problems{{File: "f.json", Location: "/review/completed/year", Message: "impossible year 20230: in the future",
				Expected: "a year from 1990 to 2026", Hint: "the year the review was completed, as four digits"}},
		},
		{
			name: "month in the future",
			data: bent(t, set("/review/completed", map[string]any{"year": n(2026), "month": n(7)})),
			want: Problems{{File: "f.json", Location: "/review/completed/month", Message: "impossible month: July 2026 is in the future",
				Expected: "a month up to June 2026", Hint: "the month the review was completed; leave month out if it was not recorded"}},
		},
		{
			name: "kappa out of range",
			data: bent(t, set("/review/coding/second_coder_agreement/value", n(74))),
			want: Problems{{File: "f.json", Location: "/review/coding/second_coder_agreement/value", Message: "Cohen's kappa of 74 is out of range",
				Expected: "a kappa from -1 to 1", Hint: `for agreement as a percentage use measure "percent_agreement"`}},
		},

		// Identifying information, one case per kind.
		{
			name: "email address",
			data: bent(t, set("/review/participants/0/role", "Social worker (jo.bloggs@example.gov.uk)")),
			want: Problems{screenProblem("/review/participants/0/role", idEmail, "Social worker (j*.******@*******.***.**)")},
		},
		{
			name: "phone number",
			data: bent(t, set("/episodes/0/evidence/1/note", "Social worker, tel 0191 498 0000")),
			want: Problems{screenProblem("/episodes/0/evidence/1/note", idPhone, "Social worker, tel 01** *** ****")},
		},
		{
			name: "postcode",
			data: bent(t, set("/episodes/2/description", "The school near NE1 4ST recorded a fall in attendance.")),
			want: Problems{screenProblem("/episodes/2/description", idPostcode, "The school near *** *** recorded a fall in ...")},
		},
		{
			name: "NHS number",
			data: bent(t, set("/episodes/1/factors/0/detail", "Child's NHS number 943 476 5919 was on the referral.")),
			want: Problems{screenProblem("/episodes/1/factors/0/detail", idNHS, "Child's NHS number *** *** **** was on the referral.")},
		},
		{
			name: "National Insurance number",
			data: bent(t, set("/patterns/3/proposed_sub_pattern", "Benefits checks on JG 10 37 59 A delayed")),
			want: Problems{screenProblem("/patterns/3/proposed_sub_pattern", idNINO, "Benefits checks on ** ** ** ** * delayed")},
		},
		{
			name: "date of birth",
			data: bent(t, set("/review/questions/0", "Why was the neglect of Child C (DOB 12/03/2015) not recognised?")),
			want: Problems{screenProblem("/review/questions/0", idDOB, "... neglect of Child C (DOB **/**/****) not recognised?")},
		},
		{
			name: "name after a title",
			data: bent(t, set("/recommendations/1/text", "Dr Patel should brief the partnership on timescales.")),
			want: Problems{screenProblem("/recommendations/1/text", idName, "Dr P**** should brief the ...")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := v.Validate("f.json", tt.data)
			if diff := cmp.Diff(tt.want, err); diff != "" {
				t.Errorf("Validate problems (-want +got):\n%s", diff)
			}
			if e != nil {
				t.Errorf("Validate returned an export with problems")
			}
		})
	}
}

// truncatedExample is the shipped example cut off inside its dialogue stages.
var truncatedExample = func() []byte {
	ex := schemas.Examples()["statutory-review.json"]
	const cut = `"dialogue_stages": {"preliminary": "yes"`
	i := bytes.Index(ex, []byte(cut))
	if i < 0 {
		panic("example has no dialogue stages to cut at")
	}
	return ex[:i+len(cut)]
}()

// endOf says where a file ends, as the validator words it, counted here
// independently of the validator's own position code.
func endOf(data []byte) string {
	lines := strings.Split(string(data), "\n")
	return fmt.Sprintf("line %d, column %d (byte %d)", len(lines), len([]rune(lines[len(lines)-1]))+1, len(data))
}

// replaced returns the example with each old text (which must occur exactly
// once) replaced by its new text, keeping the example's field order.
func replaced(t testing.TB, pairs ...string) []byte {
	t.Helper()
	data := schemas.Examples()["statutory-review.json"]
	for i := 0; i+1 < len(pairs); i += 2 {
		if c := bytes.Count(data, []byte(pairs[i])); c != 1 {
			t.Fatalf("replaced: %q occurs %d times", pairs[i], c)
		}
		data = bytes.Replace(data, []byte(pairs[i]), []byte(pairs[i+1]), 1)
	}
	return data
}

// manyFields writes n fields "a000": 1, ... of nine bytes each.
func manyFields(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"a%03d":1`, i)
	}
	return b.String()
}

func screenProblem(loc string, k idKind, excerpt string) Problem {
	return Problem{File: "f.json", Location: loc,
		Message:  fmt.Sprintf("identifying information (%s): %q", idKinds[k].label, excerpt),
		Expected: screenExpected, Hint: idKinds[k].hint}
}

var update = flag.Bool("update", false, "rewrite the expected problems of testdata/validate")

// TestValidateFiles validates the sample files in testdata/validate, each a
// realistic bad (or good) export, against the problems recorded next to it
// in NAME.want: the same list `collate validate --json` prints. Run with
// -update to rewrite the .want files after a deliberate change, then read
// the diff.
func TestValidateFiles(t *testing.T) {
	v := mustValidator(t)
	files, err := filepath.Glob(filepath.Join("..", "testdata", "validate", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample files: %v", err)
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got := Problems{}
			if _, err := v.Validate(name, data); err != nil {
				got = err.(Problems)
			}
			wantPath := strings.TrimSuffix(path, ".json") + ".want"
			if *update {
				b, _ := json.MarshalIndent(got, "", "  ")
				if err := os.WriteFile(wantPath, append(b, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			b, err := os.ReadFile(wantPath)
			if err != nil {
				t.Fatalf("read expected problems (run with -update to create): %v", err)
			}
			var want Problems
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatalf("%s: %v", wantPath, err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("problems (-%s +got):\n%s", filepath.Base(wantPath), diff)
			}
		})
	}
}

// TestExamplesValidate checks that every shipped example is valid with the
// frames and geography built into the binary.
func TestExamplesValidate(t *testing.T) {
	v, err := NewValidator(ValidatorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	examples := schemas.Examples()
	if len(examples) == 0 {
		t.Fatal("no examples shipped")
	}
	for name, data := range examples {
		t.Run(name, func(t *testing.T) {
			e, err := v.Validate(name, data)
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			// The decoded export must equal what encoding/json decodes strictly.
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.DisallowUnknownFields()
			var want Export
			if err := dec.Decode(&want); err != nil {
				t.Fatalf("strict decode: %v", err)
			}
			if diff := cmp.Diff(&want, e); diff != "" {
				t.Errorf("decoded export (-encoding/json +validator):\n%s", diff)
			}
			if err := v.Check(name, e); err != nil {
				t.Errorf("Check: %v", err)
			}
			canon, _, err := Canonical(e)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.Validate(name, canon); err != nil {
				t.Errorf("canonical form does not validate: %v", err)
			}
		})
	}
}

func TestValidateAcceptsByteOrderMark(t *testing.T) {
	v := mustValidator(t)
	data := append([]byte{0xEF, 0xBB, 0xBF}, schemas.Examples()["statutory-review.json"]...)
	if _, err := v.Validate("bom.json", data); err != nil {
		t.Errorf("Validate with a byte-order mark: %v", err)
	}
	// Positions stay those of the file, but the mark is no column.
	_, err := v.Validate("bom.json", []byte("\xEF\xBB\xBF{\"a\" 1}"))
	want := Problems{{File: "bom.json", Location: "/", Message: "malformed JSON at line 1, column 6 (byte 8): unexpected '1'",
		Expected: "':' after the field name", Hint: "check just before this point for a missing comma, quote or bracket"}}
	if diff := cmp.Diff(want, err); diff != "" {
		t.Errorf("Validate (-want +got):\n%s", diff)
	}
}

// TestValidateDepthLimit checks the limit itself: 32 levels pass the byte
// scan (and then fail the schema), 33 do not.
func TestValidateDepthLimit(t *testing.T) {
	for _, tt := range []struct {
		depth int
		ok    bool
	}{{32, true}, {33, false}} {
		t.Run(strconv.Itoa(tt.depth), func(t *testing.T) {
			data := []byte(strings.Repeat("[", tt.depth) + strings.Repeat("]", tt.depth))
			sc := scanner{data: data, maxDepth: DefaultMaxDepth}
			if err := sc.scanDocument(); (err == nil) != tt.ok {
				t.Errorf("scan of depth %d: error %v, want ok=%v", tt.depth, err, tt.ok)
			}
		})
	}
}

// TestCheck covers the path workbook import takes: an Export decoded by
// other means is held to the same rules, with JSON pointers.
func TestCheck(t *testing.T) {
	v := mustValidator(t)
	tests := []struct {
		name   string
		change func(e *Export)
		want   error
	}{
		{"valid", func(e *Export) {}, nil},
		{"bad enum", func(e *Export) { e.Episodes[1].Adequacy = "fine" }, Problems{{File: "book.xlsx", Location: "/episodes/1/adequacy",
			Message: `"fine" is not an allowed value`, Expected: `one of "good", "problematic", "mixed", "not_judged"`, Hint: hintSchema}}},
		{"no episodes", func(e *Export) { e.Episodes = nil }, Problems{{File: "book.xlsx", Location: "/episodes",
			Message: "wrong type: found null", Expected: "a list of 1 to 200 objects", Hint: "leave an optional field out when it was not recorded; a required field needs a value"}}},
		{"wrong format", func(e *Export) { e.Format = "" }, Problems{{File: "book.xlsx", Location: "/format",
			Message: `unsupported format ""`, Expected: `"collate.review/1"`, Hint: "this version of Collate reads collate.review/1 exports; check the tool that wrote the file"}}},
		{"unknown code and dangling reference", func(e *Export) {
			e.Patterns[2].Episodes = []int{4}
			e.Episodes[2].Factors[0].Code = "LS.ORG.4"
		}, Problems{
			{File: "book.xlsx", Location: "/episodes/2/factors/0/code", Message: `unknown factor code "LS.ORG.4"`,
				Expected: "a code of the factor tree of frame scie-lt 2008.1", Hint: "nearest valid codes: LS.ORG.04, LS.ORG.01, LS.ORG.02"},
			{File: "book.xlsx", Location: "/patterns/2/episodes/0", Message: "episode 4 does not exist",
				Expected: "the number of one of this review's episodes (1–3)", Hint: "patterns refer to episodes by their number, not by their position in the list"},
		}},
		{"sub-pattern and proposed sub-pattern", func(e *Export) { e.Patterns[3].SubPattern = "P4.1" }, Problems{{File: "book.xlsx", Location: "/patterns/3/proposed_sub_pattern",
			Message: "the pattern has both a listed sub_pattern and a proposed_sub_pattern", Expected: "sub_pattern or proposed_sub_pattern, not both",
			Hint: "use proposed_sub_pattern only where no listed sub-pattern fits"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustExample(t)
			tt.change(e)
			err := v.Check("book.xlsx", e)
			if diff := cmp.Diff(tt.want, err); diff != "" {
				t.Errorf("Check (-want +got):\n%s", diff)
			}
		})
	}
	if err := v.Check("none.xlsx", nil); err == nil {
		t.Error("Check(nil) passed")
	}
}

func TestNearest(t *testing.T) {
	codes := []string{"FL.WORK.01", "FL.WORK.02", "FL.WORK.03", "FL.WORK", "FL.TEAM.03", "LS.ORG.04"}
	tests := []struct {
		code string
		want []string
	}{
		{"FL.WORK.3", []string{"FL.WORK.03", "FL.WORK.01", "FL.WORK.02"}},
		{"FL.WRK.03", []string{"FL.WORK.03", "FL.WORK.01", "FL.WORK.02"}},
		{"LS.ORG.4", []string{"LS.ORG.04", "FL.WORK.01", "FL.WORK.02"}},
		{"fl.team.03", []string{"FL.TEAM.03", "FL.WORK.03", "FL.WORK.01"}},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, nearest(tt.code, codes, 3)); diff != "" {
				t.Errorf("nearest(%q) (-want +got):\n%s", tt.code, diff)
			}
		})
	}
}

func TestNewValidatorRefusesDuplicateFrames(t *testing.T) {
	f := defaultFrame(t)
	if _, err := NewValidator(ValidatorOptions{Frames: []*schemas.Frame{f, f}}); err == nil {
		t.Error("NewValidator accepted the same frame twice")
	}
}

func BenchmarkValidate(b *testing.B) {
	v := mustValidator(b)
	files := map[string][]byte{}
	for name, data := range schemas.Examples() {
		files[name] = data
	}
	files["large-60k.json"] = largeExport(b)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		data := files[name]
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Validate(name, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCheck measures what the brief bounds most tightly: the semantic
// checks and the screen on an already-decoded large export.
func BenchmarkCheckSemanticAndScreen(b *testing.B) {
	v := mustValidator(b)
	e, err := v.Validate("large.json", largeExport(b))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ps := screenExport("large.json", e, v.semantic("large.json", e, nil)); len(ps) > 0 {
			b.Fatal(Problems(ps))
		}
	}
}

// largeExport builds a valid export of about 60 KB, the size of a large
// review (30 episodes of five factors, 12 patterns, 15 recommendations), from
// the example's own text.
func largeExport(t testing.TB) []byte {
	t.Helper()
	e := mustExample(t)
	base := e.Episodes
	e.Episodes = nil
	for i := 0; i < 30; i++ {
		ep := base[i%len(base)]
		ep.Number = i + 1
		ep.Description += " " + ep.Description + " " + ep.Significance
		fs := ep.Factors
		ep.Factors = nil
		for k := 0; k < 5; k++ {
			ep.Factors = append(ep.Factors, fs[k%len(fs)])
		}
		e.Episodes = append(e.Episodes, ep)
	}
	pats := e.Patterns
	e.Patterns = nil
	for i := 0; i < 12; i++ {
		p := pats[i%len(pats)]
		p.Number = i + 1
		p.Episodes = []int{i%24 + 1, (i+5)%24 + 1}
		e.Patterns = append(e.Patterns, p)
	}
	recs := e.Recommendations
	e.Recommendations = nil
	for i := 0; i < 15; i++ {
		r := recs[i%len(recs)]
		r.Number = i + 1
		r.Patterns = []int{i%12 + 1}
		e.Recommendations = append(e.Recommendations, r)
	}
	data, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return data
}
