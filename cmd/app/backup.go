package app

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"

	"github.com/collate-project/collate/ingest/backup"
	"github.com/collate-project/collate/ingest/errs"
)

func backupCommand() command {
	return command{
		name:    "backup",
		usage:   "[--db PATH] [--json] DIR",
		summary: "Take a consistent snapshot of the store into a new directory: one Parquet file per table and a manifest with counts and checksums.",
		flags: func(fs *flag.FlagSet, c *Config) {
			fs.StringVar(&c.DB, "db", c.DB, "DuckDB file (env COLLATE_DB)")
			fs.BoolVar(&c.JSON, "json", false, "print the manifest as JSON")
		},
		run: runBackup,
	}
}

func runBackup(ctx context.Context, r *runner) error {
	if len(r.cfg.Args) != 1 {
		return usageError{"name one new (or empty) directory for the backup"}
	}
	dir := r.cfg.Args[0]
	db, err := r.openStore(ctx)
	if err != nil {
		return storeInUse(r.cfg.DB, err, "take the backup through the running server instead, or stop it first")
	}
	defer db.Close()
	if err := foldLog(ctx, db); err != nil {
		return err
	}
	m, err := backup.Snapshot(ctx, db, dir)
	if err != nil {
		return err
	}
	r.log.Info("backup", "db", r.cfg.DB, "dir", dir, "reviews", m.Rows("reviews"), "data_version", m.DataVersion)
	if r.cfg.JSON {
		enc := json.NewEncoder(r.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(m)
	}
	fmt.Fprintf(r.stdout, "backed up %s to %s: %d review versions, %d withdrawals, %d tables, schema version %d, data version %.12s\n",
		r.cfg.DB, dir, m.Rows("reviews"), m.Rows("withdrawals"), len(m.Tables), m.SchemaVersion, m.DataVersion)
	return nil
}

// storeInUse explains DuckDB refusing a store another process has open: it
// allows one process per file, and collate serve keeps its store open.
func storeInUse(path string, err error, hint string) error {
	if backup.Locked(err) {
		return errs.Wrap(errs.Unavailable, err, "the store %s is open in another process (is collate serve running?); %s", path, hint)
	}
	return err
}

// foldLog checkpoints a store just opened by a command that may only read
// it. After a crash DuckDB replays the write-ahead log on opening, holding
// the replayed index entries aside until an index is next used; if the
// process then closes without writing to the table, DuckDB 1.5 writes the
// table's indexes without those entries (duckdb/duckdb#23788), and lookups
// by review ID or content hash stop finding reviews. A CHECKPOINT statement
// binds the indexes first, so the log is folded in whole.
func foldLog(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, "CHECKPOINT"); err != nil {
		return fmt.Errorf("checkpoint the store: %w", err)
	}
	return nil
}
