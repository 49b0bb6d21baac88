package store_test

// The imports of one request (the sheets of a workbook) run in the order of their steps, and
// the later ones end cancelled when an earlier one does not complete (0013_import_requests.sql).

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/store"
	"github.com/leadpipe/leadpipe/store/storetest"
)

// requestImports queues one import per step, all of one request (the first's id), with the
// sheet of each in its options; sheets[i] is at steps[i].
func (f *fixture) requestImports(sheets []string, steps []int) []store.Import {
	f.t.Helper()
	first, err := store.NextImportID(f.ctx, f.pool)
	if err != nil {
		f.t.Fatal(err)
	}
	var list []store.Import
	for i, sheet := range sheets {
		opts, _ := json.Marshal(map[string]string{"sheet": sheet})
		rec := store.Import{AccountID: f.acct.ID, Source: store.SourceCLI, FileName: "book.xlsx", FilePath: "/nowhere/book.xlsx",
			Options: opts, RequestID: first, RequestStep: steps[i]}
		if i == 0 {
			rec.ID = first
		}
		imp, err := store.CreateImport(f.ctx, f.pool, rec, "", 0)
		if err != nil {
			f.t.Fatal(err)
		}
		if imp.RequestID != first || imp.RequestStep != steps[i] || imp.Status != store.StatusQueued {
			f.t.Fatalf("created import %d: request %d step %d %s; want request %d step %d queued", imp.ID, imp.RequestID, imp.RequestStep, imp.Status, first, steps[i])
		}
		list = append(list, imp)
	}
	return list
}

// claim claims an import as worker owner does; 0 when there is none to claim.
func (f *fixture) claim(owner string) int64 {
	f.t.Helper()
	imp, err := store.ClaimImport(f.ctx, f.pool, owner, time.Minute)
	if errors.Is(err, store.ErrNotFound) {
		return 0
	}
	if err != nil {
		f.t.Fatal(err)
	}
	return imp.ID
}

func (f *fixture) finish(id int64, owner, status, reason string) {
	f.t.Helper()
	if err := store.FinishImport(f.ctx, f.pool, id, owner, status, reason); err != nil {
		f.t.Fatal(err)
	}
}

