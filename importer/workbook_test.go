package importer_test

// Workbook requests (kind workbook): a workbook's sheets named for kinds, each imported by an
// import of its own under the request, in dependency order.

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
	"github.com/leadpipe/leadpipe/store/storetest"
)

// sheet is a worksheet of a workbook a test writes: its name and rows (the header first).
type sheet struct {
	name string
	rows [][]string
}

// writeWorkbook writes an XLSX workbook of the sheets, in that order, named name.
func writeWorkbook(t *testing.T, name string, sheets ...sheet) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, s := range sheets {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", s.name); err != nil {
				t.Fatal(err)
			}
		} else if _, err := f.NewSheet(s.name); err != nil {
			t.Fatal(err)
		}
		for r, row := range s.rows {
			cell, _ := excelize.CoordinatesToCellName(1, r+1)
			if err := f.SetSheetRow(s.name, cell, &row); err != nil {
				t.Fatal(err)
			}
		}
	}
	path := filepath.Join(t.TempDir(), name)
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func (e *tenv) workbookRequest(path string, opts crm.Options) importer.Request {
	req := e.request(path, opts)
	req.Kind = importer.WorkbookKind
	return req
}

var prospectSheet = sheet{"Prospects", [][]string{
	{"Email", "First Name", "Last Name"},
	{"ann@acme.example", "Ann", "Able"},
	{"bob@acme.example", "Bob", "Best"},
	{"not-an-email", "Cy", "Coe"},
}}

func TestWorkbookRefusals(t *testing.T) {
	e := newEnv(t, -1)
	im := e.importer(e.Batch)
	for _, c := range []struct {
		what string
		path string
		opts crm.Options
		want string
	}{
		{"sheets named for no kind", writeWorkbook(t, "book.xlsx", prospectSheet, sheet{"Notes", nil}, sheet{"Leads 2026", nil}),
			crm.Options{}, `cannot import file book.xlsx: sheets named for no kind: "Notes", "Leads 2026"; ` +
				`name each sheet for the kind of record it holds (deal, deals, organization, organizations, prospect, prospects, case aside) and remove the others`},
		{"no sheet named for a kind", writeWorkbook(t, "other.xlsx", sheet{"Sheet 1", nil}),
			crm.Options{}, `cannot import file other.xlsx: sheets named for no kind: "Sheet 1"; ` +
				`name each sheet for the kind of record it holds (deal, deals, organization, organizations, prospect, prospects, case aside) and remove the others`},
		{"two sheets of one kind", writeWorkbook(t, "twice.xlsx", prospectSheet, sheet{"prospect", prospectSheet.rows}),
			crm.Options{}, `cannot import file twice.xlsx: the sheets "Prospects" and "prospect" are both prospects; keep one`},
		{"a CSV file", writeFile(t, "list.csv", "email\nann@acme.example\n"),
			crm.Options{}, `cannot import file list.csv: the file is not a workbook: it reads as CSV, which has no sheets; a workbook is an XLSX, XLS or ODS file`},
		{"the sheet option", writeWorkbook(t, "book.xlsx", prospectSheet),
			crm.Options{Sheet: "Prospects"}, `invalid import options: sheet: a workbook imports each of its sheets named for a kind; leave sheet out`},
		{"options of no kind", writeWorkbook(t, "book.xlsx", prospectSheet),
			crm.Options{Kinds: map[string]crm.Options{"tickets": {}}}, `invalid import options: kinds: unknown kind "tickets" (want deals, organizations, prospects, or an object type's key)`},
		{"a sheet's options refused by its kind", writeWorkbook(t, "book.xlsx", prospectSheet),
			crm.Options{Kinds: map[string]crm.Options{"prospects": {UniqueIdentifier: "email"}}},
			`sheet "Prospects": invalid import options: unique_identifier: field "email" cannot identify a prospect`},
	} {
		_, _, err := im.Submit(e.ctx, e.workbookRequest(c.path, c.opts))
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: submit: %v\nwant: %s", c.what, err, c.want)
		}
		if _, err := im.RunNow(e.ctx, e.workbookRequest(c.path, c.opts), testOwner, false); err == nil || err.Error() != c.want {
			t.Errorf("%s: run: %v\nwant: %s", c.what, err, c.want)
		}
	}
	e.checkNothingWritten()
	// Options by kind belong to workbooks only.
	_, err := e.runNow(writeWorkbook(t, "book.xlsx", prospectSheet), crm.Options{Kinds: map[string]crm.Options{"prospects": {List: "Fair"}}}, e.Batch, false)
	if !errors.Is(err, crm.ErrInvalidOptions) || err.Error() != "invalid import options: kinds: options by kind apply to a workbook only (kind workbook)" {
		t.Errorf("kinds in a prospects import: %v", err)
	}
}

