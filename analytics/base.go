package analytics

import (
	"context"
	"strings"
)

// Custom collections filtered by agency cannot use the aggregates (an agency
// is not a partition), so their figures are read from the base tables. The
// statements follow the aggregate statements of ingest/aggregates.go, over
// the collection's reviews only, and return one row per board (and year).

// baseReviews is the CTE of a custom collection's current reviews; frame
// restricts it to the scope's frame.
func (sc *scope) baseReviews(g *geoIndex, frame bool) (string, []any) {
	in, args := sc.inBoards(g)
	w := []string{"status = 'current'", in, "year BETWEEN ? AND ?"}
	args = append(args, sc.from, sc.to)
	if frame {
		w = append(w, "frame_id = ? AND frame_version = ?")
		args = append(args, sc.frame.info.ID, sc.frame.info.Version)
	}
	nw, nargs := sc.narrowing()
	args = append(args, nargs...)
	return `SELECT review_key, board, year, kind, frame_id, frame_version, family_participation,
		stage_preliminary, stage_interim, stage_final, n_episodes, n_patterns, n_recommendations
		FROM reviews WHERE ` + strings.Join(w, " AND ") + nw, args
}

// narrowing is the condition (" AND ...", or empty) that a review is of a
// custom collection's kinds and agencies. An agency is tested with one
// list_contains per agency: DuckDB runs that several times faster than
// list_has_any (over 200,000 reviews, 15 ms against 68 ms).
func (sc *scope) narrowing() (string, []any) {
	var w string
	var args []any
	if len(sc.custom.Kinds) > 0 {
		w += " AND list_contains(?::VARCHAR[], kind)"
		args = append(args, sc.custom.Kinds)
	}
	if len(sc.custom.Agencies) > 0 {
		tests := make([]string, len(sc.custom.Agencies))
		for i, a := range sc.custom.Agencies {
			tests[i] = "list_contains(agencies, ?)"
			args = append(args, a)
		}
		w += " AND (" + strings.Join(tests, " OR ") + ")"
	}
	return w, args
}

// readBase runs a base-table statement whose rows are (board, [year,] key, values...).
func (s *Store) readBase(ctx context.Context, sc *scope, stmt string, args []any, nv int, hasKey, byYear bool) (*cube, error) {
	rows, err := s.db.QueryContext(ctx, stmt, args...)
	if err != nil {
		return nil, wrapDB(ctx, err, "read the collection's reviews")
	}
	defer rows.Close()
	ny := 1
	if byYear {
		ny = sc.to - sc.from + 1
	}
	c := newCube(nv, ny, len(s.geo.nodes))
	var board, key string
	var year int
	vals := make([]int64, nv)
	dest := []any{&board}
	if byYear {
		dest = append(dest, &year)
	}
	if hasKey {
		dest = append(dest, &key)
	}
	for i := range vals {
		dest = append(dest, &vals[i])
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, wrapDB(ctx, err, "read the collection's reviews")
		}
		pi, ok := s.geo.byCode[board]
		if !ok {
			continue
		}
		cell := c.cell(key, pi)
		off := 0
		if byYear {
			off = (year - sc.from) * nv
		}
		for i, v := range vals {
			cell[off+i] += v
		}
	}
	if err := rows.Err(); err != nil {
		return nil, wrapDB(ctx, err, "read the collection's reviews")
	}
	c.rollUp(s.geo)
	return c, nil
}

func yearCol(byYear bool) string {
	if byYear {
		return "year, "
	}
	return ""
}

// readTotalsBase reads the review totals of an agency-filtered collection.
func (s *Store) readTotalsBase(ctx context.Context, sc *scope, byYear bool) (*cube, error) {
	cte, args := sc.baseReviews(s.geo, false)
	cols, colArgs, ep := totalsBaseCols(sc, "r")
	stmt := `WITH r AS (` + cte + `)
	SELECT board, ` + yearCol(byYear) + strings.Join(cols, ", ") + ` FROM r` + ep + ` GROUP BY ALL`
	return s.readBase(ctx, sc, stmt, append(args, colArgs...), len(cols), false, byYear)
}

