package ingest

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/collate-project/collate/schemas"
)

// TestWriteGroupsWaitingCalls checks group commit: Write calls that wait
// while the writer is busy are stored together in one transaction, and each
// caller gets exactly the receipts for its own reviews.
func TestWriteGroupsWaitingCalls(t *testing.T) {
	ctx := context.Background()
	db := migratedStore(t)
	var logs bytes.Buffer
	w := NewWriter(WriterOptions{DB: db, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	example := func(id string) *Export { return exampleAs(t, id) }

	const callers = 8
	w.mu.Lock() // the writer is busy: every call below has to wait
	var wg sync.WaitGroup
	got := make([][]Receipt, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Go(func() {
			items := []Item{{Export: example(fmt.Sprintf("G-%d-a", i)), Source: "a.json"}}
			if i%2 == 0 {
				items = append(items, Item{Export: example(fmt.Sprintf("G-%d-b", i)), Source: "b.json"})
			}
			got[i], errs[i] = w.Write(ctx, items)
		})
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Millisecond) {
		w.queueMu.Lock()
		n := len(w.queue)
		w.queueMu.Unlock()
		if n == callers {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d calls queued", n, callers)
		}
	}
	w.mu.Unlock()
	wg.Wait()

	for i := range callers {
		if errs[i] != nil {
			t.Fatalf("call %d: %v", i, errs[i])
		}
		want := []string{fmt.Sprintf("G-%d-a", i)}
		if i%2 == 0 {
			want = append(want, fmt.Sprintf("G-%d-b", i))
		}
		if len(got[i]) != len(want) {
			t.Fatalf("call %d got %d receipts, want %d", i, len(got[i]), len(want))
		}
		for j, r := range got[i] {
			if r.ReviewID != want[j] || r.Outcome != Added {
				t.Errorf("call %d receipt %d = %s %s, want %s added", i, j, r.ReviewID, r.Outcome, want[j])
			}
		}
	}
	if n := strings.Count(logs.String(), `msg="ingest batch"`); n != 1 {
		t.Errorf("%d transactions stored the waiting calls, want 1:\n%s", n, logs.String())
	}
	var stored int
	if err := db.QueryRow(`SELECT count(*) FROM reviews WHERE status = 'current'`).Scan(&stored); err != nil || stored != callers*3/2 {
		t.Fatalf("store holds %d current reviews (%v), want %d", stored, err, callers*3/2)
	}
}

// TestWriteSkipsCancelledCalls checks that a queued call whose context ends
// before the writer takes it is answered with that error and stores nothing.
func TestWriteSkipsCancelledCalls(t *testing.T) {
	ctx := context.Background()
	db := migratedStore(t)
	w := NewWriter(WriterOptions{DB: db})
	var e Export
	if err := json.Unmarshal(schemas.Examples()["statutory-review.json"], &e); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := w.Write(cctx, []Item{{Export: &e, Source: "x.json"}}); err == nil {
		t.Fatal("a cancelled call was written")
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM reviews`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("store holds %d reviews (%v), want 0", n, err)
	}
}

// migratedStore opens a migrated DuckDB file in a temporary directory.
func migratedStore(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", filepath.Join(t.TempDir(), "collate.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	return db
}

// exampleAs returns the statutory review example with the review ID id.
func exampleAs(t *testing.T, id string) *Export {
	t.Helper()
	var e Export
	if err := json.Unmarshal(schemas.Examples()["statutory-review.json"], &e); err != nil {
		t.Fatal(err)
	}
	e.Review.ID = id
	return &e
}
