-- Import analytics (docs/analytics.md). The relay may deliver an import's outcomes again after
-- a crash or an outage, so every table is a ReplacingMergeTree whose sorting key is what makes
-- a row unique: a row inserted twice is one row to a query that reads with FINAL (or groups by
-- the key). FINAL merges within a partition only, so each table is partitioned by a time that
-- never changes for an import: copies of a row always land in the same partition.
--
-- Kept to what ClickHouse 18.16 and current releases both accept: MergeTree family with
-- PARTITION BY / ORDER BY, String, UInt and DateTime columns.

-- One row per row outcome of an import: what the import did with that row of the file.
CREATE TABLE IF NOT EXISTS row_outcomes (
    account     String,
    import_id   UInt64,
    row_number  UInt32,   -- the spreadsheet row number a user sees (header = 1)
    outcome     String,   -- created, updated, unchanged or skipped
    reason      String,   -- the skip reason; empty unless skipped
    prospect_id UInt64,   -- 0 when skipped
    warnings    String,   -- kinds of the row's field warnings, sorted, comma-separated; empty when none
    source      String,   -- upload, watch, kafka or cli
    file_name   String,
    at          DateTime  -- when the import started
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(at)
ORDER BY (import_id, row_number);

-- One row per finished import (completed, failed or cancelled): its record as Postgres holds
-- it when it ended. version is the seq of the import event that ended it; the highest wins.
CREATE TABLE IF NOT EXISTS import_summaries (
    account               String,
    import_id             UInt64,
    version               UInt32,
    kind                  String,
    source                String,
    file_name             String,
    file_size             UInt64,
    file_sha256           String,
    options               String,  -- the import options, JSON
    status                String,  -- completed, failed or cancelled
    error                 String,  -- why it failed; empty otherwise
    over_limit_warning    UInt8,
    rows_total            UInt32,
    rows_done             UInt32,
    created               UInt32,
    updated               UInt32,
    unchanged             UInt32,
    skipped               UInt32,
    organizations_created UInt32,
    organizations_linked  UInt32,
    created_at            DateTime,  -- queued
    started_at            DateTime,  -- 0 when it never started
    finished_at           DateTime,
    queued_ms             UInt64,    -- started_at - created_at
    run_ms                UInt64,    -- finished_at - started_at
    rows_per_second       UInt64     -- rows_done over run_ms
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(created_at)
ORDER BY import_id;

-- The counts of a finished import by skip reason (kind 'skip_reason') and by field warning
-- (kind 'warning'), one row each, with the summary's version. Counts only grow while an import
-- runs, so every name of an earlier version is also in a later one.
CREATE TABLE IF NOT EXISTS import_counts (
    account     String,
    import_id   UInt64,
    version     UInt32,
    kind        String,
    name        String,
    count       UInt64,
    source      String,
    file_name   String,
    created_at  DateTime,
    finished_at DateTime
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(created_at)
ORDER BY (import_id, kind, name);
