package importer_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/stages/read/isolate"
	"github.com/leadpipe/leadpipe/store"
)

// formattedFixture is a prospect list as a CSV file shows it: text fields hold what a
// spreadsheet user sees (25.00%, 1,200, $1,200.00, 02134), number fields plain numbers, dates
// ISO dates. Row 4 has an invalid email, row 5 is blank, row 7 updates row 2, row 8 repeats row
// 3, row 6 has a Revenue that is no number and row 10 a Signed Up that is no date.
const formattedFixture = "testdata/formats/libreoffice.csv"

// formattedColumns are the number formats the spreadsheet made from formattedFixture gives its
// columns; the cells of these columns that are numbers (or, in Signed Up, ISO dates) in the CSV
// are number cells there, formatted so that they show what the CSV holds for a text field, and
// the plain number for a number field (Revenue, Share).
var formattedColumns = map[string]string{
	"Zip":       "00000",      // postal_code, text: 2134 shows 02134
	"Signed Up": "mm/dd/yyyy", // custom date: any date format reads as an ISO date
	"Revenue":   "$#,##0.00",  // custom number: 1200.5 shows $1,200.50 and stores 1200.5
	"Discount":  "0.00%",      // custom text: 0.25 shows 25.00%
	"Seats":     "#,##0",      // custom text: 1200 shows 1,200
	"Budget":    "$#,##0.00",  // custom text: 1200 shows $1,200.00
	"Share":     "0%",         // custom number: 0.125 shows 13% and stores 0.125
}

// TestLibreOfficeFormatsImportAlike writes formattedFixture as an XLSX workbook with number
// formats on its columns (formattedColumns), has LibreOffice save it as XLSX, XLS and ODS, and
// imports the CSV and each file LibreOffice wrote into an account of its own, parsing in this
// process and in a child process. Every format gives the same row outcomes, field warnings and
// stored prospects: a text field gets what the user saw (25.00%, $1,200.00, 02134), a number
// field the number (1200.5, 0.125 where the sheet shows 13%), a date field the ISO date. The
// XLSX file LibreOffice wrote is checked to hold the numbers and formats the test rests on.
func TestLibreOfficeFormatsImportAlike(t *testing.T) {
	book, numbers := writeFormattedXLSX(t, formattedFixture)
	files := convertWithLibreOffice(t, book, "xlsx", "xls", "ods")
	checkNumberCells(t, files["xlsx"], numbers)
	files["csv"] = formattedFixture

	wantOutcomes := map[int]string{
		2: "created", 3: "created", 4: "skipped:invalid_email", 6: "created", 7: "updated", 8: "unchanged",
		9: "created", 10: "created",
	}
	wantWarnings := map[int][]string{6: {"revenue:invalid_number"}, 10: {"signed_up:invalid_date"}}
	wantProspects := []map[string]string{
		{"email": "ann@acme.com", "first_name": "Ann", "last_name": "Able-Smith", "postal_code": "02134",
			"custom.signed_up": "2024-03-01", "custom.revenue": "99999.99", "custom.discount": "25.00%",
			"custom.seats": "1,200", "custom.budget": "$1,200.00", "custom.share": "0.25"},
		{"email": "bob@beta.io", "first_name": "Bob", "last_name": "Brown", "postal_code": "10001",
			"custom.signed_up": "1999-12-31", "custom.revenue": "7", "custom.discount": "5.50%",
			"custom.seats": "950", "custom.budget": "$0.99", "custom.share": "1"},
		{"email": "cy@cee.org", "first_name": "Cy", "last_name": "Cee", "postal_code": "SW1A 1AA",
			"custom.signed_up": "2000-02-29", "custom.discount": "0.00%",
			"custom.seats": "1,234,567", "custom.budget": "-$1,500.00", "custom.share": "0.125"},
		{"email": "dee@dee.de", "first_name": "Dee", "last_name": "Dunn", "postal_code": "00501",
			"custom.signed_up": "2024-12-25", "custom.revenue": "0", "custom.discount": "100.00%",
			"custom.seats": "0", "custom.budget": "$1,234,567.89", "custom.share": "0.5"},
		{"email": "eve@eve.com", "first_name": "Eve", "last_name": "Ellis"},
	}
	for _, format := range []string{"csv", "xlsx", "xls", "ods"} {
		for _, sheets := range []*isolate.Parser{nil, {}} {
			if format == "csv" && sheets != nil {
				continue // a CSV file is never parsed in a child process
			}
			t.Run(fmt.Sprintf("%s child=%v", format, sheets != nil), func(t *testing.T) {
				e := newEnv(t, -1)
				e.Sheets = sheets
				e.addField(crm.Field{Key: "signed_up", Label: "Signed Up", Type: crm.Date})
				e.addField(crm.Field{Key: "revenue", Label: "Revenue", Type: crm.Number})
				e.addField(crm.Field{Key: "discount", Label: "Discount", Type: crm.Text})
				e.addField(crm.Field{Key: "seats", Label: "Seats", Type: crm.Text})
				e.addField(crm.Field{Key: "budget", Label: "Budget", Type: crm.Text})
				e.addField(crm.Field{Key: "share", Label: "Share", Type: crm.Number})
				c := &formatCheck{t: t}
				sum, err := e.runNow(files[format], crm.Options{}, 2, false)
				if err != nil || sum.Status != store.StatusCompleted {
					c.differ("import", fmt.Sprintf("status %q (%s), error %v", sum.Status, sum.Error, err), "completed")
					return
				}
				r := e.rowsOf(sum.ImportID)
				c.differ("row outcomes", formatRows(r.Outcomes), formatRows(wantOutcomes))
				c.differ("row warnings", formatWarnings(r.Warnings), formatWarnings(wantWarnings))
				c.prospects(e.prospects(), wantProspects)
			})
		}
	}
}

