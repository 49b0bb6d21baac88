-- Storage knows the kind of record an import writes (issue 11). A row's outcome names the
-- entity it created or matched, whatever its kind; an import's totals that belong to its kind
-- (a prospects import's organizations created and linked) are named counters; a custom field
-- belongs to an entity. Existing data moves: outcome rows keep their prospect ids, imports their
-- organization counts (zeros included), fields become prospect fields.

ALTER TABLE import_rows RENAME COLUMN prospect_id TO entity_id;
ALTER INDEX import_rows_prospect RENAME TO import_rows_entity;

-- counters: {"name": n, ...}, open-ended; a kind reports its counters from the start, at 0.
ALTER TABLE imports ADD COLUMN counters jsonb NOT NULL DEFAULT '{}';
UPDATE imports SET counters = jsonb_build_object('organizations_created', organizations_created,
    'organizations_linked', organizations_linked);
ALTER TABLE imports DROP COLUMN organizations_created, DROP COLUMN organizations_linked;

-- entity: the kind whose records carry the field ('prospects', ...).
ALTER TABLE fields ADD COLUMN entity text NOT NULL DEFAULT 'prospects';
ALTER TABLE fields DROP CONSTRAINT fields_pkey, ADD PRIMARY KEY (account_id, entity, key);
