package prospects

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/kind"
	"github.com/leadpipe/leadpipe/kinds/internal/orglink"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
	"github.com/leadpipe/leadpipe/store/storetest"
)

// batchDriver writes batches of one import's writer by hand, so that a test can put another
// writer's transaction exactly between a batch's read-ahead and its write.
type batchDriver struct {
	t    *testing.T
	ctx  context.Context
	pool *pgxpool.Pool
	acct store.Account
	w    *writer
}

func newBatchDriver(t *testing.T) *batchDriver {
	pool := storetest.Pool(t)
	acct := storetest.Account(t, pool, -1)
	c := crm.NewCatalog("prospect", standardFields(), nil)
	return &batchDriver{t: t, ctx: t.Context(), pool: pool, acct: acct,
		w: newWriter(&kind.Plan{Kind: Kind{}, Account: acct, Catalog: c, Mapped: func(string) bool { return true }})}
}

// batch is one row per email and company.
func (d *batchDriver) batch(emailCompany ...string) *pipeline.Batch {
	c := d.w.plan.Catalog
	b := &pipeline.Batch{}
	for i := 0; i < len(emailCompany); i += 2 {
		v := make([]string, len(c.Fields))
		v[c.MustIndex(crm.FieldEmail)], v[c.MustIndex(crm.FieldOrganization)] = emailCompany[i], emailCompany[i+1]
		b.Rows = append(b.Rows, pipeline.Row{Number: i/2 + 2, Values: v})
	}
	return b
}

func (d *batchDriver) prepare(b *pipeline.Batch) {
	d.t.Helper()
	if err := d.prepareAhead(b)(); err != nil {
		d.t.Fatal(err)
	}
}

// prepareAhead takes the snapshot of b's Prepare now and runs Prepare in a goroutine, as the
// engine does while the batch before is written: Prepare waits for Write to have applied the
// batches prepared before b. The function returned waits for it.
func (d *batchDriver) prepareAhead(b *pipeline.Batch) func() error {
	d.t.Helper()
	tx, err := d.pool.BeginTx(d.ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead})
	if err != nil {
		d.t.Fatal(err)
	}
	if _, err := tx.Exec(d.ctx, "SELECT 1"); err != nil { // the snapshot is taken here
		d.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		err := d.w.Prepare(d.ctx, tx, b)
		if err == nil {
			err = tx.Commit(d.ctx)
		}
		tx.Rollback(context.Background())
		done <- err
	}()
	return func() error { return <-done }
}

func (d *batchDriver) write(b *pipeline.Batch) {
	d.t.Helper()
	if err := pgx.BeginFunc(d.ctx, d.pool, func(tx pgx.Tx) error { return d.w.Write(d.ctx, tx, b) }); err != nil {
		d.t.Fatal(err)
	}
	d.w.Committed(b)
}

// rename renames an organization as another writer (an organizations import) would: under
// the account's lock, in a transaction of its own.
func (d *batchDriver) rename(id int64, name string) {
	d.t.Helper()
	err := pgx.BeginFunc(d.ctx, d.pool, func(tx pgx.Tx) error {
		if err := store.LockAccount(d.ctx, tx, d.acct.ID); err != nil {
			return err
		}
		_, err := tx.Exec(d.ctx, "UPDATE organizations SET name = $2, name_key = $3 WHERE id = $1", id, name, crm.NormalizeOrgName(name))
		return err
	})
	if err != nil {
		d.t.Fatal(err)
	}
}

// preparedCount reads leadpipe_prepared_batches_total: held and reread.
func preparedCount() (held, reread float64) {
	c := counterByResult("leadpipe_prepared_batches_total")
	return c["held"], c["reread"]
}

