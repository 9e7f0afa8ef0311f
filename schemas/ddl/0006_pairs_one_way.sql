-- Collate store, schema version 6: the pairs roll-up holds each pair once
-- again (a < b), as agg_pairs does; one factor's pairs are read as
-- a = f OR b = f. Keeping both orientations (version 5) doubled the roll-up's
-- rows, which were the largest part of counting a review at ingest.
-- keeps aggregates whole: dropping the reversed rows leaves every count as it
-- was, so this step needs no rebuild of the aggregates.
DELETE FROM agg_pairs_r WHERE a > b;