// totalsBaseCols returns the value columns of a totals read from the review
// rows of rel (laid out as the v* columns), their arguments, and the join
// they need. Most come from the review rows themselves; episodes by adequacy
// need the episodes table, so they are read only when the view shows them.
func totalsBaseCols(sc *scope, rel string) ([]string, []any, string) {
	f := "(frame_id = ? AND frame_version = ?)"
	var args []any
	cols := []string{"count(*)"}
	add := func(expr string) {
		cols = append(cols, "coalesce(sum(CASE WHEN "+f+" THEN "+expr+" ELSE 0 END), 0)::BIGINT")
		args = append(args, sc.frame.info.ID, sc.frame.info.Version)
	}
	add("1")
	add("n_episodes")
	ep := ""
	if sc.needAdequacy {
		for _, a := range []string{"good", "problematic", "mixed", "not_judged"} {
			add("coalesce(ep." + a + ", 0)")
		}
		for _, a := range []string{"good", "problematic", "mixed", "not_judged"} {
			add("(ep." + a + " > 0)::INT")
		}
		ep = ` LEFT JOIN (
			SELECT e.review_key,
			       count(*) FILTER (WHERE e.adequacy = 'good') AS good,
			       count(*) FILTER (WHERE e.adequacy = 'problematic') AS problematic,
			       count(*) FILTER (WHERE e.adequacy = 'mixed') AS mixed,
			       count(*) FILTER (WHERE e.adequacy = 'not_judged') AS not_judged
			FROM episodes e SEMI JOIN ` + rel + ` ON e.review_key = ` + rel + `.review_key GROUP BY e.review_key) ep USING (review_key)`
	} else {
		for i := 0; i < 8; i++ {
			cols = append(cols, "0::BIGINT")
		}
	}
	for _, col := range []string{"family_participation", "stage_preliminary", "stage_interim", "stage_final"} {
		add("(" + col + " = 'yes')::INT")
		add("(" + col + " = 'no')::INT")
		add("(" + col + " NOT IN ('yes', 'no'))::INT")
	}
	add("(stage_preliminary = 'yes' AND stage_interim = 'yes' AND stage_final = 'yes')::INT")
	add("n_patterns")
	add("(n_patterns > 0)::INT")
	add("n_recommendations")
	add("(n_recommendations > 0)::INT")
	for _, k := range kindsOrder {
		add("(kind = '" + k + "')::INT")
	}
	return cols, args, ep
}

// readNodesBase reads node figures of an agency-filtered collection.
func (s *Store) readNodesBase(ctx context.Context, sc *scope, tree string, codes []string, splits, byYear bool) (*cube, error) {
	cte, args := sc.baseReviews(s.geo, true)
	nq := nodesBaseSQL(sc, tree, codes, splits)
	stmt := `WITH r AS (` + cte + `)` + nq.ctes + `
	SELECT r.board, ` + yearCol(byYear) + nq.key + ` AS code, ` + strings.Join(nq.vals, ", ") + `
	` + nq.from + ` GROUP BY ALL`
	return s.readBase(ctx, sc, stmt, append(args, nq.args...), len(nq.vals), true, byYear)
}

// nodesBase is a node read from the base tables over the reviews in a
// relation r (with their board and year): CTEs to add after r's, the key
// and value columns, and the FROM clause. args are the arguments of ctes and
// from, which come in that order.
type nodesBase struct {
	ctes string
	key  string
	vals []string
	from string
	args []any
}

// nodesBaseSQL returns the node read of a tree, following the aggregate
// statements of ingest/aggregates.go; codes restricts the nodes (nil: all).
func nodesBaseSQL(sc *scope, tree string, codes []string, splits bool) nodesBase {
	var codeCond string
	args := []any{sc.frame.info.ID, sc.frame.info.Version}
	if codes != nil {
		codeCond = " AND list_contains(?::VARCHAR[], c.ancestor)"
		args = append(args, codes)
	}
	var nq nodesBase
	if tree == TreeFactor {
		nq = factorBaseSQL(codeCond, splits)
	} else {
		nq = patternBaseSQL(codeCond, splits)
	}
	nq.args = args
	return nq
}

