package app

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/ingest/errs"
)

func ingestCommand() command {
	return command{
		name:    "ingest",
		usage:   "[--db PATH] [--json] [--batch N] [--wal auto|on|off] [--checkpoint-every N] FILE|DIR...",
		summary: "Validate review exports and load the valid ones into the DuckDB store, one review per transaction or better.",
		flags: func(fs *flag.FlagSet, c *Config) {
			fs.StringVar(&c.DB, "db", c.DB, "DuckDB file (env COLLATE_DB)")
			fs.BoolVar(&c.JSON, "json", false, "print per-file results as JSON")
			fs.IntVar(&c.Batch, "batch", c.Batch, "reviews stored per transaction")
			fs.StringVar(&c.By, "by", "cli", "who is uploading, recorded with each review")
			fs.StringVar(&c.WAL, "wal", c.WAL, "write DuckDB's write-ahead log: auto (off for 1,000 files or more), on or off")
			fs.IntVar(&c.CheckpointEvery, "checkpoint-every", c.CheckpointEvery, "without a write-ahead log, checkpoint after storing this many reviews (each checkpoint makes them durable)")
			boolFlag(fs, c, "ack", "print \"stored<TAB>REVIEW-ID<TAB>VERSION<TAB>OUTCOME<TAB>SHA-256\" for each review as soon as it is durably stored")
		},
		run: runIngest,
	}
}

// ingestSummary is what `collate ingest` reports at the end.
type ingestSummary struct {
	Added      int          `json:"added"`
	Unchanged  int          `json:"unchanged"`
	Superseded int          `json:"superseded"`
	Rejected   int          `json:"rejected"`
	Files      []fileResult `json:"files,omitempty"`
}

