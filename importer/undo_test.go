package importer_test

// Undoing an import (docs/undo.md): the account's records, fields, memberships and links go
// back to what they were before it, exactly, except what changed since, which is kept and
// reported.

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/store"
)

// undo undoes an import in the foreground and fails the test unless the undo completes.
func (e *tenv) undo(id int64, dryRun bool) importer.UndoSummary {
	e.t.Helper()
	sum, err := e.importer(e.Batch).UndoNow(e.ctx, importer.UndoRequest{Account: e.acct.Name, ImportID: id, Source: store.SourceCLI}, testOwner, dryRun)
	if err != nil {
		e.t.Fatalf("undo import %d: %v", id, err)
	}
	if sum.Status != store.StatusCompleted {
		e.t.Fatalf("undo import %d: status %q (%s), want completed", id, sum.Status, sum.Error)
	}
	return sum
}

// undoCounts formats an undo's counts as checkUndo compares them.
func undoCounts(c store.Counts) string {
	return "rows=" + strconv.Itoa(c.Rows) + " deleted=" + strconv.Itoa(c.Counters["deleted"]) + " restored=" + strconv.Itoa(c.Counters["restored"]) +
		" kept=" + strconv.Itoa(c.Counters["kept_changed_since"]) + " fields_kept=" + strconv.Itoa(c.Counters["fields_kept"]) +
		" unchanged=" + strconv.Itoa(c.Unchanged) + " orgs_deleted=" + strconv.Itoa(c.Counters["organizations_deleted"])
}

// state is everything of the account an import writes and an undo takes back, every column
// of every row (timestamps included), as JSON lines in id order.
func (e *tenv) state() string {
	e.t.Helper()
	var parts []string
	for _, q := range []string{
		`SELECT 'prospect ' || row_to_json(p)::text FROM prospects p WHERE account_id = $1 ORDER BY id`,
		`SELECT 'organization ' || row_to_json(o)::text FROM organizations o WHERE account_id = $1 ORDER BY id`,
		`SELECT 'deal ' || row_to_json(d)::text FROM deals d WHERE account_id = $1 ORDER BY id`,
		`SELECT 'object ' || row_to_json(r)::text FROM object_records r WHERE account_id = $1 ORDER BY id`,
		`SELECT 'grouping ' || g.kind || ':' || g.name || ' import ' || coalesce(g.import_id::text, '-') FROM groupings g WHERE account_id = $1 ORDER BY id`,
		`SELECT 'member ' || g.name || ' ' || m.prospect_id || ' import ' || coalesce(m.import_id::text, '-') || ' at ' || m.added_at
			FROM grouping_members m JOIN groupings g ON g.id = m.grouping_id WHERE g.account_id = $1 ORDER BY g.id, m.prospect_id`,
		`SELECT 'prospect_count ' || prospect_count FROM accounts WHERE id = $1`,
	} {
		parts = append(parts, e.strings(q)...)
	}
	return strings.Join(parts, "\n")
}

// checkState fails the test unless the account's state is want.
func (e *tenv) checkState(what, want string) {
	e.t.Helper()
	if got := e.state(); got != want {
		e.t.Errorf("%s: the account's state differs\n got:\n%s\nwant:\n%s", what, got, want)
	}
}

// undoFixture sets up an account with two users and a multi-picklist of interests.
func undoFixture(t *testing.T) *tenv {
	e := newEnv(t, -1)
	e.addUser("ann", "ann@corp.example", "Ann Owner")
	e.addUser("bob", "bob@corp.example", "Bob Owner")
	e.addField(crm.Field{Key: "interests", Label: "Interests", Type: crm.MultiPicklist, Options: []string{"a", "b", "c", "d"}})
	return e
}

// importA is the first import of the undo tests: four prospects, three organizations, a list and a tag.
const importA = "Email,First Name,Title,Company,Lead Owner,Interests\n" +
	"amy@gmail.com,Amy,CEO,Acme,ann,a\n" +
	"ben@gmail.com,Ben,CTO,Beta,,b\n" +
	"cid@gmail.com,Cid,,Acme,,\n" +
	"dot@gmail.com,Dot,VP,,,\n"

