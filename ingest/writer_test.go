package ingest_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/ingest/errs"
	"github.com/collate-project/collate/schemas"
)

// mustStore opens a migrated DuckDB file in a temporary directory.
func mustStore(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", filepath.Join(t.TempDir(), "collate.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := ingest.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	return db
}

// mustExample decodes the shipped statutory example, giving it a new ID.
func mustExample(t *testing.T, id string) *ingest.Export {
	t.Helper()
	var e ingest.Export
	if err := json.Unmarshal(schemas.Examples()["statutory-review.json"], &e); err != nil {
		t.Fatal(err)
	}
	e.Review.ID = id
	return &e
}

func count(t *testing.T, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func mustWrite(t *testing.T, w *ingest.Writer, es ...*ingest.Export) []ingest.Receipt {
	t.Helper()
	var items []ingest.Item
	for _, e := range es {
		items = append(items, ingest.Item{Export: e, Source: e.Review.ID + ".json", By: "test"})
	}
	rs, err := w.Write(context.Background(), items)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestWriterVersions(t *testing.T) {
	db := mustStore(t)
	w := ingest.NewWriter(ingest.WriterOptions{DB: db})

	first := mustWrite(t, w, mustExample(t, "R-1"), mustExample(t, "R-2"))
	for _, r := range first {
		if r.Outcome != ingest.Added || r.Version != 1 || len(r.SHA256) != 64 {
			t.Fatalf("first upload: got %+v, want added version 1 with a hash", r)
		}
	}
	if got := count(t, db, `SELECT count(*) FROM episodes`); got != 6 {
		t.Fatalf("episodes stored = %d, want 6", got)
	}

	again := mustWrite(t, w, mustExample(t, "R-1"))
	if again[0].Outcome != ingest.Unchanged || again[0].Version != 1 || again[0].SHA256 != first[0].SHA256 {
		t.Fatalf("identical upload: got %+v, want unchanged version 1", again[0])
	}
	if got := count(t, db, `SELECT count(*) FROM reviews`); got != 2 {
		t.Fatalf("identical upload changed the store: %d review rows, want 2", got)
	}

	changed := mustExample(t, "R-1")
	changed.Episodes = changed.Episodes[:2]
	changed.Patterns = changed.Patterns[2:3]
	changed.Patterns[0].Episodes = []int{2}
	changed.Recommendations = nil
	sup := mustWrite(t, w, changed)
	if sup[0].Outcome != ingest.Superseded || sup[0].Version != 2 {
		t.Fatalf("changed upload: got %+v, want superseded version 2", sup[0])
	}
	if got := count(t, db, `SELECT count(*) FROM reviews WHERE review_id = 'R-1' AND status = 'current'`); got != 1 {
		t.Fatalf("current versions of R-1 = %d, want 1", got)
	}
	if got := count(t, db, `SELECT version FROM reviews WHERE review_id = 'R-1' AND status = 'current'`); got != 2 {
		t.Fatalf("current version of R-1 = %d, want 2", got)
	}
	if got := count(t, db, `SELECT count(*) FROM reviews WHERE review_id = 'R-1' AND status = 'superseded'`); got != 1 {
		t.Fatalf("history of R-1 = %d superseded rows, want 1", got)
	}

	// The same review twice in one batch: the later one wins, the earlier is history.
	a, b := mustExample(t, "R-3"), mustExample(t, "R-3")
	b.Review.Questions = []string{"A different question"}
	rs := mustWrite(t, w, a, b)
	if rs[0].Outcome != ingest.Added || rs[1].Outcome != ingest.Superseded || rs[1].Version != 2 {
		t.Fatalf("same review twice in a batch: got %+v", rs)
	}
	if got := count(t, db, `SELECT count(*) FROM reviews WHERE review_id = 'R-3' AND status = 'current'`); got != 1 {
		t.Fatalf("current versions of R-3 = %d, want 1", got)
	}

	// Another board may not take over an ID.
	other := mustExample(t, "R-2")
	other.Review.Board, other.Review.Region, other.Review.Nation = "WLS-CV-CRF", "WLS-CV", "WLS"
	rs = mustWrite(t, w, other)
	if rs[0].Outcome != ingest.Rejected || errs.KindOf(rs[0].Err) != errs.Conflict {
		t.Fatalf("ID reused by another board: got %+v, want a conflict", rs[0])
	}
}

func TestWithdraw(t *testing.T) {
	db := mustStore(t)
	w := ingest.NewWriter(ingest.WriterOptions{DB: db})
	ctx := context.Background()
	mustWrite(t, w, mustExample(t, "W-1"))

	if err := w.Withdraw(ctx, "W-1", "", "admin"); errs.KindOf(err) != errs.Invalid {
		t.Fatalf("withdraw without reason: got %v, want invalid", err)
	}
	if err := w.Withdraw(ctx, "W-1", "family withdrew consent to publication", "admin"); err != nil {
		t.Fatal(err)
	}
	if got := count(t, db, `SELECT count(*) FROM reviews WHERE status = 'current'`); got != 0 {
		t.Fatalf("current reviews after withdrawal = %d, want 0", got)
	}
	if got := count(t, db, `SELECT count(*) FROM withdrawals WHERE review_id = 'W-1' AND withdrawn_by = 'admin'`); got != 1 {
		t.Fatalf("withdrawal records = %d, want 1", got)
	}
	if err := w.Withdraw(ctx, "W-1", "again", "admin"); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("second withdrawal: got %v, want conflict", err)
	}
	if err := w.Withdraw(ctx, "NOPE", "x", "admin"); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("withdraw unknown: got %v, want not found", err)
	}
	rs := mustWrite(t, w, mustExample(t, "W-1"))
	if rs[0].Outcome != ingest.Rejected || errs.KindOf(rs[0].Err) != errs.Conflict {
		t.Fatalf("re-upload of withdrawn review: got %+v, want conflict", rs[0])
	}
}

