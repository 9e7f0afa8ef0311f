-- Collate store, schema version 13: agg_flows and agg_flows_r gain rows of
-- nature '' that count each factor type → pattern type link once, whatever
-- the nature of the patterns behind it. Summing the constructive and unsafe
-- rows counted an episode (and its review) twice when patterns of both
-- natures of the same type draw on it. The aggregates are rebuilt after this
-- step, which adds the new rows; any such rows are cleared first.
DELETE FROM agg_flows WHERE nature = '';
DELETE FROM agg_flows_r WHERE nature = '';