// importB updates three of A's prospects (title, owner, organization — a new one, Gamma —,
// first name, a merged multi-picklist), leaves one unchanged and creates two, one with a new
// organization (Delta) whom a later batch updates, adding all six to a new list and a tag A used
// already.
const importB = "Email,First Name,Title,Company,Lead Owner,Interests\n" +
	"amy@gmail.com,,Chief Executive,Gamma,bob,c\n" + // 2 updated: title, organization (Gamma, new), owner, interests a → a;c
	"ben@gmail.com,Benjamin,,,,\n" + // 3 updated: first name
	"cid@gmail.com,Cid,,Acme,,\n" + // 4 unchanged
	"eve@gmail.com,Eve,,Acme,,d\n" + // 5 created
	"fay@gmail.com,Fay,,Delta,,\n" + // 6 created, with Delta
	"amy@gmail.com,,,,,b\n" + // 7 updated again: interests a;c → a;c;b
	"fay@gmail.com,,Manager,,,\n" // 8 updates Fay, whom row 6 created

var (
	optionsA = crm.Options{List: "Webinar", Tags: []string{"t1"}}
	optionsB = crm.Options{List: "Spring", Tags: []string{"t1", "t2"}, FieldPolicies: map[string]crm.Policy{"interests": crm.Merge}}
)

func TestUndoTakesImportsBackExactly(t *testing.T) {
	e := undoFixture(t)
	before := e.state()
	a := e.importCSV(importA, optionsA)
	afterA := e.state()
	b := e.importCSV(importB, optionsB)
	checkOutcomes(t, b.Outcomes, map[int]string{2: "updated", 3: "updated", 4: "unchanged", 5: "created", 6: "created", 7: "updated", 8: "updated"})
	e.checkProspect("amy@gmail.com", map[string]string{"email": "amy@gmail.com", "first_name": "Amy", "title": "Chief Executive",
		"organization": "Gamma", "lead_owner": "bob", "custom.interests": "a;c;b"})

	// A dry run reports what the undo would do and changes nothing.
	afterB := e.state()
	dry := e.undo(b.Sum.ImportID, true)
	e.checkState("after a dry run", afterB)
	if got, want := undoCounts(dry.Counts), "rows=7 deleted=2 restored=5 kept=0 fields_kept=0 unchanged=0 orgs_deleted=2"; got != want {
		t.Errorf("dry run's counts:\n got %s\nwant %s", got, want)
	}
	var rows []string
	for _, r := range dry.Rows {
		rows = append(rows, strconv.Itoa(r.Row)+":"+r.Outcome)
	}
	equalStrings(t, "dry run's rows", rows, []string{"8:restored", "7:restored", "6:deleted", "5:deleted", "4:restored", "3:restored", "2:restored"})
	if dry.UndoID != 0 || !dry.DryRun {
		t.Errorf("dry run: undo id %d, dry_run %v; want no id, dry_run", dry.UndoID, dry.DryRun)
	}

	undoB := e.undo(b.Sum.ImportID, false)
	if got, want := undoCounts(undoB.Counts), "rows=7 deleted=2 restored=5 kept=0 fields_kept=0 unchanged=0 orgs_deleted=2"; got != want {
		t.Errorf("undo of B's counts:\n got %s\nwant %s", got, want)
	}
	e.checkState("after undoing B", afterA)
	e.checkProspects([]map[string]string{
		{"email": "amy@gmail.com", "first_name": "Amy", "title": "CEO", "organization": "Acme", "lead_owner": "ann", "custom.interests": "a"},
		{"email": "ben@gmail.com", "first_name": "Ben", "title": "CTO", "organization": "Beta", "custom.interests": "b"},
		{"email": "cid@gmail.com", "first_name": "Cid", "organization": "Acme"},
		{"email": "dot@gmail.com", "first_name": "Dot", "title": "VP"},
	})
	equalStrings(t, "organizations", e.organizations(), []string{"Acme|", "Beta|"})
	equalStrings(t, "groupings", e.groupings(), []string{
		"list:Webinar=amy@gmail.com ben@gmail.com cid@gmail.com dot@gmail.com", "tag:t1=amy@gmail.com ben@gmail.com cid@gmail.com dot@gmail.com"})
	imp, err := store.GetImport(e.ctx, e.pool, e.acct.ID, b.Sum.ImportID)
	if err != nil || imp.Status != store.StatusUndone || imp.UndoneBy != undoB.UndoID {
		t.Errorf("import B: %s undone by %d (%v); want undone by %d", imp.Status, imp.UndoneBy, err, undoB.UndoID)
	}
	if _, err := e.importer(e.Batch).UndoNow(e.ctx, importer.UndoRequest{Account: e.acct.Name, ImportID: b.Sum.ImportID, Source: store.SourceCLI}, testOwner, false); err == nil ||
		!strings.Contains(err.Error(), "was undone already") {
		t.Errorf("undoing B twice: %v; want refused, undone already", err)
	}

	undoA := e.undo(a.Sum.ImportID, false)
	if got, want := undoCounts(undoA.Counts), "rows=4 deleted=4 restored=0 kept=0 fields_kept=0 unchanged=0 orgs_deleted=2"; got != want {
		t.Errorf("undo of A's counts:\n got %s\nwant %s", got, want)
	}
	e.checkState("after undoing A", before)
}

