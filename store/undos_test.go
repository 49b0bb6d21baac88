package store_test

// Undos are imports of their own (0015_undo.sql): who may be undone when, and what completing
// an undo does to the import it took back.

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/store"
)

// undoOf records an undo of the import id as CreateUndo's callers do; leased to owner when
// leaseOwner is set.
func (f *fixture) undoOf(id int64, leaseOwner string) (store.Import, error) {
	rec := store.Import{AccountID: f.acct.ID, UndoOf: id, Source: store.SourceCLI}
	rec.Counts.StartCounters([]string{"deleted", "restored", "kept_changed_since", "fields_kept"})
	return store.CreateUndo(f.ctx, f.pool, rec, leaseOwner, time.Hour)
}

// wantNotUndoable checks that undoing id fails with ErrNotUndoable and a message with want.
func (f *fixture) wantNotUndoable(id int64, want string) {
	f.t.Helper()
	_, err := f.undoOf(id, "")
	if !errors.Is(err, store.ErrNotUndoable) || !strings.Contains(err.Error(), want) {
		f.t.Fatalf("undo import %d: %v; want ErrNotUndoable saying %q", id, err, want)
	}
}

func TestUndoWhenAndWhatItMarks(t *testing.T) {
	f := newFixture(t)
	p := f.prospect("a@example.com", nil)

	running, err := store.CreateImport(f.ctx, f.pool, store.Import{AccountID: f.acct.ID, Source: store.SourceCLI,
		FileName: "b.csv", FilePath: "/nonexistent/b.csv"}, owner, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	f.wantNotUndoable(running.ID, "is running; cancel it first (POST /v1/imports/")

	id := f.importOf("a.csv", day("2026-12-01"),
		[]row{{n: 2, outcome: "created", prospect: p}, {n: 3, outcome: "skipped", reason: "invalid_email"}},
		[]row{{n: 4, outcome: "unchanged", prospect: p}, {n: 5, outcome: "updated", prospect: p}})
	if _, err := f.other().undoOf(id, ""); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another account undoes import %d: %v; want ErrNotFound", id, err)
	}
	// Lists the import created: one that keeps a member, one left empty by the undo.
	f.exec(`INSERT INTO groupings (account_id, kind, name, import_id) VALUES ($1, 'list', 'kept', $2), ($1, 'tag', 'emptied', $2)`, f.acct.ID, id)
	f.exec(`INSERT INTO grouping_members (grouping_id, prospect_id) SELECT id, $2 FROM groupings WHERE account_id = $1 AND name = 'kept'`, f.acct.ID, p)

	undo, err := f.undoOf(id, "")
	if err != nil {
		t.Fatal(err)
	}
	if undo.UndoOf != id || undo.Status != store.StatusQueued || undo.Kind != "prospects" || undo.FileName != "a.csv" ||
		undo.RowsTotal != 3 || undo.Source != store.SourceCLI {
		t.Fatalf("undo: %+v; want a queued prospects undo of import %d, of a.csv, taking back 3 rows", undo, id)
	}
	f.wantNotUndoable(id, "is being undone already, by undo "+itoa(undo.ID)+" (queued)")
	f.wantNotUndoable(undo.ID, "is the undo of import "+itoa(id)+"; an undo cannot be undone")

	// A cancelled undo leaves the import as it was; it may be undone again.
	if _, err := store.CancelImport(f.ctx, f.pool, f.acct.ID, undo.ID); err != nil {
		t.Fatal(err)
	}
	undo, err = f.undoOf(id, owner)
	if err != nil {
		t.Fatal(err)
	}
	if undo.Status != store.StatusRunning {
		t.Fatalf("undo run in the foreground is %s; want running", undo.Status)
	}
	imp, err := store.GetImport(f.ctx, f.pool, f.acct.ID, id)
	if err != nil || imp.Status != store.StatusCompleted {
		t.Fatalf("import while undone: %s, %v; want still completed", imp.Status, err)
	}

	f.finish(undo.ID, owner, store.StatusCompleted, "")
	undo, _ = store.GetImport(f.ctx, f.pool, f.acct.ID, undo.ID)
	imp, err = store.GetImport(f.ctx, f.pool, f.acct.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	if imp.Status != store.StatusUndone || imp.UndoneBy != undo.ID || imp.UndoneAt == nil || !imp.UndoneAt.Equal(*undo.FinishedAt) {
		t.Fatalf("import after its undo completed: status %s, undone by %d at %v; want undone by %d at %v",
			imp.Status, imp.UndoneBy, imp.UndoneAt, undo.ID, undo.FinishedAt)
	}
	events, err := store.ImportEvents(f.ctx, f.pool, id, 0)
	if err != nil {
		t.Fatal(err)
	}
	if last := events[len(events)-1]; last.Kind != "undone" || last.Status != store.StatusUndone {
		t.Fatalf("import's last event: %+v; want an undone event", last)
	}
	var lists string
	if err := f.pool.QueryRow(f.ctx, `SELECT string_agg(name, ',') FROM groupings WHERE account_id = $1`, f.acct.ID).Scan(&lists); err != nil {
		t.Fatal(err)
	}
	if lists != "kept" {
		t.Fatalf("groupings after the undo: %s; want the empty one the import created gone, the other kept", lists)
	}
	f.wantNotUndoable(id, "was undone already, by undo "+itoa(undo.ID)+" at ")
}

func TestUndoRowsLastFirst(t *testing.T) {
	f := newFixture(t)
	p := f.prospect("a@example.com", nil)
	id := f.importOf("a.csv", day("2026-12-01"),
		[]row{{n: 2, outcome: "created", prospect: p}, {n: 3, outcome: "skipped", reason: "invalid_email"}, {n: 4, outcome: "unchanged", prospect: p}},
		[]row{{n: 5, outcome: "updated", prospect: p}, {n: 6, outcome: "skipped", reason: "over_limit"}, {n: 7, outcome: "created", prospect: p}})
	f.exec(`UPDATE import_outcome_rows SET undo = '{"c":[["title","a","b"]]}' WHERE import_id = $1 AND row_number = 5`, id)
	var got []string
	for before := 0; ; {
		rows, err := store.UndoRows(f.ctx, f.pool, id, before, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 0 {
			break
		}
		for _, r := range rows {
			got = append(got, itoa(int64(r.Row))+":"+r.Outcome+":"+string(r.Undo))
		}
		before = rows[len(rows)-1].Row
	}
	want := []string{"7:created:", `5:updated:{"c":[["title","a","b"]]}`, "4:unchanged:", "2:created:"}
	if strings.Join(got, " | ") != strings.Join(want, " | ") {
		t.Fatalf("rows to undo, 2 at a time:\n got %q\nwant %q", got, want)
	}
}
