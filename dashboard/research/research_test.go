package research_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/collate-project/collate/dashboard/auth"
	"github.com/collate-project/collate/dashboard/research"
	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/ingest/errs"
	"github.com/collate-project/collate/schemas"
)

// TestMain lets the test binary be its own research worker, as the collate
// binary is in production.
func TestMain(m *testing.M) {
	if research.IsWorker() {
		if err := research.ServeWorker(context.Background(), os.Stdin, os.Stdout); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type fixture struct {
	db     *sql.DB
	path   string
	tmp    string
	auth   *auth.Store
	writer *ingest.Writer
}

// mustFixture is a store with three current reviews, loaded through ingest.
func mustFixture(t testing.TB) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{path: filepath.Join(dir, "collate.duckdb"), tmp: filepath.Join(dir, "research")}
	if err := os.Mkdir(f.tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("duckdb", f.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := ingest.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	f.db = db
	f.auth = auth.New(auth.Options{DB: db, Argon2: auth.Argon2Params{Memory: 1024, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}})
	f.writer = ingest.NewWriter(ingest.WriterOptions{DB: db})
	for _, id := range []string{"R-1", "R-2", "R-3"} {
		f.ingest(t, id)
	}
	return f
}

func (f *fixture) ingest(t testing.TB, id string) {
	t.Helper()
	var e ingest.Export
	if err := json.Unmarshal(schemas.Examples()["statutory-review.json"], &e); err != nil {
		t.Fatal(err)
	}
	e.Review.ID = id
	rs, err := f.writer.Write(context.Background(), []ingest.Item{{Export: &e, Source: id + ".json", Format: "json", By: "test"}})
	if err != nil || rs[0].Outcome != ingest.Added {
		t.Fatalf("ingest %s: %v %+v", id, err, rs)
	}
}

func (f *fixture) sandbox(t testing.TB, l research.Limits, published func(context.Context) ([]research.Table, error)) *research.Sandbox {
	t.Helper()
	s, err := research.New(research.Options{Source: f.db, Audit: f.auth, Worker: []string{os.Args[0]}, TempDir: f.tmp, Limits: l, Published: published})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var (
	granted   = auth.Principal{Kind: auth.KindUser, UserID: 1, Username: "nora", Scope: auth.Scope{Role: auth.RoleNationalResearcher, Unsuppressed: true}}
	ungranted = auth.Principal{Kind: auth.KindUser, UserID: 2, Username: "nick", Scope: auth.Scope{Role: auth.RoleNationalResearcher}}
)

func mustQuery(t *testing.T, s *research.Sandbox, p auth.Principal, q string) *research.Result {
	t.Helper()
	res, err := s.Query(context.Background(), p, q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return res
}

func scalar(t *testing.T, res *research.Result) string {
	t.Helper()
	if len(res.Rows) != 1 || len(res.Rows[0]) != 1 {
		t.Fatalf("want one value, got %v", res.Rows)
	}
	b, _ := json.Marshal(res.Rows[0][0])
	return string(b)
}

func TestTiers(t *testing.T) {
	f := mustFixture(t)
	published := func(ctx context.Context) ([]research.Table, error) {
		return []research.Table{{
			Name: "factor_shares", Description: "Suppressed shares (a test stand-in for analytics' published tables).",
			Columns: []research.Column{{Name: "place", Type: "VARCHAR"}, {Name: "code", Type: "VARCHAR"}, {Name: "reviews", Type: "INTEGER"}, {Name: "suppressed", Type: "BOOLEAN"}},
			Rows:    [][]any{{"ENG", "FL.WORK.03", 12, false}, {"ENG-NE", "FL.WORK.03", nil, true}},
		}}, nil
	}
	s := f.sandbox(t, research.Limits{}, published)

	t.Run("granted researcher reads row-level tables", func(t *testing.T) {
		res := mustQuery(t, s, granted, `SELECT count(*) AS n FROM reviews`)
		if got := scalar(t, res); got != "3" || res.Tier != research.TierRowLevel || res.Columns[0] != (research.Column{Name: "n", Type: "BIGINT"}) {
			t.Fatalf("count = %s, tier %s, columns %v", got, res.Tier, res.Columns)
		}
		res = mustQuery(t, s, granted, `WITH e AS (SELECT review_id, count(*) n FROM episodes GROUP BY ALL) SELECT count(*) FROM e JOIN reviews USING (review_id)`)
		if scalar(t, res) != "3" {
			t.Fatalf("episodes join: %v", res.Rows)
		}
		for _, col := range []string{"body", "source_name", "uploaded_by", "review_key"} {
			if _, err := s.Query(context.Background(), granted, `SELECT `+col+` FROM reviews`); errs.KindOf(err) != errs.Invalid {
				t.Errorf("column %s is in the row-level tier: %v", col, err)
			}
		}
	})
	t.Run("ungranted researcher sees only published and reference tables", func(t *testing.T) {
		for _, table := range []string{"reviews", "episodes", "factors", "patterns", "recommendations"} {
			_, err := s.Query(context.Background(), ungranted, `SELECT count(*) FROM `+table)
			if errs.KindOf(err) != errs.Invalid || !strings.Contains(errs.Message(err), "does not exist") {
				t.Errorf("%s in the published tier: %v", table, err)
			}
		}
		res := mustQuery(t, s, ungranted, `SELECT count(*) FROM geography`)
		if scalar(t, res) != "212" || res.Tier != research.TierPublished {
			t.Fatalf("geography: %v %s", res.Rows, res.Tier)
		}
		res = mustQuery(t, s, ungranted, `SELECT place, reviews, suppressed FROM factor_shares ORDER BY place`)
		b, _ := json.Marshal(res.Rows)
		if string(b) != `[["ENG",12,false],["ENG-NE",null,true]]` {
			t.Fatalf("published table: %s", b)
		}
		res = mustQuery(t, s, ungranted, `SELECT comment FROM duckdb_tables() WHERE table_name = 'factor_shares'`)
		if !strings.Contains(scalar(t, res), "Suppressed shares") {
			t.Errorf("table description: %v", res.Rows)
		}
	})
	t.Run("other roles may not", func(t *testing.T) {
		for _, p := range []auth.Principal{
			auth.Anonymous(),
			{Kind: auth.KindUser, Username: "ray", Scope: auth.Scope{Role: auth.RoleRegionalAnalyst, Region: "ENG-NE"}},
			{Kind: auth.KindToken, Username: "bea", TokenID: "t", Scope: auth.Scope{Role: auth.RoleBoardMember, Board: "ENG-NE-NCL", Region: "ENG-NE"}},
		} {
			if _, err := s.Query(context.Background(), p, `SELECT 1`); errs.KindOf(err) != errs.Forbidden {
				t.Errorf("%s: %v", p.Role, err)
			}
		}
	})
	t.Run("values come out typed", func(t *testing.T) {
		res := mustQuery(t, s, granted, `SELECT 12345678901234567890::HUGEINT h, 1.50::DECIMAL(5,2) d, 'nan'::DOUBLE f, DATE '2024-02-29' dt,
			[1, 2] l, {'a': 'x'} st, NULL n, true b, 'é' v`)
		b, _ := json.Marshal(res.Rows[0])
		if string(b) != `[12345678901234567890,1.5,"NaN","2024-02-29",[1,2],{"a":"x"},null,true,"é"]` {
			t.Fatalf("row %s", b)
		}
	})
}

func TestEscapesAndLimits(t *testing.T) {
	f := mustFixture(t)
	outside := t.TempDir()
	s := f.sandbox(t, research.Limits{Timeout: time.Second, MaxRows: 1000, MaxBytes: 1 << 20, ProcessMemory: 1536 << 20}, nil)
	ctx := context.Background()
	canary := filepath.Join(outside, "out.csv")
	for _, tc := range []struct {
		name, sql string
		kind      errs.Kind
		message   string // part of the refusal
	}{
		{"COPY TO a file", `COPY reviews TO '` + canary + `'`, errs.Invalid, "only one SELECT or WITH query"},
		{"COPY hidden after a SELECT", `SELECT 1; COPY reviews TO '` + canary + `'`, errs.Invalid, "only one SELECT or WITH query"},
		{"two SELECTs", `SELECT 1; SELECT 2`, errs.Invalid, "2 statements"},
		{"ATTACH the main store", `ATTACH '` + f.path + `' AS main_store`, errs.Invalid, "only one SELECT or WITH query"},
		{"read_csv of /etc/passwd", `SELECT * FROM read_csv('/etc/passwd')`, errs.Invalid, "disabled by configuration"},
		{"read_text of /etc/passwd", `SELECT * FROM read_text('/etc/passwd')`, errs.Invalid, "disabled by configuration"},
		{"read_parquet of the main store", `SELECT * FROM read_parquet('` + f.path + `')`, errs.Invalid, "disabled by configuration"},
		{"glob of the file system", `SELECT * FROM glob('/*')`, errs.Invalid, "disabled by configuration"},
		{"COPY through query()", `SELECT * FROM query('COPY reviews TO ''` + canary + `''')`, errs.Invalid, "single SELECT"},
		{"INSTALL", `INSTALL httpfs`, errs.Invalid, "not INSTALL"},
		{"LOAD", `LOAD httpfs`, errs.Invalid, "not LOAD"},
		{"PRAGMA", `PRAGMA threads=8`, errs.Invalid, "not PRAGMA"},
		{"SET", `SET enable_external_access = true`, errs.Invalid, "not SET"},
		{"RESET", `RESET lock_configuration`, errs.Invalid, "not RESET"},
		{"comment before a SET", "/* hi */ -- there\nSET memory_limit = '10GB'", errs.Invalid, "not SET"},
		{"WITH ... DELETE", `WITH x AS (SELECT 1) DELETE FROM reviews`, errs.Invalid, "only one SELECT or WITH query"},
		{"CREATE TEMP TABLE", `CREATE TEMP TABLE x AS SELECT 1`, errs.Invalid, "not CREATE"},
		{"EXPORT DATABASE", `EXPORT DATABASE '` + outside + `'`, errs.Invalid, "not EXPORT"},
		{"DETACH", `DETACH snapshot`, errs.Invalid, "not DETACH"},
		{"empty", "  -- nothing\n", errs.Invalid, "empty"},
		{"too long", "SELECT " + strings.Repeat("1+", 20000) + "1", errs.Invalid, "at most 20000"},
		{"list bigger than memory", `SELECT len(range(1000000000))`, errs.Invalid, "more memory"},
		{"huge cross join stopped by the time limit", `SELECT count(*) FROM range(1000000000) a, range(1000000000) b`, errs.Unavailable, "longer than the 1s limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := s.Query(ctx, granted, tc.sql)
			if err == nil {
				t.Fatalf("accepted: %v", res)
			}
			if errs.KindOf(err) != tc.kind || !strings.Contains(errs.Message(err), tc.message) {
				t.Fatalf("err = %v (kind %v), want %v containing %q", err, errs.KindOf(err), tc.kind, tc.message)
			}
		})
	}
	if _, err := os.Stat(canary); !os.IsNotExist(err) {
		t.Errorf("a refused COPY left %s behind (%v)", canary, err)
	}

	t.Run("huge result capped", func(t *testing.T) {
		res := mustQuery(t, s, granted, `SELECT range AS i FROM range(10000000)`)
		if !res.Truncated || len(res.Rows) != 1000 || res.RowCap != 1000 {
			t.Fatalf("truncated=%v rows=%d cap=%d", res.Truncated, len(res.Rows), res.RowCap)
		}
		res = mustQuery(t, s, granted, `SELECT repeat('x', 10000) FROM range(500)`)
		if !res.Truncated || len(res.Rows) >= 500 || len(res.Rows) < 90 {
			t.Fatalf("byte cap: truncated=%v rows=%d", res.Truncated, len(res.Rows))
		}
		res = mustQuery(t, s, granted, `SELECT range AS i FROM range(1000)`)
		if res.Truncated || len(res.Rows) != 1000 {
			t.Fatalf("exactly the cap: truncated=%v rows=%d", res.Truncated, len(res.Rows))
		}
	})
	t.Run("a comment and FROM-less SELECT work", func(t *testing.T) {
		if got := scalar(t, mustQuery(t, s, granted, "-- how many?\n/* all */ select 40 + 2")); got != "42" {
			t.Fatalf("got %s", got)
		}
	})
	t.Run("every query audited", func(t *testing.T) {
		es, err := f.auth.AuditLog(auth.WithPrincipal(ctx, auth.CLI("t")), auth.AuditFilter{Action: auth.ActionResearchQuery})
		if err != nil {
			t.Fatal(err)
		}
		outcomes := map[auth.Outcome]int{}
		for _, e := range es {
			outcomes[e.Outcome]++
			if e.Actor != "nora" || e.Detail["sql"] == "" {
				t.Errorf("entry %+v", e)
			}
		}
		if outcomes[auth.OutcomeDenied] != 22 || outcomes[auth.OutcomeFailed] != 1 || outcomes[auth.OutcomeOK] != 4 {
			t.Fatalf("outcomes %v, want 22 denied, 1 failed (the time limit), 4 ok", outcomes)
		}
	})
}

func TestSnapshotFollowsTheData(t *testing.T) {
	f := mustFixture(t)
	s := f.sandbox(t, research.Limits{}, nil)
	count := func() string { return scalar(t, mustQuery(t, s, granted, `SELECT count(*) FROM reviews`)) }
	if got := count(); got != "3" {
		t.Fatalf("before: %s", got)
	}
	first, _ := filepath.Glob(filepath.Join(f.tmp, "collate-research-*"))
	f.ingest(t, "R-4")
	if got := count(); got != "4" {
		t.Fatalf("after an upload: %s", got)
	}
	if err := ingest.NewWriter(ingest.WriterOptions{DB: f.db}).Withdraw(context.Background(), "R-1", "test withdrawal", "test"); err != nil {
		t.Fatal(err)
	}
	if got := count(); got != "3" {
		t.Fatalf("after a withdrawal: %s", got)
	}
	now, _ := filepath.Glob(filepath.Join(f.tmp, "collate-research-*"))
	if len(first) != 1 || len(now) != 1 || now[0] == first[0] {
		t.Fatalf("snapshot directories before %v, now %v: want one, replaced", first, now)
	}
	s.Close()
	if left, _ := filepath.Glob(filepath.Join(f.tmp, "*")); len(left) != 0 {
		t.Fatalf("Close left %v", left)
	}
}
