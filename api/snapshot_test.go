package api_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadpipe/leadpipe/api"
	"github.com/leadpipe/leadpipe/store"
)

// betweenReads is a pool whose transactions run between their first and second statements,
// once, a function on another connection: a commit that lands while a view is being read.
type betweenReads struct {
	*pgxpool.Pool
	between func()
}

func (b *betweenReads) BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error) {
	tx, err := b.Pool.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &readsTx{Tx: tx, between: b.between}, nil
}

type readsTx struct {
	pgx.Tx
	between    func()
	statements int
}

func (t *readsTx) next() {
	if t.statements++; t.statements == 2 {
		t.between()
	}
}

func (t *readsTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	t.next()
	return t.Tx.Query(ctx, sql, args...)
}

func (t *readsTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	t.next()
	return t.Tx.QueryRow(ctx, sql, args...)
}

// TestUndoViewInOneSnapshot: an undo that completes while an import's view is being read
// shows either not yet (the import completed, its undo queued) or done (the import undone,
// its undo completed), never its undo completed beside an import not undone: the page stops
// following an import whose undo has ended, and would never show it undone.
func TestUndoViewInOneSnapshot(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	a := h.account(-1)
	first, second := a.importAB()
	// Each case undoes an import of its own: an undone import cannot be undone again.
	for _, tc := range []struct {
		name string
		id   int64
		read func(db store.TxBeginner, id int64) (api.ImportView, error)
	}{
		{"GET /v1/imports/{id}", second, func(db store.TxBeginner, id int64) (api.ImportView, error) {
			return api.ShowImport(h.ctx, db, a.acct.ID, id)
		}},
		{"GET /v1/imports", first, func(db store.TxBeginner, id int64) (api.ImportView, error) {
			l, err := api.History(h.ctx, db, a.acct, store.ImportFilter{Limit: 10})
			for _, v := range l.Imports {
				if v.ID == id {
					return v, err
				}
			}
			return api.ImportView{}, fmt.Errorf("import %d not in the history (%v)", id, err)
		}},
	} {
		undo := a.undo(tc.id)
		ran := false
		complete := func() {
			ran = true
			if _, err := h.pool.Exec(h.ctx, `UPDATE imports SET status = 'completed', started_at = now(), finished_at = now()
				WHERE id = $1`, undo.ID); err != nil {
				t.Error(err)
			}
		}
		v, err := tc.read(&betweenReads{Pool: h.pool, between: complete}, tc.id)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !ran {
			t.Fatalf("%s: the view was read in fewer than two statements; the undo never committed between them", tc.name)
		}
		if v.Status != store.StatusCompleted || v.Undo == nil || v.Undo.ID != undo.ID || v.Undo.Status != store.StatusQueued {
			t.Errorf("%s, read as undo %d completed: import %s, undo %+v; want the import completed and its undo queued, as when the read began",
				tc.name, undo.ID, v.Status, v.Undo)
		}
		if v, err = tc.read(h.pool, tc.id); err != nil || v.Status != store.StatusUndone || v.Undo == nil || v.Undo.Status != store.StatusCompleted {
			t.Errorf("%s, read after: import %s, undo %+v, %v; want undone by a completed undo", tc.name, v.Status, v.Undo, err)
		}
	}
}