// counterByResult reads a counter vector of the default registry by its one label, result.
func counterByResult(name string) map[string]float64 {
	out := map[string]float64{}
	families, _ := prometheus.DefaultGatherer.Gather()
	for _, f := range families {
		if f.GetName() == name {
			for _, m := range f.GetMetric() {
				out[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
			}
		}
	}
	return out
}

// orgOf is the id and name of the organization of the prospect with email.
func (d *batchDriver) orgOf(email string) (int64, string) {
	d.t.Helper()
	var id int64
	var name string
	if err := d.pool.QueryRow(d.ctx, `SELECT o.id, o.name FROM prospects p JOIN organizations o ON o.id = p.organization_id
		WHERE p.account_id = $1 AND lower(p.email) = $2`, d.acct.ID, email).Scan(&id, &name); err != nil {
		d.t.Fatalf("organization of %s: %v", email, err)
	}
	return id, name
}

// The organizations an import linked to are not read again by its later batches while only it
// writes into the account; once another writer did, they are read again. Here the other
// writer renames the organization a first batch created, and a later batch naming the old
// name must create a new one, whether the other writer ran before the batch's read-ahead or
// between its read-ahead and its write.
func TestKnownOrganizationsAfterAnotherWriter(t *testing.T) {
	for _, between := range []bool{false, true} {
		d := newBatchDriver(t)
		d.write(d.batch("ann@acme.com", "Acme", "bob@beta.io", "Beta"))
		acme, _ := d.orgOf("ann@acme.com")
		b2, b3 := d.batch("cat@beta.io", "Beta"), d.batch("dan@other.org", "Acme")
		d.prepare(b2)
		d.write(b2)
		if !between {
			d.rename(acme, "Acme Holdings")
		}
		d.prepare(b3)
		if between {
			d.rename(acme, "Acme Holdings")
		}
		d.write(b3)
		if id, name := d.orgOf("dan@other.org"); id == acme || name != "Acme" {
			t.Errorf("between=%v: dan links to organization %d %q; want a new Acme, not %d (renamed)", between, id, name, acme)
		}
		beta, _ := d.orgOf("bob@beta.io")
		if id, _ := d.orgOf("cat@beta.io"); id != beta {
			t.Errorf("between=%v: cat links to organization %d, want Beta (%d)", between, id, beta)
		}
	}
}

// row is a row of the driver's catalog with these fields set.
func (d *batchDriver) row(n int, kv ...string) pipeline.Row {
	c := d.w.plan.Catalog
	v := make([]string, len(c.Fields))
	for i := 0; i < len(kv); i += 2 {
		v[c.MustIndex(kv[i])] = kv[i+1]
	}
	return pipeline.Row{Number: n, Values: v}
}

// A batch read ahead before the batch before it committed finds what that batch created or
// changed, by every identity: the email, the unique identifier and the name.
func TestReadAheadFindsWhatTheBatchBeforeWrote(t *testing.T) {
	d := newBatchDriver(t)
	d.w.plan.Options = crm.Options{UniqueIdentifier: "phone", MatchByName: true}
	d.w = newWriter(d.w.plan)
	d.write(&pipeline.Batch{Rows: []pipeline.Row{
		d.row(2, "email", "old@acme.com", "phone", "555-0100"),
		d.row(3, "email", "zed@acme.com", "first_name", "Zed", "last_name", "Zee"),
	}})
	b1 := &pipeline.Batch{Rows: []pipeline.Row{
		d.row(4, "email", "ann@acme.com", "phone", "555-0100"),                      // old@ by phone: its email moves
		d.row(5, "email", "bob@beta.io", "phone", "555-0199"),                       // created
		d.row(6, "email", "cat@gamma.org", "first_name", "Cat", "last_name", "Kit"), // created
		d.row(6, "email", "dan@delta.net"),                                          // created
	}}
	b2 := &pipeline.Batch{Rows: []pipeline.Row{
		d.row(7, "phone", "555-0199", "title", "CEO"),                       // bob, by phone
		d.row(8, "first_name", "Cat", "last_name", "Kit", "title", "CTO"),   // cat, by name
		d.row(9, "email", "ann@acme.com", "title", "CFO"),                   // the moved prospect, by its new email
		d.row(10, "email", "old@acme.com", "title", "New"),                  // the freed email: created
		d.row(11, "first_name", "Zed", "last_name", "Zee", "title", "Boss"), // zed, read from the database
		d.row(12, "email", "dan@delta.net", "title", "VP"),                  // dan, by email
	}}
	held0, _ := preparedCount()
	d.prepare(b1)
	prepared := d.prepareAhead(b2) // before b1 commits: b2's snapshot lacks b1's writes
	d.write(b1)
	if err := prepared(); err != nil {
		t.Fatal(err)
	}
	d.write(b2)
	if held, _ := preparedCount(); held-held0 != 2 {
		t.Errorf("the read-ahead held for %v batches, want 2", held-held0)
	}
	want := map[int]pipeline.Outcome{7: pipeline.Updated, 8: pipeline.Updated, 9: pipeline.Updated, 10: pipeline.Created, 11: pipeline.Updated, 12: pipeline.Updated}
	for _, r := range b2.Rows {
		if r.Outcome != want[r.Number] {
			t.Errorf("row %d: %s (%s), want %s", r.Number, r.Outcome, r.SkipReason, want[r.Number])
		}
	}
	if b2.Rows[0].EntityID != b1.Rows[1].EntityID || b2.Rows[1].EntityID != b1.Rows[2].EntityID || b2.Rows[2].EntityID != b1.Rows[0].EntityID {
		t.Errorf("rows 7, 8, 9 matched %d, %d, %d; want %d (bob), %d (cat), %d (ann)", b2.Rows[0].EntityID, b2.Rows[1].EntityID,
			b2.Rows[2].EntityID, b1.Rows[1].EntityID, b1.Rows[2].EntityID, b1.Rows[0].EntityID)
	}
}

// A batch whose transaction rolled back is not laid over the next batch's read: its writes, and
// its count in write_seq, are gone, and another writer may have taken that count since. With
// organizations, the import also forgets those it knew; without, only the rolled-back batch's
// absence from what committed tells.
func TestReadAheadIgnoresABatchRolledBack(t *testing.T) {
	for _, company := range []string{"Beta", ""} {
		d := newBatchDriver(t)
		d.write(d.batch("ann@acme.com", company))
		gamma := ""
		if company != "" {
			gamma = "Gamma" // an organization b3 makes: as applied ahead, then again under the lock
		}
		b2, b3 := d.batch("bob@beta.io", company), d.batch("bob@beta.io", company, "cat@beta.io", company, "dan@gamma.io", gamma)
		d.prepare(b2)
		prepared := d.prepareAhead(b3) // before b2: its snapshot has neither b2's writes nor the other writer's
		if err := pgx.BeginFunc(d.ctx, d.pool, func(tx pgx.Tx) error {
			if err := d.w.Write(d.ctx, tx, b2); err != nil {
				return err
			}
			return errRollBack
		}); err != errRollBack {
			t.Fatal(err)
		}
		if err := prepared(); err != nil { // b3 applied on b2's writes, which are gone
			t.Fatal(err)
		}
		// Another writer takes write_seq's next count and creates bob as b2 would have.
		other := newWriter(d.w.plan)
		d2 := &batchDriver{t: t, ctx: d.ctx, pool: d.pool, acct: d.acct, w: other}
		d2.write(d2.batch("bob@beta.io", company))
		d.write(b3)
		var bob int64
		if err := d.pool.QueryRow(d.ctx, "SELECT id FROM prospects WHERE account_id = $1 AND email = 'bob@beta.io'", d.acct.ID).Scan(&bob); err != nil {
			t.Fatal(err)
		}
		if r := b3.Rows[0]; r.Outcome != pipeline.Unchanged || r.EntityID != bob {
			t.Errorf("company %q: bob's row: %s, prospect %d; want unchanged, prospect %d (made by the other writer)", company, r.Outcome, r.EntityID, bob)
		}
		if b3.Rows[1].Outcome != pipeline.Created {
			t.Errorf("company %q: cat's row: %s, want created", company, b3.Rows[1].Outcome)
		}
		if company == "" {
			continue
		}
		// What the discarded apply set is gone: dan's row names one organization made, the one
		// written, and each link is counted once.
		if u := b3.Rows[2].Undo; u == nil || len(u.Made) != 1 {
			t.Errorf("dan's row made %+v, want one organization", u)
		} else if id, _ := d.orgOf("dan@gamma.io"); u.Made[0].ID != id {
			t.Errorf("dan's row made organization %d, but dan links to %d", u.Made[0].ID, id)
		}
		if n := b3.Counters[orglink.CounterLinked]; n != 2 {
			t.Errorf("%d organizations linked, want 2 (cat's and dan's)", n)
		}
	}
}

// Applied ahead, a batch takes room from what the batch before left of the account's limit,
// and holds while nothing changes it; a limit changed between the apply and the write makes
// the batch applied again under the lock.
func TestApplyAheadWithinTheLimit(t *testing.T) {
	for _, raised := range []bool{false, true} {
		d := newBatchDriver(t)
		if _, err := d.pool.Exec(d.ctx, "UPDATE accounts SET prospect_limit = 3 WHERE id = $1", d.acct.ID); err != nil {
			t.Fatal(err)
		}
		d.write(d.batch("ann@acme.com", "Acme"))
		b1, b2 := d.batch("bob@beta.io", "Beta"), d.batch("cat@beta.io", "Beta", "dan@beta.io", "Beta")
		held0, reread0 := preparedCount()
		d.prepare(b1)
		prepared := d.prepareAhead(b2) // its snapshot lacks bob: the room b1 takes is laid over
		d.write(b1)
		if err := prepared(); err != nil {
			t.Fatal(err)
		}
		if raised {
			if _, err := d.pool.Exec(d.ctx, "UPDATE accounts SET prospect_limit = 10 WHERE id = $1", d.acct.ID); err != nil {
				t.Fatal(err)
			}
		}
		d.write(b2)
		held, reread := preparedCount()
		want := []pipeline.Outcome{pipeline.Created, pipeline.Skipped}
		wantHeld, wantReread := 2.0, 0.0
		if raised {
			want = []pipeline.Outcome{pipeline.Created, pipeline.Created}
			wantHeld, wantReread = 1, 1
		}
		for i, r := range b2.Rows {
			if r.Outcome != want[i] || (r.Outcome == pipeline.Skipped && r.SkipReason != pipeline.ReasonOverLimit) {
				t.Errorf("raised=%v: row %d: %s %s, want %s", raised, r.Number, r.Outcome, r.SkipReason, want[i])
			}
		}
		if held-held0 != wantHeld || reread-reread0 != wantReread {
			t.Errorf("raised=%v: held %v, read again %v; want %v and %v", raised, held-held0, reread-reread0, wantHeld, wantReread)
		}
	}
}

var errRollBack = errors.New("roll back")

// engineSteps runs the engine's prepare and write stages for one import of the driver's writer
// by hand, a batch at a time, so that a test can put another writer's transaction between them.
// Every step, the writing ahead in goroutines of their own included, ends within a minute.
type engineSteps struct {
	d              *batchDriver
	ctx            context.Context
	prepare, write pipeline.Stage
}

func (d *batchDriver) engine() *engineSteps {
	d.t.Helper()
	const owner = "known-test"
	im, err := store.CreateImport(d.ctx, d.pool, store.Import{AccountID: d.acct.ID, Source: store.SourceCLI, FileName: "k.csv",
		FilePath: "/nowhere/k.csv"}, owner, time.Minute)
	if err != nil {
		d.t.Fatal(err)
	}
	d.w.plan.ImportID = im.ID
	var conns [2]*pgxpool.Conn
	for i := range conns {
		if conns[i], err = d.pool.Acquire(d.ctx); err != nil {
			d.t.Fatal(err)
		}
	}
	job := pipeline.NewJob(im, owner, time.Minute, false, nil)
	ctx, cancel := context.WithTimeout(d.ctx, time.Minute)
	e := &engineSteps{d: d, ctx: ctx, prepare: job.PrepareStage(conns[0].Conn(), conns[1].Conn(), d.w), write: job.WriteStage(conns[0].Conn(), d.w)}
	d.t.Cleanup(func() {
		cancel()
		e.prepare.(io.Closer).Close()
		conns[0].Release()
		conns[1].Release()
		store.FinishImport(context.Background(), d.pool, im.ID, owner, store.StatusCompleted, "") //nolint:errcheck // best effort
	})
	return e
}

// prepareBatch runs the prepare stage for b, the next batch: its Prepare, and its WriteAhead,
// which goes on in a goroutine of its own.
func (e *engineSteps) prepareBatch(rows ...pipeline.Row) *pipeline.Batch {
	e.d.t.Helper()
	b := &pipeline.Batch{Rows: rows, LastRow: rows[len(rows)-1].Number}
	if err := e.prepare.Process(e.ctx, b); err != nil {
		e.d.t.Fatal(err)
	}
	return b
}

// writeBatch runs the write stage for b, the next batch.
func (e *engineSteps) writeBatch(b *pipeline.Batch) {
	e.d.t.Helper()
	if err := e.write.Process(e.ctx, b); err != nil {
		e.d.t.Fatalf("write of the batch of row %d: %v", b.LastRow, err)
	}
}

// title reads the title of the prospect with email.
func (d *batchDriver) title(email string) string {
	d.t.Helper()
	var title *string
	if err := d.pool.QueryRow(d.ctx, "SELECT title FROM prospects WHERE account_id = $1 AND lower(email) = $2", d.acct.ID, email).Scan(&title); err != nil {
		d.t.Fatalf("title of %s: %v", email, err)
	}
	if title == nil {
		return ""
	}
	return *title
}

// locked reports whether a transaction updated or locked the row of the prospect with email,
// by the row's xmax (the tests' rows are touched by no transaction that ended without
// committing). It takes no lock itself: an early update would wait for it, then give up.
func (d *batchDriver) locked(email string) bool {
	return d.lockedWhere("lower(email) = $2", email)
}

// lockedWhere is locked of the prospect that cond, with its value as $2, finds.
func (d *batchDriver) lockedWhere(cond, value string) bool {
	d.t.Helper()
	var locked bool
	if err := d.pool.QueryRow(d.ctx, "SELECT xmax <> '0' FROM prospects WHERE account_id = $1 AND "+cond, d.acct.ID, value).Scan(&locked); err != nil {
		d.t.Fatal(err)
	}
	return locked
}

// await fails the test unless cond holds within 10 s.
func (d *batchDriver) await(what string, cond func() bool) {
	d.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			d.t.Fatalf("%s: not after 10 s", what)
		}
	}
}

