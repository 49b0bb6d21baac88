// Package importer runs imports of every kind: it checks a file and its options before anything
// is written, records the import, builds one plan per import (account, kind, catalog, options,
// the file's reader) and drives the pipeline over the file (read → map → validate with the
// kind's row rules → the kind's writer), from the start or from the import's checkpoint. The
// command line and the daemon's workers both import through it.
package importer

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadpipe/leadpipe/config"
	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/kind"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/stages/mapping"
	"github.com/leadpipe/leadpipe/stages/read"
	"github.com/leadpipe/leadpipe/stages/read/isolate"
	"github.com/leadpipe/leadpipe/store"
)

// ErrBadFile wraps every reason a file cannot be imported at all; nothing is written then.
var ErrBadFile = errors.New("cannot import file")

// Importer runs imports against one database.
type Importer struct {
	Pool   *pgxpool.Pool
	Config config.Config
	Log    *slog.Logger
	// Sheets, when set, parses spreadsheets in child processes; nil parses them in this one.
	Sheets *isolate.Parser
	// Progress, when set, is told how each run of an import or an undo (Run, RunNow, UndoNow;
	// and an import's dry run, not an undo's) goes — when it starts and after each batch — in
	// place of the progress lines logged every few seconds.
	Progress func(Progress)
	// Committed, when set, is called after each batch of a run of an import or an undo
	// commits, and once when the run ends (whether or not its end could be recorded). The
	// daemon wakes its relays with it, so that they deliver the run's row outcomes and events
	// at once rather than at their next poll. It must not block.
	Committed func()
}

// Progress is how far a run of an import, or of an undo, has got.
type Progress struct {
	ImportID int64 // a dry run's is rolled back with the rest
	Kind     string
	Undo     bool // the run is an undo's
	DryRun   bool
	// Done counts the rows done, those of the import's earlier runs included.
	Done int
	// Total is the import's rows (for an undo, the rows it takes back). While they are not
	// counted (a foreground import without the max_rows setting) it is estimated from the
	// share of a CSV file read so far; 0 when unknown.
	Total int
}

// Request is a file to import into an account.
type Request struct {
	Account string // account name
	// Kind is the kind of record the file holds (Kinds); "" is the default, prospects.
	Kind string
	Path string
	// FileName is the name the user knows the file by; the base of Path when empty.
	FileName string
	Options  crm.Options
	Source   string
	// ID is the import's id when it was allocated beforehand (store.NextImportID); 0 otherwise.
	ID int64
	// For dry runs only: MaxRows stops after that many data rows (0: all of them), and
	// OnBatch sees every batch with its rows' outcomes, and the name of its import's kind (a
	// workbook's sheets are of several).
	MaxRows int
	OnBatch func(kind string, b *pipeline.Batch)
	// group places the import in a request of several (a workbook's sheet); zero for none.
	group requestGroup
}

// Checked is what checking a request found; nothing has been written yet.
type Checked struct {
	Account          store.Account
	Header           []string
	Columns          []mapping.Column
	Unmapped         []string
	Rows             int // data rows, blank rows not counted
	Size             int64
	SHA256           string
	OverLimitWarning bool
	// Sheet names the worksheet a spreadsheet's reader reads; "" for a CSV file.
	Sheet string
	// Sheets lists the sheets of a workbook request and their imports (Submit); nil otherwise.
	Sheets []SheetImport
	// plan is the import's plan, its reader standing after the rows counted (or at the first
	// data row when none were).
	plan *plan
}

