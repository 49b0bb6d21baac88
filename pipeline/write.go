package pipeline

import (
	"context"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/leadpipe/leadpipe/store"
)

// Writer is a kind's last stage: it writes one batch inside the transaction the engine opened
// for it. Write is called once per batch, in file order, from one goroutine. It decides every
// row that no earlier stage skipped: it sets the row's Outcome and EntityID, or skips it with a
// reason; it may add to the batch's counters. It must see, through tx, every write of the
// batches before. An error rolls the batch back and stops the run; nothing of the batch stays.
type Writer interface {
	Write(ctx context.Context, tx pgx.Tx, b *Batch) error
}

// Preparer is a Writer that reads ahead: Prepare reads what a batch will need (the records
// its rows may match) before the batch's turn to be written, while the batch before it is
// being written and committed, and leaves it in b.Prepared for Write; it may apply the batch
// on it too, for Write to use when that still holds under Write's lock.
//
// Prepare is called once per batch, in file order, from a goroutine of its own, concurrently
// with Write of earlier batches; what it shares with Write, it must touch only at points the
// two agree on (a writer's own handoff). tx is a transaction at
// REPEATABLE READ on a connection of its own, so that everything Prepare reads is one
// snapshot; Prepare reads in it and may take ids from sequences, which no rollback takes back,
// and writes nothing else. The engine calls Prepare of batch N only once batch N-2 has
// committed: the snapshot holds every write of the batches before N but perhaps those of batch
// N-1, which must be laid over what was read (and read again under Write's lock when anything
// else may have written since the snapshot). Prepare may wait for Write of batch N-1 to reach
// a point of its own (it runs before batch N is handed to Write), but must return when ctx is
// done. An error stops the run.
type Preparer interface {
	Writer
	Prepare(ctx context.Context, tx pgx.Tx, b *Batch) error
	// Committed is called, from Write's goroutine, once the transaction of a batch Write
	// wrote has committed: what Prepare laid over a later batch's read holds only if the batch
	// it came from committed.
	Committed(b *Batch)
}

// Beginner starts a transaction: a connection, or for a dry run an outer transaction whose
// nested transactions are savepoints.
type Beginner = store.Beginner

// WriteStage returns the stage that commits each batch of the job: it opens the batch's
// transaction on db, hands it to w, records the batch's outcomes, counts and checkpoint in the
// same transaction (Record), commits, and then counts the committed rows (Committed).
func (j *Job) WriteStage(db Beginner, w Writer) Stage {
	return &writeStage{job: j, db: db, w: w}
}

// TxBeginner starts a transaction with options: a connection.
type TxBeginner interface {
	BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error)
}

// PrepareStage returns the stage that runs w's Prepare for each batch on db (a connection
// other than the write stage's), to run just before the job's WriteStage; nil when w does not
// prepare or the job is a dry run, whose batches are savepoints of one transaction that no
// other connection sees.
func (j *Job) PrepareStage(db TxBeginner, w Writer) Stage {
	p, ok := w.(Preparer)
	if !ok || j.DryRun {
		return nil
	}
	return &prepareStage{job: j, db: db, p: p}
}

type writeStage struct {
	job *Job
	db  Beginner
	w   Writer
}

func (s *writeStage) Process(ctx context.Context, b *Batch) error {
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		if err := s.w.Write(ctx, tx, b); err != nil {
			return err
		}
		return s.job.Record(ctx, tx, b)
	})
	b.Prepared = nil
	if err == nil {
		if p, ok := s.w.(Preparer); ok {
			p.Committed(b)
		}
		s.job.Committed(b)
		s.job.commits.Add()
	}
	return err
}

type prepareStage struct {
	job  *Job
	db   TxBeginner
	p    Preparer
	next int // the number of the next batch, from 0
}

// readAhead is how many batches past the last committed one a batch may be prepared: batch N
// is prepared once batch N-2 has committed, so that Write has only batch N-1's writes to lay
// over what Prepare read.
const readAhead = 2

func (s *prepareStage) Process(ctx context.Context, b *Batch) error {
	n := s.next
	s.next++
	if err := s.job.commits.Wait(ctx, n-readAhead+1); err != nil {
		return err
	}
	return pgx.BeginTxFunc(ctx, s.db, pgx.TxOptions{IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		return s.p.Prepare(ctx, tx, b)
	})
}

// Counter counts what one goroutine did, for others to wait on: the batches a job committed,
// say. It is safe for concurrent use; its zero value counts from 0.
type Counter struct {
	mu      sync.Mutex
	n       int
	changed chan struct{} // closed and replaced at each Add
}

// Add counts one more.
func (c *Counter) Add() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	if c.changed != nil {
		close(c.changed)
		c.changed = nil
	}
}

// Wait returns once the count is at least n, or with ctx's error.
func (c *Counter) Wait(ctx context.Context, n int) error {
	for {
		c.mu.Lock()
		if c.n >= n {
			c.mu.Unlock()
			return nil
		}
		if c.changed == nil {
			c.changed = make(chan struct{})
		}
		ch := c.changed
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
