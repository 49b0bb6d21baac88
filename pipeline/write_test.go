package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
)

// aheadWriter is a Preparer that decides every row ahead (WriteAhead: created, the record
// ten times the row's number), holds the Write of batch holdAt until WriteAhead of the next
// batch has run, takes back what was written of batch redecideAt ahead and decides its rows
// again in Write (updated), and fails Write of batch failAt once the next batch is through the
// prepare stage (its writing ahead begun). Batches are numbered from 1.
type aheadWriter struct {
	holdAt, redecideAt, failAt int
	aheadOf                    chan int // the batch each WriteAhead ran for
	prepared                   chan int // the batch each prepare stage's run ended for
}

func (w *aheadWriter) Prepare(context.Context, pgx.Tx, *pipeline.Batch) error { return nil }

func (w *aheadWriter) WriteAhead(_ context.Context, _ pgx.Tx, b *pipeline.Batch) (bool, error) {
	for i := range b.Rows {
		b.Rows[i].Outcome, b.Rows[i].EntityID = pipeline.Created, int64(10*b.Rows[i].Number)
	}
	w.aheadOf <- b.LastRow
	return true, nil
}

func (w *aheadWriter) Write(ctx context.Context, _ pgx.Tx, b *pipeline.Batch) error {
	switch b.LastRow {
	case w.holdAt:
		return w.waitAhead(ctx, b.LastRow+1)
	case w.redecideAt:
		if err := b.TakeBackAhead(ctx); err != nil {
			return err
		}
		for i := range b.Rows {
			b.Rows[i].Outcome = pipeline.Updated
		}
	case w.failAt:
		if err := waitFor(ctx, w.prepared, b.LastRow+1); err != nil {
			return err
		}
		return errFailedWrite
	}
	return nil
}

// waitAhead returns once WriteAhead ran for batch n.
func (w *aheadWriter) waitAhead(ctx context.Context, n int) error { return waitFor(ctx, w.aheadOf, n) }

// waitFor returns once batch n comes through ch.
func waitFor(ctx context.Context, ch <-chan int, n int) error {
	for {
		select {
		case m := <-ch:
			if m == n {
				return nil
			}
		case <-ctx.Done():
			return fmt.Errorf("batch %d did not come: %w", n, ctx.Err())
		}
	}
}

func (w *aheadWriter) Committed(*pipeline.Batch) {}

var errFailedWrite = errors.New("the write fails")

// aheadRun makes an import held by owner for a run of the engine in account accountID, and
// acquires the two connections its prepare and write stages run on, released when the test
// ends; the import is cancelled then.
func aheadRun(ctx context.Context, t *testing.T, pool *pgxpool.Pool, accountID int64, owner string) (im store.Import, write, spare *pgxpool.Conn) {
	t.Helper()
	im, err := store.CreateImport(ctx, pool, store.Import{AccountID: accountID, Source: store.SourceCLI, FileName: owner + ".csv",
		FilePath: "/nowhere/" + owner + ".csv"}, owner, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.FinishImport(context.Background(), pool, im.ID, owner, store.StatusCancelled, "") }) //nolint:errcheck // best effort
	for _, c := range []**pgxpool.Conn{&write, &spare} {
		if *c, err = pool.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup((*c).Release)
	}
	return im, write, spare
}

