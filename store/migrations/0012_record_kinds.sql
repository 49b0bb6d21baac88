-- The record kinds besides prospects (issue 11): organizations become a full record kind,
-- deals and the records of custom object types get tables of their own. Each kind's table has
-- one column per standard field (kinds/organizations, kinds/deals, kinds/objects) and
-- its custom fields in a jsonb `custom`, like prospects, so that the store reads and writes
-- every kind the same way. Existing organizations keep their rows; their new columns are empty.
--
-- Like prospects, the per-row tables (deals, object_records) carry no foreign keys (see 0001):
-- the import pipeline is their only writer and only writes ids it has just read or allocated.

ALTER TABLE organizations
    ADD COLUMN website     text,
    ADD COLUMN phone       text,
    ADD COLUMN street      text,
    ADD COLUMN city        text,
    ADD COLUMN state       text,
    ADD COLUMN postal_code text,
    ADD COLUMN country     text,
    ADD COLUMN industry    text,
    ADD COLUMN custom      jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN updated_at  timestamptz;
-- An organization nobody has updated was last updated when it was created.
UPDATE organizations SET updated_at = created_at;
ALTER TABLE organizations ALTER COLUMN updated_at SET NOT NULL, ALTER COLUMN updated_at SET DEFAULT now();

CREATE SEQUENCE deal_id_blocks INCREMENT BY 1000;

CREATE TABLE deals (
    id              bigint PRIMARY KEY,
    account_id      bigint NOT NULL,
    name            text NOT NULL,
    name_key        text NOT NULL, -- crm.DealNameKey(name)
    amount          numeric,
    stage           text,
    close_date      date,
    owner_id        bigint,
    organization_id bigint,
    prospect_id     bigint,
    custom          jsonb NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
-- A deal matches by name within its organization (0: none). Value first, as every lookup
-- index (0001): the organization id, unique across accounts, narrows the name to one account.
CREATE INDEX deals_name ON deals (name_key, (coalesce(organization_id, 0)), account_id);

-- An account's deal stages, in order. An account without rows here has crm.DefaultDealStages.
CREATE TABLE deal_stages (
    account_id bigint NOT NULL REFERENCES accounts (id),
    position   int NOT NULL,
    name       text NOT NULL CHECK (btrim(name) <> ''),
    PRIMARY KEY (account_id, position)
);
CREATE UNIQUE INDEX deal_stages_name ON deal_stages (account_id, lower(name));

-- Custom object types. A type's fields are rows of `fields` whose entity is the type's key;
-- identifier is the key of the field whose value identifies a record. The label names the
-- type's sheet in a workbook, hence unique too.
CREATE TABLE object_types (
    id         bigserial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id),
    key        text NOT NULL,
    label      text NOT NULL,
    identifier text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, key)
);
CREATE UNIQUE INDEX object_types_label ON object_types (account_id, lower(label));

CREATE SEQUENCE object_record_id_blocks INCREMENT BY 1000;

-- The records of every object type, in one table: a type's fields are all the account's own,
-- so they live in `custom` (the name every kind's table uses for them), and one table serves
-- types created at any time without DDL. identifier_value repeats the identifying field's
-- canonical value (lowercased for an email field) so that it can be unique per type.
CREATE TABLE object_records (
    id               bigint PRIMARY KEY,
    account_id       bigint NOT NULL,
    object_type_id   bigint NOT NULL,
    identifier_value text NOT NULL,
    prospect_id      bigint,
    custom           jsonb NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (identifier_value, object_type_id)
);
