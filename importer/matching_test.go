package importer_test

import (
	"fmt"
	"testing"

	"github.com/leadpipe/leadpipe/crm"
)

// SPEC §6: emails match case-insensitively, are stored as first imported, and a case-only
// difference is not a change.
func TestEmailMatchIgnoresCase(t *testing.T) {
	e := newEnv(t, -1)
	r := e.importCSV("Email,First Name\nAnn.Lee@Acme.com,Ann\n", crm.Options{})
	checkOutcomes(t, r.Outcomes, map[int]string{2: "created"})

	r = e.importCSV("Email,First Name\n"+
		"ann.lee@acme.COM,Ann\n"+
		"ANN.LEE@ACME.COM,Annie\n"+
		"ann.lee@acme.com,\n", crm.Options{})
	checkOutcomes(t, r.Outcomes, map[int]string{2: "unchanged", 3: "updated", 4: "unchanged"})
	e.checkProspects([]map[string]string{{"email": "Ann.Lee@Acme.com", "first_name": "Annie"}})
}

// SPEC §6: the unique identifier matches rows without email, and rows whose email matches
// no prospect.
func TestUniqueIdentifier(t *testing.T) {
	cases := []struct {
		name      string
		before    string
		file      string
		opts      crm.Options
		outcomes  map[int]string
		prospects []map[string]string
	}{
		{
			name:   "phone",
			before: "Email,First Name,Phone\nann@acme.com,Ann,555-0100\n",
			file: "First Name,Last Name,Phone,Title\n" +
				"Annie,,555-0100,CEO\n" +
				"Bob,Ray,555-0199,CTO\n" +
				",,555-0199,VP\n",
			opts:     crm.Options{UniqueIdentifier: "phone"},
			outcomes: map[int]string{2: "updated", 3: "created", 4: "updated"},
			prospects: []map[string]string{
				{"email": "ann@acme.com", "first_name": "Annie", "phone": "555-0100", "title": "CEO"},
				{"first_name": "Bob", "last_name": "Ray", "phone": "555-0199", "title": "VP"},
			},
		},
		{
			name:   "custom field",
			before: "Email,CRM ID\nann@acme.com,C-1\n",
			file: "CRM ID,City\n" +
				"C-1,Paris\n" +
				"C-2,Rome\n" +
				"C-1,Paris\n",
			opts:     crm.Options{UniqueIdentifier: "crm_id"},
			outcomes: map[int]string{2: "updated", 3: "created", 4: "unchanged"},
			prospects: []map[string]string{
				{"email": "ann@acme.com", "custom.crm_id": "C-1", "city": "Paris"},
				{"custom.crm_id": "C-2", "city": "Rome"},
			},
		},
		{
			name:     "email not found falls back to the unique identifier",
			before:   "Email,Phone\nann@acme.com,555-0100\n",
			file:     "Email,Phone,City\nann.new@acme.com,555-0100,Paris\n",
			opts:     crm.Options{UniqueIdentifier: "phone"},
			outcomes: map[int]string{2: "updated"},
			prospects: []map[string]string{
				{"email": "ann.new@acme.com", "phone": "555-0100", "city": "Paris"},
			},
		},
		{
			name:     "email found wins over the unique identifier",
			before:   "Email,Phone\nann@acme.com,555-0100\nbob@beta.io,555-0199\n",
			file:     "Email,Phone,City\nbob@beta.io,555-0100,Rome\n",
			opts:     crm.Options{UniqueIdentifier: "phone"},
			outcomes: map[int]string{2: "updated"},
			prospects: []map[string]string{
				{"email": "ann@acme.com", "phone": "555-0100"},
				{"email": "bob@beta.io", "phone": "555-0100", "city": "Rome"},
			},
		},
		{
			name:     "no unique identifier: a new email is a new prospect",
			before:   "Email,Phone\nann@acme.com,555-0100\n",
			file:     "Email,Phone,City\nann.new@acme.com,555-0100,Paris\n",
			outcomes: map[int]string{2: "created"},
			prospects: []map[string]string{
				{"email": "ann@acme.com", "phone": "555-0100"},
				{"email": "ann.new@acme.com", "phone": "555-0100", "city": "Paris"},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, -1)
			e.addField(crm.Field{Key: "crm_id", Label: "CRM ID", Type: crm.Text})
			e.importCSV(tc.before, crm.Options{})
			r := e.importCSV(tc.file, tc.opts)
			checkOutcomes(t, r.Outcomes, tc.outcomes)
			e.checkProspects(tc.prospects)
		})
	}
}

