-- Top failing sources: the files whose imports failed or skipped the most rows, worst first.
--
-- One line per account, source (upload, watch, kafka, cli), file name and kind, for the twenty
-- files with the most failed imports, then the most skipped rows. kind is the kind of record
-- the import wrote (prospects, organizations, deals or an object type's key).
--
-- Parameters: @account (an account's name; '' for every account), @since (imports queued
-- then or later).
SELECT
    account,
    source,
    file_name,
    kind,
    count() AS imports,
    countIf(status = 'failed') AS failed_imports,
    sum(rows_done) AS total_rows,
    sum(skipped) AS skipped_rows,
    round(100 * sum(skipped) / greatest(sum(rows_done), 1), 1) AS skipped_pct
FROM import_summaries FINAL
WHERE (@account = '' OR account = @account)
    AND created_at >= @since
GROUP BY account, source, file_name, kind
HAVING failed_imports > 0 OR skipped_rows > 0
ORDER BY failed_imports DESC, skipped_rows DESC, account, source, file_name, kind
LIMIT 20
