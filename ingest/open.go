package ingest

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
)

// OpenWithoutWAL opens the DuckDB store at path for a bulk load, with
// DuckDB's write-ahead log turned off (ATTACH … (RECOVERY_MODE
// no_wal_writes)), as the store's default database: statements name its
// tables as they would in a store opened the usual way.
//
// A commit then changes only memory. What it stored becomes durable when a
// checkpoint (Checkpoint, or closing the store) writes it into the file; a
// crash before that loses everything committed since the last checkpoint
// and leaves the file as that checkpoint left it, whole and consistent. In
// exchange every row is written once, not first to the log and then again
// into the file: a load of 1,000 demo reviews takes about a ninth less time,
// and one of 20,000 about an eighth. A write-ahead log left by an earlier
// crash is replayed when the store opens, as usual.
//
// Nothing checkpoints by itself: a long load should call Checkpoint every
// so often, both to keep what it has stored and to let DuckDB release the
// memory holding it.
func OpenWithoutWAL(path string) (*sql.DB, error) {
	attach := `ATTACH IF NOT EXISTS '` + strings.ReplaceAll(path, "'", "''") + `' AS ` + bulkCatalog + ` (RECOVERY_MODE no_wal_writes)`
	c, err := duckdb.NewConnector("", func(ex driver.ExecerContext) error {
		// Every connection shares one database instance: the first
		// attaches the store, and each makes it its default. DuckDB would
		// still checkpoint at a commit it judges large, as if the log had
		// grown; the load checkpoints when it chooses instead.
		for _, q := range []string{attach, `USE ` + bulkCatalog, `SET checkpoint_threshold = '1TB'`} {
			if _, err := ex.ExecContext(context.Background(), q, nil); err != nil {
				return fmt.Errorf("open %s without a write-ahead log: %w", path, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return sql.OpenDB(c), nil
}

// bulkCatalog is the name OpenWithoutWAL gives the store it attaches.
const bulkCatalog = "collate_store"
