-- Undoing an import (issue 13). An undo is a job like an import: a row of `imports` with undo_of
-- set to the import it takes back, of that import's kind and account, claimed, leased,
-- checkpointed, cancelled and delivered to the sinks as every import is. Its row outcomes are
-- rows of import_rows under its own id, numbered 1, 2, … in the order it takes the import's
-- rows back (last row first), each naming the import's row it took back in source_row.
--
-- To take an updated row back, the import keeps what it overwrote: import_rows.undo holds, for
-- a row that changed a record, each changed field's value before the row and the value it
-- wrote, and the record's updated_at before the row; for a row that created other records as a
-- side effect (an organization a prospect links to), which ones. NULL for every other row, so a
-- fresh import pays nothing for it. Its JSON form is pipeline.Undo's. It is json, kept as
-- written, not jsonb: only leadpipe reads it back, whole, and inserting a million rows of it
-- took 1.7–1.9 s as json against 2.5–2.7 s as jsonb (0.7 s without the column).

ALTER TABLE import_rows ADD COLUMN undo json, ADD COLUMN source_row int;

ALTER TABLE imports DROP CONSTRAINT imports_status_check,
    ADD CONSTRAINT imports_status_check
        CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled', 'undone')),
    -- On an undo: the import it takes back.
    ADD COLUMN undo_of bigint,
    -- On an undone import: its undo, and when that completed.
    ADD COLUMN undone_by bigint,
    ADD COLUMN undone_at timestamptz;

-- An import has at most one undo that is queued, running or completed: undoing it again, or
-- while an undo of it is on its way, is refused (store.CreateUndo). A failed or cancelled undo
-- leaves the import as it stood, and may be followed by another.
CREATE UNIQUE INDEX imports_undo_of ON imports (undo_of) WHERE undo_of IS NOT NULL
    AND status IN ('queued', 'running', 'completed');

-- The grouping (list, tag, campaign) an import created on first use names the import; undoing
-- the import removes it once it has no members left.
ALTER TABLE groupings ADD COLUMN import_id bigint;

-- An undo that completes marks its import `undone`, with who and when, in its own transaction:
-- no code path can complete an undo and forget it. The import's status change records its
-- `undone` event (imports_event). The lists, tags and campaigns the import created and that
-- have no members left go too.
CREATE FUNCTION imports_undone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE imports SET status = 'undone', undone_by = NEW.id, undone_at = NEW.finished_at
        WHERE id = NEW.undo_of;
    DELETE FROM groupings g WHERE g.import_id = NEW.undo_of
        AND NOT EXISTS (SELECT FROM grouping_members m WHERE m.grouping_id = g.id);
    RETURN NULL;
END $$;

CREATE TRIGGER imports_undone AFTER UPDATE OF status ON imports
    FOR EACH ROW WHEN (NEW.undo_of IS NOT NULL AND NEW.status = 'completed' AND OLD.status <> 'completed')
    EXECUTE FUNCTION imports_undone();
