package api_test

// POST /v1/imports/{id}/undo, and how an import's undo shows in GET /v1/imports/{id} and in the
// history (docs/undo.md).

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/leadpipe/leadpipe/api"
	"github.com/leadpipe/leadpipe/store"
)

// The files of the undo tests: a creates two prospects; b, imported after it, changes a@'s
// title and creates c@.
var (
	undoFileA = []byte("Email,First Name,Title\na@example.com,Ann,CEO\nb@example.com,Bob,CTO\n")
	undoFileB = []byte("Email,First Name,Title\na@example.com,Ann,Chair\nc@example.com,Cy,COO\n")
)

// importAB imports a then b into the client's account with the harness's workers, which it
// stops before returning, and returns their ids.
func (c *client) importAB() (a, b int64) {
	c.h.t.Helper()
	stop := c.h.startWorkers()
	defer stop()
	a = c.submit("a.csv", undoFileA, "")
	c.waitFinished(a, store.StatusCompleted)
	b = c.submit("b.csv", undoFileB, "")
	c.waitFinished(b, store.StatusCompleted)
	return a, b
}

// undo posts an undo of the import id and wants 202 with the queued undo, whose id it returns.
func (c *client) undo(id int64) importView {
	c.h.t.Helper()
	r := c.post(fmt.Sprintf("/v1/imports/%d/undo", id))
	if r.Status != http.StatusAccepted {
		c.h.t.Fatalf("undo import %d: %s, want 202", id, r)
	}
	var v importView
	decode(c.h.t, r, &v)
	if loc := r.Header.Get("Location"); loc != fmt.Sprintf("/v1/imports/%d", v.ID) {
		c.h.t.Errorf("undo import %d: Location %q, want the undo's /v1/imports/%d", id, loc, v.ID)
	}
	return v
}

