package federate

import (
	"database/sql"
	"testing"

	"github.com/collate-project/collate/ingest/xlsx"
)

// TestSafeCellSQLMatchesGo checks the SQL used for CSV exports against
// xlsx.SafeCell, which every other CSV Collate writes goes through.
func TestSafeCellSQLMatchesGo(t *testing.T) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cells := []string{
		"", " ", "plain text", "=1+1", " =cmd", "  @SUM(A1)", "+44 20 7946 0000", "-3", "+1.5e3", " -2.50 ",
		"-", "+", "@", "-x", "--", "-.5", "-5.", "1-2", "'=already", "\tTab", "\rCR", "\nLF", " \t", "a=b",
		"＝1+1", " ＋x", "－3", "＠x", "-3\n", "-3\u00a0", "-3\u2003", "=", "=\n", "-3 4", "- 3", "+-3", "e3", "-e3", "-1e", "-1e+5",
		"\u00a0=x", "-\u0663", // a non-ASCII digit is not a plain number
	}
	for _, c := range cells {
		var got string
		if err := db.QueryRow(`SELECT `+safeCellSQL("c")+` FROM (SELECT ?::VARCHAR AS c)`, c).Scan(&got); err != nil {
			t.Fatalf("%q: %v", c, err)
		}
		if want := xlsx.SafeCell(c); got != want {
			t.Errorf("SQL makes %q into %q; SafeCell makes %q", c, got, want)
		}
	}
}
