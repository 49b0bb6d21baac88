package importer

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/leadpipe/leadpipe/kind"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
)

// An undo takes an import back (docs/undo.md). It is a job like an import — a row of imports
// with undo_of set, queued, claimed by a worker, run batch by batch with each batch's outcomes
// and checkpoint committed together, resumed after a crash, cancelled — whose rows are the
// import's created, updated and unchanged rows, last row first, and whose writer is the kind's
// undoer (kind.Kind.Undoer).
//
// Its checkpoint: checkpoint_row counts the rows taken back, which also numbers its outcome
// rows (the sinks' cursors advance by row number); checkpoint_offset is the import's row
// taken back last, and a resumed undo goes on with the rows before it.

// UndoRequest asks to undo an import of an account.
type UndoRequest struct {
	Account  string // account name
	ImportID int64  // the import to undo
	Source   string // who asks: store.SourceUpload (the API), store.SourceCLI, …
}

// UndoSummary is the result of an undo, as `leadpipe imports undo` prints it.
type UndoSummary struct {
	// UndoID is the undo's own id; 0 in a dry run, which records nothing.
	UndoID   int64  `json:"undo_id,omitempty"`
	ImportID int64  `json:"import_id"`
	Kind     string `json:"kind"`
	Status   string `json:"status"`
	// The counts: rows taken back, unchanged, and the counters deleted, restored,
	// kept_changed_since, fields_kept (and the kind's, such as organizations_deleted).
	store.Counts
	DurationMS int64  `json:"duration_ms"`
	DryRun     bool   `json:"dry_run,omitempty"`
	Error      string `json:"error,omitempty"`
	// Rows is, in a dry run, what the undo would do with each row, the import's last row
	// first, up to UndoReportRows of them; RowsOmitted counts the others. (Not "rows": that
	// is the count of rows taken back, a member of the counts.)
	Rows        []UndoRowResult `json:"row_results,omitempty"`
	RowsOmitted int             `json:"row_results_omitted,omitempty"`
}

// MarshalJSON encodes the summary with its counts' members at the top level.
func (s UndoSummary) MarshalJSON() ([]byte, error) { return store.MarshalWithCounts(s) }

// UnmarshalJSON decodes what MarshalJSON encodes.
func (s *UndoSummary) UnmarshalJSON(data []byte) error { return store.UnmarshalWithCounts(data, s) }

// UndoReportRows is how many rows a dry run of an undo reports one by one.
const UndoReportRows = 1000

// UndoRowResult is what an undo did, or would do, with one row of the import.
type UndoRowResult struct {
	// Row is the import's row.
	Row      int    `json:"row_number"`
	EntityID int64  `json:"entity_id,omitempty"`
	Outcome  string `json:"outcome"`
	Reason   string `json:"reason,omitempty"`
	Detail   string `json:"detail,omitempty"`
	// FieldsKept are the fields left as they were because they changed after the import.
	FieldsKept []string `json:"fields_kept,omitempty"`
}

// SubmitUndo queues an undo of an import for the workers and returns it. The error is
// store.ErrNotFound when the account has no such import, store.ErrNotUndoable (with what to do)
// when the import cannot be undone now.
func (im *Importer) SubmitUndo(ctx context.Context, req UndoRequest) (store.Import, error) {
	rec, err := im.undoRecord(ctx, req)
	if err != nil {
		return store.Import{}, err
	}
	undo, err := store.CreateUndo(ctx, im.Pool, rec, "", 0)
	if err != nil {
		return store.Import{}, err
	}
	im.Log.Info("undo queued", "import_id", undo.ID, "undo_of", undo.UndoOf, "kind", undo.Kind, "rows", undo.RowsTotal)
	return undo, nil
}

// UndoNow undoes an import in the foreground, as owner, and returns the undo's summary. With
// dryRun the undo runs in one transaction that is rolled back: nothing is written, not even the
// undo's record, and the summary reports each row.
func (im *Importer) UndoNow(ctx context.Context, req UndoRequest, owner string, dryRun bool) (UndoSummary, error) {
	start := time.Now()
	rec, err := im.undoRecord(ctx, req)
	if err != nil {
		return UndoSummary{}, err
	}
	lease := time.Duration(im.Config.Lease)
	if !dryRun {
		undo, err := store.CreateUndo(ctx, im.Pool, rec, owner, lease)
		if err != nil {
			return UndoSummary{}, err
		}
		sum, err := im.runUndo(ctx, undo, owner)
		return undoSummary(undo, sum), err
	}
	var out UndoSummary
	_, err = im.rolledBack(ctx, func(tx pgx.Tx) (Summary, error) {
		undo, err := store.CreateUndo(ctx, tx, rec, owner, lease)
		if err != nil {
			return Summary{}, err
		}
		p, undoer, err := im.undoPlan(ctx, undo)
		if err != nil {
			return Summary{}, err
		}
		p.DryRun = true
		job := pipeline.NewJob(undo, owner, lease, true, pipeline.UndoCounters())
		job.OnBatch = func(b *pipeline.Batch) {
			for i := range b.Rows {
				if len(out.Rows) == UndoReportRows {
					out.RowsOmitted++
					continue
				}
				out.Rows = append(out.Rows, undoRowResult(&b.Rows[i]))
			}
		}
		if err := im.runUndoPipeline(ctx, tx, job, undoer); err != nil {
			return Summary{}, err
		}
		out.ImportID, out.Kind, out.Status, out.Counts, out.DryRun = undo.UndoOf, undo.Kind, store.StatusCompleted, job.Counts, true
		return Summary{}, nil
	})
	out.DurationMS = time.Since(start).Milliseconds()
	return out, err
}