// prospectRows lists the account's prospects as "email first_name title", by email.
func (h *harness) prospectRows(acct store.Account) []string {
	h.t.Helper()
	rows, err := h.pool.Query(h.ctx, `SELECT email || ' ' || coalesce(first_name, '') || ' ' || coalesce(title, '')
		FROM prospects WHERE account_id = $1 ORDER BY email`, acct.ID)
	if err != nil {
		h.t.Fatal(err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			h.t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		h.t.Fatal(err)
	}
	return out
}

// TestUndoRefused: what cannot be undone answers 409 saying why and what to do, another
// account's import 404, and nothing is recorded.
func TestUndoRefused(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	a := h.account(-1)
	other := h.account(-1)
	_, b := a.importAB()

	for _, path := range []string{fmt.Sprintf("/v1/imports/%d/undo", b), fmt.Sprintf("/v1/imports/%d/undo?dry_run=true", b),
		"/v1/imports/999999999/undo", "/v1/imports/0/undo", "/v1/imports/x/undo"} {
		wantError(t, "another account's POST "+path, other.post(path), http.StatusNotFound, "not found")
	}
	wantError(t, "dry_run=maybe", a.post(fmt.Sprintf("/v1/imports/%d/undo?dry_run=maybe", b)), http.StatusBadRequest,
		`dry_run: "maybe" is not true or false`)

	queued := a.submit("c.csv", []byte("Email\nq@example.com\n"), "") // no worker runs it
	for _, q := range []string{"", "?dry_run=true"} {
		e := wantError(t, "undo a queued import"+q, a.post(fmt.Sprintf("/v1/imports/%d/undo%s", queued, q)), http.StatusConflict,
			"the import cannot be undone now")
		if want := fmt.Sprintf("import %d is queued; cancel it first (POST /v1/imports/%d/cancel, or leadpipe imports cancel %d), then undo it",
			queued, queued, queued); !strings.Contains(fmt.Sprint(e.Detail), want) {
			t.Errorf("undo a queued import%s: detail %q, want it to say %q", q, e.Detail, want)
		}
	}

	undo := a.undo(b)
	e := wantError(t, "undo twice", a.post(fmt.Sprintf("/v1/imports/%d/undo", b)), http.StatusConflict, "the import cannot be undone now")
	if want := fmt.Sprintf("import %d is being undone already, by undo %d (queued)", b, undo.ID); !strings.Contains(fmt.Sprint(e.Detail), want) {
		t.Errorf("undo twice: detail %q, want it to say %q", e.Detail, want)
	}
	e = wantError(t, "undo an undo", a.post(fmt.Sprintf("/v1/imports/%d/undo", undo.ID)), http.StatusConflict, "the import cannot be undone now")
	if want := fmt.Sprintf("import %d is the undo of import %d; an undo cannot be undone", undo.ID, b); !strings.Contains(fmt.Sprint(e.Detail), want) {
		t.Errorf("undo an undo: detail %q, want it to say %q", e.Detail, want)
	}
	if n := h.count("SELECT count(*) FROM imports WHERE undo_of IS NOT NULL AND account_id IN ($1, $2)", a.acct.ID, other.acct.ID); n != 1 {
		t.Errorf("%d undos recorded, want the one queued", n)
	}
}

// TestUndoQueuedShown: a queued undo is an import of its own (undo_of) that the undone import
// shows as its undo; the history lists undos only when asked; a cancelled undo shows on its
// import until another replaces it.
func TestUndoQueuedShown(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	a := h.account(-1)
	first, b := a.importAB()

	undo := a.undo(b)
	if undo.UndoOf != b || undo.Status != store.StatusQueued || undo.State != store.StatusQueued || undo.Kind != "prospects" ||
		undo.FileName != "b.csv" || undo.Source != store.SourceUpload || undo.Progress != (api.Progress{RowsDone: 0, RowsTotal: 2}) ||
		undo.Undo != nil || undo.UndoneBy != 0 {
		t.Errorf("queued undo %+v; want a queued prospects undo of import %d (b.csv) taking back 2 rows", undo, b)
	}
	var got importView
	a.getJSON(fmt.Sprintf("/v1/imports/%d", undo.ID), &got)
	if got.ID != undo.ID || got.UndoOf != b || got.Status != store.StatusQueued {
		t.Errorf("GET the undo: %+v", got)
	}
	wantCounters := map[string]int{"deleted": 0, "restored": 0, "kept_changed_since": 0, "fields_kept": 0}
	if !reflect.DeepEqual(got.Counters, wantCounters) {
		t.Errorf("GET the undo: counters %v, want %v", got.Counters, wantCounters)
	}
	a.getJSON(fmt.Sprintf("/v1/imports/%d", b), &got)
	if got.Status != store.StatusCompleted || got.UndoneBy != 0 || got.UndoneAt != nil || got.Undo == nil {
		t.Fatalf("GET the import being undone: %+v; want completed, with its undo", got)
	}
	if u := *got.Undo; u.ID != undo.ID || u.Status != store.StatusQueued || u.Source != store.SourceUpload ||
		u.Progress != (api.Progress{RowsTotal: 2}) || !reflect.DeepEqual(u.Counters, wantCounters) || !u.CreatedAt.Equal(undo.CreatedAt) ||
		u.StartedAt != nil || u.FinishedAt != nil {
		t.Errorf("the import's undo: %+v; want undo %d queued, 0 of 2 rows", u, undo.ID)
	}

	// Cancelled, it still shows; another undo then replaces it.
	if r := a.post(fmt.Sprintf("/v1/imports/%d/cancel", undo.ID)); r.Status != http.StatusOK {
		t.Fatalf("cancel the undo: %s", r)
	}
	a.getJSON(fmt.Sprintf("/v1/imports/%d", b), &got)
	if got.Status != store.StatusCompleted || got.Undo == nil || got.Undo.ID != undo.ID || got.Undo.Status != store.StatusCancelled ||
		got.Undo.FinishedAt == nil {
		t.Errorf("the import after its undo was cancelled: %+v, undo %+v; want completed, its undo cancelled", got, got.Undo)
	}
	second := a.undo(b)
	a.getJSON(fmt.Sprintf("/v1/imports/%d", b), &got)
	if got.Undo == nil || got.Undo.ID != second.ID || got.Undo.Status != store.StatusQueued {
		t.Errorf("the import's undo after another was queued: %+v; want undo %d, queued", got.Undo, second.ID)
	}

	for _, tc := range []struct {
		query string
		want  []int64
	}{
		{"", []int64{b, first}},
		{"undos=exclude", []int64{b, first}},
		{"undos=include", []int64{second.ID, undo.ID, b, first}},
		{"undos=only", []int64{second.ID, undo.ID}},
		{"undos=only&status=cancelled", []int64{undo.ID}},
		{"status=cancelled", []int64{}},
		{"status=undone", []int64{}},
		{"undos=include&limit=3", []int64{second.ID, undo.ID, b}},
	} {
		if got, _ := a.history(tc.query); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("imports?%s: %v, want %v", tc.query, got, tc.want)
		}
	}
	var l api.ImportList
	a.getJSON("/v1/imports", &l)
	if len(l.Imports) != 2 || l.Imports[0].Undo == nil || l.Imports[0].Undo.ID != second.ID || l.Imports[1].Undo != nil {
		t.Errorf("history: %+v; want b with its undo %d, then a without", l.Imports, second.ID)
	}
	wantError(t, "undos=all", a.get("/v1/imports?undos=all"), http.StatusBadRequest, "invalid query parameters")
}