// otherWriter runs, in a goroutine, another writer of the account (as an organizations import
// would write, under the account's lock) running sql with the account's id as $1, and returns
// its transaction's end. It returns once the writer waits for a lock.
func (d *batchDriver) otherWriter(sql string) <-chan error {
	d.t.Helper()
	done := make(chan error, 1)
	go func() {
		done <- pgx.BeginFunc(d.ctx, d.pool, func(tx pgx.Tx) error {
			if err := store.LockAccount(d.ctx, tx, d.acct.ID); err != nil {
				return err
			}
			_, err := tx.Exec(d.ctx, sql, d.acct.ID)
			return err
		})
	}()
	d.await("the other writer waits for a lock", func() bool {
		var n int
		if err := d.pool.QueryRow(d.ctx, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query = $1", sql).Scan(&n); err != nil {
			d.t.Fatal(err)
		}
		return n > 0
	})
	return done
}

// A batch written ahead updates, early and before the batch before is written, the stored
// prospects it read itself and changed, their email left as it was. What the batch before
// created or changed is updated under the lock, after that batch committed: an early update
// would wait for it, or find nothing of a prospect it created. So is a prospect whose email
// changes, after the emails it takes are freed: here old@ moves to new@, and xan, which had no
// email, takes old@.
func TestUpdateAheadOnlyWhatTheBatchBeforeDoesNotWrite(t *testing.T) {
	d := newBatchDriver(t)
	d.w.plan.Options = crm.Options{UniqueIdentifier: "phone"}
	d.w = newWriter(d.w.plan)
	d.write(&pipeline.Batch{Rows: []pipeline.Row{
		d.row(2, "email", "old@acme.com", "phone", "555-0100"),
		d.row(3, "email", "zed@acme.com"),
		d.row(4, "email", "yan@acme.com"),
		d.row(5, "phone", "555-0111", "first_name", "Xan"),
	}})
	e := d.engine()
	held0, reread0 := preparedCount()
	b1 := e.prepareBatch(
		d.row(5, "email", "bob@beta.io"),                  // created
		d.row(6, "email", "zed@acme.com", "title", "CEO"), // changed
	)
	b2 := e.prepareBatch(
		d.row(7, "email", "zed@acme.com", "title", "CTO"),                       // what b1 changed: under the lock
		d.row(8, "email", "bob@beta.io", "title", "CFO"),                        // what b1 created: under the lock
		d.row(9, "email", "yan@acme.com", "title", "VP"),                        // read by b2 alone: early
		d.row(10, "email", "new@acme.com", "phone", "555-0100", "title", "COO"), // old@'s email moves: under the lock
		d.row(11, "email", "old@acme.com", "phone", "555-0111", "title", "CIO"), // xan takes old@: under the lock
	)
	d.await("yan's row updated ahead, before b1 is written", func() bool { return d.locked("yan@acme.com") })
	if d.locked("old@acme.com") {
		t.Error("old@'s row updated ahead; want it updated under the lock, its email moves")
	}
	if d.lockedWhere("phone = $2", "555-0111") {
		t.Error("xan's row updated ahead; want it updated under the lock, it takes an email")
	}
	e.writeBatch(b1)
	e.writeBatch(b2)
	for email, want := range map[string]string{"zed@acme.com": "CTO", "bob@beta.io": "CFO", "yan@acme.com": "VP", "new@acme.com": "COO", "old@acme.com": "CIO"} {
		if got := d.title(email); got != want {
			t.Errorf("%s's title: %q, want %q", email, got, want)
		}
	}
	for _, r := range b2.Rows {
		if r.Outcome != pipeline.Updated {
			t.Errorf("row %d: %s (%s), want updated", r.Number, r.Outcome, r.SkipReason)
		}
	}
	if held, reread := preparedCount(); held-held0 != 2 || reread != reread0 {
		t.Errorf("the read-ahead held for %v batches and was read again for %v; want 2 and 0", held-held0, reread-reread0)
	}
}

