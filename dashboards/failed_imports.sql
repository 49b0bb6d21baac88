-- Failed imports: the fifty most recent imports that failed, and why.
--
-- kind is the kind of record the import wrote (prospects, organizations, deals or an object
-- type's key).
--
-- Parameters: @account (an account's name; '' for every account), @since (imports queued
-- then or later).
SELECT
    finished_at,
    import_id,
    account,
    kind,
    source,
    file_name,
    rows_done,
    error
FROM import_summaries FINAL
WHERE status = 'failed'
    AND (@account = '' OR account = @account)
    AND created_at >= @since
ORDER BY finished_at DESC, import_id DESC
LIMIT 50
