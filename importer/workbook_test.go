package importer_test

// Workbook requests (kind workbook): a workbook's sheets named for kinds, each imported by an
// import of its own under the request, in dependency order.

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/store"
)

// sheet is a worksheet of a workbook a test writes: its name and rows (the header first).
type sheet struct {
	name string
	rows [][]string
}

// writeWorkbook writes an XLSX workbook of the sheets, in that order, named name.
func writeWorkbook(t *testing.T, name string, sheets ...sheet) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, s := range sheets {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", s.name); err != nil {
				t.Fatal(err)
			}
		} else if _, err := f.NewSheet(s.name); err != nil {
			t.Fatal(err)
		}
		for r, row := range s.rows {
			cell, _ := excelize.CoordinatesToCellName(1, r+1)
			if err := f.SetSheetRow(s.name, cell, &row); err != nil {
				t.Fatal(err)
			}
		}
	}
	path := filepath.Join(t.TempDir(), name)
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func (e *tenv) workbookRequest(path string, opts crm.Options) importer.Request {
	req := e.request(path, opts)
	req.Kind = importer.WorkbookKind
	return req
}

var prospectSheet = sheet{"Prospects", [][]string{
	{"Email", "First Name", "Last Name"},
	{"ann@acme.example", "Ann", "Able"},
	{"bob@acme.example", "Bob", "Best"},
	{"not-an-email", "Cy", "Coe"},
}}

func TestWorkbookRefusals(t *testing.T) {
	e := newEnv(t, -1)
	im := e.importer(e.Batch)
	for _, c := range []struct {
		what string
		path string
		opts crm.Options
		want string
	}{
		{"sheets named for no kind", writeWorkbook(t, "book.xlsx", prospectSheet, sheet{"Notes", nil}, sheet{"Leads 2026", nil}),
			crm.Options{}, `cannot import file book.xlsx: sheets named for no kind: "Notes", "Leads 2026"; ` +
				`name each sheet for the kind of record it holds (prospect, prospects, case aside) and remove the others`},
		{"no sheet named for a kind", writeWorkbook(t, "other.xlsx", sheet{"Sheet 1", nil}),
			crm.Options{}, `cannot import file other.xlsx: sheets named for no kind: "Sheet 1"; ` +
				`name each sheet for the kind of record it holds (prospect, prospects, case aside) and remove the others`},
		{"two sheets of one kind", writeWorkbook(t, "twice.xlsx", prospectSheet, sheet{"prospect", prospectSheet.rows}),
			crm.Options{}, `cannot import file twice.xlsx: the sheets "Prospects" and "prospect" are both prospects; keep one`},
		{"a CSV file", writeFile(t, "list.csv", "email\nann@acme.example\n"),
			crm.Options{}, `cannot import file list.csv: the file is not a workbook: it reads as CSV, which has no sheets; a workbook is an XLSX or XLS file`},
		{"the sheet option", writeWorkbook(t, "book.xlsx", prospectSheet),
			crm.Options{Sheet: "Prospects"}, `invalid import options: sheet: a workbook imports each of its sheets named for a kind; leave sheet out`},
		{"options of no kind", writeWorkbook(t, "book.xlsx", prospectSheet),
			crm.Options{Kinds: map[string]crm.Options{"tickets": {}}}, `invalid import options: kinds: unknown kind "tickets" (want prospects, or an object type's key)`},
		{"a sheet's options refused by its kind", writeWorkbook(t, "book.xlsx", prospectSheet),
			crm.Options{Kinds: map[string]crm.Options{"prospects": {UniqueIdentifier: "email"}}},
			`sheet "Prospects": invalid import options: unique_identifier: field "email" cannot identify a prospect`},
	} {
		_, _, err := im.Submit(e.ctx, e.workbookRequest(c.path, c.opts))
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: submit: %v\nwant: %s", c.what, err, c.want)
		}
		if _, err := im.RunNow(e.ctx, e.workbookRequest(c.path, c.opts), testOwner, false); err == nil || err.Error() != c.want {
			t.Errorf("%s: run: %v\nwant: %s", c.what, err, c.want)
		}
	}
	e.checkNothingWritten()
	// Options by kind belong to workbooks only.
	_, err := e.runNow(writeWorkbook(t, "book.xlsx", prospectSheet), crm.Options{Kinds: map[string]crm.Options{"prospects": {List: "Fair"}}}, e.Batch, false)
	if !errors.Is(err, crm.ErrInvalidOptions) || err.Error() != "invalid import options: kinds: options by kind apply to a workbook only (kind workbook)" {
		t.Errorf("kinds in a prospects import: %v", err)
	}
}

func TestWorkbookForeground(t *testing.T) {
	e := newEnv(t, -1)
	path := writeWorkbook(t, "book.xlsx", prospectSheet)
	opts := crm.Options{Tags: []string{"fair"}, Kinds: map[string]crm.Options{"prospects": {List: "Fair 2026"}}}
	sum, err := e.importer(e.Batch).RunNow(e.ctx, e.workbookRequest(path, opts), testOwner, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Sheets) != 1 {
		t.Fatalf("sheets: %+v", sum.Sheets)
	}
	s := sum.Sheets[0]
	if sum.Kind != "workbook" || sum.Status != store.StatusCompleted || sum.RequestID != s.ImportID || s.Sheet != "Prospects" ||
		s.Kind != "prospects" || s.Status != store.StatusCompleted {
		t.Errorf("summary: kind %s status %s request %d; sheet %s kind %s status %s import %d", sum.Kind, sum.Status, sum.RequestID,
			s.Sheet, s.Kind, s.Status, s.ImportID)
	}
	checkCounts(t, sum.Counts, "rows=3 created=2 updated=0 unchanged=0 skipped=1 orgs_created=0 orgs_linked=0")
	checkCounts(t, s.Counts, "rows=3 created=2 updated=0 unchanged=0 skipped=1 orgs_created=0 orgs_linked=0")
	if got, want := e.groupings(), []string{"list:Fair 2026=ann@acme.example bob@acme.example", "tag:fair=ann@acme.example bob@acme.example"}; !slices.Equal(got, want) {
		t.Errorf("groupings %q, want %q", got, want)
	}
	list, err := store.ListImports(e.ctx, e.pool, e.acct.ID, store.ImportFilter{RequestID: sum.RequestID, Limit: 10})
	if err != nil || len(list) != 1 {
		t.Fatalf("imports of the request: %+v, %v", list, err)
	}
	if imp := list[0]; imp.ID != s.ImportID || imp.Kind != "prospects" || imp.RequestID != sum.RequestID || imp.RequestStep != 2 ||
		string(imp.Options) != `{"list": "Fair 2026", "tags": ["fair"], "sheet": "Prospects"}` {
		t.Errorf("import: id %d kind %s request %d step %d options %s", imp.ID, imp.Kind, imp.RequestID, imp.RequestStep, imp.Options)
	}
}
