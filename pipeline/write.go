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
// being written and committed, and leaves it in b.Prepared for Write.
//
// Prepare is called once per batch, in file order, from a goroutine of its own, concurrently
// with Write of earlier batches; it must not touch what Write changes. tx is a read-only
// transaction at REPEATABLE READ on a connection of its own, so that everything Prepare reads
// is one snapshot. The engine calls Prepare of batch N only once batch N-2 has committed: the
// snapshot holds every write of the batches before N but perhaps those of batch N-1, which
// Write of batch N must lay over what was read (and must read again itself when anything else
// may have written since the snapshot). An error stops the run.
type Preparer interface {
	Writer
	Prepare(ctx context.Context, tx pgx.Tx, b *Batch) error
	// Committed is called, from Write's goroutine, once the transaction of a batch Write
	// wrote has committed: only then may what it wrote be laid over a later batch's read.
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
		s.job.commits.add()
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
	if err := s.job.commits.wait(ctx, n-readAhead+1); err != nil {
		return err
	}
	return pgx.BeginTxFunc(ctx, s.db, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		return s.p.Prepare(ctx, tx, b)
	})
}

// commitCount counts the batches a job committed, for the prepare stage to wait on.
type commitCount struct {
	mu      sync.Mutex
	n       int
	changed chan struct{} // closed and replaced at each commit
}

// add counts one more committed batch.
func (c *commitCount) add() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	if c.changed != nil {
		close(c.changed)
		c.changed = nil
	}
}

// wait returns once at least n batches committed, or with ctx's error.
func (c *commitCount) wait(ctx context.Context, n int) error {
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
