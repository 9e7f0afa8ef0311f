-- Collate store, schema version 2: aggregates kept at ingest for analytics.
--
-- Every review has exactly one board, one year and one kind, so counts of
-- distinct reviews add up over these partitions. The ingest writer recomputes
-- the rows of every partition it touches inside its own transaction
-- (ingest/aggregates.go); ingest.RebuildAggregates recomputes them all.
-- Only reviews with status 'current' are counted. region and nation are
-- copied from the review so that rolling up needs no join.

-- Review-level totals per partition and frame. r_* columns count distinct
-- reviews, the rest count episodes, patterns or recommendations.
CREATE TABLE agg_totals (
    board          VARCHAR NOT NULL,
    region         VARCHAR NOT NULL,
    nation         VARCHAR NOT NULL,
    year           INTEGER NOT NULL,
    kind           VARCHAR NOT NULL,
    frame_id       VARCHAR NOT NULL,
    frame_version  VARCHAR NOT NULL,
    reviews        INTEGER NOT NULL,
    episodes       INTEGER NOT NULL,
    ep_good        INTEGER NOT NULL,
    ep_problematic INTEGER NOT NULL,
    ep_mixed       INTEGER NOT NULL,
    ep_not_judged  INTEGER NOT NULL,
    r_good         INTEGER NOT NULL, -- reviews with at least one good episode
    r_problematic  INTEGER NOT NULL,
    r_mixed        INTEGER NOT NULL,
    r_not_judged   INTEGER NOT NULL,
    family_yes     INTEGER NOT NULL,
    family_no      INTEGER NOT NULL,
    family_nr      INTEGER NOT NULL,
    prelim_yes     INTEGER NOT NULL,
    prelim_no      INTEGER NOT NULL,
    prelim_nr      INTEGER NOT NULL,
    interim_yes    INTEGER NOT NULL,
    interim_no     INTEGER NOT NULL,
    interim_nr     INTEGER NOT NULL,
    final_yes      INTEGER NOT NULL,
    final_no       INTEGER NOT NULL,
    final_nr       INTEGER NOT NULL,
    all_stages     INTEGER NOT NULL, -- reviews that held all three stages
    patterns       INTEGER NOT NULL,
    r_patterns     INTEGER NOT NULL,
    recs           INTEGER NOT NULL,
    r_recs         INTEGER NOT NULL
);

-- Recurrence of every frame node per partition: reviews (distinct reviews
-- citing the node or a node under it), episodes (distinct episodes; for
-- patterns the episodes the patterns draw on) and mentions (factor codings
-- or pattern instances). Columns 1..7 are the splits, in the order
-- analytics defines them for the tree:
--   factor:  1 influence supported_good, 2 influence made_problematic_more_likely,
--            3 adequacy good, 4 problematic, 5 mixed, 6 not_judged
--   pattern: 1 nature constructive, 2 unsafe, 3 priority 1, 4 priority 2,
--            5 priority 3, 6 priority 4 or lower, 7 no priority
-- Proposed sub-patterns are counted under the virtual node <type>.proposed.
CREATE TABLE agg_nodes (
    board         VARCHAR NOT NULL,
    region        VARCHAR NOT NULL,
    nation        VARCHAR NOT NULL,
    year          INTEGER NOT NULL,
    kind          VARCHAR NOT NULL,
    frame_id      VARCHAR NOT NULL,
    frame_version VARCHAR NOT NULL,
    tree          VARCHAR NOT NULL,
    code          VARCHAR NOT NULL,
    reviews       INTEGER NOT NULL,
    episodes      INTEGER NOT NULL,
    mentions      INTEGER NOT NULL,
    r1 INTEGER, r2 INTEGER, r3 INTEGER, r4 INTEGER, r5 INTEGER, r6 INTEGER, r7 INTEGER,
    e1 INTEGER, e2 INTEGER, e3 INTEGER, e4 INTEGER, e5 INTEGER, e6 INTEGER, e7 INTEGER,
    m1 INTEGER, m2 INTEGER, m3 INTEGER, m4 INTEGER, m5 INTEGER, m6 INTEGER, m7 INTEGER
);

-- Factor pairs at the same depth (a < b). within 'episode': episodes holding
-- both and the distinct reviews behind them; within 'review': reviews citing
-- both anywhere (episodes is 0). Review pairs are kept for depths 1 and 2.
CREATE TABLE agg_pairs (
    board         VARCHAR NOT NULL,
    region        VARCHAR NOT NULL,
    nation        VARCHAR NOT NULL,
    year          INTEGER NOT NULL,
    kind          VARCHAR NOT NULL,
    frame_id      VARCHAR NOT NULL,
    frame_version VARCHAR NOT NULL,
    within        VARCHAR NOT NULL,
    depth         INTEGER NOT NULL,
    a             VARCHAR NOT NULL,
    b             VARCHAR NOT NULL,
    reviews       INTEGER NOT NULL,
    episodes      INTEGER NOT NULL
);

-- Factor type → pattern type through the episodes each pattern draws on.
CREATE TABLE agg_flows (
    board         VARCHAR NOT NULL,
    region        VARCHAR NOT NULL,
    nation        VARCHAR NOT NULL,
    year          INTEGER NOT NULL,
    kind          VARCHAR NOT NULL,
    frame_id      VARCHAR NOT NULL,
    frame_version VARCHAR NOT NULL,
    factor_type   VARCHAR NOT NULL,
    pattern_type  VARCHAR NOT NULL,
    nature        VARCHAR NOT NULL,
    reviews       INTEGER NOT NULL,
    episodes      INTEGER NOT NULL
);

-- Recommendations by kind and level; pattern_type '' counts every
-- recommendation, a type counts those linked to a pattern of that type.
CREATE TABLE agg_recs (
    board         VARCHAR NOT NULL,
    region        VARCHAR NOT NULL,
    nation        VARCHAR NOT NULL,
    year          INTEGER NOT NULL,
    kind          VARCHAR NOT NULL,
    frame_id      VARCHAR NOT NULL,
    frame_version VARCHAR NOT NULL,
    rec_kind      INTEGER NOT NULL,
    level         VARCHAR NOT NULL,
    pattern_type  VARCHAR NOT NULL,
    reviews       INTEGER NOT NULL,
    recs          INTEGER NOT NULL
);
