package ingest

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// The aggregates are kept per partition: every review has exactly one
// board, one year and one kind, so counts of distinct reviews add up over
// partitions and analytics can sum them for any collection made of whole
// partitions. They are recomputed from the base tables with set-based SQL,
// never patched by hand, so a refresh is correct whatever happened to the
// partition before.
//
// Most aggregate rows carry their partition's names: board, region,
// nation, year, kind, frame_id and frame_version (partitionColumns). The
// factor pairs, by far the most rows, are stored keyed by number
// (schemas/ddl/0014_pairs_by_number.sql): aggk_pairs rows start with their
// partition's number in agg_partitions and name their factors by agg_codes
// number, and analytics reads them through the views agg_pairs and
// agg_pairs_r, which name them.

// aggTables are the tables refreshAggregates owns, in the order they are filled.
var aggTables = []string{"agg_totals", "agg_nodes", "aggk_pairs", "agg_flows", "agg_recs"}

// rolledTables have a regional roll-up, <table>_r: the same columns, summed
// over the boards and kinds of a region and year (board and kind ” in a
// named roll-up; the partition agg_partitions.rollup names in a numbered one).
var rolledTables = []string{"agg_nodes", "aggk_pairs", "agg_flows", "agg_recs"}

// allAggTables is every table compaction folds: the aggregates and their roll-ups.
var allAggTables = []string{"agg_totals", "agg_nodes", "aggk_pairs", "agg_flows", "agg_recs",
	"agg_nodes_r", "aggk_pairs_r", "agg_flows_r", "agg_recs_r"}

// aggKeyColumns is how many leading columns of each aggregate table identify
// a row: the partition's names or number, then the table's own keys; the
// rest are sums.
var aggKeyColumns = map[string]int{"agg_totals": 7, "agg_nodes": 9, "aggk_pairs": 5, "agg_flows": 10, "agg_recs": 10,
	"agg_nodes_r": 9, "aggk_pairs_r": 5, "agg_flows_r": 10, "agg_recs_r": 10}

// partitionColumns are the columns every named aggregate row starts with.
const partitionColumns = `board, region, nation, year, kind, frame_id, frame_version`

// numbered says whether an aggregate table is keyed by partition number.
func numbered(t string) bool { return strings.HasPrefix(t, "aggk_") }

// aggColumns returns an aggregate table's key columns after its partition's
// names or number, and its sums.
func aggColumns(ctx context.Context, conn *sql.Conn, t string) (keys, sums []string, err error) {
	cols, err := tableColumns(ctx, conn, t)
	if err != nil {
		return nil, nil, err
	}
	lead := 7
	if numbered(t) {
		lead = 1
	}
	nk := aggKeyColumns[t]
	if nk < lead || nk >= len(cols) || numbered(t) && cols[0] != "part" ||
		!numbered(t) && strings.Join(cols[:lead], ", ") != partitionColumns {
		return nil, nil, fmt.Errorf("aggregates: %s has columns %v; expected its partition, %d key columns and sums", t, cols, nk-lead)
	}
	return cols[lead:nk], cols[nk:], nil
}

// namedRollupSQL returns the statement adding the roll-up of the rows of
// src (t or a table shaped like it, restricted by where) to the named table
// t's roll-up, multiplied by sign (1 to add, -1 to subtract).
func namedRollupSQL(ctx context.Context, conn *sql.Conn, t, src, where, sign string) (string, error) {
	keys, vals, err := aggColumns(ctx, conn, t)
	if err != nil {
		return "", err
	}
	sel := append([]string{"'' AS board", "region", "nation", "year", "'' AS kind", "frame_id", "frame_version"}, keys...)
	group := append([]string{"region", "nation", "year", "frame_id", "frame_version"}, keys...)
	for _, c := range vals {
		sel = append(sel, fmt.Sprintf("%s * sum(%s) AS %s", sign, c, c))
	}
	return `INSERT INTO ` + t + `_r SELECT ` + strings.Join(sel, ", ") + ` FROM ` + src + ` AS x ` + where +
		` GROUP BY ` + strings.Join(group, ", ") + ` ORDER BY ` + compactOrder(t+"_r"), nil
}

// numberedRollupSQL returns the statement adding to the numbered table t's
// roll-up the rows of src (a table shaped like t, joined to from, which
// gives each part its roll-up's number as rollup), summed and multiplied by
// sign.
func numberedRollupSQL(ctx context.Context, conn *sql.Conn, t, src, from, sign string) (string, error) {
	keys, vals, err := aggColumns(ctx, conn, t)
	if err != nil {
		return "", err
	}
	sums := make([]string, len(vals))
	for i, c := range vals {
		sums[i] = fmt.Sprintf("%s * sum(x.%s) AS %s", sign, c, c)
	}
	group := "p.rollup, " + prefixed("x.", keys)
	return `INSERT INTO ` + t + `_r SELECT ` + group + `, ` + strings.Join(sums, ", ") +
		` FROM ` + src + ` x JOIN ` + from + ` p USING (part) GROUP BY ` + group + ` ORDER BY ` + group, nil
}