// formatCheck compares one format's import with what is expected.
type formatCheck struct{ t *testing.T }

// differ fails the test when got != want about what.
func (c *formatCheck) differ(what, got, want string) {
	c.t.Helper()
	if got != want {
		c.t.Errorf("%s:\n got: %s\nwant: %s", what, got, want)
	}
}

// prospects compares the stored prospects, oldest first, field by field.
func (c *formatCheck) prospects(got, want []map[string]string) {
	c.t.Helper()
	if len(got) != len(want) {
		c.differ("prospects", formatList(got), formatList(want))
		return
	}
	for i, w := range want {
		var fields []string
		for k := range w {
			fields = append(fields, k)
		}
		for k := range got[i] {
			if _, ok := w[k]; !ok {
				fields = append(fields, k)
			}
		}
		slices.Sort(fields)
		for _, k := range fields {
			g, gok := got[i][k]
			v, wok := w[k]
			if g != v || gok != wok {
				c.differ(fmt.Sprintf("prospect %d (%s) %s", i+1, w["email"], k), fieldValue(g, gok), fieldValue(v, wok))
			}
		}
	}
}

func fieldValue(v string, ok bool) string {
	if !ok {
		return "<none>"
	}
	return strconv.Quote(v)
}

// writeFormattedXLSX writes the CSV file at path as an XLSX workbook with excelize, in a
// temporary directory, and returns its path and its number cells. In the columns of
// formattedColumns a cell that reads as a number ($1,200.00 as 1200, 25.00% as 0.25, 02134 as
// 2134) or as an ISO date is written as a number with that column's format; every other cell is
// a text cell, and a blank cell is left out.
func writeFormattedXLSX(t *testing.T, path string) (string, map[string]numberCell) {
	t.Helper()
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	records, err := csv.NewReader(in).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "Prospects"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		t.Fatal(err)
	}
	styles := make([]int, len(records[0])) // per column: its number format's style, 0 for none
	for col, header := range records[0] {
		if code, ok := formattedColumns[header]; ok {
			if styles[col], err = f.NewStyle(&excelize.Style{CustomNumFmt: &code}); err != nil {
				t.Fatal(err)
			}
		}
	}
	numbers := map[string]numberCell{}
	for r, record := range records {
		for col, text := range record {
			if text == "" {
				continue
			}
			cell, err := excelize.CoordinatesToCellName(col+1, r+1)
			if err != nil {
				t.Fatal(err)
			}
			var value any = text
			if r > 0 && styles[col] != 0 {
				if day, err := time.Parse(time.DateOnly, text); err == nil {
					value = day
				} else if v, ok := spreadsheetNumber(text); ok {
					value = v
				}
			}
			if err := f.SetCellValue(sheet, cell, value); err != nil {
				t.Fatal(err)
			}
			if _, isText := value.(string); isText {
				continue
			}
			if err := f.SetCellStyle(sheet, cell, cell, styles[col]); err != nil {
				t.Fatal(err)
			}
			raw, err := f.GetCellValue(sheet, cell, excelize.Options{RawCellValue: true})
			if err != nil {
				t.Fatal(err)
			}
			numbers[cell] = numberCell{raw: raw, format: formattedColumns[records[0][col]]}
		}
	}
	out := filepath.Join(t.TempDir(), strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))+".xlsx")
	if err := f.SaveAs(out); err != nil {
		t.Fatal(err)
	}
	return out, numbers
}

