package ingest

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestWriterRests checks WriterOptions.Rest: after a transaction the writer
// rests, and the uploads that arrive meanwhile are stored together in the
// next transaction, each caller answered with its own receipt.
func TestWriterRests(t *testing.T) {
	ctx := context.Background()
	db := migratedStore(t)
	var logs bytes.Buffer
	// A rest of 50 times the first transaction (at most maxRest) leaves
	// the callers below ample time to queue.
	w := NewWriter(WriterOptions{DB: db, Logger: slog.New(slog.NewTextHandler(&logs, nil)), Rest: 50})
	example := func(id string) *Export { return exampleAs(t, id) }
	if _, err := w.Write(ctx, []Item{{Export: example("REST-0"), Source: "0.json"}}); err != nil {
		t.Fatal(err)
	}
	if !w.rested.After(time.Now()) {
		t.Fatal("the writer is not resting after a transaction")
	}
	const callers = 4
	var wg sync.WaitGroup
	got := make([][]Receipt, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Go(func() {
			got[i], errs[i] = w.Write(ctx, []Item{{Export: example(fmt.Sprintf("REST-%d", i+1)), Source: "x.json"}})
		})
	}
	wg.Wait()
	for i := range callers {
		if errs[i] != nil || len(got[i]) != 1 || got[i][0].ReviewID != fmt.Sprintf("REST-%d", i+1) || got[i][0].Outcome != Added {
			t.Fatalf("call %d: receipts %+v, err %v", i, got[i], errs[i])
		}
	}
	if n := strings.Count(logs.String(), `msg="ingest batch"`); n != 2 {
		t.Errorf("%d transactions, want 2 (the first review, then the four that came while the writer rested):\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "reviews=4 ") {
		t.Errorf("no transaction stored the four waiting reviews together:\n%s", logs.String())
	}
}