// compactOrder is the order each table is left in by compaction: by place
// for most, so reads of a region's boards skip the rest (partition numbers
// are in place order after compaction); the pairs roll-up by factor, so
// reads of one factor's pairs do.
func compactOrder(t string) string {
	switch t {
	case "aggk_pairs_r":
		return "within, depth, a, b, part"
	case "aggk_pairs":
		return "part"
	}
	return "frame_id, frame_version, nation, region, board, year, kind"
}

// tableColumns lists a table's columns in order.
func tableColumns(ctx context.Context, conn *sql.Conn, t string) ([]string, error) {
	rows, err := conn.QueryContext(ctx, `SELECT column_name FROM information_schema.columns
		WHERE table_name = ? AND table_schema = 'main' ORDER BY ordinal_position`, t)
	if err != nil {
		return nil, fmt.Errorf("aggregates: columns of %s: %w", t, err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	return cols, rows.Err()
}

// refreshAggregates recomputes the aggregates kept for the given partitions,
// inside the writer's transaction, so counts and aggregates never disagree.
func refreshAggregates(ctx context.Context, conn *sql.Conn, parts []Partition) error {
	if len(parts) == 0 {
		return nil
	}
	boards := make([]string, len(parts))
	years := make([]int32, len(parts))
	kinds := make([]string, len(parts))
	for i, p := range parts {
		boards[i], years[i], kinds[i] = p.Board, int32(p.Year), p.Kind
	}
	if _, err := conn.ExecContext(ctx, `
		CREATE OR REPLACE TEMP TABLE agg_parts AS
		SELECT unnest(?::VARCHAR[]) AS board, unnest(?::INTEGER[]) AS year, unnest(?::VARCHAR[]) AS kind`,
		boards, years, kinds); err != nil {
		return fmt.Errorf("aggregates: partitions: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `DROP TABLE IF EXISTS temp.agg_parts`)
	// Their numbers, under every frame, with their roll-ups'.
	if _, err := conn.ExecContext(ctx, `
		CREATE OR REPLACE TEMP TABLE agg_refresh AS
		SELECT k.part, k.rollup FROM agg_partitions k
		SEMI JOIN temp.agg_parts p ON k.board = p.board AND k.year = p.year AND k.kind = p.kind`); err != nil {
		return fmt.Errorf("aggregates: partitions: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `DROP TABLE IF EXISTS temp.agg_refresh`)
	// Take the partitions' old rows out of the roll-ups before deleting them.
	for _, t := range rolledTables {
		var q string
		var err error
		if numbered(t) {
			q, err = numberedRollupSQL(ctx, conn, t, t, `temp.agg_refresh`, "-1")
		} else {
			q, err = namedRollupSQL(ctx, conn, t, t, `SEMI JOIN agg_parts p ON x.board = p.board AND x.year = p.year AND x.kind = p.kind`, "-1")
		}
		if err != nil {
			return err
		}
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("aggregates: roll up %s: %w", t, err)
		}
	}
	for _, t := range aggTables {
		q := `DELETE FROM ` + t + ` AS x USING agg_parts p WHERE x.board = p.board AND x.year = p.year AND x.kind = p.kind`
		if numbered(t) {
			q = `DELETE FROM ` + t + ` WHERE part IN (SELECT part FROM temp.agg_refresh)`
		}
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("aggregates: clear %s: %w", t, err)
		}
	}
	return fillAggregates(ctx, conn, `
		FROM reviews r JOIN agg_parts p ON r.board = p.board AND r.year = p.year AND r.kind = p.kind
		WHERE r.status = 'current'`)
}

// RebuildAggregates recomputes every aggregate from the base tables in one
// transaction. Run it after a migration that adds or changes aggregate tables,
// after a bulk import, or to check the incremental refresh; it also leaves the
// tables sorted so analytics reads them quickly.
func RebuildAggregates(ctx context.Context, db *sql.DB) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("rebuild aggregates: %w", err)
	}
	defer conn.Close()
	if err := inTx(ctx, conn, func() error { return rebuildAggregates(ctx, conn) }); err != nil {
		return fmt.Errorf("rebuild aggregates: %w", err)
	}
	return nil
}

// rebuildAggregates recomputes every aggregate inside the caller's
// transaction, numbering the partitions afresh.
func rebuildAggregates(ctx context.Context, conn *sql.Conn) error {
	for _, t := range append(allAggTables, "agg_partitions") {
		if _, err := conn.ExecContext(ctx, `DELETE FROM `+t); err != nil {
			return fmt.Errorf("aggregates: clear %s: %w", t, err)
		}
	}
	if err := fillAggregates(ctx, conn, `FROM reviews r WHERE r.status = 'current'`); err != nil {
		return err
	}
	return compactAggregates(ctx, conn)
}

// fillAggregates creates temp.agg_scope, the reviews (aliased r) that from
// selects, with args, and adds their aggregates by running fillSteps.
func fillAggregates(ctx context.Context, conn *sql.Conn, from string, args ...any) error {
	if err := scopeReviews(ctx, conn, from, args...); err != nil {
		return err
	}
	defer dropFillTables(ctx, conn)
	return runSteps(ctx, conn, fillSteps)
}

// runSteps runs the statements steps lists, in order.
func runSteps(ctx context.Context, conn *sql.Conn, steps func(context.Context, *sql.Conn) ([]aggStep, error)) error {
	list, err := steps(ctx, conn)
	if err != nil {
		return err
	}
	for _, st := range list {
		if _, err := conn.ExecContext(ctx, st.sql); err != nil {
			return fmt.Errorf("aggregates: %s: %w", st.name, err)
		}
	}
	return nil
}

// fixedSteps returns a list of steps for runSteps.
func fixedSteps(steps []aggStep) func(context.Context, *sql.Conn) ([]aggStep, error) {
	return func(context.Context, *sql.Conn) ([]aggStep, error) { return steps, nil }
}

// scopeReviews creates temp.agg_scope, the reviews (aliased r) that from
// selects, with args, and what counting them needs.
func scopeReviews(ctx context.Context, conn *sql.Conn, from string, args ...any) error {
	if _, err := conn.ExecContext(ctx, `
		CREATE OR REPLACE TEMP TABLE agg_scope AS
		SELECT r.review_key, r.board, r.region, r.nation, r.year, r.kind, r.frame_id, r.frame_version,
		       r.family_participation, r.stage_preliminary, r.stage_interim, r.stage_final
		`+from, args...); err != nil {
		return fmt.Errorf("aggregates: scope: %w", err)
	}
	return nil
}

// aggStep is one statement of a fill.
type aggStep struct{ name, sql string }

// fillTempTables are the temporary tables a fill leaves behind it.
var fillTempTables = []string{"agg_scope", "agg_loading", "agg_part_top", "agg_part_ids", "agg_part", "agg_code", "agg_fep", "agg_pairs_i",
	"new_agg_totals", "new_agg_nodes", "new_agg_flows", "new_agg_recs"}

// dropFillTables drops the fill's temporary tables, even when the fill failed.
func dropFillTables(ctx context.Context, conn *sql.Conn) {
	for _, t := range fillTempTables {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), `DROP TABLE IF EXISTS temp.`+t)
	}
}

