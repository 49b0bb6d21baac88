-- Slowest imports: the twenty finished imports that ran longest, with their rows per second.
--
-- run_seconds counts from start to end; queued_seconds is the wait before a worker took the
-- import. kind is the kind of record the import wrote (prospects, organizations, deals or an
-- object type's key).
--
-- Parameters: @account (an account's name; '' for every account), @since (imports queued
-- then or later).
SELECT
    import_id,
    account,
    kind,
    source,
    file_name,
    status,
    rows_done,
    round(queued_ms / 1000, 1) AS queued_seconds,
    round(run_ms / 1000, 1) AS run_seconds,
    rows_per_second,
    finished_at
FROM import_summaries FINAL
WHERE (@account = '' OR account = @account)
    AND created_at >= @since
ORDER BY run_ms DESC, import_id DESC
LIMIT 20
