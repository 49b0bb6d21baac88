package importer_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/leadpipe/leadpipe/crm"
)

// SPEC §8: list, tags and campaign are created on first use; every created, updated or
// unchanged prospect joins them, skipped ones do not.
func TestListTagsCampaign(t *testing.T) {
	e := newEnv(t, -1)
	e.importCSV("Email,First Name\nann@acme.com,Ann\ncat@gamma.org,Cat\ndan@delta.net,Dan\n", crm.Options{})
	if n := e.nGroupings(); n != 0 {
		t.Fatalf("%d groupings before, want 0", n)
	}
	opts := crm.Options{List: "Spring Expo", Tags: []string{"vip", "2024"}, Campaign: "Q2 Push", CreateNew: ptr(true)}
	r := e.importCSV("Email,First Name,Title\n"+
		"ann@acme.com,Ann,\n"+ // unchanged
		"bob@beta.io,Bob,\n"+ // created
		"bad,Carl,\n"+ // skipped
		"cat@gamma.org,,CTO\n", // updated
		opts)
	checkOutcomes(t, r.Outcomes, map[int]string{2: "unchanged", 3: "created", 4: "skipped:invalid_email", 5: "updated"})
	members := "=ann@acme.com bob@beta.io cat@gamma.org"
	equalStrings(t, "groupings", e.groupings(), []string{
		"campaign:Q2 Push" + members, "list:Spring Expo" + members, "tag:2024" + members, "tag:vip" + members})

	// Same names in another case: no new groupings; dan joins them.
	r = e.importCSV("Email\ndan@delta.net\n", crm.Options{List: "spring expo", Tags: []string{"VIP"}})
	checkOutcomes(t, r.Outcomes, map[int]string{2: "unchanged"})
	equalStrings(t, "groupings", e.groupings(), []string{
		"campaign:Q2 Push" + members, "list:Spring Expo" + members + " dan@delta.net",
		"tag:2024" + members, "tag:vip" + members + " dan@delta.net"})
}

// A batch inserts the memberships of the prospects it created without looking for them first
// (store.AddNewMembers) and those of the prospects it found with a check: a prospect created
// by an earlier batch of the same import and found again, one created and found again within
// a batch, one already in the list, and a tag named twice in two cases each join once.
func TestMembershipsOfCreatedAndFoundProspects(t *testing.T) {
	e := newEnv(t, -1)
	e.importCSV("Email\nold@acme.com\n", crm.Options{List: "Fair"})
	for _, batch := range []int{1, 2, 3, 1000} {
		t.Run(fmt.Sprint("batch ", batch), func(t *testing.T) {
			e.t = t
			e.Batch = batch
			pre := fmt.Sprintf("b%d-", batch)
			r := e.importCSV("Email\n"+
				"old@acme.com\n"+ // found, already in the list
				pre+"a@acme.com\n"+ // created
				pre+"a@acme.com\n"+ // found: created by this batch or the one before
				pre+"b@acme.com\n"+ // created
				pre+"c@acme.com\n"+ // created
				pre+"a@acme.com\n", // found again
				crm.Options{List: "Fair", Tags: []string{"vip", "VIP"}})
			checkOutcomes(t, r.Outcomes, map[int]string{2: "unchanged", 3: "created", 4: "unchanged", 5: "created", 6: "created", 7: "unchanged"})
			for _, g := range []string{"list", "tag"} {
				n := e.count(`SELECT count(*) FROM grouping_members m JOIN groupings g ON g.id = m.grouping_id
					JOIN prospects p ON p.id = m.prospect_id
					WHERE g.account_id = $1 AND g.kind = '` + g + `' AND p.email LIKE '` + pre + `%'`)
				if n != 3 {
					t.Errorf("%s members of this import's new prospects: %d, want 3", g, n)
				}
			}
		})
	}
	members := e.strings(`SELECT g.kind || ':' || count(*) FROM groupings g JOIN grouping_members m ON m.grouping_id = g.id
		WHERE g.account_id = $1 GROUP BY g.kind ORDER BY 1`)
	equalStrings(t, "members", members, []string{"list:13", "tag:13"})
}

