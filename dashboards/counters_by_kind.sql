-- Counters by kind: the totals each kind of import names, per account, kind and counter.
--
-- A kind names counters of its own, reported from its first batch (a prospects import counts
-- organizations_created and organizations_linked). Summed over finished imports; imports is
-- how many of them reported the counter. Imports analysed before imports had kinds count as
-- prospects imports, with their organization counts.
--
-- Parameters: @account (an account's name; '' for every account), @since (imports queued
-- then or later).
SELECT
    account,
    kind,
    counters.name AS counter,
    sum(counters.value) AS total,
    uniqExact(import_id) AS imports
FROM import_summaries FINAL
ARRAY JOIN counters
WHERE (@account = '' OR account = @account)
    AND created_at >= @since
GROUP BY account, kind, counter
ORDER BY account, kind, counter