// Another writer of the account, holding the account's lock, waits for the row of a prospect a
// batch updated ahead. The batch does not wait for that lock while it holds the row: it takes
// back what it wrote ahead, which lets the other writer go on and commit, then applies its row
// again on what that writer wrote, not on its own early write. Without the way given, the two
// would wait for each other until Postgres ended the other writer.
func TestUpdatedAheadGivesWayToAnotherWriter(t *testing.T) {
	d := newBatchDriver(t)
	d.write(d.batch("yan@acme.com", ""))
	e := d.engine()
	_, reread0 := preparedCount()
	b := e.prepareBatch(d.row(3, "email", "yan@acme.com", "title", "VP"))
	d.await("yan's row updated ahead", func() bool { return d.locked("yan@acme.com") })
	other := d.otherWriter("UPDATE prospects SET title = 'Boss' WHERE account_id = $1 AND email = 'yan@acme.com'")
	e.writeBatch(b)
	if err := <-other; err != nil {
		t.Errorf("the other writer: %v", err)
	}
	r := b.Rows[0]
	if r.Outcome != pipeline.Updated || r.Undo == nil || len(r.Undo.Changes) != 1 || r.Undo.Changes[0].Old != "Boss" {
		t.Errorf("yan's row %s, undo %+v; want updated from Boss", r.Outcome, r.Undo)
	}
	if got := d.title("yan@acme.com"); got != "VP" {
		t.Errorf("yan's title %q, want VP", got)
	}
	if _, reread := preparedCount(); reread-reread0 != 1 {
		t.Errorf("read again for %v batches, want 1", reread-reread0)
	}
}