// SPEC §6.3: names match only with match_by_name, and then the oldest prospect.
func TestMatchByName(t *testing.T) {
	before := "Email,First Name,Last Name\n" +
		"ann1@acme.com,Ann,Lee\n" +
		"ann2@acme.com,Ann,Lee\n"
	file := "First Name,Last Name,Title\n" +
		"ann,LEE,CEO\n" +
		"Bob,Ray,CTO\n" +
		"Bob,Ray,VP\n"
	cases := []struct {
		name      string
		opts      crm.Options
		outcomes  map[int]string
		prospects []map[string]string
	}{
		{
			name:     "off",
			outcomes: map[int]string{2: "created", 3: "created", 4: "created"},
			prospects: []map[string]string{
				{"email": "ann1@acme.com", "first_name": "Ann", "last_name": "Lee"},
				{"email": "ann2@acme.com", "first_name": "Ann", "last_name": "Lee"},
				{"first_name": "ann", "last_name": "LEE", "title": "CEO"},
				{"first_name": "Bob", "last_name": "Ray", "title": "CTO"},
				{"first_name": "Bob", "last_name": "Ray", "title": "VP"},
			},
		},
		{
			name:     "on",
			opts:     crm.Options{MatchByName: true},
			outcomes: map[int]string{2: "updated", 3: "created", 4: "updated"},
			prospects: []map[string]string{
				{"email": "ann1@acme.com", "first_name": "ann", "last_name": "LEE", "title": "CEO"},
				{"email": "ann2@acme.com", "first_name": "Ann", "last_name": "Lee"},
				{"first_name": "Bob", "last_name": "Ray", "title": "VP"},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, -1)
			e.importCSV(before, crm.Options{})
			r := e.importCSV(file, tc.opts)
			checkOutcomes(t, r.Outcomes, tc.outcomes)
			e.checkProspects(tc.prospects)
		})
	}
}

// SPEC §6: missing_identifier, new_not_allowed, existing_not_updated.
func TestSkipReasons(t *testing.T) {
	before := "Email,First Name\nann@acme.com,Ann\n"
	cases := []struct {
		name      string
		file      string
		opts      crm.Options
		outcomes  map[int]string
		prospects []map[string]string
	}{
		{
			name: "missing_identifier",
			file: "Email,First Name,Last Name,Title,Phone\n" +
				",,,CEO,555-0100\n" +
				",Bob,,CTO,\n" +
				",,Ray,VP,\n",
			outcomes: map[int]string{2: "skipped:missing_identifier", 3: "created", 4: "created"},
			prospects: []map[string]string{
				{"email": "ann@acme.com", "first_name": "Ann"},
				{"first_name": "Bob", "title": "CTO"},
				{"last_name": "Ray", "title": "VP"},
			},
		},
		{
			name: "a unique identifier value is an identifier",
			file: "Email,First Name,Last Name,Title,Phone\n" +
				",,,CEO,555-0100\n" +
				",,,CTO,\n",
			opts:     crm.Options{UniqueIdentifier: "phone"},
			outcomes: map[int]string{2: "created", 3: "skipped:missing_identifier"},
			prospects: []map[string]string{
				{"email": "ann@acme.com", "first_name": "Ann"},
				{"title": "CEO", "phone": "555-0100"},
			},
		},
		{
			name: "create_new=false",
			file: "Email,Title\n" +
				"ann@acme.com,CEO\n" +
				"bob@beta.io,CTO\n",
			opts:     crm.Options{CreateNew: ptr(false)},
			outcomes: map[int]string{2: "updated", 3: "skipped:new_not_allowed"},
			prospects: []map[string]string{
				{"email": "ann@acme.com", "first_name": "Ann", "title": "CEO"},
			},
		},
		{
			name: "update_existing=false",
			file: "Email,Title\n" +
				"ann@acme.com,CEO\n" +
				"bob@beta.io,CTO\n",
			opts:     crm.Options{UpdateExisting: ptr(false)},
			outcomes: map[int]string{2: "skipped:existing_not_updated", 3: "created"},
			prospects: []map[string]string{
				{"email": "ann@acme.com", "first_name": "Ann"},
				{"email": "bob@beta.io", "title": "CTO"},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, -1)
			e.importCSV(before, crm.Options{})
			r := e.importCSV(tc.file, tc.opts)
			checkOutcomes(t, r.Outcomes, tc.outcomes)
			e.checkProspects(tc.prospects)
		})
	}
}

