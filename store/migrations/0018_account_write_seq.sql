-- accounts.write_seq counts the batches written into an account's records. Every writer of an
-- account's records (the batches of imports of every kind, and of undos) takes the account
-- row's lock to write, and the statement that takes it also adds one (store.ProspectRoom,
-- store.LockAccount), so no writer of this version can forget it; an older binary's batches
-- count nothing, so older daemons and commands must stop before this version runs (docs/operations.md). An import that read records ahead of a
-- batch's turn, on another connection (pipeline.Preparer), compares the count it read with
-- the count under the lock: when only its own batches wrote since, what it read still holds
-- once its own writes are laid over it; otherwise it reads again.
ALTER TABLE accounts ADD COLUMN write_seq bigint NOT NULL DEFAULT 0;
