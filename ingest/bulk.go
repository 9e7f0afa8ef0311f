package ingest

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// statusLoading marks a review a bulk load has stored but not yet counted.
// Everything that counts or shows reviews asks for status 'current', so a
// loading review is invisible until FinishLoading counts it.
const statusLoading = "loading"

// Finish completes a bulk load (WriterOptions.Bulk): it counts every review
// stored as loading, then folds the aggregates together if they have doubled
// since they were last folded. It returns how many reviews it counted.
func (w *Writer) Finish(ctx context.Context) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	start := time.Now()
	n, fresh, err := finishLoading(ctx, w.db)
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, nil
	}
	// Counted in one pass into empty aggregates, each row is already folded
	// and in order.
	w.folded = fresh
	w.log.Info("bulk load counted", "reviews", n, "elapsed_ms", time.Since(start).Milliseconds())
	if w.deferCompaction {
		return n, nil
	}
	conn, err := w.db.Conn(ctx)
	if err != nil {
		return n, fmt.Errorf("finish: %w", err)
	}
	defer conn.Close()
	if err := inTx(ctx, conn, func() error { return w.maybeCompact(ctx, conn) }); err != nil {
		return n, fmt.Errorf("finish: %w", err)
	}
	return n, nil
}

// FinishLoading counts the reviews a bulk load left as loading: in one
// transaction it adds them to the aggregates, in one set-based pass, and marks
// them current, so the figures and the reviews they count change together.
// Opening a store for writing runs it, which completes a bulk load that
// stopped part way; it does nothing when no review is loading.
func FinishLoading(ctx context.Context, db *sql.DB) (int, error) {
	n, _, err := finishLoading(ctx, db)
	return n, err
}

// finishLoading is FinishLoading, also saying whether the aggregates were
// empty before it filled them.
func finishLoading(ctx context.Context, db *sql.DB) (n int, fresh bool, err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, false, fmt.Errorf("finish loading: %w", err)
	}
	defer conn.Close()
	err = inTx(ctx, conn, func() error {
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM reviews WHERE status = 'loading'`).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		rows, err := aggRows(ctx, conn)
		if err != nil {
			return err
		}
		fresh = rows == 0
		if err := fillAggregates(ctx, conn, `FROM reviews r WHERE r.status = 'loading'`); err != nil {
			return err
		}
		_, err = conn.ExecContext(ctx, `UPDATE reviews SET status = 'current' WHERE status = 'loading'`)
		return err
	})
	if err != nil {
		return 0, false, fmt.Errorf("finish loading: %w", err)
	}
	return n, fresh, nil
}
