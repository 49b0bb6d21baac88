package main

import (
	"fmt"
	"strings"
	"testing"
)

// deal-stages list shows an account's stages (the defaults at first); deal-stages set replaces
// them, after which a deals import takes the new stages and warns invalid_picklist_value for an
// old one. Refused lists say what is wrong and change nothing; another account keeps its own.
func TestCLIDealStages(t *testing.T) {
	pool := cliEnv(t)
	name, other := uniqueName(t), uniqueName(t)
	mustCLI(t, "account", "create", name)
	mustCLI(t, "account", "create", other)
	acct := accountID(t, pool, name)
	defaults := "Prospecting\nQualification\nProposal\nNegotiation\nClosed Won\nClosed Lost\n"
	if out := mustCLI(t, "deal-stages", "list", "--account", name); out != defaults {
		t.Fatalf("deal-stages list of a new account printed %q, want %q", out, defaults)
	}

	out := mustCLI(t, "deal-stages", "set", "--account", name, "--stages", " Open ;Won;Lost")
	if want := fmt.Sprintf("deal stages of account %q: Open; Won; Lost\n", name); out != want {
		t.Errorf("deal-stages set printed %q, want %q", out, want)
	}
	if out := mustCLI(t, "deal-stages", "list", "--account", name); out != "Open\nWon\nLost\n" {
		t.Errorf("deal-stages list after set printed %q", out)
	}

	file := writeTestFile(t, "deals.csv", []byte("Name,Stage\nA,won\nB,Proposal\n"))
	m := oneJSON(t, mustCLI(t, "import", file, "--account", name, "--kind", "deals"))
	if jsonInt(t, m, "created") != 2 {
		t.Errorf("deals import: %v, want 2 created", m)
	}
	if got := jsonCounts(t, m, "warnings_by_kind"); !equalCounts(got, map[string]int64{"invalid_picklist_value": 1}) {
		t.Errorf("warnings_by_kind = %v, want invalid_picklist_value 1 (the old stage Proposal)", got)
	}
	var stages string
	if err := pool.QueryRow(t.Context(), `SELECT string_agg(name || '=' || coalesce(stage, ''), ',' ORDER BY name) FROM deals WHERE account_id = $1`,
		acct).Scan(&stages); err != nil {
		t.Fatal(err)
	}
	if stages != "A=Won,B=" {
		t.Errorf("deals %q, want A at Won and B without a stage", stages)
	}

	for _, tc := range []struct {
		stages, want string
	}{
		{"", "--stages is required"},
		{"Open;;Won", `deal stage "" is empty or contains ';'`},
		{"Open;Won;", `deal stage "" is empty or contains ';'`},
		{"Open; ", `deal stage " " is empty or contains ';'`},
		{"Open;won;Won", `deal stage "Won" is given twice`},
		{"Open;Lo\tst", `deal stage "Lo\tst" contains a control character`},
	} {
		_, _, err := cli(t, "deal-stages", "set", "--account", name, "--stages", tc.stages)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("deal-stages set --stages %q: error %v, want one saying %q", tc.stages, err, tc.want)
		}
	}
	if _, _, err := cli(t, "deal-stages", "set", "--stages", "Open"); err == nil || !strings.Contains(err.Error(), "--account is required") {
		t.Errorf("deal-stages set without --account: %v", err)
	}
	if out := mustCLI(t, "deal-stages", "list", "--account", name); out != "Open\nWon\nLost\n" {
		t.Errorf("deal-stages list after refused sets printed %q", out)
	}
	if out := mustCLI(t, "deal-stages", "list", "--account", other); out != defaults {
		t.Errorf("deal-stages list of another account printed %q, want the defaults", out)
	}
}
