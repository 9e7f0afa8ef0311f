package analytics

import (
	"context"
	"slices"
)

// The reads of collections narrowed by agency for the views that relate
// figures to each other: co-occurrence, flows, recommendations, repeated
// lessons, the funnel and good practice. Such a collection is open only to
// viewers who see it in full (errNarrowingWithheld), so each view reads the
// collection alone, in one statement over its reviews (readOwn,
// readOwnParts), and fills the cube shape the aggregate read gives: the
// rest of the view is the same for every collection. Each part follows the
// statement of ingest/aggregates.go that fills the aggregate it stands
// for, over the collection's coded reviews (r) instead of a partition's.

// coOccurrenceParts are the parts of a co-occurrence read: "t" the
// reviews received and coded and their episodes (as the totals' v*
// columns); "n" per code (among codes) the reviews and episodes citing it
// (mentions 0: not shown); "p" the pairs of codes (a < b), keyed "a|b",
// with their reviews and episodes. Within episodes a pair is two codes of
// one episode and counts the episodes holding both and their reviews;
// within reviews, two codes of one review (episodes 0). With a focus the
// pairs are the focus's; otherwise the strongest limit of at least
// minSupport, as topPairs finds them in the aggregates.
//
// Codes are numbered by their place in code order (cid), so that the
// self-join, by far the largest step, compares integers: each episode is
// one integer too (review_key·1000 + episode_no, as nodesBaseSQL counts
// them), and the pairs are counted per review first, so that no distinct
// count is needed.
func (sc *scope) coOccurrenceParts(within string, codes []string, focus string, minSupport, limit int) (t, n, p *ownPart) {
	sorted := slices.Sorted(slices.Values(codes))
	t = &ownPart{name: "t", c: newCube(vTotals, 1, 1), cols: []int{vReceived, vCoded, vEpisodes},
		sql: `SELECT 't' AS part, '' AS key, 0 AS year,
		[count(*), count(*) FILTER (WHERE coded), coalesce(sum(n_episodes) FILTER (WHERE coded), 0)]::BIGINT[] AS vals FROM ra`}
	n = &ownPart{name: "n", c: newCube(nMentions+1, 1, 1),
		with: `fep AS MATERIALIZED (
		SELECT DISTINCT f.review_key, f.review_key * 1000 + f.episode_no AS ep, list_position(?::VARCHAR[], c.ancestor) AS cid
		FROM r JOIN episode_factors f ON f.review_key = r.review_key
		JOIN frame_closure c ON c.frame_id = ? AND c.frame_version = ? AND c.tree = 'factor' AND c.descendant = f.code
		WHERE list_contains(?::VARCHAR[], c.ancestor))`,
		withArgs: []any{sorted, sc.frame.info.ID, sc.frame.info.Version, sorted},
		sql: `SELECT 'n' AS part, (?::VARCHAR[])[cid] AS key, 0 AS year, [count(DISTINCT review_key), count(*), 0]::BIGINT[] AS vals
		FROM fep GROUP BY cid`,
		args: []any{sorted}}
	p = &ownPart{name: "p", c: newCube(2, 1, 1), args: []any{sorted, sorted}}
	// The pairs of each review, with the episodes holding both.
	perReview := `SELECT x.review_key, x.cid AS a, y.cid AS b, count(*) AS e
			FROM fep x JOIN fep y ON x.ep = y.ep AND x.cid < y.cid`
	col := "episodes"
	if within == "review" {
		p.with = `rc AS MATERIALIZED (SELECT DISTINCT review_key, cid FROM fep)`
		perReview = `SELECT x.review_key, x.cid AS a, y.cid AS b, 0 AS e
			FROM rc x JOIN rc y ON x.review_key = y.review_key AND x.cid < y.cid`
		col = "reviews"
	}
	var sel string
	if focus != "" {
		f := slices.Index(sorted, focus) + 1
		perReview += ` WHERE x.cid = ? OR y.cid = ?`
		p.args = append(p.args, f, f)
	} else {
		sel = ` HAVING ` + col + ` >= ? ORDER BY ` + col + ` DESC, a, b LIMIT ?`
	}
	p.sql = `SELECT 'p' AS part, (?::VARCHAR[])[a] || '|' || (?::VARCHAR[])[b] AS key, 0 AS year, [reviews, episodes]::BIGINT[] AS vals FROM (
		SELECT a, b, count(*) AS reviews, sum(e) AS episodes FROM (
			` + perReview + `
			GROUP BY ALL)
		GROUP BY a, b` + sel + `)`
	if focus == "" {
		p.args = append(p.args, minSupport, limit)
	}
	return t, n, p
}

