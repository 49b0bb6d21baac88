package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Import statuses (SPEC §1).
const (
	StatusQueued    = "queued"
	StatusRunning   = "running"
	StatusCompleted = "completed"
	StatusFailed    = "failed"
	StatusCancelled = "cancelled"
	// StatusUndone is the status of an import whose undo completed.
	StatusUndone = "undone"
)

// Statuses lists every import status, in lifecycle order.
var Statuses = []string{StatusQueued, StatusRunning, StatusCompleted, StatusFailed, StatusCancelled, StatusUndone}

// Import sources (SPEC §1).
const (
	SourceUpload = "upload"
	SourceWatch  = "watch"
	SourceKafka  = "kafka"
	SourceCLI    = "cli"
)

// ErrLeaseLost is returned when a worker records a batch of an import whose lease it no
// longer holds: another worker has taken the import over.
var ErrLeaseLost = errors.New("import lease lost to another worker")

// ErrCancelled is returned when a worker records a batch of an import that was cancelled.
var ErrCancelled = errors.New("import cancelled")

// RunAgain reports whether err is Postgres ending a transaction that may well succeed when
// run again: a deadlock it broke (40P01) or a serialization failure (40001). An import's batch
// meets a deadlock when a worker that took its lease over writes the rows its old worker had
// written ahead, still uncommitted, while that worker waits for the account's lock.
func RunAgain(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001")
}

// ErrFinished is returned when cancelling or resuming an import that has already ended.
var ErrFinished = errors.New("import has already ended")

// ErrHeld is returned when resuming an import that a live process holds.
var ErrHeld = errors.New("import is held by a live process")

// Counts are the running totals of an import.
type Counts struct {
	Rows            int            `json:"rows"`
	Created         int            `json:"created"`
	Updated         int            `json:"updated"`
	Unchanged       int            `json:"unchanged"`
	Skipped         int            `json:"skipped"`
	SkippedByReason map[string]int `json:"skipped_by_reason"`
	WarningsByKind  map[string]int `json:"warnings_by_kind"`
	// Counters are the totals the import's kind names (a prospects import counts
	// organizations_created and organizations_linked). In JSON each is a member of the counts'
	// own object, after the fields above (see MarshalWithCounts).
	Counters map[string]int `json:"-"`
}

// StartCounters makes sure that each counter named is there: at 0 unless already counted.
func (c *Counts) StartCounters(names []string) {
	if c.Counters == nil {
		c.Counters = make(map[string]int, len(names))
	}
	for _, name := range names {
		c.Counters[name] += 0
	}
}

// nonNilCounters is c.Counters, {} when it is nil: the column is NOT NULL.
func (c Counts) nonNilCounters() map[string]int {
	if c.Counters == nil {
		return map[string]int{}
	}
	return c.Counters
}

// Import is one file run through the pipeline.
type Import struct {
	ID               int64
	AccountID        int64
	Kind             string
	Source           string
	FileName         string
	FilePath         string
	FileSize         int64
	FileSHA256       string
	Options          json.RawMessage
	Status           string
	Error            string
	RowsTotal        int
	Counts           Counts
	OverLimitWarning bool
	Header           []string
	CheckpointRow    int
	CheckpointOffset int64
	CreatedAt        time.Time
	StartedAt        *time.Time
	FinishedAt       *time.Time
	FilePrunedAt     *time.Time
	// LeaseOwner names the process that holds the import ("" when none does; see Holder), until
	// LeaseExpiresAt. LeaseLapsed is true once that time has passed by the database's clock.
	LeaseOwner     string
	LeaseExpiresAt *time.Time
	LeaseLapsed    bool
	// RequestID groups the imports of one request — the sheets of a workbook — by the id of its
	// first import; 0 for an import of one file. RequestStep orders them: an import is claimed
	// only once the request's imports of lower steps have ended (ClaimImport).
	RequestID   int64
	RequestStep int
	// UndoOf is, on an undo, the import it takes back; 0 on an import.
	UndoOf int64
	// UndoneBy is, on an undone import, its undo, completed at UndoneAt.
	UndoneBy int64
	UndoneAt *time.Time
}

