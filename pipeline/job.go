package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/leadpipe/leadpipe/store"
)

var rowOutcomes = promauto.NewCounterVec(prometheus.CounterOpts{
	Name: "leadpipe_rows_total",
	Help: "Rows imported, by outcome and skip reason (empty unless skipped).",
}, []string{"outcome", "reason"})

// Job is one import being run by this process: it keeps the import's counts and, for each
// batch, records the batch's outcomes and checkpoint in the batch's own transaction.
type Job struct {
	Import store.Import
	// Owner holds the import's lease; Lease is how long each recorded batch extends it.
	Owner string
	Lease time.Duration
	// DryRun counts outcomes without recording them.
	DryRun bool
	// Counts starts from the import's recorded counts, so a resumed import goes on counting.
	Counts store.Counts
	// OnBatch, when set, is called with each batch after it is recorded, before it commits.
	OnBatch func(b *Batch)
	// OnCommit, when set, is called after each batch's transaction commits (a dry run's never
	// do), from the write stage's goroutine; it must not block.
	OnCommit func()

	undoJSON []byte  // the JSON of the batch's rows' Undo (recordUndo)
	commits  Counter // batches committed, for the prepare stage
	turns    *turns  // the connections batches take turns on, when they are read ahead
}

// NewJob returns the job of an import leased to owner, whose kind reports counters (each is
// counted from 0, so that it is reported when nothing has added to it).
func NewJob(im store.Import, owner string, lease time.Duration, dryRun bool, counters []string) *Job {
	c := im.Counts
	if c.SkippedByReason == nil {
		c.SkippedByReason = map[string]int{}
	}
	if c.WarningsByKind == nil {
		c.WarningsByKind = map[string]int{}
	}
	c.StartCounters(counters)
	return &Job{Import: im, Owner: owner, Lease: lease, DryRun: dryRun, Counts: c}
}

// Committed counts the rows of a batch whose transaction committed in leadpipe_rows_total
// (a dry run's never do), and calls OnCommit.
func (j *Job) Committed(b *Batch) {
	if j.DryRun {
		return
	}
	for i := range b.Rows {
		rowOutcomes.WithLabelValues(string(b.Rows[i].Outcome), b.Rows[i].SkipReason).Inc()
	}
	if j.OnCommit != nil {
		j.OnCommit()
	}
}

// Record adds the batch to the counts and, unless this is a dry run, stores its row outcomes
// and checkpoint in tx. Outcomes stored ahead in tx (PrepareStage) stay, unless they were
// taken back (Batch.TakeBackAhead, Batch.GiveWay): then they are stored as Write left them.
func (j *Job) Record(ctx context.Context, tx pgx.Tx, b *Batch) error {
	if err := j.count(b); err != nil {
		return err
	}
	if j.OnBatch != nil {
		j.OnBatch(b)
	}
	if j.DryRun {
		return nil
	}
	c := &j.Counts
	if err := store.RecordProgress(ctx, tx, j.Import.ID, j.Owner, j.Lease, *c, b.LastRow, b.Offset); err != nil {
		return err
	}
	if own := b.own; own != nil && own.outcomes {
		return nil
	}
	outcomes, buf, err := outcomesOf(b, j.undoJSON[:0])
	j.undoJSON = buf // the last batch's outcomes are stored: the buffer is the next one's
	if err != nil {
		return err
	}
	return store.RecordOutcomes(ctx, tx, j.Import.ID, outcomes)
}

// count adds the batch's rows and counters to the job's counts.
func (j *Job) count(b *Batch) error {
	c := &j.Counts
	for i := range b.Rows {
		r := &b.Rows[i]
		c.Rows++
		switch r.Outcome {
		case Created:
			c.Created++
		case Updated:
			c.Updated++
		case Unchanged:
			c.Unchanged++
		case Skipped:
			c.Skipped++
			c.SkippedByReason[r.SkipReason]++
		case Deleted, Restored, KeptChangedSince:
			c.Counters[string(r.Outcome)]++
		default:
			return fmt.Errorf("row %d has no outcome", r.Number)
		}
		for _, w := range r.Warnings {
			c.WarningsByKind[w.Kind]++
		}
		if r.Undoing != nil {
			c.Counters[CounterFieldsKept] += len(r.Undoing.FieldsKept)
		}
	}
	for name, n := range b.Counters {
		c.Counters[name] += n
	}
	return nil
}

// outcomesOf returns the outcomes to store of the batch's rows, each of which has its outcome.
// The JSON of the rows' undo records is appended to buf, which it returns: the outcomes of a
// batch share one buffer, reused once they are stored.
func outcomesOf(b *Batch, buf []byte) ([]store.Outcome, []byte, error) {
	outcomes := make([]store.Outcome, 0, len(b.Rows))
	for i := range b.Rows {
		r := &b.Rows[i]
		if r.Outcome == "" {
			return nil, buf, fmt.Errorf("row %d has no outcome", r.Number)
		}
		o := store.Outcome{Row: r.Number, Outcome: string(r.Outcome), Reason: r.SkipReason, Detail: r.SkipDetail, EntityID: r.EntityID}
		buf = recordUndo(&o, r, buf)
		if len(r.Warnings) > 0 {
			w, err := json.Marshal(r.Warnings)
			if err != nil {
				return nil, buf, err
			}
			o.Warnings = w
		}
		if r.Outcome == Skipped {
			o.Cells = r.Cells
		}
		outcomes = append(outcomes, o)
	}
	return outcomes, buf, nil
}

// Undo reasons: why an undo's row kept a record, or some of its fields, as they were.
const (
	// ReasonChangedSince: the record (or every field the row changed) changed after the import.
	ReasonChangedSince = "changed_since"
	// ReasonFieldChangedSince: some of the fields the row changed changed after the import.
	ReasonFieldChangedSince = "field_changed_since"
)

// recordUndo adds to the outcome o of row r what undo needs: for an import's row, what it kept
// to be taken back (r.Undo); for an undo's row, the import's row it took back and why it kept
// what it kept. The JSON of r.Undo is appended to buf, which it returns: the outcomes of a
// batch share one buffer, which the job reuses once they are stored (a re-import keeps one
// per row).
func recordUndo(o *store.Outcome, r *Row, buf []byte) []byte {
	if r.Undo != nil {
		start := len(buf)
		buf = r.Undo.AppendJSON(buf)
		o.Undo = buf[start:len(buf):len(buf)]
	}
	if u := r.Undoing; u != nil {
		o.SourceRow, o.Reason, o.Detail = u.Row, UndoReason(r), u.Why
	}
	return buf
}

// UndoReason is the reason an undo's row r kept what it kept: ReasonChangedSince when it kept
// the record, ReasonFieldChangedSince when it kept some of its fields, "" otherwise.
func UndoReason(r *Row) string {
	switch {
	case r.Outcome == KeptChangedSince:
		return ReasonChangedSince
	case r.Undoing != nil && len(r.Undoing.FieldsKept) > 0:
		return ReasonFieldChangedSince
	}
	return ""
}
