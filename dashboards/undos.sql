-- Undos by day: the undos that ended, per day, account and kind, and what they took back:
-- records deleted, restored and kept because they changed since the import, and fields kept.
--
-- An undo takes an import back (leadpipe imports undo). undos counts those that ended that day
-- (the day of finished_at), completed_undos those that completed (their import is now undone);
-- rows is the import rows they took back; deleted, restored and kept_changed_since count those
-- rows by outcome, unchanged the rows with nothing to take back, and fields_kept the fields
-- left as they were because they changed after the import. A failed or cancelled undo counts
-- what it took back before it stopped.
--
-- Parameters: @account (an account's name; '' for every account), @since (undos queued then or
-- later).
SELECT
    toDate(finished_at) AS day,
    account,
    kind,
    count() AS undos,
    countIf(status = 'completed') AS completed_undos,
    sum(rows_done) AS rows,
    sum(counters.value[indexOf(counters.name, 'deleted')]) AS deleted,
    sum(counters.value[indexOf(counters.name, 'restored')]) AS restored,
    sum(counters.value[indexOf(counters.name, 'kept_changed_since')]) AS kept_changed_since,
    sum(unchanged) AS unchanged,
    sum(counters.value[indexOf(counters.name, 'fields_kept')]) AS fields_kept
FROM import_summaries FINAL
WHERE undo_of != 0
    AND (@account = '' OR account = @account)
    AND created_at >= @since
GROUP BY day, account, kind
ORDER BY day, account, kind
