package app_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/schemas"
)

// shape is what one review file holds, counted the way the store counts it.
type shape struct{ Episodes, Factors, Patterns, Recommendations int }

// writeReview writes revision rev of a review made from the shipped example
// under its own ID, board and year: each revision has its own questions and
// its own number of factors and recommendations, so successive revisions
// are new versions with different row counts. It returns the file's shape.
func writeReview(t *testing.T, dir, id, board string, year, rev int) shape {
	t.Helper()
	var e ingest.Export
	if err := json.Unmarshal(schemas.Examples()["statutory-review.json"], &e); err != nil {
		t.Fatal(err)
	}
	p, ok := schemas.LoadGeography().Board(board)
	if !ok {
		t.Fatalf("board %s is not in the geography", board)
	}
	rv := &e.Review
	rv.ID, rv.Board, rv.Region, rv.Nation = id, p.Board, p.Region, p.Nation
	rv.Completed.Year = year
	rv.Questions = append(rv.Questions, fmt.Sprintf("What did revision %d of the review add?", rev+1))
	var s shape
	for j := range e.Episodes {
		keep := 1 + (rev+j)%len(e.Episodes[j].Factors)
		e.Episodes[j].Factors = e.Episodes[j].Factors[:keep]
		s.Factors += keep
	}
	e.Recommendations = e.Recommendations[:1+rev%len(e.Recommendations)]
	s.Episodes, s.Patterns, s.Recommendations = len(e.Episodes), len(e.Patterns), len(e.Recommendations)
	b, err := json.MarshalIndent(&e, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, fmt.Sprintf("%s.r%d.json", id, rev), b)
	return s
}

// writeReviews writes n new reviews spread over boards into dir.
func writeReviews(t *testing.T, dir, prefix string, boards []string, n int) {
	t.Helper()
	for i := range n {
		writeReview(t, dir, fmt.Sprintf("%s-%03d", prefix, i), boards[i%len(boards)], 2019+i%5, i)
	}
}