// stagedTables are the named aggregates, counted into temp.new_<table>,
// whose rows start with the partition's number (part) instead of its seven
// names, then appended, named, to the table and, rolled up, to its roll-up.
// The pairs are counted into temp.agg_pairs_i, shaped like aggk_pairs.
var stagedTables = []string{"agg_totals", "agg_nodes", "agg_flows", "agg_recs"}

// prefixed returns the columns, each with the prefix, comma-separated.
func prefixed(prefix string, cols []string) string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = prefix + c
	}
	return strings.Join(out, ", ")
}

// fillSteps lists the statements of a fill, once temp.agg_scope holds the
// reviews to count: the shared preparation, the statements counting them
// into temporary tables, then those storing the counts in each aggregate
// and its roll-up.
func fillSteps(ctx context.Context, conn *sql.Conn) ([]aggStep, error) {
	store, err := storeSteps(ctx, conn)
	if err != nil {
		return nil, err
	}
	steps := append([]aggStep{}, prepareStatements...)
	steps = append(steps, countSteps()...)
	return append(steps, store...), nil
}

// countSteps are the statements counting the reviews of temp.agg_scope,
// once prepareStatements have run, into temp.new_<table> for the staged
// tables and temp.agg_pairs_i for the pairs: creating those tables empty,
// then countStatements.
func countSteps() []aggStep {
	return append(countTableSteps(), countStatements()...)
}

// countTableSteps create the tables countStatements add to, empty.
func countTableSteps() []aggStep {
	var steps []aggStep
	for _, t := range stagedTables {
		steps = append(steps, aggStep{"prepare " + t, `CREATE OR REPLACE TEMP TABLE new_` + t +
			` AS SELECT 0::INTEGER AS part, * EXCLUDE (` + partitionColumns + `) FROM ` + t + ` LIMIT 0`})
	}
	return append(steps, aggStep{"prepare pairs", `CREATE OR REPLACE TEMP TABLE agg_pairs_i AS FROM aggk_pairs LIMIT 0`})
}

// countStatements add the counts of the reviews of temp.agg_scope to the
// tables countTableSteps created.
func countStatements() []aggStep {
	return append(append([]aggStep{}, fillStatements...), pairsStatement)
}