// A batch read ahead is written ahead in a transaction of its own, on the connection the batch
// before is not written on, while that batch is still being written: its outcomes are stored
// there, replaced when Write decides the rows again, and commit with the batch or not at all.
// A failed run leaves no transaction open on either connection. The job hears of each commit.
func TestWrittenAheadCommitsWithItsBatch(t *testing.T) {
	pool, acct, _ := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const owner = "ahead-test"
	im, write, spare := aheadRun(ctx, t, pool, acct.ID, owner)

	w := &aheadWriter{holdAt: 2, redecideAt: 3, failAt: 4, aheadOf: make(chan int, 10), prepared: make(chan int, 10)}
	job := pipeline.NewJob(im, owner, time.Minute, false, nil)
	commits := 0
	job.OnCommit = func() { commits++ }
	passed := stageFunc(func(_ context.Context, b *pipeline.Batch) error { w.prepared <- b.LastRow; return nil })
	err := pipeline.Run(ctx, &countingSource{limit: 6}, 1,
		pipeline.Named{Name: "prepare", Stage: job.PrepareStage(write.Conn(), spare.Conn(), w), Depth: 1},
		pipeline.Named{Name: "prepared", Stage: passed, Depth: 1},
		pipeline.Named{Name: "upsert", Stage: job.WriteStage(write.Conn(), w), Depth: 1})
	if !errors.Is(err, errFailedWrite) {
		t.Fatalf("run: %v, want %v", err, errFailedWrite)
	}
	// A connection whose statement the run's end cancelled is closed (the pool then drops it);
	// any other must be idle, not in a transaction a later import would run in.
	for name, c := range map[string]*pgx.Conn{"write": write.Conn(), "spare": spare.Conn()} {
		if s := c.PgConn().TxStatus(); s != 'I' && !c.IsClosed() {
			t.Errorf("the %s connection's transaction status %q after the run, want idle", name, s)
		}
	}
	outcomes, err := store.RowOutcomes(ctx, pool, im.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range outcomes {
		got = append(got, fmt.Sprintf("%d %s %d", o.Row, o.Outcome, o.EntityID))
	}
	want := []string{"1 created 10", "2 created 20", "3 updated 30"} // batch 4 failed, batch 5 was prepared ahead of it
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("outcomes stored %q, want %q", got, want)
	}
	if commits != 3 {
		t.Errorf("OnCommit called %d times, want 3: once for each batch committed", commits)
	}
}

// besideWriter is a Preparer whose WriteAhead of each batch but the last returns only once
// Prepare of the next batch has begun; Write creates every row.
type besideWriter struct {
	began []chan struct{} // closed once Prepare of batch n (from 1) began
}

func (w *besideWriter) Prepare(_ context.Context, _ pgx.Tx, b *pipeline.Batch) error {
	close(w.began[b.LastRow])
	return nil
}

func (w *besideWriter) WriteAhead(ctx context.Context, _ pgx.Tx, b *pipeline.Batch) (bool, error) {
	if b.LastRow == len(w.began)-1 {
		return false, nil
	}
	select {
	case <-w.began[b.LastRow+1]:
		return false, nil
	case <-ctx.Done():
		return false, fmt.Errorf("Prepare of batch %d did not begin: %w", b.LastRow+1, ctx.Err())
	}
}

func (w *besideWriter) Write(_ context.Context, _ pgx.Tx, b *pipeline.Batch) error {
	for i := range b.Rows {
		b.Rows[i].Outcome = pipeline.Created
	}
	return nil
}

func (w *besideWriter) Committed(*pipeline.Batch) {}

// A batch is written ahead beside the prepare stage, which goes on to prepare the next batch
// meanwhile (on the other connection): a batch's early writes, the longest part of its
// transaction on a re-import, run while the next batch is read and applied.
func TestWriteAheadRunsBesideTheNextPrepare(t *testing.T) {
	pool, acct, _ := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const owner = "beside-test"
	im, write, spare := aheadRun(ctx, t, pool, acct.ID, owner)
	const batches = 4
	w := &besideWriter{began: make([]chan struct{}, batches+1)}
	for i := range w.began {
		w.began[i] = make(chan struct{})
	}
	job := pipeline.NewJob(im, owner, time.Minute, false, nil)
	err := pipeline.Run(ctx, &countingSource{limit: batches}, 1,
		pipeline.Named{Name: "prepare", Stage: job.PrepareStage(write.Conn(), spare.Conn(), w), Depth: 1},
		pipeline.Named{Name: "upsert", Stage: job.WriteStage(write.Conn(), w), Depth: 1})
	if err != nil {
		t.Fatalf("run: %v; want each batch written ahead while the next one is prepared", err)
	}
	if job.Counts.Rows != batches {
		t.Errorf("%d rows written, want %d", job.Counts.Rows, batches)
	}
}

