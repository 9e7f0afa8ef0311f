package app_test

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/collate-project/collate/dashboard/auth"
)

// TestAccessCommands drives users, tokens and audit end to end on a real
// store, the way an operator would on first run.
func TestAccessCommands(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "collate.duckdb")
	pwFile := writeFile(t, dir, "admin.pw", []byte("a long admin pass phrase\n"))
	mustRun := func(t *testing.T, args ...string) string {
		t.Helper()
		out, errOut, code := run(t, append(args, "--db", db)...)
		if code != 0 {
			t.Fatalf("collate %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
		return out
	}
	failRun := func(t *testing.T, wantCode int, wantErr string, args ...string) {
		t.Helper()
		out, errOut, code := run(t, append(args, "--db", db)...)
		if code != wantCode || !strings.Contains(errOut, wantErr) {
			t.Fatalf("collate %s: exit %d, want %d with %q\n%s%s", strings.Join(args, " "), code, wantCode, wantErr, out, errOut)
		}
	}

	t.Run("first admin from a password file", func(t *testing.T) {
		out := mustRun(t, "users", "add", "--role", "admin", "--password-file", pwFile, "root")
		if !strings.Contains(out, "added user root (admin)") {
			t.Fatalf("output %q", out)
		}
	})
	t.Run("password from the environment", func(t *testing.T) {
		t.Setenv("NEW_USER_PASSWORD", "another long pass phrase")
		mustRun(t, "users", "add", "--role", "regional_analyst", "--region", "ENG-NE", "--password-env", "NEW_USER_PASSWORD", "rita")
	})
	t.Run("password from stdin", func(t *testing.T) {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		old := os.Stdin
		os.Stdin = r
		t.Cleanup(func() { os.Stdin = old; r.Close() })
		w.WriteString("board member pass phrase\r\n")
		w.Close()
		mustRun(t, "users", "add", "--role", "board-member", "--board", "ENG-NE-NCL", "--password-stdin", "bram")
	})
	t.Run("refusals", func(t *testing.T) {
		failRun(t, 2, "exactly one way", "users", "add", "--role", "admin", "nopass")
		failRun(t, 2, "exactly one way", "users", "add", "--role", "admin", "--password-file", pwFile, "--password-env", "HOME", "two")
		failRun(t, 2, "flag provided but not defined: -password", "users", "add", "--role", "admin", "--password", "hunter2hunter2", "flagpw")
		failRun(t, 1, "at least 12 characters", "users", "add", "--role", "admin", "--password-file", writeFile(t, dir, "short.pw", []byte("short\n")), "shorty")
		failRun(t, 1, "already exists", "users", "add", "--role", "admin", "--password-file", pwFile, "ROOT")
		failRun(t, 1, "needs --region", "users", "add", "--role", "regional_analyst", "--password-file", pwFile, "noregion")
		failRun(t, 2, "--role is required", "users", "add", "--password-file", pwFile, "norole")
		failRun(t, 1, "last enabled admin", "users", "disable", "root")
	})
	t.Run("list", func(t *testing.T) {
		out := mustRun(t, "users", "list")
		for _, want := range []string{"root  ", "rita  ", "bram  ", "ENG-NE-NCL", "ENG-NE  "} {
			if !strings.Contains(out, want) {
				t.Errorf("users list lacks %q:\n%s", want, out)
			}
		}
		var got struct{ Users []auth.User }
		if err := json.Unmarshal([]byte(mustRun(t, "users", "list", "--json")), &got); err != nil {
			t.Fatal(err)
		}
		if len(got.Users) != 3 || got.Users[0].Username != "bram" || got.Users[0].Region != "ENG-NE" {
			t.Fatalf("users %+v", got.Users)
		}
	})
	t.Run("role changes and grants", func(t *testing.T) {
		mustRun(t, "users", "role", "--role", "national_researcher", "rita")
		out := mustRun(t, "users", "grant-unsuppressed", "rita")
		if !strings.Contains(out, "national_researcher +unsuppressed") {
			t.Fatalf("output %q", out)
		}
		failRun(t, 1, "only national researchers and admins", "users", "grant-unsuppressed", "bram")
		mustRun(t, "users", "disable", "bram")
		mustRun(t, "users", "enable", "bram")
		mustRun(t, "users", "unlock", "bram")
		mustRun(t, "users", "password", "--password-file", pwFile, "bram")
	})

	var token, tokenID string
	t.Run("tokens", func(t *testing.T) {
		out, errOut, code := run(t, "tokens", "create", "--user", "bram", "--name", "nightly upload", "--expires", "30d", "--db", db)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		token = strings.TrimSpace(out)
		m := regexp.MustCompile(`^collate_([0-9a-f]{16})_[0-9a-f]{64}$`).FindStringSubmatch(token)
		if m == nil {
			t.Fatalf("stdout %q is not just the token", out)
		}
		tokenID = m[1]
		if !strings.Contains(errOut, "shown only now") {
			t.Errorf("stderr does not warn that the token is shown once: %q", errOut)
		}
		failRun(t, 1, "wider than the user's own", "tokens", "create", "--user", "bram", "--name", "x", "--role", "board_member", "--board", "ENG-NE-DUR")
		failRun(t, 2, "--expires", "tokens", "create", "--user", "bram", "--name", "x", "--expires", "soon")
		failRun(t, 1, "between a minute and 366 days", "tokens", "create", "--user", "bram", "--name", "x", "--expires", "2y")
		mustRun(t, "tokens", "create", "--user", "rita", "--name", "suppressed only", "--role", "national_researcher")

		list := mustRun(t, "tokens", "list", "--user", "bram")
		if !strings.Contains(list, tokenID) || !strings.Contains(list, "active") || strings.Contains(list, token) {
			t.Fatalf("tokens list:\n%s", list)
		}
		if out := mustRun(t, "tokens", "revoke", tokenID); !strings.Contains(out, "revoked token "+tokenID) {
			t.Fatalf("revoke: %q", out)
		}
		if list := mustRun(t, "tokens", "list"); !strings.Contains(list, "revoked") || !strings.Contains(list, "rita") {
			t.Fatalf("tokens list after revoke:\n%s", list)
		}
		// The revoked token no longer verifies against the same file.
		sdb, err := sql.Open("duckdb", db)
		if err != nil {
			t.Fatal(err)
		}
		defer sdb.Close()
		if _, err := auth.New(auth.Options{DB: sdb}).VerifyToken(context.Background(), token); err == nil {
			t.Fatal("revoked token still verifies")
		}
	})

	t.Run("audit", func(t *testing.T) {
		out := mustRun(t, "audit", "--since", "1h")
		for _, want := range []string{"user.add", "user.permission", "user.disable", "user.enable", "user.unlock", "user.password", "token.create", "token.revoke"} {
			if !strings.Contains(out, want) {
				t.Errorf("audit table lacks %s:\n%s", want, out)
			}
		}
		csvOut := mustRun(t, "audit", "--format", "csv", "--action", "user.")
		recs, err := csv.NewReader(strings.NewReader(csvOut)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if recs[0][0] != "id" || len(recs) < 9 {
			t.Fatalf("csv:\n%s", csvOut)
		}
		for _, r := range recs[1:] {
			if !strings.HasPrefix(r[4], "user.") || r[3] != "cli" || !strings.HasPrefix(r[2], "cli") {
				t.Errorf("csv row %v: want a user.* action by the command line", r)
			}
		}
		jsonFile := filepath.Join(dir, "audit.json")
		mustRun(t, "audit", "--format", "json", "--target", tokenID, "--out", jsonFile)
		data, err := os.ReadFile(jsonFile)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct{ Entries []auth.Entry }
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Entries) != 2 || doc.Entries[0].Action != auth.ActionTokenRevoke || doc.Entries[1].Action != auth.ActionTokenCreate {
			t.Fatalf("entries for the token: %+v", doc.Entries)
		}
		// Exports are audited too.
		out = mustRun(t, "audit", "--action", "audit.export")
		if strings.Count(out, "audit.export") != 2 {
			t.Fatalf("exports not audited:\n%s", out)
		}
		failRun(t, 2, "--since", "audit", "--since", "last tuesday")
		failRun(t, 2, "--format", "audit", "--format", "xml")
	})
}

// TestResearchWorkerCommand runs `collate research-worker` the way the
// research sandbox starts it: a request on stdin, the answer on stdout.
func TestResearchWorkerCommand(t *testing.T) {
	dir := t.TempDir()
	snap := filepath.Join(dir, "snapshot.duckdb")
	db, err := sql.Open("duckdb", snap)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE reviews AS SELECT 'R-' || range AS review_id FROM range(5)`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	if _, errOut, code := run(t, "research-worker"); code != 2 || !strings.Contains(errOut, "not by hand") {
		t.Fatalf("by hand: exit %d %s", code, errOut)
	}
	t.Setenv("COLLATE_RESEARCH_WORKER", "1")
	req, _ := json.Marshal(map[string]any{"snapshot": snap, "sql": "SELECT count(*) AS n FROM reviews", "max_rows": 10, "max_bytes": 1 << 16,
		"timeout_ms": 10000, "memory_limit": "64MB", "threads": 1, "process_memory": 0})
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdin
	os.Stdin = r
	t.Cleanup(func() { os.Stdin = old; r.Close() })
	w.Write(req)
	w.Close()
	out, errOut, code := run(t, "research-worker")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.TrimSpace(out) != `{"columns":[{"name":"n","type":"BIGINT"}],"rows":[[5]],"truncated":false}` {
		t.Fatalf("answer %s", out)
	}
}