func factorBaseSQL(codeCond string, splits bool) nodesBase {
	if !splits {
		// The lean form: one pass, as close to the naive question as the figures allow.
		return nodesBase{key: "c.ancestor",
			vals: []string{"count(DISTINCT r.review_key)::BIGINT", "count(DISTINCT r.review_key * 1000 + f.episode_no)::BIGINT", "count(*)::BIGINT"},
			from: `FROM r JOIN episode_factors f ON f.review_key = r.review_key
		JOIN frame_closure c ON c.frame_id = ? AND c.frame_version = ? AND c.tree = 'factor' AND c.descendant = f.code` + codeCond}
	}
	return nodesBase{ctes: `,
	per_episode AS (
		SELECT f.review_key, f.episode_no, c.ancestor AS code, any_value(e.adequacy) AS adequacy,
		       count(*) AS mentions,
		       count(*) FILTER (WHERE f.influence = 'supported_good') AS m_good,
		       count(*) FILTER (WHERE f.influence = 'made_problematic_more_likely') AS m_prob
		FROM r JOIN episode_factors f ON f.review_key = r.review_key
		JOIN episodes e ON e.review_key = f.review_key AND e.episode_no = f.episode_no
		JOIN frame_closure c ON c.frame_id = ? AND c.frame_version = ? AND c.tree = 'factor' AND c.descendant = f.code` + codeCond + `
		GROUP BY f.review_key, f.episode_no, c.ancestor
	), per_review AS (
		SELECT review_key, code, count(*) AS episodes, sum(mentions) AS mentions,
		       count(*) FILTER (WHERE m_good > 0) AS e1, count(*) FILTER (WHERE m_prob > 0) AS e2,
		       count(*) FILTER (WHERE adequacy = 'good') AS e3, count(*) FILTER (WHERE adequacy = 'problematic') AS e4,
		       count(*) FILTER (WHERE adequacy = 'mixed') AS e5, count(*) FILTER (WHERE adequacy = 'not_judged') AS e6,
		       sum(m_good) AS m1, sum(m_prob) AS m2,
		       coalesce(sum(mentions) FILTER (WHERE adequacy = 'good'), 0) AS m3,
		       coalesce(sum(mentions) FILTER (WHERE adequacy = 'problematic'), 0) AS m4,
		       coalesce(sum(mentions) FILTER (WHERE adequacy = 'mixed'), 0) AS m5,
		       coalesce(sum(mentions) FILTER (WHERE adequacy = 'not_judged'), 0) AS m6
		FROM per_episode GROUP BY review_key, code
	)`, key: "code",
		vals: []string{"count(*)::BIGINT", "sum(episodes)::BIGINT", "sum(mentions)::BIGINT",
			"count(*) FILTER (WHERE e1 > 0)", "count(*) FILTER (WHERE e2 > 0)", "count(*) FILTER (WHERE e3 > 0)",
			"count(*) FILTER (WHERE e4 > 0)", "count(*) FILTER (WHERE e5 > 0)", "count(*) FILTER (WHERE e6 > 0)", "0",
			"sum(e1)::BIGINT", "sum(e2)::BIGINT", "sum(e3)::BIGINT", "sum(e4)::BIGINT", "sum(e5)::BIGINT", "sum(e6)::BIGINT", "0",
			"sum(m1)::BIGINT", "sum(m2)::BIGINT", "sum(m3)::BIGINT", "sum(m4)::BIGINT", "sum(m5)::BIGINT", "sum(m6)::BIGINT", "0"},
		from: `FROM per_review JOIN r USING (review_key)`}
}