// A batch is handed off to the next one's apply as it was applied ahead, before its write finds
// whether that holds, and the next batch updates early what it read itself. Here another writer
// gives zed the email the first batch, applied ahead, was to create a prospect with, and waits
// for zed's row, which the second batch updated early, holding the account's lock. The first
// batch must wait for that lock, then apply its row again, now on zed: before it waits, the
// second batch gives back what it wrote ahead. Otherwise the other writer would wait for the
// second batch, the second batch in the engine for the first, and the first for the other
// writer, a wait Postgres cannot see, without end.
func TestHandedOffBatchAppliedAgainWaitsForNoOne(t *testing.T) {
	d := newBatchDriver(t)
	d.write(d.batch("zed@acme.com", "", "yan@acme.com", ""))
	var zed int64
	if err := d.pool.QueryRow(d.ctx, "SELECT id FROM prospects WHERE account_id = $1 AND email = 'zed@acme.com'", d.acct.ID).Scan(&zed); err != nil {
		t.Fatal(err)
	}
	e := d.engine()
	b1 := e.prepareBatch(d.row(4, "email", "new@acme.com", "title", "CEO")) // to create new@
	b2 := e.prepareBatch(d.row(5, "email", "zed@acme.com", "title", "CTO")) // applied on b1 as handed off
	d.await("zed's row updated ahead", func() bool { return d.locked("zed@acme.com") })
	other := d.otherWriter("UPDATE prospects SET email = 'new@acme.com' WHERE account_id = $1 AND email = 'zed@acme.com'")
	e.writeBatch(b1)
	if err := <-other; err != nil {
		t.Errorf("the other writer: %v", err)
	}
	e.writeBatch(b2)
	if r := b1.Rows[0]; r.Outcome != pipeline.Updated || r.EntityID != zed {
		t.Errorf("new@'s row: %s, prospect %d; want zed (%d) updated", r.Outcome, r.EntityID, zed)
	}
	if got := d.title("new@acme.com"); got != "CEO" {
		t.Errorf("zed's title %q, want CEO", got)
	}
	if r := b2.Rows[0]; r.Outcome != pipeline.Created { // zed@ is no one's email since
		t.Errorf("zed@'s row: %s, want created", r.Outcome)
	}
}

