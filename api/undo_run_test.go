package api_test

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/store"
)

// TestUndoRun: the workers run an undo as they run an import; the import is then undone, with
// who and when, and its records are as they were after the import before it. A dry run first
// reports what the undo does, row by row, and changes nothing.
func TestUndoRun(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	a := h.account(-1)
	first, b := a.importAB()
	afterA := []string{"a@example.com Ann CEO", "b@example.com Bob CTO"}
	afterB := []string{"a@example.com Ann Chair", "b@example.com Bob CTO", "c@example.com Cy COO"}
	if got := h.prospectRows(a.acct); !reflect.DeepEqual(got, afterB) {
		t.Fatalf("prospects after b: %q, want %q", got, afterB)
	}

	r := a.post(fmt.Sprintf("/v1/imports/%d/undo?dry_run=true", b))
	if r.Status != http.StatusOK {
		t.Fatalf("dry run: %s, want 200", r)
	}
	var dry importer.UndoSummary
	decode(t, r, &dry)
	wantRows := []importer.UndoRowResult{{Row: 3, EntityID: dry.Rows[0].EntityID, Outcome: "deleted"}, {Row: 2, EntityID: dry.Rows[1].EntityID, Outcome: "restored"}}
	if dry.UndoID != 0 || dry.ImportID != b || !dry.DryRun || dry.Status != store.StatusCompleted || dry.Counts.Rows != 2 ||
		dry.Counters["deleted"] != 1 || dry.Counters["restored"] != 1 || dry.Counters["kept_changed_since"] != 0 || dry.Counters["fields_kept"] != 0 ||
		!reflect.DeepEqual(dry.Rows, wantRows) || dry.Rows[0].EntityID == 0 {
		t.Errorf("dry run: %s; want 1 deleted (row 3), 1 restored (row 2), nothing recorded", r.Body)
	}
	if got := h.prospectRows(a.acct); !reflect.DeepEqual(got, afterB) {
		t.Errorf("prospects after the dry run: %q, want them as after b %q", got, afterB)
	}
	if n := h.count("SELECT count(*) FROM imports WHERE undo_of = $1", b); n != 0 {
		t.Errorf("the dry run recorded %d undos", n)
	}

	h.startWorkers()
	undo := a.undo(b)
	done := a.waitFinished(undo.ID, store.StatusCompleted)
	if done.Counts.Rows != 2 || done.Counters["deleted"] != 1 || done.Counters["restored"] != 1 ||
		done.Progress.RowsDone != 2 || done.Progress.RowsTotal != 2 || done.Progress.RowsPerSecond <= 0 || done.Progress.SecondsLeft != nil {
		t.Errorf("the undo: %+v; want 2 rows taken back: 1 deleted, 1 restored", done)
	}
	if got := h.prospectRows(a.acct); !reflect.DeepEqual(got, afterA) {
		t.Errorf("prospects after undoing b: %q, want them as after a %q", got, afterA)
	}
	var got importView
	a.getJSON(fmt.Sprintf("/v1/imports/%d", b), &got)
	if got.Status != store.StatusUndone || got.State != store.StatusUndone || got.UndoneBy != undo.ID || got.UndoneAt == nil ||
		!got.UndoneAt.Equal(*done.FinishedAt) || got.Undo == nil {
		t.Fatalf("the undone import: %+v; want undone by %d at %v", got, undo.ID, done.FinishedAt)
	}
	if u := *got.Undo; u.ID != undo.ID || u.Status != store.StatusCompleted || u.Counters["deleted"] != 1 || u.Counters["restored"] != 1 ||
		u.Progress != done.Progress || u.FinishedAt == nil || !u.FinishedAt.Equal(*done.FinishedAt) {
		t.Errorf("the undone import's undo: %+v", u)
	}
	if got, _ := a.history("status=undone"); !reflect.DeepEqual(got, []int64{b}) {
		t.Errorf("imports?status=undone: %v, want [%d]", got, b)
	}
	if got, _ := a.history(""); !reflect.DeepEqual(got, []int64{b, first}) {
		t.Errorf("imports: %v, want [%d %d]", got, b, first)
	}
	e := wantError(t, "undo an undone import", a.post(fmt.Sprintf("/v1/imports/%d/undo", b)), http.StatusConflict, "the import cannot be undone now")
	if want := fmt.Sprintf("import %d was undone already, by undo %d at ", b, undo.ID); !strings.Contains(fmt.Sprint(e.Detail), want) {
		t.Errorf("undo an undone import: detail %q, want it to say %q", e.Detail, want)
	}
}
