-- Sessions of the web page (issue 14): a person signs in with an API token of an account and
-- gets a cookie; the page's requests then carry the cookie instead of the token.
--
-- Only the SHA-256 of the cookie's value is stored, as for tokens. A session is made from one
-- API token and ends with it: deleting the token deletes its sessions. It also ends at
-- expires_at (session_ttl after sign-in): an expired session is deleted when it is presented
-- and when anyone signs in. csrf_token is kept as issued: the page reads it back (GET
-- /v1/session) to send with every state-changing request, and it is worth nothing without the
-- cookie.
CREATE TABLE sessions (
    id         bigserial PRIMARY KEY,
    hash       text NOT NULL UNIQUE,
    account_id bigint NOT NULL REFERENCES accounts (id),
    token_id   bigint NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
    csrf_token text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);

CREATE INDEX sessions_token ON sessions (token_id);
CREATE INDEX sessions_expires ON sessions (expires_at);