// Summary is the result of an import, as `leadpipe import` prints it.
type Summary struct {
	ImportID int64  `json:"import_id,omitempty"`
	Kind     string `json:"kind"`
	// RequestID is a workbook request's id, the id of its first sheet's import.
	RequestID int64 `json:"request_id,omitempty"`
	// Sheet is the sheet of a workbook the import read.
	Sheet  string `json:"sheet,omitempty"`
	Status string `json:"status"`
	store.Counts
	OverLimitWarning bool     `json:"over_limit_warning"`
	Unmapped         []string `json:"unmapped_columns"`
	DurationMS       int64    `json:"duration_ms"`
	DryRun           bool     `json:"dry_run,omitempty"`
	Error            string   `json:"error,omitempty"`
	// Sheets are the summaries of a workbook's sheets, in the order they ran; the summary's
	// counts are their totals.
	Sheets []Summary `json:"sheets,omitempty"`
}

// MarshalJSON encodes the summary with its counts' members at the top level.
func (s Summary) MarshalJSON() ([]byte, error) { return store.MarshalWithCounts(s) }

// UnmarshalJSON decodes what MarshalJSON encodes.
func (s *Summary) UnmarshalJSON(data []byte) error { return store.UnmarshalWithCounts(data, s) }

// Check reads the whole file once — its hash, its data rows — and checks the header against
// the account's fields of the kind and the options. Any error means the import must not start.
func (im *Importer) Check(ctx context.Context, req Request) (*Checked, error) {
	c, err := im.open(ctx, req)
	if err != nil {
		return nil, err
	}
	defer c.plan.close()
	if err := im.count(c, req.displayName()); err != nil {
		return nil, err
	}
	return c, nil
}

// count reads the rest of the plan's open file and sets c's rows and overage alert. A file with
// more data rows than the max_rows setting is an error.
func (im *Importer) count(c *Checked, name string) error {
	err := safely(func() (err error) {
		c.Rows, err = c.plan.in.r.CountRows()
		return err
	})
	if err == nil && im.Config.MaxRows > 0 && c.Rows > im.Config.MaxRows {
		return fmt.Errorf("%w %s: %w: it has %d data rows, more than the limit of %d (setting max_rows); split it into smaller files",
			ErrBadFile, name, read.ErrTooManyRows, c.Rows, im.Config.MaxRows)
	}
	if err != nil {
		return readError(name, err)
	}
	c.OverLimitWarning = c.plan.Kind.OverLimit(c.Account, c.Rows)
	return nil
}

// readError is the error of reading the file named name, as an import fails with it.
func readError(name string, err error) error {
	if errors.Is(err, read.ErrTooManyRows) { // the CSV reader stops at the limit
		err = fmt.Errorf("%w (setting max_rows); split it into smaller files", err)
	}
	return fmt.Errorf("%w %s: %w", ErrBadFile, name, err)
}

// openFile is a request's file, checked and open, its reader standing at the first data row.
type openFile struct {
	f *os.File
	r read.Reader
}

// close closes the reader and the file; it is idempotent.
func (in *openFile) close() {
	if in.f != nil {
		closeReader(in.r)
		in.f.Close()
		in.f, in.r = nil, nil
	}
}

