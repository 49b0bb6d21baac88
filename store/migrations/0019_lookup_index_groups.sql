-- Lookup indexes by group of accounts (store.EnsureLookupIndexes). A per-account partial index
-- (prospects_a<account>_by_<field>) costs every insert and non-heap-only update of every
-- account a check of its predicate, about 25 ns per index: with a hundred accounts matching by
-- an identifier, 2.5 µs a row for all the others. One index now serves up to 100 accounts of a
-- lookup (its predicate lists them: `account_id IN (…)`), a third of that cost. This table
-- records the groups: each (table, lookup, group) has one index, of the accounts listed.
-- (A group's capacity is its own: the tests' groups of one, LookupIndexGroupSize 1, are never
-- joined by a daemon's account in a shared test database.)
CREATE TABLE lookup_indexes (
    table_name  text     NOT NULL,
    lookup      text     NOT NULL, -- by_<field key> or name
    grp         int      NOT NULL,
    index_name  text     NOT NULL,
    account_ids bigint[] NOT NULL,
    capacity    int      NOT NULL, -- the most accounts the group takes, fixed when it is made
    PRIMARY KEY (table_name, lookup, grp)
);
-- Group numbers are never reused, so neither are index names (which carry them): a name
-- dropped is never the name of an index another session is building.
CREATE SEQUENCE lookup_index_groups;

-- The per-account indexes built before go; the next import of each account that needs one
-- joins a group, whose index it builds before it starts. Only indexes go: no row changes.
DO $$
DECLARE
    name text;
BEGIN
    FOR name IN SELECT indexname FROM pg_indexes
        WHERE schemaname = current_schema() AND tablename IN ('prospects', 'organizations', 'deals')
          AND indexname ~ '^(prospects|organizations|deals)_a[0-9]+_by_'
    LOOP
        EXECUTE format('DROP INDEX %I', name);
    END LOOP;
END $$;
