-- No planner statistics for the arrays of the runs of created and updated rows (migrations 0021
-- and 0023). Each import adds about 200 runs of 5,000 row numbers and record ids each, so
-- autovacuum analyzes both tables after nearly every large import, and gathering the elements'
-- statistics of those number arrays was nearly all of it: ANALYZE took 0.65 s (created runs)
-- and 0.76 s (updated runs) of a 1M-row import and its re-import, 1 ms each without them, while
-- the next import ran on the same two cores. The undos (json, which has no equality, so no
-- element statistics) are left out of the sample alike. No query compares the arrays'
-- elements: the runs are found by import, row and record bounds, whose statistics stay.
-- Postgres 15 and 16 estimate unnest's rows without element statistics; 17 and later use them
-- when present, and now take 10 elements a run instead of about 5,000. The one statement that
-- unnests the runs (store.runTable.recordsAfter) reads only runs the runs' index bounds, under a
-- LIMIT. A target of 0 stops ANALYZE from gathering a column but leaves what it gathered
-- before: a database analyzed before this migration keeps those statistics.
ALTER TABLE import_created_runs ALTER COLUMN row_numbers SET STATISTICS 0,
    ALTER COLUMN entity_ids SET STATISTICS 0;
ALTER TABLE import_updated_runs ALTER COLUMN row_numbers SET STATISTICS 0,
    ALTER COLUMN entity_ids SET STATISTICS 0, ALTER COLUMN undos SET STATISTICS 0;
