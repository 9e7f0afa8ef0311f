package analytics

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// plan is the context of a view: the parents whose children it needs, top-down.
// The UK, every expanded parent and every child of an expanded parent are in
// the context; data is read at the finest of them and rolled up.
type plan struct {
	expand  []int
	nations []string // expanded nations: read their regions
	regions []string // expanded regions: read their boards
}

// planFor returns the context of a view of the scope: the ancestors of the
// collection, plus the parents listed in more (with their ancestors).
func (s *Store) planFor(sc *scope, more ...int) plan {
	set := map[int]bool{}
	addChain := func(i int, self bool) {
		ch := s.geo.chain(i)
		if !self {
			ch = ch[:len(ch)-1]
		}
		for _, a := range ch {
			set[a] = true
		}
	}
	if sc.custom != nil {
		for _, b := range sc.boards {
			addChain(b, false)
		}
	} else {
		addChain(sc.place, false)
	}
	for _, m := range more {
		if s.geo.nodes[m].level != LevelBoard {
			addChain(m, true)
		}
	}
	var p plan
	for i := range s.geo.nodes {
		if !set[i] {
			continue
		}
		p.expand = append(p.expand, i)
		switch s.geo.nodes[i].level {
		case LevelNation:
			p.nations = append(p.nations, s.geo.nodes[i].code)
		case LevelRegion:
			p.regions = append(p.regions, s.geo.nodes[i].code)
		}
	}
	return p
}

// inContext reports whether a place's cells are decided by the plan.
func (p plan) inContext(g *geoIndex, i int) bool {
	if i == 0 {
		return true
	}
	return slices.Contains(p.expand, g.nodes[i].parent)
}

// cube holds the values read for a context: per key (a frame node, a pair, a
// link...), per place, ny blocks of nv values (ny = 1 without years).
type cube struct {
	nv, ny int
	keys   []string // in first-seen order
	data   map[string][][]int64
	nodes  int
}

func newCube(nv, ny, nodes int) *cube {
	return &cube{nv: nv, ny: max(ny, 1), nodes: nodes, data: map[string][][]int64{}}
}

func (c *cube) cell(key string, place int) []int64 {
	d, ok := c.data[key]
	if !ok {
		d = make([][]int64, c.nodes)
		c.data[key] = d
		c.keys = append(c.keys, key)
	}
	if d[place] == nil {
		d[place] = make([]int64, c.nv*c.ny)
	}
	return d[place]
}

// at returns the values of a key at a place (zeros when absent).
func (c *cube) at(key string, place int) []int64 {
	if d, ok := c.data[key]; ok && d[place] != nil {
		return d[place]
	}
	return make([]int64, c.nv*c.ny)
}

// rollUp adds every place's values into its ancestors. Places are read at
// exactly one level, and children always follow their parent in the index.
func (c *cube) rollUp(g *geoIndex) {
	for _, key := range c.keys {
		d := c.data[key]
		for i := len(d) - 1; i >= 1; i-- {
			if d[i] == nil {
				continue
			}
			p := g.nodes[i].parent
			if d[p] == nil {
				d[p] = make([]int64, len(d[i]))
			}
			for j, v := range d[i] {
				d[p][j] += v
			}
		}
	}
}

// placeExpr maps an aggregate row to the place of the context it is read at.
const placeExpr = `CASE WHEN list_contains(?::VARCHAR[], region) THEN board
	WHEN list_contains(?::VARCHAR[], nation) THEN region ELSE nation END`

// filter is the WHERE clause every aggregate read shares: frame, years and,
// for a custom collection, its boards and kinds.
func (sc *scope) filter(g *geoIndex, withFrame bool) (string, []any) {
	var w []string
	var args []any
	if withFrame {
		w = append(w, "frame_id = ? AND frame_version = ?")
		args = append(args, sc.frame.info.ID, sc.frame.info.Version)
	}
	w = append(w, "year BETWEEN ? AND ?")
	args = append(args, sc.from, sc.to)
	if sc.custom != nil {
		if len(sc.custom.Kinds) > 0 {
			w = append(w, "list_contains(?::VARCHAR[], kind)")
			args = append(args, sc.custom.Kinds)
		}
	}
	return strings.Join(w, " AND "), args
}

// query is one read of an aggregate table over a context. Every string in it
// is SQL written in this package, never user text; values go in as arguments.
type query struct {
	table     string
	keys      string   // key columns, comma-separated; their values are joined with "|"
	vals      []string // value expressions, each an aggregate cast to BIGINT
	valArgs   []any    // arguments of the value expressions
	where     string   // extra conditions
	whereArgs []any
	byYear    bool // one block of values per year of the scope
	allFrames bool // do not restrict to the scope's frame
}

// read runs an aggregate query over the context and fills a cube. The query
// selects the place expression, then the key columns, then the year when
// byYear is set, then the values.
func (s *Store) read(ctx context.Context, sc *scope, p plan, q query) (*cube, error) {
	table, keyCols, valCols, byYear := q.table, q.keys, q.vals, q.byYear
	where, args := sc.filter(s.geo, !q.allFrames)
	if q.where != "" {
		where += " AND " + q.where
		args = append(args, q.whereArgs...)
	}
	yearCol := ""
	ny := 1
	if byYear {
		yearCol = ", year"
		ny = sc.to - sc.from + 1
	}
	nk := 0
	if keyCols != "" {
		nk = len(strings.Split(keyCols, ","))
		keyCols = ", " + keyCols
	}
	stmt := fmt.Sprintf(`SELECT %s AS place%s%s, %s FROM %s WHERE %s GROUP BY ALL`,
		placeExpr, keyCols, yearCol, strings.Join(valCols, ", "), table, where)
	allArgs := append([]any{p.regions, p.nations}, q.valArgs...)
	allArgs = append(allArgs, args...)
	rows, err := s.db.QueryContext(ctx, stmt, allArgs...)
	if err != nil {
		return nil, wrapDB(ctx, err, "read "+table)
	}
	defer rows.Close()
	c := newCube(len(valCols), ny, len(s.geo.nodes))
	var place string
	keys := make([]string, nk)
	var year int
	vals := make([]int64, len(valCols))
	dest := []any{&place}
	for i := range keys {
		dest = append(dest, &keys[i])
	}
	if byYear {
		dest = append(dest, &year)
	}
	for i := range vals {
		dest = append(dest, &vals[i])
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, wrapDB(ctx, err, "read "+table)
		}
		pi, ok := s.geo.byCode[place]
		if !ok {
			continue // a place no longer in the geography
		}
		cell := c.cell(strings.Join(keys, "|"), pi)
		off := 0
		if byYear {
			off = (year - sc.from) * c.nv
		}
		for i, v := range vals {
			cell[off+i] += v
		}
	}
	if err := rows.Err(); err != nil {
		return nil, wrapDB(ctx, err, "read "+table)
	}
	c.rollUp(s.geo)
	return c, nil
}

// sums returns "sum(col)::BIGINT" for each column.
func sums(cols ...string) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = "coalesce(sum(" + c + "), 0)::BIGINT"
	}
	return out
}
