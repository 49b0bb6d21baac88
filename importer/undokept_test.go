package importer_test

// What an import keeps so that an undo can take it back (import_rows.undo, issue 13), for every
// kind: on an updated row, the stored fields it changed, old and new, in catalog order, and the
// record's updated_at as it was before the import when the row made the batch's first change
// to it; on a row that created an organization besides its own record, that organization.
// Every other row keeps nothing (NULL). Each test imports A, then B with field policies (a
// multi-picklist merged), and compares what B's rows kept with hand-written JSON. Emails are
// at a free-mail provider, so that organizations match by name only.

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/store"
)

// undoKept returns what each row of an import kept for undo, by row number: import_rows.undo
// in canonical JSON (canonJSON), or NULL.
func (e *tenv) undoKept(importID int64) map[int]string {
	e.t.Helper()
	rows, err := e.pool.Query(e.ctx, `SELECT row_number, coalesce(undo::text, 'NULL') FROM import_rows
		WHERE import_id = $1 ORDER BY row_number`, importID)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	out := map[int]string{}
	for rows.Next() {
		var n int
		var undo string
		if err := rows.Scan(&n, &undo); err != nil {
			e.t.Fatal(err)
		}
		out[n] = canonJSON(e.t, undo)
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// canonJSON writes a JSON document with its objects' keys sorted and no spaces, as jsonb's
// text and a hand-written expectation compare; NULL stays NULL.
func canonJSON(t *testing.T, s string) string {
	t.Helper()
	if s == "NULL" {
		return s
	}
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// checkUndoKept compares what an import's rows kept for undo with the expected JSON.
func (e *tenv) checkUndoKept(importID int64, want map[int]string) {
	e.t.Helper()
	for n, w := range want {
		want[n] = canonJSON(e.t, w)
	}
	checkOutcomes(e.t, e.undoKept(importID), want)
}

// id returns the id the query (with the account id as $1 and arg as $2) selects.
func (e *tenv) id(sql string, arg any) int64 {
	e.t.Helper()
	var id int64
	if err := e.pool.QueryRow(e.ctx, sql, e.acct.ID, arg).Scan(&id); err != nil {
		e.t.Fatalf("%s (%v): %v", sql, arg, err)
	}
	return id
}

func (e *tenv) orgID(name string) int64 {
	return e.id("SELECT id FROM organizations WHERE account_id = $1 AND name = $2", name)
}

// updatedAt returns the updated_at of the record id of table as an undo keeps it.
func (e *tenv) updatedAt(table string, id int64) string {
	e.t.Helper()
	var at time.Time
	if err := e.pool.QueryRow(e.ctx, "SELECT updated_at FROM "+table+" WHERE id = $1", id).Scan(&at); err != nil {
		e.t.Fatal(err)
	}
	return at.UTC().Format(time.RFC3339Nano)
}

func TestProspectImportKeepsWhatItOverwrote(t *testing.T) {
	e := newEnv(t, -1)
	jdoe, rroe := e.addUser("jdoe", "jane@example.com", "Jane Doe"), e.addUser("rroe", "rick@example.com", "Rick Roe")
	e.addField(crm.Field{Key: "interests", Label: "Interests", Type: crm.MultiPicklist, Options: []string{"Golf", "Tennis", "Chess"}})
	a := e.importCSV("Email,First Name,Title,City,Interests,Lead Owner,Organization\n"+
		"ann@gmail.com,Ann,CEO,Paris,Golf,jdoe,Acme\n"+ // 2 created with Acme
		"bob@gmail.com,Bob,CTO,Rome,Tennis,jdoe,\n"+ // 3
		"cy@gmail.com,Cy,VP,Oslo,,,Acme\n", // 4 linked to the Acme row 2 made
		crm.Options{Tags: []string{"vip"}})
	acme := e.orgID("Acme")
	e.checkUndoKept(a.Sum.ImportID, map[int]string{2: fmt.Sprintf(`{"m":[["organizations",%d]]}`, acme), 3: "NULL", 4: "NULL"})
	ann, cy := e.prospectID("ann@gmail.com"), e.prospectID("cy@gmail.com")
	annAt, cyAt := e.updatedAt("prospects", ann), e.updatedAt("prospects", cy)

	e.Batch = 1000 // one batch: row 7 changes what row 2 changed
	b := e.importCSV("Email,Title,City,Interests,Lead Owner,Organization\n"+
		"ann@gmail.com,Chairman,Lyon,Chess,rroe,Globex\n"+ // 2 title, owner, a new organization, interests merged; city kept
		"bob@gmail.com,CTO,,Tennis,jdoe,\n"+ // 3 unchanged
		"CY@GMAIL.com,VP,Nice,,,Globex\n"+ // 4 linked to the Globex row 2 made
		"dan@gmail.com,Dev,Nice,,,Initech\n"+ // 5 created with Initech
		"eve@gmail.com,Ops,,,,\n"+ // 6 created
		"ann@gmail.com,Chair,,Tennis,,\n", // 7 ann again, as row 2 left her
		crm.Options{List: "Spring", Tags: []string{"vip"},
			FieldPolicies: map[string]crm.Policy{"interests": crm.Merge, "city": crm.UpdateIfEmpty}})
	checkOutcomes(t, b.Outcomes, map[int]string{2: "updated", 3: "unchanged", 4: "updated", 5: "created", 6: "created", 7: "updated"})
	globex, initech := e.orgID("Globex"), e.orgID("Initech")
	e.checkUndoKept(b.Sum.ImportID, map[int]string{
		2: fmt.Sprintf(`{"c":[["title","CEO","Chairman"],["lead_owner","%d","%d"],["organization","%d","%d"],["interests","Golf","Golf;Chess"]],
			"u":%q,"m":[["organizations",%d]]}`, jdoe.ID, rroe.ID, acme, globex, annAt, globex),
		3: "NULL",
		4: fmt.Sprintf(`{"c":[["organization","%d","%d"]],"u":%q}`, acme, globex, cyAt),
		5: fmt.Sprintf(`{"m":[["organizations",%d]]}`, initech),
		6: "NULL",
		7: `{"c":[["title","Chairman","Chair"],["interests","Golf;Chess","Golf;Chess;Tennis"]]}`,
	})
	// The list B created names B; the tag A created stays A's.
	equalStrings(t, "groupings", e.strings(`SELECT kind || ':' || name || '=' || coalesce(import_id::text, '')
		FROM groupings WHERE account_id = $1 ORDER BY kind, name`),
		[]string{fmt.Sprintf("list:Spring=%d", b.Sum.ImportID), fmt.Sprintf("tag:vip=%d", a.Sum.ImportID)})

	// Re-importing B's file changes nothing and keeps nothing.
	b2 := e.importCSV("Email,Title\nann@gmail.com,Chair\nbob@gmail.com,CTO\n", crm.Options{})
	e.checkUndoKept(b2.Sum.ImportID, map[int]string{2: "NULL", 3: "NULL"})
}

func TestDealImportKeepsWhatItOverwrote(t *testing.T) {
	e := newEnv(t, -1)
	jdoe, rroe := e.addUser("jdoe", "jane@example.com", "Jane Doe"), e.addUser("rroe", "rick@example.com", "Rick Roe")
	ann, bob := e.addProspect("ann@gmail.com"), e.addProspect("bob@gmail.com")
	if err := store.AddField(e.ctx, e.pool, e.acct.ID, "deals", crm.Field{Key: "products", Label: "Products",
		Type: crm.MultiPicklist, Options: []string{"Basic", "Pro"}}); err != nil {
		t.Fatal(err)
	}
	e.Kind = "deals"
	a := e.importCSV("Name,Amount,Stage,Owner,Organization,Prospect Email,Products\n"+
		"Renewal,100,proposal,jdoe,Acme,ann@gmail.com,Basic\n"+
		"Upsell,200,,,,bob@gmail.com,\n", crm.Options{})
	acme := e.orgID("Acme")
	e.checkUndoKept(a.Sum.ImportID, map[int]string{2: fmt.Sprintf(`{"m":[["organizations",%d]]}`, acme), 3: "NULL"})
	renewal := a.Prospects[2]
	renewalAt := e.updatedAt("deals", renewal)

	b := e.importCSV("Name,Amount,Stage,Owner,Organization,Prospect Email,Products\n"+
		"Renewal,150,,rroe,Acme,bob@gmail.com,Pro\n"+ // 2 amount, owner, prospect; products merged
		"Upsell,200,,,,bob@gmail.com,\n"+ // 3 unchanged
		"Pilot,50,,,Initech,ann@gmail.com,\n"+ // 4 created with Initech
		"Trial,,,,,,\n", // 5 created
		crm.Options{FieldPolicies: map[string]crm.Policy{"products": crm.Merge}})
	checkOutcomes(t, b.Outcomes, map[int]string{2: "updated", 3: "unchanged", 4: "created", 5: "created"})
	e.checkUndoKept(b.Sum.ImportID, map[int]string{
		2: fmt.Sprintf(`{"c":[["amount","100","150"],["owner","%d","%d"],["prospect","%d","%d"],["products","Basic","Basic;Pro"]],"u":%q}`,
			jdoe.ID, rroe.ID, ann, bob, renewalAt),
		3: "NULL",
		4: fmt.Sprintf(`{"m":[["organizations",%d]]}`, e.orgID("Initech")),
		5: "NULL",
	})
}

func TestOrganizationImportKeepsWhatItOverwrote(t *testing.T) {
	e := newEnv(t, -1)
	if err := store.AddField(e.ctx, e.pool, e.acct.ID, "organizations", crm.Field{Key: "regions", Label: "Regions",
		Type: crm.MultiPicklist, Options: []string{"EMEA", "APAC"}}); err != nil {
		t.Fatal(err)
	}
	e.Kind, e.Batch = "organizations", 1000
	a := e.importCSV("Name,Domain,Industry,Regions\nAcme,acme.com,Software,EMEA\nGlobex,globex.com,,APAC\n", crm.Options{})
	e.checkUndoKept(a.Sum.ImportID, map[int]string{2: "NULL", 3: "NULL"})
	acme := a.Prospects[2]
	acmeAt := e.updatedAt("organizations", acme)

	b := e.importCSV("Name,Domain,Industry,Regions\n"+
		"ACME,,Retail,APAC\n"+ // 2 industry; regions merged; the name's spelling stays
		"Globex,globex.com,,APAC\n"+ // 3 unchanged
		"Initech,initech.com,,\n"+ // 4 created
		"Acme,acme.io,,\n", // 5 Acme again, as row 2 left it
		crm.Options{FieldPolicies: map[string]crm.Policy{"regions": crm.Merge}})
	checkOutcomes(t, b.Outcomes, map[int]string{2: "updated", 3: "unchanged", 4: "created", 5: "updated"})
	e.checkUndoKept(b.Sum.ImportID, map[int]string{
		2: fmt.Sprintf(`{"c":[["industry","Software","Retail"],["regions","EMEA","EMEA;APAC"]],"u":%q}`, acmeAt),
		3: "NULL",
		4: "NULL",
		5: `{"c":[["domain","acme.com","acme.io"]]}`,
	})
}

func TestObjectImportKeepsWhatItOverwrote(t *testing.T) {
	e := newEnv(t, -1)
	ann, bob := e.addProspect("ann@gmail.com"), e.addProspect("bob@gmail.com")
	e.newObjectType()
	if err := store.AddField(e.ctx, e.pool, e.acct.ID, "subscription", crm.Field{Key: "features", Label: "Features",
		Type: crm.MultiPicklist, Options: []string{"SSO", "Audit"}}); err != nil {
		t.Fatal(err)
	}
	e.Kind = "subscription"
	a := e.importCSV("Serial,Plan,Seats,Features,Prospect Email\nS-1,Basic,5,SSO,ann@gmail.com\nS-2,Pro,10,,\n", crm.Options{})
	s1 := a.Prospects[2]
	s1At := e.updatedAt("object_records", s1)

	b := e.importCSV("Serial,Plan,Seats,Features,Prospect Email\n"+
		"S-1,Pro,5,Audit,bob@gmail.com\n"+ // 2 prospect, plan; features merged
		"S-2,Pro,10,,\n"+ // 3 unchanged
		"S-3,Basic,1,,\n", // 4 created
		crm.Options{FieldPolicies: map[string]crm.Policy{"features": crm.Merge}})
	checkOutcomes(t, b.Outcomes, map[int]string{2: "updated", 3: "unchanged", 4: "created"})
	e.checkUndoKept(b.Sum.ImportID, map[int]string{
		2: fmt.Sprintf(`{"c":[["prospect","%d","%d"],["plan","Basic","Pro"],["features","SSO","SSO;Audit"]],"u":%q}`, ann, bob, s1At),
		3: "NULL",
		4: "NULL",
	})
}