// TestWriterAllOrNothing makes the store refuse one review half-way through
// writing it and checks that none of that review is left, while the other
// reviews of the same batch are stored whole.
func TestWriterAllOrNothing(t *testing.T) {
	db := mustStore(t)
	// Recreate recommendations with a constraint that refuses the text below.
	for _, q := range []string{
		`DROP TABLE recommendations`,
		`CREATE TABLE recommendations (review_key BIGINT NOT NULL, rec_no INTEGER NOT NULL, kind INTEGER NOT NULL,
		  level VARCHAR NOT NULL, text VARCHAR NOT NULL CHECK (text <> 'poison'), patterns INTEGER[] NOT NULL)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	w := ingest.NewWriter(ingest.WriterOptions{DB: db})
	bad := mustExample(t, "BAD-1")
	bad.Recommendations[2].Text = "poison"
	rs, err := w.Write(context.Background(), []ingest.Item{
		{Export: mustExample(t, "GOOD-1")}, {Export: bad}, {Export: mustExample(t, "GOOD-2")},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []ingest.Outcome{ingest.Added, ingest.Rejected, ingest.Added}
	for i, r := range rs {
		if r.Outcome != want[i] {
			t.Fatalf("receipt %d: got %s (%v), want %s", i, r.Outcome, r.Err, want[i])
		}
	}
	for _, tc := range []struct{ table, col string }{
		{"reviews", "review_key"}, {"episodes", "review_key"}, {"episode_factors", "review_key"},
		{"patterns", "review_key"}, {"recommendations", "review_key"},
	} {
		q := `SELECT count(*) FROM ` + tc.table + ` WHERE ` + tc.col + ` IN (SELECT review_key FROM reviews WHERE review_id = 'BAD-1')`
		if got := count(t, db, q); got != 0 {
			t.Errorf("%s holds %d rows of the refused review", tc.table, got)
		}
	}
	if got := count(t, db, `SELECT count(*) FROM reviews`); got != 2 {
		t.Fatalf("reviews stored = %d, want the 2 good ones", got)
	}
	if got := count(t, db, `SELECT count(*) FROM episodes`); got != 6 {
		t.Fatalf("episodes stored = %d, want 6 (3 for each good review)", got)
	}
	if got := count(t, db, `SELECT count(*) FROM recommendations`); got != 6 {
		t.Fatalf("recommendations stored = %d, want 6", got)
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	db := mustStore(t)
	if err := ingest.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	v, err := ingest.SchemaVersion(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if want := schemas.Migrations()[len(schemas.Migrations())-1].Version; v != want {
		t.Fatalf("schema version = %d, want %d", v, want)
	}
	if got := count(t, db, `SELECT count(*) FROM frame_nodes WHERE frame_id = 'scie-lt'`); got != 128 {
		t.Fatalf("default frame nodes = %d, want 86 factor + 42 pattern codes", got)
	}
}

// TestMigrateAppliesLateLowerSteps: a store migrated before a lower-numbered
// step existed gets that step on the next start.
func TestMigrateAppliesLateLowerSteps(t *testing.T) {
	db := mustStore(t)
	// Pretend the newest step below the last that creates a table arrived
	// after the last one was applied. (TestMigrateFillsNewAggregates covers
	// a late step that reshapes the aggregates.)
	ms := schemas.Migrations()
	var late schemas.Migration
	for i := len(ms) - 2; i > 0; i-- {
		if strings.Contains(ms[i].SQL, "CREATE TABLE ") {
			late = ms[i]
			break
		}
	}
	if late.Version == 0 {
		t.Fatal("no migration below the last creates a table; the test needs one")
	}
	mustWrite(t, ingest.NewWriter(ingest.WriterOptions{DB: db}), mustExample(t, "M-1"), mustExample(t, "M-2"))
	if _, err := db.Exec(`DELETE FROM schema_version WHERE version = ?`, late.Version); err != nil {
		t.Fatal(err)
	}
	// Undo what the step made so re-applying it is observable and clean.
	var tables []string
	rows, err := db.Query(`SELECT table_name FROM duckdb_tables()`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		if strings.Contains(late.SQL, "CREATE TABLE "+n+" ") || strings.Contains(late.SQL, "CREATE TABLE "+n+"(") {
			tables = append(tables, n)
		}
	}
	rows.Close()
	if len(tables) == 0 {
		t.Fatalf("found none of the tables migration %s creates", late.Name)
	}
	for _, n := range tables {
		if _, err := db.Exec(`DROP TABLE ` + n + ` CASCADE`); err != nil {
			t.Fatalf("drop %s: %v", n, err)
		}
	}
	if err := ingest.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	for _, n := range tables {
		if got := count(t, db, `SELECT count(*) FROM duckdb_tables() WHERE table_name = ?`, n); got != 1 {
			t.Errorf("table %s from %s was not re-created", n, late.Name)
		}
	}
	if got := count(t, db, `SELECT count(*) FROM schema_version WHERE version = ?`, late.Version); got != 1 {
		t.Fatalf("migration %d recorded %d times, want once", late.Version, got)
	}
}

// TestMigrateFillsNewAggregates: when a step that reshapes aggregate tables
// is applied to a store that already holds reviews, they are filled again.
// The store is taken back to schema version 13, whose pairs named every
// partition and code, with its aggregates emptied, and upgraded.
func TestMigrateFillsNewAggregates(t *testing.T) {
	db := mustStore(t)
	mustWrite(t, ingest.NewWriter(ingest.WriterOptions{DB: db}), mustExample(t, "A-1"), mustExample(t, "A-2"))
	var step schemas.Migration
	for _, m := range schemas.Migrations() {
		if strings.Contains(m.Name, "_pairs_by_number") {
			step = m
		}
	}
	if step.Version == 0 {
		t.Fatal("no migration storing the pairs by number found")
	}
	want := count(t, db, `SELECT sum(reviews) FROM agg_totals`)
	if want != 2 {
		t.Fatalf("aggregates before the test count %d reviews, want 2", want)
	}
	pairs := count(t, db, `SELECT count(*) FROM agg_pairs_r`)
	if pairs == 0 {
		t.Fatal("the pairs roll-up is empty before the test")
	}
	// Version 13's pairs tables, as steps 2 and 4 made them.
	for _, q := range []string{
		`DELETE FROM schema_version WHERE version = ` + fmt.Sprint(step.Version),
		`DROP VIEW agg_pairs`, `DROP VIEW agg_pairs_r`, `DROP TABLE aggk_pairs`, `DROP TABLE aggk_pairs_r`,
		`DROP TABLE agg_partitions`, `DROP TABLE agg_codes`,
		`CREATE TABLE agg_pairs (board VARCHAR NOT NULL, region VARCHAR NOT NULL, nation VARCHAR NOT NULL,
			year INTEGER NOT NULL, kind VARCHAR NOT NULL, frame_id VARCHAR NOT NULL, frame_version VARCHAR NOT NULL,
			within VARCHAR NOT NULL, depth INTEGER NOT NULL, a VARCHAR NOT NULL, b VARCHAR NOT NULL,
			reviews INTEGER NOT NULL, episodes INTEGER NOT NULL)`,
		`CREATE TABLE agg_pairs_r AS SELECT * FROM agg_pairs LIMIT 0`,
		`DELETE FROM agg_totals`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
	}
	if err := ingest.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	if got := count(t, db, `SELECT coalesce(sum(reviews), 0) FROM agg_totals`); got != want {
		t.Fatalf("after the upgrade the aggregates count %d reviews, want %d", got, want)
	}
	if got := count(t, db, `SELECT count(*) FROM agg_pairs_r`); got != pairs {
		t.Fatalf("after the upgrade the pairs roll-up holds %d rows, want %d", got, pairs)
	}
	if got := count(t, db, `SELECT count(*) FROM agg_codes WHERE frame_id = 'scie-lt'`); got != 128 {
		t.Fatalf("after the upgrade agg_codes numbers %d codes of the default frame, want 128", got)
	}
}
