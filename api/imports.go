package api

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/leadpipe/leadpipe/filestore"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
)

// ImportView is an import as the API and the CLI show it.
type ImportView struct {
	ID       int64  `json:"id"`
	Kind     string `json:"kind"`
	Source   string `json:"source"`
	FileName string `json:"file_name"`
	FileSize int64  `json:"file_size"`
	SHA256   string `json:"file_sha256"`
	Status   string `json:"status"`
	// State is Status, except "interrupted" for an import that has not ended and whose holder
	// died (its lease lapsed): it resumes when a daemon's worker or `leadpipe imports resume`
	// claims it.
	State    string        `json:"state"`
	Holder   *ImportHolder `json:"holder,omitempty"`
	Error    string        `json:"error,omitempty"`
	Progress Progress      `json:"progress"`
	store.Counts
	OverLimitWarning bool            `json:"over_limit_warning"`
	Options          json.RawMessage `json:"options"`
	CreatedAt        time.Time       `json:"created_at"`
	StartedAt        *time.Time      `json:"started_at,omitempty"`
	FinishedAt       *time.Time      `json:"finished_at,omitempty"`
	FilePrunedAt     *time.Time      `json:"file_pruned_at,omitempty"`
	// RequestID groups the imports of a workbook's sheets: the id of its first sheet's import.
	RequestID int64 `json:"request_id,omitempty"`
	// UndoOf is, on an undo, the import it takes back (docs/undo.md).
	UndoOf int64 `json:"undo_of,omitempty"`
	// UndoneBy and UndoneAt are, on an undone import, its undo and when that completed.
	UndoneBy int64      `json:"undone_by,omitempty"`
	UndoneAt *time.Time `json:"undone_at,omitempty"`
	// Undo is, on an import that has been undone or is being undone (or whose undo failed or
	// was cancelled), its latest undo.
	Undo *UndoView `json:"undo,omitempty"`
}

// Progress is how far an import (or an undo) is: rows done of its total, and how fast.
type Progress struct {
	RowsDone  int `json:"rows_done"`
	RowsTotal int `json:"rows_total"`
	// RowsPerSecond is the rows done over the seconds since the import started, until now or
	// until it ended, to a tenth; 0 before any row. A resumed import counts from its first
	// start, its rows done before and its pauses included.
	RowsPerSecond float64 `json:"rows_per_second"`
	// SecondsLeft is the whole seconds a running import needs at that rate for the rows it has
	// left; nil when unknown (not running, no row done yet, no total) and once it has ended.
	SecondsLeft *int64 `json:"seconds_left,omitempty"`
}

