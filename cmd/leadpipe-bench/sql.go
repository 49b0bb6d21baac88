package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// The SQL baseline is what a DBA would write to import the bench file into an account's
// prospects by hand, in one psql session and one transaction: \copy into a temporary table,
// the last row of each email (DISTINCT ON lower(email)), a regular-expression email check, and
// INSERT … ON CONFLICT (lower(email), account_id) DO UPDATE into leadpipe's own prospects
// table, with its indexes. It maps the columns by hand, records no outcome, links no
// organization and enforces no limit: a fraction of leadpipe's rules, which is why beating it
// is the bar (issue 15). It runs in a database of its own, migrated by the same leadpipe
// binary, so that neither run finds the other's rows in the table.

// sqlColumns are the bench file's columns as the staging table names them, in file order.
var sqlColumns = func() []string {
	cols := make([]string, len(csvHeader))
	for k, h := range csvHeader {
		cols[k] = strings.ToLower(strings.ReplaceAll(h, " ", "_"))
	}
	return cols
}()

// sqlImportScript is the DBA's script for a file and an account id.
func sqlImportScript(path string, accountID int64) string {
	var staged, target, picked, set []string
	for _, c := range sqlColumns {
		staged = append(staged, c+" text")
		if c == "company" { // an organization: the DBA links none
			continue
		}
		target = append(target, c)
		if c == "email" {
			picked = append(picked, "email")
			continue
		}
		picked = append(picked, "NULLIF(btrim("+c+"), '')")
		set = append(set, c+" = EXCLUDED."+c)
	}
	return `\set ON_ERROR_STOP on
BEGIN;
CREATE TEMP TABLE dba_staging (n bigserial, ` + strings.Join(staged, ", ") + `) ON COMMIT DROP;
\copy dba_staging (` + strings.Join(sqlColumns, ", ") + `) FROM '` + strings.ReplaceAll(path, `'`, `''`) + `' WITH (FORMAT csv, HEADER true)
INSERT INTO prospects (id, account_id, ` + strings.Join(target, ", ") + `)
SELECT nextval('prospect_id_blocks'), ` + strconv.FormatInt(accountID, 10) + `, ` + strings.Join(picked, ", ") + `
FROM (
  SELECT DISTINCT ON (lower(email)) *
  FROM (SELECT n, btrim(email) AS email, ` + strings.Join(target[1:], ", ") + ` FROM dba_staging) t
  WHERE email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[[:alpha:]]{2,}$'
  ORDER BY lower(email), n DESC
) latest
ON CONFLICT (lower(email), account_id) WHERE email IS NOT NULL
DO UPDATE SET ` + strings.Join(set, ", ") + `, updated_at = now();
COMMIT;
`
}

// sqlRun is one run of the SQL baseline: its wall time, the CPU time of psql and of the
// Postgres server's processes, and the account's prospects after it.
type sqlRun struct {
	wall, psqlCPU, pgCPU time.Duration
	prospects            int64
	settled              time.Duration // how long its database took to settle after it (settle)
}

// sqlBaseline sets up the SQL baseline's database (the bench database's name + "_sql", made
// afresh and migrated by bin) with an account, and returns a function that runs the script for
// a file into that account and then lets the database settle (settle), and one that drops the
// database (never nil: it does nothing when no database was made).
func sqlBaseline(ctx context.Context, bin, benchURL string) (run func(path string) (sqlRun, error), drop func() error, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("SQL baseline: %w", err)
		}
	}()
	sqlURL, _, drop, err := freshDatabase(ctx, benchURL, "_sql")
	if err != nil {
		return nil, func() error { return nil }, err
	}
	psql := psqlCommand()
	env := append(os.Environ(), "LEADPIPE_POSTGRES_URL="+sqlURL)
	if _, err := runQuiet(ctx, env, bin, "migrate"); err != nil {
		return nil, drop, err
	}
	if _, err := runQuiet(ctx, env, bin, "account", "create", "bench-sql"); err != nil {
		return nil, drop, err
	}
	out, err := runQuiet(ctx, nil, psql, append(psqlArgs(sqlURL, "SELECT id FROM accounts WHERE name = 'bench-sql'"), "-At")...)
	if err != nil {
		return nil, drop, err
	}
	accountID, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil {
		return nil, drop, fmt.Errorf("the SQL baseline's account id %q: %w", out, err)
	}
	run = func(path string) (sqlRun, error) {
		cmd := exec.CommandContext(ctx, psql, "-X", "-q", "-d", sqlURL, "-f", "-")
		cmd.Stdin = strings.NewReader(sqlImportScript(path, accountID))
		var r sqlRun
		pg := samplePostgresCPU()
		t0 := time.Now()
		out, err := cmd.CombinedOutput()
		r.wall = time.Since(t0)
		r.pgCPU = pg.Stop()
		if err != nil {
			return r, fmt.Errorf("psql (the SQL baseline): %w\n%s", err, strings.TrimSpace(string(out)))
		}
		r.psqlCPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		count, err := runQuiet(ctx, nil, psql, append(psqlArgs(sqlURL, "SELECT count(*) FROM prospects WHERE account_id = "+strconv.FormatInt(accountID, 10)), "-At")...)
		if err != nil {
			return r, err
		}
		if r.prospects, err = strconv.ParseInt(strings.TrimSpace(string(count)), 10, 64); err != nil {
			return r, err
		}
		r.settled, err = settle(ctx, sqlURL)
		return r, err
	}
	return run, drop, nil
}

// siblingDatabase returns the URL and the name of the database named as benchURL's + suffix,
// on the same server.
func siblingDatabase(benchURL, suffix string) (dbURL, name string, err error) {
	u, err := url.Parse(benchURL)
	if err != nil {
		return "", "", err
	}
	name = strings.TrimPrefix(u.Path, "/") + suffix
	u.Path = "/" + name
	return u.String(), name, nil
}

// freshDatabase makes the database named as benchURL's + suffix afresh (siblingDatabase), and
// returns its URL, its name and a function that drops it.
func freshDatabase(ctx context.Context, benchURL, suffix string) (dbURL, name string, drop func() error, err error) {
	dbURL, name, err = siblingDatabase(benchURL, suffix)
	if err != nil {
		return "", "", nil, err
	}
	psql := psqlCommand()
	for _, stmt := range []string{"DROP DATABASE IF EXISTS " + name, "CREATE DATABASE " + name} {
		if _, err := runQuiet(ctx, nil, psql, psqlArgs(benchURL, stmt)...); err != nil {
			return "", "", nil, err
		}
	}
	drop = func() error {
		_, err := runQuiet(context.Background(), nil, psql, psqlArgs(benchURL, "DROP DATABASE IF EXISTS "+name)...)
		return err
	}
	return dbURL, name, drop, nil
}
