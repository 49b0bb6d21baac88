package store_test

import (
	"cmp"
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/leadpipe/leadpipe/kind"
	"github.com/leadpipe/leadpipe/kinds/prospects"
	"github.com/leadpipe/leadpipe/store"
)

// Encoded.ExecUnlessLocked waits for a row another transaction holds no longer than it is told,
// then writes nothing and leaves the transaction going on, with its own lock_timeout and the
// planner's settings as they were; when the row is free it writes it. The statement is the
// early update's, at the rows' addresses (store.AtAddressPlan). A writer that comes to wait for
// a row it wrote is freed by a rollback to a savepoint taken before it, while the transaction
// goes on: had its savepoint been released, that writer would wait for the whole transaction's
// end.
func TestExecUnlessLocked(t *testing.T) {
	f := newKindFixture(t, "prospect")
	c, err := kind.Catalog(f.ctx, f.pool, prospects.Kind{}, f.acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	ann := f.record(c, map[string]string{"email": "ann@example.com", "title": "CEO"})
	f.inTx(func(tx pgx.Tx) error { return store.InsertProspects(f.ctx, tx, c, f.acct.ID, []store.Prospect{ann}) })
	title := c.MustIndex("title")
	changed := make([]bool, len(c.Fields))
	changed[title] = true
	// titled updates ann's title to to, in tx, at her row's address as tx finds it, waiting at
	// most 50 ms.
	titled := func(tx pgx.Tx, to string) (n int64, ran bool, waited time.Duration) {
		t.Helper()
		loaded, err := store.LoadProspects(f.ctx, tx, c, f.acct.ID, store.ProspectLookup{Emails: []string{"ann@example.com"}, UniqueField: -1})
		if err != nil || len(loaded) != 1 {
			t.Fatalf("load ann: %v, %v", loaded, err)
		}
		p := loaded[0]
		p.Values[title] = to
		e, err := store.EncodeProspectUpdateAtAddress(tx.Conn().TypeMap(), c, f.acct.ID, []store.Prospect{p}, changed)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		n, ran, err = e.ExecUnlessLocked(f.ctx, tx, 50*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		return n, ran, time.Since(start)
	}
	titleIn := func(q interface {
		QueryRow(context.Context, string, ...any) pgx.Row
	}) string {
		t.Helper()
		var s string
		if err := q.QueryRow(f.ctx, "SELECT title FROM prospects WHERE id = $1", ann.ID).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	lockTimeout := func(tx pgx.Tx) string {
		t.Helper()
		var s string
		if err := tx.QueryRow(f.ctx, "SHOW lock_timeout").Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	// The transaction turns two of the planner's settings off, one that the early update turns
	// off too and one that it turns on, and leaves the others on.
	transactionHas := map[string]string{"enable_bitmapscan": "off", "enable_nestloop": "off"}
	// plannerAsBefore fails the test when a setting of store.AtAddressPlan is not as the
	// transaction has it.
	plannerAsBefore := func(tx pgx.Tx, after string) {
		t.Helper()
		for _, set := range store.AtAddressPlan() {
			var s string
			if err := tx.QueryRow(f.ctx, "SELECT current_setting($1)", set.Name).Scan(&s); err != nil {
				t.Fatal(err)
			}
			want := cmp.Or(transactionHas[set.Name], "on")
			if s != want {
				t.Errorf("%s %s %s, want the transaction's %s", set.Name, s, after, want)
			}
		}
	}

	holder, err := f.pool.Begin(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := holder.Exec(f.ctx, "SELECT 1 FROM prospects WHERE id = $1 FOR UPDATE", ann.ID); err != nil {
		t.Fatal(err)
	}
	f.inTx(func(tx pgx.Tx) error {
		if _, err := tx.Exec(f.ctx, "SET LOCAL lock_timeout = '7s'"); err != nil {
			return err
		}
		for name, value := range transactionHas {
			if _, err := tx.Exec(f.ctx, "SELECT set_config($1, $2, true)", name, value); err != nil {
				return err
			}
		}
		if _, ran, waited := titled(tx, "CTO"); ran || waited > 5*time.Second {
			t.Errorf("a row another transaction holds: ran %v after %v; want given up after about 50 ms", ran, waited)
		}
		if got := lockTimeout(tx); got != "7s" {
			t.Errorf("lock_timeout %s after giving up, want the transaction's 7s", got)
		}
		plannerAsBefore(tx, "after giving up")
		if got := titleIn(tx); got != "CEO" {
			t.Errorf("title %q after giving up, want CEO", got)
		}
		if err := holder.Rollback(f.ctx); err != nil {
			return err
		}
		if n, ran, _ := titled(tx, "CTO"); !ran || n != 1 {
			t.Errorf("a free row: ran %v, %d rows; want 1", ran, n)
		}
		if got := lockTimeout(tx); got != "7s" {
			t.Errorf("lock_timeout %s after the statement, want the transaction's 7s", got)
		}
		plannerAsBefore(tx, "after the statement")
		return nil
	})
	if got := titleIn(f.pool); got != "CTO" {
		t.Errorf("committed title %q, want CTO", got)
	}

	tx, err := f.pool.Begin(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // ended below when the test passes
	if _, err := tx.Exec(f.ctx, "SAVEPOINT before_update"); err != nil {
		t.Fatal(err)
	}
	if _, ran, _ := titled(tx, "CFO"); !ran {
		t.Fatal("a free row: not updated")
	}
	waiter := make(chan error, 1)
	go func() {
		_, err := f.pool.Exec(f.ctx, "UPDATE prospects SET title = 'COO' WHERE id = $1", ann.ID)
		waiter <- err
	}()
	for deadline := time.Now().Add(10 * time.Second); ; {
		var n int
		if err := f.pool.QueryRow(f.ctx, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'UPDATE prospects SET title = ''COO''%'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the other writer never came to wait for ann's row")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := tx.Exec(f.ctx, "ROLLBACK TO SAVEPOINT before_update"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-waiter:
		if err != nil {
			t.Errorf("the other writer: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the other writer still waits for ann's row after the rollback past the update; the transaction is still open")
	}
	if err := tx.Rollback(f.ctx); err != nil {
		t.Fatal(err)
	}
	if got := titleIn(f.pool); got != "COO" {
		t.Errorf("title %q, want the other writer's COO", got)
	}
}