// storeSteps are the statements storing what countSteps counted in each
// aggregate and its roll-up, once the partitions counted for the first
// time are registered: the named ones named by temp.agg_part.
func storeSteps(ctx context.Context, conn *sql.Conn) ([]aggStep, error) {
	steps := []aggStep{registerPartitionsStatement}
	for _, t := range stagedTables {
		keys, vals, err := aggColumns(ctx, conn, t)
		if err != nil {
			return nil, err
		}
		// Named in partition order, which is place order for the
		// partitions a load numbers, so a load into empty tables needs no
		// compaction at all.
		steps = append(steps, aggStep{"add " + t, `INSERT INTO ` + t + ` SELECT p.board, p.region, p.nation, p.year, p.kind, p.frame_id, p.frame_version, ` +
			prefixed("x.", append(slices.Clone(keys), vals...)) + ` FROM temp.new_` + t + ` x JOIN temp.agg_part p USING (part) ORDER BY x.part`})
		if !slices.Contains(rolledTables, t) {
			continue
		}
		sums := make([]string, len(vals))
		for i, c := range vals {
			sums[i] = fmt.Sprintf("sum(%s) AS %s", c, c)
		}
		steps = append(steps, aggStep{"roll up " + t, `INSERT INTO ` + t + `_r
SELECT '' AS board, p.region, p.nation, p.year, '' AS kind, p.frame_id, p.frame_version, ` + prefixed("r.", append(slices.Clone(keys), vals...)) + `
FROM (SELECT p.rpart, ` + prefixed("x.", keys) + `, ` + strings.Join(sums, ", ") + `
      FROM temp.new_` + t + ` x JOIN temp.agg_part p USING (part) GROUP BY p.rpart, ` + prefixed("x.", keys) + `) r
JOIN (SELECT DISTINCT rpart, region, nation, year, frame_id, frame_version FROM temp.agg_part) p USING (rpart)
ORDER BY r.rpart`})
	}
	return append(steps, pairsStoreStatements...), nil
}

// prepareStatements build what the fill statements share, keyed by
// integers so that grouping stays cheap: temp.agg_part gives the partitions
// in scope their numbers (part) and their regional roll-ups' (rpart);
// temp.agg_code holds the frames' codes with their numbers (cid), in code
// order within a frame; temp.agg_fep holds each episode's factor codes with
// every ancestor, once each, with what the node counts need.
var prepareStatements = []aggStep{partitionTopStatement, partitionsStatement, boardPartitionsStatement,
	scopePartitionsStatement, codesStatement, episodeCodesStatement}

// partitionTopStatement notes the highest partition number in use, and how
// many there are, so that a count made before its transaction can check
// that nobody has numbered partitions since (loadingUnchanged).
var partitionTopStatement = aggStep{"partition numbers", `
CREATE OR REPLACE TEMP TABLE agg_part_top AS
SELECT coalesce(max(part), 0) AS top, count(*) AS n FROM agg_partitions`}

// partitionsStatement lists every partition the reviews in scope count in,
// and their roll-ups (board and kind ”), with their numbers: those already
// registered keep theirs, and new ones are numbered after the highest, in
// place order (fresh, registered by registerPartitionsStatement).
var partitionsStatement = aggStep{"partitions", `
CREATE OR REPLACE TEMP TABLE agg_part_ids AS
WITH needed AS (
	SELECT DISTINCT board, region, nation, year, kind, frame_id, frame_version FROM temp.agg_scope
	UNION
	SELECT DISTINCT '', region, nation, year, '', frame_id, frame_version FROM temp.agg_scope
), found AS (
	SELECT n.*, k.part FROM needed n
	LEFT JOIN agg_partitions k USING (board, region, nation, year, kind, frame_id, frame_version)
)
SELECT coalesce(part, (SELECT top FROM temp.agg_part_top)
           + row_number() OVER (PARTITION BY part IS NULL ORDER BY frame_id, frame_version, nation, region, board, year, kind))::INTEGER AS part,
       part IS NULL AS fresh, board, region, nation, year, kind, frame_id, frame_version
FROM found`}

// boardPartitionsStatement keeps the board partitions in scope, each with
// its roll-up's number.
var boardPartitionsStatement = aggStep{"board partitions", `
CREATE OR REPLACE TEMP TABLE agg_part AS
SELECT b.part, r.part AS rpart, b.board, b.region, b.nation, b.year, b.kind, b.frame_id, b.frame_version
FROM temp.agg_part_ids b JOIN temp.agg_part_ids r
     ON r.board = '' AND r.kind = '' AND r.region = b.region AND r.nation = b.nation AND r.year = b.year
        AND r.frame_id = b.frame_id AND r.frame_version = b.frame_version
WHERE b.board <> ''`}

// registerPartitionsStatement stores the partitions counted for the first time.
var registerPartitionsStatement = aggStep{"register partitions", `
INSERT INTO agg_partitions
SELECT i.part, b.rpart, i.board, i.region, i.nation, i.year, i.kind, i.frame_id, i.frame_version
FROM temp.agg_part_ids i LEFT JOIN temp.agg_part b USING (part)
WHERE i.fresh ORDER BY i.part`}