func runIngest(ctx context.Context, r *runner) error {
	files, err := collectFiles(r.cfg.Args)
	if err != nil {
		return err
	}
	// A large load writes no write-ahead log: every row is written once,
	// into the file, at the checkpoints the load makes (ingest.OpenWithoutWAL).
	noWAL := r.cfg.WAL == "off" || r.cfg.WAL == "auto" && len(files) >= largeLoad
	open := openDuckDB
	if noWAL {
		open = ingest.OpenWithoutWAL
	}
	db, err := r.openStoreWith(ctx, open)
	if err != nil {
		return err
	}
	defer db.Close()
	if len(files) >= largeLoad && os.Getenv("GOGC") == "" {
		// Trade memory for the garbage collector's CPU (ingest.BulkGCPercent).
		defer debug.SetGCPercent(debug.SetGCPercent(ingest.BulkGCPercent))
	}
	if !noWAL && len(files) >= largeLoad {
		// Let the write-ahead log grow during a large load and fold it into
		// the file once at the end: each checkpoint rewrites the tables'
		// newest row groups, so checkpointing every few batches costs more
		// time and leaves a larger file.
		if _, err := db.ExecContext(ctx, `SET checkpoint_threshold = '1GB'`); err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
	}
	frames, err := ingest.LoadFrames(ctx, db)
	if err != nil {
		return err
	}
	v, err := ingest.NewValidator(ingest.ValidatorOptions{Frames: frames})
	if err != nil {
		return err
	}
	// The command is a bulk load: batches store the reviews, and Finish adds
	// them all to the aggregates in one pass at the end. A large load also
	// folds the aggregates once at the end, not as it goes.
	w := ingest.NewWriter(ingest.WriterOptions{DB: db, Logger: r.log, Bulk: true, DeferCompaction: len(files) >= largeLoad})
	sum, err := ingestFiles(ctx, r, db, v, w, files, noWAL)
	if err != nil {
		return err
	}
	if r.cfg.JSON {
		enc := json.NewEncoder(r.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(sum); err != nil {
			return err
		}
	} else {
		for _, f := range sum.Files {
			switch {
			case !f.Valid:
				fmt.Fprintf(r.stdout, "REJECTED %s\n", f.File)
				for _, p := range f.Problems {
					fmt.Fprintf(r.stdout, "  - %s\n", p)
				}
			case f.Outcome == ingest.Rejected:
				fmt.Fprintf(r.stdout, "REJECTED %s: %s\n", f.File, f.Problems[0].Message)
			}
		}
		fmt.Fprintf(r.stdout, "added %d, unchanged %d, superseded %d, rejected %d (store %s)\n",
			sum.Added, sum.Unchanged, sum.Superseded, sum.Rejected, r.cfg.DB)
	}
	if sum.Rejected > 0 {
		return failedError{fmt.Sprintf("%d of %d files were rejected", sum.Rejected, len(files))}
	}
	return nil
}

// largeLoad is how many files make a large load: one that writes no
// write-ahead log unless told to, counts and folds the aggregates once at
// the end, and shows its progress.
const largeLoad = 1000

// ingestFiles validates and stores files in chunks: while one chunk is being
// written, the next is validated on the other cores. Without a write-ahead
// log (noWAL) it checkpoints every --checkpoint-every reviews and at the
// end, and acknowledges reviews (--ack) only once a checkpoint has made
// them durable.
func ingestFiles(ctx context.Context, r *runner, db *sql.DB, v *ingest.Validator, w *ingest.Writer, files []string, noWAL bool) (ingestSummary, error) {
	var sum ingestSummary
	var done atomic.Int64
	showProgress := len(files) >= largeLoad
	start := time.Now()
	last := time.Now()
	progress := func() {
		n := done.Add(1)
		if showProgress && (n%1000 == 0) {
			fmt.Fprintf(r.stderr, "validated %d of %d files (%.0f%%)\n", n, len(files), 100*float64(n)/float64(len(files)))
		}
	}
	type chunk struct{ results []checked }
	chunks := make(chan chunk, 1)
	go func() {
		defer close(chunks)
		for lo := 0; lo < len(files); lo += r.cfg.Batch {
			hi := min(lo+r.cfg.Batch, len(files))
			res := validateAll(ctx, v, files[lo:hi], progress)
			select {
			case chunks <- chunk{res}:
			case <-ctx.Done():
				return
			}
		}
	}()
	// Acknowledgements (--ack) wait here until what they acknowledge is
	// durable: at once with a write-ahead log, at the next checkpoint
	// without one. A script (or the crash test) may count every line
	// printed as durably stored.
	var unacked []ingest.Receipt
	acknowledge := func() {
		if r.flag("ack") != "" {
			for _, rc := range unacked {
				fmt.Fprintf(r.stdout, "stored\t%s\t%d\t%s\t%s\n", rc.ReviewID, rc.Version, rc.Outcome, rc.SHA256)
			}
		}
		unacked = unacked[:0]
	}
	stored, sinceCheckpoint := 0, 0
	for c := range chunks {
		var items []ingest.Item
		var itemFiles []string
		for _, res := range c.results {
			if res.path == "" {
				continue // not reached: the run was cancelled
			}
			if res.err != nil {
				sum.Rejected++
				sum.Files = append(sum.Files, fileResult{File: res.path, Problems: problemsOf(res.path, res.err)})
				continue
			}
			items = append(items, ingest.Item{Export: res.export, Source: res.path, Format: res.format, By: r.cfg.By})
			itemFiles = append(itemFiles, res.path)
		}
		if len(items) > 0 {
			receipts, err := w.Write(ctx, items)
			if err != nil {
				return sum, fmt.Errorf("ingest: %w (reviews stored before this batch are kept; rerun to continue)", err)
			}
			if err := r.auditReceipts(ctx, db, receipts); err != nil {
				return sum, fmt.Errorf("ingest: audit: %w", err)
			}
			for i, rc := range receipts {
				fr := fileResult{File: itemFiles[i], Valid: true, ReviewID: rc.ReviewID, Outcome: rc.Outcome, Version: rc.Version, SHA256: rc.SHA256}
				switch rc.Outcome {
				case ingest.Added:
					sum.Added++
				case ingest.Unchanged:
					sum.Unchanged++
				case ingest.Superseded:
					sum.Superseded++
				case ingest.Rejected:
					sum.Rejected++
					fr.Problems = []ingest.Problem{{File: itemFiles[i], Location: "/review/id", Message: errs.Message(rc.Err)}}
				}
				sum.Files = append(sum.Files, fr)
			}
			for _, rc := range receipts {
				if rc.Outcome != ingest.Rejected {
					unacked = append(unacked, rc)
				}
			}
			sinceCheckpoint += len(items)
			if !noWAL {
				acknowledge()
			}
		}
		stored += len(c.results)
		if noWAL && sinceCheckpoint >= r.cfg.CheckpointEvery && stored < len(files) {
			if err := ingest.Checkpoint(ctx, db); err != nil {
				return sum, fmt.Errorf("ingest: %w (reviews stored before the last checkpoint are kept; rerun to continue)", err)
			}
			sinceCheckpoint = 0
			acknowledge()
		}
		if showProgress && time.Since(last) > 2*time.Second {
			last = time.Now()
			rate := float64(stored) / time.Since(start).Seconds()
			fmt.Fprintf(r.stderr, "stored %d of %d files (%.0f reviews/s)\n", stored, len(files), rate)
		}
	}
	if err := ctx.Err(); err != nil {
		return sum, fmt.Errorf("ingest interrupted after %d files: %w (the stored reviews are counted when the store is next opened)", stored, err)
	}
	if _, err := w.Finish(ctx); err != nil {
		return sum, fmt.Errorf("ingest: reviews are stored, but counting them failed: %w (they are counted when the store is next opened)", err)
	}
	// After a large load, fold the aggregates' incremental rows together so
	// the dashboard reads them at full speed.
	if sum.Added+sum.Superseded >= largeLoad {
		if err := w.Compact(ctx); err != nil {
			return sum, fmt.Errorf("ingest: reviews are stored, but compacting the aggregates failed: %w", err)
		}
	}
	switch {
	case noWAL:
		// Until now the load's last reviews and its counts are in memory only.
		if err := ingest.Checkpoint(ctx, db); err != nil {
			return sum, fmt.Errorf("ingest: writing the reviews into the store failed: %w (reviews stored before the last checkpoint are kept; rerun to continue)", err)
		}
	case len(files) >= largeLoad:
		// A large load let the write-ahead log grow (see runIngest); fold
		// it into the file now, the cheaper way, rather than when the
		// store closes.
		if err := ingest.Checkpoint(ctx, db); err != nil {
			return sum, fmt.Errorf("ingest: reviews are stored and counted, but folding the write-ahead log failed: %w (it is folded when the store is next opened)", err)
		}
	}
	acknowledge()
	return sum, nil
}
