package importer_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/leadpipe/leadpipe/crm"
)

// SPEC §4: values are trimmed; an empty cell never clears an existing value.
func TestTrimAndEmptyCells(t *testing.T) {
	e := newEnv(t, -1)
	r := e.importCSV("Email,First Name,Last Name,Title,City\n"+
		"  ann@acme.com  ,  Ann ,Lee,\tCEO ,Paris\n", crm.Options{})
	checkOutcomes(t, r.Outcomes, map[int]string{2: "created"})
	e.checkProspect("ann@acme.com", map[string]string{
		"email": "ann@acme.com", "first_name": "Ann", "last_name": "Lee", "title": "CEO", "city": "Paris"})

	r = e.importCSV("Email,First Name,Last Name,Title,City\n"+
		"ann@acme.com,,  ,CTO,\n"+
		"ann@acme.com, , ,,\n", crm.Options{})
	checkOutcomes(t, r.Outcomes, map[int]string{2: "updated", 3: "unchanged"})
	e.checkProspect("ann@acme.com", map[string]string{
		"email": "ann@acme.com", "first_name": "Ann", "last_name": "Lee", "title": "CTO", "city": "Paris"})
}

// SPEC §4, §6: an invalid email skips the row, even when the row has another identifier.
func TestEmailValidity(t *testing.T) {
	e := newEnv(t, -1)
	r := e.importCSV("Email,First Name,Phone\n"+
		"ann@acme.com,Ann,555-0100\n"+ // 2
		"bad@@acme.com,Bob,555-0100\n"+ // 3: two @, though the phone identifies ann
		"cat@acme,Cat,\n"+ // 4: no top-level domain
		"dan@acme.c0m,Dan,\n"+ // 5: top-level domain with a digit
		"eve smith@acme.com,Eve,\n"+ // 6: space in the local part
		" fay@sub.acme.co.uk ,Fay,\n"+ // 7: valid once trimmed
		"gus@acme.com.,Gus,\n"+ // 8: trailing dot
		"@acme.com,Ivy,\n"+ // 9: empty local part
		"joe@acme.x,Joe,\n"+ // 10: one-letter top-level domain
		"kim.o'hara+tag@my-co.example.org,Kim,\n"+ // 11: valid
		"lee@acme_corp.com,Lee,\n", // 12: '_' in the domain
		crm.Options{UniqueIdentifier: "phone"})
	checkOutcomes(t, r.Outcomes, map[int]string{
		2: "created", 3: "skipped:invalid_email", 4: "skipped:invalid_email", 5: "skipped:invalid_email",
		6: "skipped:invalid_email", 7: "created", 8: "skipped:invalid_email", 9: "skipped:invalid_email",
		10: "skipped:invalid_email", 11: "created", 12: "skipped:invalid_email",
	})
	e.checkProspects([]map[string]string{
		{"email": "ann@acme.com", "first_name": "Ann", "phone": "555-0100"},
		{"email": "fay@sub.acme.co.uk", "first_name": "Fay"},
		{"email": "kim.o'hara+tag@my-co.example.org", "first_name": "Kim"},
	})
}

// SPEC §4: booleans. 0 is no value and never overwrites; garbage is a warning.
func TestBooleans(t *testing.T) {
	e := newEnv(t, -1)
	r := e.importCSV("Email,Email Opt In\n"+
		"a@x.com,1\n"+
		"b@x.com,TRUE\n"+
		"c@x.com,Yes\n"+
		"d@x.com,false\n"+
		"e@x.com,NO\n"+
		"f@x.com,0\n"+
		"g@x.com,maybe\n"+
		"h@x.com, true \n", crm.Options{})
	checkOutcomes(t, r.Outcomes, map[int]string{2: "created", 3: "created", 4: "created", 5: "created",
		6: "created", 7: "created", 8: "created", 9: "created"})
	checkWarnings(t, r.Warnings, map[int][]string{8: {"email_opt_in:invalid_boolean"}})
	e.checkProspects([]map[string]string{
		{"email": "a@x.com", "email_opt_in": "true"},
		{"email": "b@x.com", "email_opt_in": "true"},
		{"email": "c@x.com", "email_opt_in": "true"},
		{"email": "d@x.com", "email_opt_in": "false"},
		{"email": "e@x.com", "email_opt_in": "false"},
		{"email": "f@x.com"},
		{"email": "g@x.com"},
		{"email": "h@x.com", "email_opt_in": "true"},
	})

	r = e.importCSV("Email,Email Opt In\n"+
		"h@x.com,0\n"+ // no value: stays true
		"a@x.com,no\n"+
		"b@x.com,nope\n"+ // warning: stays true
		"d@x.com,yes\n", crm.Options{})
	checkOutcomes(t, r.Outcomes, map[int]string{2: "unchanged", 3: "updated", 4: "unchanged", 5: "updated"})
	checkWarnings(t, r.Warnings, map[int][]string{4: {"email_opt_in:invalid_boolean"}})
	e.checkProspect("h@x.com", map[string]string{"email": "h@x.com", "email_opt_in": "true"})
	e.checkProspect("a@x.com", map[string]string{"email": "a@x.com", "email_opt_in": "false"})
	e.checkProspect("b@x.com", map[string]string{"email": "b@x.com", "email_opt_in": "true"})
	e.checkProspect("d@x.com", map[string]string{"email": "d@x.com", "email_opt_in": "true"})
}

