-- Owner-not-found rate: imported rows whose Lead Owner is no user of the account, per day and
-- kind.
--
-- Of the rows imported (created, updated or unchanged) per day and account, how many carried the
-- field warning owner_not_found (SPEC §9: the owner is then left unchanged). A high rate means
-- the account's users are missing or the file names owners differently. kind is the kind of
-- record the import wrote (prospects, organizations, deals or an object type's key); a kind
-- without an owner field has none.
--
-- Parameters: @account (an account's name; '' for every account), @since (imports started
-- then or later).
SELECT
    toDate(at) AS day,
    account,
    kind,
    countIf(outcome != 'skipped') AS imported_rows,
    countIf(outcome != 'skipped' AND has(splitByChar(',', warnings), 'owner_not_found')) AS owner_not_found_rows,
    round(100 * owner_not_found_rows / greatest(imported_rows, 1), 2) AS owner_not_found_pct
FROM row_outcomes FINAL
WHERE (@account = '' OR account = @account)
    AND at >= @since
GROUP BY day, account, kind
ORDER BY day, account, kind
