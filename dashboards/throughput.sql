-- Import throughput: rows imported per second of import run time, per day and kind.
--
-- Over completed imports (undone since included; undos themselves not), by the day they
-- finished: rows_per_sec is the day's rows over the
-- day's run time (time queued not counted), fastest_rows_per_sec the best single import.
-- kind is the kind of record the import wrote (prospects, organizations, deals or an object
-- type's key).
--
-- Parameters: @account (an account's name; '' for every account), @since (imports finished
-- then or later).
SELECT
    toDate(finished_at) AS day,
    kind,
    count() AS imports,
    sum(rows_done) AS total_rows,
    round(sum(run_ms) / 1000, 1) AS run_seconds,
    toUInt64(sum(rows_done) * 1000 / greatest(sum(run_ms), 1)) AS rows_per_sec,
    max(rows_per_second) AS fastest_rows_per_sec
FROM import_summaries FINAL
WHERE status IN ('completed', 'undone') AND undo_of = 0
    AND (@account = '' OR account = @account)
    AND finished_at >= @since
GROUP BY day, kind
ORDER BY day, kind
