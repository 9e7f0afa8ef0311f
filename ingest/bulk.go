package ingest

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
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
//
// It counts the loading reviews before it opens its transaction, into
// temporary tables (countLoading), and in the transaction only checks that
// the same reviews are still loading, stores the counts and marks the
// reviews current, so the figures and the reviews they count still change
// together. DuckDB scans a temporary table filled inside a transaction on
// one thread, and one committed before it on every thread: counted this way,
// 20,000 reviews are counted and stored a fifth faster on two cores.
// Should the loading reviews have changed meanwhile, it counts them again
// inside the transaction.
func finishLoading(ctx context.Context, db *sql.DB) (n int, fresh bool, err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, false, fmt.Errorf("finish loading: %w", err)
	}
	defer conn.Close()
	defer dropFillTables(ctx, conn)
	counted, err := countLoading(ctx, conn)
	if afterCount != nil {
		afterCount()
	}
	if err != nil || counted == 0 {
		if err != nil {
			err = fmt.Errorf("finish loading: %w", err)
		}
		return 0, false, err
	}
	err = inTx(ctx, conn, func() error {
		same, err := loadingUnchanged(ctx, conn)
		if err != nil {
			return err
		}
		rows, err := aggRows(ctx, conn)
		if err != nil {
			return err
		}
		fresh = rows == 0
		if same {
			n = counted
			if err := withoutFSST(ctx, conn, func() error { return runSteps(ctx, conn, storeSteps) }); err != nil {
				return err
			}
		} else if n, err = fillLoading(ctx, conn); err != nil || n == 0 {
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

// withoutFSST runs fn with DuckDB's FSST string compression turned off, then
// turns it back on. The aggregates' text columns hold a few hundred codes and
// places, which DuckDB stores dictionary-compressed whatever it is offered,
// but it first tries FSST on every segment written: about a tenth of the
// time storing a load's aggregates takes. The setting is the database's, so
// it is off only while fn runs.
func withoutFSST(ctx context.Context, conn *sql.Conn, fn func() error) error {
	var was string
	if err := conn.QueryRowContext(ctx, `SELECT current_setting('disabled_compression_methods')`).Scan(&was); err != nil {
		return fmt.Errorf("compression setting: %w", err)
	}
	set := func(v string) error {
		_, err := conn.ExecContext(ctx, `SET disabled_compression_methods = '`+strings.ReplaceAll(v, "'", "''")+`'`)
		return err
	}
	off := "fsst,dict_fsst"
	if was != "" {
		off = was + "," + off
	}
	if err := set(off); err != nil {
		return fmt.Errorf("compression setting: %w", err)
	}
	err := fn()
	if rerr := set(was); rerr != nil && err == nil {
		err = fmt.Errorf("compression setting: %w", rerr)
	}
	return err
}

// Checkpoint folds the write-ahead log into the database file, as closing
// the store would, with FSST string compression turned off (withoutFSST).
// A bulk load calls it at the end: on the load's fresh segments DuckDB tries
// FSST on every text column, and keeps it for a few free-text ones at most
// (episode descriptions, in the demo data), so trying costs a fifth of the
// checkpoint (on 1,000 demo reviews, 0.34 s against 0.28 s) and saves about
// 1 % of the file. Text written later is compressed as usual.
func Checkpoint(ctx context.Context, db *sql.DB) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	defer conn.Close()
	err = withoutFSST(ctx, conn, func() error {
		_, err := conn.ExecContext(ctx, `CHECKPOINT`)
		return err
	})
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// afterCount, when set by a test, runs between counting the loading reviews
// and the transaction storing the counts.
var afterCount func()

// countLoading counts every loading review, a few regions at a time, into
// the temporary tables storeSteps store from, each statement committed as it
// runs; temp.agg_loading lists the reviews counted. It returns how many.
func countLoading(ctx context.Context, conn *sql.Conn) (int, error) {
	if err := scopeReviews(ctx, conn, `FROM reviews r WHERE r.status = 'loading'`); err != nil {
		return 0, err
	}
	steps := []aggStep{partitionTopStatement, partitionsStatement, boardPartitionsStatement, scopePartitionsStatement, codesStatement,
		{"loading reviews", `CREATE OR REPLACE TEMP TABLE agg_loading AS SELECT * FROM temp.agg_scope`}}
	if err := runSteps(ctx, conn, fixedSteps(append(steps, countTableSteps()...))); err != nil {
		return 0, err
	}
	chunks, total, err := loadingChunks(ctx, conn, `temp.agg_loading`)
	if err != nil {
		return 0, err
	}
	for _, regions := range chunks {
		if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE agg_scope AS
			SELECT * FROM temp.agg_loading WHERE region IN (SELECT unnest(?::VARCHAR[]))`, regions); err != nil {
			return 0, fmt.Errorf("aggregates: scope: %w", err)
		}
		if err := runSteps(ctx, conn, fixedSteps(append([]aggStep{episodeCodesStatement}, countStatements()...))); err != nil {
			return 0, err
		}
	}
	return total, nil
}

// loadingUnchanged says whether the reviews loading now are those
// countLoading counted (temp.agg_loading), and the partitions numbered are
// those it saw, so the numbers it gave new partitions are still free.
func loadingUnchanged(ctx context.Context, conn *sql.Conn) (bool, error) {
	var differ int
	if err := conn.QueryRowContext(ctx, `
		SELECT count(*) FROM (SELECT review_key FROM reviews WHERE status = 'loading') r
		FULL JOIN temp.agg_loading s ON s.review_key = r.review_key
		WHERE r.review_key IS NULL OR s.review_key IS NULL`).Scan(&differ); err != nil {
		return false, fmt.Errorf("finish loading: check reviews: %w", err)
	}
	var same bool
	if err := conn.QueryRowContext(ctx, `
		SELECT (SELECT (coalesce(max(part), 0), count(*)) FROM agg_partitions) = (SELECT (top, n) FROM temp.agg_part_top)`).Scan(&same); err != nil {
		return false, fmt.Errorf("finish loading: check partitions: %w", err)
	}
	return differ == 0 && same, nil
}

// fillLoading counts the loading reviews a few regions at a time inside the
// caller's transaction, and returns how many it counted.
func fillLoading(ctx context.Context, conn *sql.Conn) (int, error) {
	chunks, total, err := loadingChunks(ctx, conn, `reviews WHERE status = 'loading'`)
	if err != nil || total == 0 {
		return 0, err
	}
	for _, regions := range chunks {
		if err := fillAggregates(ctx, conn, `FROM reviews r WHERE r.status = 'loading'
			AND r.region IN (SELECT unnest(?::VARCHAR[]))`, regions); err != nil {
			return 0, err
		}
	}
	return total, nil
}

// chunkReviews is about how many loading reviews one fill counts at a time.
// A fill holds each episode's factor codes with their ancestors in memory (a
// few hundred bytes a review), so counting 200,000 reviews at once would
// need gigabytes; in chunks it needs a bounded amount, and costs the same.
// What the chunks count is kept until it is stored, as integers, which is
// smaller than the aggregate rows it becomes.
var chunkReviews = 25_000

// loadingChunks groups the regions of the loading reviews that from lists
// (a table, with a condition), in order, into chunks of about chunkReviews
// reviews. Every aggregate row, roll-ups included, belongs to one region, so
// the chunks' rows never share a key and counting them one chunk at a time
// leaves the aggregates as folded as counting them at once.
func loadingChunks(ctx context.Context, conn *sql.Conn, from string) ([][]string, int, error) {
	rows, err := conn.QueryContext(ctx, `SELECT region, count(*) FROM `+from+`
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

// BulkGCPercent is the Go garbage collector's target (as GOGC) that
// `collate ingest` runs a large load with, unless GOGC is set. A load keeps
// about a batch of exports alive and allocates many short-lived values
// while validating; collecting when the heap has grown fivefold rather than
// twofold takes about 5% off a load of 1,000 demo reviews (1.28 s → 1.22 s)
// and of 20,000 (14.2 s → 13.5 s), for 170 and 600 MiB more at the peak.
const BulkGCPercent = 400
