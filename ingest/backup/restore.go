package backup

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/collate-project/collate/ingest/internal/dirfile"

	_ "github.com/duckdb/duckdb-go/v2" // the store is a DuckDB file

	"github.com/collate-project/collate/ingest/errs"
	"github.com/collate-project/collate/schemas"
)

// RestoreOptions configures Restore.
type RestoreOptions struct {
	// Force replaces a store that holds reviews. The replaced store is kept
	// beside the new one as KeptAs, never deleted.
	Force bool
	Now   func() time.Time // names the kept store; defaults to time.Now
}

// Restored says what Restore did.
type Restored struct {
	Manifest Manifest
	// KeptAs is where a replaced store holding reviews was moved; empty when
	// there was none.
	KeptAs string
}

// Restore brings the backup in dir back as the store dbPath. It checks the
// backup's manifest and every file's checksum first, loads the tables into
// a new file beside dbPath, checks the row counts and data version against
// the manifest, and only then renames the new file into place. A store that
// already holds reviews is refused unless opts.Force is set; a store open in
// another process (a running server) is always refused.
func Restore(ctx context.Context, dir, dbPath string, opts RestoreOptions) (Restored, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	m, err := Verify(dir)
	if err != nil {
		return Restored{}, err
	}
	target, err := inspectTarget(ctx, dbPath)
	if err != nil {
		return Restored{}, err
	}
	if target.foreign > 0 && !opts.Force {
		return Restored{}, errs.E(errs.Conflict,
			"restore %s: %s is a DuckDB database with %d tables but not a Collate store; name another path, or add --force to replace it (it is kept beside the new one)",
			dir, dbPath, target.foreign)
	}
	if target.reviews > 0 && !opts.Force {
		return Restored{}, errs.E(errs.Conflict,
			"restore %s: the store %s already holds %d review versions; restore into a new path, or add --force to replace it (the old store is kept beside it)",
			dir, dbPath, target.reviews)
	}
	tmp, err := tempPath(dbPath)
	if err != nil {
		return Restored{}, fmt.Errorf("restore %s: %w", dir, err)
	}
	defer removeStore(tmp) // a no-op once renamed into place
	if err := load(ctx, dir, tmp, m); err != nil {
		return Restored{}, fmt.Errorf("restore %s: %w", dir, err)
	}
	if err := syncFile(tmp); err != nil {
		return Restored{}, fmt.Errorf("restore %s: %w", dir, err)
	}
	res := Restored{Manifest: m}
	if target.exists {
		if target.keep() {
			res.KeptAs = dbPath + ".pre-restore-" + opts.Now().UTC().Format("20060102T150405Z")
			if err := moveStore(dbPath, res.KeptAs); err != nil {
				return Restored{}, fmt.Errorf("restore %s: keep the old store: %w", dir, err)
			}
		} else if err := removeStore(dbPath); err != nil {
			return Restored{}, fmt.Errorf("restore %s: remove the empty store: %w", dir, err)
		}
	}
	if err := os.Rename(tmp, dbPath); err != nil {
		return Restored{}, fmt.Errorf("restore %s: %w", dir, err)
	}
	if err := syncDir(filepath.Dir(dbPath)); err != nil {
		return Restored{}, fmt.Errorf("restore %s: %w", dir, err)
	}
	return res, nil
}

