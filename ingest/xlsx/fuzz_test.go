package xlsx

import (
	"bytes"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/collate-project/collate/ingest"
)

// FuzzReadXLSX feeds arbitrary bytes to the reader: it must never panic, and
// a refusal is always ingest.Problems naming the file.
func FuzzReadXLSX(f *testing.F) {
	var tpl bytes.Buffer
	if err := Template(&tpl, nil, nil); err != nil {
		f.Fatal(err)
	}
	f.Add(tpl.Bytes())
	f.Add(mustWrite(f, exampleExport(f)))
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		wb, err := ReadWorkbook("fuzz.xlsx", data)
		if err == nil {
			if wb == nil || wb.Export == nil {
				t.Fatal("no error and no export")
			}
			return
		}
		var ps ingest.Problems
		if !errors.As(err, &ps) || len(ps) == 0 || ps[0].File != "fuzz.xlsx" {
			t.Fatalf("refusal is not problems naming the file: %v", err)
		}
	})
}

// FuzzCellText: any valid text written into a workbook reads back the same.
func FuzzCellText(f *testing.F) {
	for _, s := range []string{"plain", "=1+1", "_x0041_", "a\x01b", " x ", "a\r\nb", "__x005F_x0041__", "_x0041\x02"} {
		f.Add(s)
	}
	e := exampleExport(f)
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) || len(s) > 4000 {
			t.Skip()
		}
		e.Episodes[0].Description = s
		e.Patterns[0].Summary = s
		data := mustWrite(t, e)
		wb, err := ReadWorkbook("fuzz.xlsx", data)
		if err != nil {
			t.Fatal(err)
		}
		want := s
		if isBlank(s) {
			want = "" // a blank cell is a field not recorded
		}
		if got := wb.Export.Episodes[0].Description; got != want {
			t.Fatalf("description %q read back as %q", want, got)
		}
	})
}