var scopePartitionsStatement = aggStep{"scope partitions", `
CREATE OR REPLACE TEMP TABLE agg_scope AS
SELECT s.*, p.part FROM temp.agg_scope s
JOIN temp.agg_part p USING (board, region, nation, year, kind, frame_id, frame_version)`}

var codesStatement = aggStep{"codes", `
CREATE OR REPLACE TEMP TABLE agg_code AS
SELECT cid, frame_id, frame_version, tree, code, depth
FROM agg_codes SEMI JOIN (SELECT DISTINCT frame_id, frame_version FROM temp.agg_part) USING (frame_id, frame_version)`}

var episodeCodesStatement = aggStep{"episode factor codes", `
CREATE OR REPLACE TEMP TABLE agg_fep AS
WITH closure AS (
	SELECT c.frame_id, c.frame_version, c.descendant, k.cid, k.depth
	FROM frame_closure c JOIN temp.agg_code k
	     ON k.frame_id = c.frame_id AND k.frame_version = c.frame_version AND k.tree = c.tree AND k.code = c.ancestor
	WHERE c.tree = 'factor'
), coded AS (
	SELECT f.review_key, s.part, f.episode_no, f.code, f.influence, e.adequacy, s.frame_id, s.frame_version
	FROM temp.agg_scope s JOIN episode_factors f ON f.review_key = s.review_key
	JOIN episodes e ON e.review_key = f.review_key AND e.episode_no = f.episode_no
)
SELECT x.review_key, any_value(x.part) AS part, x.episode_no, c.cid, any_value(c.depth) AS depth,
       any_value(x.adequacy) AS adequacy,
       count(*) AS mentions,
       count(*) FILTER (WHERE x.influence = 'supported_good') AS m_good,
       count(*) FILTER (WHERE x.influence = 'made_problematic_more_likely') AS m_prob
FROM coded x JOIN closure c ON c.frame_id = x.frame_id AND c.frame_version = x.frame_version AND c.descendant = x.code
GROUP BY x.review_key, x.episode_no, c.cid`}

// partitionKey is the column every staged row starts with: the partition's
// number, from temp.agg_part.
const partitionKey = `part`

