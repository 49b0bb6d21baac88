-- The HTTP API (SPEC §11): tokens, original files, prospects by import.

-- An API token belongs to one account; only its SHA-256 is stored.
CREATE TABLE api_tokens (
    id         bigserial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id),
    hash       text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- When the retention setting removed the stored original file of an import.
ALTER TABLE imports ADD COLUMN file_pruned_at timestamptz;

-- The prospects an import touched, in prospect order, for keyset pages of prospects by import.
CREATE INDEX import_rows_prospect ON import_rows (import_id, prospect_id) WHERE prospect_id IS NOT NULL;

-- The skipped rows of an import, in row order, for its skipped-rows report.
CREATE INDEX import_rows_skipped ON import_rows (import_id, row_number) WHERE outcome = 'skipped';