func TestWorkbookForeground(t *testing.T) {
	e := newEnv(t, -1)
	path := writeWorkbook(t, "book.xlsx", prospectSheet)
	opts := crm.Options{Tags: []string{"fair"}, Kinds: map[string]crm.Options{"prospects": {List: "Fair 2026"}}}
	sum, err := e.importer(e.Batch).RunNow(e.ctx, e.workbookRequest(path, opts), testOwner, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Sheets) != 1 {
		t.Fatalf("sheets: %+v", sum.Sheets)
	}
	s := sum.Sheets[0]
	if sum.Kind != "workbook" || sum.Status != store.StatusCompleted || sum.RequestID != s.ImportID || s.Sheet != "Prospects" ||
		s.Kind != "prospects" || s.Status != store.StatusCompleted {
		t.Errorf("summary: kind %s status %s request %d; sheet %s kind %s status %s import %d", sum.Kind, sum.Status, sum.RequestID,
			s.Sheet, s.Kind, s.Status, s.ImportID)
	}
	checkCounts(t, sum.Counts, "rows=3 created=2 updated=0 unchanged=0 skipped=1 orgs_created=0 orgs_linked=0")
	checkCounts(t, s.Counts, "rows=3 created=2 updated=0 unchanged=0 skipped=1 orgs_created=0 orgs_linked=0")
	if got, want := e.groupings(), []string{"list:Fair 2026=ann@acme.example bob@acme.example", "tag:fair=ann@acme.example bob@acme.example"}; !slices.Equal(got, want) {
		t.Errorf("groupings %q, want %q", got, want)
	}
	list, err := store.ListImports(e.ctx, e.pool, e.acct.ID, store.ImportFilter{RequestID: sum.RequestID, Limit: 10})
	if err != nil || len(list) != 1 {
		t.Fatalf("imports of the request: %+v, %v", list, err)
	}
	if imp := list[0]; imp.ID != s.ImportID || imp.Kind != "prospects" || imp.RequestID != sum.RequestID || imp.RequestStep != 2 ||
		string(imp.Options) != `{"list": "Fair 2026", "tags": ["fair"], "sheet": "Prospects"}` {
		t.Errorf("import: id %d kind %s request %d step %d options %s", imp.ID, imp.Kind, imp.RequestID, imp.RequestStep, imp.Options)
	}
}

// subscriptionSheet is a sheet of the object type subscription (newObjectType), named by the
// type's label: its records link to the prospects of the workbook's own Prospects sheet.
var subscriptionSheet = sheet{"Subscription", [][]string{
	{"Serial", "Plan", "Prospect Email"},
	{"S-1", "Basic", "ann@acme.example"},
	{"S-2", "Pro", "BOB@acme.example"},
	{"S-3", "Pro", "nobody@acme.example"}, // no such prospect: unlinked, with a warning
}}

// checkLinkedBook checks what the workbook of subscriptionSheet and prospectSheet wrote: the
// prospects, and the subscriptions linked to them.
func (e *tenv) checkLinkedBook(ty store.ObjectType, subscriptions int64) {
	e.t.Helper()
	ann, bob := e.prospectID("ann@acme.example"), e.prospectID("bob@acme.example")
	if ann == 0 || bob == 0 || e.nProspects() != 2 {
		e.t.Fatalf("prospects: ann %d bob %d of %d", ann, bob, e.nProspects())
	}
	equalStrings(e.t, "subscriptions", e.objectRecords(ty), []string{
		fmt.Sprintf("S-1|%d|Basic|", ann), fmt.Sprintf("S-2|%d|Pro|", bob), "S-3||Pro|"})
	r := e.rowsOf(subscriptions)
	checkOutcomes(e.t, r.Outcomes, map[int]string{2: "created", 3: "created", 4: "created"})
	checkWarnings(e.t, r.Warnings, map[int][]string{4: {"prospect_email:prospect_not_found"}})
}