// A field changed between an import and its undo is kept and reported; a record the import
// created and a later import changed is kept.
func TestUndoKeepsWhatChangedSince(t *testing.T) {
	e := undoFixture(t)
	e.importCSV(importA, optionsA)
	b := e.importCSV(importB, optionsB)
	// Another write changes Amy's title and Fay's phone after B (as an application writing the
	// CRM does, with updated_at), and a later import C updates Eve, whom B created, and Ben's title.
	for _, change := range []string{"title = 'Boss' WHERE email = 'amy@gmail.com'", "phone = '555' WHERE email = 'fay@gmail.com'"} {
		if _, err := e.pool.Exec(e.ctx, `UPDATE prospects SET updated_at = now(), `+change+` AND account_id = $1`, e.acct.ID); err != nil {
			t.Fatal(err)
		}
	}
	c := e.importCSV("Email,Title,Interests\neve@gmail.com,Engineer,\nben@gmail.com,Architect,\n", crm.Options{})
	checkOutcomes(t, c.Outcomes, map[int]string{2: "updated", 3: "updated"})

	want := "rows=7 deleted=0 restored=5 kept=2 fields_kept=1 unchanged=0 orgs_deleted=1"
	if got := undoCounts(e.undo(b.Sum.ImportID, true).Counts); got != want {
		t.Errorf("dry run of the undo of B's counts:\n got %s\nwant %s", got, want)
	}
	sum := e.undo(b.Sum.ImportID, false)
	if got := undoCounts(sum.Counts); got != want {
		t.Errorf("undo of B's counts:\n got %s\nwant %s", got, want)
	}
	e.checkProspects([]map[string]string{
		// The title changed since: kept; the rest restored.
		{"email": "amy@gmail.com", "first_name": "Amy", "title": "Boss", "organization": "Acme", "lead_owner": "ann", "custom.interests": "a"},
		// C's title stays; B's first name is restored.
		{"email": "ben@gmail.com", "first_name": "Ben", "title": "Architect", "organization": "Beta", "custom.interests": "b"},
		{"email": "cid@gmail.com", "first_name": "Cid", "organization": "Acme"},
		{"email": "dot@gmail.com", "first_name": "Dot", "title": "VP"},
		// Created by B, changed by C: kept.
		{"email": "eve@gmail.com", "first_name": "Eve", "title": "Engineer", "organization": "Acme", "custom.interests": "d"},
		// Created by B, changed after B: kept, with B's later title taken back.
		{"email": "fay@gmail.com", "first_name": "Fay", "phone": "555", "organization": "Delta"},
	})
	// Gamma, which only Amy linked to, is gone; Delta stays with Fay.
	equalStrings(t, "organizations", e.organizations(), []string{"Acme|", "Beta|", "Delta|"})
	equalStrings(t, "groupings", e.groupings(), []string{
		"list:Webinar=amy@gmail.com ben@gmail.com cid@gmail.com dot@gmail.com", "tag:t1=amy@gmail.com ben@gmail.com cid@gmail.com dot@gmail.com"})
	if n := e.prospectCount(); n != 6 {
		t.Errorf("prospect_count %d, want 6", n)
	}
	got := e.strings(`SELECT r.source_row || ':' || r.outcome || ':' || coalesce(r.reason, '') || ':' || coalesce(r.detail, '') FROM import_rows r
		JOIN imports i ON i.id = r.import_id WHERE i.account_id = $1 AND r.import_id = ` + strconv.FormatInt(sum.UndoID, 10) + ` ORDER BY r.row_number`)
	if len(got) != 7 || !strings.HasPrefix(got[0], "8:restored::") || !strings.HasPrefix(got[1], "7:restored::") ||
		!strings.HasPrefix(got[2], "6:kept_changed_since:changed_since:") || !strings.HasPrefix(got[3], "5:kept_changed_since:changed_since:") ||
		!strings.HasPrefix(got[5], "3:restored::") || !strings.HasPrefix(got[6], "2:restored:field_changed_since:") ||
		!strings.Contains(got[6], "title") {
		t.Errorf("undo's rows:\n%s\nwant 8 and 7 restored, 6 and 5 kept (changed since), 4 and 3 restored, 2 restored with the title kept", strings.Join(got, "\n"))
	}
}