// SPEC §6: duplicates within one batch: created, then updated or unchanged, later values on top.
func TestDuplicatesInOneBatch(t *testing.T) {
	e := newEnv(t, -1)
	e.Batch = 1000
	r := e.importCSV("Email,First Name,Title,City\n"+
		"ann@acme.com,Ann,CEO,\n"+
		"ANN@acme.com,,CTO,Paris\n"+
		"ann@acme.com,Ann,CTO,\n"+
		"ann@ACME.com,Ann,CTO,Paris\n", crm.Options{})
	checkOutcomes(t, r.Outcomes, map[int]string{2: "created", 3: "updated", 4: "unchanged", 5: "unchanged"})
	e.checkProspects([]map[string]string{{"email": "ann@acme.com", "first_name": "Ann", "title": "CTO", "city": "Paris"}})
	if got := e.prospectCount(); got != 1 {
		t.Errorf("accounts.prospect_count = %d, want 1", got)
	}
	id := e.prospectID("ann@acme.com")
	for n := 2; n <= 5; n++ {
		if r.Prospects[n] != id {
			t.Errorf("row %d: prospect %d, want %d", n, r.Prospects[n], id)
		}
	}
}

// SPEC §6, sequential semantics across batch boundaries (batch size 3: rows 2-4, 5-7, 8-10).
func TestSequentialAcrossBatches(t *testing.T) {
	e := newEnv(t, -1)
	e.Batch = 3
	r := e.importCSV("Email,First Name,Last Name,Phone,Title\n"+
		"ann@acme.com,Ann,,,\n"+ // 2 created
		"bob@beta.io,Bob,,,\n"+ // 3 created
		"cat@gamma.org,Cat,,,\n"+ // 4 created (end of batch 1)
		"ann@acme.com,,Lee,555-0100,\n"+ // 5 ann gets a phone
		"bob@beta.io,Bob,,,\n"+ // 6 duplicate of row 3, in another batch
		",,,555-0100,CEO\n"+ // 7 no email: matches ann by phone (end of batch 2)
		"ANN@ACME.COM,,,,CTO\n"+ // 8
		",,,555-0100,CTO\n"+ // 9 already so
		"dan@delta.net,Dan,,555-0199,\n", // 10
		crm.Options{UniqueIdentifier: "phone"})
	checkOutcomes(t, r.Outcomes, map[int]string{
		2: "created", 3: "created", 4: "created", 5: "updated", 6: "unchanged", 7: "updated",
		8: "updated", 9: "unchanged", 10: "created",
	})
	e.checkProspects([]map[string]string{
		{"email": "ann@acme.com", "first_name": "Ann", "last_name": "Lee", "phone": "555-0100", "title": "CTO"},
		{"email": "bob@beta.io", "first_name": "Bob"},
		{"email": "cat@gamma.org", "first_name": "Cat"},
		{"email": "dan@delta.net", "first_name": "Dan", "phone": "555-0199"},
	})
}

// SPEC §6: "Batching and parallelism are implementation choices that must not change any
// outcome." The same file, with and without a limit, at batch sizes 1, 2, 3 and 1000.
func TestBatchSizeDoesNotChangeOutcomes(t *testing.T) {
	opts := crm.Options{UniqueIdentifier: "phone", List: "Expo"}
	unlimitedProspects := []map[string]string{
		{"email": "ann@acme.com", "first_name": "Ann", "last_name": "Lee", "phone": "555-0100", "title": "CTO", "organization": "Acme Inc"},
		{"email": "bob@gmail.com", "first_name": "Bob"},
		{"email": "cat@beta.io", "first_name": "Cat", "organization": "Acme Inc"},
		{"email": "dan@delta.net", "first_name": "Dan", "website": "https://www.delta.net/x", "organization": "Delta"},
		{"email": "eve@delta.net", "first_name": "Eve", "organization": "Delta"},
		{"email": "gus@gamma.org", "first_name": "Gus", "phone": "555-0199", "title": "Boss"},
	}
	cases := []struct {
		name      string
		limit     int64
		outcomes  map[int]string
		counts    string
		prospects []map[string]string
		list      []string
	}{
		{
			name:  "unlimited",
			limit: -1,
			outcomes: map[int]string{
				2: "created", 3: "created", 4: "updated", 5: "updated", 6: "created", 7: "unchanged",
				8: "created", 9: "created", 10: "updated", 11: "skipped:invalid_email",
				12: "skipped:missing_identifier", 13: "created", 14: "updated", 15: "updated", 16: "unchanged",
			},
			counts:    "rows=15 created=6 updated=5 unchanged=2 skipped=2 orgs_created=2 orgs_linked=4",
			prospects: unlimitedProspects,
			list:      []string{"list:Expo=ann@acme.com bob@gmail.com cat@beta.io dan@delta.net eve@delta.net gus@gamma.org"},
		},
		{
			name:  "limit 5",
			limit: 5,
			outcomes: map[int]string{
				2: "created", 3: "created", 4: "updated", 5: "updated", 6: "created", 7: "unchanged",
				8: "created", 9: "created", 10: "updated", 11: "skipped:invalid_email",
				12: "skipped:missing_identifier", 13: "skipped:over_limit", 14: "skipped:over_limit",
				15: "skipped:over_limit", 16: "skipped:over_limit",
			},
			counts:    "rows=15 created=5 updated=3 unchanged=1 skipped=6 orgs_created=2 orgs_linked=4",
			prospects: unlimitedProspects[:5],
			list:      []string{"list:Expo=ann@acme.com bob@gmail.com cat@beta.io dan@delta.net eve@delta.net"},
		},
	}
	for _, tc := range cases {
		for _, batch := range []int{1, 2, 3, 1000} {
			t.Run(fmt.Sprintf("%s/batch=%d", tc.name, batch), func(t *testing.T) {
				e := newEnv(t, tc.limit)
				r := e.importPath("testdata/sequential.csv", opts, batch)
				checkOutcomes(t, r.Outcomes, tc.outcomes)
				checkCounts(t, r.Sum.Counts, tc.counts)
				e.checkProspects(tc.prospects)
				equalStrings(t, "organizations", e.organizations(), []string{"Acme Inc|acme.com", "Delta|delta.net"})
				equalStrings(t, "groupings", e.groupings(), tc.list)
				if got, want := e.prospectCount(), len(tc.prospects); got != want {
					t.Errorf("accounts.prospect_count = %d, want %d", got, want)
				}
			})
		}
	}
}

