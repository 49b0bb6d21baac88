-- The imports of one request run in order (issue 11, "one workbook, several kinds"): each sheet
-- of a workbook is an import of its own, grouped under the request by request_id (the id of its
-- first import) and ordered by request_step. A worker claims an import only once every import of
-- its request with a lower step has ended (store.ClaimImport); imports of one step may run
-- together. Imports made before, and imports of one file, have neither (NULL).
ALTER TABLE imports ADD COLUMN request_id bigint, ADD COLUMN request_step int,
    ADD CONSTRAINT imports_request_step CHECK ((request_id IS NULL) = (request_step IS NULL));

CREATE INDEX imports_request ON imports (request_id, request_step) WHERE request_id IS NOT NULL;

-- When an import of a request ends without completing (failed, or cancelled), the imports of
-- its request with a higher step that have not started end cancelled, with the reason: they
-- depend on what it was to write (a deal sheet links to the prospects and organizations of the
-- sheets before it). Each ending fires its `cancelled` event (0003_outbox.sql).
CREATE FUNCTION imports_request_end() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE imports SET status = 'cancelled', finished_at = now(), lease_owner = NULL, lease_expires_at = NULL,
            error = format('not run: sheet %s of the workbook (import %s) ended %s before it',
                coalesce(NEW.options->>'sheet', '?'), NEW.id, NEW.status)
        WHERE request_id = NEW.request_id AND request_step > NEW.request_step AND finished_at IS NULL;
    RETURN NULL;
END $$;

CREATE TRIGGER imports_request_end AFTER UPDATE OF finished_at ON imports
    FOR EACH ROW WHEN (NEW.request_id IS NOT NULL AND NEW.finished_at IS NOT NULL AND OLD.finished_at IS NULL
        AND NEW.status <> 'completed')
    EXECUTE FUNCTION imports_request_end();
