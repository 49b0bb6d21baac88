package importer_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
	"github.com/leadpipe/leadpipe/store/storetest"
)

// threeKindBook is a workbook of Deals, Prospects and Organizations sheets, in the file in the
// reverse of the order they must run in: its deals link to the prospects and organizations
// its own earlier sheets create.
var threeKindBook = []sheet{
	{"Deals", [][]string{
		{"Name", "Amount", "Organization", "Prospect Email", "Prospect First Name", "Prospect Last Name"},
		{"Renewal 2026", "1200", "Acme Inc", "ann@acme.example", "", ""}, // ann, Acme
		{"Pilot", "300", "Globex", "", "Bob", "Best"},                    // bob by name, Globex
		{"Expansion", "50", "Initech", "carol@initech.example", "", ""},  // no such prospect; Initech created (its domain from the email, SPEC §7)
	}},
	{"prospects", [][]string{
		{"Email", "First Name", "Last Name", "Company"},
		{"ann@acme.example", "Ann", "Able", "ACME"},     // links to Acme Inc (legal suffix aside)
		{"bob@globex.example", "Bob", "Best", "Globex"}, // links to Globex
	}},
	{"Organization", [][]string{
		{"Name", "Domain"},
		{"Acme Inc", "acme.example"},
		{"Globex", "globex.example"},
	}},
}

// checkThreeKindBook checks what threeKindBook wrote, by hand: the organizations (one created by
// a deal), the prospects linked to them, and the deals linked to both.
func (e *tenv) checkThreeKindBook() {
	e.t.Helper()
	equalStrings(e.t, "organizations", e.organizations(), []string{"Acme Inc|acme.example", "Globex|globex.example", "Initech|initech.example"})
	equalStrings(e.t, "prospects", e.strings(`SELECT p.email || ' ' || o.name FROM prospects p JOIN organizations o ON o.id = p.organization_id
		WHERE p.account_id = $1 ORDER BY p.email`), []string{"ann@acme.example Acme Inc", "bob@globex.example Globex"})
	equalStrings(e.t, "deals", e.strings(`SELECT d.name || ' ' || d.amount || ' ' || coalesce(o.name, '-') || ' ' || coalesce(p.email, '-')
		FROM deals d LEFT JOIN organizations o ON o.id = d.organization_id LEFT JOIN prospects p ON p.id = d.prospect_id
		WHERE d.account_id = $1 ORDER BY d.id`), []string{
		"Renewal 2026 1200 Acme Inc ann@acme.example", "Pilot 300 Globex bob@globex.example", "Expansion 50 Initech -"})
	if n := e.nProspects(); n != 2 {
		e.t.Errorf("%d prospects, want 2: a deal creates none", n)
	}
}