// open is Check without counting the rows (Rows is 0): it hashes the file, opens its reader,
// and plans the import from the header, with the options of the saved mapping the request
// names, if any, under its own (withSaved): every door's requests pass here. The caller
// closes the plan's file, whose reader it may run first: an import run at once then reads its
// file once.
func (im *Importer) open(ctx context.Context, req Request) (*Checked, error) {
	acct, err := store.AccountByName(ctx, im.Pool, req.Account)
	if err != nil {
		return nil, err
	}
	if req.Kind == WorkbookKind {
		return nil, fmt.Errorf("%w: kind: a workbook is checked and imported as a whole; to preview one of its sheets, name the sheet's kind and the sheet option", crm.ErrInvalidOptions)
	}
	k, err := kinds.Lookup(ctx, im.Pool, acct.ID, req.Kind)
	if err != nil {
		return nil, err
	}
	saved, err := savedOptions(ctx, im.Pool, acct, k, req.Options.SavedMapping)
	if err != nil {
		return nil, err
	}
	name := req.displayName()
	f, err := openPath(req.Path, name)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	size, err := io.Copy(h, f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%w %s: %w", ErrBadFile, name, err)
	}
	in, err := im.openReader(f, name, im.readOptions(crm.Options{Sheet: cmp.Or(req.Options.Sheet, saved.Sheet)}, 0, 0))
	if err != nil {
		return nil, err
	}
	o, err := withSaved(req.Options, saved, in.r.Header())
	if err != nil {
		in.close()
		return nil, err
	}
	sheet := ""
	if s, ok := in.r.(read.SheetReader); ok {
		sheet = s.Sheet()
	}
	header := in.r.Header()
	p, err := newPlan(ctx, im.Pool, acct, k, header, o)
	if err != nil {
		in.close()
		var nothing *mapping.NothingMappedError
		if errors.As(err, &nothing) {
			err = &UnmappedFileError{NothingMappedError: nothing, Account: acct, Kind: k, Header: header, Sheet: sheet, Options: o, err: err}
		}
		return nil, err
	}
	p.in = in
	return &Checked{
		Account:  acct,
		Header:   header,
		Columns:  p.mapper.Columns(),
		Unmapped: p.mapper.Unmapped(),
		Size:     size,
		SHA256:   hex.EncodeToString(h.Sum(nil)),
		Sheet:    sheet,
		plan:     p,
	}, nil
}

// UnmappedFileError is the error of a request whose file has no column that maps to a field
// of its kind (mapping.NothingMappedError, with ErrBadFile): what the check knew of the file
// when it stopped, for a preview to show the columns to map by hand.
type UnmappedFileError struct {
	*mapping.NothingMappedError
	Account store.Account
	Kind    kind.Kind
	Header  []string
	Sheet   string      // the sheet read, of a workbook; "" for a CSV file
	Options crm.Options // the request's, with its saved mapping's
	err     error
}

func (e *UnmappedFileError) Error() string { return e.err.Error() }
func (e *UnmappedFileError) Unwrap() error { return e.err }

// safely runs fn, turning a panic of a parser on a crafted file into the file's error rather
// than the caller's crash.
func safely(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("the file is malformed (%v)", p)
		}
	}()
	return fn()
}

// closeReader releases what a reader holds (a spreadsheet's temporary files), on every path.
func closeReader(r read.Reader) {
	if c, ok := r.(io.Closer); ok {
		c.Close()
	}
}

// readOptions are the reader's options for an import resumed at a checkpoint (0, 0: the start).
func (im *Importer) readOptions(o crm.Options, row int, offset int64) read.Options {
	return read.Options{
		CSV:              read.CSVOptions{MaxFieldBytes: im.Config.MaxFieldBytes, MaxRows: im.Config.MaxRows, StartRow: row, StartOffset: offset},
		Sheet:            o.Sheet,
		MaxUnzippedBytes: im.Config.MaxUnzippedBytes,
		MaxSheetXMLBytes: im.Config.MaxSheetXMLBytes,
	}
}

// record returns the import of a checked request as it is recorded, with the options it was
// checked with (a saved mapping's resolved into them): a change to the saved mapping later
// changes no queued or resumed import.
func (req Request) record(c *Checked) (store.Import, error) {
	opts, err := json.Marshal(c.plan.Options)
	if err != nil {
		return store.Import{}, err
	}
	name := req.displayName()
	path, err := filepath.Abs(req.Path)
	if err != nil {
		return store.Import{}, err
	}
	rec := store.Import{
		ID: req.ID, AccountID: c.Account.ID, Kind: c.plan.Kind.Name(), Source: req.Source, FileName: name, FilePath: path, FileSize: c.Size,
		FileSHA256: c.SHA256, Options: opts, RowsTotal: c.Rows, OverLimitWarning: c.OverLimitWarning, Header: c.Header,
		RequestID: req.group.id, RequestStep: req.group.step,
	}
	rec.Counts.StartCounters(c.plan.Kind.Counters())
	return rec, nil
}