func TestRequestImportsClaimedInStepOrder(t *testing.T) {
	f := ownQueue(t, "claim_order")
	req := f.requestImports([]string{"Organizations", "Prospects", "Deals", "Tickets"}, []int{1, 2, 3, 3})
	orgs, prospects, deals, tickets := req[0].ID, req[1].ID, req[2].ID, req[3].ID
	lone, err := store.CreateImport(f.ctx, f.pool, store.Import{AccountID: f.acct.ID, Source: store.SourceCLI, FileName: "a.csv", FilePath: "/nowhere/a.csv"}, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		what, owner string
		want        int64
	}{
		{"worker 1 takes the first sheet", "w1", orgs},
		{"worker 2 skips the later sheets, takes the lone import", "w2", lone.ID},
		{"nothing else may run while the first sheet runs", "w2", 0},
	}
	for _, s := range steps {
		if got := f.claim(s.owner); got != s.want {
			t.Fatalf("%s: claimed %d, want %d", s.what, got, s.want)
		}
	}
	if _, err := store.ResumeImport(f.ctx, f.pool, f.acct.ID, prospects, "cli", time.Minute); !errors.Is(err, store.ErrWaiting) {
		t.Fatalf("resuming the second sheet while the first runs: %v, want ErrWaiting", err)
	}
	f.finish(orgs, "w1", store.StatusCompleted, "")
	if got := f.claim("w1"); got != prospects {
		t.Fatalf("after the first sheet ended: claimed %d, want the second sheet %d", got, prospects)
	}
	if got := f.claim("w2"); got != 0 {
		t.Fatalf("while the second sheet runs: claimed %d, want none", got)
	}
	f.finish(prospects, "w1", store.StatusCompleted, "")
	// The two sheets of step 3 run together.
	if a, b := f.claim("w1"), f.claim("w2"); a != deals || b != tickets {
		t.Fatalf("step 3: claimed %d and %d, want %d and %d", a, b, deals, tickets)
	}
	list, err := store.ListImports(f.ctx, f.pool, f.acct.ID, store.ImportFilter{RequestID: orgs, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, im := range list {
		ids = append(ids, im.ID)
	}
	if want := []int64{tickets, deals, prospects, orgs}; !slices.Equal(ids, want) {
		t.Errorf("imports of request %d: %v, want %v", orgs, ids, want)
	}
}

func TestRequestImportsAfterAFailureOrCancelAreCancelled(t *testing.T) {
	f := ownQueue(t, "request_cancel")
	failed := f.requestImports([]string{"Organizations", "Prospects", "Deals"}, []int{1, 2, 3})
	if got := f.claim("w1"); got != failed[0].ID {
		t.Fatalf("claimed %d, want %d", got, failed[0].ID)
	}
	f.finish(failed[0].ID, "w1", store.StatusFailed, "the file changed")
	f.wantEnded(failed[1].ID, store.StatusCancelled, "not run: sheet Organizations of the workbook (import "+itoa(failed[0].ID)+") ended failed before it")
	f.wantEnded(failed[2].ID, store.StatusCancelled, "not run: sheet Organizations of the workbook (import "+itoa(failed[0].ID)+") ended failed before it")
	var events int
	if err := f.pool.QueryRow(f.ctx, "SELECT count(*) FROM import_events WHERE import_id = $1 AND kind = 'cancelled'", failed[2].ID).Scan(&events); err != nil {
		t.Fatal(err)
	}
	if events != 1 {
		t.Errorf("cancelled events of the last sheet: %d, want 1", events)
	}

	cancelled := f.requestImports([]string{"Prospects", "Deals"}, []int{2, 3})
	if _, err := store.CancelImport(f.ctx, f.pool, f.acct.ID, cancelled[0].ID); err != nil {
		t.Fatal(err)
	}
	f.wantEnded(cancelled[1].ID, store.StatusCancelled, "not run: sheet Prospects of the workbook (import "+itoa(cancelled[0].ID)+") ended cancelled before it")

	done := f.requestImports([]string{"Prospects", "Deals"}, []int{2, 3})
	f.claim("w1")
	f.finish(done[0].ID, "w1", store.StatusCompleted, "")
	if got, err := store.GetImport(f.ctx, f.pool, f.acct.ID, done[1].ID); err != nil || got.Status != store.StatusQueued {
		t.Errorf("the sheet after a completed one: %s, %v; want queued", got.Status, err)
	}
	// The file the sheets share is pruned once they have all ended.
	f.exec("UPDATE imports SET source = 'upload', file_path = '/files/' || request_id || '/book.xlsx' WHERE account_id = $1", f.acct.ID)
	prunable := func() []int64 {
		t.Helper()
		list, err := store.ImportsToPrune(f.ctx, f.pool, "/files", time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, im := range list {
			ids = append(ids, im.ID)
		}
		return ids
	}
	ended := []int64{failed[0].ID, failed[1].ID, failed[2].ID, cancelled[0].ID, cancelled[1].ID}
	if got := prunable(); !slices.Equal(got, ended) {
		t.Errorf("imports to prune while a sheet of request %d is queued: %v, want %v", done[0].ID, got, ended)
	}
	f.claim("w1")
	f.finish(done[1].ID, "w1", store.StatusCompleted, "")
	if got, want := prunable(), append(ended, done[0].ID, done[1].ID); !slices.Equal(got, want) {
		t.Errorf("imports to prune once every sheet ended: %v, want %v", got, want)
	}
}

func (f *fixture) wantEnded(id int64, status, reason string) {
	f.t.Helper()
	got, err := store.GetImport(f.ctx, f.pool, f.acct.ID, id)
	if err != nil {
		f.t.Fatal(err)
	}
	if got.Status != status || got.Error != reason || got.FinishedAt == nil {
		f.t.Errorf("import %d: %s %q (ended %v), want %s %q, ended", id, got.Status, got.Error, got.FinishedAt != nil, status, reason)
	}
}

// ownQueue returns a fixture on a database of its own: ClaimImport takes from the queue of the
// whole database, which the test's claims must be alone in.
func ownQueue(t *testing.T, name string) *fixture {
	f := newFixture(t)
	f.pool = storetest.FreshDatabase(t, name)
	f.acct = storetest.Account(t, f.pool, -1)
	return f
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestWatchClaimOfAWorkbookEndsWithItsLastSheet: the claim of a watched workbook, whose id is
// its request's first import, ends once every sheet has ended, with the status and error of
// the first sheet that did not complete.
func TestWatchClaimOfAWorkbookEndsWithItsLastSheet(t *testing.T) {
	f := ownQueue(t, "watch_request")
	dir := "/watched/" + f.acct.Name
	claim, ok, err := store.ClaimWatchedFile(f.ctx, f.pool, store.WatchClaim{Dir: dir, Name: "book.xlsx", SHA256: "ab", Size: 1, Owner: "d1"})
	if err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}
	var sheets []store.Import
	for i, sheet := range []string{"Organizations", "Prospects", "Deals"} {
		opts, _ := json.Marshal(map[string]string{"sheet": sheet})
		rec := store.Import{AccountID: f.acct.ID, Source: store.SourceWatch, FileName: "book.xlsx", FilePath: "/files/book.xlsx",
			Options: opts, RequestID: claim.ImportID, RequestStep: i + 1}
		if i == 0 {
			rec.ID = claim.ImportID
		}
		imp, err := store.CreateImport(f.ctx, f.pool, rec, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		sheets = append(sheets, imp)
	}
	ended := func() string {
		t.Helper()
		list, err := store.EndedWatchClaims(f.ctx, f.pool, dir)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range list {
			out = append(out, fmt.Sprintf("%d %s %q", c.ImportID, c.ImportStatus, c.ImportError))
		}
		return strings.Join(out, "; ")
	}
	for i, want := range []string{"", ""} {
		f.claim("w1")
		f.finish(sheets[i].ID, "w1", store.StatusCompleted, "")
		if got := ended(); got != want {
			t.Errorf("after sheet %d completed: ended claims %q, want none", i+1, got)
		}
	}
	f.claim("w1")
	f.finish(sheets[2].ID, "w1", store.StatusFailed, "the deals sheet broke")
	if got, want := ended(), fmt.Sprintf(`%d failed "the deals sheet broke"`, claim.ImportID); got != want {
		t.Errorf("after the last sheet failed: ended claims %q, want %q", got, want)
	}
}