// A re-import's batches leave out the prospects that were in every grouping when their
// batch was read ahead (prepareMembers); a grouping one is not in yet still gets it, and a
// batch reading ahead before the groupings exist inserts with the check.
func TestReimportMemberships(t *testing.T) {
	e := newEnv(t, -1)
	csv := "Email\n"
	var emails []string
	for i := range 9 {
		emails = append(emails, fmt.Sprintf("p%d@acme.com", i))
		csv += emails[i] + "\n"
	}
	e.Batch = 2
	members := " " + strings.Join(emails, " ")
	e.importCSV(csv, crm.Options{List: "Fair", Tags: []string{"vip"}})
	e.importCSV(csv, crm.Options{List: "Fair", Tags: []string{"vip"}})
	equalStrings(t, "groupings after a re-import", e.groupings(), []string{"list:Fair=" + members[1:], "tag:vip=" + members[1:]})
	// p5 leaves the tag (as an undo of the import that added it would take it away); the next
	// re-import, reading ahead every batch, finds p5 in the list only, and its batch-mate p4 in
	// both: p4 is left out, p5 goes back in the tag.
	if _, err := e.pool.Exec(e.ctx, `DELETE FROM grouping_members m USING groupings g, prospects p
		WHERE g.id = m.grouping_id AND g.account_id = $1 AND g.kind = 'tag' AND p.id = m.prospect_id AND p.email = 'p5@acme.com'`, e.acct.ID); err != nil {
		t.Fatal(err)
	}
	held0, _ := preparedBatches(t)
	e.importCSV(csv, crm.Options{List: "Fair", Tags: []string{"vip"}})
	if held, _ := preparedBatches(t); held-held0 != 5 {
		t.Errorf("the read-ahead held for %d batches of 5", held-held0)
	}
	equalStrings(t, "groupings after p5 left the tag", e.groupings(), []string{"list:Fair=" + members[1:], "tag:vip=" + members[1:]})
	// A tag nobody is in yet: everyone joins it.
	e.importCSV(csv, crm.Options{List: "Fair", Tags: []string{"vip", "new"}})
	equalStrings(t, "groupings after a re-import with a new tag", e.groupings(),
		[]string{"list:Fair=" + members[1:], "tag:new=" + members[1:], "tag:vip=" + members[1:]})
}

// SPEC §8: the owner option is the owner of rows without a Lead Owner value; lead_source is
// set on created prospects only.
func TestDefaultOwnerAndLeadSource(t *testing.T) {
	e := newEnv(t, -1)
	e.addUser("alice", "alice@corp.com", "Alice Smith")
	e.addUser("bob", "bob@corp.com", "Bob Jones")
	e.importCSV("Email,Title\nold@x.com,A\n", crm.Options{})
	r := e.importCSV("Email,Lead Owner,Title\n"+
		"new1@x.com,,A\n"+
		"new2@x.com,BOB@corp.com,B\n"+
		"old@x.com,,C\n", crm.Options{Owner: "alice", LeadSource: "Trade Show"})
	checkOutcomes(t, r.Outcomes, map[int]string{2: "created", 3: "created", 4: "updated"})
	e.checkProspects([]map[string]string{
		{"email": "old@x.com", "title": "C", "lead_owner": "alice"},
		{"email": "new1@x.com", "title": "A", "lead_owner": "alice", "lead_source": "Trade Show"},
		{"email": "new2@x.com", "title": "B", "lead_owner": "bob", "lead_source": "Trade Show"},
	})

	_, err := e.runNow(writeFile(t, "x.csv", "Email\nz@x.com\n"), crm.Options{Owner: "nobody"}, 3, false)
	if !errors.Is(err, crm.ErrInvalidOptions) {
		t.Errorf("owner option naming no user: error %v, want one wrapping crm.ErrInvalidOptions", err)
	}
}

// SPEC §9: Lead Owner resolves by username, email, then full name, case-insensitively; an
// unknown owner is a warning and leaves the owner unchanged.
func TestLeadOwner(t *testing.T) {
	e := newEnv(t, -1)
	e.addUser("alice", "alice@corp.com", "Alice Smith")
	e.addUser("bob", "bob@corp.com", "Bob Jones")
	e.addUser("carol", "c@corp.com", "Carol King")
	e.importCSV("Email,Lead Owner\np1@x.com,alice\np2@x.com,alice\np3@x.com,alice\np4@x.com,alice\n", crm.Options{})
	r := e.importCSV("Email,Lead Owner\n"+
		"p1@x.com,BOB\n"+ // username
		"p2@x.com,C@Corp.com\n"+ // email
		"p3@x.com,bob jones\n"+ // full name
		"p4@x.com,Zed Nobody\n"+ // unknown
		"p5@x.com, Alice Smith \n"+ // full name, new prospect
		"p6@x.com,Smith\n", // not exact: unknown
		crm.Options{})
	checkOutcomes(t, r.Outcomes, map[int]string{2: "updated", 3: "updated", 4: "updated", 5: "unchanged", 6: "created", 7: "created"})
	checkWarnings(t, r.Warnings, map[int][]string{5: {"lead_owner:owner_not_found"}, 7: {"lead_owner:owner_not_found"}})
	e.checkProspects([]map[string]string{
		{"email": "p1@x.com", "lead_owner": "bob"},
		{"email": "p2@x.com", "lead_owner": "carol"},
		{"email": "p3@x.com", "lead_owner": "bob"},
		{"email": "p4@x.com", "lead_owner": "alice"},
		{"email": "p5@x.com", "lead_owner": "alice"},
		{"email": "p6@x.com"},
	})
}

