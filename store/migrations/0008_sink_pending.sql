-- Pending deliveries: a row per sink and import that has row outcomes or events committed past
-- the sink's cursor, so that a relay's poll reads what is undelivered instead of every import
-- ever stored. Triggers write them, so that no code path can forget to; a relay deletes one
-- once its cursor covers what was committed. Why this cannot lose a commit: docs/architecture.md,
-- "Pending deliveries".

-- The sinks relays deliver to, each registered by its relay's first poll (sink_register).
CREATE TABLE sinks (
    name          text PRIMARY KEY,
    registered_at timestamptz NOT NULL DEFAULT now()
);

-- row_number and event_seq are the import's checkpoint_row and event_seq as last committed:
-- the row is done with once the sink's cursor reaches both.
CREATE TABLE sink_pending (
    sink       text NOT NULL,
    import_id  bigint NOT NULL,
    row_number int NOT NULL,
    event_seq  int NOT NULL,
    PRIMARY KEY (sink, import_id)
);

-- Marks an import pending for every registered sink, up to its committed checkpoint and event.
-- The shared lock (key 7261530919) is held to the end of the writing transaction, so that
-- sink_register, which takes it exclusively, waits for every transaction that has read the
-- sinks without seeing a new one, and then sees what they committed.
CREATE FUNCTION imports_pending() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(7261530919);
    INSERT INTO sink_pending AS p (sink, import_id, row_number, event_seq)
        SELECT name, NEW.id, NEW.checkpoint_row, NEW.event_seq FROM sinks
        ON CONFLICT (sink, import_id) DO UPDATE SET
            row_number = greatest(p.row_number, excluded.row_number),
            event_seq = greatest(p.event_seq, excluded.event_seq);
    RETURN NULL;
END $$;

CREATE TRIGGER imports_pending_insert AFTER INSERT ON imports
    FOR EACH ROW EXECUTE FUNCTION imports_pending();
CREATE TRIGGER imports_pending_update AFTER UPDATE ON imports
    FOR EACH ROW WHEN (NEW.checkpoint_row <> OLD.checkpoint_row OR NEW.event_seq <> OLD.event_seq)
    EXECUTE FUNCTION imports_pending();

-- A cursor deleted or moved back (to deliver an import again) makes the import pending again.
CREATE FUNCTION sink_cursors_reset() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sink_pending AS p (sink, import_id, row_number, event_seq)
        SELECT OLD.sink, i.id, i.checkpoint_row, i.event_seq FROM imports i WHERE i.id = OLD.import_id
        ON CONFLICT (sink, import_id) DO UPDATE SET
            row_number = greatest(p.row_number, excluded.row_number),
            event_seq = greatest(p.event_seq, excluded.event_seq);
    RETURN NULL;
END $$;

CREATE TRIGGER sink_cursors_delete AFTER DELETE ON sink_cursors
    FOR EACH ROW EXECUTE FUNCTION sink_cursors_reset();
CREATE TRIGGER sink_cursors_back AFTER UPDATE ON sink_cursors
    FOR EACH ROW WHEN (NEW.row_number < OLD.row_number OR NEW.event_seq < OLD.event_seq)
    EXECUTE FUNCTION sink_cursors_reset();

-- Registers a sink, once: marks pending every import with outcomes or events past the sink's
-- cursors (all of them for a new sink, which starts at the beginning). The exclusive lock waits
-- for the transactions that marked imports pending without knowing this sink; the backfill, a
-- later statement, sees what they committed, and later ones see the sink.
CREATE FUNCTION sink_register(sink_name text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM sinks WHERE name = sink_name) THEN
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock(7261530919);
    INSERT INTO sinks (name) VALUES (sink_name) ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    INSERT INTO sink_pending AS p (sink, import_id, row_number, event_seq)
        SELECT sink_name, i.id, i.checkpoint_row, i.event_seq
        FROM imports i LEFT JOIN sink_cursors c ON c.sink = sink_name AND c.import_id = i.id
        WHERE i.checkpoint_row > coalesce(c.row_number, 0) OR i.event_seq > coalesce(c.event_seq, 0)
        ON CONFLICT (sink, import_id) DO UPDATE SET
            row_number = greatest(p.row_number, excluded.row_number),
            event_seq = greatest(p.event_seq, excluded.event_seq);
END $$;

-- The sinks that delivered before this migration, with what they have not delivered yet.
-- Creating the triggers above waited for every transaction writing imports or sink_cursors to
-- end and holds off new ones until this migration commits, so the backfill sees every commit
-- that the triggers did not.
SELECT sink_register(sink) FROM (SELECT DISTINCT sink FROM sink_cursors) s;