// ShownError is the message of an import's error as its users may see it: the file at path is
// named as they know it (name), not by where the server keeps it.
func ShownError(err error, path, name string) string {
	return strings.ReplaceAll(err.Error(), path, name)
}

// displayName is the file's name as its user knows it.
func (req Request) displayName() string {
	if req.FileName != "" {
		return req.FileName
	}
	return filepath.Base(req.Path)
}

// Submit checks a request and queues it for the workers. What the kind prepares in the
// database for the import (a lookup index its matching options need) is left to the worker that
// runs it: building an index waits for every transaction open in the database to end, and a
// caller may hold one while it submits (a watched directory holds its file's claim), which
// would then wait for Submit for ever.
//
// A workbook request (kind workbook) queues one import per sheet: the import returned is its
// first sheet's, and Checked lists them all.
func (im *Importer) Submit(ctx context.Context, req Request) (store.Import, *Checked, error) {
	if req.Kind == WorkbookKind {
		return im.submitWorkbook(ctx, req)
	}
	c, err := im.Check(ctx, req)
	if err != nil {
		return store.Import{}, nil, err
	}
	rec, err := req.record(c)
	if err != nil {
		return store.Import{}, nil, err
	}
	created, err := store.CreateImport(ctx, im.Pool, rec, "", 0)
	if err != nil {
		return store.Import{}, nil, err
	}
	im.Log.Info("import queued", "import_id", created.ID, "kind", created.Kind, "account", c.Account.Name, "file", created.FileName, "rows", c.Rows)
	return created, c, nil
}

// RunNow checks a request and runs it to the end in the foreground, as owner. With dryRun
// every row's outcome is computed in one transaction that is rolled back: nothing is written,
// not even the import's record.
//
// Unless the max_rows setting is on, it does not count the file's rows before it starts (for a
// spreadsheet that costs a second read of the whole sheet): the total and the overage alert are
// computed from the rows it read.
//
// A workbook request (kind workbook) runs its sheets one after the other; its summary lists
// theirs (Summary.Sheets).
func (im *Importer) RunNow(ctx context.Context, req Request, owner string, dryRun bool) (Summary, error) {
	if req.Kind == WorkbookKind {
		return im.runWorkbook(ctx, req, owner, dryRun)
	}
	start := time.Now()
	c, err := im.open(ctx, req)
	if err != nil {
		return Summary{}, err
	}
	p := c.plan
	defer p.close()
	if im.Config.MaxRows > 0 {
		// The limit is checked before anything is written; the import then reads the file again.
		if err := im.count(c, req.displayName()); err != nil {
			return Summary{}, err
		}
		p.close()
	}
	rec, err := req.record(c)
	if err != nil {
		return Summary{}, err
	}
	if err := p.prepare(ctx, im.Pool); err != nil {
		return Summary{}, err
	}
	if dryRun {
		return im.dryRun(ctx, req, c, rec, owner, start)
	}
	created, err := store.CreateImport(ctx, im.Pool, rec, owner, time.Duration(im.Config.Lease))
	if err != nil {
		return Summary{}, err
	}
	sum, err := im.run(ctx, created, owner, p)
	if err == nil {
		sum.OverLimitWarning = p.Kind.OverLimit(c.Account, sum.Rows)
		err = store.SetRowTotals(context.WithoutCancel(ctx), im.Pool, created.ID, sum.Rows, sum.OverLimitWarning)
	}
	return sum, err
}

// dryRun runs a checked request in one transaction that is rolled back.
func (im *Importer) dryRun(ctx context.Context, req Request, c *Checked, rec store.Import, owner string, start time.Time) (Summary, error) {
	return im.rolledBack(ctx, func(tx pgx.Tx) (Summary, error) {
		return im.dryRunIn(ctx, tx, req, c, rec, owner, start)
	})
}

