// Package federate moves collated reviews out of a Collate store and into
// another one. Export writes the collated, anonymised tables as
// Hive-partitioned Parquet (or CSV for spreadsheets), readable by DuckDB,
// Spark, Trino, pandas/pyarrow and R arrow; Import loads such an export into
// another store, keeping every review's identity, versions and provenance,
// so local or regional instances roll up into a national one without
// re-uploading. It owns the export directory format (collate.export/1). It
// must not import HTTP code, and it never writes part of an import: each
// import is one transaction.
package federate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/collate-project/collate/ingest/internal/dirfile"

	"github.com/collate-project/collate/ingest/errs"
)

// Format names the export directory layout and its major version.
const Format = "collate.export/1"

// ManifestName is the manifest's file name at the top of an export. It is
// written last, so a directory without one is an unfinished export.
const ManifestName = "manifest.json"

// File formats an export may be written in.
const (
	Parquet = "parquet"
	CSV     = "csv"
)

// PartitionBy lists the Hive partition keys of every review table, outermost first.
var PartitionBy = []string{"nation", "region", "year"}

// Manifest describes an export: its tables, their files and checksums.
type Manifest struct {
	Format        string    `json:"format"`
	FileFormat    string    `json:"file_format"` // parquet or csv
	CreatedAt     time.Time `json:"created_at"`
	SchemaVersion int       `json:"schema_version"`
	PartitionBy   []string  `json:"partition_by"`
	Tables        []Table   `json:"tables"`
}

// Table is one exported table: a directory of Hive-partitioned files, or a
// single file for reference tables that belong to no nation or year.
type Table struct {
	Name        string `json:"name"`
	Partitioned bool   `json:"partitioned"`
	Rows        int64  `json:"rows"`
	Files       []File `json:"files"`
}

// File is one file of an export, by its slash-separated path inside the export.
type File struct {
	Path   string `json:"path"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Table returns the named table of the manifest.
func (m Manifest) Table(name string) (Table, bool) {
	for _, t := range m.Tables {
		if t.Name == name {
			return t, true
		}
	}
	return Table{}, false
}

// exported is one table of the export and the query that makes it. Review
// tables carry review_id and version (the review's identity in every
// instance) instead of the store's own review_key, and nation, region and
// year so they partition alike.
type exported struct {
	name        string
	partitioned bool
	query       string
}

// The raw canonical JSON is kept out of the analysis tables; review_bodies
// carries it once, so an import stores exactly what the origin stored and
// can prove it against content_sha256.
var tables = []exported{
	{"reviews", true, `SELECT * EXCLUDE (review_key, body) FROM reviews`},
	{"review_bodies", true, `SELECT review_id, version, content_sha256, body, nation, region, year FROM reviews`},
	{"episodes", true, childQuery("episodes")},
	{"episode_factors", true, childQuery("episode_factors")},
	{"patterns", true, childQuery("patterns")},
	{"recommendations", true, childQuery("recommendations")},
	{"withdrawals", true, `
		SELECT w.*, r.board, r.nation, r.region, r.year
		FROM withdrawals w
		JOIN (SELECT review_id, arg_max(board, version) AS board, arg_max(nation, version) AS nation,
		             arg_max(region, version) AS region, arg_max(year, version) AS year
		      FROM reviews GROUP BY review_id) r USING (review_id)`},
	{"frames", false, `SELECT * FROM frames`},
	{"frame_nodes", false, `SELECT * FROM frame_nodes`},
	{"frame_closure", false, `SELECT * FROM frame_closure`},
	{"geography", false, `SELECT * FROM geography`},
}

func childQuery(table string) string {
	return `SELECT r.review_id, r.version, r.board, r.nation, r.region, r.year, c.* EXCLUDE (review_key)
		FROM ` + table + ` c JOIN reviews r USING (review_key)`
}

// Export writes every review (current, superseded and withdrawn, with their
// status) and the frames and geography they refer to into dir, which must
// not exist or be empty. All tables are read in one transaction, so the
// export is one point in time even while reviews are being written.
//
// In CSV, text that a spreadsheet would run as a formula (starting with =,
// +, -, @ and the like) gets a leading apostrophe, as xlsx.SafeCell does;
// CSV exports are for reading and leave out review_bodies, Parquet ones are
// also for Import.
func Export(ctx context.Context, db *sql.DB, dir, format string) (Manifest, error) {
	if format != Parquet && format != CSV {
		return Manifest{}, errs.E(errs.Invalid, "export format %q is not known; use parquet or csv", format)
	}
	if err := dirfile.CheckEmptyDir(dir, "export"); err != nil {
		return Manifest{}, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Manifest{}, fmt.Errorf("export %s: %w", dir, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return Manifest{}, fmt.Errorf("export %s: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(abs), "."+filepath.Base(abs)+".partial-")
	if err != nil {
		return Manifest{}, fmt.Errorf("export %s: %w", dir, err)
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	m, err := exportInto(ctx, db, tmp, format)
	if err != nil {
		return Manifest{}, fmt.Errorf("export %s: %w", dir, err)
	}
	for i, t := range m.Tables {
		files, err := listFiles(tmp, t.Name)
		if err != nil {
			return Manifest{}, fmt.Errorf("export %s: %w", dir, err)
		}
		m.Tables[i].Files = files
	}
	if err := dirfile.WriteJSON(filepath.Join(tmp, ManifestName), m); err != nil {
		return Manifest{}, fmt.Errorf("export %s: %w", dir, err)
	}
	if err := os.Remove(abs); err != nil && !errors.Is(err, os.ErrNotExist) {
		return Manifest{}, fmt.Errorf("export %s: %w", dir, err)
	}
	if err := os.Rename(tmp, abs); err != nil {
		return Manifest{}, fmt.Errorf("export %s: %w", dir, err)
	}
	done = true
	return m, nil
}

func exportInto(ctx context.Context, db *sql.DB, dir, format string) (m Manifest, err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return m, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return m, fmt.Errorf("begin: %w", err)
	}
	defer func() {
		// The transaction only read; ending it either way changes nothing.
		if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil && err == nil {
			err = fmt.Errorf("end transaction: %w", rerr)
		}
	}()
	m = Manifest{Format: Format, FileFormat: format, CreatedAt: time.Now().UTC().Truncate(time.Second), PartitionBy: PartitionBy}
	if err := conn.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&m.SchemaVersion); err != nil {
		return m, fmt.Errorf("read schema version: %w", err)
	}
	for _, t := range tables {
		if format == CSV && t.name == "review_bodies" {
			continue // only an import needs the bodies, and it reads Parquet
		}
		query := t.query
		if format == CSV {
			if query, err = safeCSVQuery(ctx, conn, query); err != nil {
				return m, fmt.Errorf("%s: %w", t.name, err)
			}
		}
		var rows int64
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM (`+t.query+`)`).Scan(&rows); err != nil {
			return m, fmt.Errorf("count %s: %w", t.name, err)
		}
		opts := "FORMAT parquet, COMPRESSION zstd"
		if format == CSV {
			opts = "FORMAT csv, HEADER true"
		}
		// COPY takes its target as a literal, not a parameter; the path is
		// ours (a new temporary directory), not user text.
		target := filepath.Join(dir, t.name)
		if t.partitioned {
			opts += ", PARTITION_BY (" + strings.Join(PartitionBy, ", ") + ")"
		} else {
			if err := os.Mkdir(target, 0o750); err != nil {
				return m, err
			}
			target = filepath.Join(target, t.name+"."+format)
		}
		if rows > 0 || !t.partitioned {
			if _, err := conn.ExecContext(ctx, `COPY (`+query+`) TO `+dirfile.QuoteLiteral(target)+` (`+opts+`)`); err != nil {
				return m, fmt.Errorf("write %s: %w", t.name, err)
			}
		}
		m.Tables = append(m.Tables, Table{Name: t.name, Partitioned: t.partitioned, Rows: rows})
	}
	return m, nil
}

