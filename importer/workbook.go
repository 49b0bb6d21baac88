package importer

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/store"
)

// WorkbookKind is the kind of a request whose file is a workbook of several kinds: each of its
// sheets is named for a kind and imported by an import of its own, all grouped under the
// request (store.Import.RequestID) and run in dependency order (workbookStep).
const WorkbookKind = "workbook"

// workbookStep is the step of a kind's sheet in a workbook: organizations first, then
// prospects (which link to organizations), then deals and custom objects (which link to both).
// A sheet runs only once the sheets of lower steps have ended; sheets of one step may run
// together.
func workbookStep(kind string) int {
	switch kind {
	case "organizations":
		return 1
	case "prospects":
		return 2
	}
	return 3
}

// sheetRequest is one sheet of a workbook request, by its name, and the request of its kind
// that imports it.
type sheetRequest struct {
	name string
	req  Request
}

// requestGroup places an import in a request of several (a workbook's sheets).
type requestGroup struct {
	id   int64
	step int
}

// SheetImport is one sheet of a workbook request as Submit queued it.
type SheetImport struct {
	Sheet            string   `json:"sheet"`
	Kind             string   `json:"kind"`
	ImportID         int64    `json:"import_id"`
	Status           string   `json:"status"`
	RowsTotal        int      `json:"rows_total"`
	OverLimitWarning bool     `json:"over_limit_warning"`
	Unmapped         []string `json:"unmapped_columns"`
}

// sheetNames maps each name a workbook's sheet may have in an account (case aside) to the kind
// it is named for: a built-in kind's name ("prospects") or noun ("prospect"), or the label or
// key of one of the account's object types.
func (im *Importer) sheetNames(ctx context.Context, accountID int64) (map[string]string, error) {
	names := map[string]string{}
	for _, name := range kinds.Names() {
		k, _ := kinds.Get(name)
		names[strings.ToLower(name)] = name
		names[strings.ToLower(k.Noun())] = name
	}
	types, err := store.ObjectTypes(ctx, im.Pool, accountID)
	if err != nil {
		return nil, err
	}
	for _, t := range types { // a built-in kind's name or noun stays the built-in kind's
		for _, n := range []string{strings.ToLower(strings.TrimSpace(t.Label)), t.Key} {
			if _, taken := names[n]; !taken {
				names[n] = t.Key
			}
		}
	}
	return names, nil
}