var fillStatements = []aggStep{
	{"totals", `
INSERT INTO temp.new_agg_totals
WITH ep AS (
	SELECT e.review_key,
	       count(*) AS episodes,
	       count(*) FILTER (WHERE e.adequacy = 'good') AS good,
	       count(*) FILTER (WHERE e.adequacy = 'problematic') AS problematic,
	       count(*) FILTER (WHERE e.adequacy = 'mixed') AS mixed,
	       count(*) FILTER (WHERE e.adequacy = 'not_judged') AS not_judged
	FROM episodes e SEMI JOIN temp.agg_scope s ON e.review_key = s.review_key
	GROUP BY e.review_key
), pat AS (
	SELECT p.review_key, count(*) AS n FROM patterns p SEMI JOIN temp.agg_scope s ON p.review_key = s.review_key
	GROUP BY p.review_key
), rec AS (
	SELECT r.review_key, count(*) AS n FROM recommendations r SEMI JOIN temp.agg_scope s ON r.review_key = s.review_key
	GROUP BY r.review_key
)
SELECT ` + partitionKey + `,
       count(*),
       coalesce(sum(ep.episodes), 0), coalesce(sum(ep.good), 0), coalesce(sum(ep.problematic), 0),
       coalesce(sum(ep.mixed), 0), coalesce(sum(ep.not_judged), 0),
       count(*) FILTER (WHERE ep.good > 0), count(*) FILTER (WHERE ep.problematic > 0),
       count(*) FILTER (WHERE ep.mixed > 0), count(*) FILTER (WHERE ep.not_judged > 0),
       count(*) FILTER (WHERE family_participation = 'yes'), count(*) FILTER (WHERE family_participation = 'no'),
       count(*) FILTER (WHERE family_participation NOT IN ('yes', 'no')),
       count(*) FILTER (WHERE stage_preliminary = 'yes'), count(*) FILTER (WHERE stage_preliminary = 'no'),
       count(*) FILTER (WHERE stage_preliminary NOT IN ('yes', 'no')),
       count(*) FILTER (WHERE stage_interim = 'yes'), count(*) FILTER (WHERE stage_interim = 'no'),
       count(*) FILTER (WHERE stage_interim NOT IN ('yes', 'no')),
       count(*) FILTER (WHERE stage_final = 'yes'), count(*) FILTER (WHERE stage_final = 'no'),
       count(*) FILTER (WHERE stage_final NOT IN ('yes', 'no')),
       count(*) FILTER (WHERE stage_preliminary = 'yes' AND stage_interim = 'yes' AND stage_final = 'yes'),
       coalesce(sum(pat.n), 0), count(pat.n), coalesce(sum(rec.n), 0), count(rec.n)
FROM temp.agg_scope s
LEFT JOIN ep USING (review_key) LEFT JOIN pat USING (review_key) LEFT JOIN rec USING (review_key)
GROUP BY ALL`},

	// Factor nodes: each coding counts for its code and every ancestor. First
	// per episode and node, then per review and node, then per partition, so
	// no distinct aggregate is needed.
	{"factor nodes", `
INSERT INTO temp.new_agg_nodes
WITH per_review AS (
	SELECT part, review_key, cid,
	       count(*) AS episodes, sum(mentions) AS mentions,
	       count(*) FILTER (WHERE m_good > 0) AS e1, count(*) FILTER (WHERE m_prob > 0) AS e2,
	       count(*) FILTER (WHERE adequacy = 'good') AS e3, count(*) FILTER (WHERE adequacy = 'problematic') AS e4,
	       count(*) FILTER (WHERE adequacy = 'mixed') AS e5, count(*) FILTER (WHERE adequacy = 'not_judged') AS e6,
	       sum(m_good) AS m1, sum(m_prob) AS m2,
	       sum(mentions) FILTER (WHERE adequacy = 'good') AS m3, sum(mentions) FILTER (WHERE adequacy = 'problematic') AS m4,
	       sum(mentions) FILTER (WHERE adequacy = 'mixed') AS m5, sum(mentions) FILTER (WHERE adequacy = 'not_judged') AS m6
	FROM temp.agg_fep GROUP BY part, review_key, cid
), per_part AS (
	SELECT part, cid,
	       count(*) AS reviews, sum(episodes) AS episodes, sum(mentions) AS mentions,
	       count(*) FILTER (WHERE e1 > 0) AS r1, count(*) FILTER (WHERE e2 > 0) AS r2, count(*) FILTER (WHERE e3 > 0) AS r3,
	       count(*) FILTER (WHERE e4 > 0) AS r4, count(*) FILTER (WHERE e5 > 0) AS r5, count(*) FILTER (WHERE e6 > 0) AS r6,
	       sum(e1) AS e1, sum(e2) AS e2, sum(e3) AS e3, sum(e4) AS e4, sum(e5) AS e5, sum(e6) AS e6,
	       sum(m1) AS m1, sum(m2) AS m2, coalesce(sum(m3), 0) AS m3, coalesce(sum(m4), 0) AS m4,
	       coalesce(sum(m5), 0) AS m5, coalesce(sum(m6), 0) AS m6
	FROM per_review GROUP BY part, cid
)
SELECT x.part, 'factor', c.code,
       x.reviews, x.episodes, x.mentions, x.r1, x.r2, x.r3, x.r4, x.r5, x.r6, NULL,
       x.e1, x.e2, x.e3, x.e4, x.e5, x.e6, NULL, x.m1, x.m2, x.m3, x.m4, x.m5, x.m6, NULL
FROM per_part x JOIN temp.agg_code c USING (cid)`},

	// Pattern nodes: a pattern counts for its sub-pattern (or its type) and
	// every ancestor, and a proposed sub-pattern also for <type>.proposed.
	{"pattern nodes", `
INSERT INTO temp.new_agg_nodes
WITH pat AS (
	SELECT p.review_key, p.pattern_no, p.type_code, p.proposed, p.episodes,
	       coalesce(p.sub_code, p.type_code) AS leaf, s.frame_id, s.frame_version,
	       CASE p.nature WHEN 'constructive' THEN 1 ELSE 2 END AS nat,
	       CASE WHEN p.priority IS NULL THEN 7 WHEN p.priority >= 4 THEN 6 ELSE p.priority + 2 END AS pri
	FROM temp.agg_scope s JOIN patterns p ON p.review_key = s.review_key
), nodes AS (
	SELECT pat.review_key, pat.pattern_no, pat.episodes, pat.nat, pat.pri, c.ancestor AS code
	FROM pat JOIN frame_closure c ON c.frame_id = pat.frame_id AND c.frame_version = pat.frame_version
	     AND c.tree = 'pattern' AND c.descendant = pat.leaf
	UNION ALL
	SELECT review_key, pattern_no, episodes, nat, pri, type_code || '.proposed'
	FROM pat WHERE proposed IS NOT NULL
), per_episode AS (
	SELECT review_key, code, ep,
	       bool_or(nat = 1) AS n1, bool_or(nat = 2) AS n2, bool_or(pri = 3) AS p3, bool_or(pri = 4) AS p4,
	       bool_or(pri = 5) AS p5, bool_or(pri = 6) AS p6, bool_or(pri = 7) AS p7
	FROM (SELECT DISTINCT review_key, code, nat, pri, unnest(episodes) AS ep FROM nodes)
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
	FROM nodes GROUP BY review_key, code
)
SELECT ` + partitionKey + `, 'pattern', code,
       count(*), coalesce(sum(episodes), 0), sum(mentions),
       count(*) FILTER (WHERE m1 > 0), count(*) FILTER (WHERE m2 > 0), count(*) FILTER (WHERE m3 > 0),
       count(*) FILTER (WHERE m4 > 0), count(*) FILTER (WHERE m5 > 0), count(*) FILTER (WHERE m6 > 0),
       count(*) FILTER (WHERE m7 > 0),
       coalesce(sum(e1), 0), coalesce(sum(e2), 0), coalesce(sum(e3), 0), coalesce(sum(e4), 0),
       coalesce(sum(e5), 0), coalesce(sum(e6), 0), coalesce(sum(e7), 0),
       sum(m1), sum(m2), sum(m3), sum(m4), sum(m5), sum(m6), sum(m7)
FROM per_review LEFT JOIN ep_review USING (review_key, code) JOIN temp.agg_scope USING (review_key)
GROUP BY ALL`},

	// Factor type → pattern type through the episodes each pattern draws on.
	// Nature '' counts each link once whatever the nature of the patterns
	// behind it: an episode that both a constructive and an unsafe pattern
	// of a type draw on is one episode, and its review one review.
	{"flows", `
INSERT INTO temp.new_agg_flows
WITH ftypes AS (
	SELECT f.review_key, f.episode_no, c.code AS factor_type
	FROM temp.agg_fep f JOIN temp.agg_code c USING (cid)
	WHERE f.depth = 2
), ptypes AS (
	SELECT DISTINCT p.review_key, unnest(p.episodes) AS episode_no, p.type_code AS pattern_type, p.nature
	FROM temp.agg_scope s JOIN patterns p ON p.review_key = s.review_key
), links AS (
	SELECT ftypes.review_key, factor_type, pattern_type, coalesce(nature, '') AS nature, count(DISTINCT episode_no) AS episodes
	FROM ftypes JOIN ptypes USING (review_key, episode_no)
	GROUP BY GROUPING SETS ((ftypes.review_key, factor_type, pattern_type, nature), (ftypes.review_key, factor_type, pattern_type))
)
SELECT ` + partitionKey + `, factor_type, pattern_type, nature, count(*), sum(episodes)
FROM links JOIN temp.agg_scope USING (review_key) GROUP BY ALL`},

	// Recommendations by kind × level, overall ('') and per linked pattern type.
	{"recommendations", `
INSERT INTO temp.new_agg_recs
WITH recs AS (
	SELECT r.review_key, r.rec_no, r.kind AS rec_kind, r.level, '' AS pattern_type
	FROM temp.agg_scope s JOIN recommendations r ON r.review_key = s.review_key
	UNION ALL
	SELECT DISTINCT r.review_key, r.rec_no, r.kind, r.level, p.type_code
	FROM temp.agg_scope s
	JOIN (SELECT review_key, rec_no, kind, level, unnest(patterns) AS pattern_no FROM recommendations) r
	     ON r.review_key = s.review_key
	JOIN patterns p ON p.review_key = r.review_key AND p.pattern_no = r.pattern_no
), per_review AS (
	-- Margins too: rec_kind 0 is every kind and level '' every level, so the
	-- distinct reviews behind each margin are exact.
	SELECT review_key, coalesce(rec_kind, 0) AS rec_kind, coalesce(level, '') AS level, pattern_type, count(*) AS recs
	FROM recs
	GROUP BY GROUPING SETS ((review_key, pattern_type, rec_kind, level), (review_key, pattern_type, rec_kind),
	                        (review_key, pattern_type, level), (review_key, pattern_type))
)
SELECT ` + partitionKey + `, rec_kind, level, pattern_type, count(*), sum(recs)
FROM per_review JOIN temp.agg_scope USING (review_key) GROUP BY ALL`},
}

