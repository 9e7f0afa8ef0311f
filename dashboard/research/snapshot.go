package research

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/collate-project/collate/ingest/errs"
)

// Table is a table of the published tier supplied in Go, typically an
// analytics aggregate already suppressed: a suppressed figure is NULL (never
// 0), and the provider adds a boolean column saying so where a NULL could be
// mistaken for a missing value.
type Table struct {
	Name        string
	Description string
	Columns     []Column // Type one of VARCHAR, INTEGER, BIGINT, DOUBLE, BOOLEAN, DATE, TIMESTAMP
	Rows        [][]any
}

// curated is a table of a snapshot, written from the store by one SELECT.
type curated struct {
	name, description, query string
}

// referenceTables are in every tier: they describe places and frames, not reviews.
var referenceTables = []curated{
	{"geography", "Every board with its region and nation.", `SELECT board, board_name, region, region_name, nation, nation_name FROM geography`},
	{"frames", "The coding frames.", `SELECT frame_id, frame_version, title FROM frames`},
	{"frame_nodes", "Every node of every frame tree (tree 'factor' or 'pattern'); depth 1 is the top.",
		`SELECT frame_id, frame_version, tree, code, parent, depth, ord, label FROM frame_nodes`},
	{"frame_closure", "Each frame node paired with itself and each ancestor, to roll counts up.",
		`SELECT frame_id, frame_version, tree, ancestor, descendant FROM frame_closure`},
}

// rowLevelTables are the coded rows of current reviews, for researchers
// granted unsuppressed figures. Withdrawn and superseded versions, review
// bodies, source file names and uploaders are left out.
var rowLevelTables = []curated{
	{"reviews", "Current reviews, one row each.", `
		SELECT review_id, version, board, region, nation, kind, year, month, questions, agencies, participants,
		       family_participation, stage_preliminary, stage_interim, stage_final, frame_id, frame_version,
		       coder_role, coding_method, agreement_measure, agreement_value, n_episodes, n_patterns, n_recommendations
		FROM reviews WHERE status = 'current'`},
	{"episodes", "Key practice episodes of current reviews, with their anonymised text.", `
		SELECT r.review_id, e.episode_no, e.title, e.description, e.significance, e.adequacy, e.agencies
		FROM episodes e JOIN reviews r ON r.review_key = e.review_key WHERE r.status = 'current'`},
	{"factors", "Contributory factors coded on each episode.", `
		SELECT r.review_id, f.episode_no, f.seq, f.code, f.detail, f.influence
		FROM episode_factors f JOIN reviews r ON r.review_key = f.review_key WHERE r.status = 'current'`},
	{"patterns", "Patterns found in each review; episodes lists the episode numbers a pattern draws on.", `
		SELECT r.review_id, p.pattern_no, p.type_code, p.sub_code, p.proposed, p.nature, p.priority,
		       p.widespread, p.relevance, p.summary, p.episodes
		FROM patterns p JOIN reviews r ON r.review_key = p.review_key WHERE r.status = 'current'`},
	{"recommendations", "Recommendations of each review (kind 1, 2 or 3); patterns lists the pattern numbers addressed.", `
		SELECT r.review_id, c.rec_no, c.kind, c.level, c.text, c.patterns
		FROM recommendations c JOIN reviews r ON r.review_key = c.review_key WHERE r.status = 'current'`},
}

// DataVersion identifies the state of the reviews in db: it changes whenever
// a review is added, superseded or withdrawn.
func DataVersion(ctx context.Context, db *sql.DB) (string, error) {
	var n, current, withdrawn int64
	var maxKey sql.NullInt64
	var maxAt, maxW sql.NullTime
	err := db.QueryRowContext(ctx, `
		SELECT (SELECT count(*) FROM reviews),
		       (SELECT count(*) FROM reviews WHERE status = 'current'),
		       (SELECT max(review_key) FROM reviews),
		       (SELECT max(ingested_at) FROM reviews),
		       (SELECT count(*) FROM withdrawals),
		       (SELECT max(withdrawn_at) FROM withdrawals)`).Scan(&n, &current, &maxKey, &maxAt, &withdrawn, &maxW)
	if err != nil {
		return "", fmt.Errorf("read data version: %w", err)
	}
	var at, w int64
	if maxAt.Valid {
		at = maxAt.Time.UnixMicro()
	}
	if maxW.Valid {
		w = maxW.Time.UnixMicro()
	}
	return fmt.Sprintf("r%d-c%d-k%d-t%x-w%d-%x", n, current, maxKey.Int64, at, withdrawn, w), nil
}

