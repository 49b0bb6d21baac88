package importer_test

import (
	"testing"

	"github.com/leadpipe/leadpipe/crm"
)

// SPEC §3: aliases and custom-field labels auto-map; columns that map to nothing are listed.
func TestAutoMapping(t *testing.T) {
	e := newEnv(t, -1)
	e.addUser("alice", "alice@corp.com", "Alice Smith")
	e.addField(crm.Field{Key: "crm_id", Label: "CRM ID", Type: crm.Text})
	e.addField(crm.Field{Key: "shoe_size", Label: "Shoe Size", Type: crm.Number})
	r := e.importCSV(
		"E-mail Address,Given Name,Surname,Company Name,Lead Owner,CRM ID,shoe-size,Favourite Colour\n"+
			"ann@acme.com,Ann,Lee,Acme,alice,C-1,42,blue\n", crm.Options{})
	checkOutcomes(t, r.Outcomes, map[int]string{2: "created"})
	equalStrings(t, "Summary.Unmapped", r.Sum.Unmapped, []string{"Favourite Colour"})
	e.checkProspect("ann@acme.com", map[string]string{
		"email": "ann@acme.com", "first_name": "Ann", "last_name": "Lee", "organization": "Acme",
		"lead_owner": "alice", "custom.crm_id": "C-1", "custom.shoe_size": "42",
	})
	checkCounts(t, r.Sum.Counts, "rows=1 created=1 updated=0 unchanged=0 skipped=0 orgs_created=1 orgs_linked=1")
}

// SPEC §3: an explicit mapping overrides auto-mapping; a column mapped to "" is ignored and
// listed as unmapped.
func TestExplicitMapping(t *testing.T) {
	e := newEnv(t, -1)
	r := e.importCSV(
		"Email,Company,Notes,Phone,City\n"+
			"ann@acme.com,Acme,555-0100,999,Paris\n", crm.Options{
			Mapping: map[string]string{"Company": "title", "Notes": "phone", "Phone": "", "City": ""},
		})
	checkOutcomes(t, r.Outcomes, map[int]string{2: "created"})
	equalStrings(t, "Summary.Unmapped", r.Sum.Unmapped, []string{"Phone", "City"})
	e.checkProspect("ann@acme.com", map[string]string{"email": "ann@acme.com", "title": "Acme", "phone": "555-0100"})
	if n := e.nOrganizations(); n != 0 {
		t.Errorf("%d organizations, want 0 (Company is mapped to title)", n)
	}
}

// SPEC §3: a Full Name column is not split unless split_full_name is on.
func TestFullName(t *testing.T) {
	file := "Email,Full Name\n" +
		"ann@acme.com,Ann Lee\n" +
		"bob@beta.io,\"Ray, Bob\"\n" +
		"cat@gamma.org,Cat\n"
	cases := []struct {
		name      string
		split     bool
		unmapped  []string
		prospects []map[string]string
	}{
		{
			name:     "not split",
			unmapped: []string{"Full Name"},
			prospects: []map[string]string{
				{"email": "ann@acme.com"},
				{"email": "bob@beta.io"},
				{"email": "cat@gamma.org"},
			},
		},
		{
			name:  "split_full_name",
			split: true,
			prospects: []map[string]string{
				{"email": "ann@acme.com", "first_name": "Ann", "last_name": "Lee"},
				{"email": "bob@beta.io", "first_name": "Bob", "last_name": "Ray"},
				{"email": "cat@gamma.org", "first_name": "Cat"},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, -1)
			r := e.importCSV(file, crm.Options{SplitFullName: tc.split})
			checkOutcomes(t, r.Outcomes, map[int]string{2: "created", 3: "created", 4: "created"})
			equalStrings(t, "Summary.Unmapped", r.Sum.Unmapped, tc.unmapped)
			e.checkProspects(tc.prospects)
		})
	}
}
