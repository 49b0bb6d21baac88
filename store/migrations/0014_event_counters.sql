-- An import event records the import's named counters as the event left them (issue 11: the
-- Kafka events of every kind carry them), like its other counts, so that a replayed event says
-- what the first copy said. Events recorded before keep no counters ('{}'), except each
-- import's latest, whose counters are the import's own: every change of them moves the
-- checkpoint and so records an event.

ALTER TABLE import_events ADD COLUMN counters jsonb NOT NULL DEFAULT '{}';

UPDATE import_events e SET counters = i.counters FROM imports i WHERE i.id = e.import_id AND e.seq = i.event_seq;

CREATE OR REPLACE FUNCTION imports_event() RETURNS trigger LANGUAGE plpgsql AS $$
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
            unchanged, skipped, counters, error)
        VALUES (NEW.id, NEW.event_seq, k, NEW.status, NEW.rows_done, NEW.rows_total, NEW.created, NEW.updated,
            NEW.unchanged, NEW.skipped, NEW.counters, NEW.error);
    RETURN NEW;
END $$;
