-- leadpipe schema: SPEC §1. Every tenant-owned row carries account_id and every query filters
-- by it; nothing crosses accounts.
--
-- The three tables an import writes a row to per CSV row (prospects, import_rows,
-- grouping_members) carry no foreign keys: Postgres checks a foreign key with a trigger per
-- inserted row that also locks the parent row, and on a 1M-row import that cost more than the
-- COPY itself (measured: 35% of the import's time). The import pipeline is their only writer and
-- only writes ids it has just read or allocated within the account's transaction.
--
-- Lookup indexes lead with the looked-up value, not account_id: while an import grows an
-- account the planner's statistics lag behind, and an (account_id, value) index then gets
-- scanned for the whole account with the value as a filter.

CREATE TABLE accounts (
    id             bigserial PRIMARY KEY,
    name           text NOT NULL UNIQUE,
    prospect_limit bigint CHECK (prospect_limit IS NULL OR prospect_limit >= 0),
    -- prospect_count is kept in step with the account's prospects by the import that creates
    -- them, under this row's lock, so concurrent imports never overshoot prospect_limit.
    prospect_count bigint NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id         bigserial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id),
    username   text NOT NULL,
    email      text NOT NULL,
    full_name  text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_username ON users (account_id, lower(username));

-- Custom prospect fields; the standard fields are defined in code (kinds/prospects).
CREATE TABLE fields (
    account_id bigint NOT NULL REFERENCES accounts (id),
    key        text NOT NULL,
    label      text NOT NULL,
    type       text NOT NULL,
    max_length int NOT NULL DEFAULT 0,
    options    text[] NOT NULL DEFAULT '{}',
    aliases    text[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, key)
);

-- Prospect and organization ids come from *_id_blocks sequences that step by 1000: an import
-- takes a block of 1000 ids with one nextval (store.NextIDs) instead of one call per row.
CREATE SEQUENCE organization_id_blocks INCREMENT BY 1000;
CREATE SEQUENCE prospect_id_blocks INCREMENT BY 1000;

CREATE TABLE organizations (
    id         bigint PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id),
    name       text NOT NULL,
    name_key   text NOT NULL, -- crm.NormalizeOrgName(name)
    domain     text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX organizations_name ON organizations (name_key, account_id, id);
CREATE INDEX organizations_domain ON organizations (domain, account_id, id) WHERE domain IS NOT NULL;

CREATE TABLE prospects (
    id              bigint PRIMARY KEY,
    account_id      bigint NOT NULL,
    email           text,
    first_name      text,
    last_name       text,
    title           text,
    phone           text,
    mobile          text,
    website         text,
    street          text,
    city            text,
    state           text,
    postal_code     text,
    country         text,
    lead_source     text,
    lead_owner_id   bigint,
    email_opt_in    boolean,
    organization_id bigint,
    custom          jsonb NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX prospects_email ON prospects (lower(email), account_id) WHERE email IS NOT NULL;

-- Lists, tags and campaigns: named groupings, created on first use.
CREATE TABLE groupings (
    id         bigserial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id),
    kind       text NOT NULL CHECK (kind IN ('list', 'tag', 'campaign')),
    name       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX groupings_name ON groupings (account_id, kind, lower(name));

CREATE TABLE grouping_members (
    grouping_id bigint NOT NULL,
    prospect_id bigint NOT NULL,
    import_id   bigint,
    added_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (grouping_id, prospect_id)
);

CREATE TABLE imports (
    id                    bigserial PRIMARY KEY,
    account_id            bigint NOT NULL REFERENCES accounts (id),
    kind                  text NOT NULL DEFAULT 'prospects',
    source                text NOT NULL CHECK (source IN ('upload', 'watch', 'kafka', 'cli')),
    file_name             text NOT NULL,
    file_path             text NOT NULL,
    file_size             bigint NOT NULL,
    file_sha256           text NOT NULL,
    options               jsonb NOT NULL DEFAULT '{}',
    status                text NOT NULL DEFAULT 'queued'
                          CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
    error                 text,
    rows_total            int,
    rows_done             int NOT NULL DEFAULT 0,
    created               int NOT NULL DEFAULT 0,
    updated               int NOT NULL DEFAULT 0,
    unchanged             int NOT NULL DEFAULT 0,
    skipped               int NOT NULL DEFAULT 0,
    skipped_by_reason     jsonb NOT NULL DEFAULT '{}',
    warnings_by_kind      jsonb NOT NULL DEFAULT '{}',
    organizations_created int NOT NULL DEFAULT 0,
    organizations_linked  int NOT NULL DEFAULT 0,
    over_limit_warning    boolean NOT NULL DEFAULT false,
    header                text[],
    -- The checkpoint: the last row number committed and the decoded-input offset after it.
    checkpoint_row        int NOT NULL DEFAULT 0,
    checkpoint_offset     bigint NOT NULL DEFAULT 0,
    lease_owner           text,
    lease_expires_at      timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    started_at            timestamptz,
    finished_at           timestamptz
);
CREATE INDEX imports_claim ON imports (id) WHERE status IN ('queued', 'running');
CREATE INDEX imports_account ON imports (account_id, created_at DESC);

-- The outcome of every row of every import, committed with the batch that produced it. It is
-- the durable record later sinks publish from, the skipped-rows report (cells holds the
-- original cells of skipped rows) and the link between imports and the prospects they touched.
CREATE TABLE import_rows (
    import_id   bigint NOT NULL,
    row_number  int NOT NULL,
    outcome     text NOT NULL,
    reason      text,
    detail      text,
    prospect_id bigint,
    warnings    jsonb,
    cells       text[],
    PRIMARY KEY (import_id, row_number)
);