// addAggregates adds the contributions of newly stored current reviews to the
// aggregates without reading the rest of their partitions: every aggregate is
// a sum over reviews, so a review's contribution can be inserted as extra rows
// and analytics, which always sums, sees the same figures. The new reviews'
// keys are the newest in the store, so DuckDB's zone maps skip every older row
// group of the base tables and a batch costs the same at any store size.
// compactAggregates later folds the extra rows together.
func addAggregates(ctx context.Context, conn *sql.Conn, keys []int64) error {
	if len(keys) == 0 {
		return nil
	}
	from, args := keyedScope(keys, "current")
	return fillAggregates(ctx, conn, from, args...)
}

// keyedScope selects the reviews with the given keys and status, for
// scopeReviews. The keys are the newest in the store, so naming their range
// lets DuckDB's zone maps skip every older row group.
func keyedScope(keys []int64, status string) (string, []any) {
	lo, hi := keys[0], keys[0]
	for _, k := range keys {
		lo, hi = min(lo, k), max(hi, k)
	}
	return fmt.Sprintf(`
		FROM reviews r
		WHERE r.review_key BETWEEN %d AND %d AND r.status = ?
		  AND r.review_key IN (SELECT unnest(?::BIGINT[]))`, lo, hi), []any{status, keys}
}

