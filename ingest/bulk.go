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
		chunks, total, err := loadingChunks(ctx, conn)
		if err != nil || total == 0 {
			return err
		}
		n = total
		rows, err := aggRows(ctx, conn)
		if err != nil {
			return err
		}
		fresh = rows == 0
		for _, regions := range chunks {
			if err := fillAggregates(ctx, conn, `FROM reviews r WHERE r.status = 'loading'
				AND r.region IN (SELECT unnest(?::VARCHAR[]))`, regions); err != nil {
				return err
			}
		}
		_, err = conn.ExecContext(ctx, `UPDATE reviews SET status = 'current' WHERE status = 'loading'`)
		return err
	})
	if err != nil {
		return 0, false, fmt.Errorf("finish loading: %w", err)
	}
	return n, fresh, nil
}

// chunkReviews is about how many loading reviews one fill counts at a time.
// A fill holds each episode's factor codes with their ancestors in memory (a
// few hundred bytes a review), so counting 200,000 reviews at once would
// need gigabytes; in chunks it needs a bounded amount, and costs the same.
var chunkReviews = 25_000

// loadingChunks groups the regions that have loading reviews, in order, into
// chunks of about chunkReviews reviews. Every aggregate row, roll-ups
// included, belongs to one region, so the chunks' rows never share a key and
// counting them one chunk at a time leaves the aggregates as folded as
// counting them at once.
func loadingChunks(ctx context.Context, conn *sql.Conn) ([][]string, int, error) {
	rows, err := conn.QueryContext(ctx, `SELECT region, count(*) FROM reviews WHERE status = 'loading'
		GROUP BY region ORDER BY min(frame_id), min(frame_version), min(nation), region`)
	if err != nil {
		return nil, 0, fmt.Errorf("loading reviews: %w", err)
	}
	defer rows.Close()
	var chunks [][]string
	total, size := 0, 0
	for rows.Next() {
		var region string
		var n int
		if err := rows.Scan(&region, &n); err != nil {
			return nil, 0, err
		}
		if len(chunks) == 0 || size+n > chunkReviews && size > 0 {
			chunks = append(chunks, nil)
			size = 0
		}
		chunks[len(chunks)-1] = append(chunks[len(chunks)-1], region)
		size += n
		total += n
	}
	return chunks, total, rows.Err()
}
