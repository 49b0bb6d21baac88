package pipeline

import (
	"context"
	"errors"
	"sync"
	"time"

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
// two agree on (a writer's own handoff). tx is a transaction at REPEATABLE READ on the one of
// the import's two connections that the batch before is not written on, so that everything
// Prepare reads is one snapshot; Prepare reads in it and may take ids from sequences, which no rollback takes back,
// and writes nothing else. The engine calls Prepare of batch N only once batch N-2 has
// committed: the snapshot holds every write of the batches before N but perhaps those of batch
// N-1, which must be laid over what was read (and read again under Write's lock when anything
// else may have written since the snapshot). Prepare may wait for Write of batch N-1 to reach
// a point of its own (it runs before batch N is handed to Write), but must return when ctx is
// done. An error stops the run.
type Preparer interface {
	Writer
	Prepare(ctx context.Context, tx pgx.Tx, b *Batch) error
	// WriteAhead is called right after Prepare, in a goroutine of its own: it may run while
	// Write of the batch before runs and while Prepare of the batch after runs (on the other
	// connection), and Write of its batch waits for it. tx is the batch's own transaction
	// (READ COMMITTED, on Prepare's connection), begun while the batch before is still being
	// written — its reads do not see that batch's writes — and Write of the batch runs in it
	// later; the engine takes a savepoint in it first, so that all that is written ahead can
	// be taken back (Batch.TakeBackAhead, Batch.GiveWay). The engine does not call WriteAhead
	// at all while a batch before gives way. WriteAhead must not write what the batch before
	// may also write: that batch would wait in Postgres for tx, and tx's batch in the engine
	// for that one, without end. Nor may it wait for a lock any other transaction holds, for
	// the same reason. It may write rows keyed by the ids of the records the batch creates,
	// which no other transaction knows, and rows the batch before does not write that another
	// writer may come to wait for: Write must then not wait for a lock that writer may hold,
	// unless it gave those rows back first. It reports whether Prepare applied the batch
	// (every row no earlier stage skipped has its outcome): then the engine stores the rows'
	// outcomes ahead too, after what WriteAhead wrote; when it reports not, it has written
	// nothing. When Write decides the rows again, it takes all that back first. WriteAhead
	// must return when ctx is done. An error stops the run.
	WriteAhead(ctx context.Context, tx pgx.Tx, b *Batch) (applied bool, err error)
	// Committed is called, from Write's goroutine, once the transaction of a batch Write
	// wrote has committed: what Prepare laid over a later batch's read holds only if the batch
	// it came from committed.
	Committed(b *Batch)
}

// WrittenAhead reports whether what was written of the batch ahead (Preparer.WriteAhead, and
// the outcomes the engine stored after it) is in the batch's transaction: false when nothing
// was, or it was taken back (TakeBackAhead, or GiveWay of the batch before).
func (b *Batch) WrittenAhead() bool { return b.own != nil && b.own.savepoint != nil }

// TakeBackAhead takes back, from Write, all that was written of the batch ahead, by rolling
// back to the savepoint the engine took before WriteAhead: every lock the batch's transaction
// took since goes with it. The engine then stores the rows' outcomes as Write leaves them.
func (b *Batch) TakeBackAhead(ctx context.Context) error {
	if !b.WrittenAhead() {
		return nil
	}
	return b.own.takeBack(ctx)
}

// GiveWay, from Write, makes the batch after this one give back all it wrote ahead (it waits
// for its writing ahead to end, then rolls it back as TakeBackAhead does), and keeps the
// batches after this one from writing ahead until this one's transaction ends. Write calls it
// before it waits for a lock that another writer may hold while that writer waits for a row the
// next batch wrote ahead, and before it writes rows the next batch may have written ahead: the
// next batch waits for this one in the engine, where Postgres cannot see it wait.
func (b *Batch) GiveWay(ctx context.Context) error {
	if b.own == nil {
		return nil
	}
	return b.own.turns.giveWay(ctx, b.own)
}

// Beginner starts a transaction: a connection, or for a dry run an outer transaction whose
// nested transactions are savepoints.
type Beginner = store.Beginner

// WriteStage returns the stage that commits each batch of the job: it opens the batch's
// transaction on db (unless PrepareStage opened it ahead), hands it to w, records the batch's
// outcomes, counts and checkpoint in the same transaction (Record), commits, and then counts
// the committed rows (Committed).
func (j *Job) WriteStage(db Beginner, w Writer) Stage {
	return &writeStage{job: j, db: db, w: w}
}

// PrepareStage returns the stage that runs w's Prepare and WriteAhead for each batch, to run
// just before the job's WriteStage; nil when w does not prepare or the job is a dry run, whose
// batches are savepoints of one transaction that no other connection sees. Batches take turns
// on two connections, write (the write stage's) and spare: a batch is prepared, and its own
// transaction begun and written ahead, on the one the batch before it is not being written on,
// and it is then written and committed there. The stage is an io.Closer: Run closes it, which
// rolls back the transactions of the batches a failed run left unwritten. PrepareStage gives
// the job the two connections: call it once, before the run.
func (j *Job) PrepareStage(write, spare store.TxBeginner, w Writer) Stage {
	p, ok := w.(Preparer)
	if !ok || j.DryRun {
		return nil
	}
	j.turns = newTurns(write, spare)
	return &prepareStage{job: j, p: p}
}

type writeStage struct {
	job *Job
	db  Beginner
	w   Writer
}

func (s *writeStage) Process(ctx context.Context, b *Batch) error {
	own := b.own
	var tx pgx.Tx
	var err error
	if own != nil {
		tx = own.tx
	} else if tx, err = s.db.Begin(ctx); err != nil {
		return err
	}
	if own != nil {
		err = own.wait() // what was written ahead, before tx is used again
	}
	if err == nil {
		err = s.commit(ctx, tx, b)
	} else {
		tx.Rollback(ctx) //nolint:errcheck // the batch's error is the one to report
	}
	if own != nil {
		s.job.turns.done(own)
	}
	b.Prepared, b.own = nil, nil
	if err == nil {
		if p, ok := s.w.(Preparer); ok {
			p.Committed(b)
		}
		s.job.Committed(b)
		s.job.commits.Add()
	}
	return err
}

// commit writes and records the batch in tx and commits it, or rolls it back on an error or a
// panic (which Run then reports).
func (s *writeStage) commit(ctx context.Context, tx pgx.Tx, b *Batch) (err error) {
	committed := false
	defer func() {
		if !committed {
			tx.Rollback(ctx) //nolint:errcheck // the batch's error is the one to report
		}
	}()
	if err := s.w.Write(ctx, tx, b); err != nil {
		return err
	}
	if err := s.job.Record(ctx, tx, b); err != nil {
		return err
	}
	committed = true
	return tx.Commit(ctx)
}

type prepareStage struct {
	job  *Job
	p    Preparer
	next int // the number of the next batch, from 0
	// undoJSON holds buffers for the JSON of the rows' undo records of the outcomes stored
	// ahead: two batches may store theirs at once.
	undoJSON sync.Pool
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
	own, err := s.job.turns.take(ctx)
	if err != nil {
		return err
	}
	b.own = own // from here on, the batch's turn ends when it is written, or at Close
	err = pgx.BeginTxFunc(ctx, own.conn, pgx.TxOptions{IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		return s.p.Prepare(ctx, tx, b)
	})
	if err != nil {
		return err
	}
	if err := s.job.turns.begin(ctx, own); err != nil {
		return err
	}
	if !s.job.turns.startAhead(own) {
		return nil // a batch before gives way: Write writes this one whole
	}
	go func() {
		defer close(own.ahead)
		defer recoverInto(&own.aheadErr, "write ahead")
		own.aheadErr = s.writeAhead(ctx, own, b)
	}()
	return nil
}

// writeAhead runs WriteAhead of the batch in its own transaction and, when the batch was
// applied ahead, stores its rows' outcomes there too: in a goroutine of its own, so that the
// next batch is prepared meanwhile, and Write of the batch waits for it (ownTx.wait).
func (s *prepareStage) writeAhead(ctx context.Context, own *ownTx, b *Batch) error {
	sp, err := own.tx.Begin(ctx)
	if err != nil {
		return err
	}
	own.savepoint = sp
	applied, err := s.p.WriteAhead(ctx, own.tx, b)
	if err != nil {
		return err
	}
	if !applied { // nothing written ahead: the batch is written outside the savepoint
		own.savepoint = nil
		return sp.Commit(ctx)
	}
	buf, _ := s.undoJSON.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	defer s.undoJSON.Put(buf)
	outcomes, grown, err := outcomesOf(b, (*buf)[:0])
	*buf = grown
	if err != nil {
		return err
	}
	if err := store.RecordOutcomes(ctx, own.tx, s.job.Import.ID, outcomes); err != nil {
		return err
	}
	own.outcomes = true
	return nil
}

// Close rolls back the transactions of the batches that were prepared and not written: a
// failed run leaves them.
func (s *prepareStage) Close() error {
	return s.job.turns.close()
}

// ownTx is a batch's turn on one of the two connections: its transaction, once begun ahead.
type ownTx struct {
	turns *turns
	conn  store.TxBeginner
	tx    pgx.Tx
	// ahead is closed when what the batch writes ahead in tx is written, with aheadErr; nil
	// until that began, and when it does not.
	ahead    chan struct{}
	aheadErr error
	// savepoint is the one taken before WriteAhead, until what was written after it is
	// taken back; outcomes says the rows' outcomes were stored ahead after it.
	savepoint pgx.Tx
	outcomes  bool
}

// takeBack rolls what was written ahead back to the savepoint before it, once its writing
// ahead has ended.
func (own *ownTx) takeBack(ctx context.Context) error {
	if own.savepoint == nil {
		return nil
	}
	err := own.savepoint.Rollback(ctx)
	own.savepoint, own.outcomes = nil, false
	return err
}

// wait waits for what the batch writes ahead, if anything, and returns its error. It does
// not wait on a context: the writing ahead waits for no other transaction (Preparer), and
// returns once the run's context is done.
func (own *ownTx) wait() error {
	if own.ahead == nil {
		return nil
	}
	<-own.ahead
	return own.aheadErr
}

// turns are the two connections batches take turns on, and the turns not yet done.
type turns struct {
	free chan store.TxBeginner
	mu   sync.Mutex
	open map[*ownTx]bool
	// givingWay is the turn of the batch that gives way (Batch.GiveWay) until it is done:
	// no later batch begins to write ahead meanwhile.
	givingWay *ownTx
}

func newTurns(a, b store.TxBeginner) *turns {
	t := &turns{free: make(chan store.TxBeginner, 2), open: map[*ownTx]bool{}}
	t.free <- a
	t.free <- b
	return t
}

// take waits for a connection no batch is on.
func (t *turns) take(ctx context.Context) (*ownTx, error) {
	select {
	case c := <-t.free:
		own := &ownTx{turns: t, conn: c}
		t.mu.Lock()
		t.open[own] = true
		t.mu.Unlock()
		return own, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// begin begins the batch's own transaction on its connection, at READ COMMITTED whatever the
// server's default: it is begun before the batch before commits, whose writes it must see.
func (t *turns) begin(ctx context.Context, own *ownTx) error {
	tx, err := own.conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return err
	}
	t.mu.Lock()
	own.tx = tx
	t.mu.Unlock()
	return nil
}

// startAhead makes the batch's turn one that writes ahead, and reports whether it may: not
// while a batch before gives way.
func (t *turns) startAhead(own *ownTx) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.givingWay != nil {
		return false
	}
	own.ahead = make(chan struct{})
	return true
}

// giveWay makes the turns other than own give back what they wrote ahead, and keeps any from
// starting to write ahead until own is done. The one other turn open is the next batch's: its
// connection is idle once its writing ahead ended, for it is written only after own.
func (t *turns) giveWay(ctx context.Context, own *ownTx) error {
	t.mu.Lock()
	t.givingWay = own
	var after []*ownTx
	for o := range t.open {
		if o != own && o.ahead != nil {
			after = append(after, o)
		}
	}
	t.mu.Unlock()
	for _, o := range after {
		<-o.ahead // it waits for no other transaction (Preparer)
		if err := o.takeBack(ctx); err != nil {
			return err
		}
	}
	return nil
}

// done ends a batch's turn once its transaction committed or rolled back.
func (t *turns) done(own *ownTx) {
	t.mu.Lock()
	delete(t.open, own)
	if t.givingWay == own {
		t.givingWay = nil
	}
	t.mu.Unlock()
	t.free <- own.conn
}

// closeTimeout bounds the rollbacks of Close, which runs after the run's context is done.
const closeTimeout = 10 * time.Second

// close rolls back the transactions of the turns not done.
func (t *turns) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	t.mu.Lock()
	defer t.mu.Unlock()
	var errs []error
	for own := range t.open {
		own.wait() //nolint:errcheck // its transaction is rolled back, whatever it wrote
		if own.tx != nil {
			if err := own.tx.Rollback(ctx); err != nil && !errors.Is(err, pgx.ErrTxClosed) {
				errs = append(errs, err)
			}
		}
		delete(t.open, own)
		t.free <- own.conn
	}
	return errors.Join(errs...)
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
