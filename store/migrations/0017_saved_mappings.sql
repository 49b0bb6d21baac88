-- Saved mappings (issue 14): a named set of import options (the mapping, unique identifier,
-- list, tags, policies…) of one kind in one account, with the columns of the file it was saved
-- from. Every door names one with the option saved_mapping; the importer resolves it into the
-- import's own options, which imports.options records (docs/mappings.md). A new table: no
-- existing data moves.
CREATE TABLE saved_mappings (
    account_id bigint NOT NULL REFERENCES accounts (id),
    -- kind: the kind of the imports it serves ('prospects', an object type's key, ...).
    kind       text NOT NULL,
    name       text NOT NULL,
    -- columns: the header of the file it was saved from, which previews compare with theirs.
    columns    text[] NOT NULL DEFAULT '{}',
    options    jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, kind, name)
);