// SPEC §4: picklists, multi-picklists, dates, numbers and lengths.
func TestTypedValues(t *testing.T) {
	e := newEnv(t, -1)
	e.addField(crm.Field{Key: "industry", Label: "Industry", Type: crm.Picklist, Options: []string{"Software", "Retail", "Health Care"}})
	e.addField(crm.Field{Key: "interests", Label: "Interests", Type: crm.MultiPicklist, Options: []string{"Golf", "Tennis", "Chess"}})
	e.addField(crm.Field{Key: "birthday", Label: "Birthday", Type: crm.Date})
	e.addField(crm.Field{Key: "score", Label: "Score", Type: crm.Number})
	e.addField(crm.Field{Key: "nickname", Label: "Nickname", Type: crm.Text, MaxLength: 5})
	long := strings.Repeat("x", 129)
	r := e.importCSV("Email,Industry,Interests,Birthday,Score,Nickname,Title\n"+
		"a@x.com,software,golf; TENNIS,3/7/2024,42.5,Al,\n"+
		"b@x.com,Mining,Golf;Darts;chess,2024-02-29,12,Bobby-boy,\n"+
		"c@x.com, health care ,,2/30/2024,1e3,,\n"+
		"d@x.com,RETAIL,Darts,13/1/2024,-0.5,Dee,"+long+"\n"+
		"e@x.com,,,12/31/1999,abc,Émile,Boss\n", crm.Options{})
	checkOutcomes(t, r.Outcomes, map[int]string{2: "created", 3: "created", 4: "created", 5: "created", 6: "created"})
	checkWarnings(t, r.Warnings, map[int][]string{
		3: {"industry:invalid_picklist_value", "interests:invalid_picklist_value", "nickname:value_too_long"},
		4: {"birthday:invalid_date", "score:invalid_number"},
		5: {"interests:invalid_picklist_value", "birthday:invalid_date", "title:value_too_long"},
		6: {"score:invalid_number"},
	})
	if got, want := fmt.Sprint(r.Sum.WarningsByKind), "map[invalid_date:2 invalid_number:2 invalid_picklist_value:3 value_too_long:2]"; got != want {
		t.Errorf("Summary.WarningsByKind = %s, want %s", got, want)
	}
	e.checkProspects([]map[string]string{
		{"email": "a@x.com", "custom.industry": "Software", "custom.interests": "Golf;Tennis",
			"custom.birthday": "2024-03-07", "custom.score": "42.5", "custom.nickname": "Al"},
		{"email": "b@x.com", "custom.interests": "Golf;Chess", "custom.birthday": "2024-02-29", "custom.score": "12"},
		{"email": "c@x.com", "custom.industry": "Health Care"},
		{"email": "d@x.com", "custom.industry": "Retail", "custom.score": "-0.5", "custom.nickname": "Dee"},
		{"email": "e@x.com", "custom.birthday": "1999-12-31", "custom.nickname": "Émile", "title": "Boss"},
	})
}

// SPEC §5: overwrite, update_if_empty, ignore and merge.
func TestFieldPolicies(t *testing.T) {
	e := newEnv(t, -1)
	e.addField(crm.Field{Key: "interests", Label: "Interests", Type: crm.MultiPicklist, Options: []string{"Golf", "Tennis", "Chess"}})
	r := e.importCSV("Email,Title,City,Phone,Interests\n"+
		"a@x.com,CEO,Paris,111,Golf;Chess\n"+
		"b@x.com,,,222,\n", crm.Options{})
	checkOutcomes(t, r.Outcomes, map[int]string{2: "created", 3: "created"})

	policies := crm.Options{FieldPolicies: map[string]crm.Policy{
		"title": crm.Overwrite, "city": crm.UpdateIfEmpty, "phone": crm.Ignore, "interests": crm.Merge}}
	r = e.importCSV("Email,Title,City,Phone,Interests\n"+
		"a@x.com,CTO,Berlin,999,Tennis;golf\n"+
		"b@x.com,VP,Rome,999,Tennis\n"+
		"c@x.com,Dev,Oslo,333,Chess\n"+
		"a@x.com,CTO,Madrid,000,Chess;Tennis\n", policies)
	checkOutcomes(t, r.Outcomes, map[int]string{2: "updated", 3: "updated", 4: "created", 5: "unchanged"})
	e.checkProspects([]map[string]string{
		{"email": "a@x.com", "title": "CTO", "city": "Paris", "phone": "111", "custom.interests": "Golf;Chess;Tennis"},
		{"email": "b@x.com", "title": "VP", "city": "Rome", "phone": "222", "custom.interests": "Tennis"},
		{"email": "c@x.com", "title": "Dev", "city": "Oslo", "custom.interests": "Chess"},
	})

	// Without merge a multi-picklist is overwritten.
	r = e.importCSV("Email,Interests\na@x.com,chess\n", crm.Options{})
	checkOutcomes(t, r.Outcomes, map[int]string{2: "updated"})
	e.checkProspect("a@x.com", map[string]string{"email": "a@x.com", "title": "CTO", "city": "Paris", "phone": "111", "custom.interests": "Chess"})
}
