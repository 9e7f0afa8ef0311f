package app_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/collate-project/collate/cmd/app"
	"github.com/collate-project/collate/schemas"
)

// run parses and runs a command line the way main does, returning output and exit code.
func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	cfg, err := app.Parse(args, nil, &errb)
	if err == nil {
		err = app.Run(context.Background(), cfg, &out, &errb)
	}
	if err != nil {
		errb.WriteString("collate: " + err.Error() + "\n") // as main prints it
		code = app.ExitCode(err)
	}
	return out.String(), errb.String(), code
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCLIEndToEnd(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	if err := os.Mkdir(in, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range schemas.Examples() {
		writeFile(t, in, name, data)
	}
	bad := filepath.Join(dir, "bad")
	if err := os.Mkdir(bad, 0o755); err != nil {
		t.Fatal(err)
	}
	badFile := writeFile(t, bad, "truncated.json", schemas.Examples()["statutory-review.json"][:200])
	db := filepath.Join(dir, "store", "collate.duckdb")

	t.Run("validate good files", func(t *testing.T) {
		out, _, code := run(t, "validate", in)
		if code != 0 || !strings.Contains(out, "0 invalid") {
			t.Fatalf("exit %d, output:\n%s", code, out)
		}
	})
	t.Run("validate names the bad file and location", func(t *testing.T) {
		out, _, code := run(t, "validate", "--json", bad)
		if code != 1 {
			t.Fatalf("exit %d, want 1; output:\n%s", code, out)
		}
		var got struct {
			Files []struct {
				File     string `json:"file"`
				Valid    bool   `json:"valid"`
				Problems []struct {
					File     string `json:"file"`
					Location string `json:"location"`
					Message  string `json:"message"`
				} `json:"problems"`
			} `json:"files"`
			Invalid int `json:"invalid"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("validate --json output is not JSON: %v\n%s", err, out)
		}
		if got.Invalid != 1 || len(got.Files) != 1 || got.Files[0].Valid || len(got.Files[0].Problems) == 0 {
			t.Fatalf("unexpected result: %+v", got)
		}
		p := got.Files[0].Problems[0]
		if p.File != badFile || p.Location == "" || p.Message == "" {
			t.Fatalf("problem lacks file or location: %+v", p)
		}
	})
	t.Run("ingest then ingest again", func(t *testing.T) {
		out, _, code := run(t, "ingest", "--db", db, in)
		n := len(schemas.Examples())
		if code != 0 || !strings.Contains(out, "added "+itoa(n)+", unchanged 0") {
			t.Fatalf("first ingest: exit %d, output:\n%s", code, out)
		}
		out, _, code = run(t, "ingest", in, "--db", db)
		if code != 0 || !strings.Contains(out, "added 0, unchanged "+itoa(n)) {
			t.Fatalf("second ingest: exit %d, output:\n%s", code, out)
		}
	})
	t.Run("a bad file is rejected and nothing of it is stored", func(t *testing.T) {
		out, _, code := run(t, "ingest", "--db", db, bad)
		if code != 1 || !strings.Contains(out, "REJECTED "+badFile) || !strings.Contains(out, "rejected 1") {
			t.Fatalf("exit %d, output:\n%s", code, out)
		}
		if got := countRows(t, db, `SELECT count(*) FROM reviews WHERE source_name LIKE '%truncated%'`); got != 0 {
			t.Fatalf("rejected file left %d rows", got)
		}
	})
	t.Run("withdraw", func(t *testing.T) {
		_, errOut, code := run(t, "withdraw", "--db", db, "NCL-CSPR-2023-04")
		if code != 2 || !strings.Contains(errOut, "reason") {
			t.Fatalf("withdraw without reason: exit %d, stderr:\n%s", code, errOut)
		}
		out, _, code := run(t, "withdraw", "--db", db, "--reason", "published in error", "NCL-CSPR-2023-04")
		if code != 0 || !strings.Contains(out, "withdrew") {
			t.Fatalf("withdraw: exit %d, output:\n%s", code, out)
		}
		if got := countRows(t, db, `SELECT count(*) FROM reviews WHERE review_id = 'NCL-CSPR-2023-04' AND status = 'withdrawn'`); got != 1 {
			t.Fatalf("withdrawn rows = %d, want 1", got)
		}
	})
	t.Run("usage errors exit 2", func(t *testing.T) {
		if _, _, code := run(t, "nonsense"); code != 2 {
			t.Fatalf("unknown command: exit %d, want 2", code)
		}
		if _, _, code := run(t, "ingest", "--batch", "0", in); code != 2 {
			t.Fatalf("bad flag value: exit %d, want 2", code)
		}
	})
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func countRows(t *testing.T, path, query string) int {
	t.Helper()
	db, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestServeTuningSettings: the writer's rest and DuckDB's threads come from
// the environment, flags override them, and bad values stop with a usage
// error that names the setting.
func TestServeTuningSettings(t *testing.T) {
	var errb bytes.Buffer
	cfg, err := app.Parse([]string{"serve"}, nil, &errb)
	if err != nil || cfg.WriterRest != 1 || cfg.DBThreads != 0 || cfg.StaleFor != 30*time.Second {
		t.Fatalf("defaults: rest %v, threads %d, stale for %v, err %v", cfg.WriterRest, cfg.DBThreads, cfg.StaleFor, err)
	}
	cfg, err = app.Parse([]string{"serve", "--stale-for", "0"}, []string{"COLLATE_STALE_FOR=5s"}, &errb)
	if err != nil || cfg.StaleFor != 0 {
		t.Fatalf("--stale-for 0 over the environment: %v, err %v", cfg.StaleFor, err)
	}
	cfg, err = app.Parse([]string{"serve"}, []string{"COLLATE_WRITER_REST=2.5", "COLLATE_DB_THREADS=1"}, &errb)
	if err != nil || cfg.WriterRest != 2.5 || cfg.DBThreads != 1 {
		t.Fatalf("environment: rest %v, threads %d, err %v", cfg.WriterRest, cfg.DBThreads, err)
	}
	cfg, err = app.Parse([]string{"serve", "--writer-rest", "0", "--db-threads", "2"}, []string{"COLLATE_WRITER_REST=2.5", "COLLATE_DB_THREADS=1"}, &errb)
	if err != nil || cfg.WriterRest != 0 || cfg.DBThreads != 2 {
		t.Fatalf("flags over the environment: rest %v, threads %d, err %v", cfg.WriterRest, cfg.DBThreads, err)
	}
	for _, env := range []string{"COLLATE_WRITER_REST=-1", "COLLATE_WRITER_REST=soon", "COLLATE_DB_THREADS=-2", "COLLATE_DB_THREADS=many",
		"COLLATE_STALE_FOR=-1s", "COLLATE_STALE_FOR=a while"} {
		name, _, _ := strings.Cut(env, "=")
		_, err := app.Parse([]string{"serve"}, []string{env}, &errb)
		if err == nil || app.ExitCode(err) != 2 || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err %v (exit %d), want a usage error naming %s", env, err, app.ExitCode(err), name)
		}
	}
}