// goodPracticeParts are the parts of a good practice read: "a" the good
// and problematic episodes of the collection's coded reviews (as the
// totals' vEpGood and vEpProblematic); "n" per code (among codes) the good
// and problematic episodes citing it (as a node read's e3 and e4).
func (sc *scope) goodPracticeParts(codes []string) (a, n *ownPart) {
	a = &ownPart{name: "a", c: newCube(vTotals, 1, 1), cols: []int{vEpGood, vEpProblematic},
		sql: `SELECT 'a' AS part, '' AS key, 0 AS year,
		[count(*) FILTER (WHERE e.adequacy = 'good'), count(*) FILTER (WHERE e.adequacy = 'problematic')]::BIGINT[] AS vals
		FROM episodes e SEMI JOIN r ON e.review_key = r.review_key`}
	n = &ownPart{name: "n", c: newCube(len(nodeCols(true)), 1, 1), cols: []int{nE + 2, nE + 3},
		args: []any{sc.frame.info.ID, sc.frame.info.Version, codes},
		sql: `SELECT 'n' AS part, code AS key, 0 AS year,
		[count(*) FILTER (WHERE e.adequacy = 'good'), count(*) FILTER (WHERE e.adequacy = 'problematic')]::BIGINT[] AS vals
		FROM (SELECT DISTINCT f.review_key, f.episode_no, c.ancestor AS code
		      FROM r JOIN episode_factors f ON f.review_key = r.review_key
		      JOIN frame_closure c ON c.frame_id = ? AND c.frame_version = ? AND c.tree = 'factor' AND c.descendant = f.code
		      WHERE list_contains(?::VARCHAR[], c.ancestor))
		JOIN episodes e USING (review_key, episode_no) GROUP BY code`}
	return a, n
}

// flowsPart is the part "f" of a flows read: factor type → pattern type
// links, keyed "factor type|pattern type", through the episodes each
// pattern draws on, with their reviews and episodes. As in agg_flows, nature
// "" counts each link once whatever the nature of the patterns behind it.
func (sc *scope) flowsPart(nature string) *ownPart {
	var types []string
	for _, n := range sc.frame.nodes(TreeFactor) {
		if n.Depth == 2 {
			types = append(types, n.Code)
		}
	}
	args := []any{sc.frame.info.ID, sc.frame.info.Version, types}
	natureCond, natureCol := "true", "''"
	if nature != "" {
		natureCond, natureCol = "p.nature = ?", "p.nature"
		args = append(args, nature)
	}
	return &ownPart{name: "f", args: args, c: newCube(2, 1, 1), sql: `SELECT 'f' AS part, factor_type || '|' || pattern_type AS key, 0 AS year,
		[count(*), sum(episodes)]::BIGINT[] AS vals FROM (
		WITH ftypes AS (
			SELECT DISTINCT f.review_key, f.episode_no, c.ancestor AS factor_type
			FROM r JOIN episode_factors f ON f.review_key = r.review_key
			JOIN frame_closure c ON c.frame_id = ? AND c.frame_version = ? AND c.tree = 'factor' AND c.descendant = f.code
			WHERE list_contains(?::VARCHAR[], c.ancestor)
		), ptypes AS (
			SELECT DISTINCT p.review_key, unnest(p.episodes) AS episode_no, p.type_code AS pattern_type, ` + natureCol + ` AS nature
			FROM r JOIN patterns p ON p.review_key = r.review_key WHERE ` + natureCond + `
		)
		SELECT ftypes.review_key, factor_type, pattern_type, nature, count(*) AS episodes
		FROM ftypes JOIN ptypes USING (review_key, episode_no) GROUP BY ALL)
	GROUP BY factor_type, pattern_type, nature`}
}