// numberCell is a number cell of a workbook: its value as stored (a date as its serial) and its
// number format.
type numberCell struct{ raw, format string }

// checkNumberCells fails the test unless each cell of want is, in the first sheet of the XLSX
// file at path, a number cell of that value and number format (with a backslash before a
// literal character or not: LibreOffice writes $#,##0.00 as \$#,##0.00). It checks what the
// test rests on: that LibreOffice kept the numbers and their formats, and did not turn them into
// text.
func checkNumberCells(t *testing.T, path string, want map[string]numberCell) {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheet := f.GetSheetName(0)
	for cell, w := range want {
		typ, err := f.GetCellType(sheet, cell)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := f.GetCellValue(sheet, cell, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		format := ""
		if idx, err := f.GetCellStyle(sheet, cell); err != nil {
			t.Fatal(err)
		} else if style, err := f.GetStyle(idx); err != nil {
			t.Fatal(err)
		} else if style.CustomNumFmt != nil {
			format = strings.ReplaceAll(*style.CustomNumFmt, `\`, "")
		}
		gv, gerr := strconv.ParseFloat(raw, 64)
		wv, werr := strconv.ParseFloat(w.raw, 64)
		if typ != excelize.CellTypeNumber || gerr != nil || werr != nil || gv != wv || format != w.format {
			kind := "a number"
			if typ != excelize.CellTypeNumber {
				kind = fmt.Sprintf("not a number (excelize cell type %d)", typ)
			}
			t.Errorf("%s cell %s: %s, value %q, format %q; want a number %s formatted %q",
				filepath.Base(path), cell, kind, raw, format, w.raw, w.format)
		}
	}
}

// spreadsheetNumber reads a cell as shown with a number format back as its number: "$1,200.00"
// is 1200, "-$1,500.00" -1500, "25.00%" 0.25, "02134" 2134. ok is false for text ("n/a").
func spreadsheetNumber(s string) (v float64, ok bool) {
	v, err := strconv.ParseFloat(strings.NewReplacer("$", "", ",", "", "%", "").Replace(s), 64)
	if err != nil {
		return 0, false
	}
	if strings.HasSuffix(s, "%") {
		v /= 100
	}
	return v, true
}

// convertWithLibreOffice has LibreOffice (soffice, headless) open the file at src and save it
// in each of formats ("xlsx", "xls", "ods"), and returns the files it wrote by format. soffice
// runs once per format, about 1.5 s each, with a profile of the test's own so that tests running
// at once do not share one. Without soffice the test skips, and fails under CI.
func convertWithLibreOffice(t *testing.T, src string, formats ...string) map[string]string {
	t.Helper()
	soffice, err := exec.LookPath("soffice")
	if err != nil {
		const install = "deploy/services.sh up installs it: package libreoffice-calc-nogui"
		if os.Getenv("CI") != "" {
			t.Fatalf("soffice not found: %v (%s)", err, install)
		}
		t.Skipf("soffice not found (%s)", install)
	}
	profile := "-env:UserInstallation=file://" + filepath.ToSlash(t.TempDir())
	base := strings.TrimSuffix(filepath.Base(src), filepath.Ext(src))
	files := map[string]string{}
	for _, format := range formats {
		dir := t.TempDir()
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		cmd := exec.CommandContext(ctx, soffice, profile, "--headless", "--norestore", "--convert-to", format, "--outdir", dir, src)
		// soffice starts soffice.bin as a child: a timeout kills the whole process group.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
		cmd.WaitDelay = 5 * time.Second
		cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
		out, err := cmd.CombinedOutput()
		cancel()
		files[format] = filepath.Join(dir, base+"."+format)
		// soffice exits 0 when it cannot convert: the file it wrote tells.
		if _, statErr := os.Stat(files[format]); err != nil || statErr != nil {
			t.Fatalf("soffice --convert-to %s: %v, %v\n%s", format, err, statErr, out)
		}
	}
	return files
}
