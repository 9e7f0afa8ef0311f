-- Collate store, schema version 14: the aggregates are stored keyed by number.
--
-- Until version 13 every aggregate row repeated its partition's seven names
-- (board, region, nation, year, kind, frame and version) and each factor
-- pair its two codes. Storing those strings was most of the cost of counting
-- a load: a store of a thousand reviews holds some 720,000 aggregate rows.
-- Now each row starts with its partition's number (part), the pairs name
-- their factors by number too, and two small tables hold the names:
--
--   agg_partitions  one row per partition counted: a board, year and kind
--                   under one frame version, or a region's roll-up of a year
--                   (board and kind ''). rollup is the number of the board
--                   partition's roll-up, NULL on a roll-up's own row.
--   agg_codes       one number per code of each frame version (cid), given
--                   when the frame is registered, in code order, so comparing
--                   the numbers of two codes of one frame compares the codes.
--
-- The tables analytics reads keep their names and columns as views that join
-- the numbers to their names, so a read's filter on a region narrows the
-- partitions it joins, and those are numbered in place order when counted
-- and again when compacted, which keeps a region's rows together.
-- The aggregates are rebuilt after this step.

DROP TABLE agg_totals;
DROP TABLE agg_nodes;
DROP TABLE agg_pairs;
DROP TABLE agg_flows;
DROP TABLE agg_recs;
DROP TABLE agg_nodes_r;
DROP TABLE agg_pairs_r;
DROP TABLE agg_flows_r;
DROP TABLE agg_recs_r;

CREATE TABLE agg_partitions (
    part          INTEGER NOT NULL,
    rollup        INTEGER,
    board         VARCHAR NOT NULL,
    region        VARCHAR NOT NULL,
    nation        VARCHAR NOT NULL,
    year          INTEGER NOT NULL,
    kind          VARCHAR NOT NULL,
    frame_id      VARCHAR NOT NULL,
    frame_version VARCHAR NOT NULL
);

CREATE TABLE agg_codes (
    cid           INTEGER NOT NULL,
    frame_id      VARCHAR NOT NULL,
    frame_version VARCHAR NOT NULL,
    tree          VARCHAR NOT NULL,
    code          VARCHAR NOT NULL,
    depth         INTEGER NOT NULL
);

INSERT INTO agg_codes
SELECT (row_number() OVER (ORDER BY frame_id, frame_version, tree, code))::INTEGER, frame_id, frame_version, tree, code, depth
FROM frame_nodes;

CREATE TABLE aggk_totals (
    part           INTEGER NOT NULL,
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

CREATE TABLE aggk_nodes (
    part     INTEGER NOT NULL,
    tree     VARCHAR NOT NULL,
    code     VARCHAR NOT NULL,
    reviews  INTEGER NOT NULL,
    episodes INTEGER NOT NULL,
    mentions INTEGER NOT NULL,
    r1 INTEGER, r2 INTEGER, r3 INTEGER, r4 INTEGER, r5 INTEGER, r6 INTEGER, r7 INTEGER,
    e1 INTEGER, e2 INTEGER, e3 INTEGER, e4 INTEGER, e5 INTEGER, e6 INTEGER, e7 INTEGER,
    m1 INTEGER, m2 INTEGER, m3 INTEGER, m4 INTEGER, m5 INTEGER, m6 INTEGER, m7 INTEGER
);

-- a and b are agg_codes numbers, a's code before b's.
CREATE TABLE aggk_pairs (
    part     INTEGER NOT NULL,
    within   VARCHAR NOT NULL,
    depth    INTEGER NOT NULL,
    a        INTEGER NOT NULL,
    b        INTEGER NOT NULL,
    reviews  INTEGER NOT NULL,
    episodes INTEGER NOT NULL
);

CREATE TABLE aggk_flows (
    part         INTEGER NOT NULL,
    factor_type  VARCHAR NOT NULL,
    pattern_type VARCHAR NOT NULL,
    nature       VARCHAR NOT NULL,
    reviews      INTEGER NOT NULL,
    episodes     INTEGER NOT NULL
);

CREATE TABLE aggk_recs (
    part         INTEGER NOT NULL,
    rec_kind     INTEGER NOT NULL,
    level        VARCHAR NOT NULL,
    pattern_type VARCHAR NOT NULL,
    reviews      INTEGER NOT NULL,
    recs         INTEGER NOT NULL
);

CREATE TABLE aggk_nodes_r AS SELECT * FROM aggk_nodes LIMIT 0;
CREATE TABLE aggk_pairs_r AS SELECT * FROM aggk_pairs LIMIT 0;
CREATE TABLE aggk_flows_r AS SELECT * FROM aggk_flows LIMIT 0;
CREATE TABLE aggk_recs_r AS SELECT * FROM aggk_recs LIMIT 0;

CREATE VIEW agg_totals AS
SELECT p.board, p.region, p.nation, p.year, p.kind, p.frame_id, p.frame_version, x.* EXCLUDE (part)
FROM aggk_totals x JOIN agg_partitions p USING (part);

CREATE VIEW agg_nodes AS
SELECT p.board, p.region, p.nation, p.year, p.kind, p.frame_id, p.frame_version, x.* EXCLUDE (part)
FROM aggk_nodes x JOIN agg_partitions p USING (part);

CREATE VIEW agg_nodes_r AS
SELECT p.board, p.region, p.nation, p.year, p.kind, p.frame_id, p.frame_version, x.* EXCLUDE (part)
FROM aggk_nodes_r x JOIN agg_partitions p USING (part);

CREATE VIEW agg_pairs AS
SELECT p.board, p.region, p.nation, p.year, p.kind, p.frame_id, p.frame_version,
       x.within, x.depth, ca.code AS a, cb.code AS b, x.reviews, x.episodes
FROM aggk_pairs x JOIN agg_partitions p USING (part)
JOIN agg_codes ca ON ca.cid = x.a JOIN agg_codes cb ON cb.cid = x.b;

CREATE VIEW agg_pairs_r AS
SELECT p.board, p.region, p.nation, p.year, p.kind, p.frame_id, p.frame_version,
       x.within, x.depth, ca.code AS a, cb.code AS b, x.reviews, x.episodes
FROM aggk_pairs_r x JOIN agg_partitions p USING (part)
JOIN agg_codes ca ON ca.cid = x.a JOIN agg_codes cb ON cb.cid = x.b;

CREATE VIEW agg_flows AS
SELECT p.board, p.region, p.nation, p.year, p.kind, p.frame_id, p.frame_version, x.* EXCLUDE (part)
FROM aggk_flows x JOIN agg_partitions p USING (part);

CREATE VIEW agg_flows_r AS
SELECT p.board, p.region, p.nation, p.year, p.kind, p.frame_id, p.frame_version, x.* EXCLUDE (part)
FROM aggk_flows_r x JOIN agg_partitions p USING (part);

CREATE VIEW agg_recs AS
SELECT p.board, p.region, p.nation, p.year, p.kind, p.frame_id, p.frame_version, x.* EXCLUDE (part)
FROM aggk_recs x JOIN agg_partitions p USING (part);

CREATE VIEW agg_recs_r AS
SELECT p.board, p.region, p.nation, p.year, p.kind, p.frame_id, p.frame_version, x.* EXCLUDE (part)
FROM aggk_recs_r x JOIN agg_partitions p USING (part);
