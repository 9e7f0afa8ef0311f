package analytics

import (
	"context"
	"database/sql"
	"errors"
	"regexp"
	"slices"
	"strings"

	"github.com/collate-project/collate/ingest/errs"
)

var savedName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

func (s *Store) collections(ctx context.Context, v Viewer) (*Collections, error) {
	if err := v.Check(); err != nil {
		return nil, err
	}
	known, _, err := s.knownPlaces(v)
	if err != nil {
		return nil, err
	}
	var build func(i int) CollectionNode
	build = func(i int) CollectionNode {
		n := CollectionNode{CollectionInfo: s.geo.info(i)}
		n.FullDetail = known[i]
		for _, c := range s.geo.nodes[i].children {
			n.Children = append(n.Children, build(c))
		}
		return n
	}
	saved, err := s.savedCollections(ctx, v)
	if err != nil {
		return nil, err
	}
	lo, hi, err := s.yearSpan(ctx)
	if err != nil {
		return nil, err
	}
	open := saved[:0]
	for _, c := range saved {
		if s.opens(v, known, &c, lo, hi) {
			open = append(open, c)
		}
	}
	return &Collections{Geography: build(0), Saved: open}, nil
}

// opens reports whether a viewer, who sees the known places in full, can
// open a saved collection: one narrowed by kind or agency, or to some of
// the store's years (lo to hi), only where they see it all in full (see
// errNarrowingWithheld and errYearsWithheld).
func (s *Store) opens(v Viewer, known []bool, c *SavedCollection, lo, hi int) bool {
	sc := &scope{v: v, known: known, custom: c}
	if err := s.resolveCustom(sc); err != nil {
		return false
	}
	ranged := c.From > lo || (c.To != 0 && c.To < hi)
	return sc.full || !sc.restricted() && !ranged
}

func (s *Store) checkSaved(c *SavedCollection) error {
	if !savedName.MatchString(c.Name) {
		return errs.E(errs.Invalid, "collection name %q: use 1 to 64 lower-case letters, digits and '-', starting with a letter or digit", c.Name)
	}
	c.Title = strings.TrimSpace(c.Title)
	if c.Title == "" {
		c.Title = c.Name
	}
	if len(c.Title) > 200 {
		return errs.E(errs.Invalid, "collection %s: the title is longer than 200 characters", c.Name)
	}
	for _, x := range []struct {
		codes []string
		level Level
	}{{c.Nations, LevelNation}, {c.Regions, LevelRegion}, {c.Boards, LevelBoard}} {
		for _, code := range x.codes {
			if n, ok := s.geo.lookup(code); !ok || n.level != x.level {
				return errs.E(errs.Invalid, "collection %s: %s %q is not in the geography", c.Name, x.level, code)
			}
		}
	}
	for _, k := range c.Kinds {
		if !slices.Contains(kindsOrder, k) {
			return errs.E(errs.Invalid, "collection %s: review kind %q: give one of %s", c.Name, k, strings.Join(kindsOrder, ", "))
		}
	}
	if c.From != 0 && c.To != 0 && c.From > c.To {
		return errs.E(errs.Invalid, "collection %s: years %d to %d: give the first year first", c.Name, c.From, c.To)
	}
	if len(c.Agencies) > 40 {
		return errs.E(errs.Invalid, "collection %s: at most 40 agencies", c.Name)
	}
	return nil
}

