-- A batch's created rows as one row of arrays (issue 15). Most rows of a fresh import are
-- created rows with nothing more to say: no reason, detail, warning, cells, undo or source
-- row. Stored one per row, with their primary key and the (import_id, entity_id) index, a
-- million of them cost Postgres 3.9–4.4 CPU-s; stored as 200 rows of arrays, 0.2 CPU-s
-- (docs/architecture.md). So such rows of a batch are now one row of import_created_runs, and
-- every other row is a row of import_outcome_rows, as all of them were of import_rows.
--
-- import_rows is now a view over both, with the columns it had: everything that reads an
-- import's outcomes reads it, and the paths that read a few outcomes of a large import at a
-- time — the relays (store.RowOutcomes), an undo (store.UndoRows, and its count in
-- store.CreateUndo) and the pages of the records it touched (store.TouchedRecords,
-- store.ListProspects) — read the two tables themselves, bounded by the runs' first and last
-- row and entity. Only store.RecordOutcomes and store.DeleteOutcomes write them. The view takes
-- no writes: older binaries, which write import_rows, must stop before this version runs
-- (docs/operations.md).

ALTER TABLE import_rows RENAME TO import_outcome_rows;
ALTER INDEX import_rows_pkey RENAME TO import_outcome_rows_pkey;
ALTER INDEX import_rows_entity RENAME TO import_outcome_rows_entity;
ALTER INDEX import_rows_skipped RENAME TO import_outcome_rows_skipped;

-- One batch's created rows with nothing more to say (32 at least: store.minRunRows): their
-- row numbers, rising, and the records they created, in the same order; row_count of each.
-- first_row..last_row and first_entity..last_entity bound them (the least and greatest), so
-- that a read of some rows or some records takes only the runs it needs, counting their rows
-- without reading the arrays. A batch's rows and the ids it creates come after its
-- predecessor's, so an import's runs lie apart by rows and hardly overlap by ids. The arrays
-- are stored uncompressed (EXTERNAL): pglz gains little on rising numbers and costs CPU on
-- every batch.
CREATE TABLE import_created_runs (
    import_id    bigint NOT NULL,
    first_row    int NOT NULL,
    last_row     int NOT NULL,
    first_entity bigint NOT NULL,
    last_entity  bigint NOT NULL,
    row_count    int NOT NULL,
    row_numbers  int[] NOT NULL,
    entity_ids   bigint[] NOT NULL,
    PRIMARY KEY (import_id, first_row),
    CHECK (first_row <= last_row AND first_entity <= last_entity
        AND row_count > 0 AND cardinality(row_numbers) = row_count AND cardinality(entity_ids) = row_count)
);
ALTER TABLE import_created_runs ALTER COLUMN row_numbers SET STORAGE EXTERNAL,
    ALTER COLUMN entity_ids SET STORAGE EXTERNAL;
-- The runs of an import in entity order, for the pages of the records it touched.
CREATE INDEX import_created_runs_entity ON import_created_runs (import_id, first_entity) INCLUDE (last_entity, row_count);

CREATE VIEW import_rows AS
    SELECT import_id, row_number, outcome, reason, detail, entity_id, warnings, cells, undo, source_row
    FROM import_outcome_rows
    UNION ALL
    SELECT r.import_id, u.row_number, 'created'::text, NULL::text, NULL::text, u.entity_id,
        NULL::jsonb, NULL::text[], NULL::json, NULL::int
    FROM import_created_runs r, unnest(r.row_numbers, r.entity_ids) AS u(row_number, entity_id);
