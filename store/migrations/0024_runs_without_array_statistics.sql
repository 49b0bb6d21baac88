-- No planner statistics for the arrays of the runs of created and updated rows (migrations 0021
-- and 0023). Each import adds about 200 runs of 5,000 row numbers and record ids each, so
-- autovacuum analyzes both tables after nearly every large import, and gathering the elements'
-- statistics of those arrays was nearly all of it: ANALYZE took 0.65 s (created runs) and
-- 0.76 s (updated runs) of a 1M-row import and its re-import, 1 ms each without them, while
-- the next import ran on the same two cores. No query compares the arrays' elements (the runs
-- are found by import, row and record bounds, whose statistics stay); Postgres 15 does not
-- use element statistics to estimate unnest's rows.
ALTER TABLE import_created_runs ALTER COLUMN row_numbers SET STATISTICS 0,
    ALTER COLUMN entity_ids SET STATISTICS 0;
ALTER TABLE import_updated_runs ALTER COLUMN row_numbers SET STATISTICS 0,
    ALTER COLUMN entity_ids SET STATISTICS 0, ALTER COLUMN undos SET STATISTICS 0;
