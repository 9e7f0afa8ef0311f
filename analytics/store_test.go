package analytics

import (
	"context"
	"database/sql"
	"testing"
)

// TestStmtDBDropsInUse: a prepared statement pushed out of the cache (or
// dropped by a replan) while a caller holds it stays usable until released,
// and is closed then.
func TestStmtDBDropsInUse(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	d := newStmtDB(db)
	d.max = 2
	held := d.acquire(ctx, `SELECT ?::INT + 1`)
	if held == nil {
		t.Fatal("could not prepare")
	}
	for _, q := range []string{`SELECT ?::INT + 2`, `SELECT ?::INT + 3`} {
		var n int
		if err := d.QueryRowContext(ctx, q, 1).Scan(&n); err != nil {
			t.Fatal(err)
		}
	}
	if !held.dropped {
		t.Fatal("the least recent statement is still cached with max 2")
	}
	var n int
	if err := held.st.QueryRowContext(ctx, 41).Scan(&n); err != nil || n != 42 {
		t.Fatalf("statement in use after being dropped: %d, %v", n, err)
	}
	d.release(held)
	if err := held.st.QueryRowContext(ctx, 41).Scan(&n); err == nil {
		t.Error("a dropped statement stayed open after its last use")
	}

	held = d.acquire(ctx, `SELECT ?::INT + 2`)
	d.replan(1000) // from nothing planned to 1,000 reviews: every plan is made again
	d.replan(5000)
	if len(d.entries) != 0 || !held.dropped {
		t.Fatalf("after the reviews grew fivefold %d statements are cached", len(d.entries))
	}
	if err := held.st.QueryRowContext(ctx, 1).Scan(&n); err != nil || n != 3 {
		t.Fatalf("statement in use after a replan: %d, %v", n, err)
	}
	d.release(held)
	if err := d.QueryRowContext(ctx, `SELECT ?::INT + 2`, 1).Scan(&n); err != nil || n != 3 {
		t.Fatalf("prepared again: %d, %v", n, err)
	}
}

// TestReadMemoFollowsWrites: the memo of aggregate reads answers a second
// view without DuckDB, and never with rows from before a write.
func TestReadMemoFollowsWrites(t *testing.T) {
	ctx := context.Background()
	db := mustDB(t)
	fs := recurrenceFixtures()
	mustWrite(t, db, exports(fs[:2]...)...)
	s := mustStore(t, db, 0)
	reviews := func() int {
		t.Helper()
		ov, err := s.Overview(ctx, admin, Selection{Collection: UK})
		if err != nil {
			t.Fatal(err)
		}
		return val(t, ov.Totals.ReviewsReceived)
	}
	if n := reviews(); n != 2 {
		t.Fatalf("reviews = %d, want 2", n)
	}
	memoised := len(s.reads.rows)
	if memoised == 0 {
		t.Fatal("the overview's aggregate reads were not kept")
	}
	if n := reviews(); n != 2 || len(s.reads.rows) != memoised {
		t.Fatalf("asked again: reviews = %d, reads kept %d then %d", n, memoised, len(s.reads.rows))
	}
	mustWrite(t, db, exports(fs[2:4]...)...)
	if n := reviews(); n != 4 {
		t.Fatalf("after two more reviews were stored, reviews = %d, want 4", n)
	}
	if err := mustWriter(db).Withdraw(ctx, fs[0].id, "duplicate", "test"); err != nil {
		t.Fatal(err)
	}
	if n := reviews(); n != 3 {
		t.Fatalf("after a withdrawal, reviews = %d, want 3", n)
	}
}
