package main

import (
	"strings"
	"testing"
)

// leadpipe import --kind organizations imports organizations: matched by a legal-suffix variant
// of the name and by domain, a custom organization field (field add --object organizations)
// set, a row with nothing to identify it by skipped; options that apply to prospects only are
// refused before anything is written.
func TestCLIImportOrganizations(t *testing.T) {
	pool := cliEnv(t)
	name := uniqueName(t)
	mustCLI(t, "account", "create", name)
	acct := accountID(t, pool, name)
	mustCLI(t, "field", "add", "--account", name, "--object", "organizations", "--key", "tier", "--label", "Tier", "--type", "text")

	first := writeTestFile(t, "orgs1.csv", []byte("Company,Website\n\"Acme, Inc.\",https://www.acme.com/\n"))
	m := oneJSON(t, mustCLI(t, "import", first, "--account", name, "--kind", "organizations"))
	if m["kind"] != "organizations" || jsonInt(t, m, "created") != 1 {
		t.Fatalf("first import: %v", m)
	}
	second := writeTestFile(t, "orgs2.csv", []byte("Name,Domain,Tier\nACME LLC,,Gold\nAcme Europe,acme.com,\n,,Silver\n"))
	m = oneJSON(t, mustCLI(t, "import", second, "--account", name, "--kind", "organizations"))
	if got := [4]int64{jsonInt(t, m, "rows"), jsonInt(t, m, "created"), jsonInt(t, m, "updated"), jsonInt(t, m, "skipped")}; got != [4]int64{3, 0, 2, 1} {
		t.Errorf("second import: rows, created, updated, skipped = %v, want [3 0 2 1] (%v)", got, m)
	}
	if got := jsonCounts(t, m, "skipped_by_reason"); got["missing_identifier"] != 1 {
		t.Errorf("skipped_by_reason = %v, want missing_identifier 1", got)
	}
	var org string
	if err := pool.QueryRow(t.Context(), `SELECT name || '|' || domain || '|' || (custom->>'tier') FROM organizations WHERE account_id = $1`, acct).Scan(&org); err != nil {
		t.Fatal(err)
	}
	if want := "Acme Europe|acme.com|Gold"; org != want {
		t.Errorf("organization %q, want %q", org, want)
	}

	options := writeTestFile(t, "options.json", []byte(`{"list": "L"}`))
	_, _, err := cli(t, "import", second, "--account", name, "--kind", "organizations", "--options", options)
	if err == nil || !strings.Contains(err.Error(), `list: does not apply to an import of kind "organizations"`) {
		t.Errorf("import --kind organizations with a list: %v, want the list refused", err)
	}
	if n := count(t, pool, "SELECT count(*) FROM imports WHERE account_id = $1", acct); n != 2 {
		t.Errorf("%d imports, want 2", n)
	}
}
