-- Collate store, schema version 14: the factor pairs are stored keyed by number.
--
-- The pairs are by far the most aggregate rows: 293,000 of the 720,000 a
-- store of a thousand reviews holds, and 14.4 million of 18 million at
-- 200,000 reviews, each of which repeated its partition's seven names
-- (board, region, nation, year, kind, frame and version) and its two codes.
-- Storing those strings was the largest part of counting a load. Now each
-- pair row starts with its partition's number (part) and names its two
-- factors by number, and two small tables hold the names:
--
--   agg_partitions  one row per partition counted: a board, year and kind
--                   under one frame version, or a region's roll-up of a year
--                   (board and kind ''). rollup is the number of the board
--                   partition's roll-up, NULL on a roll-up's own row.
--   agg_codes       one number per code of each frame version (cid), given
--                   when the frame is registered, in code order, so comparing
--                   the numbers of two codes of one frame compares the codes.
--
-- agg_pairs and agg_pairs_r keep their names and columns as views that join
-- the numbers to their names, so a read's filter on a region narrows the
-- partitions it joins, and those are numbered in place order when counted
-- and again when compacted, which keeps a region's rows together. The other
-- aggregates keep their names on every row: they are read on every page, and
-- a join costs every read about half a millisecond.
-- The aggregates are rebuilt after this step.

DROP TABLE agg_pairs;
DROP TABLE agg_pairs_r;

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

CREATE TABLE aggk_pairs_r AS SELECT * FROM aggk_pairs LIMIT 0;

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