// A batch handed off as applied ahead that does not hold once written — here the account's
// limit was lowered meanwhile — is applied again, and may then write a prospect the next batch
// updated early: with the limit reached, its second row no longer matches the prospect its
// first row was to create, but zed, by phone. Before it writes, the next batch gives back
// what it wrote ahead; otherwise the batch would wait for zed's row, and the next batch, in
// the engine, for the batch, without end.
func TestBatchAppliedAgainWritesWhatTheNextUpdatedAhead(t *testing.T) {
	d := newBatchDriver(t)
	d.w.plan.Options = crm.Options{UniqueIdentifier: "phone"}
	d.w = newWriter(d.w.plan)
	d.write(&pipeline.Batch{Rows: []pipeline.Row{
		d.row(2, "email", "zed@acme.com", "phone", "555-0100"),
		d.row(3, "email", "yan@acme.com"),
	}})
	e := d.engine()
	b1 := e.prepareBatch(
		d.row(4, "email", "new@acme.com", "title", "CEO"),                      // created, within no limit
		d.row(5, "email", "new@acme.com", "phone", "555-0100", "title", "CFO"), // the prospect row 4 creates, by email
	)
	b2 := e.prepareBatch(d.row(6, "email", "zed@acme.com", "title", "CTO")) // zed, updated early
	d.await("zed's row updated ahead", func() bool { return d.locked("zed@acme.com") })
	if _, err := d.pool.Exec(d.ctx, "UPDATE accounts SET prospect_limit = 2 WHERE id = $1", d.acct.ID); err != nil {
		t.Fatal(err)
	}
	e.writeBatch(b1)
	e.writeBatch(b2)
	var zed int64
	if err := d.pool.QueryRow(d.ctx, "SELECT id FROM prospects WHERE account_id = $1 AND phone = '555-0100'", d.acct.ID).Scan(&zed); err != nil {
		t.Fatal(err)
	}
	if r := b1.Rows[0]; r.Outcome != pipeline.Skipped || r.SkipReason != pipeline.ReasonOverLimit {
		t.Errorf("row 4: %s %s, want skipped over the limit", r.Outcome, r.SkipReason)
	}
	if r := b1.Rows[1]; r.Outcome != pipeline.Updated || r.EntityID != zed {
		t.Errorf("row 5: %s, prospect %d; want zed (%d) updated", r.Outcome, r.EntityID, zed)
	}
	if got := d.title("new@acme.com"); got != "CFO" {
		t.Errorf("zed's title %q, want CFO", got)
	}
	if r := b2.Rows[0]; r.Outcome != pipeline.Skipped { // zed@ is no one's email since, and the limit is reached
		t.Errorf("row 6: %s, want skipped", r.Outcome)
	}
}

