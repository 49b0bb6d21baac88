-- Skip reasons by account over time: skipped rows per day, account, kind and reason.
--
-- Which data problems hit which accounts, and when: a reason that jumps for one account points
-- at a new export or a changed template on their side. The day is the day the import started;
-- kind is the kind of record the import wrote (prospects, organizations, deals or an object
-- type's key).
--
-- Parameters: @account (an account's name; '' for every account), @since (imports started
-- then or later).
SELECT
    toDate(at) AS day,
    account,
    kind,
    reason,
    count() AS skipped_rows
FROM row_outcomes FINAL
WHERE outcome = 'skipped'
    AND (@account = '' OR account = @account)
    AND at >= @since
GROUP BY day, account, kind, reason
ORDER BY day, account, kind, skipped_rows DESC, reason
