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
	// The viewer's own place is always in the context, so that what they can
	// subtract from the places above it is known to the protection.
	if sc.scopeNode >= 0 {
		addChain(sc.scopeNode, false)
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

// rolled lists the aggregate tables with a regional roll-up (<table>_r).
var rolled = map[string]bool{"agg_nodes": true, "agg_pairs": true, "agg_flows": true, "agg_recs": true}

// inList returns "col IN (?, ?, ...)" for the values, or a constant when there are none.
func inList(col string, vals []string, not bool) (string, []any) {
	if len(vals) == 0 {
		if not {
			return "true", nil
		}
		return "false", nil
	}
	ph := strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", ")
	args := make([]any, len(vals))
	for i, v := range vals {
		args[i] = v
	}
	op := " IN ("
	if not {
		op = " NOT IN ("
	}
	return col + op + ph + ")", args
}

// filter is the WHERE clause every aggregate read shares: frame, years and,
// for a custom collection, its kinds.
func (sc *scope) filter(g *geoIndex, withFrame bool) (string, []any) {
	var w []string
	var args []any
	if withFrame {
		w = append(w, "frame_id = ? AND frame_version = ?")
		args = append(args, sc.frame.info.ID, sc.frame.info.Version)
	}
	w = append(w, "year BETWEEN ? AND ?")
	args = append(args, sc.from, sc.to)
	if sc.custom != nil && len(sc.custom.Kinds) > 0 {
		k, kargs := inList("kind", sc.custom.Kinds, false)
		w = append(w, k)
		args = append(args, kargs...)
	}
	return strings.Join(w, " AND "), args
}

// query is one read of an aggregate table over a context. Every string in it
// is SQL written in this package, never user text; values go in as arguments.
type query struct {
	table     string
	keys      string   // key columns, comma-separated; their values are joined with "|"
	nkeys     int      // how many key columns, when keys has commas inside expressions
	vals      []string // value expressions, each an aggregate cast to BIGINT
	valArgs   []any    // arguments of the value expressions
	where     string   // extra conditions
	whereArgs []any
	// rollupWhere, when set, replaces where for the roll-up (the pairs
	// roll-up holds both orientations of each pair).
	rollupWhere     string
	rollupWhereArgs []any
	byYear          bool // one block of values per year of the scope
	allFrames       bool // do not restrict to the scope's frame
}

// read runs an aggregate query over the context of a plan and fills a cube.
// Regions, nations and the UK come from the table's roll-up when it has one
// (unless the collection filters by kind, which the roll-up does not keep),
// and boards from the table itself, for the expanded regions only.
func (s *Store) read(ctx context.Context, sc *scope, p plan, q query) (*cube, error) {
	ny := 1
	if q.byYear {
		ny = sc.to - sc.from + 1
	}
	c := newCube(len(q.vals), ny, len(s.geo.nodes))
	useRollup := rolled[q.table] && !(sc.custom != nil && len(sc.custom.Kinds) > 0)
	if !useRollup {
		inR, ra := inList("region", p.regions, false)
		inN, na := inList("nation", p.nations, false)
		place := "CASE WHEN " + inR + " THEN board WHEN " + inN + " THEN region ELSE nation END"
		if err := s.readInto(ctx, sc, c, q, q.table, place, append(ra, na...), "", nil); err != nil {
			return nil, err
		}
	} else {
		inN, na := inList("nation", p.nations, false)
		notR, ra := inList("region", p.regions, true)
		place := "CASE WHEN " + inN + " THEN region ELSE nation END"
		rq := q
		if q.rollupWhere != "" {
			rq.where, rq.whereArgs = q.rollupWhere, q.rollupWhereArgs
		}
		if err := s.readInto(ctx, sc, c, rq, q.table+"_r", place, na, notR, ra); err != nil {
			return nil, err
		}
		if len(p.regions) > 0 {
			inR, ra := inList("region", p.regions, false)
			if err := s.readInto(ctx, sc, c, q, q.table, "board", nil, inR, ra); err != nil {
				return nil, err
			}
		}
	}
	c.rollUp(s.geo)
	return c, nil
}

// readInto runs one statement of a read and adds its rows to the cube.
func (s *Store) readInto(ctx context.Context, sc *scope, c *cube, q query, table, place string, placeArgs []any, cond string, condArgs []any) error {
	where, args := sc.filter(s.geo, !q.allFrames)
	if q.where != "" {
		where += " AND " + q.where
		args = append(args, q.whereArgs...)
	}
	if cond != "" {
		where += " AND " + cond
		args = append(args, condArgs...)
	}
	yearCol := ""
	if q.byYear {
		yearCol = ", year"
	}
	nk := 0
	keyCols := ""
	if q.keys != "" {
		nk = len(strings.Split(q.keys, ","))
		if q.nkeys > 0 {
			nk = q.nkeys
		}
		keyCols = ", " + q.keys
	}
	stmt := fmt.Sprintf(`SELECT %s AS place%s%s, %s FROM %s WHERE %s GROUP BY ALL`,
		place, keyCols, yearCol, strings.Join(q.vals, ", "), table, where)
	all := append(append(append([]any{}, placeArgs...), q.valArgs...), args...)
	got, ok := s.reads.get(sc.prov.DataVersion, stmt, all)
	if !ok {
		rows, err := s.db.QueryContext(ctx, stmt, all...)
		if err != nil {
			return wrapDB(ctx, err, "read "+q.table)
		}
		defer rows.Close()
		var pl string
		keys := make([]string, nk)
		var year int
		vals := make([]int64, len(q.vals))
		dest := []any{&pl}
		for i := range keys {
			dest = append(dest, &keys[i])
		}
		if q.byYear {
			dest = append(dest, &year)
		}
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		for rows.Next() {
			if err := rows.Scan(dest...); err != nil {
				return wrapDB(ctx, err, "read "+q.table)
			}
			got = append(got, readRow{place: pl, key: strings.Join(keys, "|"), year: year, vals: slices.Clone(vals)})
		}
		if err := rows.Err(); err != nil {
			return wrapRowsErr(ctx, err, "read "+q.table)
		}
		s.reads.put(sc.prov.DataVersion, stmt, all, got)
	}
	for _, r := range got {
		pi, ok := s.geo.byCode[r.place]
		if !ok {
			continue // a place no longer in the geography
		}
		cell := c.cell(r.key, pi)
		off := 0
		if q.byYear {
			off = (r.year - sc.from) * c.nv
		}
		for i, v := range r.vals {
			cell[off+i] += v
		}
	}
	return nil
}

// sums returns "sum(col)::BIGINT" for each column.
func sums(cols ...string) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = "coalesce(sum(" + c + "), 0)::BIGINT"
	}
	return out
}