// safeCSVQuery wraps every text column of query so that no cell starts a
// spreadsheet formula. The partition keys are codes and never need it.
func safeCSVQuery(ctx context.Context, conn *sql.Conn, query string) (string, error) {
	rows, err := conn.QueryContext(ctx, `SELECT * FROM (`+query+`) LIMIT 0`)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return "", err
	}
	cols := make([]string, 0, len(types))
	for _, ct := range types {
		name := dirfile.QuoteIdent(ct.Name())
		if ct.DatabaseTypeName() == "VARCHAR" && !isPartitionKey(ct.Name()) {
			cols = append(cols, safeCellSQL(name)+" AS "+name)
		} else {
			cols = append(cols, name)
		}
	}
	return `SELECT ` + strings.Join(cols, ", ") + ` FROM (` + query + `)`, rows.Err()
}

func isPartitionKey(col string) bool {
	for _, k := range PartitionBy {
		if k == col {
			return true
		}
	}
	return false
}

// safeCellSQL is xlsx.SafeCell in SQL, so DuckDB can write CSV directly: a
// leading apostrophe for text that starts (after spaces) with =, +, -, @, a
// tab, CR or LF, or their full-width forms, except plain signed numbers.
// TestSafeCellSQLMatchesGo keeps the two in step.
func safeCellSQL(col string) string {
	const ws = `[\t\n\x{0B}\f\r\x{85}\pZ]` // unicode.IsSpace, which strings.TrimSpace uses
	const number = `[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?`
	return `CASE WHEN regexp_matches(` + col + `, '^ *[\t\r\n＝＋－＠]')
		OR (regexp_matches(` + col + `, '^ *[=+\-@]') AND NOT regexp_matches(` + col + `, '^ *` + number + ws + `*$'))
		THEN '''' || ` + col + ` ELSE ` + col + ` END`
}

// listFiles returns the files under dir/table with their sizes and checksums,
// in path order.
func listFiles(dir, table string) ([]File, error) {
	var out []File
	root := filepath.Join(dir, table)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, os.ErrNotExist) && p == root {
			return filepath.SkipDir // an empty partitioned table writes nothing
		}
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		size, sum, err := dirfile.FileSum(p)
		if err != nil {
			return err
		}
		out = append(out, File{Path: filepath.ToSlash(rel), Bytes: size, SHA256: sum})
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	if out == nil {
		out = []File{}
	}
	return out, err
}