// An early update waits for another writer no longer than earlyLockWait: it then gives up, and
// the batch's apply does not hold. Here another writer, holding the account's lock, holds yan's
// row, which the first batch updates, and comes to wait for zed's, which the second batch
// (applied on the first as handed off) updated early. Had the first batch's early update waited
// for yan's row until it was free, the other writer would wait for the second batch, the
// second batch in the engine for the first, and the first for the other writer, without end.
func TestUpdateAheadLeavesRowsAnotherWriterHolds(t *testing.T) {
	d := newBatchDriver(t)
	d.write(d.batch("yan@acme.com", "", "zed@acme.com", ""))
	e := d.engine()
	next := make(chan struct{})
	other := make(chan error, 1)
	go func() {
		other <- pgx.BeginFunc(d.ctx, d.pool, func(tx pgx.Tx) error {
			if err := store.LockAccount(d.ctx, tx, d.acct.ID); err != nil {
				return err
			}
			if _, err := tx.Exec(d.ctx, "UPDATE prospects SET title = 'Boss' WHERE account_id = $1 AND email = 'yan@acme.com'", d.acct.ID); err != nil {
				return err
			}
			<-next
			_, err := tx.Exec(d.ctx, "UPDATE prospects SET title = 'Chief' WHERE account_id = $1 AND email = 'zed@acme.com'", d.acct.ID)
			return err
		})
	}()
	d.await("the other writer holds yan's row", func() bool { return d.locked("yan@acme.com") })
	b1 := e.prepareBatch(d.row(4, "email", "yan@acme.com", "title", "VP"))
	b2 := e.prepareBatch(d.row(5, "email", "zed@acme.com", "title", "CTO"))
	d.await("zed's row updated ahead", func() bool { return d.locked("zed@acme.com") })
	close(next)
	d.await("the other writer waits for zed's row", func() bool {
		var n int
		if err := d.pool.QueryRow(d.ctx, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'UPDATE prospects SET title = ''Chief''%'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n > 0
	})
	e.writeBatch(b1)
	if err := <-other; err != nil {
		t.Errorf("the other writer: %v", err)
	}
	e.writeBatch(b2)
	for _, c := range []struct {
		b          *pipeline.Batch
		email, old string
		title      string
	}{{b1, "yan@acme.com", "Boss", "VP"}, {b2, "zed@acme.com", "Chief", "CTO"}} {
		r := c.b.Rows[0]
		if r.Outcome != pipeline.Updated || r.Undo == nil || len(r.Undo.Changes) != 1 || r.Undo.Changes[0].Old != c.old {
			t.Errorf("%s's row: %s, undo %+v; want updated from %s", c.email, r.Outcome, r.Undo, c.old)
		}
		if got := d.title(c.email); got != c.title {
			t.Errorf("%s's title %q, want %s", c.email, got, c.title)
		}
	}
}