// SPEC §6, sequential semantics: a row may move a prospect's email (email not found, matched
// by the unique identifier); a later row of the same file may then use the freed email, for a
// new prospect or for another prospect. The outcome must not depend on the batch size.
func TestEmailMovesWithinAFile(t *testing.T) {
	const before = "Email,Phone\nold@x.com,555-0100\nb@x.com,555-0199\n"
	cases := []struct {
		name      string
		file      string
		outcomes  map[int]string
		prospects []map[string]string
	}{
		{
			name: "freed email for a new prospect",
			file: "Email,Phone,First Name\n" +
				"new@x.com,555-0100,Ann\n" + // 2: old@x.com becomes new@x.com
				"old@x.com,,Olga\n", // 3: old@x.com is free: a new prospect
			outcomes: map[int]string{2: "updated", 3: "created"},
			prospects: []map[string]string{
				{"email": "new@x.com", "phone": "555-0100", "first_name": "Ann"},
				{"email": "b@x.com", "phone": "555-0199"},
				{"email": "old@x.com", "first_name": "Olga"},
			},
		},
		{
			name: "freed email for another prospect",
			file: "Email,Phone,First Name\n" +
				"tmp@x.com,555-0199,Bob\n" + // 2: b@x.com becomes tmp@x.com
				"b@x.com,555-0100,Bea\n", // 3: b@x.com is free: old@x.com becomes b@x.com
			outcomes: map[int]string{2: "updated", 3: "updated"},
			prospects: []map[string]string{
				{"email": "b@x.com", "phone": "555-0100", "first_name": "Bea"},
				{"email": "tmp@x.com", "phone": "555-0199", "first_name": "Bob"},
			},
		},
		{
			name: "freed email for a prospect the file changed before",
			file: "Email,Phone,First Name\n" +
				"old@x.com,,Ann\n" + // 2: old@x.com gets a first name
				"tmp@x.com,555-0199,Bob\n" + // 3: b@x.com becomes tmp@x.com
				"b@x.com,555-0100,Bea\n", // 4: b@x.com is free: old@x.com becomes b@x.com
			outcomes: map[int]string{2: "updated", 3: "updated", 4: "updated"},
			prospects: []map[string]string{
				{"email": "b@x.com", "phone": "555-0100", "first_name": "Bea"},
				{"email": "tmp@x.com", "phone": "555-0199", "first_name": "Bob"},
			},
		},
	}
	for _, tc := range cases {
		for _, batch := range []int{1, 1000} {
			t.Run(fmt.Sprintf("%s/batch=%d", tc.name, batch), func(t *testing.T) {
				e := newEnv(t, -1)
				e.importCSV(before, crm.Options{})
				e.Batch = batch
				r := e.importCSV(tc.file, crm.Options{UniqueIdentifier: "phone"})
				checkOutcomes(t, r.Outcomes, tc.outcomes)
				e.checkProspects(tc.prospects)
			})
		}
	}
}
