package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// object create makes a custom object type and its identifying field in one step; field add
// --object adds fields to it (or to another kind), checked against that kind's standard fields.
func TestCLIObjectCreateAndFields(t *testing.T) {
	pool := cliEnv(t)
	ctx := context.Background()
	name := uniqueName(t)
	mustCLI(t, "account", "create", name)
	id := accountID(t, pool, name)

	out := mustCLI(t, "object", "create", "--account", name, "--key", "subscription", "--label", "Subscription", "--identifier", "serial_no")
	var typeID int64
	if err := pool.QueryRow(ctx, "SELECT id FROM object_types WHERE account_id = $1 AND key = 'subscription'", id).Scan(&typeID); err != nil {
		t.Fatalf("object type subscription: %v", err)
	}
	if want := fmt.Sprintf("object type %q (%q, identified by %q, id %d) in account %q\n", "subscription", "Subscription", "serial_no", typeID, name); out != want {
		t.Errorf("object create printed %q, want %q", out, want)
	}
	var label, typ string
	if err := pool.QueryRow(ctx, "SELECT label, type FROM fields WHERE account_id = $1 AND entity = 'subscription' AND key = 'serial_no'", id).Scan(&label, &typ); err != nil || label != "Serial No" || typ != "text" {
		t.Errorf("identifying field: %q %q (%v), want a text field labelled Serial No", label, typ, err)
	}

	out = mustCLI(t, "field", "add", "--account", name, "--object", "subscription", "--key", "plan", "--label", "Plan", "--type", "text")
	if want := fmt.Sprintf("field %q (text) of subscription in account %q\n", "plan", name); out != want {
		t.Errorf("field add --object printed %q, want %q", out, want)
	}
	// The same key is another field for prospects: fields belong to their kind.
	mustCLI(t, "field", "add", "--account", name, "--key", "plan", "--label", "Plan", "--type", "text")
	if got := count(t, pool, "SELECT count(*) FROM fields WHERE account_id = $1 AND key = 'plan' AND entity IN ('subscription', 'prospects')", id); got != 2 {
		t.Errorf("%d fields plan, want one of subscription and one of prospects", got)
	}

	mustCLI(t, "object", "create", "--account", name, "--key", "asset", "--label", "Asset", "--identifier", "tag")
	if out := mustCLI(t, "object", "list", "--account", name); out != "subscription\tSubscription\tidentified by serial_no\nasset\tAsset\tidentified by tag\n" {
		t.Errorf("object list printed %q", out)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"object", "create", "--key", "Car", "--label", "Car", "--identifier", "vin"}, `object key "Car": use lowercase letters`},
		{[]string{"object", "create", "--key", "deals", "--label", "My Deals", "--identifier", "vin"}, `object key "deals" is a built-in kind`},
		{[]string{"object", "create", "--key", "org", "--label", "Organizations", "--identifier", "vin"}, `label "Organizations" is the name of a built-in kind`},
		{[]string{"object", "create", "--key", "subscription", "--label", "Plans", "--identifier", "vin"}, `object type "subscription": already exists`},
		{[]string{"object", "create", "--key", "plan", "--label", "SUBSCRIPTION", "--identifier", "vin"}, `object type labelled "SUBSCRIPTION": already exists`},
		{[]string{"object", "create", "--key", "car", "--label", "Car", "--identifier", "prospect_email"}, "is the prospect link"},
		{[]string{"object", "create", "--key", "car", "--label", "Car"}, "--identifier is required"},
		{[]string{"field", "add", "--object", "vehicle", "--key", "vin", "--label", "VIN"}, `unknown kind "vehicle" (want deals, organizations, prospects; or one of the account's object types: subscription, asset)`},
		{[]string{"field", "add", "--object", "subscription", "--key", "prospect_email", "--label", "E"}, `field key "prospect_email" is a standard field`},
		{[]string{"field", "add", "--object", "subscription", "--key", "plan", "--label", "Plan"}, `field "plan": already exists`},
	} {
		args := append(tc.args[:2:2], append([]string{"--account", name}, tc.args[2:]...)...)
		if _, _, err := cli(t, args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("leadpipe %s: error %v, want one containing %q", strings.Join(args, " "), err, tc.want)
		}
	}
	// The refused creates wrote nothing: no type, no field.
	if n := count(t, pool, "SELECT count(*) FROM object_types WHERE account_id = $1", id); n != 2 {
		t.Errorf("%d object types, want subscription and asset", n)
	}
	if n := count(t, pool, "SELECT count(*) FROM fields WHERE account_id = $1 AND entity NOT IN ('subscription', 'asset', 'prospects')", id); n != 0 {
		t.Errorf("%d fields of other entities, want none", n)
	}
}
