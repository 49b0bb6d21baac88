-- The per-account lookup indexes (store.EnsureLookupIndexes, named prospects_a<account>_by_<field>)
-- now hold only the prospects that have their value, so that no other lookup of the account can
-- read them whole. The ones built before are dropped here; the next import of each account that
-- matches by that identifier or by name builds its index again, with the new condition, before
-- it starts. Only indexes go: no row changes.
DO $$
DECLARE
    name text;
BEGIN
    FOR name IN SELECT indexname FROM pg_indexes
        WHERE schemaname = current_schema() AND tablename = 'prospects' AND indexname ~ '^prospects_a[0-9]+_by_'
    LOOP
        EXECUTE format('DROP INDEX %I', name);
    END LOOP;
END $$;