// rolledBack runs f in a transaction that is rolled back at the end: a dry run never commits.
func (im *Importer) rolledBack(ctx context.Context, f func(tx pgx.Tx) (Summary, error)) (Summary, error) {
	held, err := im.Pool.Acquire(ctx)
	if err != nil {
		return Summary{}, err
	}
	defer held.Release()
	tx, err := held.Begin(ctx)
	if err != nil {
		return Summary{}, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a dry run never commits
	return f(tx)
}

// dryRunIn runs a checked request in tx, which the caller rolls back.
func (im *Importer) dryRunIn(ctx context.Context, tx pgx.Tx, req Request, c *Checked, rec store.Import, owner string, start time.Time) (Summary, error) {
	lease := time.Duration(im.Config.Lease)
	created, err := store.CreateImport(ctx, tx, rec, owner, lease)
	if err != nil {
		return Summary{}, err
	}
	p := c.plan
	p.ImportID, p.DryRun = created.ID, true
	job := pipeline.NewJob(created, owner, lease, true, p.Kind.Counters())
	report := im.progress(nil, job)
	job.OnBatch = func(b *pipeline.Batch) {
		if req.OnBatch != nil {
			req.OnBatch(p.Kind.Name(), b)
		}
		if report != nil {
			report(b)
		}
	}
	if err := im.runPipeline(ctx, tx, job, p, req.MaxRows); err != nil {
		return Summary{}, err
	}
	return Summary{Kind: p.Kind.Name(), Status: store.StatusCompleted, Counts: job.Counts, OverLimitWarning: p.Kind.OverLimit(c.Account, job.Counts.Rows),
		Unmapped: c.Unmapped, DurationMS: time.Since(start).Milliseconds(), DryRun: true}, nil
}

// Run runs an import (or an undo, whose summary counts what it took back) leased to owner from
// its checkpoint to its end and records how it ended:
// completed, or failed with the reason. When ctx is cancelled (the daemon is stopping) the
// batch in flight is rolled back and the import goes back to the queue, to resume from its
// checkpoint — unless it was cancelled meanwhile: then it ends, cancelled. Run returns the
// error that failed the import, if any. Its summary lists the file's unmapped columns, as
// RunNow's does.
func (im *Importer) Run(ctx context.Context, imp store.Import, owner string) (Summary, error) {
	if imp.UndoOf != 0 {
		return im.runUndo(ctx, imp, owner)
	}
	p, err := im.planOf(ctx, imp)
	if err != nil { // the import cannot run as it was checked: it fails with the reason
		return im.end(ctx, im.log(imp), pipeline.NewJob(imp, owner, time.Duration(im.Config.Lease), false, nil), err, time.Now())
	}
	return im.run(ctx, imp, owner, p)
}

// Readable returns an error when this process cannot read an import's file as it was checked,
// for instance on another machine than the file's: running the import here would fail it.
func (im *Importer) Readable(imp store.Import) error {
	if imp.UndoOf != 0 { // an undo reads no file
		return nil
	}
	f, err := openAsChecked(imp)
	if err != nil {
		var pathErr *fs.PathError
		if errors.As(err, &pathErr) { // what is wrong, without the path
			err = pathErr.Err
		}
		return fmt.Errorf("the file of import %d (%s) cannot be read here: %w; run this where the file is, or leave the import to a daemon that can read it",
			imp.ID, imp.FileName, err)
	}
	return f.Close()
}

// log is the logger of an import's messages.
func (im *Importer) log(imp store.Import) *slog.Logger {
	return im.Log.With("import_id", imp.ID, "kind", imp.Kind, "file", imp.FileName)
}

// run runs an import leased to owner by its plan (see Run).
func (im *Importer) run(ctx context.Context, imp store.Import, owner string, p *plan) (Summary, error) {
	start := time.Now()
	log := im.log(imp)
	if imp.CheckpointRow > 0 {
		log.Info("import resumed", "from_row", imp.CheckpointRow, "rows_done", imp.Counts.Rows)
	} else {
		log.Info("import started", "rows", imp.RowsTotal)
	}
	p.ImportID = imp.ID
	job := pipeline.NewJob(imp, owner, time.Duration(im.Config.Lease), false, p.Kind.Counters())
	job.OnBatch, job.OnCommit = im.progress(log, job), im.Committed
	sum, err := im.end(ctx, log, job, im.prepareAndRun(ctx, job, p), start)
	sum.Unmapped = p.mapper.Unmapped()
	return sum, err
}

// end records how the run of a job that began at start ended, err being its error, and returns
// the import's summary (see Run).
func (im *Importer) end(ctx context.Context, log *slog.Logger, job *pipeline.Job, err error, start time.Time) (Summary, error) {
	if im.Committed != nil {
		defer im.Committed() // the run's end is its last event
	}
	imp, owner := job.Import, job.Owner
	sum := Summary{ImportID: imp.ID, Kind: imp.Kind, Counts: job.Counts, OverLimitWarning: imp.OverLimitWarning, DurationMS: time.Since(start).Milliseconds()}
	final := context.WithoutCancel(ctx)
	switch {
	case err == nil:
		sum.Status = store.StatusCompleted
		if err := store.FinishImport(final, im.Pool, imp.ID, owner, store.StatusCompleted, ""); err != nil {
			return sum, err
		}
		log.Info("import completed", "rows", job.Counts.Rows, "created", job.Counts.Created, "updated", job.Counts.Updated,
			"unchanged", job.Counts.Unchanged, "skipped", job.Counts.Skipped, "duration_ms", sum.DurationMS)
		return sum, nil
	case errors.Is(err, store.ErrCancelled):
		sum.Status = store.StatusCancelled
		if err := store.FinishImport(final, im.Pool, imp.ID, owner, store.StatusCancelled, ""); err != nil {
			return sum, err
		}
		logCancelled(log, job)
		return sum, nil
	case errors.Is(err, store.ErrLeaseLost):
		log.Warn("import taken over by another worker", "error", err)
		sum.Status = store.StatusRunning
		return sum, err
	case ctx.Err() != nil || errors.Is(err, isolate.ErrNotStarted) || store.RunAgain(err):
		// The process is stopping, a spreadsheet parser could not start (the machine's
		// trouble, not the file's), or Postgres broke a deadlock (store.RunAgain): the import
		// goes back to the queue, or ends if it was cancelled meanwhile. It is given
		// poll_interval first: released at once, the import was claimed again at once, by this
		// worker or by any other its return to the queue woke, without end.
		if ctx.Err() == nil {
			select {
			case <-ctx.Done():
			case <-time.After(time.Duration(im.Config.PollInterval)):
			}
		}
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		status, rerr := store.ReleaseImport(final, im.Pool, imp.ID, owner)
		sum.Status = status
		switch {
		case rerr != nil:
			return sum, errors.Join(err, rerr)
		case status == store.StatusCancelled:
			logCancelled(log, job)
			return sum, nil
		case ctx.Err() != nil:
			log.Info("import paused; it resumes from its checkpoint", "checkpoint_rows", job.Counts.Rows)
		case store.RunAgain(err):
			log.Warn("import paused: Postgres ended its batch to break a deadlock; the import goes back to the queue", "error", err)
		default:
			log.Warn("import paused: the spreadsheet parser could not start; the import goes back to the queue", "error", err)
		}
		return sum, err
	default:
		sum.Status, sum.Error = store.StatusFailed, ShownError(err, imp.FilePath, imp.FileName)
		if ferr := store.FinishImport(final, im.Pool, imp.ID, owner, store.StatusFailed, sum.Error); ferr != nil {
			return sum, errors.Join(err, ferr)
		}
		log.Error("import failed", "error", err)
		return sum, err
	}
}

// logCancelled logs that the import ended cancelled.
func logCancelled(log *slog.Logger, job *pipeline.Job) {
	log.Info("import cancelled; the batches committed before stay", "rows_done", job.Counts.Rows)
}

// progressInterval is how often a running import logs its progress.
const progressInterval = 5 * time.Second

// progress returns the batch hook that reports how the job's run goes: to im.Progress when it is
// set (told at once, before the first batch), else in log lines (none for a dry run: nil).
func (im *Importer) progress(log *slog.Logger, job *pipeline.Job) func(*pipeline.Batch) {
	imp := job.Import
	switch {
	case im.Progress == nil && job.DryRun:
		return nil
	case im.Progress == nil:
		return progressLogger(log, imp.RowsTotal, job)
	}
	report := func(offset int64) {
		done, total := job.Counts.Rows, imp.RowsTotal
		if total == 0 && imp.UndoOf == 0 && offset > 0 && imp.FileSize > 0 { // a CSV file's bytes read
			total = max(done, int(int64(done)*imp.FileSize/offset))
		}
		im.Progress(Progress{ImportID: imp.ID, Kind: imp.Kind, Undo: imp.UndoOf != 0, DryRun: job.DryRun, Done: done, Total: total})
	}
	report(imp.CheckpointOffset)
	return func(b *pipeline.Batch) { report(b.Offset) }
}

// progressLogger returns a batch hook that logs rows done of total at most every
// progressInterval.
func progressLogger(log *slog.Logger, total int, job *pipeline.Job) func(*pipeline.Batch) {
	start, last := time.Now(), time.Now()
	done0 := job.Counts.Rows
	return func(*pipeline.Batch) {
		if time.Since(last) < progressInterval {
			return
		}
		last = time.Now()
		rate := float64(job.Counts.Rows-done0) / time.Since(start).Seconds()
		log.Info("import progress", "rows_done", job.Counts.Rows, "rows_total", total, "rows_per_sec", int(rate))
	}
}

// prepareAndRun prepares what the import's kind needs in the database and runs the import on a
// connection of its own.
func (im *Importer) prepareAndRun(ctx context.Context, job *pipeline.Job, p *plan) error {
	if err := p.prepare(ctx, im.Pool); err != nil {
		return err
	}
	return im.onConnection(ctx, func(c conn) error { return im.runPipeline(ctx, c, job, p, 0) })
}

// spareConnWait is how long an import waits for a second connection.
const spareConnWait = 100 * time.Millisecond

// spareConn acquires a second connection for an import to read ahead and write ahead on
// (pipeline.PrepareStage), or returns nil when taking it would leave less than half the pool free: the import then runs
// on one connection. The spares of imports so never starve the workers that claim imports later,
// the API or the relays of the connection each needs. It waits at most spareConnWait.
func (im *Importer) spareConn(ctx context.Context) *pgxpool.Conn {
	if st := im.Pool.Stat(); st.AcquiredConns()+1 > st.MaxConns()/2 {
		return nil // half the pool stays for the imports that hold one and everything else
	}
	ctx, cancel := context.WithTimeout(ctx, spareConnWait)
	defer cancel()
	c, err := im.Pool.Acquire(ctx)
	if err != nil {
		return nil
	}
	return c
}

// onConnection runs f on a connection of its own, as an import's batches run.
func (im *Importer) onConnection(ctx context.Context, f func(conn) error) error {
	c, err := im.Pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer c.Release()
	return f(c.Conn())
}

// writeStageName is the metrics name of the stage that writes batches, for every kind, as the
// dashboards and alerts know it.
const writeStageName = "upsert"

// runPipeline reads the import's file from its checkpoint (or from where the plan's open file
// stands) and runs every batch through the stages, on db, and on a spare connection too when
// the kind reads ahead and the pool has one to spare; with maxRows > 0, only that many data rows.
func (im *Importer) runPipeline(ctx context.Context, db conn, job *pipeline.Job, p *plan, maxRows int) error {
	in, err := im.reader(p, job.Import)
	if err != nil {
		return err
	}
	defer in.close()
	src := in.r.Source(im.Config.BatchSize)
	if maxRows > 0 {
		src = &limitSource{src: src, left: maxRows}
	}
	stages := []pipeline.Named{{Name: "map", Stage: p.mapper}, {Name: "validate", Stage: p.validator}}
	w := p.Kind.Writer(&p.Plan)
	write := pipeline.Named{Name: writeStageName, Stage: job.WriteStage(db, w)}
	_, reads := w.(pipeline.Preparer)
	if onConn, ok := db.(store.TxBeginner); ok && reads && !job.DryRun {
		if c := im.spareConn(ctx); c != nil {
			defer c.Release()
			// The read-ahead runs at most two batches before the write (pipeline.Preparer), so
			// Depth 1 caps queue_depth for both: at most one batch waits for each, since more
			// would only be memory. Batches take turns on db and the spare
			// (pipeline.PrepareStage).
			prepare := job.PrepareStage(onConn, c.Conn(), w)
			stages = append(stages, pipeline.Named{Name: prepareStageName, Stage: prepare, Depth: 1})
			write.Depth = 1
		}
	}
	stages = append(stages, write)
	return pipeline.Run(ctx, src, im.Config.QueueDepth, stages...)
}

// prepareStageName is the metrics name of the stage that reads ahead what a batch will match.
const prepareStageName = "prepare"

// conn is the one connection (or, for a dry run, transaction) an import runs on.
type conn interface {
	store.Querier
	pipeline.Beginner
}

// reader returns the plan's open file, which the caller then owns, or else opens the import's
// file at its checkpoint.
func (im *Importer) reader(p *plan, imp store.Import) (*openFile, error) {
	if in := p.in; in != nil && in.f != nil {
		p.in = nil
		return in, nil
	}
	f, err := openAsChecked(imp)
	if err != nil {
		return nil, err
	}
	return im.openReader(f, imp.FileName, im.readOptions(p.Options, imp.CheckpointRow, imp.CheckpointOffset))
}

// openAsChecked opens an import's file, which must be as it was when it was checked.
func openAsChecked(imp store.Import) (*os.File, error) {
	f, err := os.Open(imp.FilePath)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadFile, err)
	}
	// A checkpoint is an offset into the file as it was checked: a file changed since then
	// cannot be resumed, nor imported as checked.
	if st, err := f.Stat(); err != nil || st.Size() != imp.FileSize {
		f.Close()
		return nil, fmt.Errorf("%w %s: the file changed after the import was queued (%d bytes then)", ErrBadFile, imp.FileName, imp.FileSize)
	}
	return f, nil
}

// openReader opens the reader of the file f, named name; on an error it closes f. A child
// process that could not be started is no fault of the file.
func (im *Importer) openReader(f *os.File, name string, opts read.Options) (*openFile, error) {
	var r read.Reader
	err := safely(func() (err error) {
		if im.Sheets != nil {
			r, err = im.Sheets.Open(f, opts)
		} else {
			r, err = read.Open(f, opts)
		}
		return err
	})
	if err != nil {
		f.Close()
		if errors.Is(err, isolate.ErrNotStarted) {
			return nil, err
		}
		return nil, fmt.Errorf("%w %s: %w", ErrBadFile, name, err)
	}
	return &openFile{f: f, r: r}, nil
}

// limitSource ends a source after a number of data rows.
type limitSource struct {
	src  pipeline.Source
	left int
}

func (l *limitSource) Next(ctx context.Context) (*pipeline.Batch, error) {
	if l.left <= 0 {
		return nil, io.EOF
	}
	b, err := l.src.Next(ctx)
	if err != nil {
		return nil, err
	}
	if len(b.Rows) > l.left {
		b.Rows = b.Rows[:l.left]
	}
	l.left -= len(b.Rows)
	return b, nil
}
