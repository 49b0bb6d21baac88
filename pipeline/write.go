package pipeline

import (
	"context"

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

// Beginner starts a transaction: a connection, or for a dry run an outer transaction whose
// nested transactions are savepoints.
type Beginner = store.Beginner

// WriteStage returns the stage that commits each batch of the job: it opens the batch's
// transaction on db, hands it to w, records the batch's outcomes, counts and checkpoint in the
// same transaction (Record), commits, and then counts the committed rows (Committed).
func (j *Job) WriteStage(db Beginner, w Writer) Stage {
	return &writeStage{job: j, db: db, w: w}
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
	if err == nil {
		s.job.Committed(b)
	}
	return err
}