// A workbook whose object sheet comes first in the file runs it after its Prospects sheet, in
// the foreground: the records link to the prospects the same workbook created.
func TestWorkbookLinksToItsOwnEarlierSheets(t *testing.T) {
	e := newEnv(t, -1)
	ty := e.newObjectType()
	path := writeWorkbook(t, "book.xlsx", subscriptionSheet, prospectSheet)
	sum, err := e.importer(2).RunNow(e.ctx, e.workbookRequest(path, crm.Options{}), testOwner, false)
	if err != nil {
		t.Fatal(err)
	}
	var ran []string
	for _, s := range sum.Sheets {
		ran = append(ran, s.Sheet+":"+s.Kind+":"+s.Status)
	}
	equalStrings(t, "sheets", ran, []string{"Prospects:prospects:completed", "Subscription:subscription:completed"})
	checkCounts(t, sum.Counts, "rows=6 created=5 updated=0 unchanged=0 skipped=1 orgs_created=0 orgs_linked=0")
	e.checkLinkedBook(ty, sum.Sheets[1].ImportID)
	steps := e.strings(fmt.Sprintf(`SELECT id - %d || ':' || kind || ':' || request_step || ':' || (request_id = %d)
		FROM imports WHERE account_id = $1 ORDER BY id`, sum.RequestID, sum.RequestID))
	equalStrings(t, "imports (id after the request's, kind, step, in the request)", steps, []string{"0:prospects:2:true", "1:subscription:3:true"})
}

