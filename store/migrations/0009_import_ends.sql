-- Every cancelled import ends, with its `cancelled` event, whoever held it (store.EndAbandonedCancels).
-- A running import that is cancelled ends when its holder lets go; a holder that died never
-- does, so the workers' sweep ends the cancelled imports whose lease lapsed. This index keeps
-- that sweep to the few imports awaiting their end.
CREATE INDEX imports_cancelling ON imports (id) WHERE status = 'cancelled' AND finished_at IS NULL;

-- Imports left cancelled without an end by a holder that died before this release: clearing
-- the lease fires the `cancelled` event (0003_outbox.sql).
UPDATE imports SET finished_at = now(), lease_owner = NULL, lease_expires_at = NULL
    WHERE status = 'cancelled' AND finished_at IS NULL
        AND (lease_expires_at IS NULL OR lease_expires_at < now());
