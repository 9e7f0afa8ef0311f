-- Collate store, schema version 4: regional roll-ups of the aggregates.
--
-- Every aggregate table of version 2 has a roll-up with the same columns
-- whose rows have board = '' and kind = '': the sums over the boards and kinds
-- of a region and year. Analytics reads regions, nations and the UK from the
-- roll-ups (a few thousand rows) and boards from the full tables, and only
-- when a view needs them. ingest/aggregates.go keeps both in step: every
-- contribution added to a table is added, rolled up, to its roll-up, and a
-- partition recomputed first subtracts its old rows from the roll-up.

CREATE TABLE agg_nodes_r AS SELECT * FROM agg_nodes LIMIT 0;
INSERT INTO agg_nodes_r SELECT '' AS board, region, nation, year, '' AS kind, frame_id, frame_version, tree, code, sum(reviews) AS reviews, sum(episodes) AS episodes, sum(mentions) AS mentions, sum(r1) AS r1, sum(r2) AS r2, sum(r3) AS r3, sum(r4) AS r4, sum(r5) AS r5, sum(r6) AS r6, sum(r7) AS r7, sum(e1) AS e1, sum(e2) AS e2, sum(e3) AS e3, sum(e4) AS e4, sum(e5) AS e5, sum(e6) AS e6, sum(e7) AS e7, sum(m1) AS m1, sum(m2) AS m2, sum(m3) AS m3, sum(m4) AS m4, sum(m5) AS m5, sum(m6) AS m6, sum(m7) AS m7
FROM agg_nodes GROUP BY region, nation, year, frame_id, frame_version, tree, code;

CREATE TABLE agg_pairs_r AS SELECT * FROM agg_pairs LIMIT 0;
INSERT INTO agg_pairs_r SELECT '' AS board, region, nation, year, '' AS kind, frame_id, frame_version, within, depth, a, b, sum(reviews) AS reviews, sum(episodes) AS episodes
FROM agg_pairs GROUP BY region, nation, year, frame_id, frame_version, within, depth, a, b;

CREATE TABLE agg_flows_r AS SELECT * FROM agg_flows LIMIT 0;
INSERT INTO agg_flows_r SELECT '' AS board, region, nation, year, '' AS kind, frame_id, frame_version, factor_type, pattern_type, nature, sum(reviews) AS reviews, sum(episodes) AS episodes
FROM agg_flows GROUP BY region, nation, year, frame_id, frame_version, factor_type, pattern_type, nature;

CREATE TABLE agg_recs_r AS SELECT * FROM agg_recs LIMIT 0;
INSERT INTO agg_recs_r SELECT '' AS board, region, nation, year, '' AS kind, frame_id, frame_version, rec_kind, level, pattern_type, sum(reviews) AS reviews, sum(recs) AS recs
FROM agg_recs GROUP BY region, nation, year, frame_id, frame_version, rec_kind, level, pattern_type;
