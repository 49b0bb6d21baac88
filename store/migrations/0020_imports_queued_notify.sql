-- Each import queued — created, or put back in the queue by a worker that stopped — notifies
-- channel leadpipe_imports_queued when its transaction commits, so that the idle workers of
-- every daemon on the database claim it at once (store.ListenQueued) instead of at their next
-- poll (poll_interval, 1 s by default: half a second of waiting per upload on average). A
-- trigger sends it, so that no path that queues an import can forget to; polling stays for
-- leases that lapse, which nothing notifies.
CREATE FUNCTION imports_queued() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('leadpipe_imports_queued', '');
    RETURN NULL;
END $$;

CREATE TRIGGER imports_queued AFTER INSERT OR UPDATE OF status ON imports
    FOR EACH ROW WHEN (NEW.status = 'queued') EXECUTE FUNCTION imports_queued();