// A three-sheet workbook in the foreground: organizations, then prospects, then deals.
// A prospect-only option of the whole workbook is refused by its organizations sheet, before
// anything is written; given for prospects, it applies to the Prospects sheet.
func TestThreeKindWorkbookForeground(t *testing.T) {
	e := newEnv(t, -1)
	book := writeWorkbook(t, "book.xlsx", threeKindBook...)
	_, err := e.importer(2).RunNow(e.ctx, e.workbookRequest(book, crm.Options{List: "Fair"}), testOwner, false)
	if want := `sheet "Organization": invalid import options: list: does not apply to an import of kind "organizations"`; err == nil || err.Error() != want {
		t.Errorf("list for every sheet: %v, want %s", err, want)
	}
	e.checkNothingWritten()
	// A dry run runs the sheets in one transaction: its deals see its prospects (one deal's
	// prospect is unknown), and nothing stays.
	dry, err := e.importer(2).RunNow(e.ctx, e.workbookRequest(book, crm.Options{}), testOwner, true)
	if err != nil || !dry.DryRun || len(dry.Sheets) != 3 {
		t.Fatalf("dry run: %v %+v", err, dry)
	}
	// The totals of the sheets: 2 organizations, 2 prospects linked to them, 3 deals linked to
	// an organization each, Initech created by its deal.
	checkCounts(t, dry.Counts, "rows=7 created=7 updated=0 unchanged=0 skipped=0 orgs_created=1 orgs_linked=5")
	if w := dry.Sheets[2].WarningsByKind; len(w) != 1 || w["prospect_not_found"] != 1 {
		t.Errorf("dry run: the deals' warnings %v, want one prospect_not_found", w)
	}
	e.checkNothingWritten()
	if _, err := e.importer(2).Preview(e.ctx, e.workbookRequest(book, crm.Options{})); err == nil ||
		err.Error() != "invalid import options: kind: a workbook is checked and imported as a whole; to preview one of its sheets, name the sheet's kind and the sheet option" {
		t.Errorf("preview of a workbook: %v", err)
	}
	sum, err := e.importer(2).RunNow(e.ctx, e.workbookRequest(book, crm.Options{Kinds: map[string]crm.Options{"prospects": {List: "Fair"}}}), testOwner, false)
	if err != nil {
		t.Fatal(err)
	}
	equalStrings(t, "groupings", e.groupings(), []string{"list:Fair=ann@acme.example bob@globex.example"})
	var ran []string
	for _, s := range sum.Sheets {
		ran = append(ran, s.Sheet+":"+s.Kind+":"+s.Status)
	}
	equalStrings(t, "sheets", ran, []string{"Organization:organizations:completed", "prospects:prospects:completed", "Deals:deals:completed"})
	r := e.rowsOf(sum.Sheets[2].ImportID)
	checkOutcomes(t, r.Outcomes, map[int]string{2: "created", 3: "created", 4: "created"})
	checkWarnings(t, r.Warnings, map[int][]string{4: {"prospect_email:prospect_not_found"}})
	e.checkThreeKindBook()
}

// The same workbook queued, on two workers: each sheet is claimed only once the one before it
// has ended.
func TestThreeKindWorkbookQueuedOnTwoWorkers(t *testing.T) {
	pool := storetest.FreshDatabase(t, "workbook_three")
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	e := &tenv{t: t, ctx: ctx, pool: pool, acct: storetest.Account(t, pool, -1), Batch: 2}
	im := e.importer(2)
	_, checked, err := im.Submit(ctx, e.workbookRequest(writeWorkbook(t, "book.xlsx", threeKindBook...), crm.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	// A sheet's claim is checked against the store: every sheet before it has ended then. (The
	// order in which the workers' calls return says less: an import ends inside Run, so the
	// next sheet may be claimed before the call that ran the last one returns.)
	var mu sync.Mutex
	var starts, early []string
	w := &pipeline.Workers{Querier: pool, Count: 2, Owner: "workbook-three", Lease: 30 * time.Second, Poll: 10 * time.Millisecond, Log: quietLog,
		Run: func(ctx context.Context, imp store.Import, owner string) error {
			mu.Lock()
			starts = append(starts, imp.Kind)
			for _, sheet := range checked.Sheets {
				if sheet.ImportID == imp.ID {
					break
				}
				before, err := store.GetImport(ctx, pool, e.acct.ID, sheet.ImportID)
				if err != nil || before.FinishedAt == nil {
					early = append(early, fmt.Sprintf("%s claimed before sheet %d ended (%v)", imp.Kind, sheet.ImportID, err))
				}
			}
			mu.Unlock()
			time.Sleep(50 * time.Millisecond) // time for the other worker to claim, were it allowed
			_, err := im.Run(ctx, imp, owner)
			return err
		}}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { w.Serve(wctx); close(done) }()
	last := checked.Sheets[2].ImportID
	for {
		imp, err := store.GetImport(ctx, pool, e.acct.ID, last)
		if err != nil {
			t.Fatal(err)
		}
		if imp.FinishedAt != nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the workbook did not end in time; sheets started: %v", starts)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	<-done
	equalStrings(t, "sheets started", starts, []string{"organizations", "prospects", "deals"})
	equalStrings(t, "sheets claimed early", early, nil)
	e.checkThreeKindBook()
}