// Interrupted is true of an import that has not ended and whose holder died: its lease lapsed.
// A daemon's worker, or `leadpipe imports resume`, resumes it; if it was cancelled, it is ended.
func (im Import) Interrupted() bool {
	return im.FinishedAt == nil && im.LeaseOwner != "" && im.LeaseLapsed
}

const importColumns = `id, account_id, kind, source, file_name, file_path, file_size, file_sha256, options,
	status, coalesce(error, ''), coalesce(rows_total, 0), rows_done, created, updated, unchanged, skipped,
	skipped_by_reason, warnings_by_kind, counters, over_limit_warning,
	coalesce(header, '{}'), checkpoint_row, checkpoint_offset, created_at, started_at, finished_at, file_pruned_at,
	coalesce(lease_owner, ''), lease_expires_at, coalesce(lease_expires_at < now(), false),
	coalesce(request_id, 0), coalesce(request_step, 0), coalesce(undo_of, 0), coalesce(undone_by, 0), undone_at`

// scanImport scans importColumns, then into extra any columns selected after them.
func scanImport(row pgx.Row, extra ...any) (Import, error) {
	var im Import
	c := &im.Counts
	dest := []any{&im.ID, &im.AccountID, &im.Kind, &im.Source, &im.FileName, &im.FilePath, &im.FileSize,
		&im.FileSHA256, &im.Options, &im.Status, &im.Error, &im.RowsTotal, &c.Rows, &c.Created, &c.Updated,
		&c.Unchanged, &c.Skipped, &c.SkippedByReason, &c.WarningsByKind, &c.Counters,
		&im.OverLimitWarning, &im.Header, &im.CheckpointRow, &im.CheckpointOffset, &im.CreatedAt,
		&im.StartedAt, &im.FinishedAt, &im.FilePrunedAt, &im.LeaseOwner, &im.LeaseExpiresAt, &im.LeaseLapsed,
		&im.RequestID, &im.RequestStep, &im.UndoOf, &im.UndoneBy, &im.UndoneAt}
	err := row.Scan(append(dest, extra...)...)
	return im, err
}

// NextImportID allocates the id of an import about to be created, so that its file can be
// stored under that id first.
func NextImportID(ctx context.Context, q Querier) (int64, error) {
	var id int64
	if err := q.QueryRow(ctx, "SELECT nextval(pg_get_serial_sequence('imports', 'id'))").Scan(&id); err != nil {
		return 0, fmt.Errorf("allocate import id: %w", err)
	}
	return id, nil
}

// CreateImport records a new import, with im.ID when it is set (see NextImportID), of kind
// im.Kind — "" stores the column's default, "prospects" — and with im.Counts.Counters as its
// counters to start from (the kind's counters, at 0), and in im.RequestID's request at
// im.RequestStep when RequestID is set, as the undo of im.UndoOf when that is set. With leaseOwner set it starts running, leased to that
// owner (an import run in the foreground); otherwise it is queued for the workers.
func CreateImport(ctx context.Context, q Querier, im Import, leaseOwner string, lease time.Duration) (Import, error) {
	if len(im.Options) == 0 {
		im.Options = json.RawMessage("{}")
	}
	status := StatusQueued
	if leaseOwner != "" {
		status = StatusRunning
	}
	row := q.QueryRow(ctx, `INSERT INTO imports (id, account_id, kind, source, file_name, file_path, file_size,
			file_sha256, options, rows_total, over_limit_warning, header, status, lease_owner, lease_expires_at, started_at,
			counters, request_id, request_step, undo_of)
		VALUES (coalesce(nullif($14, 0), nextval(pg_get_serial_sequence('imports', 'id'))),
			$1, coalesce(nullif($15, ''), 'prospects'), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, nullif($12, ''),
			CASE WHEN $12 <> '' THEN now() + $13::interval END, CASE WHEN $12 <> '' THEN now() END, $16,
			nullif($17, 0), CASE WHEN $17 <> 0 THEN $18::int END, nullif($19, 0))
		RETURNING `+importColumns,
		im.AccountID, im.Source, im.FileName, im.FilePath, im.FileSize, im.FileSHA256, im.Options, im.RowsTotal,
		im.OverLimitWarning, im.Header, status, leaseOwner, lease, im.ID, im.Kind, im.Counts.nonNilCounters(),
		im.RequestID, im.RequestStep, im.UndoOf)
	created, err := scanImport(row)
	if err != nil {
		return Import{}, fmt.Errorf("create import: %w", err)
	}
	return created, nil
}

