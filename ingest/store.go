package ingest

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/collate-project/collate/ingest/errs"
	"github.com/collate-project/collate/schemas"
)

// Migrate creates or upgrades the store's schema to the newest version in
// schemas.Migrations, recording each step, and loads the built-in frames and
// the geography. It is safe to call on every start.
// keepsAggregates marks a migration step about the aggregate tables that
// leaves every count as it was, so that no rebuild follows it.
const keepsAggregates = "-- keeps aggregates whole"

func Migrate(ctx context.Context, db *sql.DB) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	applied, err := appliedVersions(ctx, conn)
	if err != nil {
		return err
	}
	// Apply every step not yet recorded, not only those above the highest:
	// steps are numbered in ranges by area, so a lower number can arrive
	// after a higher one has been applied.
	upgraded := false
	for _, m := range schemas.Migrations() {
		if applied[m.Version] {
			continue
		}
		if err := inTx(ctx, conn, func() error {
			if _, err := conn.ExecContext(ctx, m.SQL); err != nil {
				return fmt.Errorf("migrate %s: %w", m.Name, err)
			}
			_, err := conn.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (?)`, m.Version)
			return err
		}); err != nil {
			return err
		}
		// Only a step about the aggregate tables (agg_*) can leave them
		// needing a rebuild; an accounts step, say, cannot, and nor can one
		// that says it keeps them whole.
		upgraded = upgraded || len(applied) > 0 && strings.Contains(m.SQL, "agg_") && !strings.Contains(m.SQL, keepsAggregates)
	}
	if err := inTx(ctx, conn, func() error { return loadGeography(ctx, conn, schemas.LoadGeography()) }); err != nil {
		return fmt.Errorf("migrate: geography: %w", err)
	}
	// A step may add or reshape aggregate tables that start empty; a store
	// that already holds reviews then gets its aggregates rebuilt from them.
	if upgraded {
		var n int
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM reviews`).Scan(&n); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if n > 0 {
			if err := inTx(ctx, conn, func() error { return rebuildAggregates(ctx, conn) }); err != nil {
				return fmt.Errorf("migrate: %w", err)
			}
		}
	}
	for _, f := range schemas.BuiltinFrames() {
		if err := inTx(ctx, conn, func() error { return registerFrame(ctx, conn, f, nil) }); err != nil {
			return fmt.Errorf("migrate: frame %s: %w", f.Key(), err)
		}
	}
	return nil
}

// SchemaVersion reports the store's schema version; 0 means empty.
func SchemaVersion(ctx context.Context, db *sql.DB) (int, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	return schemaVersion(ctx, conn)
}

func appliedVersions(ctx context.Context, conn *sql.Conn) (map[int]bool, error) {
	out := map[int]bool{}
	if v, err := schemaVersion(ctx, conn); err != nil || v == 0 {
		return out, err
	}
	rows, err := conn.QueryContext(ctx, `SELECT version FROM schema_version`)
	if err != nil {
		return nil, fmt.Errorf("read schema versions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out[v] = true
	}
	return out, rows.Err()
}

func schemaVersion(ctx context.Context, conn *sql.Conn) (int, error) {
	var n int
	err := conn.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if n == 0 {
		return 0, nil
	}
	var v sql.NullInt64
	if err := conn.QueryRowContext(ctx, `SELECT max(version) FROM schema_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return int(v.Int64), nil
}

// inTx runs fn inside one transaction on a pinned connection.
func inTx(ctx context.Context, conn *sql.Conn, fn func() error) (err error) {
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			// A rollback on a cancelled context would fail; use a fresh one.
			if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil {
				err = errors.Join(err, fmt.Errorf("rollback: %w", rerr))
			}
		}
	}()
	if err := fn(); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func loadGeography(ctx context.Context, conn *sql.Conn, g *schemas.Geography) error {
	if _, err := conn.ExecContext(ctx, `DELETE FROM geography`); err != nil {
		return err
	}
	for _, p := range g.Places() {
		if _, err := conn.ExecContext(ctx, `INSERT INTO geography VALUES (?, ?, ?, ?, ?, ?)`,
			p.Board, p.BoardName, p.Region, p.RegionName, p.Nation, p.NationName); err != nil {
			return err
		}
	}
	return nil
}

// registerFrame stores a frame and its nodes unless the same id and version is
// already there. A different body under an existing id and version is a conflict:
// codes are never reused.
func registerFrame(ctx context.Context, conn *sql.Conn, f *schemas.Frame, body []byte) error {
	var existing string
	err := conn.QueryRowContext(ctx, `SELECT body FROM frames WHERE frame_id = ? AND frame_version = ?`, f.ID, f.Version).Scan(&existing)
	if err == nil {
		if body != nil && strings.TrimSpace(existing) != strings.TrimSpace(string(body)) {
			return errs.E(errs.Conflict, "frame %s is already registered with different content; give it a new version", f.Key())
		}
		return nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if body == nil {
		b, err := json.Marshal(f)
		if err != nil {
			return err
		}
		body = b
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO frames (frame_id, frame_version, title, body) VALUES (?, ?, ?, ?)`,
		f.ID, f.Version, f.Title, string(body)); err != nil {
		return err
	}
	for _, tree := range []string{schemas.TreeFactor, schemas.TreePattern} {
		for _, n := range f.Flat(tree) {
			var parent any
			if n.Parent != "" {
				parent = n.Parent
			}
			if _, err := conn.ExecContext(ctx, `INSERT INTO frame_nodes VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
				f.ID, f.Version, tree, n.Code, parent, n.Depth, n.Ord, n.Label); err != nil {
				return err
			}
			for _, a := range f.Ancestors(tree, n.Code) {
				if _, err := conn.ExecContext(ctx, `INSERT INTO frame_closure VALUES (?, ?, ?, ?, ?)`,
					f.ID, f.Version, tree, a, n.Code); err != nil {
					return err
				}
			}
		}
	}
	// The aggregates name the frame's codes by number, given here once and
	// for all in code order, so the numbers of two of its codes compare as
	// the codes do.
	_, err = conn.ExecContext(ctx, `INSERT INTO agg_codes
		SELECT (SELECT coalesce(max(cid), 0) FROM agg_codes) + row_number() OVER (ORDER BY tree, code),
		       frame_id, frame_version, tree, code, depth
		FROM frame_nodes WHERE frame_id = ? AND frame_version = ?`, f.ID, f.Version)
	return err
}

// LoadFrames returns every frame registered in the store, built-in ones included.
func LoadFrames(ctx context.Context, db *sql.DB) ([]*schemas.Frame, error) {
	rows, err := db.QueryContext(ctx, `SELECT body FROM frames ORDER BY frame_id, frame_version`)
	if err != nil {
		return nil, fmt.Errorf("load frames: %w", err)
	}
	defer rows.Close()
	var out []*schemas.Frame
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, err
		}
		f, err := schemas.ParseFrame([]byte(body))
		if err != nil {
			return nil, fmt.Errorf("load frames: %w", err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// RegisterFrame checks a frame file and stores it, so exports may be coded
// against it. Registering the same frame again changes nothing; a different
// frame under an existing id and version is a conflict.
func RegisterFrame(ctx context.Context, db *sql.DB, name string, data []byte) (*schemas.Frame, error) {
	f, err := schemas.ParseFrame(data)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "%s is not a valid coding frame: %v", name, err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if err := inTx(ctx, conn, func() error { return registerFrame(ctx, conn, f, data) }); err != nil {
		return nil, fmt.Errorf("register frame %s: %w", f.Key(), err)
	}
	return f, nil
}
