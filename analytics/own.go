package analytics

import (
	"context"
	"fmt"
	"strings"

	"github.com/collate-project/collate/ingest/errs"
)

// A custom collection narrowed by agency cannot use the aggregates, and it
// is published on its own sums and on its complement only (see collect): no
// cell of the places around it is decided for it. So a view that shows only
// the collection's own figures reads them for the collection as one place,
// in one statement: its totals and node figures from the base tables, and
// the same boards' totals and node figures without the narrowing from the
// board-level aggregates. DuckDB plans a prepared statement with arguments
// afresh on every run, so one statement plans once; and counting distinct
// reviews once per node rather than once per board and node halves the
// work of the node read.

// ownPlace is the place column of a read for the collection as one place.
const ownPlace = "'*'"

// readOwn reads the totals and the node figures of a tree of an
// agency-filtered collection as one place; codes restricts the nodes (nil:
// all). Of the totals it reads those a recurrence shows (reviews received,
// reviews coded and their episodes); the others are 0.
func (s *Store) readOwn(ctx context.Context, sc *scope, tree string, codes []string, splits bool) (*protected, *measureSet, error) {
	stmt, args, nn := s.ownSQL(sc, tree, codes, splits)
	tot := &measureSet{fam: totalsFamily, rv: totalsReviews, own: true, c: newCube(vTotals, 1, 1), base: newCube(vTotals, 1, 1)}
	ms := &measureSet{fam: nodeFamily(tree, splits), rv: nodeReviews(tree, splits), own: true,
		c: newCube(nn, 1, 1), base: newCube(len(nodeCols(splits)), 1, 1)}
	// Where each part's values go: a cube, and the columns of its values
	// (nil: in order).
	parts := map[string]struct {
		c    []*cube
		cols []int
	}{
		"n":  {[]*cube{ms.c}, nil},
		"nb": {[]*cube{ms.base}, nil},
		"t": {[]*cube{tot.c, tot.c, tot.c, tot.base, tot.base},
			[]int{vReceived, vCoded, vEpisodes, vReceived, vCoded}},
	}
	got, err := s.ownRows(ctx, sc, stmt, args)
	if err != nil {
		return nil, nil, err
	}
	for _, r := range got {
		to, ok := parts[r.place]
		if !ok || (to.cols == nil && len(r.vals) != to.c[0].nv) || (to.cols != nil && len(r.vals) != len(to.cols)) {
			return nil, nil, errs.E(errs.Internal, "read the collection's reviews: part %q has %d values", r.place, len(r.vals))
		}
		for i, v := range r.vals {
			if to.cols != nil {
				to.c[i].cell(r.key, 0)[to.cols[i]] += v
			} else {
				to.c[0].cell(r.key, 0)[i] += v
			}
		}
	}
	return &protected{ms: tot, key: ""}, ms, nil
}

