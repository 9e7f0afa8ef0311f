package xlsx

import (
	"bytes"
	"encoding/csv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSafeCell(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"Police", "Police"},
		{"=1+1", "'=1+1"},
		{"=HYPERLINK(\"http://127.0.0.1\")", "'=HYPERLINK(\"http://127.0.0.1\")"},
		{"+44 20", "'+44 20"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"  =1+1", "'  =1+1"},
		{"＝1+1", "'＝1+1"},
		{"-", "'-"},
		{"- item", "'- item"},
		{"-3", "-3"},
		{"+1.5e3", "+1.5e3"},
		{"-0.25", "-0.25"},
		{"12", "12"},
		{"a=b", "a=b"},
		{"'already", "'already"},
	}
	for _, c := range cases {
		if got := SafeCell(c.in); got != c.want {
			t.Errorf("SafeCell(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestSafeCSVWriter(t *testing.T) {
	var buf bytes.Buffer
	w := NewSafeCSVWriter(&buf)
	must(t, w.Write([]string{"factor", "count"}))
	must(t, w.WriteAll([][]string{{"=cmd|' /C calc'!A0", "-1"}, {"FL.WORK.03", "12"}, {"@x", "c"}}))
	got, err := csv.NewReader(&buf).ReadAll()
	must(t, err)
	want := [][]string{{"factor", "count"}, {"'=cmd|' /C calc'!A0", "-1"}, {"FL.WORK.03", "12"}, {"'@x", "c"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("csv (-want +got):\n%s", diff)
	}
}