// recsPart is the part "r" of a recommendations read: recommendations by
// kind (0: every kind) × level ("": every level), overall (pattern type "")
// and per pattern type they are linked to, keyed as recKey, with their
// reviews and recommendations.
func (sc *scope) recsPart() *ownPart {
	return &ownPart{name: "r", c: newCube(2, 1, 1), sql: `SELECT 'r' AS part, rec_kind::VARCHAR || '|' || level || '|' || pattern_type AS key, 0 AS year,
		[count(*), sum(recs)]::BIGINT[] AS vals FROM (
		WITH recs AS (
			SELECT x.review_key, x.rec_no, x.kind AS rec_kind, x.level, '' AS pattern_type
			FROM r JOIN recommendations x ON x.review_key = r.review_key
			UNION ALL
			SELECT DISTINCT y.review_key, y.rec_no, y.kind, y.level, p.type_code
			FROM (SELECT x.review_key, x.rec_no, x.kind, x.level, unnest(x.patterns) AS pattern_no
			      FROM r JOIN recommendations x ON x.review_key = r.review_key) y
			JOIN patterns p ON p.review_key = y.review_key AND p.pattern_no = y.pattern_no
		)
		SELECT review_key, coalesce(rec_kind, 0) AS rec_kind, coalesce(level, '') AS level, pattern_type, count(*) AS recs
		FROM recs
		GROUP BY GROUPING SETS ((review_key, pattern_type, rec_kind, level), (review_key, pattern_type, rec_kind),
		                        (review_key, pattern_type, level), (review_key, pattern_type)))
	GROUP BY ALL`}
}

// lessonsPart is the part "l" of a repeated lessons read: per pattern node
// (not the proposed groups), the reviews citing it, with patterns of one
// nature when nature is set, the boards and years they come from, and the
// first and last of those years.
func (sc *scope) lessonsPart(nature string) *ownPart {
	args := []any{sc.frame.info.ID, sc.frame.info.Version}
	natureCond := "true"
	if nature != "" {
		// As the aggregates count it: a pattern is constructive or unsafe.
		natureCond = "coalesce(p.nature = 'constructive', false) = ?"
		args = append(args, nature == "constructive")
	}
	return &ownPart{name: "l", args: args, c: newCube(5, 1, 1), sql: `SELECT 'l' AS part, code AS key, 0 AS year,
		[count(DISTINCT review_key), count(DISTINCT board), count(DISTINCT year), min(year), max(year)]::BIGINT[] AS vals FROM (
		SELECT r.review_key, r.board, r.year, c.ancestor AS code
		FROM r JOIN patterns p ON p.review_key = r.review_key
		JOIN frame_closure c ON c.frame_id = ? AND c.frame_version = ? AND c.tree = 'pattern'
		     AND c.descendant = coalesce(p.sub_code, p.type_code)
		WHERE ` + natureCond + `)
	GROUP BY code`}
}

// Values of a lessons part.
const (
	lReviews = iota
	lBoards
	lYears
	lFirst
	lLast
)

