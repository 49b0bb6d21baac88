-- Watched directories (docs/watch.md): the files daemons took from them, so that several
-- daemons watching one directory import each file once.

-- One row per file taken from a watched directory. A daemon claims a file by inserting its
-- row; an insert that meets an open claim of the same directory, name and content does nothing
-- and that daemon leaves the file alone. While a daemon works on a claim (moving the file,
-- queuing its import, moving it to processed/ or failed/) it holds the row locked, so a claim
-- whose daemon died is unlocked and another daemon takes it over.
CREATE TABLE watch_claims (
    -- Allocated with the claim: the file waits in the directory's .leadpipe/ folder under this
    -- number, and its import gets this id once queued.
    import_id   bigint PRIMARY KEY DEFAULT nextval('imports_id_seq'),
    dir         text NOT NULL,  -- the watched directory, absolute
    name        text NOT NULL,  -- the file's name in it
    sha256      text NOT NULL,  -- the content claimed
    size        bigint NOT NULL,
    owner       text NOT NULL,  -- the daemon that claimed it
    claimed_at  timestamptz NOT NULL DEFAULT now(),
    -- Once the file is out of the work folder: processed or failed, why it failed, and where
    -- it went (relative to dir; NULL when a daemon that died took that with it).
    result      text CHECK (result IN ('processed', 'failed')),
    error       text,
    moved_to    text,
    finished_at timestamptz
);

-- The claim key: one open claim per directory, name and content. A file dropped again after
-- its claim finished is a new drop, claimed anew.
CREATE UNIQUE INDEX watch_claims_open ON watch_claims (dir, name, sha256) WHERE finished_at IS NULL;