// An undo stopped part-way (the daemon stopping) resumes from its checkpoint and ends as an
// undo run at once does.
func TestUndoResumesFromItsCheckpoint(t *testing.T) {
	// A: 150 prospects; B: every one's title changed, and 50 more.
	var a, b strings.Builder
	a.WriteString("Email,Title,Company\n")
	b.WriteString("Email,Title,Company\n")
	for i := range 200 {
		if i < 150 {
			fmt.Fprintf(&a, "p%d@gmail.com,Title %d,Org %d\n", i, i, i%7)
		}
		fmt.Fprintf(&b, "p%d@gmail.com,New title %d,Org %d\n", i, i, i%9)
	}
	var want string
	for _, pause := range []bool{false, true} {
		e := undoFixture(t)
		e.importCSV(a.String(), optionsA)
		afterA := e.state()
		imported := e.importCSV(b.String(), optionsB)
		im := e.importer(2)
		undo, err := im.SubmitUndo(e.ctx, importer.UndoRequest{Account: e.acct.Name, ImportID: imported.Sum.ImportID, Source: store.SourceUpload})
		if err != nil {
			t.Fatal(err)
		}
		claimed, err := store.ResumeImport(e.ctx, e.pool, e.acct.ID, undo.ID, testOwner, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if pause {
			// Stop the run once some rows are taken back: it goes back to the queue.
			ctx, cancel := context.WithCancel(e.ctx)
			go func() {
				defer cancel()
				for ctx.Err() == nil {
					var done int
					if e.pool.QueryRow(ctx, "SELECT checkpoint_row FROM imports WHERE id = $1", undo.ID).Scan(&done); done >= 10 {
						return
					}
					time.Sleep(time.Millisecond)
				}
			}()
			if _, err := im.Run(ctx, claimed, testOwner); err == nil {
				t.Fatal("an undo stopped part-way returned no error")
			}
			paused, err := store.GetImport(e.ctx, e.pool, e.acct.ID, undo.ID)
			if err != nil || paused.Status != store.StatusQueued || paused.CheckpointRow < 10 || paused.CheckpointRow >= 200 {
				t.Fatalf("paused undo: %s at %d rows (%v); want queued part-way", paused.Status, paused.CheckpointRow, err)
			}
			if claimed, err = store.ResumeImport(e.ctx, e.pool, e.acct.ID, undo.ID, testOwner, time.Minute); err != nil {
				t.Fatal(err)
			}
		}
		sum, err := im.Run(e.ctx, claimed, testOwner)
		if err != nil || sum.Status != store.StatusCompleted {
			t.Fatalf("undo: %s, %v", sum.Status, err)
		}
		e.checkState("after the undo", afterA)
		got := undoCounts(sum.Counts) + "\n" + strings.Join(e.strings(`SELECT row_number || ':' || source_row || ':' || outcome FROM import_rows
			WHERE import_id = `+strconv.FormatInt(undo.ID, 10)+` AND $1 > 0 ORDER BY row_number`), " ")
		if !pause {
			want = got
			continue
		}
		if got != want {
			t.Errorf("a resumed undo:\n got %s\nwant %s", got, want)
		}
	}
}

// Undoing imports out of order: a link is not put back to a record an earlier undo deleted.
func TestUndoKeepsALinkToARecordGone(t *testing.T) {
	e := undoFixture(t)
	a := e.importCSV("Email,Company\npam@gmail.com,Xco\n", crm.Options{})
	b := e.importCSV("Email,Company\npam@gmail.com,Yco\n", crm.Options{})
	// Undo A first: Pam, changed by B since, stays; Xco, which nothing links to now, goes.
	if got, want := undoCounts(e.undo(a.Sum.ImportID, false).Counts), "rows=1 deleted=0 restored=0 kept=1 fields_kept=0 unchanged=0 orgs_deleted=1"; got != want {
		t.Errorf("undo of A:\n got %s\nwant %s", got, want)
	}
	sum := e.undo(b.Sum.ImportID, false)
	if got, want := undoCounts(sum.Counts), "rows=1 deleted=0 restored=0 kept=1 fields_kept=1 unchanged=0 orgs_deleted=0"; got != want {
		t.Errorf("undo of B:\n got %s\nwant %s", got, want)
	}
	e.checkProspects([]map[string]string{{"email": "pam@gmail.com", "organization": "Yco"}})
	equalStrings(t, "organizations", e.organizations(), []string{"Yco|"})
	equalStrings(t, "undo's row", e.strings(`SELECT outcome || ': ' || detail FROM import_rows WHERE import_id = `+
		strconv.FormatInt(sum.UndoID, 10)+` AND $1 > 0`), []string{"kept_changed_since: organization " + e.strings(
		`SELECT (undo->'c'->0->>1) FROM import_rows WHERE import_id = ` + strconv.FormatInt(b.Sum.ImportID, 10) + ` AND $1 > 0`)[0] + " no longer exists"})
}

// An undo takes back a re-import whose batch stored its updated rows as a run (of 1,000
// records at least, store.minRunRecords; each row with what it overwrote): the undo reads what
// each row kept from the run, and every prospect gets its title back.
func TestUndoTakesBackUpdatedRowsStoredAsARun(t *testing.T) {
	const rows = 1200
	e := undoFixture(t)
	e.Batch = 2000
	var first, again strings.Builder
	first.WriteString("Email,First Name,Title\n")
	again.WriteString("Email,First Name,Title\n")
	for i := range rows {
		fmt.Fprintf(&first, "p%d@gmail.com,P%d,Title %d\n", i, i, i)
		fmt.Fprintf(&again, "p%d@gmail.com,P%d,Senior Title %d\n", i, i, i)
	}
	e.importCSV(first.String(), crm.Options{})
	afterFirst := e.state()
	b := e.importCSV(again.String(), crm.Options{})
	if got, want := b.Sum.Counts.Updated, rows; got != want {
		t.Fatalf("re-import updated %d prospects, want %d", got, want)
	}
	var runs, inRuns int
	if err := e.pool.QueryRow(e.ctx, `SELECT count(*), coalesce(sum(row_count), 0) FROM import_updated_runs WHERE import_id = $1`,
		b.Sum.ImportID).Scan(&runs, &inRuns); err != nil {
		t.Fatal(err)
	}
	if runs != 1 || inRuns != rows {
		t.Fatalf("the re-import stored %d runs of %d updated rows; the test needs one of all %d", runs, inRuns, rows)
	}
	e.undo(b.Sum.ImportID, false)
	e.checkState("after undoing the re-import", afterFirst)
}
