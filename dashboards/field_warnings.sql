-- Field warnings by kind: fields not imported, per account and warning kind, most first.
--
-- A field warning (invalid_boolean, invalid_picklist_value, invalid_date, invalid_number,
-- value_too_long, owner_not_found, invalid_email) means one field of an imported row was left
-- out (SPEC §4, §9). Counted over finished imports.
--
-- Parameters: @account (an account's name; '' for every account), @since (imports queued
-- then or later).
SELECT
    account,
    name AS warning,
    sum(count) AS warnings,
    uniqExact(import_id) AS imports
FROM import_counts FINAL
WHERE kind = 'warning'
    AND (@account = '' OR account = @account)
    AND created_at >= @since
GROUP BY account, warning
ORDER BY account, warnings DESC, warning