// snapshot is one built tier: a read-only DuckDB file in a private directory.
type snapshot struct {
	tier    Tier
	version string
	dir     string
	path    string
	refs    int  // queries using it
	retired bool // replaced or closed: remove when refs reaches 0
}

func (sn *snapshot) remove() { _ = os.RemoveAll(sn.dir) }

// acquire returns the snapshot of tier for the current data version,
// building it if needed. release must follow.
func (s *Sandbox) acquire(ctx context.Context, tier Tier) (*snapshot, error) {
	version, err := s.opts.Version(ctx)
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "research: read data version")
	}
	s.buildMu.Lock()
	defer s.buildMu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, errs.E(errs.Unavailable, "research queries are shutting down")
	}
	if cur := s.snaps[tier]; cur != nil && cur.version == version {
		cur.refs++
		s.mu.Unlock()
		return cur, nil
	}
	s.mu.Unlock()
	snap, err := s.build(ctx, tier, version)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.snaps[tier]; old != nil {
		old.retired = true
		if old.refs == 0 {
			old.remove()
		}
	}
	s.snaps[tier] = snap
	snap.refs++
	return snap, nil
}

func (s *Sandbox) release(snap *snapshot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap.refs--
	if snap.retired && snap.refs == 0 {
		snap.remove()
	}
}

// build writes the tier's tables from the store to Parquet, then loads them
// into a new DuckDB file that workers open read-only.
func (s *Sandbox) build(ctx context.Context, tier Tier, version string) (_ *snapshot, err error) {
	dir, err := os.MkdirTemp(s.opts.TempDir, "collate-research-")
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "research: snapshot directory")
	}
	snap := &snapshot{tier: tier, version: version, dir: dir, path: filepath.Join(dir, "snapshot.duckdb")}
	defer func() {
		if err != nil {
			snap.remove()
			err = errs.Wrap(errs.Internal, err, "research: build the %s snapshot", tier)
		}
	}()
	tables := append([]curated(nil), referenceTables...)
	if tier == TierRowLevel {
		tables = append(tables, rowLevelTables...)
	}
	for _, t := range tables {
		pq := filepath.Join(dir, t.name+".parquet")
		if _, err := s.opts.Source.ExecContext(ctx, `COPY (`+t.query+`) TO '`+quote(pq)+`' (FORMAT parquet)`); err != nil {
			return nil, fmt.Errorf("export %s: %w", t.name, err)
		}
	}
	var published []Table
	if tier == TierPublished && s.opts.Published != nil {
		if published, err = s.opts.Published(ctx); err != nil {
			return nil, fmt.Errorf("published tables: %w", err)
		}
	}
	b, err := sql.Open("duckdb", snap.path)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := b.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	for _, t := range tables {
		pq := filepath.Join(dir, t.name+".parquet")
		if _, err := b.ExecContext(ctx, `CREATE TABLE `+t.name+` AS SELECT * FROM read_parquet('`+quote(pq)+`')`); err != nil {
			return nil, fmt.Errorf("load %s: %w", t.name, err)
		}
		if _, err := b.ExecContext(ctx, `COMMENT ON TABLE `+t.name+` IS '`+quote(t.description)+`'`); err != nil {
			return nil, fmt.Errorf("describe %s: %w", t.name, err)
		}
		if err := os.Remove(pq); err != nil {
			return nil, err
		}
	}
	for _, t := range published {
		if err := loadTable(ctx, b, t, tables); err != nil {
			return nil, err
		}
	}
	if _, err := b.ExecContext(ctx, `CHECKPOINT`); err != nil {
		return nil, err
	}
	s.log.Info("research snapshot built", "tier", tier, "data_version", version, "tables", len(tables)+len(published))
	return snap, nil
}

var tableName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