// GetImport returns an import of an account, or ErrNotFound.
func GetImport(ctx context.Context, q Querier, accountID, id int64) (Import, error) {
	im, err := scanImport(q.QueryRow(ctx, "SELECT "+importColumns+" FROM imports WHERE id = $1 AND account_id = $2", id, accountID))
	if errors.Is(err, pgx.ErrNoRows) {
		return Import{}, fmt.Errorf("import %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Import{}, fmt.Errorf("get import %d: %w", id, err)
	}
	return im, nil
}

// itsTurn holds for an import i whose request's imports of lower steps have all ended (and for
// an import of no request).
const itsTurn = `(i.request_id IS NULL OR NOT EXISTS (SELECT FROM imports e
	WHERE e.request_id = i.request_id AND e.request_step < i.request_step AND e.finished_at IS NULL))`

// ErrWaiting is returned when resuming an import of a request (a workbook's sheet) whose
// earlier imports have not all ended.
var ErrWaiting = errors.New("import waits for the earlier imports of its request")

// ClaimImport leases the oldest import that is queued, or running under a lease that has
// lapsed (its worker died), to owner. It returns ErrNotFound when there is none. Several
// workers and daemons may claim at once: SKIP LOCKED hands each a different import. An import
// of a request (a workbook's sheet) waits until every import of its request with a lower step
// has ended.
func ClaimImport(ctx context.Context, q Querier, owner string, lease time.Duration) (Import, error) {
	im, err := scanImport(q.QueryRow(ctx, `UPDATE imports SET status = 'running', lease_owner = $1,
			lease_expires_at = now() + $2::interval, started_at = coalesce(started_at, now())
		WHERE id = (SELECT id FROM imports i
			WHERE (status = 'queued' OR (status = 'running' AND lease_expires_at < now()))
				AND `+itsTurn+`
			ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
		RETURNING `+importColumns, owner, lease))
	if errors.Is(err, pgx.ErrNoRows) {
		return Import{}, ErrNotFound
	}
	if err != nil {
		return Import{}, fmt.Errorf("claim import: %w", err)
	}
	return im, nil
}

// ResumeImport leases an import of an account to owner, as a worker claims one: an import that
// is queued, or interrupted (running under a lease that lapsed). Otherwise it returns
// ErrNotFound (no such import in the account), ErrFinished (it has ended; a cancelled import
// whose holder died is ended now), ErrHeld (a live process holds it) or ErrWaiting (an earlier
// import of its request has not ended).
func ResumeImport(ctx context.Context, q Querier, accountID, id int64, owner string, lease time.Duration) (Import, error) {
	im, err := scanImport(q.QueryRow(ctx, `UPDATE imports i SET status = 'running', lease_owner = $3,
			lease_expires_at = now() + $4::interval, started_at = coalesce(started_at, now())
		WHERE id = $1 AND account_id = $2 AND (status = 'queued' OR (status = 'running' AND lease_expires_at < now()))
			AND `+itsTurn+`
		RETURNING `+importColumns, id, accountID, owner, lease))
	if err == nil {
		return im, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return Import{}, fmt.Errorf("resume import %d: %w", id, err)
	}
	cur, err := GetImport(ctx, q, accountID, id)
	switch {
	case err != nil:
		return Import{}, err
	case cur.Status == StatusCancelled && cur.Interrupted():
		if _, err := CancelImport(ctx, q, accountID, id); err != nil && !errors.Is(err, ErrFinished) {
			return Import{}, err
		}
		return Import{}, fmt.Errorf("import %d was cancelled, and is now ended: %w", id, ErrFinished)
	case cur.FinishedAt != nil:
		return Import{}, fmt.Errorf("import %d is %s: %w", id, cur.Status, ErrFinished)
	case cur.LeaseOwner == "" || cur.LeaseLapsed: // free, so not its turn
		return Import{}, fmt.Errorf("import %d: %w %d; a daemon's worker runs it once they have ended", id, ErrWaiting, cur.RequestID)
	}
	until := ""
	if cur.LeaseExpiresAt != nil {
		until = " until " + cur.LeaseExpiresAt.UTC().Format(time.RFC3339)
	}
	return Import{}, fmt.Errorf("import %d: %w (%s, its lease runs%s); wait for it, or resume it once its lease lapses",
		id, ErrHeld, cur.LeaseOwner, until)
}

// Outcome is the durable outcome of one row of an import.
type Outcome struct {
	Row      int
	Outcome  string
	Reason   string
	Detail   string
	EntityID int64    // the record the row created or matched; 0 for none
	Warnings []byte   // JSON array, or nil
	Cells    []string // the original cells, kept for skipped rows only
	// Undo is what an import keeps of a row to take it back (pipeline.Undo's JSON), or nil.
	Undo []byte
	// SourceRow is, for an undo's row, the row of the undone import it took back; 0 otherwise.
	SourceRow int
}

// outcomeColumns are the columns of import_outcome_rows that RecordOutcomes writes, in its order.
var outcomeColumns = []string{"import_id", "row_number", "outcome", "reason", "detail", "entity_id", "warnings", "cells", "undo", "source_row"}

// outcomeRowBytes is about what one outcome row without cells, warnings or undo takes in
// binary COPY data.
const outcomeRowBytes = 80

// nullableText appends s, or NULL for "".
func nullableText(c *binaryCopy, s string) {
	if s == "" {
		c.null()
	} else {
		c.text(s)
	}
}

// RecordBatch stores a batch's outcomes and moves the import's counts and checkpoint forward,
// renewing the owner's lease: RecordProgress, then RecordOutcomes, in the batch's transaction,
// so that outcomes, checkpoint and the records' writes commit together. It returns
// ErrLeaseLost when the import is no longer leased to owner.
func RecordBatch(ctx context.Context, tx pgx.Tx, importID int64, owner string, lease time.Duration,
	outcomes []Outcome, c Counts, checkpointRow int, checkpointOffset int64) error {
	if err := RecordProgress(ctx, tx, importID, owner, lease, c, checkpointRow, checkpointOffset); err != nil {
		return err
	}
	return RecordOutcomes(ctx, tx, importID, outcomes)
}

// RecordProgress moves the import's counts and checkpoint forward and renews the owner's lease,
// in the transaction of the batch they count. It returns ErrLeaseLost when the import is no
// longer leased to owner.
func RecordProgress(ctx context.Context, tx pgx.Tx, importID int64, owner string, lease time.Duration,
	c Counts, checkpointRow int, checkpointOffset int64) error {
	tag, err := tx.Exec(ctx, `UPDATE imports SET rows_done = $3, created = $4, updated = $5, unchanged = $6,
			skipped = $7, skipped_by_reason = $8, warnings_by_kind = $9, counters = $10,
			checkpoint_row = $11, checkpoint_offset = $12, lease_expires_at = now() + $13::interval
		WHERE id = $1 AND lease_owner = $2 AND status = 'running'`,
		importID, owner, c.Rows, c.Created, c.Updated, c.Unchanged, c.Skipped, c.SkippedByReason,
		c.WarningsByKind, c.nonNilCounters(), checkpointRow, checkpointOffset, lease)
	if err != nil {
		return fmt.Errorf("record batch: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return whyNotLeased(ctx, tx, importID)
	}
	return nil
}

// RecordOutcomes stores row outcomes of an import, in row order: the rows of one outcome with
// nothing more to say (created ones, and updated ones but for their undo) as one run of their
// table when they make one (runTable.newRun), the others as rows of import_outcome_rows, with
// COPY. Only the import's own worker writes them (or one that took its lease over,
// resuming at its checkpoint), so a batch's transaction may store them before it takes any
// lock.
func RecordOutcomes(ctx context.Context, tx pgx.Tx, importID int64, outcomes []Outcome) error {
	var runs []outcomeRun
	for _, t := range runTables {
		if run, ok := t.newRun(outcomes); ok {
			runs = append(runs, run)
		}
	}
	var data *binaryCopy
	for i := range outcomes {
		o := &outcomes[i]
		if run := runHolding(runs, o); run != nil {
			run.add(o)
			continue
		}
		if data == nil {
			data = newBinaryCopy(len(outcomes)-i, outcomeRowBytes)
		}
		appendOutcome(data, importID, o)
	}
	for i := range runs {
		if err := runs[i].record(ctx, tx, importID); err != nil {
			return err
		}
	}
	if data != nil {
		if _, err := data.copyTo(ctx, tx, "import_outcome_rows", outcomeColumns); err != nil {
			return fmt.Errorf("record row outcomes: %w", err)
		}
	}
	return nil
}

// runHolding returns the run of runs that takes o, or nil.
func runHolding(runs []outcomeRun, o *Outcome) *outcomeRun {
	for i := range runs {
		if runs[i].takes(o) {
			return &runs[i]
		}
	}
	return nil
}

// appendOutcome appends the outcome o of a row of import importID to data, in outcomeColumns.
func appendOutcome(data *binaryCopy, importID int64, o *Outcome) {
	data.row(len(outcomeColumns))
	data.int8(importID)
	data.int4(o.Row)
	data.text(o.Outcome)
	nullableText(data, o.Reason)
	nullableText(data, o.Detail)
	if o.EntityID != 0 {
		data.int8(o.EntityID)
	} else {
		data.null()
	}
	if o.Warnings != nil {
		data.jsonb(o.Warnings)
	} else {
		data.null()
	}
	if o.Cells != nil {
		data.textArray(o.Cells)
	} else {
		data.null()
	}
	if o.Undo != nil {
		data.bytesText(o.Undo) // json
	} else {
		data.null()
	}
	if o.SourceRow != 0 {
		data.int4(o.SourceRow)
	} else {
		data.null()
	}
}

// whyNotLeased tells a cancelled import from one another worker took over.
func whyNotLeased(ctx context.Context, q Querier, importID int64) error {
	var status string
	if err := q.QueryRow(ctx, "SELECT status FROM imports WHERE id = $1", importID).Scan(&status); err != nil {
		return fmt.Errorf("import %d: %w", importID, err)
	}
	if status == StatusCancelled {
		return ErrCancelled
	}
	return ErrLeaseLost
}

// holderGone is true of an import that no live process holds: never leased, let go, or leased
// to one that stopped renewing its lease (it died).
const holderGone = "(lease_owner IS NULL OR lease_expires_at < now())"

// CancelImport cancels an import of an account that has not ended. A queued import ends at
// once, and so does a running one whose holder is gone (its lease lapsed), for no one else
// would end it. A running one whose holder is alive ends when the holder next records a batch
// or lets go (the batch in flight is rolled back; what committed before stays). Cancelling an
// import that is cancelled but has not ended yet answers it again. It returns ErrFinished for
// an import that has already ended.
func CancelImport(ctx context.Context, q Querier, accountID, id int64) (Import, error) {
	im, err := scanImport(q.QueryRow(ctx, `UPDATE imports SET status = 'cancelled',
			finished_at = CASE WHEN `+holderGone+` THEN now() END,
			lease_owner = CASE WHEN `+holderGone+` THEN NULL ELSE lease_owner END,
			lease_expires_at = CASE WHEN `+holderGone+` THEN NULL ELSE lease_expires_at END
		WHERE id = $1 AND account_id = $2 AND status IN ('queued', 'running', 'cancelled') AND finished_at IS NULL
		RETURNING `+importColumns, id, accountID))
	if errors.Is(err, pgx.ErrNoRows) {
		if _, err := GetImport(ctx, q, accountID, id); err != nil {
			return Import{}, err
		}
		return Import{}, fmt.Errorf("import %d: %w", id, ErrFinished)
	}
	if err != nil {
		return Import{}, fmt.Errorf("cancel import %d: %w", id, err)
	}
	return im, nil
}

// EndAbandonedCancels ends the cancelled imports whose holder is gone — it died after the
// cancel, before it let go — and returns their ids. Ending one publishes its cancelled event.
func EndAbandonedCancels(ctx context.Context, q Querier) ([]int64, error) {
	rows, err := q.Query(ctx, `UPDATE imports SET finished_at = now(), lease_owner = NULL, lease_expires_at = NULL
		WHERE status = 'cancelled' AND finished_at IS NULL AND `+holderGone+` RETURNING id`)
	if err != nil {
		return nil, fmt.Errorf("end abandoned cancelled imports: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("end abandoned cancelled imports: %w", err)
	}
	return ids, nil
}

// ImportFilter selects imports of an account for the history (SPEC §11).
type ImportFilter struct {
	Status, Kind string
	// RequestID keeps the imports of one request (the sheets of a workbook); 0 keeps all.
	RequestID int64
	// From and To bound created_at: From <= created_at < To; zero is unbounded.
	From, To time.Time
	// Before is the keyset cursor: only imports with a smaller id (0: from the newest).
	Before int64
	Limit  int
	// Undos says which undos (imports rows with undo_of set) are listed: UndosExclude (or ""),
	// none — an undone import shows its undo —, UndosInclude, them too, or UndosOnly.
	Undos string
}

// The values of ImportFilter.Undos.
const (
	UndosExclude = "exclude"
	UndosInclude = "include"
	UndosOnly    = "only"
)

// UndosFilters lists the values of ImportFilter.Undos, the default first.
var UndosFilters = []string{UndosExclude, UndosInclude, UndosOnly}

// ListImports returns an account's imports, newest first.
func ListImports(ctx context.Context, q Querier, accountID int64, f ImportFilter) ([]Import, error) {
	w := newWhere("SELECT "+importColumns+" FROM imports WHERE account_id = $1", accountID)
	w.addIf(f.Status != "", "status = $%d", f.Status)
	w.addIf(f.Kind != "", "kind = $%d", f.Kind)
	w.addIf(f.RequestID != 0, "request_id = $%d", f.RequestID)
	switch f.Undos {
	case UndosInclude:
	case UndosOnly:
		w.sql.WriteString(" AND undo_of IS NOT NULL")
	default:
		w.sql.WriteString(" AND undo_of IS NULL")
	}
	w.addCreatedBetween(f.From, f.To)
	w.addIf(f.Before > 0, "id < $%d", f.Before)
	w.args = append(w.args, f.Limit)
	sql, args := w.sql.String()+fmt.Sprintf(" ORDER BY id DESC LIMIT $%d", len(w.args)), w.args
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("list imports: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Import, error) { return scanImport(r) })
	if err != nil {
		return nil, fmt.Errorf("list imports: %w", err)
	}
	return list, nil
}

// FinishImport ends an import leased to owner with a final status and, for a failure, the
// reason. A completed import read every row: its rows_total becomes its rows_done (an import
// run at once does not count its rows before it starts). ErrLeaseLost when owner no longer
// holds it.
func FinishImport(ctx context.Context, q Querier, importID int64, owner, status, reason string) error {
	// A cancel that lands after the last batch still wins: the client was told "cancelled".
	tag, err := q.Exec(ctx, `UPDATE imports SET status = CASE WHEN status = 'cancelled' THEN status ELSE $3 END,
			rows_total = CASE WHEN $3 = 'completed' AND status <> 'cancelled' THEN rows_done ELSE rows_total END,
			error = nullif($4, ''), finished_at = now(), lease_owner = NULL, lease_expires_at = NULL
		WHERE id = $1 AND lease_owner = $2`, importID, owner, status, strings.TrimSpace(reason))
	if err != nil {
		return fmt.Errorf("finish import %d: %w", importID, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrLeaseLost
	}
	return nil
}

// ReleaseImport lets go of an import that owner stopped working on, and returns the status it
// left: a running import goes back to the queue (StatusQueued), to resume from its checkpoint;
// one cancelled meanwhile ends (StatusCancelled). It returns ErrLeaseLost when owner no longer
// held it.
func ReleaseImport(ctx context.Context, q Querier, importID int64, owner string) (string, error) {
	var status string
	err := q.QueryRow(ctx, `UPDATE imports SET status = CASE WHEN status = 'cancelled' THEN status ELSE 'queued' END,
			finished_at = CASE WHEN status = 'cancelled' THEN now() END, lease_owner = NULL, lease_expires_at = NULL
		WHERE id = $1 AND lease_owner = $2 AND status IN ('running', 'cancelled') AND finished_at IS NULL
		RETURNING status`, importID, owner).Scan(&status)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrLeaseLost
	}
	if err != nil {
		return "", fmt.Errorf("release import %d: %w", importID, err)
	}
	return status, nil
}

// ImportsToPrune returns imports that ended before cutoff and still have their original file
// in the files store under dir (uploads, Kafka requests' files, watched files). Imports from
// the command line read the user's own file, which is never pruned. The sheets of a workbook
// share its file: it is pruned once they have all ended.
func ImportsToPrune(ctx context.Context, q Querier, dir string, cutoff time.Time) ([]Import, error) {
	rows, err := q.Query(ctx, "SELECT "+importColumns+` FROM imports i
		WHERE finished_at < $1 AND file_pruned_at IS NULL AND source <> 'cli' AND starts_with(file_path, $2)
			AND (request_id IS NULL OR NOT EXISTS (SELECT FROM imports e WHERE e.request_id = i.request_id AND e.finished_at IS NULL))
		ORDER BY id LIMIT 1000`, cutoff, strings.TrimSuffix(dir, "/")+"/")
	if err != nil {
		return nil, fmt.Errorf("imports to prune: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Import, error) { return scanImport(r) })
	if err != nil {
		return nil, fmt.Errorf("imports to prune: %w", err)
	}
	return list, nil
}

// MarkFilePruned records that an import's original file was removed.
func MarkFilePruned(ctx context.Context, q Querier, importID int64) error {
	if _, err := q.Exec(ctx, "UPDATE imports SET file_pruned_at = now() WHERE id = $1", importID); err != nil {
		return fmt.Errorf("mark file pruned: %w", err)
	}
	return nil
}

// where builds a query whose conditions are added one by one, each with its argument.
type where struct {
	sql  strings.Builder
	args []any
}

func newWhere(sql string, args ...any) *where {
	w := &where{args: args}
	w.sql.WriteString(sql)
	return w
}

// addIf adds " AND cond" when ok; cond holds one %d for its argument's number.
func (w *where) addIf(ok bool, cond string, arg any) {
	if ok {
		w.args = append(w.args, arg)
		fmt.Fprintf(&w.sql, " AND "+cond, len(w.args))
	}
}

// addCreatedBetween keeps imports created in [from, to); a zero time does not bound.
func (w *where) addCreatedBetween(from, to time.Time) {
	w.addIf(!from.IsZero(), "created_at >= $%d", from)
	w.addIf(!to.IsZero(), "created_at < $%d", to)
}

// SetRowTotals records an import's data rows and overage alert once they are known: an import
// run in the foreground learns them by reading its file.
func SetRowTotals(ctx context.Context, q Querier, importID int64, rows int, overLimit bool) error {
	if _, err := q.Exec(ctx, "UPDATE imports SET rows_total = $2, over_limit_warning = $3 WHERE id = $1", importID, rows, overLimit); err != nil {
		return fmt.Errorf("record import %d totals: %w", importID, err)
	}
	return nil
}

// CountImportsByStatus returns how many imports of all accounts are in each status; a status
// no import is in is absent.
func CountImportsByStatus(ctx context.Context, q Querier) (map[string]int64, error) {
	rows, err := q.Query(ctx, "SELECT status, count(*) FROM imports GROUP BY status")
	if err != nil {
		return nil, fmt.Errorf("count imports by status: %w", err)
	}
	counts := map[string]int64{}
	var status string
	var n int64
	_, err = pgx.ForEachRow(rows, []any{&status, &n}, func() error {
		counts[status] = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("count imports by status: %w", err)
	}
	return counts, nil
}
