-- Imports by status: finished imports per account, kind and status, with their rows and
-- times.
--
-- Status is completed, failed, cancelled or undone: analytics record an import when it ends.
-- Undos are not imports and are left out (dashboards/undos.sql has them). Imports
-- still queued or running are in `leadpipe imports list` and the metric leadpipe_imports.
-- kind is the kind of record the import wrote (prospects, organizations, deals or an object
-- type's key).
--
-- Parameters: @account (an account's name; '' for every account), @since (imports queued
-- then or later).
SELECT
    account,
    kind,
    status,
    count() AS imports,
    sum(rows_done) AS total_rows,
    sum(skipped) AS skipped_rows,
    round(avg(queued_ms) / 1000, 1) AS avg_queued_seconds,
    round(avg(run_ms) / 1000, 1) AS avg_run_seconds
FROM import_summaries FINAL
WHERE undo_of = 0
    AND (@account = '' OR account = @account)
    AND created_at >= @since
GROUP BY account, kind, status
ORDER BY account, kind, status
