-- Undoing an import (issue 13). An undo is a job like an import, delivered like one: its row
-- outcomes (deleted, restored, kept_changed_since, unchanged) go to row_outcomes under its own
-- import_id, each naming the import it takes back (undo_of) and that import's row (source_row);
-- its summary names the import too, and carries its counters (deleted, restored,
-- kept_changed_since, fields_kept). The summary of an import whose undo completed gets a new
-- version with status 'undone' and the undo that took it back (undone_by) and when
-- (undone_at).
--
-- Rows written before this migration are imports, none of them undone (there was no undo): they
-- read with the defaults, 0 for "none" and the epoch for undone_at, like started_at of an
-- import that never started.
--
-- ClickHouse 18.16 has no ADD COLUMN IF NOT EXISTS: the migration runner takes "column already
-- exists" for done, so that two daemons may both apply this.

ALTER TABLE row_outcomes ADD COLUMN undo_of UInt64 DEFAULT 0 AFTER kind;

ALTER TABLE row_outcomes ADD COLUMN source_row UInt32 DEFAULT 0 AFTER row_number;

ALTER TABLE import_summaries ADD COLUMN undo_of UInt64 DEFAULT 0 AFTER kind;

ALTER TABLE import_summaries ADD COLUMN undone_by UInt64 DEFAULT 0 AFTER finished_at;

ALTER TABLE import_summaries ADD COLUMN undone_at DateTime DEFAULT toDateTime(0) AFTER undone_by;
