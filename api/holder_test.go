package api_test

import (
	"fmt"
	"testing"

	"github.com/leadpipe/leadpipe/api"
	"github.com/leadpipe/leadpipe/store"
)

// An import shows who holds it and whether the holder is alive; one whose holder's lease
// lapsed shows as interrupted, its status unchanged, in the import and in the history.
func TestImportHolder(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	a := h.account(-1)
	id := a.submit("flow.csv", fixture(t, "flow.csv"), "")
	// show leases the import for lease and returns it as GET /v1/imports/{id} and the history show it.
	show := func(lease string) []importView {
		t.Helper()
		if _, err := h.pool.Exec(h.ctx, `UPDATE imports SET status = 'running', lease_owner = 'cli:laptop:4242',
			lease_expires_at = now() + $2::interval WHERE id = $1`, id, lease); err != nil {
			t.Fatal(err)
		}
		var one importView
		a.getJSON(fmt.Sprintf("/v1/imports/%d", id), &one)
		var list api.ImportList
		a.getJSON("/v1/imports", &list)
		if len(list.Imports) != 1 {
			t.Fatalf("history has %d imports, want 1", len(list.Imports))
		}
		return []importView{one, list.Imports[0]}
	}
	want := store.Holder{Kind: store.HolderCLI, Host: "laptop", PID: 4242}

	for _, v := range show("1 hour") {
		if v.Status != store.StatusRunning || v.State != store.StatusRunning || v.Holder == nil ||
			v.Holder.Holder != want || v.Holder.Owner != "cli:laptop:4242" || !v.Holder.Alive {
			t.Errorf("held import shown as state %s, holder %+v; want running, held by a live %+v", v.State, v.Holder, want)
		}
	}
	for _, v := range show("-1 second") {
		if v.Status != store.StatusRunning || v.State != api.StateInterrupted || v.Holder == nil ||
			v.Holder.Holder != want || v.Holder.Alive {
			t.Errorf("lapsed import shown as status %s, state %s, holder %+v; want running, interrupted, dead holder",
				v.Status, v.State, v.Holder)
		}
	}

	// Once it ends, no one holds it.
	r := a.post(fmt.Sprintf("/v1/imports/%d/cancel", id))
	var v importView
	decode(t, r, &v)
	if v.State != store.StatusCancelled || v.Holder != nil || v.FinishedAt == nil {
		t.Errorf("cancelled interrupted import shown as state %s, holder %+v, finished %v; want cancelled, ended, no holder",
			v.State, v.Holder, v.FinishedAt)
	}
}
