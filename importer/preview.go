package importer

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/kinds/prospects"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/stages/mapping"
	"github.com/leadpipe/leadpipe/stages/read"
	"github.com/leadpipe/leadpipe/store"
)

// PreviewRows is how many data rows a preview shows (SPEC §11).
const PreviewRows = 10

// RowResult is what an import did, or would do, with one row.
type RowResult struct {
	Row     int    `json:"row_number"`
	Outcome string `json:"outcome"`
	Reason  string `json:"reason,omitempty"`
	Detail  string `json:"detail,omitempty"`
	// EntityID is the record of the import's kind that the row created or matched; in a dry
	// run, or a preview, only a record that exists outside it.
	EntityID int64 `json:"entity_id,omitempty"`
	// ProspectID is EntityID in a prospects import, absent in any other: kept for the clients
	// that read it before entity_id.
	ProspectID int64              `json:"prospect_id,omitempty"`
	Warnings   []pipeline.Warning `json:"warnings,omitempty"`
	// Values are the row's values after mapping and value rules, by field key (previews only).
	Values map[string]string `json:"values,omitempty"`
}

// DryRunResults turns a dry run's rows into results. The records a dry run creates vanish
// with its transaction, so their ids are left out, also on later rows that matched them.
type DryRunResults struct {
	created map[string]map[int64]bool // by kind: each kind numbers its records on its own
}

// Result returns what the dry run did with a row of an import of kind (a workbook's sheets
// are of several); rows must come in file order.
func (d *DryRunResults) Result(kind string, r *pipeline.Row) RowResult {
	res := RowResult{Row: r.Number, Outcome: string(r.Outcome), Reason: r.SkipReason, Detail: r.SkipDetail,
		EntityID: r.EntityID, Warnings: r.Warnings}
	if r.Outcome == pipeline.Created {
		if d.created == nil {
			d.created = map[string]map[int64]bool{}
		}
		if d.created[kind] == nil {
			d.created[kind] = map[int64]bool{}
		}
		d.created[kind][r.EntityID] = true
	}
	if d.created[kind][res.EntityID] {
		res.EntityID = 0
	}
	if kind == (prospects.Kind{}).Name() {
		res.ProspectID = res.EntityID
	}
	return res
}

// Preview is what a file would do before it is imported (SPEC §11).
type Preview struct {
	// Sheets lists every worksheet of a workbook, hidden ones included, with its visibility,
	// and Sheet names the one read: the sheet option's, else the first visible one. Both are
	// absent for a CSV file.
	Sheets           []read.Sheet     `json:"sheets,omitempty"`
	Sheet            string           `json:"sheet,omitempty"`
	Columns          []mapping.Column `json:"mapping"`
	Unmapped         []string         `json:"unmapped_columns"`
	Rows             []RowResult      `json:"rows"`
	TotalRows        int              `json:"total_rows"`
	OverLimitWarning bool             `json:"over_limit_warning"`
	// SuggestedMapping is the saved mapping of the kind that fits the file's header best
	// (suggest), for a request that names none; null when none shares a column with it.
	SuggestedMapping *Suggestion `json:"suggested_mapping"`
	// Problem, when set, says why the file cannot be imported as the request stands: no column
	// maps to a field. The preview then has every column (unmapped), the sheets and the
	// suggestion, but no rows and no count; a mapping of at least one column fixes it.
	Problem string `json:"problem,omitempty"`
}

// Preview checks a request and computes what its first PreviewRows data rows would do, with
// their values after mapping and value rules. Nothing is written.
func (im *Importer) Preview(ctx context.Context, req Request) (*Preview, error) {
	c, err := im.Check(ctx, req)
	var unmapped *UnmappedFileError
	if errors.As(err, &unmapped) {
		return im.unmappedPreview(ctx, req, unmapped)
	}
	if err != nil {
		return nil, err
	}
	rec, err := req.record(c)
	if err != nil {
		return nil, err
	}
	p := &Preview{Sheet: c.Sheet, Columns: c.Columns, Unmapped: c.Unmapped, Rows: []RowResult{}, TotalRows: c.Rows, OverLimitWarning: c.OverLimitWarning}
	if c.Sheet != "" {
		if p.Sheets, err = im.sheets(req, c.plan.Options); err != nil {
			return nil, err
		}
	}
	if req.Options.SavedMapping == "" {
		if p.SuggestedMapping, err = suggest(ctx, im.Pool, c.Account, c.plan.Kind, c.Header); err != nil {
			return nil, err
		}
	}
	req.MaxRows = PreviewRows
	var results DryRunResults
	req.OnBatch = func(kind string, b *pipeline.Batch) {
		for i := range b.Rows {
			res := results.Result(kind, &b.Rows[i])
			res.Values = fieldValues(c.plan.Catalog, c.plan.Users, b.Rows[i].Values)
			p.Rows = append(p.Rows, res)
		}
	}
	if _, err := im.dryRun(ctx, req, c, rec, "preview", time.Now()); err != nil {
		return nil, err
	}
	return p, nil
}

// unmappedPreview is the preview of a file none of whose columns maps to a field: its columns
// to map by hand, with the sheets and the suggested saved mapping, and the problem.
func (im *Importer) unmappedPreview(ctx context.Context, req Request, e *UnmappedFileError) (*Preview, error) {
	p := &Preview{Sheet: e.Sheet, Columns: e.Columns, Unmapped: slices.Clone(e.Header), Rows: []RowResult{}, Problem: e.NothingMappedError.Error()}
	var err error
	if e.Sheet != "" {
		if p.Sheets, err = im.sheets(req, e.Options); err != nil {
			return nil, err
		}
	}
	if req.Options.SavedMapping == "" {
		if p.SuggestedMapping, err = suggest(ctx, im.Pool, e.Account, e.Kind, e.Header); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// sheets lists the worksheets of the workbook of req, read with options o, with their
// visibility.
func (im *Importer) sheets(req Request, o crm.Options) ([]read.Sheet, error) {
	name := req.displayName()
	f, err := openPath(req.Path, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return im.listSheets(f, name, im.readOptions(o, 0, 0))
}

// fieldValues names a row's non-empty values by field key, with an owner (a field of type
// crm.User) as its username.
func fieldValues(c *crm.Catalog, users []store.User, values []string) map[string]string {
	if values == nil {
		return nil
	}
	out := map[string]string{}
	for i, v := range values {
		if v == "" {
			continue
		}
		if c.Fields[i].Type == crm.User {
			for _, u := range users {
				if strconv.FormatInt(u.ID, 10) == v {
					v = u.Username
				}
			}
		}
		out[c.Fields[i].Key] = v
	}
	return out
}
