package analytics

import "strings"

// The reads of collections narrowed by agency for the views that relate
// figures to each other: co-occurrence, flows, recommendations, repeated
// lessons, the funnel and good practice. Such a collection is open only to
// viewers who see it in full (errNarrowingWithheld), so each view reads the
// collection alone, in one statement over its reviews (readOwn,
// readOwnParts), and fills the cube shape the aggregate read gives: the
// rest of the view is the same for every collection. Each part follows the
// statement of ingest/aggregates.go that fills the aggregate it stands
// for, over the collection's coded reviews (r) instead of a partition's.

// pairsPart is the part "p" of a co-occurrence read: factor pairs (a < b)
// among codes, keyed "a|b", with their reviews and episodes. Within
// episodes, a pair is two codes of one episode and counts the episodes
// holding both and their distinct reviews; within reviews, two codes of one
// review (episodes 0). With a focus it keeps the focus's pairs; otherwise
// the strongest limit pairs of at least minSupport, as topPairs finds them
// in the aggregates.
func (sc *scope) pairsPart(within string, codes []string, focus string, minSupport, limit int) *ownPart {
	episode, col := "f.episode_no", "episodes"
	if within == "review" {
		episode, col = "0", "reviews"
	}
	args := []any{sc.frame.info.ID, sc.frame.info.Version, codes}
	var b strings.Builder
	b.WriteString(`SELECT 'p' AS part, a || '|' || b AS key, 0 AS year, [reviews, episodes]::BIGINT[] AS vals FROM (
		WITH fep AS MATERIALIZED (
			SELECT DISTINCT f.review_key, ` + episode + ` AS episode_no, c.ancestor AS code
			FROM r JOIN episode_factors f ON f.review_key = r.review_key
			JOIN frame_closure c ON c.frame_id = ? AND c.frame_version = ? AND c.tree = 'factor' AND c.descendant = f.code
			WHERE list_contains(?::VARCHAR[], c.ancestor))
		SELECT x.code AS a, y.code AS b, count(DISTINCT x.review_key) AS reviews, `)
	if within == "review" {
		b.WriteString(`0 AS episodes`)
	} else {
		b.WriteString(`count(*) AS episodes`)
	}
	b.WriteString(`
		FROM fep x JOIN fep y ON x.review_key = y.review_key AND x.episode_no = y.episode_no AND x.code < y.code`)
	if focus != "" {
		b.WriteString(`
		WHERE x.code = ? OR y.code = ?
		GROUP BY a, b)`)
		args = append(args, focus, focus)
	} else {
		b.WriteString(`
		GROUP BY a, b HAVING ` + col + ` >= ? ORDER BY ` + col + ` DESC, a, b LIMIT ?)`)
		args = append(args, minSupport, limit)
	}
	return &ownPart{name: "p", sql: b.String(), args: args, c: newCube(2, 1, 1)}
}

// flowsPart is the part "f" of a flows read: factor type → pattern type
// links, keyed "factor type|pattern type", through the episodes each
// pattern draws on, with their reviews and episodes. As in agg_flows, they
// are counted for each nature of the patterns and summed (nature "": both).
func (sc *scope) flowsPart(nature string) *ownPart {
	var types []string
	for _, n := range sc.frame.nodes(TreeFactor) {
		if n.Depth == 2 {
			types = append(types, n.Code)
		}
	}
	args := []any{sc.frame.info.ID, sc.frame.info.Version, types}
	natureCond := "true"
	if nature != "" {
		natureCond = "p.nature = ?"
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
			SELECT DISTINCT p.review_key, unnest(p.episodes) AS episode_no, p.type_code AS pattern_type, p.nature
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

// adequacyPart is a part "a" of a read of totals: the good and problematic
// episodes of the collection's coded reviews, added to the totals (nil
// cube) as vEpGood and vEpProblematic.
func adequacyPart() *ownPart {
	return &ownPart{name: "a", cols: []int{vEpGood, vEpProblematic}, sql: `SELECT 'a' AS part, '' AS key, 0 AS year,
		[count(*) FILTER (WHERE e.adequacy = 'good'), count(*) FILTER (WHERE e.adequacy = 'problematic')]::BIGINT[] AS vals
		FROM episodes e SEMI JOIN r ON e.review_key = r.review_key`}
}
