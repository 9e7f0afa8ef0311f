-- Collate store, schema version 5: the pairs roll-up holds both orientations.
-- agg_pairs keeps each pair once (a < b); agg_pairs_r now keeps (a, b) and
-- (b, a), sorted by a, so the pairs of one factor are found without a scan.
DELETE FROM agg_pairs_r;
INSERT INTO agg_pairs_r
SELECT '' AS board, region, nation, year, '' AS kind, frame_id, frame_version, within, depth, a, b,
       sum(reviews) AS reviews, sum(episodes) AS episodes
FROM (SELECT region, nation, year, frame_id, frame_version, within, depth, a, b, reviews, episodes FROM agg_pairs
      UNION ALL
      SELECT region, nation, year, frame_id, frame_version, within, depth, b, a, reviews, episodes FROM agg_pairs)
GROUP BY region, nation, year, frame_id, frame_version, within, depth, a, b
ORDER BY frame_id, frame_version, within, depth, a, b, nation, region, year;