func (s *Store) saveCollection(ctx context.Context, v Viewer, c SavedCollection) (*SavedCollection, error) {
	if err := v.Check(); err != nil {
		return nil, err
	}
	if v.Role == RolePublic {
		return nil, errs.E(errs.Forbidden, "the public cannot save collections")
	}
	if err := s.checkSaved(&c); err != nil {
		return nil, err
	}
	if c.Frame != "" {
		if _, err := s.frame(ctx, c.Frame); err != nil {
			return nil, err
		}
	}
	if len(c.Kinds) > 0 || len(c.Agencies) > 0 {
		known, _, err := s.knownPlaces(v)
		if err != nil {
			return nil, err
		}
		if sc := (&scope{v: v, known: known, custom: &c}); s.resolveCustom(sc) == nil && !sc.full {
			return nil, errNarrowingWithheld(SavedPrefix + c.Name)
		}
	}
	existing, err := s.savedCollection(ctx, v, c.Name)
	switch {
	case err == nil:
		if existing.CreatedBy != v.Name && v.Role != RoleAdmin {
			return nil, errs.E(errs.Conflict, "collection %s belongs to someone else; choose another name", c.Name)
		}
	case errs.KindOf(err) != errs.NotFound:
		return nil, err
	}
	c.CreatedBy = v.Name
	if existing != nil {
		c.CreatedBy = existing.CreatedBy
	}
	c.CreatedAt = s.now().UTC()
	nz := func(xs []string) []string {
		if xs == nil {
			return []string{}
		}
		return xs
	}
	var from, to, frame any
	if c.From != 0 {
		from = c.From
	}
	if c.To != 0 {
		to = c.To
	}
	if c.Frame != "" {
		frame = c.Frame
	}
	_, err = s.db.ExecContext(ctx, `INSERT OR REPLACE INTO saved_collections VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.Name, c.Title, nz(c.Nations), nz(c.Regions), nz(c.Boards), from, to, nz(c.Kinds), nz(c.Agencies), frame,
		c.CreatedBy, c.CreatedAt)
	if err != nil {
		return nil, wrapDB(ctx, err, "save collection "+c.Name)
	}
	s.log.Info("collection saved", "collection", c.Name, "by", v.Name)
	return &c, nil
}

const savedCols = `name, title, nations, regions, boards, year_from, year_to, kinds, agencies, frame, created_by, created_at`

func scanSaved(sc interface{ Scan(...any) error }) (*SavedCollection, error) {
	var c SavedCollection
	var nations, regions, boards, kinds, agencies []any
	var from, to sql.NullInt64
	var frame sql.NullString
	if err := sc.Scan(&c.Name, &c.Title, &nations, &regions, &boards, &from, &to, &kinds, &agencies, &frame,
		&c.CreatedBy, &c.CreatedAt); err != nil {
		return nil, err
	}
	strs := func(xs []any) []string {
		var out []string
		for _, x := range xs {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	c.Nations, c.Regions, c.Boards, c.Kinds, c.Agencies = strs(nations), strs(regions), strs(boards), strs(kinds), strs(agencies)
	c.From, c.To, c.Frame = int(from.Int64), int(to.Int64), frame.String
	return &c, nil
}

func (s *Store) savedCollections(ctx context.Context, v Viewer) ([]SavedCollection, error) {
	if err := v.Check(); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+savedCols+` FROM saved_collections ORDER BY name`)
	if err != nil {
		return nil, wrapDB(ctx, err, "list saved collections")
	}
	defer rows.Close()
	out := []SavedCollection{}
	for rows.Next() {
		c, err := scanSaved(rows)
		if err != nil {
			return nil, wrapDB(ctx, err, "list saved collections")
		}
		out = append(out, *c)
	}
	return out, wrapRowsErr(ctx, rows.Err(), "list saved collections")
}

func wrapRowsErr(ctx context.Context, err error, what string) error {
	if err == nil {
		return nil
	}
	return wrapDB(ctx, err, what)
}

func (s *Store) savedCollection(ctx context.Context, v Viewer, name string) (*SavedCollection, error) {
	if err := v.Check(); err != nil {
		return nil, err
	}
	c, err := scanSaved(s.db.QueryRowContext(ctx, `SELECT `+savedCols+` FROM saved_collections WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "there is no saved collection %q", name)
	}
	if err != nil {
		return nil, wrapDB(ctx, err, "read saved collection "+name)
	}
	return c, nil
}

func (s *Store) deleteCollection(ctx context.Context, v Viewer, name string) error {
	c, err := s.savedCollection(ctx, v, name)
	if err != nil {
		return err
	}
	if c.CreatedBy != v.Name && v.Role != RoleAdmin {
		return errs.E(errs.Forbidden, "only the creator of collection %s or an admin may delete it", name)
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM saved_collections WHERE name = ?`, name); err != nil {
		return wrapDB(ctx, err, "delete collection "+name)
	}
	s.log.Info("collection deleted", "collection", name, "by", v.Name)
	return nil
}
