package importer_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/kind"
	"github.com/leadpipe/leadpipe/kinds/objects"
	"github.com/leadpipe/leadpipe/store"
)

// newObjectType creates the object type subscription (identified by serial, created with it)
// with the fields plan (text) and seats (number), checked against the kind as field add does.
func (e *tenv) newObjectType() store.ObjectType {
	e.t.Helper()
	ty, err := objects.Create(e.ctx, e.pool, e.acct.ID, "subscription", "Subscription", "serial")
	if err != nil {
		e.t.Fatal(err)
	}
	k, err := importer.KindOf(e.ctx, e.pool, e.acct.ID, "subscription")
	if err != nil {
		e.t.Fatal(err)
	}
	for _, f := range []crm.Field{{Key: "plan", Label: "Plan", Type: crm.Text}, {Key: "seats", Label: "Seats", Type: crm.Number}} {
		if err := importer.CheckField(k, f); err != nil {
			e.t.Fatal(err)
		}
		if err := store.AddField(e.ctx, e.pool, e.acct.ID, k.Name(), f); err != nil {
			e.t.Fatal(err)
		}
	}
	return ty
}

// objectRecords lists the account's records of type t, oldest first, as
// "identifier|prospect id|plan|seats".
func (e *tenv) objectRecords(t store.ObjectType) []string {
	e.t.Helper()
	rows, err := e.pool.Query(e.ctx, `SELECT identifier_value || '|' || coalesce(prospect_id::text, '') || '|' ||
			coalesce(custom->>'plan', '') || '|' || coalesce(custom->>'seats', '')
		FROM object_records WHERE account_id = $1 AND object_type_id = $2 ORDER BY id`, e.acct.ID, t.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// addProspect creates a prospect by a prospects import and returns its id.
func (e *tenv) addProspect(email string) int64 {
	e.t.Helper()
	k := e.Kind
	e.Kind = ""
	defer func() { e.Kind = k }()
	r := e.importCSV("Email\n"+email+"\n", crm.Options{})
	if r.Outcomes[2] != "created" {
		e.t.Fatalf("prospect %s: %v", email, r.Outcomes)
	}
	return r.Prospects[2]
}

// An import into a custom object type matches records by the type's identifying field (exact
// after the value rules), creates the others, links each to a prospect by email without ever
// creating one, and gives the outcomes of applying the rows one at a time in file order
// whatever the batch size.
func TestObjectImport(t *testing.T) {
	const file = "Serial,Plan,Seats,Prospect Email\n" +
		"S-1,Basic,5,ANN@acme.com\n" + // 2 created, linked to ann (emails compare case aside)
		"S-2,Pro,,nobody@acme.com\n" + // 3 created, unlinked: no such prospect
		",Basic,1,ann@acme.com\n" + // 4 no identifier
		"S-1,Pro,,\n" + // 5 the record row 2 created: plan changes
		"S-3,Basic,2,\n" + // 6 created
		"s-3,Basic,2,\n" + // 7 another serial: identifiers are exact
		"S-3,Basic,2.0,\n" // 8 the same values (2.0 is 2): unchanged
	wantOutcomes := map[int]string{2: "created", 3: "created", 4: "skipped:missing_identifier", 5: "updated",
		6: "created", 7: "created", 8: "unchanged"}
	for _, batch := range []int{1, 2, 3, 1000} {
		t.Run(fmt.Sprintf("batch %d", batch), func(t *testing.T) {
			e := newEnv(t, -1)
			ann := e.addProspect("ann@acme.com")
			ty := e.newObjectType()
			e.Kind, e.Batch = "subscription", batch
			r := e.importCSV(file, crm.Options{})
			checkOutcomes(t, r.Outcomes, wantOutcomes)
			checkWarnings(t, r.Warnings, map[int][]string{3: {"prospect_email:prospect_not_found"}})
			checkCounts(t, r.Sum.Counts, "rows=7 created=4 updated=1 unchanged=1 skipped=1 orgs_created=0 orgs_linked=0")
			if r.Prospects[5] != r.Prospects[2] || r.Prospects[8] != r.Prospects[6] || r.Prospects[7] == r.Prospects[6] {
				t.Errorf("entity ids by row %v: rows 2 and 5, 6 and 8 are one record each, 7 another", r.Prospects)
			}
			equalStrings(t, "records", e.objectRecords(ty), []string{
				fmt.Sprintf("S-1|%d|Pro|5", ann), "S-2||Pro|", "S-3||Basic|2", "s-3||Basic|2"})
			if ps := e.prospects(); len(ps) != 1 || ps[0]["email"] != "ann@acme.com" {
				t.Errorf("prospects %v, want ann@acme.com alone: an object import creates none", ps)
			}
			var kind string
			if err := e.pool.QueryRow(e.ctx, "SELECT kind FROM imports WHERE id = $1", r.Sum.ImportID).Scan(&kind); err != nil || kind != "subscription" {
				t.Errorf("imports.kind = %q, %v; want subscription", kind, err)
			}
		})
	}
}

// A later import updates, links, leaves unchanged, and follows the field policies and
// create_new/update_existing.
func TestObjectImportPolicies(t *testing.T) {
	e := newEnv(t, -1)
	ann := e.addProspect("ann@acme.com")
	ty := e.newObjectType()
	e.Kind = "subscription"
	e.importCSV("Serial,Plan,Seats\nS-1,Basic,5\nS-2,Pro,\n", crm.Options{})

	r := e.importCSV("Serial,Plan,Seats,Contact Email\n"+
		"S-1,Basic,5,\n"+ // 2 unchanged
		"S-2,Gold,7,ann@acme.com\n"+ // 3 plan ignored; seats set; linked
		"S-1,Gold,9,\n"+ // 4 seats kept (update_if_empty)
		"S-2,Pro,7,Ann@Acme.com\n", // 5 the same link (in the next batch): unchanged
		crm.Options{FieldPolicies: map[string]crm.Policy{"plan": crm.Ignore, "seats": crm.UpdateIfEmpty}})
	checkOutcomes(t, r.Outcomes, map[int]string{2: "unchanged", 3: "updated", 4: "unchanged", 5: "unchanged"})
	equalStrings(t, "records", e.objectRecords(ty), []string{"S-1||Basic|5", fmt.Sprintf("S-2|%d|Pro|7", ann)})

	no := false
	r = e.importCSV("Serial,Plan\nS-1,Gold\nS-4,Gold\n", crm.Options{CreateNew: &no})
	checkOutcomes(t, r.Outcomes, map[int]string{2: "updated", 3: "skipped:new_not_allowed"})
	r = e.importCSV("Serial,Plan\nS-1,Pro\nS-4,Gold\n", crm.Options{UpdateExisting: &no})
	checkOutcomes(t, r.Outcomes, map[int]string{2: "skipped:existing_not_updated", 3: "created"})
	equalStrings(t, "records", e.objectRecords(ty), []string{"S-1||Gold|5", fmt.Sprintf("S-2|%d|Pro|7", ann), "S-4||Gold|"})
}

// Under the ignore policy of the prospect link, rows link no prospect and warn of none: a
// record keeps its link, whatever email the row gives.
func TestObjectImportProspectIgnored(t *testing.T) {
	e := newEnv(t, -1)
	ann := e.addProspect("ann@acme.com")
	ty := e.newObjectType()
	e.Kind = "subscription"
	e.importCSV("Serial,Prospect Email\nS-1,ann@acme.com\n", crm.Options{})

	r := e.importCSV("Serial,Plan,Prospect Email\n"+
		"S-1,Pro,nobody@acme.com\n"+ // 2 updated; keeps ann, no warning
		"S-2,Basic,ann@acme.com\n", // 3 created without a link
		crm.Options{FieldPolicies: map[string]crm.Policy{crm.FieldProspect: crm.Ignore}})
	checkOutcomes(t, r.Outcomes, map[int]string{2: "updated", 3: "created"})
	checkWarnings(t, r.Warnings, map[int][]string{})
	if len(r.Sum.WarningsByKind) != 0 {
		t.Errorf("warnings by kind %v, want none", r.Sum.WarningsByKind)
	}
	equalStrings(t, "records", e.objectRecords(ty), []string{fmt.Sprintf("S-1|%d|Pro|", ann), "S-2||Basic|"})
}

// The options that do not apply to object records are refused, each named; unique_identifier
// may only name the type's identifier.
func TestObjectImportOptions(t *testing.T) {
	e := newEnv(t, -1)
	e.newObjectType()
	e.Kind = "subscription"
	path := writeFile(t, "s.csv", "Serial\nS-1\n")
	_, err := e.runNow(path, crm.Options{List: "L", Tags: []string{"t"}, Campaign: "C", LeadSource: "web", Owner: "x",
		MatchByName: true, SplitFullName: true, UniqueIdentifier: "plan"}, 10, false)
	if !errors.Is(err, crm.ErrInvalidOptions) {
		t.Fatalf("import with prospect options: %v, want invalid options", err)
	}
	for _, opt := range []string{"list", "tags", "campaign", "lead_source", "owner", "match_by_name", "split_full_name"} {
		if !strings.Contains(err.Error(), opt+`: does not apply to an import of kind "subscription"`) {
			t.Errorf("error %q does not refuse %s", err, opt)
		}
	}
	if !strings.Contains(err.Error(), `unique_identifier: records of object type "subscription" match by their identifier "serial" only`) {
		t.Errorf("error %q does not refuse unique_identifier plan", err)
	}
	if sum, err := e.runNow(path, crm.Options{UniqueIdentifier: "serial"}, 10, false); err != nil || sum.Counts.Created != 1 {
		t.Errorf("import with unique_identifier serial: %+v, %v; want 1 created", sum.Counts, err)
	}
}

// An object type is a kind of its account's imports only: another account's type of the same
// key is another kind, with records of its own, and an account without it does not know it.
func TestObjectKindsPerAccount(t *testing.T) {
	a := newEnv(t, -1)
	tyA := a.newObjectType()
	b := newEnv(t, -1)
	tyB, err := objects.Create(b.ctx, b.pool, b.acct.ID, "subscription", "Subscription", "code")
	if err != nil {
		t.Fatal(err)
	}
	a.Kind, b.Kind = "subscription", "subscription"
	a.importCSV("Serial,Plan\nS-1,Basic\n", crm.Options{})
	// b's type is identified by code: a serial column maps to nothing there.
	r := b.importCSV("Code,Serial\nS-1,S-9\n", crm.Options{})
	checkOutcomes(t, r.Outcomes, map[int]string{2: "created"})
	equalStrings(t, "a's records", a.objectRecords(tyA), []string{"S-1||Basic|"})
	equalStrings(t, "b's records", b.objectRecords(tyB), []string{"S-1|||"})

	c := newEnv(t, -1)
	c.Kind = "subscription"
	_, err = c.runNow(writeFile(t, "s.csv", "Serial\nS-1\n"), crm.Options{}, 10, false)
	builtin := strings.Join(importer.Kinds(), ", ")
	if err == nil || !strings.Contains(err.Error(), `unknown kind "subscription" (want `+builtin+`)`) {
		t.Errorf("import into an account without the type: %v, want unknown kind", err)
	}
	a.Kind = "vehicle"
	_, err = a.runNow(writeFile(t, "s.csv", "Serial\nS-1\n"), crm.Options{}, 10, false)
	if want := `unknown kind "vehicle" (want ` + builtin + `; or one of the account's object types: subscription)`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("import of an unknown kind: %v, want %q", err, want)
	}
}

// An object type identified by an email field matches its records case aside, as the store
// compares emails.
func TestObjectEmailIdentifier(t *testing.T) {
	e := newEnv(t, -1)
	ty, err := store.CreateObjectType(e.ctx, e.pool, e.acct.ID, "member", "Member", "member_email")
	if err != nil {
		t.Fatal(err)
	}
	if err := store.AddField(e.ctx, e.pool, e.acct.ID, "member", crm.Field{Key: "member_email", Label: "Member Email", Type: crm.Email}); err != nil {
		t.Fatal(err)
	}
	e.Kind = "member"
	r := e.importCSV("Member Email\nAda@Example.com\nada@example.COM\nbad@\n", crm.Options{})
	checkOutcomes(t, r.Outcomes, map[int]string{2: "created", 3: "unchanged", 4: "skipped:missing_identifier"})
	checkWarnings(t, r.Warnings, map[int][]string{4: {"member_email:invalid_email"}})
	var n int
	if err := e.pool.QueryRow(e.ctx, "SELECT count(*) FROM object_records WHERE object_type_id = $1 AND identifier_value = 'ada@example.com'", ty.ID).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d records ada@example.com, %v; want 1", n, err)
	}
}

