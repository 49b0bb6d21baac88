package importer_test

import (
	"testing"

	"github.com/leadpipe/leadpipe/crm"
)

// SPEC §7: organizations match by normalised name, then by the row's domain (website host
// without www, else the email's domain unless free-mail); otherwise one is created.
func TestOrganizations(t *testing.T) {
	e := newEnv(t, -1)
	r := e.importCSV("Email,Company,Website\n"+
		"ann@acme.com,\"Acme, Inc.\",\n"+ // 2 creates Acme, Inc. (acme.com, from the email)
		"bob@acme.com,ACME Inc,\n"+ // 3 name
		"cat@gmail.com,acme,\n"+ // 4 name
		"dan@gmail.com,Initech,\n"+ // 5 creates Initech without a domain (free-mail)
		"eve@gmail.com,Globex Corporation,https://www.globex.com/about\n"+ // 6 creates Globex (globex.com)
		"fay@globex.com,Globex Intl,\n"+ // 7 email domain
		"gus@gmail.com,Hooli,\n"+ // 8 gmail.com must not link to Initech: creates Hooli
		"hal@gmail.com,Globex Holdings,http://WWW.Globex.com\n", // 9 website domain
		crm.Options{})
	checkOutcomes(t, r.Outcomes, map[int]string{2: "created", 3: "created", 4: "created", 5: "created",
		6: "created", 7: "created", 8: "created", 9: "created"})
	checkCounts(t, r.Sum.Counts, "rows=8 created=8 updated=0 unchanged=0 skipped=0 orgs_created=4 orgs_linked=8")
	equalStrings(t, "organizations", e.organizations(), []string{
		"Acme, Inc.|acme.com", "Initech|", "Globex Corporation|globex.com", "Hooli|"})
	e.checkProspects([]map[string]string{
		{"email": "ann@acme.com", "organization": "Acme, Inc."},
		{"email": "bob@acme.com", "organization": "Acme, Inc."},
		{"email": "cat@gmail.com", "organization": "Acme, Inc."},
		{"email": "dan@gmail.com", "organization": "Initech"},
		{"email": "eve@gmail.com", "organization": "Globex Corporation", "website": "https://www.globex.com/about"},
		{"email": "fay@globex.com", "organization": "Globex Corporation"},
		{"email": "gus@gmail.com", "organization": "Hooli"},
		{"email": "hal@gmail.com", "organization": "Globex Corporation", "website": "http://WWW.Globex.com"},
	})

	// A later import links to the organizations of earlier ones; relinking to the same one is
	// no change.
	r = e.importCSV("Email,Company\n"+
		"ann@acme.com,acme llc\n"+ // same organization: unchanged
		"dan@gmail.com,\"Acme, Inc\"\n"+ // moves to Acme
		"zed@initech.com,Initech Ltd\n", // name
		crm.Options{})
	checkOutcomes(t, r.Outcomes, map[int]string{2: "unchanged", 3: "updated", 4: "created"})
	checkCounts(t, r.Sum.Counts, "rows=3 created=1 updated=1 unchanged=1 skipped=0 orgs_created=0 orgs_linked=2")
	if n := e.nOrganizations(); n != 4 {
		t.Errorf("%d organizations, want 4", n)
	}
	e.checkProspect("dan@gmail.com", map[string]string{"email": "dan@gmail.com", "organization": "Acme, Inc."})
	e.checkProspect("zed@initech.com", map[string]string{"email": "zed@initech.com", "organization": "Initech"})
}

// SPEC §6: a skipped row writes nothing — not even its organization.
func TestSkippedRowCreatesNoOrganization(t *testing.T) {
	e := newEnv(t, 1)
	r := e.importCSV("Email,Company\n"+
		"ann@acme.com,Acme\n"+
		"bad@,Badco\n"+
		"bob@beta.io,Beta\n", crm.Options{List: "L"})
	checkOutcomes(t, r.Outcomes, map[int]string{2: "created", 3: "skipped:invalid_email", 4: "skipped:over_limit"})
	equalStrings(t, "organizations", e.organizations(), []string{"Acme|acme.com"})
	equalStrings(t, "groupings", e.groupings(), []string{"list:L=ann@acme.com"})
}
