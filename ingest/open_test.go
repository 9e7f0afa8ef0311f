package ingest_test

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/collate-project/collate/ingest"
)

// TestOpenWithoutWAL stores a bulk load through a store opened without a
// write-ahead log: the tables answer to their usual names, a commit writes
// no log, and a checkpoint writes the reviews into the file, where a store
// opened the usual way finds them counted.
func TestOpenWithoutWAL(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "collate.duckdb")
	db, err := ingest.OpenWithoutWAL(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := ingest.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	w := ingest.NewWriter(ingest.WriterOptions{DB: db, Bulk: true})
	mustWrite(t, w, mustExample(t, "NOWAL-1"), mustExample(t, "NOWAL-2"))
	if n, err := w.Finish(ctx); err != nil || n != 2 {
		t.Fatalf("Finish counted %d reviews (%v), want 2", n, err)
	}
	if _, err := os.Stat(path + ".wal"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("after two commits the store has a write-ahead log (%v); want none", err)
	}
	var before int64
	if err := db.QueryRow(`SELECT total_blocks FROM pragma_database_size() WHERE database_name = current_database()`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	if err := ingest.Checkpoint(ctx, db); err != nil {
		t.Fatal(err)
	}
	var after int64
	if err := db.QueryRow(`SELECT total_blocks FROM pragma_database_size() WHERE database_name = current_database()`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after <= before {
		t.Errorf("the checkpoint left the file at %d blocks, from %d; want the reviews written into it", after, before)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	plain, err := sql.Open("duckdb", path+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if n := count(t, plain, `SELECT count(*) FROM reviews WHERE status = 'current' AND review_id LIKE 'NOWAL-%'`); n != 2 {
		t.Errorf("opened the usual way, the store holds %d current reviews, want 2", n)
	}
	if n := count(t, plain, `SELECT reviews FROM agg_totals`); n != 2 {
		t.Errorf("opened the usual way, the totals count %d reviews, want 2", n)
	}
}
