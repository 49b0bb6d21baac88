package api_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/store"
)

// TestCancelQueued cancels an import no worker has claimed yet: it ends at once and no worker
// runs it afterwards.
func TestCancelQueued(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	a := h.account(-1)
	id := a.submit("flow.csv", fixture(t, "flow.csv"), "")
	r := a.post(fmt.Sprintf("/v1/imports/%d/cancel", id))
	if r.Status != http.StatusOK {
		t.Fatalf("cancel queued: %s, want 200", r)
	}
	var v importView
	decode(t, r, &v)
	if v.ID != id || v.Status != "cancelled" || v.FinishedAt == nil || v.StartedAt != nil {
		t.Errorf("cancel answered %s; want status cancelled, finished_at set, no started_at", r.Body)
	}

	// A worker started now finds nothing to do.
	h.startWorkers()
	time.Sleep(300 * time.Millisecond)
	a.getJSON(fmt.Sprintf("/v1/imports/%d", id), &v)
	if v.Status != "cancelled" || v.Progress.RowsDone != 0 {
		t.Errorf("after a worker ran: %s with %d rows done, want cancelled with 0", v.Status, v.Progress.RowsDone)
	}
	if n := h.count("SELECT count(*) FROM prospects WHERE account_id = $1", a.acct.ID); n != 0 {
		t.Errorf("%d prospects written by a cancelled import", n)
	}

	// Cancelling it again: it has ended.
	r = a.post(fmt.Sprintf("/v1/imports/%d/cancel", id))
	wantError(t, "cancel a cancelled import", r, http.StatusConflict, "the import has already ended")
}

// TestCancelCompleted: an import that completed cannot be cancelled: 409.
func TestCancelCompleted(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.startWorkers()
	a := h.account(-1)
	id := a.submit("flow.csv", fixture(t, "flow.csv"), "")
	a.waitFinished(id, store.StatusCompleted)
	r := a.post(fmt.Sprintf("/v1/imports/%d/cancel", id))
	wantError(t, "cancel a completed import", r, http.StatusConflict, "the import has already ended")
	var v importView
	a.getJSON(fmt.Sprintf("/v1/imports/%d", id), &v)
	if v.Status != "completed" {
		t.Errorf("status %s after a refused cancel, want completed", v.Status)
	}
	// Ids that are not imports.
	for _, path := range []string{"/v1/imports/999999999/cancel", "/v1/imports/0/cancel", "/v1/imports/-1/cancel", "/v1/imports/x/cancel"} {
		wantError(t, "POST "+path, a.post(path), http.StatusNotFound, "not found")
	}
}

// TestCancelRunning cancels an import while a worker runs it, batch by batch (2 rows each):
// it stops at a batch boundary; what committed before stays, the batch in flight does not.
func TestCancelRunning(t *testing.T) {
	h := newHarness(t, harnessOpts{BatchSize: 2})
	a := h.account(-1)
	const rows = 4000
	csv := []byte("Email,First Name\n")
	for i := range rows {
		csv = fmt.Appendf(csv, "p%05d@example.com,P%d\n", i, i)
	}
	id := a.submit("big.csv", csv, "")
	h.startWorkers()
	a.waitImport(id, "rows done", func(v importView) bool { return v.Status == "running" && v.Progress.RowsDone >= 4 })

	r := a.post(fmt.Sprintf("/v1/imports/%d/cancel", id))
	if r.Status != http.StatusOK {
		t.Fatalf("cancel running: %s, want 200", r)
	}
	var v importView
	decode(t, r, &v)
	if v.Status != "cancelled" {
		t.Errorf("cancel answered status %s, want cancelled", v.Status)
	}

	v = a.waitFinished(id, store.StatusCancelled)
	done := v.Progress.RowsDone
	t.Logf("cancelled after %d of %d rows", done, rows)
	if done >= rows || v.Progress.RowsTotal != rows {
		t.Errorf("rows done %d of %d: the import was not stopped", done, v.Progress.RowsTotal)
	}
	if done%2 != 0 {
		t.Errorf("rows done %d: not a batch boundary (batches of 2)", done)
	}
	if v.Created != done {
		t.Errorf("created %d, rows done %d", v.Created, done)
	}
	if n := h.count("SELECT count(*) FROM import_rows WHERE import_id = $1", id); n != done {
		t.Errorf("%d row outcomes recorded, %d rows done", n, done)
	}
	if n := h.count("SELECT count(*) FROM prospects WHERE account_id = $1", a.acct.ID); n != done {
		t.Errorf("%d prospects, %d rows done: the batch in flight was not rolled back", n, done)
	}
	time.Sleep(200 * time.Millisecond)
	var later importView
	a.getJSON(fmt.Sprintf("/v1/imports/%d", id), &later)
	if later.Status != "cancelled" || later.Progress.RowsDone != done {
		t.Errorf("later: %s, %d rows done; want cancelled, %d", later.Status, later.Progress.RowsDone, done)
	}
	// The cancelled import's skipped report and file still answer.
	if r := a.get(fmt.Sprintf("/v1/imports/%d/file", id)); r.Status != http.StatusOK || len(r.Body) != len(csv) {
		t.Errorf("file of a cancelled import: %d, %d bytes", r.Status, len(r.Body))
	}
}