// Verify reads a backup's manifest and checks that every file it lists is
// there with the recorded size and SHA-256. The error names each damaged
// file and says what was expected.
func Verify(dir string) (Manifest, error) {
	var m Manifest
	data, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if errors.Is(err, os.ErrNotExist) {
		if _, serr := os.Stat(dir); serr != nil {
			return m, errs.E(errs.NotFound, "backup %s does not exist", dir)
		}
		return m, errs.E(errs.Invalid,
			"%s is not a finished Collate backup: it has no %s (a backup that was interrupted has none); use another backup", dir, ManifestName)
	}
	if err != nil {
		return m, fmt.Errorf("read backup %s: %w", dir, err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, errs.E(errs.Invalid, "%s: %s is not valid JSON (%v); the backup is damaged, use another", dir, ManifestName, err)
	}
	newest := 0
	for _, mg := range schemas.Migrations() {
		newest = max(newest, mg.Version)
	}
	var problems []string
	switch {
	case m.Format != Format:
		problems = append(problems, fmt.Sprintf("%s: format is %q, expected %q", ManifestName, m.Format, Format))
	case m.SchemaVersion < 1:
		problems = append(problems, fmt.Sprintf("%s: schema_version is %d, expected 1 or more", ManifestName, m.SchemaVersion))
	case m.SchemaVersion > newest:
		problems = append(problems, fmt.Sprintf("%s: schema_version %d is newer than this collate knows (%d); restore with a newer collate",
			ManifestName, m.SchemaVersion, newest))
	}
	seen := map[string]bool{}
	for _, t := range m.Tables {
		if t.File != t.Name+".parquet" || filepath.Base(t.File) != t.File || seen[t.Name] {
			problems = append(problems, fmt.Sprintf("%s: table %q has file %q, expected %q once", ManifestName, t.Name, t.File, t.Name+".parquet"))
			continue
		}
		seen[t.Name] = true
		size, sum, err := dirfile.FileSum(filepath.Join(dir, t.File))
		switch {
		case errors.Is(err, os.ErrNotExist):
			problems = append(problems, fmt.Sprintf("%s is missing", t.File))
		case err != nil:
			problems = append(problems, fmt.Sprintf("%s cannot be read: %v", t.File, err))
		case size != t.Bytes:
			problems = append(problems, fmt.Sprintf("%s is %d bytes, the manifest expects %d", t.File, size, t.Bytes))
		case sum != t.SHA256:
			problems = append(problems, fmt.Sprintf("%s has SHA-256 %s, the manifest expects %s", t.File, sum, t.SHA256))
		}
	}
	for _, need := range []string{"schema_version", "reviews"} {
		if !seen[need] {
			problems = append(problems, fmt.Sprintf("%s lists no %s table", ManifestName, need))
		}
	}
	if len(problems) > 0 {
		return m, errs.E(errs.Invalid, "backup %s is damaged or incomplete: %s; nothing was restored: use another copy of the backup or take a new one",
			dir, strings.Join(problems, "; "))
	}
	return m, nil
}

// load builds the store file path from the backup: the schema as it was at
// the backup's version, then every table, in one transaction.
func load(ctx context.Context, dir, path string, m Manifest) (err error) {
	db, err := sql.Open("duckdb", path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := db.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	if err := loadTables(ctx, conn, dir, m); err != nil {
		if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return err
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	// Fold the WAL into the file so the file alone is the store.
	if _, err := conn.ExecContext(ctx, "CHECKPOINT"); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

func loadTables(ctx context.Context, conn *sql.Conn, dir string, m Manifest) error {
	for _, mg := range schemas.Migrations() {
		if mg.Version > m.SchemaVersion {
			break
		}
		if _, err := conn.ExecContext(ctx, mg.SQL); err != nil {
			return fmt.Errorf("schema %s: %w", mg.Name, err)
		}
	}
	have, err := baseTables(ctx, conn)
	if err != nil {
		return err
	}
	for _, name := range have {
		if m.Rows(name) < 0 {
			return errs.E(errs.Invalid, "the backup has no %s table, which schema version %d has; the backup is incomplete", name, m.SchemaVersion)
		}
	}
	var problems []string
	for _, t := range m.Tables {
		if !contains(have, t.Name) {
			return errs.E(errs.Invalid, "the backup holds a table %s that schema version %d does not have", t.Name, m.SchemaVersion)
		}
		// The schema's own seed rows (if any) give way to the backup's.
		if _, err := conn.ExecContext(ctx, `DELETE FROM `+dirfile.QuoteIdent(t.Name)); err != nil {
			return fmt.Errorf("clear %s: %w", t.Name, err)
		}
		if _, err := conn.ExecContext(ctx, `INSERT INTO `+dirfile.QuoteIdent(t.Name)+` BY NAME SELECT * FROM read_parquet(?)`,
			filepath.Join(dir, t.File)); err != nil {
			return errs.Wrap(errs.Invalid, err, "%s could not be loaded into table %s", t.File, t.Name)
		}
		var n int64
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM `+dirfile.QuoteIdent(t.Name)).Scan(&n); err != nil {
			return err
		}
		if n != t.Rows {
			problems = append(problems, fmt.Sprintf("%s holds %d rows, the manifest expects %d", t.File, n, t.Rows))
		}
	}
	if len(problems) > 0 {
		return errs.E(errs.Invalid, "the backup does not match its manifest: %s; nothing was restored", strings.Join(problems, "; "))
	}
	dv, err := DataVersion(ctx, conn)
	if err != nil {
		return err
	}
	if dv != m.DataVersion {
		return errs.E(errs.Invalid, "the restored reviews have data version %s, the manifest expects %s; nothing was restored", dv, m.DataVersion)
	}
	for _, sq := range m.Sequences {
		if err := advanceSequence(ctx, conn, sq, m.SchemaVersion); err != nil {
			return err
		}
	}
	return nil
}

// sequenceName is what a sequence of Collate's schema may be called; the
// name goes into SQL as an identifier, so nothing else is accepted.
var sequenceName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// advanceSequence moves a freshly created sequence on to the value it had
// when the backup was taken. DuckDB has no statement to set a sequence, so
// it draws the values it had already handed out.
func advanceSequence(ctx context.Context, conn *sql.Conn, sq Sequence, schemaVersion int) error {
	if !sequenceName.MatchString(sq.Name) {
		return errs.E(errs.Invalid, "%s: sequence name %q is not one Collate uses", ManifestName, sq.Name)
	}
	var start, step int64
	err := conn.QueryRowContext(ctx, `SELECT start_value, increment_by FROM duckdb_sequences()
		WHERE schema_name = 'main' AND sequence_name = ?`, sq.Name).Scan(&start, &step)
	if errors.Is(err, sql.ErrNoRows) {
		return errs.E(errs.Invalid, "the backup has a sequence %s that schema version %d does not have", sq.Name, schemaVersion)
	}
	if err != nil {
		return fmt.Errorf("sequence %s: %w", sq.Name, err)
	}
	if step == 0 || (sq.LastValue-start)%step != 0 || (sq.LastValue-start)/step < 0 {
		return errs.E(errs.Invalid, "%s: sequence %s cannot have reached %d from %d in steps of %d", ManifestName, sq.Name, sq.LastValue, start, step)
	}
	var last int64
	if err := conn.QueryRowContext(ctx, `SELECT max(nextval('`+sq.Name+`')) FROM range(?)`,
		(sq.LastValue-start)/step+1).Scan(&last); err != nil {
		return fmt.Errorf("sequence %s: %w", sq.Name, err)
	}
	if last != sq.LastValue {
		return fmt.Errorf("sequence %s reached %d, want %d", sq.Name, last, sq.LastValue)
	}
	return nil
}

type targetState struct {
	exists  bool
	reviews int64 // review versions held; 0 for a new or empty store
	foreign int64 // tables held by a DuckDB file that is not a Collate store
}

// keep says whether replacing the store would lose anything.
func (s targetState) keep() bool { return s.reviews > 0 || s.foreign > 0 }

// inspectTarget looks at the store a restore would replace. Opening it also
// proves no other process has it open: DuckDB locks the file.
func inspectTarget(ctx context.Context, path string) (targetState, error) {
	var st targetState
	info, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		if _, werr := os.Stat(path + ".wal"); werr == nil {
			return st, errs.E(errs.Conflict, "restore: %s does not exist but its write-ahead log %s.wal does; move the log away first", path, path)
		}
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("restore: %w", err)
	}
	if info.IsDir() {
		return st, errs.E(errs.Invalid, "restore: %s is a directory; name the store file", path)
	}
	st.exists = true
	if info.Size() == 0 {
		return st, nil
	}
	db, err := sql.Open("duckdb", path+"?access_mode=read_only")
	if err == nil {
		err = db.PingContext(ctx)
	}
	if err != nil {
		if db != nil {
			db.Close()
		}
		if Locked(err) {
			return st, errs.Wrap(errs.Unavailable, err, "restore: the store %s is open in another process; stop collate serve (or the other process) first", path)
		}
		return st, errs.Wrap(errs.Invalid, err, "restore: %s exists and is not a DuckDB store; move it away or name another path", path)
	}
	defer db.Close()
	var tables int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables
		WHERE table_schema = 'main' AND table_name IN ('reviews', 'withdrawals')`).Scan(&tables); err != nil {
		return st, fmt.Errorf("restore: inspect %s: %w", path, err)
	}
	if tables == 2 {
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM reviews`).Scan(&st.reviews); err != nil {
			return st, fmt.Errorf("restore: inspect %s: %w", path, err)
		}
		return st, nil
	}
	// Not a Collate store; if it holds tables, never replace it silently.
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main'`).Scan(&st.foreign); err != nil {
		return st, fmt.Errorf("restore: inspect %s: %w", path, err)
	}
	return st, nil
}

// Locked reports whether err is DuckDB refusing a store file because it is
// open elsewhere: in another process (the file lock), or in this one with
// other settings.
func Locked(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "Could not set lock") || strings.Contains(msg, "same database file with a different configuration")
}

func tempPath(dbPath string) (string, error) {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	dir := filepath.Dir(dbPath)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", err
	}
	return filepath.Join(dir, "."+filepath.Base(dbPath)+".restore-"+hex.EncodeToString(b)), nil
}

// moveStore renames a store file and its write-ahead log, if any.
func moveStore(from, to string) error {
	if err := os.Rename(from+".wal", to+".wal"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return os.Rename(from, to)
}

// removeStore deletes a store file and its write-ahead log.
func removeStore(path string) error {
	for _, p := range []string{path + ".wal", path} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}
