package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/collate-project/collate/schemas"
)

// FuzzValidate feeds arbitrary bytes to the parser and validator. It must
// never panic; every refusal must be well-formed Problems; the byte scanner
// must agree with encoding/json on what is JSON; the quick schema check must
// accept nothing the schema refuses; and an export that passes
// must pass again, unchanged, from its canonical form.
func FuzzValidate(f *testing.F) {
	for _, data := range schemas.Examples() {
		f.Add(data)
	}
	v := mustValidator(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := v.Validate("fuzz.json", data)
		if err != nil {
			var ps Problems
			if !errors.As(err, &ps) || len(ps) == 0 || len(ps) > MaxProblems {
				t.Fatalf("Validate error is not 1 to %d Problems: %#v", MaxProblems, err)
			}
			for _, p := range ps {
				if p.File != "fuzz.json" || !strings.HasPrefix(p.Location, "/") || p.Message == "" {
					t.Fatalf("malformed problem %#v", p)
				}
			}
			if e != nil {
				t.Fatal("Validate returned an export and an error")
			}
		}

		// The scanner and encoding/json must agree on well-formed JSON.
		// encoding/json lets invalid UTF-8 through, so compare only valid text.
		if utf8.Valid(data) && !bytes.HasPrefix(data, utf8BOM) {
			sc := scanner{data: data, maxDepth: 1 << 20}
			scanErr := sc.scanDocument()
			if scanErr != nil && scanErr.kind == scanLimit {
				return // a structural limit, which encoding/json does not have
			}
			if ok := json.Valid(data); ok != (scanErr == nil) {
				t.Fatalf("json.Valid = %v, scanner error = %v", ok, scanErr)
			}
			if scanErr == nil && len(sc.dups) == 0 {
				dec := json.NewDecoder(bytes.NewReader(data))
				dec.UseNumber()
				var want any
				if err := dec.Decode(&want); err != nil {
					t.Fatalf("encoding/json: %v", err)
				}
				// reflect.DeepEqual, not cmp: cmp's slice diffing is exponential
				// on deeply nested lists.
				if got := (&builder{data: data}).value(); !reflect.DeepEqual(want, got) {
					t.Fatalf("builder disagrees with encoding/json: want %#v, got %#v", want, got)
				}
				// The quick schema check never accepts what the schema refuses.
				if v.fast.accepts(want) {
					if err := v.schema.Validate(want); err != nil {
						t.Fatalf("the quick check accepts what the schema refuses: %v", err)
					}
				}
			}
		}

		if err != nil {
			return
		}
		if cerr := v.Check("fuzz.json", e); cerr != nil {
			t.Fatalf("Validate passed but Check refused: %v", cerr)
		}
		canon, _, cerr := Canonical(e)
		if cerr != nil {
			t.Fatalf("Canonical: %v", cerr)
		}
		again, err := v.Validate("canonical.json", canon)
		if err != nil {
			t.Fatalf("canonical form does not validate: %v\n%s", err, canon)
		}
		if diff := cmp.Diff(e, again); diff != "" {
			t.Fatalf("canonical form decodes differently (-first +again):\n%s", diff)
		}
	})
}

// FuzzScreen feeds arbitrary text to the screen. It must never panic, find
// identifiers in order without overlaps, and never show a found identifier
// in full in its masked excerpt.
func FuzzScreen(f *testing.F) {
	for _, s := range []string{
		"Call 07700 900123 or email jo@example.org",
		"Mrs Smith (DOB 12/03/2015) lived at NE1 4ST",
		"NHS number 943 476 5919, NI AB 12 34 56 C",
		"Mother (Ms A) and Mr B. The social worker visited.",
		"section 47 of the Children Act 1989, tier 3 CAMHS",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fs := screenText(s, nil)
		again := screenText(s, nil)
		if !cmp.Equal(fs, again, cmp.AllowUnexported(finding{})) {
			t.Fatalf("screenText is not deterministic: %v then %v", fs, again)
		}
		star := maskOf(s, fs)
		end := 0
		for _, f := range fs {
			if f.start < end || f.end <= f.start || f.end > len(s) {
				t.Fatalf("finding %+v out of order or out of range in %q", f, s)
			}
			end = f.end
			id := s[f.start:f.end]
			if ex := maskedExcerpt(s, star, f); strings.Contains(ex, id) {
				t.Fatalf("excerpt %q shows the %s %q", ex, idKinds[f.kind].label, id)
			}
		}
	})
}