// UndoView is an import's latest undo as the import's view shows it: its own id (GET
// /v1/imports/{id} shows it whole), status, who started it, when, and its counts.
type UndoView struct {
	ID       int64    `json:"id"`
	Status   string   `json:"status"`
	Source   string   `json:"source"`
	Error    string   `json:"error,omitempty"`
	Progress Progress `json:"progress"`
	store.Counts
	CreatedAt  time.Time  `json:"created_at"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

// MarshalJSON encodes the view with its counts' members at the top level.
func (v UndoView) MarshalJSON() ([]byte, error) { return store.MarshalWithCounts(v) }

// UnmarshalJSON decodes what MarshalJSON encodes.
func (v *UndoView) UnmarshalJSON(data []byte) error { return store.UnmarshalWithCounts(data, v) }

// MarshalJSON encodes the view with its counts' members at the top level.
func (v ImportView) MarshalJSON() ([]byte, error) { return store.MarshalWithCounts(v) }

// UnmarshalJSON decodes what MarshalJSON encodes.
func (v *ImportView) UnmarshalJSON(data []byte) error { return store.UnmarshalWithCounts(data, v) }

// StateInterrupted is an import's state when its holder died before it ended.
const StateInterrupted = "interrupted"

// ImportHolder is the process that holds an import's lease, and whether it is alive.
type ImportHolder struct {
	// Owner is the lease's owner as recorded; kind, host, pid and worker are read from it.
	Owner string `json:"owner"`
	store.Holder
	LeaseExpiresAt time.Time `json:"lease_expires_at"`
	// Alive is false once the lease has lapsed: the holder stopped renewing it.
	Alive bool `json:"alive"`
}

// NewImportView returns the view of an import, its file name made safe to show whatever its
// source (a watched directory's or the command line's names are the files' own).
func NewImportView(im store.Import) ImportView {
	v := ImportView{ID: im.ID, Kind: im.Kind, Source: im.Source, FileName: filestore.SafeFileName(im.FileName), FileSize: im.FileSize,
		SHA256: im.FileSHA256, Status: im.Status, State: im.Status, Error: im.Error, Counts: im.Counts,
		OverLimitWarning: im.OverLimitWarning, Options: im.Options, CreatedAt: im.CreatedAt, StartedAt: im.StartedAt,
		FinishedAt: im.FinishedAt, FilePrunedAt: im.FilePrunedAt, RequestID: im.RequestID,
		UndoOf: im.UndoOf, UndoneBy: im.UndoneBy, UndoneAt: im.UndoneAt, Progress: progressOf(im)}
	if im.Interrupted() {
		v.State = StateInterrupted
	}
	if im.LeaseOwner != "" && im.LeaseExpiresAt != nil {
		h, _ := store.ParseHolder(im.LeaseOwner) // an owner of another form is shown as it is
		v.Holder = &ImportHolder{Owner: im.LeaseOwner, Holder: h, LeaseExpiresAt: *im.LeaseExpiresAt, Alive: !im.LeaseLapsed}
	}
	return v
}

// progressOf is how far an import is now.
func progressOf(im store.Import) Progress { return ProgressOf(im, time.Now()) }

// ProgressOf is how far an import is at the time now.
func ProgressOf(im store.Import, now time.Time) Progress {
	p := Progress{RowsDone: im.Counts.Rows, RowsTotal: im.RowsTotal}
	if im.StartedAt == nil || p.RowsDone == 0 {
		return p
	}
	end := now
	if im.FinishedAt != nil {
		end = *im.FinishedAt
	}
	elapsed := end.Sub(*im.StartedAt).Seconds()
	if elapsed <= 0 {
		return p
	}
	rate := float64(p.RowsDone) / elapsed
	p.RowsPerSecond = math.Round(rate*10) / 10
	if im.Status == store.StatusRunning && im.FinishedAt == nil && p.RowsTotal > 0 {
		left := int64(math.Round(float64(max(p.RowsTotal-p.RowsDone, 0)) / rate))
		p.SecondsLeft = &left
	}
	return p
}

// importViews returns the views of imports of an account, each with its latest undo; q reads
// in one snapshot with what listed the imports (store.InSnapshot).
func importViews(ctx context.Context, q store.Querier, accountID int64, list ...store.Import) ([]ImportView, error) {
	ids := make([]int64, len(list))
	for i, im := range list {
		ids[i] = im.ID
	}
	undos, err := store.LatestUndos(ctx, q, accountID, ids)
	if err != nil {
		return nil, err
	}
	out := make([]ImportView, len(list))
	for i, im := range list {
		out[i] = NewImportView(im)
		if u, ok := undos[im.ID]; ok {
			out[i].Undo = &UndoView{ID: u.ID, Status: u.Status, Source: u.Source, Error: u.Error, Progress: progressOf(u),
				Counts: u.Counts, CreatedAt: u.CreatedAt, StartedAt: u.StartedAt, FinishedAt: u.FinishedAt}
		}
	}
	return out, nil
}

// ShowImport returns the view of an import of an account, with its latest undo, as GET
// /v1/imports/{id} answers it: both read in one snapshot (store.InSnapshot), so that the view
// never shows an undo completed beside an import not yet undone.
func ShowImport(ctx context.Context, db store.TxBeginner, accountID, id int64) (ImportView, error) {
	var v ImportView
	err := store.InSnapshot(ctx, db, func(q store.Querier) error {
		im, err := store.GetImport(ctx, q, accountID, id)
		if err != nil {
			return err
		}
		views, err := importViews(ctx, q, accountID, im)
		if err != nil {
			return err
		}
		v = views[0]
		return nil
	})
	return v, err
}

// ImportList is a page of the import history, newest first.
type ImportList struct {
	Imports []ImportView `json:"imports"`
	// NextCursor fetches the next page; empty on the last one.
	NextCursor string `json:"next_cursor,omitempty"`
}

// History returns a page of an account's imports, each with its latest undo, read in one
// snapshot as ShowImport reads one import.
func History(ctx context.Context, db store.TxBeginner, acct store.Account, f store.ImportFilter) (ImportList, error) {
	var out ImportList
	err := store.InSnapshot(ctx, db, func(q store.Querier) error {
		if f.Kind != "" {
			if _, err := importer.KindOf(ctx, q, acct.ID, f.Kind); err != nil {
				return err
			}
		}
		list, err := store.ListImports(ctx, q, acct.ID, f)
		if err != nil {
			return err
		}
		views, err := importViews(ctx, q, acct.ID, list...)
		if err != nil {
			return err
		}
		out = ImportList{Imports: views}
		if len(list) == f.Limit && f.Limit > 0 {
			out.NextCursor = strconv.FormatInt(list[len(list)-1].ID, 10)
		}
		return nil
	})
	return out, err
}

func (s *Server) createPreview(w http.ResponseWriter, r *http.Request, acct store.Account) error {
	up, err := s.Files.Receive(w, r)
	if err != nil {
		return err
	}
	defer up.Discard()
	p, err := s.Importer.Preview(r.Context(), importer.Request{Account: acct.Name, Kind: up.Kind, Path: up.Path, FileName: up.Name,
		Options: up.Options, Source: store.SourceUpload})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) createImport(w http.ResponseWriter, r *http.Request, acct store.Account) error {
	dryRun, err := boolParam(r, "dry_run")
	if err != nil {
		return err
	}
	onlySkipped, err := rowsParam(r, dryRun)
	if err != nil {
		return err
	}
	up, err := s.Files.Receive(w, r)
	if err != nil {
		return err
	}
	defer up.Discard()
	req := importer.Request{Account: acct.Name, Kind: up.Kind, Path: up.Path, FileName: up.Name, Options: up.Options, Source: store.SourceUpload}
	if dryRun {
		return s.dryRun(w, r, req, onlySkipped)
	}
	if req.ID, err = store.NextImportID(r.Context(), s.Pool); err != nil {
		return err
	}
	if req.Path, err = s.Files.Keep(up, acct.ID, req.ID); err != nil {
		return err
	}
	imp, checked, err := s.Importer.Submit(r.Context(), req)
	if err != nil {
		return err
	}
	up.Path = "" // kept: the import owns it now
	if checked.Sheets != nil {
		w.Header().Set("Location", fmt.Sprintf("/v1/imports?request_id=%d", imp.RequestID))
	} else {
		w.Header().Set("Location", fmt.Sprintf("/v1/imports/%d", imp.ID))
	}
	writeJSON(w, http.StatusAccepted, QueuedView(imp, checked))
	return nil
}

// QueuedView is what a request queued, as the API answers and `leadpipe import --queue`
// prints it: its import, or for a workbook its request and each sheet's import.
func QueuedView(imp store.Import, checked *importer.Checked) map[string]any {
	v := map[string]any{"status": imp.Status, "rows_total": checked.Rows, "over_limit_warning": checked.OverLimitWarning}
	if checked.Sheets != nil {
		v["request_id"], v["kind"], v["sheets"] = imp.RequestID, importer.WorkbookKind, checked.Sheets
		return v
	}
	v["import_id"], v["kind"], v["unmapped_columns"] = imp.ID, imp.Kind, checked.Unmapped
	return v
}

// Values of POST /v1/imports' rows parameter: the rows whose results a dry run streams.
const (
	rowsAll     = "all"
	rowsSkipped = "skipped"
)

// rowsParam reads POST /v1/imports' rows parameter: whether a dry run streams the skipped rows'
// results only. It applies to dry runs only.
func rowsParam(r *http.Request, dryRun bool) (onlySkipped bool, err error) {
	switch v := r.URL.Query().Get("rows"); {
	case v != "" && v != rowsAll && v != rowsSkipped:
		return false, badRequest("invalid query parameters", []string{fmt.Sprintf("rows: %q is not %s or %s", v, rowsAll, rowsSkipped)})
	case v == rowsSkipped && !dryRun:
		return false, badRequest("invalid query parameters", []string{"rows: applies to a dry run only: add dry_run=true, or leave rows out"})
	default:
		return v == rowsSkipped, nil
	}
}

// dryRun streams every row's outcome (with onlySkipped, the skipped rows' only) as it is
// computed, then the summary of them all: {"rows": [...], "summary": {...}}. An error after the
// first row ends the body with "error".
func (s *Server) dryRun(w http.ResponseWriter, r *http.Request, req importer.Request, onlySkipped bool) error {
	enc := json.NewEncoder(w)
	started := false
	begin := func() {
		if !started {
			started = true
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			fmt.Fprint(w, `{"rows":[`)
		}
	}
	first := true
	var results importer.DryRunResults
	req.OnBatch = func(kind string, b *pipeline.Batch) {
		begin()
		for i := range b.Rows {
			res := results.Result(kind, &b.Rows[i]) // of every row, in file order: it tracks what the dry run created
			if onlySkipped && !b.Rows[i].Skipped() {
				continue
			}
			if !first {
				fmt.Fprint(w, ",")
			}
			first = false
			enc.Encode(res) //nolint:errchkjson // a broken connection ends the run through its context
		}
	}
	sum, err := s.Importer.RunNow(r.Context(), req, "api-dry-run", true)
	if err != nil && !started {
		return err
	}
	begin()
	if err != nil {
		s.Log.Error("dry run failed after it started answering", "error", err)
		fmt.Fprint(w, `],"error":`)
		return enc.Encode(importer.ShownError(err, req.Path, req.FileName))
	}
	fmt.Fprint(w, `],"summary":`)
	if err := enc.Encode(sum); err != nil {
		return err
	}
	_, err = fmt.Fprint(w, "}")
	return err
}

func (s *Server) listImports(w http.ResponseWriter, r *http.Request, acct store.Account) error {
	f, err := importFilter(r)
	if err != nil {
		return err
	}
	list, err := History(r.Context(), s.Pool, acct, f)
	if err != nil {
		return kindParam(err)
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

func (s *Server) getImport(w http.ResponseWriter, r *http.Request, acct store.Account) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	v, err := ShowImport(r.Context(), s.Pool, acct.ID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) getImportFile(w http.ResponseWriter, r *http.Request, acct store.Account) error {
	imp, err := s.importOf(r, acct)
	if err != nil {
		return err
	}
	f, err := filestore.OpenOriginal(imp)
	if err != nil {
		return originalError(err)
	}
	defer f.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": filestore.SafeFileName(imp.FileName)}))
	http.ServeContent(w, r, "", imp.CreatedAt, f)
	return nil
}

func (s *Server) getSkipped(w http.ResponseWriter, r *http.Request, acct store.Account) error {
	imp, err := s.importOf(r, acct)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment",
		map[string]string{"filename": fmt.Sprintf("import-%d-skipped.csv", imp.ID)}))
	return importer.WriteSkippedCSV(r.Context(), s.Pool, imp, w)
}

// getRecords answers a page of the records an import created or touched, of its kind;
// ?created=true keeps those it created.
func (s *Server) getRecords(w http.ResponseWriter, r *http.Request, acct store.Account) error {
	imp, err := s.importOf(r, acct)
	if err != nil {
		return err
	}
	createdOnly, err := boolParam(r, "created")
	if err != nil {
		return err
	}
	p := &params{r: r}
	after, limit := p.int("cursor", 0, 0, 0), p.int("limit", DefaultLimit, 1, MaxLimit)
	if err := p.err(); err != nil {
		return err
	}
	page, err := s.Importer.Records(r.Context(), acct, imp, after, createdOnly, int(limit))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (s *Server) cancelImport(w http.ResponseWriter, r *http.Request, acct store.Account) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	imp, err := store.CancelImport(r.Context(), s.Pool, acct.ID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, NewImportView(imp))
	return nil
}

// undoImport queues an undo of the import (202, with the undo's view), or with dry_run=true
// answers what the undo would do (200, importer.UndoSummary) and changes nothing.
func (s *Server) undoImport(w http.ResponseWriter, r *http.Request, acct store.Account) error {
	dryRun, err := boolParam(r, "dry_run")
	if err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	req := importer.UndoRequest{Account: acct.Name, ImportID: id, Source: store.SourceUpload}
	if dryRun {
		sum, err := s.Importer.UndoNow(r.Context(), req, "api-dry-run", true)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, sum)
		return nil
	}
	undo, err := s.Importer.SubmitUndo(r.Context(), req)
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/v1/imports/%d", undo.ID))
	writeJSON(w, http.StatusAccepted, NewImportView(undo))
	return nil
}

// importOf returns the account's import named in the path.
func (s *Server) importOf(r *http.Request, acct store.Account) (store.Import, error) {
	id, err := pathID(r)
	if err != nil {
		return store.Import{}, err
	}
	return store.GetImport(r.Context(), s.Pool, acct.ID, id)
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, store.ErrNotFound
	}
	return id, nil
}