// ownSQL is the statement of readOwn and its arguments, with the number of
// values of its node rows. Its rows are (part, key, values): part "n" the
// node figures of the collection and "nb" those of the same boards without
// the narrowing; "t" the collection's reviews received, reviews coded and
// their episodes, then the reviews received and coded without the narrowing.
func (s *Store) ownSQL(sc *scope, tree string, codes []string, splits bool) (string, []any, int) {
	in, inArgs := sc.inBoards(s.geo)
	nq := nodesBaseSQL(sc, tree, codes, splits)
	frame := []any{sc.frame.info.ID, sc.frame.info.Version}
	years := []any{sc.from, sc.to}

	// ra: every current review of the collection's boards and years, all
	// frames, with whether it is coded with the scope's frame and whether
	// it is of the collection (hit); r: the collection's coded reviews.
	w, args := sc.narrowing()
	args = append(append(append(append([]any{}, frame...), args...), inArgs...), years...)
	var b strings.Builder
	b.WriteString(`WITH ra AS MATERIALIZED (
		SELECT review_key, board, year, n_episodes, (frame_id = ? AND frame_version = ?) AS coded, (true` + w + `) AS hit
		FROM reviews WHERE status = 'current' AND ` + in + ` AND year BETWEEN ? AND ?),
	r AS (SELECT * FROM ra WHERE coded AND hit)` + nq.ctes)
	args = append(args, nq.args...)
	part := func(name, key string, vals []string, rest string) {
		fmt.Fprintf(&b, "\n\tSELECT '%s' AS part, %s AS key, [%s]::BIGINT[] AS vals %s GROUP BY ALL", name, key, strings.Join(vals, ", "), rest)
	}
	part("n", nq.key, nq.vals, nq.from)
	b.WriteString("\n\tUNION ALL")
	part("t", "''", []string{"count(*) FILTER (WHERE hit)", "count(*) FILTER (WHERE hit AND coded)",
		"coalesce(sum(n_episodes) FILTER (WHERE hit AND coded), 0)", "count(*)", "count(*) FILTER (WHERE coded)"}, "FROM ra")
	// Boards that make up whole regions are read from the regional roll-up.
	regions, boards := sc.wholeRegions(s.geo)
	for _, from := range []struct {
		table, col string
		codes      []string
	}{{"agg_nodes_r", "region", regions}, {"agg_nodes", "board", boards}} {
		if len(from.codes) == 0 {
			continue
		}
		codeCond := ""
		if codes != nil {
			codeCond = " AND list_contains(?::VARCHAR[], code)"
		}
		b.WriteString("\n\tUNION ALL")
		part("nb", "code", nodeCols(splits), "FROM "+from.table+" WHERE frame_id = ? AND frame_version = ? AND year BETWEEN ? AND ? AND tree = ? AND list_contains(?::VARCHAR[], "+from.col+")"+codeCond)
		args = append(append(append(append(args, frame...), years...), tree), from.codes)
		if codes != nil {
			args = append(args, codes)
		}
	}
	return b.String(), args, len(nq.vals)
}

// wholeRegions splits a custom collection's boards into the regions all of
// whose boards it covers and the other boards.
func (sc *scope) wholeRegions(g *geoIndex) (regions, boards []string) {
	in := make(map[int]bool, len(sc.boards))
	for _, b := range sc.boards {
		in[b] = true
	}
	seen := map[int]bool{}
	for _, b := range sc.boards {
		r := g.nodes[b].parent
		if seen[r] {
			continue
		}
		seen[r] = true
		var mine []string
		for _, c := range g.nodes[r].children {
			if in[c] {
				mine = append(mine, g.nodes[c].code)
			}
		}
		if len(mine) == len(g.nodes[r].children) {
			regions = append(regions, g.nodes[r].code)
		} else {
			boards = append(boards, mine...)
		}
	}
	return regions, boards
}

// ownRows runs the statement of readOwn, or takes its rows from the read
// memo (as readInto does for aggregate reads: the rows are those of the data
// version the view resolved); each row's part is held as its place.
func (s *Store) ownRows(ctx context.Context, sc *scope, stmt string, args []any) ([]readRow, error) {
	if got, ok := s.reads.get(sc.prov.DataVersion, stmt, args); ok {
		return got, nil
	}
	rows, err := s.db.QueryContext(ctx, stmt, args...)
	if err != nil {
		return nil, wrapDB(ctx, err, "read the collection's reviews")
	}
	defer rows.Close()
	var got []readRow
	for rows.Next() {
		var r readRow
		var vals any
		if err := rows.Scan(&r.place, &r.key, &vals); err != nil {
			return nil, wrapDB(ctx, err, "read the collection's reviews")
		}
		list, _ := vals.([]any)
		r.vals = make([]int64, len(list))
		for i, v := range list {
			r.vals[i], _ = v.(int64)
		}
		got = append(got, r)
	}
	if err := rows.Err(); err != nil {
		return nil, wrapRowsErr(ctx, err, "read the collection's reviews")
	}
	s.reads.put(sc.prov.DataVersion, stmt, args, got)
	return got, nil
}
