package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
)

// aheadWriter is a Preparer that decides every row ahead (WriteAhead: created, the record
// ten times the row's number), holds the Write of batch holdAt until WriteAhead of the next
// batch has run, decides the rows of batch redecideAt again in Write (updated), and fails
// Write of batch failAt once the next batch is through the prepare stage, its outcomes stored
// ahead. Batches are numbered from 1.
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
		for i := range b.Rows {
			b.Rows[i].Outcome = pipeline.Updated
		}
		b.DecidedAgain()
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

// A batch read ahead is written ahead in a transaction of its own, on the connection the batch
// before is not written on, while that batch is still being written: its outcomes are stored
// there, replaced when Write decides the rows again, and commit with the batch or not at all.
// A failed run leaves no transaction open on either connection.
func TestWrittenAheadCommitsWithItsBatch(t *testing.T) {
	pool, acct, _ := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const owner = "ahead-test"
	im, err := store.CreateImport(ctx, pool, store.Import{AccountID: acct.ID, Source: store.SourceCLI, FileName: "a.csv",
		FilePath: "/nowhere/a.csv"}, owner, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.FinishImport(context.Background(), pool, im.ID, owner, store.StatusCancelled, "") }) //nolint:errcheck // best effort
	write, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer write.Release()
	spare, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer spare.Release()

	w := &aheadWriter{holdAt: 2, redecideAt: 3, failAt: 4, aheadOf: make(chan int, 10), prepared: make(chan int, 10)}
	job := pipeline.NewJob(im, owner, time.Minute, false, nil)
	passed := stageFunc(func(_ context.Context, b *pipeline.Batch) error { w.prepared <- b.LastRow; return nil })
	err = pipeline.Run(ctx, &countingSource{limit: 6}, 1,
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
	want := []string{"1 created 10", "2 created 20", "3 updated 30"} // batch 4 failed, batch 5 was written ahead of it
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("outcomes stored %q, want %q", got, want)
	}
}