// funnelParts are the parts of a funnel read, per board of the collection
// (rolled up over the geography): "t" its reviews received and coded, laid
// out as the totals' v* columns; "n" the reviews citing one node.
func (s *Store) funnelParts(sc *scope, tree, code string) (t, n *ownPart) {
	t = &ownPart{name: "t", byBoard: true, c: newCube(vTotals, 1, len(s.geo.nodes)), cols: []int{vReceived, vCoded},
		sql: `SELECT 't' AS part, board AS key, 0 AS year, [count(*), count(*) FILTER (WHERE coded)]::BIGINT[] AS vals FROM ra GROUP BY board`}
	n = &ownPart{name: "n", byBoard: true, c: newCube(nReviews+1, 1, len(s.geo.nodes))}
	if tree == TreeFactor {
		n.sql = `SELECT 'n' AS part, board AS key, 0 AS year, [count(*)]::BIGINT[] AS vals FROM r
		WHERE EXISTS (SELECT 1 FROM episode_factors f
		      JOIN frame_closure c ON c.frame_id = ? AND c.frame_version = ? AND c.tree = 'factor' AND c.descendant = f.code AND c.ancestor = ?
		      WHERE f.review_key = r.review_key)
		GROUP BY board`
		n.args = []any{sc.frame.info.ID, sc.frame.info.Version, code}
		return t, n
	}
	// A pattern counts for its sub-pattern (or type) and every ancestor, and
	// a proposed sub-pattern for <type>.proposed too.
	n.sql = `SELECT 'n' AS part, board AS key, 0 AS year, [count(*)]::BIGINT[] AS vals FROM r
		WHERE EXISTS (SELECT 1 FROM patterns p
		      LEFT JOIN frame_closure c ON c.frame_id = ? AND c.frame_version = ? AND c.tree = 'pattern'
		           AND c.descendant = coalesce(p.sub_code, p.type_code) AND c.ancestor = ?
		      WHERE p.review_key = r.review_key
		        AND (c.ancestor IS NOT NULL OR (p.proposed IS NOT NULL AND p.type_code || '.proposed' = ?)))
		GROUP BY board`
	n.args = []any{sc.frame.info.ID, sc.frame.info.Version, code, code}
	return t, n
}

// ownSet is a measure set read for a narrowed collection alone: nothing
// around it is read, and none of it is withheld (protectKey, collect).
func ownSet(c *cube) *measureSet { return &measureSet{c: c, own: true} }

// alone reports whether a collection is narrowed by kind only: its views
// read the aggregates of its own boards, as one place (readAlone).
func (sc *scope) alone() bool { return sc.restricted() && !sc.byAgency() }

// readAlone runs an aggregate read for a collection narrowed by kind over
// the rows of its own boards only, summed, so that the collection is the
// cell at place 0. It is open only to viewers who see it in full, so none
// of it is withheld and nothing around it is read for protection.
func (s *Store) readAlone(ctx context.Context, sc *scope, q query) (*measureSet, error) {
	ny := 1
	if q.byYear {
		ny = sc.to - sc.from + 1
	}
	c := newCube(len(q.vals), ny, len(s.geo.nodes))
	in, args := sc.inBoardsSorted(s.geo)
	// Summed in the statement, into place 0.
	if err := s.readInto(ctx, sc, c, q, q.table, "?::VARCHAR", []any{s.geo.nodes[0].code}, in, args); err != nil {
		return nil, err
	}
	return ownSet(c), nil
}

// totalsAlone reads the review totals of a collection narrowed by kind
// alone (readAlone).
func (s *Store) totalsAlone(ctx context.Context, sc *scope) (*protected, error) {
	ms, err := s.readAlone(ctx, sc, query{table: "agg_totals", allFrames: true,
		keys:    "kind, (frame_id = ? AND frame_version = ?)::INT",
		valArgs: []any{sc.frame.info.ID, sc.frame.info.Version},
		vals:    sums(totalsCols...)})
	if err != nil {
		return nil, err
	}
	return &protected{ms: ownSet(assembleTotals(ms.c))}, nil
}

// nodesAlone reads the node figures of codes of a tree for a collection
// narrowed by kind alone (readAlone).
func (s *Store) nodesAlone(ctx context.Context, sc *scope, tree string, codes []string, splits bool) (*measureSet, error) {
	return s.readAlone(ctx, sc, query{table: "agg_nodes", keys: "code", vals: nodeCols(splits),
		where: "tree = ? AND list_contains(?::VARCHAR[], code)", whereArgs: []any{tree, codes}})
}
