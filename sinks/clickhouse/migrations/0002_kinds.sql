-- Imports of every kind of record (issue 11): prospects, organizations, deals, custom objects.
-- A row outcome names the kind of its import and the entity (the record of that kind) it
-- created or matched; a summary keeps the counters its kind names; the counts by reason name
-- the kind of their import, so that every saved query can break down by kind.
--
-- Rows written before this migration read with the defaults: kind 'prospects' (every import
-- was one), entity_id their prospect_id, and a summary's counters its organization counts.
-- prospect_id and organizations_created/_linked stay, filled for prospects imports as before.
--
-- ClickHouse 18.16 has no ADD COLUMN IF NOT EXISTS: the migration runner takes "column already
-- exists" for done, so that two daemons may both apply this.

ALTER TABLE row_outcomes ADD COLUMN kind LowCardinality(String) DEFAULT 'prospects' AFTER import_id;

ALTER TABLE row_outcomes ADD COLUMN entity_id UInt64 DEFAULT prospect_id AFTER reason;

ALTER TABLE import_summaries ADD COLUMN counters.name Array(String)
    DEFAULT ['organizations_created', 'organizations_linked'] AFTER skipped;

ALTER TABLE import_summaries ADD COLUMN counters.value Array(UInt64)
    DEFAULT [toUInt64(organizations_created), toUInt64(organizations_linked)] AFTER counters.name;

ALTER TABLE import_counts ADD COLUMN import_kind LowCardinality(String) DEFAULT 'prospects' AFTER import_id;
