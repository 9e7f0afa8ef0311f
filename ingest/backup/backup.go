// Package backup takes consistent snapshots of a Collate store and restores
// them into a new store file. It owns the backup directory format
// (collate.backup/1: one Parquet file per table and a manifest with row
// counts and checksums). Snapshot only reads the store, so it may run while
// the server is writing; Restore never writes into an existing store, it
// builds a new file and moves it into place. Neither may change a live store.
package backup

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/collate-project/collate/ingest/internal/dirfile"

	"github.com/collate-project/collate/ingest/errs"
)

// Format names the backup directory layout and its major version.
const Format = "collate.backup/1"

// ManifestName is the manifest's file name inside a backup directory. It is
// written last, so a directory without one is an unfinished backup.
const ManifestName = "manifest.json"

// Manifest describes a backup: what it holds and how to check it.
type Manifest struct {
	Format        string    `json:"format"`
	CreatedAt     time.Time `json:"created_at"`
	SchemaVersion int       `json:"schema_version"`
	// DataVersion fingerprints the reviews (id, version, status, content
	// hash) and withdrawals: two stores with the same value hold the same
	// reviews in the same states.
	DataVersion string  `json:"data_version"`
	DuckDB      string  `json:"duckdb_version"`
	Tables      []Table `json:"tables"`
	// Sequences are the ID sequences that have handed out values, so a
	// restored store carries on after the last ID instead of reusing it.
	Sequences []Sequence `json:"sequences,omitempty"`
}

// Sequence is the state of one ID sequence in a backup.
type Sequence struct {
	Name      string `json:"name"`
	LastValue int64  `json:"last_value"`
}

// Table is one table's file in a backup.
type Table struct {
	Name   string `json:"name"`
	File   string `json:"file"`
	Rows   int64  `json:"rows"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Rows returns the row count recorded for a table, or -1 when the backup
// does not hold it.
func (m Manifest) Rows(table string) int64 {
	for _, t := range m.Tables {
		if t.Name == table {
			return t.Rows
		}
	}
	return -1
}

// Snapshot writes a consistent copy of every table of the store into dir,
// which must not exist or be empty. All tables are read in one transaction,
// so the copy is a single point in time even while reviews are being
// written on other connections of the same *sql.DB. The files are written
// into a hidden sibling directory first and renamed to dir when complete.
func Snapshot(ctx context.Context, db *sql.DB, dir string) (Manifest, error) {
	if err := dirfile.CheckEmptyDir(dir, "backup"); err != nil {
		return Manifest{}, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Manifest{}, fmt.Errorf("backup %s: %w", dir, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return Manifest{}, fmt.Errorf("backup %s: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(abs), "."+filepath.Base(abs)+".partial-")
	if err != nil {
		return Manifest{}, fmt.Errorf("backup %s: %w", dir, err)
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	m, err := snapshotInto(ctx, db, tmp)
	if err != nil {
		return Manifest{}, fmt.Errorf("backup %s: %w", dir, err)
	}
	for i, t := range m.Tables {
		size, sum, err := dirfile.FileSum(filepath.Join(tmp, t.File))
		if err != nil {
			return Manifest{}, fmt.Errorf("backup %s: %w", dir, err)
		}
		m.Tables[i].Bytes, m.Tables[i].SHA256 = size, sum
	}
	if err := dirfile.WriteJSON(filepath.Join(tmp, ManifestName), m); err != nil {
		return Manifest{}, fmt.Errorf("backup %s: %w", dir, err)
	}
	if err := syncTree(tmp); err != nil {
		return Manifest{}, fmt.Errorf("backup %s: %w", dir, err)
	}
	// An empty directory named by the caller is replaced by the finished one.
	if err := os.Remove(abs); err != nil && !errors.Is(err, os.ErrNotExist) {
		return Manifest{}, fmt.Errorf("backup %s: %w", dir, err)
	}
	if err := os.Rename(tmp, abs); err != nil {
		return Manifest{}, fmt.Errorf("backup %s: %w", dir, err)
	}
	done = true
	if err := syncDir(filepath.Dir(abs)); err != nil {
		return Manifest{}, fmt.Errorf("backup %s: %w", dir, err)
	}
	return m, nil
}

func snapshotInto(ctx context.Context, db *sql.DB, dir string) (m Manifest, err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return m, err
	}
	defer conn.Close()
	// One transaction: every COPY and count below sees the same snapshot.
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return m, fmt.Errorf("begin: %w", err)
	}
	defer func() {
		end := "COMMIT"
		if err != nil {
			end = "ROLLBACK"
		}
		if _, cerr := conn.ExecContext(context.WithoutCancel(ctx), end); cerr != nil && err == nil {
			err = fmt.Errorf("%s: %w", strings.ToLower(end), cerr)
		}
	}()
	m = Manifest{Format: Format, CreatedAt: time.Now().UTC().Truncate(time.Second)}
	if err := conn.QueryRowContext(ctx, `SELECT version()`).Scan(&m.DuckDB); err != nil {
		return m, err
	}
	tables, err := baseTables(ctx, conn)
	if err != nil {
		return m, err
	}
	if !contains(tables, "schema_version") || !contains(tables, "reviews") {
		return m, errs.E(errs.Invalid, "the database is not a Collate store (no schema_version or reviews table)")
	}
	if err := conn.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&m.SchemaVersion); err != nil {
		return m, fmt.Errorf("read schema version: %w", err)
	}
	for _, name := range tables {
		t := Table{Name: name, File: name + ".parquet"}
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM `+dirfile.QuoteIdent(name)).Scan(&t.Rows); err != nil {
			return m, fmt.Errorf("count %s: %w", name, err)
		}
		// COPY takes its target as a literal, not a parameter.
		q := `COPY (SELECT * FROM ` + dirfile.QuoteIdent(name) + `) TO ` + dirfile.QuoteLiteral(filepath.Join(dir, t.File)) +
			` (FORMAT parquet, COMPRESSION zstd)`
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return m, fmt.Errorf("copy %s: %w", name, err)
		}
		m.Tables = append(m.Tables, t)
	}
	if m.DataVersion, err = DataVersion(ctx, conn); err != nil {
		return m, err
	}
	rows, err := conn.QueryContext(ctx, `
		SELECT sequence_name, last_value FROM duckdb_sequences()
		WHERE database_name = current_database() AND schema_name = 'main' AND last_value IS NOT NULL
		ORDER BY sequence_name`)
	if err != nil {
		return m, fmt.Errorf("read sequences: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var sq Sequence
		if err := rows.Scan(&sq.Name, &sq.LastValue); err != nil {
			return m, err
		}
		m.Sequences = append(m.Sequences, sq)
	}
	return m, rows.Err()
}