// sheetRequests splits a workbook request into one request per sheet, in the order they run:
// by step, then in the workbook's order. It refuses a file that is no workbook, a workbook
// with a sheet named for no kind or with two sheets of one kind, and options that choose a
// sheet or give options to kinds that are none.
func (im *Importer) sheetRequests(ctx context.Context, req Request) ([]sheetRequest, error) {
	name := req.displayName()
	if req.Options.Sheet != "" {
		return nil, fmt.Errorf("%w: sheet: a workbook imports each of its sheets named for a kind; leave sheet out", crm.ErrInvalidOptions)
	}
	if req.Options.SavedMapping != "" {
		return nil, fmt.Errorf("%w: saved_mapping: a saved mapping is of one kind; name it in the options of its kind's sheet (kinds.<kind>.saved_mapping)", crm.ErrInvalidOptions)
	}
	acct, err := store.AccountByName(ctx, im.Pool, req.Account)
	if err != nil {
		return nil, err
	}
	byName, err := im.sheetNames(ctx, acct.ID)
	if err != nil {
		return nil, err
	}
	for k := range req.Options.Kinds {
		if _, err := kinds.Lookup(ctx, im.Pool, acct.ID, k); err != nil || k == "" {
			return nil, fmt.Errorf("%w: kinds: unknown kind %q (want %s, or an object type's key)", crm.ErrInvalidOptions, k, strings.Join(kinds.Names(), ", "))
		}
	}
	f, err := openPath(req.Path, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sheets, err := im.listSheets(f, name, im.readOptions(req.Options, 0, 0))
	if err != nil {
		return nil, err
	}
	var list []sheetRequest
	var unmatched []string
	ofKind := map[string]string{}
	for _, s := range sheets {
		sheet := s.Name // hidden sheets too: the user named each sheet for its kind
		k, ok := byName[strings.ToLower(strings.TrimSpace(sheet))]
		if !ok {
			unmatched = append(unmatched, fmt.Sprintf("%q", sheet))
			continue
		}
		if other, dup := ofKind[k]; dup {
			return nil, fmt.Errorf("%w %s: the sheets %q and %q are both %s; keep one", ErrBadFile, name, other, sheet, k)
		}
		ofKind[k] = sheet
		o, err := req.Options.ForKind(k)
		if err != nil {
			return nil, err
		}
		o.Sheet = sheet
		r := req
		r.Kind, r.Options, r.ID = k, o, 0
		list = append(list, sheetRequest{name: sheet, req: r})
	}
	if len(unmatched) > 0 { // a workbook has a sheet at least (read.Sheets)
		return nil, fmt.Errorf("%w %s: sheets named for no kind: %s; name each sheet for the kind of record it holds (%s, case aside) and remove the others",
			ErrBadFile, name, strings.Join(unmatched, ", "), strings.Join(slices.Sorted(maps.Keys(byName)), ", "))
	}
	slices.SortStableFunc(list, func(a, b sheetRequest) int { return workbookStep(a.req.Kind) - workbookStep(b.req.Kind) })
	list[0].req.ID = req.ID
	return list, nil
}

// sheetError names the sheet an error of a workbook request is about.
func sheetError(sheet string, err error) error {
	return fmt.Errorf("sheet %q: %w", sheet, err)
}

// submitWorkbook checks every sheet of a workbook request, then queues one import per sheet,
// all in one transaction: the workers run them in steps (store.ClaimImport). The import
// returned is the first sheet's, whose id is the request's; Checked sums the sheets' rows and
// lists them (Checked.Sheets).
func (im *Importer) submitWorkbook(ctx context.Context, req Request) (store.Import, *Checked, error) {
	sheets, err := im.sheetRequests(ctx, req)
	if err != nil {
		return store.Import{}, nil, err
	}
	checks := make([]*Checked, len(sheets))
	for i, s := range sheets {
		c, err := im.Check(ctx, s.req) // the worker prepares each sheet's import (see Submit)
		if err != nil {
			return store.Import{}, nil, sheetError(s.name, err)
		}
		checks[i] = c
	}
	if sheets[0].req.ID == 0 {
		if sheets[0].req.ID, err = store.NextImportID(ctx, im.Pool); err != nil {
			return store.Import{}, nil, err
		}
	}
	group := sheets[0].req.ID
	var created []store.Import
	err = pgx.BeginFunc(ctx, im.Pool, func(tx pgx.Tx) error {
		for i, s := range sheets {
			s.req.group = requestGroup{id: group, step: workbookStep(s.req.Kind)}
			rec, err := s.req.record(checks[i])
			if err != nil {
				return err
			}
			imp, err := store.CreateImport(ctx, tx, rec, "", 0)
			if err != nil {
				return err
			}
			created = append(created, imp)
		}
		return nil
	})
	if err != nil {
		return store.Import{}, nil, err
	}
	all := &Checked{Account: checks[0].Account, Size: checks[0].Size, SHA256: checks[0].SHA256}
	for i, imp := range created {
		c := checks[i]
		all.Rows += c.Rows
		all.OverLimitWarning = all.OverLimitWarning || c.OverLimitWarning
		all.Sheets = append(all.Sheets, SheetImport{Sheet: sheets[i].name, Kind: imp.Kind, ImportID: imp.ID, Status: imp.Status,
			RowsTotal: c.Rows, OverLimitWarning: c.OverLimitWarning, Unmapped: c.Unmapped})
	}
	im.Log.Info("workbook queued", "request_id", group, "account", all.Account.Name, "file", req.displayName(), "sheets", len(created), "rows", all.Rows)
	return created[0], all, nil
}

// runWorkbook checks every sheet of a workbook request, then runs the sheets one after the
// other in the foreground (see RunNow). When a sheet fails or is cancelled, the later ones are
// recorded as cancelled, not run, as the workers would leave them. A dry run runs every sheet
// in one transaction that is rolled back, so that later sheets see what earlier ones would
// write.
func (im *Importer) runWorkbook(ctx context.Context, req Request, owner string, dryRun bool) (Summary, error) {
	start := time.Now()
	sheets, err := im.sheetRequests(ctx, req)
	if err != nil {
		return Summary{}, err
	}
	checks := make([]*Checked, len(sheets))
	for i, s := range sheets {
		c, err := im.open(ctx, s.req)
		if err == nil && im.Config.MaxRows > 0 {
			err = im.count(c, req.displayName())
		}
		if c != nil {
			c.plan.close()
		}
		if err != nil {
			return Summary{}, sheetError(s.name, err)
		}
		checks[i] = c
	}
	if dryRun {
		// What the kinds prepare (lookup indexes, built concurrently) is built before the dry
		// run's transaction begins: that transaction's writes would hold its building up.
		for i, s := range sheets {
			if err := checks[i].plan.prepare(ctx, im.Pool); err != nil {
				return Summary{}, sheetError(s.name, err)
			}
		}
		return im.dryRunWorkbook(ctx, sheets, owner, start)
	}
	if sheets[0].req.ID == 0 {
		if sheets[0].req.ID, err = store.NextImportID(ctx, im.Pool); err != nil {
			return Summary{}, err
		}
	}
	all := Summary{Kind: WorkbookKind, RequestID: sheets[0].req.ID}
	var stop, failure error // why the sheets left are not run; the error that failed a sheet
	for i, s := range sheets {
		s.req.group = requestGroup{id: all.RequestID, step: workbookStep(s.req.Kind)}
		if stop != nil {
			sum, err := im.notRun(ctx, s, checks[i], owner, stop)
			if err != nil {
				return all, err
			}
			all.add(sum)
			continue
		}
		sum, err := im.RunNow(ctx, s.req, owner, false)
		sum.Sheet = s.name
		if sum.Status == "" { // it never started: nothing of it was recorded
			return all, sheetError(s.name, err)
		}
		all.add(sum)
		switch {
		case sum.Status != store.StatusCompleted && sum.Status != store.StatusFailed && sum.Status != store.StatusCancelled:
			// Interrupted (the process is stopping): the sheet resumes from its checkpoint;
			// the later ones are not recorded.
			return all, sheetError(s.name, err)
		case sum.Status != store.StatusCompleted:
			stop = fmt.Errorf("not run: sheet %s of the workbook (import %d) ended %s before it", s.name, sum.ImportID, sum.Status)
			if err != nil {
				failure = sheetError(s.name, err)
				all.Error = failure.Error()
			}
		}
	}
	all.DurationMS = time.Since(start).Milliseconds()
	return all, failure
}

// notRun records a sheet of a workbook that is not run because an earlier sheet did not
// complete: its import ends cancelled at once, with the reason.
func (im *Importer) notRun(ctx context.Context, s sheetRequest, c *Checked, owner string, why error) (Summary, error) {
	rec, err := s.req.record(c)
	if err != nil {
		return Summary{}, err
	}
	final := context.WithoutCancel(ctx)
	created, err := store.CreateImport(final, im.Pool, rec, owner, time.Duration(im.Config.Lease))
	if err != nil {
		return Summary{}, err
	}
	if err := store.FinishImport(final, im.Pool, created.ID, owner, store.StatusCancelled, why.Error()); err != nil {
		return Summary{}, err
	}
	return Summary{ImportID: created.ID, Kind: created.Kind, Sheet: s.name, Status: store.StatusCancelled, Counts: created.Counts,
		Unmapped: c.Unmapped, Error: why.Error()}, nil
}

// dryRunWorkbook runs every sheet's dry run in one transaction, rolled back at the end.
func (im *Importer) dryRunWorkbook(ctx context.Context, sheets []sheetRequest, owner string, start time.Time) (Summary, error) {
	return im.rolledBack(ctx, func(tx pgx.Tx) (Summary, error) {
		all := Summary{Kind: WorkbookKind, DryRun: true}
		for _, s := range sheets {
			sum, err := im.dryRunSheet(ctx, tx, s, owner)
			if err != nil {
				return Summary{}, sheetError(s.name, err)
			}
			all.add(sum)
		}
		all.DurationMS = time.Since(start).Milliseconds()
		return all, nil
	})
}

// dryRunSheet runs one sheet's dry run in tx; the sheet's kind has prepared the database.
func (im *Importer) dryRunSheet(ctx context.Context, tx pgx.Tx, s sheetRequest, owner string) (Summary, error) {
	c, err := im.open(ctx, s.req)
	if err != nil {
		return Summary{}, err
	}
	defer c.plan.close()
	rec, err := s.req.record(c)
	if err != nil {
		return Summary{}, err
	}
	sum, err := im.dryRunIn(ctx, tx, s.req, c, rec, owner, time.Now())
	sum.Sheet = s.name
	return sum, err
}

// add adds a sheet's summary to a workbook's: its counts to the totals, itself to the sheets.
// The workbook's status is completed while every sheet is; else the first other status.
func (s *Summary) add(sheet Summary) {
	s.Sheets = append(s.Sheets, sheet)
	if s.Status == "" || s.Status == store.StatusCompleted {
		s.Status = sheet.Status
	}
	s.OverLimitWarning = s.OverLimitWarning || sheet.OverLimitWarning
	if s.Unmapped == nil {
		s.Unmapped = []string{}
	}
	c, add := &s.Counts, sheet.Counts
	c.Rows += add.Rows
	c.Created += add.Created
	c.Updated += add.Updated
	c.Unchanged += add.Unchanged
	c.Skipped += add.Skipped
	c.SkippedByReason = addMap(c.SkippedByReason, add.SkippedByReason)
	c.WarningsByKind = addMap(c.WarningsByKind, add.WarningsByKind)
	c.Counters = addMap(c.Counters, add.Counters)
}

// addMap adds b's counts to a's, and returns a (made when nil).
func addMap(a, b map[string]int) map[string]int {
	if a == nil {
		a = map[string]int{}
	}
	for k, n := range b {
		a[k] += n
	}
	return a
}
