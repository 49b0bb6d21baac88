-- The outbox (DESIGN): sinks (Kafka, ClickHouse) deliver row outcomes and import lifecycle
-- events from what Postgres committed, and record how far they got, so that a crash or an
-- outage of a sink loses nothing and a replay repeats the same keys.

-- One row per change of an import's lifecycle, written by a trigger in the transaction that
-- made the change: queued, started, progress (a batch committed), completed, failed, cancelled.
-- seq numbers an import's events in commit order (the import row's lock serialises them).
CREATE TABLE import_events (
    import_id  bigint NOT NULL,
    seq        int NOT NULL,
    kind       text NOT NULL,
    at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- The import's state as the event left it.
    status     text NOT NULL,
    rows_done  int NOT NULL,
    rows_total int,
    created    int NOT NULL,
    updated    int NOT NULL,
    unchanged  int NOT NULL,
    skipped    int NOT NULL,
    error      text,
    PRIMARY KEY (import_id, seq)
);

ALTER TABLE imports ADD COLUMN event_seq int NOT NULL DEFAULT 0;

CREATE FUNCTION imports_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    k text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        k := CASE NEW.status WHEN 'running' THEN 'started' ELSE NEW.status END;
    ELSIF NEW.status IS DISTINCT FROM OLD.status OR NEW.lease_owner IS DISTINCT FROM OLD.lease_owner THEN
        k := CASE NEW.status WHEN 'running' THEN 'started' ELSE NEW.status END;
        -- A cancel requested while running ends when the worker lets go.
        IF NEW.status = 'cancelled' AND NEW.finished_at IS NULL THEN
            RETURN NEW;
        END IF;
    ELSIF NEW.checkpoint_row IS DISTINCT FROM OLD.checkpoint_row THEN
        k := 'progress';
    ELSE
        RETURN NEW;
    END IF;
    NEW.event_seq := NEW.event_seq + 1;
    INSERT INTO import_events (import_id, seq, kind, status, rows_done, rows_total, created, updated,
            unchanged, skipped, error)
        VALUES (NEW.id, NEW.event_seq, k, NEW.status, NEW.rows_done, NEW.rows_total, NEW.created, NEW.updated,
            NEW.unchanged, NEW.skipped, NEW.error);
    RETURN NEW;
END $$;

CREATE TRIGGER imports_event BEFORE INSERT OR UPDATE ON imports
    FOR EACH ROW EXECUTE FUNCTION imports_event();

-- How far each sink has delivered each import: its row outcomes up to row_number and its
-- events up to event_seq.
CREATE TABLE sink_cursors (
    sink       text NOT NULL,
    import_id  bigint NOT NULL,
    row_number int NOT NULL DEFAULT 0,
    event_seq  int NOT NULL DEFAULT 0,
    PRIMARY KEY (sink, import_id)
);
