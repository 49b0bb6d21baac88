package importer_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/config"
	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/stages/read"
	"github.com/leadpipe/leadpipe/stages/read/isolate"
	"github.com/leadpipe/leadpipe/store"
)

// TestFormatsImportAlike imports one prospect list written by real spreadsheet software
// (SheetJS, testdata/formats/make-fixtures.js) as CSV, XLSX and legacy XLS, each into an
// account of its own, and expects the same outcome for every row and the same prospects:
// numbers as shown (no 1.5551234567E10 phone), dates as ISO dates, booleans, blank rows
// counted in the row numbers but not imported. Spreadsheets are parsed in this process, then
// in a child process.
func TestFormatsImportAlike(t *testing.T) {
	wantOutcomes := map[int]string{
		2: "created", 3: "updated", 4: "skipped:invalid_email", 6: "created", 7: "created", 8: "unchanged",
	}
	wantProspects := []map[string]string{
		{"email": "ann@acme.com", "first_name": "Ann", "last_name": "Able-Smith", "phone": "15551234567",
			"organization": "Acme Inc", "email_opt_in": "true", "custom.signed_up": "2024-01-31", "custom.score": "42.5"},
		{"first_name": "Cy", "last_name": "Cee", "phone": "4930123456"},
		{"email": "dee@beta.io", "first_name": "Dee", "last_name": "Dunn", "organization": "Beta LLC",
			"email_opt_in": "false", "custom.signed_up": "1999-12-31", "custom.score": "7"},
	}
	for _, format := range []string{"csv", "xlsx", "xls"} {
		for _, sheets := range []*isolate.Parser{nil, {}} {
			t.Run(fmt.Sprintf("%s child=%v", format, sheets != nil), func(t *testing.T) {
				e := newEnv(t, -1)
				e.Sheets = sheets
				e.addField(crm.Field{Key: "signed_up", Label: "Signed Up", Type: crm.Date})
				e.addField(crm.Field{Key: "score", Label: "Score", Type: crm.Number})
				r := e.importPath("testdata/formats/prospects."+format, crm.Options{}, 2)
				checkOutcomes(t, r.Outcomes, wantOutcomes)
				e.checkProspects(wantProspects)
			})
		}
	}
}

// TestSheetParserNotStarted: a spreadsheet parser that cannot start is the machine's trouble,
// not the file's. Checking the file reports it without blaming the file, and an import a
// worker runs goes back to the queue instead of failing — after poll_interval, so that workers
// do not take it back and fail again without end.
func TestSheetParserNotStarted(t *testing.T) {
	e := newEnv(t, -1)
	path := "testdata/formats/prospects.xlsx"
	imp, _, err := e.importer(2).Submit(e.ctx, e.request(path, crm.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	broken := e.importer(2)
	broken.Sheets = &isolate.Parser{Command: filepath.Join(t.TempDir(), "missing")}
	broken.Config.PollInterval = config.Duration(300 * time.Millisecond)
	if _, err := broken.Check(e.ctx, e.request(path, crm.Options{})); !errors.Is(err, isolate.ErrNotStarted) || errors.Is(err, importer.ErrBadFile) {
		t.Errorf("Check: %v, want ErrNotStarted and not ErrBadFile", err)
	}
	start := time.Now()
	sum, err := broken.Run(e.ctx, e.claim(imp.ID, "worker-1"), "worker-1")
	if !errors.Is(err, isolate.ErrNotStarted) || sum.Status != store.StatusQueued {
		t.Fatalf("Run: status %q, error %v; want queued, ErrNotStarted", sum.Status, err)
	}
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Errorf("Run put the import back in the queue after %s, want after poll_interval (300ms)", took)
	}
	if got := e.lastImport(); got.Status != store.StatusQueued {
		t.Fatalf("import: status %q, want queued", got.Status)
	}
	sum, err = e.importer(2).Run(e.ctx, e.claim(imp.ID, "worker-2"), "worker-2")
	if err != nil || sum.Status != store.StatusCompleted || sum.Rows != 6 {
		t.Fatalf("Run again: %+v, %v; want the 6 rows completed", sum, err)
	}
}

// TestMaxRows: a file with more data rows than the max_rows setting fails, in every format,
// before anything is written; one with exactly that many imports.
func TestMaxRows(t *testing.T) {
	for _, format := range []string{"csv", "xlsx", "xls"} {
		t.Run(format, func(t *testing.T) {
			e := newEnv(t, -1)
			path := "testdata/formats/prospects." + format // 6 data rows
			im := e.importer(2)
			im.Config.MaxRows = 5
			for _, dry := range []bool{false, true} {
				_, err := im.RunNow(e.ctx, e.request(path, crm.Options{}), "test", dry)
				if !errors.Is(err, importer.ErrBadFile) || !errors.Is(err, read.ErrTooManyRows) ||
					!strings.Contains(err.Error(), "more than the limit of 5") || !strings.Contains(err.Error(), "(setting max_rows)") {
					t.Fatalf("dry=%v: RunNow error = %v, want the file's 6 rows over the limit of 5", dry, err)
				}
			}
			if _, _, err := im.Submit(e.ctx, e.request(path, crm.Options{})); !errors.Is(err, read.ErrTooManyRows) {
				t.Fatalf("Submit error = %v, want ErrTooManyRows", err)
			}
			e.checkNothingWritten()

			im.Config.MaxRows = 6
			sum, err := im.RunNow(e.ctx, e.request(path, crm.Options{}), "test", false)
			if err != nil || sum.Rows != 6 {
				t.Fatalf("RunNow at the limit: %+v, %v; want 6 rows imported", sum, err)
			}
		})
	}
}

// TestFormattedNumbersByFieldType imports numbers formatted as percent and currency
// (testdata/formats/formatted.*, written by SheetJS): a number field gets the number, a text
// field what the user saw, from XLSX and XLS, parsed in this process and in a child.
func TestFormattedNumbersByFieldType(t *testing.T) {
	want := []map[string]string{
		{"email": "ann@acme.com", "custom.share": "0.25", "custom.revenue": "1200",
			"custom.share_shown": "25.00%", "custom.revenue_shown": "$1,200.00"},
		{"email": "dee@beta.io", "custom.share": "0.125", "custom.revenue": "-1234.5",
			"custom.share_shown": "12.50%", "custom.revenue_shown": "-$1,234.50"},
	}
	for _, format := range []string{"xlsx", "xls"} {
		for _, sheets := range []*isolate.Parser{nil, {}} {
			t.Run(fmt.Sprintf("%s child=%v", format, sheets != nil), func(t *testing.T) {
				e := newEnv(t, -1)
				e.Sheets = sheets
				e.addField(crm.Field{Key: "share", Label: "Share", Type: crm.Number})
				e.addField(crm.Field{Key: "revenue", Label: "Revenue", Type: crm.Number})
				e.addField(crm.Field{Key: "share_shown", Label: "Share Shown", Type: crm.Text})
				e.addField(crm.Field{Key: "revenue_shown", Label: "Revenue Shown", Type: crm.Text})
				r := e.importPath("testdata/formats/formatted."+format, crm.Options{}, 2)
				checkOutcomes(t, r.Outcomes, map[int]string{2: "created", 3: "created"})
				e.checkProspects(want)
			})
		}
	}
}