// wayWriter is a Preparer whose Write of batch 1 gives way before Prepare of batch 2 ends, and
// ends only once batch 2 is through the prepare stage; Write of batch 2 gives way once
// WriteAhead of batch 3 has locked the account's row. It decides every row ahead and in Write
// (created), and records what it saw.
type wayWriter struct {
	pool      *pgxpool.Pool
	accountID int64
	gaveWay   chan struct{} // closed once Write of batch 1 gave way
	prepared  chan int      // the batch each prepare stage's run ended for
	locked    chan struct{} // closed once WriteAhead of batch 3 locked the account's row
	mu        sync.Mutex
	aheadOf   []int          // the batches WriteAhead ran for
	seen      map[int]string // what Write of each batch found
}

func (w *wayWriter) Prepare(ctx context.Context, _ pgx.Tx, b *pipeline.Batch) error {
	if b.LastRow == 2 {
		select {
		case <-w.gaveWay:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (w *wayWriter) WriteAhead(ctx context.Context, tx pgx.Tx, b *pipeline.Batch) (bool, error) {
	w.mu.Lock()
	w.aheadOf = append(w.aheadOf, b.LastRow)
	w.mu.Unlock()
	if b.LastRow == 3 {
		if _, err := tx.Exec(ctx, "SELECT 1 FROM accounts WHERE id = $1 FOR NO KEY UPDATE", w.accountID); err != nil {
			return false, err
		}
		close(w.locked)
	}
	for i := range b.Rows {
		b.Rows[i].Outcome = pipeline.Created
	}
	return true, nil
}

func (w *wayWriter) Write(ctx context.Context, _ pgx.Tx, b *pipeline.Batch) error {
	seen := fmt.Sprintf("written ahead %v", b.WrittenAhead())
	switch b.LastRow {
	case 1:
		if err := b.GiveWay(ctx); err != nil {
			return err
		}
		close(w.gaveWay)
		if err := waitFor(ctx, w.prepared, 2); err != nil {
			return err
		}
	case 2:
		select {
		case <-w.locked:
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := b.GiveWay(ctx); err != nil {
			return err
		}
		err := pgx.BeginFunc(ctx, w.pool, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, "SELECT 1 FROM accounts WHERE id = $1 FOR NO KEY UPDATE NOWAIT", w.accountID)
			return err
		})
		seen += fmt.Sprintf(", the account's row locked after giving way: %v", err)
	}
	for i := range b.Rows {
		b.Rows[i].Outcome = pipeline.Created
	}
	w.mu.Lock()
	w.seen[b.LastRow] = seen
	w.mu.Unlock()
	return nil
}

func (w *wayWriter) Committed(*pipeline.Batch) {}

// A batch that gives way (Batch.GiveWay) makes the next batch give back what it wrote ahead —
// its locks go with it — and no batch after it begins to write ahead until it is done.
func TestGiveWayTakesBackTheNextBatchWrittenAhead(t *testing.T) {
	pool, acct, _ := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const owner = "way-test"
	im, write, spare := aheadRun(ctx, t, pool, acct.ID, owner)
	w := &wayWriter{pool: pool, accountID: acct.ID, gaveWay: make(chan struct{}), prepared: make(chan int, 3),
		locked: make(chan struct{}), seen: map[int]string{}}
	job := pipeline.NewJob(im, owner, time.Minute, false, nil)
	passed := stageFunc(func(_ context.Context, b *pipeline.Batch) error { w.prepared <- b.LastRow; return nil })
	err := pipeline.Run(ctx, &countingSource{limit: 3}, 1,
		pipeline.Named{Name: "prepare", Stage: job.PrepareStage(write.Conn(), spare.Conn(), w), Depth: 1},
		pipeline.Named{Name: "prepared", Stage: passed, Depth: 1},
		pipeline.Named{Name: "upsert", Stage: job.WriteStage(write.Conn(), w), Depth: 1})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(w.aheadOf) != "[1 3]" {
		t.Errorf("written ahead: batches %v; want [1 3] (not 2, prepared while batch 1 gave way)", w.aheadOf)
	}
	want := map[int]string{1: "written ahead true", 2: "written ahead false, the account's row locked after giving way: <nil>", 3: "written ahead false"}
	for n, s := range want {
		if w.seen[n] != s {
			t.Errorf("Write of batch %d: %s; want %s", n, w.seen[n], s)
		}
	}
	outcomes, err := store.RowOutcomes(ctx, pool, im.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(outcomes) != 3 {
		t.Errorf("%d outcomes stored, want 3: %+v", len(outcomes), outcomes)
	}
}
