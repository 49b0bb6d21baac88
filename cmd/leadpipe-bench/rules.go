package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Every rule on (issue 15): the bench's imports run with every rule a user would turn on, so
// that leadpipe is measured doing the whole of its work. The file's 14 headers auto-map (SPEC
// §3) and its Company column links organizations (§7); the value rules of §4 and the default
// overwrite policy of §5 always run; each import records every row's outcome (import_rows).
// What an import only does when asked is turned on by options: an owner, a user of the
// account, for every prospect (the file has no Lead Owner column, §9), and a list and a tag
// that every imported prospect joins (§8).

// Who and what the options name, the same in every bench account.
const (
	ruleOwner = "bench-owner"
	ruleList  = "bench list"
	ruleTag   = "bench"
)

// ruleSet is the bench's import options, in an options file written by setUpRules.
type ruleSet struct {
	optionsPath string
}

// setUpRules creates account (in the database of env) with the owner as its user, and writes
// the options file its imports take; remove deletes the file.
func setUpRules(ctx context.Context, env []string, bin, account string) (ruleSet, error) {
	if _, err := runQuiet(ctx, env, bin, "account", "create", account); err != nil {
		return ruleSet{}, err
	}
	if _, err := runQuiet(ctx, env, bin, "user", "add", "--account", account, "--username", ruleOwner,
		"--email", ruleOwner+"@bench.example", "--full-name", "Bench Owner"); err != nil {
		return ruleSet{}, err
	}
	opts, err := json.Marshal(map[string]any{"owner": ruleOwner, "list": ruleList, "tags": []string{ruleTag}})
	if err != nil {
		return ruleSet{}, err
	}
	f, err := os.CreateTemp("", "leadpipe-bench-options-*.json")
	if err != nil {
		return ruleSet{}, err
	}
	_, err = f.Write(opts)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return ruleSet{}, err
	}
	return ruleSet{optionsPath: f.Name()}, nil
}

// remove deletes the options file.
func (r ruleSet) remove() { os.Remove(r.optionsPath) }

// args are the import's arguments that turn the options on.
func (r ruleSet) args() []string { return []string{"--options", r.optionsPath} }

// String says which rules are on, for the report's header.
func (r ruleSet) String() string {
	return fmt.Sprintf("mapping (auto, every column), value rules (SPEC §4; overwrite policy), organizations (Company column), "+
		"owner %q (a user of the account), list %q, tag %q, outcomes recorded (import_rows)", ruleOwner, ruleList, ruleTag)
}

// check verifies in Postgres (at url) what a fresh import res into the otherwise empty account
// wrote, not only its counts: every created prospect has the owner and an organization of the
// account (every generated row has a company), joined the list and the tag, which hold nothing
// else; the account's organizations are those the import counts as created; every row's
// outcome is recorded; and no column was left unmapped. It prints each check as checkCounts
// does and returns the names of those that failed.
func (r ruleSet) check(ctx context.Context, url, account string, res importResult) ([]string, error) {
	importID, err := strconv.ParseInt(strings.Trim(string(res.ImportID), `"`), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("import_id %s is not a number", res.ImportID)
	}
	ids, err := queryRow(ctx, url, `SELECT a.id,
  (SELECT id FROM users WHERE account_id = a.id AND lower(username) = lower(`+sqlString(ruleOwner)+`)),
  (SELECT id FROM groupings WHERE account_id = a.id AND kind = 'list' AND lower(name) = lower(`+sqlString(ruleList)+`)),
  (SELECT id FROM groupings WHERE account_id = a.id AND kind = 'tag' AND lower(name) = lower(`+sqlString(ruleTag)+`))
FROM accounts a WHERE a.name = `+sqlString(account))
	if err != nil {
		return nil, err
	}
	accountID, ownerID, listID, tagID := ids[0], ids[1], ids[2], ids[3]
	if accountID == "" || ownerID == "" {
		return nil, fmt.Errorf("account %q or its user %q not found", account, ruleOwner)
	}
	if listID == "" {
		listID = "NULL" // not created: no prospect joins it, which the checks below report
	}
	if tagID == "" {
		tagID = "NULL"
	}
	prospects, err := queryInts(ctx, url, `SELECT count(*),
  count(*) FILTER (WHERE p.lead_owner_id = `+ownerID+`),
  count(o.id),
  count(*) FILTER (WHERE NOT EXISTS (SELECT FROM grouping_members m WHERE m.grouping_id = `+listID+` AND m.prospect_id = p.id)),
  count(*) FILTER (WHERE NOT EXISTS (SELECT FROM grouping_members m WHERE m.grouping_id = `+tagID+` AND m.prospect_id = p.id))
FROM prospects p LEFT JOIN organizations o ON o.id = p.organization_id AND o.account_id = p.account_id
WHERE p.account_id = `+accountID)
	if err != nil {
		return nil, err
	}
	others, err := queryInts(ctx, url, `SELECT
  (SELECT count(*) FROM grouping_members WHERE grouping_id = `+listID+`),
  (SELECT count(*) FROM grouping_members WHERE grouping_id = `+tagID+`),
  (SELECT count(*) FROM organizations WHERE account_id = `+accountID+`),
  (SELECT count(*) FROM import_rows WHERE import_id = `+strconv.FormatInt(importID, 10)+`),
  (SELECT count(*) FROM import_rows WHERE import_id = `+strconv.FormatInt(importID, 10)+` AND outcome = 'created')`)
	if err != nil {
		return nil, err
	}
	c := countChecks{w: os.Stdout}
	check := c.check
	fmt.Println("rules       (expected from the import's counts, got from Postgres)")
	check("prospects in the account", prospects[0], res.Created)
	check("prospects with the owner", prospects[1], res.Created)
	check("prospects with an organization", prospects[2], res.Created)
	check("prospects not in the list", prospects[3], 0)
	check("prospects not tagged", prospects[4], 0)
	check("list members", others[0], res.Created)
	check("tag members", others[1], res.Created)
	check("organizations (organizations_created)", others[2], res.OrganizationsCreated)
	check("outcomes recorded (rows)", others[3], res.Rows)
	check("outcomes recorded as created", others[4], res.Created)
	check("unmapped columns", int64(len(res.UnmappedColumns)), 0)
	return c.bad, nil
}

// queryRow runs a query of one row in the database at url and returns its columns as text,
// NULL as "".
func queryRow(ctx context.Context, url, query string) ([]string, error) {
	out, err := runQuiet(ctx, nil, psqlCommand(), append(psqlArgs(url, query), "-At", "-F", "|")...)
	if err != nil {
		return nil, err
	}
	line := strings.TrimSpace(string(out))
	if line == "" || strings.Contains(line, "\n") {
		return nil, fmt.Errorf("query returned %q, want one row", line)
	}
	return strings.Split(line, "|"), nil
}

// queryInts runs a query of one row of integers in the database at url.
func queryInts(ctx context.Context, url, query string) ([]int64, error) {
	cols, err := queryRow(ctx, url, query)
	if err != nil {
		return nil, err
	}
	out := make([]int64, len(cols))
	for k, c := range cols {
		if out[k], err = strconv.ParseInt(c, 10, 64); err != nil {
			return nil, fmt.Errorf("query returned %q, want integers", strings.Join(cols, "|"))
		}
	}
	return out, nil
}

// sqlString quotes s as an SQL string literal.
func sqlString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