// Queued, the same workbook's sheets run on two workers one after the other: the object sheet
// is claimed only once the Prospects sheet has ended.
func TestWorkbookQueuedOnTwoWorkers(t *testing.T) {
	pool := storetest.FreshDatabase(t, "workbook_queue")
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	e := &tenv{t: t, ctx: ctx, pool: pool, acct: storetest.Account(t, pool, -1), Batch: 2}
	ty := e.newObjectType()
	im := e.importer(2)
	first, checked, err := im.Submit(ctx, e.workbookRequest(writeWorkbook(t, "book.xlsx", subscriptionSheet, prospectSheet), crm.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if len(checked.Sheets) != 2 || checked.Rows != 6 || first.ID != checked.Sheets[0].ImportID || first.RequestID != first.ID {
		t.Fatalf("submitted: import %d (request %d), %d rows, sheets %+v", first.ID, first.RequestID, checked.Rows, checked.Sheets)
	}
	// Each run notes, as it starts, whether the workbook's first sheet had ended by then: the
	// end that counts is the import's, in Postgres, which the worker's Run returns after.
	var mu sync.Mutex
	var events []string
	w := &pipeline.Workers{Querier: pool, Count: 2, Owner: "workbook-test", Lease: 30 * time.Second, Poll: 10 * time.Millisecond, Log: quietLog,
		Run: func(ctx context.Context, imp store.Import, owner string) error {
			firstSheet, err := store.GetImport(ctx, pool, e.acct.ID, first.ID)
			if err != nil {
				return err
			}
			mu.Lock()
			events = append(events, fmt.Sprintf("start %s (first sheet ended: %v)", imp.Kind, firstSheet.FinishedAt != nil))
			mu.Unlock()
			time.Sleep(100 * time.Millisecond) // time for the other worker to claim, were it allowed
			_, err = im.Run(ctx, imp, owner)
			return err
		}}
	done := make(chan struct{})
	wctx, stop := context.WithCancel(ctx)
	go func() { w.Serve(wctx); close(done) }()
	last := checked.Sheets[1].ImportID
	for {
		imp, err := store.GetImport(ctx, pool, e.acct.ID, last)
		if err != nil {
			t.Fatal(err)
		}
		if imp.FinishedAt != nil {
			if imp.Status != store.StatusCompleted {
				t.Fatalf("last sheet: %s %s", imp.Status, imp.Error)
			}
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the workbook did not end in time: %v", events)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	<-done
	equalStrings(t, "runs", events, []string{"start prospects (first sheet ended: false)", "start subscription (first sheet ended: true)"})
	e.checkLinkedBook(ty, last)
}

// failingProspectsEnv is a test account on a database of its own where writing the prospect
// boom@acme.example fails (a trigger raises), so that a workbook's Prospects sheet fails.
func failingProspectsEnv(t *testing.T, name string) *tenv {
	pool := storetest.FreshDatabase(t, name)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	for _, sql := range []string{
		`CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'boom'; END $$`,
		`CREATE TRIGGER boom BEFORE INSERT ON prospects FOR EACH ROW WHEN (NEW.email = 'boom@acme.example') EXECUTE FUNCTION boom()`,
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	return &tenv{t: t, ctx: ctx, pool: pool, acct: storetest.Account(t, pool, -1), Batch: 2}
}

var failingBook = []sheet{subscriptionSheet, {"Prospects", [][]string{{"Email"}, {"ann@acme.example"}, {"boom@acme.example"}}}}

// importStates lists the account's imports, oldest first, as "kind status error".
func (e *tenv) importStates() []string {
	return e.strings(`SELECT kind || ' ' || status || ' ' || coalesce(error, '') FROM imports WHERE account_id = $1 ORDER BY id`)
}

// When a workbook's Prospects sheet fails in the foreground, its object sheet is not run: it is
// recorded cancelled, saying why, and nothing of it is written.
func TestWorkbookForegroundFailureCancelsLaterSheets(t *testing.T) {
	e := failingProspectsEnv(t, "workbook_fail_fg")
	ty := e.newObjectType()
	sum, err := e.importer(1).RunNow(e.ctx, e.workbookRequest(writeWorkbook(t, "book.xlsx", failingBook...), crm.Options{}), testOwner, false)
	if err == nil || len(sum.Sheets) != 2 {
		t.Fatalf("run: %v; sheets %+v", err, sum.Sheets)
	}
	prospects := sum.Sheets[0].ImportID
	notRun := fmt.Sprintf("not run: sheet Prospects of the workbook (import %d) ended failed before it", prospects)
	wantErr := `sheet "Prospects": upsert: insert prospects: ERROR: boom (SQLSTATE P0001)`
	if sum.Status != store.StatusFailed || err.Error() != wantErr || sum.Error != wantErr || sum.Sheets[1].Status != store.StatusCancelled ||
		sum.Sheets[1].Error != notRun || sum.Sheets[1].Sheet != "Subscription" {
		t.Errorf("run: %v; summary %s %q, sheets %+v", err, sum.Status, sum.Error, sum.Sheets)
	}
	equalStrings(t, "imports", e.importStates(), []string{"prospects failed " + sum.Sheets[0].Error, "subscription cancelled " + notRun})
	equalStrings(t, "subscriptions", e.objectRecords(ty), nil)
}

// Queued, the same: the failed Prospects sheet cancels the queued object sheet, which no worker
// runs.
func TestWorkbookQueuedFailureCancelsLaterSheets(t *testing.T) {
	e := failingProspectsEnv(t, "workbook_fail_queue")
	ty := e.newObjectType()
	im := e.importer(1)
	first, checked, err := im.Submit(e.ctx, e.workbookRequest(writeWorkbook(t, "book.xlsx", failingBook...), crm.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	var ran []string
	var mu sync.Mutex
	w := &pipeline.Workers{Querier: e.pool, Count: 2, Owner: "workbook-fail", Lease: 30 * time.Second, Poll: 10 * time.Millisecond, Log: quietLog,
		Run: func(ctx context.Context, imp store.Import, owner string) error {
			mu.Lock()
			ran = append(ran, imp.Kind)
			mu.Unlock()
			_, err := im.Run(ctx, imp, owner)
			return err
		}}
	wctx, stop := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() { w.Serve(wctx); close(done) }()
	last := checked.Sheets[1].ImportID
	for {
		imp, err := store.GetImport(e.ctx, e.pool, e.acct.ID, last)
		if err != nil {
			t.Fatal(err)
		}
		if imp.FinishedAt != nil {
			break
		}
		if e.ctx.Err() != nil {
			t.Fatal("the workbook did not end in time")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // a worker that would wrongly take the cancelled sheet would have by now
	stop()
	<-done
	equalStrings(t, "imports run", ran, []string{"prospects"})
	notRun := fmt.Sprintf("not run: sheet Prospects of the workbook (import %d) ended failed before it", first.ID)
	equalStrings(t, "imports", e.importStates(), []string{"prospects failed upsert: insert prospects: ERROR: boom (SQLSTATE P0001)", "subscription cancelled " + notRun})
	equalStrings(t, "subscriptions", e.objectRecords(ty), nil)
}