// A queued object import is planned again from what was recorded, its kind resolved in its
// account, when a worker runs it.
func TestObjectImportQueued(t *testing.T) {
	e := newEnv(t, -1)
	ty := e.newObjectType()
	e.Kind = "subscription"
	im := e.importer(2)
	imp, _, err := im.Submit(e.ctx, e.request(writeFile(t, "s.csv", "Serial,Plan\nS-1,Basic\nS-2,Pro\nS-1,Pro\n"), crm.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if imp.Kind != "subscription" {
		t.Errorf("queued import of kind %q, want subscription", imp.Kind)
	}
	sum, err := im.Run(e.ctx, e.claim(imp.ID, "worker-1"), "worker-1")
	if err != nil || sum.Status != store.StatusCompleted {
		t.Fatalf("run: status %q error %v", sum.Status, err)
	}
	checkOutcomes(t, e.rowsOf(imp.ID).Outcomes, map[int]string{2: "created", 3: "created", 4: "updated"})
	equalStrings(t, "records", e.objectRecords(ty), []string{"S-1||Pro|", "S-2||Pro|"})
}

// A dry run of an object import reports its outcomes and keeps nothing.
func TestObjectImportDryRun(t *testing.T) {
	e := newEnv(t, -1)
	ty := e.newObjectType()
	e.Kind = "subscription"
	sum, err := e.runNow(writeFile(t, "s.csv", "Serial,Plan\nS-1,Basic\nS-1,Pro\n,x\n"), crm.Options{}, 1, true)
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, sum.Counts, "rows=3 created=1 updated=1 unchanged=0 skipped=1 orgs_created=0 orgs_linked=0")
	if recs := e.objectRecords(ty); len(recs) != 0 {
		t.Errorf("a dry run kept records %v", recs)
	}
}

// Concurrent imports into one type write their batches one after another: an import whose
// record another import is creating meanwhile waits for it and then matches it, instead of
// creating it a second time.
func TestObjectImportWaitsForConcurrentWriter(t *testing.T) {
	e := newEnv(t, -1)
	ty := e.newObjectType()
	e.Kind = "subscription"
	c, err := importer.KindOf(e.ctx, e.pool, e.acct.ID, "subscription")
	if err != nil {
		t.Fatal(err)
	}
	catalog, err := kind.Catalog(e.ctx, e.pool, c, e.acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The other writer: a transaction that locks the type as a batch does and creates S-1.
	tx, err := e.pool.Begin(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.WithoutCancel(e.ctx)) //nolint:errcheck
	if err := store.LockObjectType(e.ctx, tx, ty); err != nil {
		t.Fatal(err)
	}
	id, err := store.NewIDPool("object_record").Next(e.ctx, tx)
	if err != nil {
		t.Fatal(err)
	}
	rec := store.Record{ID: id, Values: make([]string, len(catalog.Fields))}
	rec.Values[catalog.MustIndex("serial")], rec.Values[catalog.MustIndex("plan")] = "S-1", "Basic"
	if err := store.InsertObjectRecords(e.ctx, tx, ty, catalog, e.acct.ID, []store.Record{rec}); err != nil {
		t.Fatal(err)
	}
	type ran struct {
		r   result
		err error
	}
	done := make(chan ran, 1)
	go func() {
		sum, err := e.runNow(writeFile(t, "s.csv", "Serial,Plan\nS-1,Pro\n"), crm.Options{}, 10, false)
		done <- ran{result{Sum: sum}, err}
	}()
	time.Sleep(300 * time.Millisecond) // let the import reach the lock
	select {
	case r := <-done:
		t.Fatalf("the import did not wait for the other writer: %+v, %v", r.r.Sum, r.err)
	default:
	}
	if err := tx.Commit(e.ctx); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || r.r.Sum.Status != store.StatusCompleted {
		t.Fatalf("import: status %q (%s), error %v", r.r.Sum.Status, r.r.Sum.Error, r.err)
	}
	checkOutcomes(t, e.rowsOf(r.r.Sum.ImportID).Outcomes, map[int]string{2: "updated"})
	equalStrings(t, "records", e.objectRecords(ty), []string{"S-1||Pro|"})
}