// Queryer is what DataVersion reads through: a *sql.DB, *sql.Conn or *sql.Tx.
type Queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// DataVersion fingerprints the reviews and withdrawals of a store: it
// changes when a review is added, superseded or withdrawn, and is the same
// for a store and its restored backup.
func DataVersion(ctx context.Context, q Queryer) (string, error) {
	var v string
	err := q.QueryRowContext(ctx, `
		SELECT sha256(
		  (SELECT coalesce(string_agg(review_id || ':' || version || ':' || status || ':' || content_sha256, ','
		                   ORDER BY review_id, version), '') FROM reviews)
		  || '|' ||
		  (SELECT coalesce(string_agg(review_id || ':' || strftime(withdrawn_at, '%Y-%m-%dT%H:%M:%S.%f'), ','
		                   ORDER BY review_id, withdrawn_at), '') FROM withdrawals))`).Scan(&v)
	if err != nil {
		return "", fmt.Errorf("data version: %w", err)
	}
	return v, nil
}

func baseTables(ctx context.Context, conn *sql.Conn) ([]string, error) {
	rows, err := conn.QueryContext(ctx, `
		SELECT table_name FROM information_schema.tables
		WHERE table_catalog = current_database() AND table_schema = 'main' AND table_type = 'BASE TABLE'
		ORDER BY table_name`)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

func contains(xs []string, x string) bool {
	for _, s := range xs {
		if s == x {
			return true
		}
	}
	return false
}

// syncTree flushes every file in dir and then dir itself to disk.
func syncTree(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			if err := syncFile(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return syncDir(dir)
}

// syncDir flushes a directory's entries (new files, renames) to disk.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
