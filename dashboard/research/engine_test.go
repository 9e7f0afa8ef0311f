package research

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"
)

// TestEngineRefusesEscapes runs escapes straight at a worker's connection,
// past the statement checks, to show the engine refuses them on its own.
func TestEngineRefusesEscapes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "snapshot.duckdb")
	b, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Exec(`CREATE TABLE reviews AS SELECT 1 AS n`); err != nil {
		t.Fatal(err)
	}
	b.Close()
	dsn, err := workerDSN(workerRequest{Snapshot: path, MemoryLimit: "256MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("duckdb", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := filepath.Join(dir, "out.csv")
	for _, q := range []string{
		`COPY reviews TO '` + out + `'`,
		`ATTACH '` + filepath.Join(dir, "other.duckdb") + `' AS other`,
		`SELECT * FROM read_csv('/etc/passwd')`,
		`INSTALL httpfs`,
		`LOAD httpfs`,
		`PRAGMA threads=8`,
		`SET memory_limit = '10GB'`,
		`SET enable_external_access = true`,
		`RESET lock_configuration`,
		`CREATE TABLE x AS SELECT 1`,
		`INSERT INTO reviews VALUES (2)`,
		`EXPORT DATABASE '` + filepath.Join(dir, "export") + `'`,
	} {
		if _, err := db.ExecContext(context.Background(), q); err == nil {
			t.Errorf("the engine ran %s", q)
		} else if !strings.Contains(err.Error(), "disabled") && !strings.Contains(err.Error(), "locked") && !strings.Contains(err.Error(), "read-only") {
			t.Errorf("%s: refused for an unexpected reason: %v", q, err)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("COPY wrote %s", out)
	}
	var ext, lock, threads string
	if err := db.QueryRow(`SELECT current_setting('enable_external_access')::VARCHAR, current_setting('lock_configuration')::VARCHAR, current_setting('threads')::VARCHAR`).Scan(&ext, &lock, &threads); err != nil {
		t.Fatal(err)
	}
	if ext != "false" || lock != "true" || threads != "1" {
		t.Fatalf("settings external=%s lock=%s threads=%s", ext, lock, threads)
	}
}

func TestFirstWord(t *testing.T) {
	for q, want := range map[string]string{
		"select 1":                   "select",
		"  \n\tWITH x AS (SELECT 1)": "WITH",
		"-- c\nSELECT":               "SELECT",
		"/* a */ /* b */ SET x=1":    "SET",
		"/* unterminated SELECT":     "",
		"-- only a comment":          "",
		"(SELECT 1)":                 "",
		"SELECT(1)":                  "SELECT",
	} {
		if got := firstWord(q); got != want {
			t.Errorf("firstWord(%q) = %q, want %q", q, got, want)
		}
	}
}
