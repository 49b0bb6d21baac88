-- A batch's updated rows as one row of arrays (issue 15), as migration 0021 did for its created
-- rows. A re-import updates most of its rows, each an outcome with nothing more to say than
-- its record and what the update overwrote (undo). Stored one per row, a million of them were a
-- row each of import_outcome_rows, with its primary key and entity index: 351 MB of WAL. As
-- 201 rows of arrays, 42 MB (docs/architecture.md). Only store.RecordOutcomes and
-- store.DeleteOutcomes write them; the reads that take a few outcomes of a large import at a
-- time read them beside the created runs, bounded the same way.

-- One batch's updated rows with nothing more to say but their undo, of records within a
-- stretch of ids about as long as the run, 1,000 records at least (store.runTable.newRun):
-- their row numbers, rising, their records, and what each kept for an undo (import_rows.undo:
-- NULL when nothing). Bounds as import_created_runs'. Unlike a created
-- record, an updated one may be named by several rows (the file names it twice), in one run or
-- in two: entity_count is how many distinct records a run names, which the pages of the
-- records an import touched count on (store.runTable.coveringAfter). The undos are compressed
-- with lz4, which costs little CPU; the number arrays are stored uncompressed (EXTERNAL).
CREATE TABLE import_updated_runs (
    import_id    bigint NOT NULL,
    first_row    int NOT NULL,
    last_row     int NOT NULL,
    first_entity bigint NOT NULL,
    last_entity  bigint NOT NULL,
    row_count    int NOT NULL,
    entity_count int NOT NULL,
    row_numbers  int[] NOT NULL,
    entity_ids   bigint[] NOT NULL,
    undos        json[] NOT NULL,
    PRIMARY KEY (import_id, first_row),
    CHECK (first_row <= last_row AND first_entity <= last_entity AND row_count > 0
        AND entity_count > 0 AND entity_count <= row_count
        AND cardinality(row_numbers) = row_count AND cardinality(entity_ids) = row_count
        AND cardinality(undos) = row_count)
);
ALTER TABLE import_updated_runs ALTER COLUMN row_numbers SET STORAGE EXTERNAL,
    ALTER COLUMN entity_ids SET STORAGE EXTERNAL, ALTER COLUMN undos SET COMPRESSION lz4;
-- The runs of an import in entity order, for the pages of the records it touched.
CREATE INDEX import_updated_runs_entity ON import_updated_runs (import_id, first_entity) INCLUDE (last_entity, entity_count);

CREATE OR REPLACE VIEW import_rows AS
    SELECT import_id, row_number, outcome, reason, detail, entity_id, warnings, cells, undo, source_row
    FROM import_outcome_rows
    UNION ALL
    SELECT r.import_id, u.row_number, 'created'::text, NULL::text, NULL::text, u.entity_id,
        NULL::jsonb, NULL::text[], NULL::json, NULL::int
    FROM import_created_runs r, unnest(r.row_numbers, r.entity_ids) AS u(row_number, entity_id)
    UNION ALL
    SELECT r.import_id, u.row_number, 'updated'::text, NULL::text, NULL::text, u.entity_id,
        NULL::jsonb, NULL::text[], u.undo, NULL::int
    FROM import_updated_runs r, unnest(r.row_numbers, r.entity_ids, r.undos) AS u(row_number, entity_id, undo);
