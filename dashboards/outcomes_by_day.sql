-- Row outcomes by account over time: rows created, updated, unchanged and skipped per day
-- and kind.
--
-- The rows of undos are left out (dashboards/undos.sql has them). The day is the day the
-- import started; kind is the kind of record the import wrote
-- (prospects, organizations, deals or an object type's key).
--
-- Parameters: @account (an account's name; '' for every account), @since (imports started
-- then or later).
SELECT
    toDate(at) AS day,
    account,
    kind,
    count() AS total_rows,
    countIf(outcome = 'created') AS created_rows,
    countIf(outcome = 'updated') AS updated_rows,
    countIf(outcome = 'unchanged') AS unchanged_rows,
    countIf(outcome = 'skipped') AS skipped_rows
FROM row_outcomes FINAL
WHERE undo_of = 0
    AND (@account = '' OR account = @account)
    AND at >= @since
GROUP BY day, account, kind
ORDER BY day, account, kind