func patternBaseSQL(codeCond string, splits bool) nodesBase {
	codeFilter := ""
	if codeCond != "" {
		codeFilter = " WHERE list_contains(?::VARCHAR[], code)"
	}
	return nodesBase{ctes: `,
	pat AS (
		SELECT p.review_key, p.pattern_no, p.type_code, p.proposed, p.episodes, coalesce(p.sub_code, p.type_code) AS leaf,
		       CASE p.nature WHEN 'constructive' THEN 1 ELSE 2 END AS nat,
		       CASE WHEN p.priority IS NULL THEN 7 WHEN p.priority >= 4 THEN 6 ELSE p.priority + 2 END AS pri
		FROM r JOIN patterns p ON p.review_key = r.review_key
	), nodes AS (
		SELECT pat.review_key, pat.pattern_no, pat.episodes, pat.nat, pat.pri, c.ancestor AS code
		FROM pat JOIN frame_closure c ON c.frame_id = ? AND c.frame_version = ? AND c.tree = 'pattern' AND c.descendant = pat.leaf
		UNION ALL
		SELECT review_key, pattern_no, episodes, nat, pri, type_code || '.proposed' FROM pat WHERE proposed IS NOT NULL
	), sel AS (SELECT * FROM nodes` + codeFilter + `),
	per_episode AS (
		SELECT review_key, code, ep,
		       bool_or(nat = 1) AS n1, bool_or(nat = 2) AS n2, bool_or(pri = 3) AS p3, bool_or(pri = 4) AS p4,
		       bool_or(pri = 5) AS p5, bool_or(pri = 6) AS p6, bool_or(pri = 7) AS p7
		FROM (SELECT DISTINCT review_key, code, nat, pri, unnest(episodes) AS ep FROM sel)
		GROUP BY review_key, code, ep
	), ep_review AS (
		SELECT review_key, code, count(*) AS episodes,
		       count(*) FILTER (WHERE n1) AS e1, count(*) FILTER (WHERE n2) AS e2, count(*) FILTER (WHERE p3) AS e3,
		       count(*) FILTER (WHERE p4) AS e4, count(*) FILTER (WHERE p5) AS e5, count(*) FILTER (WHERE p6) AS e6,
		       count(*) FILTER (WHERE p7) AS e7
		FROM per_episode GROUP BY review_key, code
	), per_review AS (
		SELECT review_key, code, count(*) AS mentions,
		       count(*) FILTER (WHERE nat = 1) AS m1, count(*) FILTER (WHERE nat = 2) AS m2,
		       count(*) FILTER (WHERE pri = 3) AS m3, count(*) FILTER (WHERE pri = 4) AS m4,
		       count(*) FILTER (WHERE pri = 5) AS m5, count(*) FILTER (WHERE pri = 6) AS m6,
		       count(*) FILTER (WHERE pri = 7) AS m7
		FROM sel GROUP BY review_key, code
	)`, key: "code",
		vals: append([]string{"count(*)::BIGINT", "coalesce(sum(episodes), 0)::BIGINT", "sum(mentions)::BIGINT"}, patternSplitCols(splits)...),
		from: `FROM per_review LEFT JOIN ep_review USING (review_key, code) JOIN r USING (review_key)`}
}

func patternSplitCols(splits bool) []string {
	if !splits {
		return nil
	}
	return []string{
		"count(*) FILTER (WHERE m1 > 0)", "count(*) FILTER (WHERE m2 > 0)", "count(*) FILTER (WHERE m3 > 0)",
		"count(*) FILTER (WHERE m4 > 0)", "count(*) FILTER (WHERE m5 > 0)", "count(*) FILTER (WHERE m6 > 0)",
		"count(*) FILTER (WHERE m7 > 0)",
		"coalesce(sum(e1), 0)::BIGINT", "coalesce(sum(e2), 0)::BIGINT", "coalesce(sum(e3), 0)::BIGINT", "coalesce(sum(e4), 0)::BIGINT",
		"coalesce(sum(e5), 0)::BIGINT", "coalesce(sum(e6), 0)::BIGINT", "coalesce(sum(e7), 0)::BIGINT",
		"sum(m1)::BIGINT", "sum(m2)::BIGINT", "sum(m3)::BIGINT", "sum(m4)::BIGINT", "sum(m5)::BIGINT", "sum(m6)::BIGINT", "sum(m7)::BIGINT"}
}