// aggRows counts the rows of every aggregate table.
func aggRows(ctx context.Context, conn *sql.Conn) (int64, error) {
	var n int64
	for _, t := range allAggTables {
		var c int64
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM `+t).Scan(&c); err != nil {
			return 0, fmt.Errorf("aggregates: count %s: %w", t, err)
		}
		n += c
	}
	return n, nil
}

// compactAggregates folds rows with the same key into one and sorts each
// table by collection, so reads stay fast after many incremental additions.
// It numbers the partitions afresh in place order on the way, so that a
// partition first counted after a load sits with its region again.
func compactAggregates(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE agg_renumber AS
		SELECT part AS old, (row_number() OVER (ORDER BY frame_id, frame_version, nation, region, board, year, kind))::INTEGER AS part
		FROM agg_partitions`); err != nil {
		return fmt.Errorf("aggregates: number partitions: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `DROP TABLE IF EXISTS temp.agg_renumber`)
	for _, t := range allAggTables {
		keys, vals, err := aggColumns(ctx, conn, t)
		if err != nil {
			return err
		}
		sums := make([]string, len(vals))
		for i, c := range vals {
			sums[i] = fmt.Sprintf("sum(x.%s) AS %s", c, c)
		}
		group := prefixed("x.", append(strings.Split(partitionColumns, ", "), keys...))
		from := t + ` x`
		if numbered(t) {
			group = "n.part, " + prefixed("x.", keys)
			from = t + ` x JOIN temp.agg_renumber n ON n.old = x.part`
		}
		if err := replaceRows(ctx, conn, t, `SELECT `+group+`, `+strings.Join(sums, ", ")+` FROM `+from+
			` GROUP BY `+group+` ORDER BY `+compactOrder(t)); err != nil {
			return err
		}
	}
	return replaceRows(ctx, conn, "agg_partitions", `
		SELECT n.part, r.part AS rollup, p.* EXCLUDE (part, rollup)
		FROM agg_partitions p JOIN temp.agg_renumber n ON n.old = p.part
		LEFT JOIN temp.agg_renumber r ON r.old = p.rollup
		ORDER BY n.part`)
}

// replaceRows replaces every row of table t by those query selects.
func replaceRows(ctx context.Context, conn *sql.Conn, t, query string) error {
	for _, q := range []string{
		`CREATE OR REPLACE TEMP TABLE agg_compact AS ` + query,
		`DELETE FROM ` + t,
		`INSERT INTO ` + t + ` SELECT * FROM temp.agg_compact`,
		`DROP TABLE temp.agg_compact`,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("aggregates: compact %s: %w", t, err)
		}
	}
	return nil
}

// pairsStatement counts the factor pairs within an episode, at every depth,
// and within a review at depths 1 and 2, into temp.agg_pairs_i, each pair
// once (a < b, cid order being code order); pairsStoreStatements store them
// in aggk_pairs and its roll-up.
var pairsStatement = aggStep{"pairs", `
INSERT INTO temp.agg_pairs_i
WITH ep_pairs AS (
	SELECT x.part, x.review_key, x.depth, x.cid AS a, y.cid AS b, count(*) AS episodes
	FROM temp.agg_fep x JOIN temp.agg_fep y ON x.review_key = y.review_key AND x.episode_no = y.episode_no
	     AND x.depth = y.depth AND x.cid < y.cid
	GROUP BY x.part, x.review_key, x.depth, x.cid, y.cid
), rv_codes AS (
	SELECT DISTINCT part, review_key, cid, depth FROM temp.agg_fep WHERE depth <= 2
)
SELECT part, 'episode' AS within, depth, a, b, count(*) AS reviews, sum(episodes) AS episodes
FROM ep_pairs GROUP BY part, depth, a, b
UNION ALL
SELECT x.part, 'review', x.depth, x.cid, y.cid, count(*), 0
FROM rv_codes x JOIN rv_codes y ON x.review_key = y.review_key AND x.depth = y.depth AND x.cid < y.cid
GROUP BY x.part, x.depth, x.cid, y.cid`}

var pairsStoreStatements = []aggStep{
	{"add aggk_pairs", `INSERT INTO aggk_pairs SELECT * FROM temp.agg_pairs_i ORDER BY part`},
	{"roll up aggk_pairs", `
INSERT INTO aggk_pairs_r
SELECT p.rpart, x.within, x.depth, x.a, x.b, sum(x.reviews), sum(x.episodes)
FROM temp.agg_pairs_i x JOIN temp.agg_part p USING (part)
GROUP BY p.rpart, x.within, x.depth, x.a, x.b
ORDER BY x.within, x.depth, x.a, x.b, p.rpart`},
}