// undoRecord is the record of an undo of req's import, before CreateUndo fills in the rest.
func (im *Importer) undoRecord(ctx context.Context, req UndoRequest) (store.Import, error) {
	acct, err := store.AccountByName(ctx, im.Pool, req.Account)
	if err != nil {
		return store.Import{}, err
	}
	rec := store.Import{AccountID: acct.ID, UndoOf: req.ImportID, Source: req.Source}
	rec.Counts.StartCounters(pipeline.UndoCounters())
	return rec, nil
}

// undoSummary is the summary of the undo undo from its run's.
func undoSummary(undo store.Import, sum Summary) UndoSummary {
	return UndoSummary{UndoID: undo.ID, ImportID: undo.UndoOf, Kind: undo.Kind, Status: sum.Status, Counts: sum.Counts,
		DurationMS: sum.DurationMS, Error: sum.Error}
}

// undoRowResult is what an undo did with a row.
func undoRowResult(r *pipeline.Row) UndoRowResult {
	u := r.Undoing
	return UndoRowResult{Row: u.Row, EntityID: r.EntityID, Outcome: string(r.Outcome), Reason: pipeline.UndoReason(r),
		Detail: u.Why, FieldsKept: u.FieldsKept}
}

// runUndo runs an undo leased to owner from its checkpoint to its end and records how it
// ended, as run does an import's.
func (im *Importer) runUndo(ctx context.Context, undo store.Import, owner string) (Summary, error) {
	start := time.Now()
	log := im.log(undo).With("undo_of", undo.UndoOf)
	job := pipeline.NewJob(undo, owner, time.Duration(im.Config.Lease), false, pipeline.UndoCounters())
	_, undoer, err := im.undoPlan(ctx, undo)
	if err == nil {
		if undo.CheckpointRow > 0 {
			log.Info("undo resumed", "from_row", undo.CheckpointOffset, "rows_done", undo.Counts.Rows)
		} else {
			log.Info("undo started", "rows", undo.RowsTotal)
		}
		job.OnBatch, job.OnCommit = im.progress(log, job), im.Committed
		err = im.onConnection(ctx, func(c conn) error { return im.runUndoPipeline(ctx, c, job, undoer) })
	}
	return im.end(ctx, log, job, err, start)
}

// undoPlan loads the plan of the import an undo takes back — its account, kind, catalog,
// options and users, as they are now — and its kind's undoer.
func (im *Importer) undoPlan(ctx context.Context, undo store.Import) (*kind.Plan, pipeline.Writer, error) {
	imp, err := store.GetImport(ctx, im.Pool, undo.AccountID, undo.UndoOf)
	if err != nil {
		return nil, nil, err
	}
	acct, k, o, err := im.recorded(ctx, imp)
	if err != nil {
		return nil, nil, err
	}
	kp, err := kindPlan(ctx, im.Pool, acct, k, o)
	if err != nil {
		return nil, nil, err
	}
	p := &kp
	p.ImportID, p.Mapped = imp.ID, func(string) bool { return false }
	return p, k.Undoer(p), nil
}

// undoStageName is the metrics name of the stage that takes an undo's batches back.
const undoStageName = "undo"

// runUndoPipeline takes back, on db, the rows of the job's undo from its checkpoint on.
func (im *Importer) runUndoPipeline(ctx context.Context, db conn, job *pipeline.Job, undoer pipeline.Writer) error {
	undo := job.Import
	src := &undoSource{q: im.Pool, importID: undo.UndoOf, before: int(undo.CheckpointOffset), seq: undo.CheckpointRow, size: im.Config.BatchSize}
	return pipeline.Run(ctx, src, im.Config.QueueDepth, pipeline.Named{Name: undoStageName, Stage: job.WriteStage(db, undoer)})
}

// undoSource reads the rows an undo takes back, a batch at a time, last row first. It reads
// committed rows of the undone import, which nothing changes, so it needs no connection of the
// run's own (a dry run's writes are in its transaction; these rows are not among them).
type undoSource struct {
	q        store.Querier
	importID int64
	before   int // the import's row taken back last; 0 before the first
	seq      int // the undo's rows numbered so far
	size     int
}

func (s *undoSource) Next(ctx context.Context) (*pipeline.Batch, error) {
	rows, err := store.UndoRows(ctx, s.q, s.importID, s.before, s.size)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, io.EOF
	}
	b := &pipeline.Batch{Rows: make([]pipeline.Row, len(rows))}
	for i, r := range rows {
		u := &pipeline.Undoing{Row: r.Row, Outcome: pipeline.Outcome(r.Outcome), EntityID: r.EntityID}
		if r.Undo != nil {
			u.Undo = new(pipeline.Undo)
			if err := json.Unmarshal(r.Undo, u.Undo); err != nil {
				return nil, fmt.Errorf("row %d of import %d: %w", r.Row, s.importID, err)
			}
		}
		s.seq++
		b.Rows[i] = pipeline.Row{Number: s.seq, Undoing: u}
	}
	s.before = rows[len(rows)-1].Row
	b.LastRow, b.Offset = s.seq, int64(s.before)
	return b, nil
}
