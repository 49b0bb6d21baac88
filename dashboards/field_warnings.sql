-- Field warnings by kind: fields not imported, per account, kind of import and warning,
-- most first.
--
-- A field warning (invalid_boolean, invalid_picklist_value, invalid_date, invalid_number,
-- value_too_long, owner_not_found, invalid_email; prospect_not_found of deals and custom
-- objects; invalid_name and invalid_domain of organizations) means one field of an imported
-- row was left out (SPEC §4, §9). Counted over finished imports. import_kind is the kind of record the
-- import wrote (prospects, organizations, deals or an object type's key); it is not named kind,
-- which in import_counts tells skip reasons from warnings.
--
-- Parameters: @account (an account's name; '' for every account), @since (imports queued
-- then or later).
SELECT
    account,
    import_kind,
    name AS warning,
    sum(count) AS warnings,
    uniqExact(import_id) AS imports
FROM import_counts FINAL
WHERE kind = 'warning'
    AND (@account = '' OR account = @account)
    AND created_at >= @since
GROUP BY account, import_kind, warning
ORDER BY account, import_kind, warnings DESC, warning