// SPEC §9: "It sets or overwrites the owner (the field's policy applies)."
func TestLeadOwnerPolicy(t *testing.T) {
	e := newEnv(t, -1)
	e.addUser("alice", "alice@corp.com", "Alice Smith")
	e.addUser("bob", "bob@corp.com", "Bob Jones")
	e.importCSV("Email,Lead Owner\np1@x.com,alice\np2@x.com,\n", crm.Options{})
	r := e.importCSV("Email,Lead Owner\np1@x.com,bob\np2@x.com,bob\np3@x.com,bob\n",
		crm.Options{FieldPolicies: map[string]crm.Policy{"lead_owner": crm.UpdateIfEmpty}})
	checkOutcomes(t, r.Outcomes, map[int]string{2: "unchanged", 3: "updated", 4: "created"})
	e.checkProspects([]map[string]string{
		{"email": "p1@x.com", "lead_owner": "alice"},
		{"email": "p2@x.com", "lead_owner": "bob"},
		{"email": "p3@x.com", "lead_owner": "bob"},
	})
	r = e.importCSV("Email,Lead Owner\np1@x.com,bob\np4@x.com,bob\n",
		crm.Options{FieldPolicies: map[string]crm.Policy{"lead_owner": crm.Ignore}})
	checkOutcomes(t, r.Outcomes, map[int]string{2: "unchanged", 3: "created"})
	e.checkProspect("p1@x.com", map[string]string{"email": "p1@x.com", "lead_owner": "alice"})
	e.checkProspect("p4@x.com", map[string]string{"email": "p4@x.com"})
}

// SPEC §8: options are strict. An unknown key is an error of crm.ParseOptions; an unknown field
// in field_policies or mapping fails the import before anything is written.
func TestOptionErrors(t *testing.T) {
	t.Run("ParseOptions", func(t *testing.T) {
		if _, err := crm.ParseOptions([]byte(`{"list": "A", "colour": "red"}`)); !errors.Is(err, crm.ErrInvalidOptions) ||
			!strings.Contains(err.Error(), "colour") {
			t.Errorf("unknown key: error %v, want one wrapping crm.ErrInvalidOptions naming \"colour\"", err)
		}
		o, err := crm.ParseOptions([]byte(`{"list": "A", "tags": ["t"], "owner": "alice", "campaign": "C",
			"lead_source": "S", "unique_identifier": "phone", "match_by_name": true,
			"field_policies": {"title": "ignore"}, "mapping": {"Notes": ""}, "create_new": false,
			"update_existing": true, "split_full_name": true, "sheet": "Leads"}`))
		if err != nil {
			t.Fatal(err)
		}
		if o.List != "A" || len(o.Tags) != 1 || o.Owner != "alice" || o.Campaign != "C" || o.LeadSource != "S" ||
			o.UniqueIdentifier != "phone" || !o.MatchByName || o.PolicyFor("title") != crm.Ignore ||
			o.Mapping["Notes"] != "" || o.AllowCreate() || !o.AllowUpdate() || !o.SplitFullName || o.Sheet != "Leads" {
			t.Errorf("ParseOptions: %+v", o)
		}
	})
	file := "Email,Title,Notes\nann@acme.com,CEO,x\n"
	cases := []struct {
		name    string
		opts    crm.Options
		message string
	}{
		{"unknown field in field_policies", crm.Options{FieldPolicies: map[string]crm.Policy{"favourite": crm.Overwrite}}, "favourite"},
		{"unknown policy", crm.Options{FieldPolicies: map[string]crm.Policy{"title": "append"}}, "append"},
		{"merge on a text field", crm.Options{FieldPolicies: map[string]crm.Policy{"title": crm.Merge}}, "merge"},
		{"mapping to an unknown field", crm.Options{Mapping: map[string]string{"Notes": "notes"}}, "notes"},
		{"mapping of a missing column", crm.Options{Mapping: map[string]string{"Phone": "phone"}}, "Phone"},
		{"unknown unique identifier", crm.Options{UniqueIdentifier: "crm_id"}, "crm_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, dry := range []bool{false, true} {
				e := newEnv(t, -1)
				_, err := e.runNow(writeFile(t, "f.csv", file), tc.opts, 3, dry)
				if err == nil || !strings.Contains(err.Error(), tc.message) {
					t.Errorf("dry=%v: error %v, want one naming %q", dry, err, tc.message)
				}
				e.checkNothingWritten()
			}
		})
	}
}

// An options document within the caps as the client sent it stays within them as stored: the
// size cap is the client's document's, not that of its re-encoding (jsonb writes a space after
// every colon and comma), which once failed at its run an import that had been accepted.
func TestOptionsWithinTheCapsRunAsStored(t *testing.T) {
	e := newEnv(t, -1)
	const columns = 1999 // with Email, the most a file may have
	var header, doc strings.Builder
	header.WriteString("Email")
	doc.WriteString(`{"mapping":{`)
	for i := range columns {
		col := fmt.Sprintf("column %04d %s", i, strings.Repeat("x", 14)) // 26 bytes: 32 a mapping, 34 in jsonb
		header.WriteString("," + col)
		if i > 0 {
			doc.WriteString(",")
		}
		fmt.Fprintf(&doc, "%q:%q", col, "")
	}
	doc.WriteString("}}")
	opts, err := crm.ParseOptions([]byte(doc.String()))
	if err != nil {
		t.Fatalf("the client's %d-byte document: %v", doc.Len(), err)
	}
	r := e.importCSV(header.String()+"\nann@acme.com"+strings.Repeat(",x", columns)+"\n", opts)
	checkOutcomes(t, r.Outcomes, map[int]string{2: "created"})
}