// mustRun runs a command line and fails the test unless it exits 0.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := run(t, args...)
	if code != 0 {
		t.Fatalf("collate %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// tables returns every table of a store, rows rendered as text and sorted.
func tables(t *testing.T, path string) map[string][]string {
	t.Helper()
	db, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	names := queryStrings(t, db, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY 1`)
	out := map[string][]string{}
	for _, n := range names {
		out[n] = queryStrings(t, db, `SELECT CAST(x AS VARCHAR) AS r FROM "`+n+`" AS x ORDER BY r`)
	}
	return out
}

func queryStrings(t *testing.T, db *sql.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func TestBackupAndRestoreCommands(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	writeReviews(t, in, "OPS", []string{"ENG-NE-NCL", "WLS-CV-CRF", "SCT-N-ABE"}, 6)
	writeReview(t, filepath.Join(dir, "in2"), "OPS-000", "ENG-NE-NCL", 2019, 7)
	a := filepath.Join(dir, "a.duckdb")
	mustRun(t, "ingest", "--db", a, in)
	mustRun(t, "ingest", "--db", a, filepath.Join(dir, "in2"))
	mustRun(t, "withdraw", "--db", a, "--reason", "entered twice", "OPS-001")

	bk := filepath.Join(dir, "backup")
	out := mustRun(t, "backup", "--db", a, bk)
	if !strings.Contains(out, "backed up "+a+" to "+bk+": 7 review versions, 1 withdrawals") {
		t.Errorf("backup printed %q", out)
	}
	b := filepath.Join(dir, "restored", "b.duckdb")
	out = mustRun(t, "restore", "--db", b, bk)
	if !strings.Contains(out, "restored "+bk) || !strings.Contains(out, "7 review versions") {
		t.Errorf("restore printed %q", out)
	}
	if diff := cmp.Diff(tables(t, a), tables(t, b)); diff != "" {
		t.Errorf("restored store differs (-original +restored):\n%s", diff)
	}

	tests := []struct {
		name string
		args []string
		code int
		want string // in stdout or stderr
	}{
		{"backup needs a directory", []string{"backup", "--db", a}, 2, "name one new (or empty) directory"},
		{"backup refuses a used directory", []string{"backup", "--db", a, bk}, 1, "is not empty"},
		{"restore refuses a store with reviews", []string{"restore", "--db", b, bk}, 1, "already holds 7 review versions"},
		{"restore refuses a directory that is not a backup", []string{"restore", "--db", filepath.Join(dir, "c.duckdb"), in}, 1, "not a finished Collate backup"},
		{"restore with --force keeps the old store", []string{"restore", "--force", "--db", b, bk}, 0, "the store it replaced is kept as " + b + ".pre-restore-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := run(t, tt.args...)
			if code != tt.code || !strings.Contains(out+errOut, tt.want) {
				t.Errorf("exit %d (want %d); want %q in output:\n%s%s", code, tt.code, tt.want, out, errOut)
			}
		})
	}
}

func TestExportAndImportCommands(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.duckdb"), filepath.Join(dir, "b.duckdb")
	writeReviews(t, filepath.Join(dir, "in-a"), "A", []string{"ENG-NE-NCL", "WLS-CV-CRF"}, 6)
	writeReviews(t, filepath.Join(dir, "in-b"), "B", []string{"SCT-N-ABE"}, 3)
	mustRun(t, "ingest", "--db", a, filepath.Join(dir, "in-a"))
	mustRun(t, "ingest", "--db", b, filepath.Join(dir, "in-b"))

	exp := filepath.Join(dir, "export")
	out := mustRun(t, "export", "--format", "parquet", "--db", a, exp)
	if !strings.Contains(out, "exported 6 review versions") {
		t.Errorf("export printed %q", out)
	}
	if _, err := os.Stat(filepath.Join(exp, "reviews", "nation=WLS", "region=WLS-CV", "year=2020", "data_0.parquet")); err != nil {
		t.Errorf("export is not partitioned by nation, region and year: %v", err)
	}
	out = mustRun(t, "import", "--db", b, exp)
	if !strings.Contains(out, "added 6, updated 0, unchanged 0, conflicts 0") {
		t.Errorf("import printed %q", out)
	}
	if n := countRows(t, b, `SELECT count(*) FROM reviews`); n != 9 {
		t.Errorf("B holds %d reviews after import, want 6 + 3", n)
	}
	out = mustRun(t, "import", "--json", "--db", b, exp)
	var sum struct {
		Added, Unchanged, Conflicts int
		Reviews                     []struct{ Outcome string }
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil || sum.Unchanged != 6 || sum.Added != 0 || len(sum.Reviews) != 6 {
		t.Errorf("second import: %+v (%v)\n%s", sum, err, out)
	}

	csvDir := filepath.Join(dir, "csv")
	mustRun(t, "export", "--format", "csv", "--db", a, csvDir)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown format", []string{"export", "--format", "xml", "--db", a, filepath.Join(dir, "x")}, 2, "--format must be parquet or csv"},
		{"export refuses a used directory", []string{"export", "--db", a, exp}, 1, "is not empty"},
		{"csv is not for import", []string{"import", "--db", b, csvDir}, 1, "import reads Parquet exports only"},
		{"not an export", []string{"import", "--db", b, filepath.Join(dir, "in-a")}, 1, "not a finished Collate export"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := run(t, tt.args...)
			if code != tt.code || !strings.Contains(out+errOut, tt.want) {
				t.Errorf("exit %d (want %d); want %q in output:\n%s%s", code, tt.code, tt.want, out, errOut)
			}
		})
	}

	t.Run("a conflicting review is reported and the rest imported", func(t *testing.T) {
		c := filepath.Join(dir, "c.duckdb")
		writeReview(t, filepath.Join(dir, "in-c"), "A-002", "ENG-NE-NCL", 2021, 9)
		mustRun(t, "ingest", "--db", c, filepath.Join(dir, "in-c"))
		out, errOut, code := run(t, "import", "--db", c, exp)
		if code != 1 || !strings.Contains(out, "CONFLICT A-002: version 1 of review A-002 has different content here") ||
			!strings.Contains(out, "added 5, updated 0, unchanged 0, conflicts 1") {
			t.Errorf("exit %d; output:\n%s%s", code, out, errOut)
		}
	})
}

// TestCommandsRefuseStoreInUse runs the commands as another process while
// this one holds the store open, as collate serve would.
func TestCommandsRefuseStoreInUse(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the collate binary")
	}
	bin := buildCollate(t)
	dir := t.TempDir()
	store := filepath.Join(dir, "a.duckdb")
	writeReviews(t, filepath.Join(dir, "in"), "USE", []string{"ENG-NE-NCL"}, 2)
	mustRun(t, "ingest", "--db", store, filepath.Join(dir, "in"))
	mustRun(t, "backup", "--db", store, filepath.Join(dir, "bk"))
	held, err := sql.Open("duckdb", store)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	if err := held.Ping(); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"backup", "--db", store, filepath.Join(dir, "bk2")},
		{"export", "--db", store, filepath.Join(dir, "exp")},
		{"import", "--db", store, filepath.Join(dir, "exp")},
		{"restore", "--force", "--db", store, filepath.Join(dir, "bk")},
	} {
		t.Run(args[0], func(t *testing.T) {
			cmd := exec.Command(bin, args...)
			out, err := cmd.CombinedOutput()
			if code := cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(string(out), "open in another process") {
				t.Errorf("exit %d (%v); want 1 and a message that the store is in use:\n%s", code, err, out)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "bk2")); err == nil {
		t.Error("a refused backup left a directory")
	}
}