var columnTypes = map[string]bool{"VARCHAR": true, "INTEGER": true, "BIGINT": true, "DOUBLE": true, "BOOLEAN": true, "DATE": true, "TIMESTAMP": true}

// loadTable creates and fills one Go-supplied table.
func loadTable(ctx context.Context, b *sql.DB, t Table, reserved []curated) error {
	if !tableName.MatchString(t.Name) {
		return fmt.Errorf("published table name %q: use lower-case letters, digits and _", t.Name)
	}
	for _, r := range reserved {
		if r.name == t.Name {
			return fmt.Errorf("published table %s clashes with a reference table", t.Name)
		}
	}
	if len(t.Columns) == 0 {
		return fmt.Errorf("published table %s has no columns", t.Name)
	}
	defs := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		if !tableName.MatchString(c.Name) || !columnTypes[c.Type] {
			return fmt.Errorf("published table %s: column %q of type %q: use a lower-case name and one of VARCHAR, INTEGER, BIGINT, DOUBLE, BOOLEAN, DATE, TIMESTAMP", t.Name, c.Name, c.Type)
		}
		defs[i] = c.Name + " " + c.Type
	}
	// A snapshot that fails half-way is thrown away whole, so no transaction.
	conn, err := b.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `CREATE TABLE `+t.Name+` (`+strings.Join(defs, ", ")+`)`); err != nil {
		return fmt.Errorf("published table %s: %w", t.Name, err)
	}
	if _, err := conn.ExecContext(ctx, `COMMENT ON TABLE `+t.Name+` IS '`+quote(t.Description)+`'`); err != nil {
		return err
	}
	// The Appender: tens of thousands of rows in a fraction of the time
	// INSERT statements take.
	return conn.Raw(func(dc any) error {
		dconn, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("published table %s: not a DuckDB connection", t.Name)
		}
		a, err := duckdb.NewAppenderFromConn(dconn, "", t.Name)
		if err != nil {
			return fmt.Errorf("published table %s: %w", t.Name, err)
		}
		vals := make([]driver.Value, len(t.Columns))
		for i, r := range t.Rows {
			if len(r) != len(t.Columns) {
				a.Close()
				return fmt.Errorf("published table %s: row %d has %d values for %d columns", t.Name, i, len(r), len(t.Columns))
			}
			for j, v := range r {
				if vals[j], err = appendValue(v, t.Columns[j].Type); err != nil {
					a.Close()
					return fmt.Errorf("published table %s: row %d, column %s: %w", t.Name, i, t.Columns[j].Name, err)
				}
			}
			if err := a.AppendRow(vals...); err != nil {
				a.Close()
				return fmt.Errorf("published table %s: row %d: %w", t.Name, i, err)
			}
		}
		return a.Close()
	})
}

// appendValue gives v the Go type the Appender wants for a column of typ.
func appendValue(v any, typ string) (driver.Value, error) {
	if v == nil {
		return nil, nil
	}
	bad := fmt.Errorf("%T value %v for a %s column", v, v, typ)
	switch typ {
	case "INTEGER", "BIGINT":
		var n int64
		switch x := v.(type) {
		case int:
			n = int64(x)
		case int32:
			n = int64(x)
		case int64:
			n = x
		default:
			return nil, bad
		}
		if typ == "INTEGER" {
			if n < math.MinInt32 || n > math.MaxInt32 {
				return nil, bad
			}
			return int32(n), nil
		}
		return n, nil
	case "DOUBLE":
		switch x := v.(type) {
		case float64:
			return x, nil
		case float32:
			return float64(x), nil
		case int:
			return float64(x), nil
		}
	case "VARCHAR":
		if x, ok := v.(string); ok {
			return x, nil
		}
	case "BOOLEAN":
		if x, ok := v.(bool); ok {
			return x, nil
		}
	case "DATE", "TIMESTAMP":
		if x, ok := v.(time.Time); ok {
			return x, nil
		}
	}
	return nil, bad
}

// quote escapes s for a single-quoted SQL literal. Only paths and
// descriptions of our own making pass through it, never a user's text.
func quote(s string) string { return strings.ReplaceAll(s, "'", "''") }
