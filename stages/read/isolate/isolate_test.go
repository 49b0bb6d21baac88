package isolate_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/leadpipe/leadpipe/internal/corpus"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/stages/read"
	"github.com/leadpipe/leadpipe/stages/read/isolate"
)

// The children of most tests are this test binary, which serves as one through TestMain. The
// limit tests start the leadpipe command instead, as the daemon does, built without the race
// detector (whose memory and CPU time would be the race detector's more than the parser's).
func TestMain(m *testing.M) {
	isolate.ServeChild()
	os.Exit(m.Run())
}

// tempDir makes a fresh directory the temporary directory of the test and checks at the end
// that the children left nothing in it.
func tempDir(t *testing.T) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tmp")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", dir)
	t.Cleanup(func() {
		if left, _ := os.ReadDir(dir); len(left) > 0 {
			t.Errorf("temporary files left behind: %v", left)
		}
	})
}

func write(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func open(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// leadsBook is a workbook with what a reader must get right: a header below a blank row,
// numbers, a date, a percentage (a number cell with a typed value), a boolean, blank rows, a
// malformed row and an over-long cell.
func leadsBook(t *testing.T) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	date, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	if err != nil {
		t.Fatal(err)
	}
	percent, err := f.NewStyle(&excelize.Style{NumFmt: 10}) // 0.00%
	if err != nil {
		t.Fatal(err)
	}
	rows := [][]any{
		nil,
		{"Email", "First Name", "Phone", "Since", "Opt in"},
		{"ann@example.com", "Ann", 15551234567, 45306, true},
		nil,
		{"bob@example.com", "Bob", 42.000000000000007, nil, false},
		{"cy@example.com", "Cy", "", "", "", "past the header"},
		{"dee@example.com", strings.Repeat("x", 40000)},
	}
	for i := range 40 {
		rows = append(rows, []any{"p" + string(rune('a'+i%26)) + "@example.com", "Row", i})
	}
	for i, row := range rows {
		for j, v := range row {
			cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
			if err := f.SetCellValue("Sheet1", cell, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := f.SetCellStyle("Sheet1", "D3", "D3", date); err != nil {
		t.Fatal(err)
	}
	if err := f.SetCellStyle("Sheet1", "C5", "C5", percent); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// leadsODS is an ODS spreadsheet with what its reader must get right: a blank row before the
// header, a number cell shown formatted (Typed), rows repeated, a malformed row.
func leadsODS(t *testing.T) []byte {
	t.Helper()
	cell := func(s string) string {
		return `<table:table-cell office:value-type="string"><text:p>` + s + `</text:p></table:table-cell>`
	}
	content := `<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" ` +
		`xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0">` +
		`<office:body><office:spreadsheet><table:table table:name="Leads">` +
		`<table:table-row><table:table-cell table:number-columns-repeated="1024"/></table:table-row>` +
		`<table:table-row>` + cell("Email") + cell("Budget") + `</table:table-row>` +
		`<table:table-row>` + cell("ann@example.com") + `<table:table-cell office:value-type="currency" office:value="1200"><text:p>$1,200.00</text:p></table:table-cell></table:table-row>` +
		`<table:table-row table:number-rows-repeated="30">` + cell("same@example.com") + `</table:table-row>` +
		`<table:table-row>` + cell("wide@example.com") + cell("") + cell("past the header") + `</table:table-row>` +
		`<table:table-row table:number-rows-repeated="1048000"><table:table-cell table:number-columns-repeated="1024"/></table:table-row>` +
		`</table:table></office:spreadsheet></office:body></office:document-content>`
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, part := range [][2]string{{"mimetype", "application/vnd.oasis.opendocument.spreadsheet"}, {"content.xml", content}} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: part[0], Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, part[1])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sheet is everything a reader gives: header, and every batch of rows.
type sheet struct {
	Header    []string
	HeaderRow int
	Format    string
	Sheet     string
	Batches   []batch
	Err       string
}

type batch struct {
	LastRow int
	Rows    []row
}

type row struct {
	Number             int
	Cells, Typed       []string
	SkipReason, Detail string
}

// readAll reads a whole file with open, in batches of size.
func readAll(t *testing.T, open func() (read.Reader, error), size int) sheet {
	t.Helper()
	r, err := open()
	if err != nil {
		return sheet{Err: err.Error()}
	}
	s := sheet{Header: r.Header(), HeaderRow: r.HeaderRow(), Format: r.Format()}
	if sr, ok := r.(read.SheetReader); ok {
		s.Sheet = sr.Sheet()
	}
	src := r.Source(size)
	for {
		b, err := src.Next(context.Background())
		if errors.Is(err, io.EOF) {
			return s
		}
		if err != nil {
			s.Err = err.Error()
			return s
		}
		got := batch{LastRow: b.LastRow}
		for _, r := range b.Rows {
			got.Rows = append(got.Rows, row{r.Number, r.Cells, r.Typed, r.SkipReason, r.SkipDetail})
			if r.Skipped() != (r.Outcome == pipeline.Skipped) {
				t.Errorf("row %d: skip reason %q, outcome %v", r.Number, r.SkipReason, r.Outcome)
			}
		}
		s.Batches = append(s.Batches, got)
	}
}

// fixtures are spreadsheets good and bad, by name; encrypted.xlsx is leads.xlsx encrypted with
// Excel's default password, which the child decrypts into a temporary file of its own.
func fixtures(t *testing.T) map[string]string {
	t.Helper()
	book := leadsBook(t)
	var noWorkbook bytes.Buffer
	zw := zip.NewWriter(&noWorkbook)
	w, _ := zw.Create("hello.txt")
	io.WriteString(w, "hello")
	zw.Close()
	xls, err := os.ReadFile("../testdata/xls/prospects.xls")
	if err != nil {
		t.Fatal(err)
	}
	encrypted, err := excelize.Encrypt(book, &excelize.Options{Password: "VelvetSweatshop"}) // Excel's default password
	if err != nil {
		t.Fatal(err)
	}
	protected, err := excelize.Encrypt(book, &excelize.Options{Password: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	ods := leadsODS(t)
	return map[string]string{
		"leads.xlsx":       write(t, "leads.xlsx", book),
		"encrypted.xlsx":   write(t, "encrypted.xlsx", encrypted),
		"protected.xlsx":   write(t, "protected.xlsx", protected),
		"truncated.xlsx":   write(t, "truncated.xlsx", book[:len(book)*2/3]),
		"no-workbook.xlsx": write(t, "no-workbook.xlsx", noWorkbook.Bytes()),
		"prospects.xls":    "../testdata/xls/prospects.xls",
		"header-row2.xls":  "../testdata/xls/header-row2.xls",
		"many.xls":         "../testdata/xls/many.xls",
		"truncated.xls":    write(t, "truncated.xls", xls[:len(xls)/2]),
		"leads.ods":        write(t, "leads.ods", ods),
		"truncated.ods":    write(t, "truncated.ods", ods[:len(ods)*2/3]),
		"prospects.ods":    "../testdata/ods/prospects.ods",
	}
}

// TestSameAsInProcess checks that a child gives what the reader gives in this process: the
// header, every batch and its checkpoint, the row numbers, cells and skip reasons, the count,
// and the errors, whose kind crosses the pipe, from the start and resumed.
func TestSameAsInProcess(t *testing.T) {
	tempDir(t)
	p := &isolate.Parser{}
	for name, path := range fixtures(t) {
		for _, opts := range []read.Options{{}, {CSV: read.CSVOptions{StartRow: 5}}} {
			want := readAll(t, func() (read.Reader, error) { return read.Open(open(t, path), opts) }, 7)
			got := readAll(t, func() (read.Reader, error) { return p.Open(open(t, path), opts) }, 7)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s from row %d:\n got %+v\nwant %+v", name, opts.CSV.StartRow, got, want)
			}
			if opts.CSV.StartRow == 0 && want.Err == "" && len(want.Batches) == 0 {
				t.Errorf("%s: no rows read; the fixture tests nothing", name)
			}
			if opts.CSV.StartRow == 0 && (name == "leads.xlsx" || name == "prospects.xls") && !hasTyped(want) {
				t.Errorf("%s: no row has typed cells; the fixture does not test them", name)
			}

			if opts.CSV.StartRow > 0 {
				continue // counting from the start is enough
			}
			wantN, wantErr := count(read.Open(open(t, path), opts))
			gotN, gotErr := count(p.Open(open(t, path), opts))
			if gotN != wantN || errText(gotErr) != errText(wantErr) {
				t.Errorf("%s count: got %d, %v; want %d, %v", name, gotN, gotErr, wantN, wantErr)
			}
			for _, kind := range []error{read.ErrFormat, read.ErrEmpty, read.ErrNoHeader} {
				if errors.Is(gotErr, kind) != errors.Is(wantErr, kind) {
					t.Errorf("%s: errors.Is(%v, %v) differs from this process's", name, gotErr, kind)
				}
			}
		}
	}
}

// TestEncrypted checks that a child reads a workbook encrypted with Excel's default password as
// this process reads it unencrypted, and refuses one with another password as this process
// does, leaving no temporary file.
func TestEncrypted(t *testing.T) {
	tempDir(t)
	p := &isolate.Parser{}
	files := fixtures(t)
	want := readAll(t, func() (read.Reader, error) { return read.Open(open(t, files["leads.xlsx"]), read.Options{}) }, 7)
	got := readAll(t, func() (read.Reader, error) { return p.Open(open(t, files["encrypted.xlsx"]), read.Options{}) }, 7)
	if want.Err != "" || !reflect.DeepEqual(got, want) {
		t.Errorf("encrypted:\n got %+v\nwant %+v", got, want)
	}
	_, err := p.Open(open(t, files["protected.xlsx"]), read.Options{})
	const msg = "the XLSX file is protected with a password: open it in Excel, remove the password (File > Info > Protect Workbook > Encrypt with Password, clear it) and save it, then import it again"
	if err == nil || !errors.Is(err, read.ErrFormat) || !strings.Contains(err.Error(), msg) {
		t.Errorf("protected: %v", err)
	}
}

func hasTyped(s sheet) bool {
	for _, b := range s.Batches {
		for _, r := range b.Rows {
			if r.Typed != nil {
				return true
			}
		}
	}
	return false
}

func count(r read.Reader, err error) (int, error) {
	if err != nil {
		return 0, err
	}
	return r.CountRows()
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestSheetName checks that the child names the worksheet it reads: in poi-TwoSheetsOneHidden,
// whose first sheet is hidden, the visible one, unless the sheet option names the hidden one
// (in another case than the workbook's).
func TestSheetName(t *testing.T) {
	tempDir(t)
	p := &isolate.Parser{}
	for _, name := range []string{"poi-TwoSheetsOneHidden.xlsx", "poi-TwoSheetsOneHidden.xls"} {
		path := corpus.Path(t, name)
		for option, want := range map[string]string{"": "Sheet2", "sheet1": "Sheet1"} {
			r, err := p.Open(open(t, path), read.Options{Sheet: option})
			if err != nil {
				t.Fatalf("%s, sheet %q: %v", name, option, err)
			}
			if got := r.(read.SheetReader).Sheet(); got != want {
				t.Errorf("%s, sheet option %q: reads sheet %q, want %q", name, option, got, want)
			}
			if got := r.Header(); !slices.Equal(got, []string{want + "A1"}) {
				t.Errorf("%s, sheet option %q: header %q, want [%sA1]", name, option, got, want)
			}
			r.(io.Closer).Close()
		}
	}
}

// TestCSVInProcess checks that a CSV file is read by this process's reader, not a child's.
func TestCSVInProcess(t *testing.T) {
	p := &isolate.Parser{Command: "/nonexistent"}
	r, err := p.Open(open(t, write(t, "a.csv", []byte("Email\na@example.com\n"))), read.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.(*read.CSV); !ok {
		t.Errorf("reader %T, want *read.CSV", r)
	}
}

// TestSpreadsheetsInChild checks that every spreadsheet format is read by a child: with no
// child to start, each fails with ErrNotStarted.
func TestSpreadsheetsInChild(t *testing.T) {
	tempDir(t)
	p := &isolate.Parser{Command: "/nonexistent"}
	for _, name := range []string{"leads.xlsx", "prospects.xls", "leads.ods"} {
		f := open(t, fixtures(t)[name])
		if format, err := read.Detect(f); err != nil || format != strings.TrimPrefix(filepath.Ext(name), ".") {
			t.Errorf("%s: Detect = %q, %v", name, format, err)
		}
		if _, err := p.Open(f, read.Options{}); !errors.Is(err, isolate.ErrNotStarted) {
			t.Errorf("%s: error %v, want ErrNotStarted: the file was not given to a child", name, err)
		}
	}
}

// TestNotStarted checks that a child that cannot start, or fails for a reason of its own, is
// the machine's error, not the file's.
func TestNotStarted(t *testing.T) {
	tempDir(t)
	dir := t.TempDir()
	failing := filepath.Join(dir, "failing.sh")
	if err := os.WriteFile(failing, []byte("#!/bin/sh\necho 'leadpipe spreadsheet parser: CPU limit: operation not permitted' >&2\nexit 3\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	for cmd, want := range map[string]string{
		filepath.Join(dir, "missing"): "cannot start the spreadsheet parser: fork/exec ",
		failing:                       "cannot start the spreadsheet parser: leadpipe spreadsheet parser: CPU limit: operation not permitted",
	} {
		p := &isolate.Parser{Command: cmd}
		_, err := p.Open(open(t, fixtures(t)["leads.xlsx"]), read.Options{})
		if !errors.Is(err, isolate.ErrNotStarted) || errors.Is(err, read.ErrFormat) || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: error %v, want ErrNotStarted starting %q", filepath.Base(cmd), err, want)
		}
	}
}

// TestCrashes checks how a child that dies is reported: a panic with its message, a kill by
// its signal, garbage on its output as malformed; and that nothing is left behind.
func TestCrashes(t *testing.T) {
	tempDir(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		name, script, want string
	}{
		{"panic", `echo 'panic: runtime error: index out of range [-1]' >&2; echo 'goroutine 1 [running]:' >&2; exit 2`,
			"the file is malformed: the spreadsheet parser crashed on it (exit status 2: panic: runtime error: index out of range [-1])"},
		{"killed", `kill -9 $$`, "the file is malformed: the spreadsheet parser crashed on it (killed by killed; the machine may be out of memory)"},
		{"silent", `exit 0`, "the file is malformed: the spreadsheet parser crashed on it (it ended its output early, then exited normally)"},
		{"garbage", `printf 'H\377\377\377\377\377\377\377\377\001'; sleep 60`,
			"the file is malformed: the spreadsheet parser crashed on it (malformed message from the spreadsheet parser: 144115188075855871 is more than 2147483648)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			script := filepath.Join(dir, tc.name+".sh")
			if err := os.WriteFile(script, []byte("#!/bin/sh\n"+tc.script+"\n"), 0o700); err != nil {
				t.Fatal(err)
			}
			p := &isolate.Parser{Command: script}
			start := time.Now()
			_, err := p.Open(open(t, fixtures(t)["leads.xlsx"]), read.Options{})
			if !errors.Is(err, isolate.ErrCrashed) || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error %v\nwant ErrCrashed starting %q", err, tc.want)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %s", d)
			}
		})
	}
}

// TestDiesAfterHeader checks a child that dies after it sent the header: the rows it was to
// send are the file's error, not an empty sheet.
func TestDiesAfterHeader(t *testing.T) {
	tempDir(t)
	script := filepath.Join(t.TempDir(), "header-only.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nprintf 'H\\001\\004xlsx\\006Sheet1\\001\\005Email'\nexit 0\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	p := &isolate.Parser{Command: script}
	for _, use := range []func(read.Reader) error{
		func(r read.Reader) error { _, err := r.CountRows(); return err },
		func(r read.Reader) error { _, err := r.Source(10).Next(context.Background()); return err },
	} {
		r, err := p.Open(open(t, fixtures(t)["leads.xlsx"]), read.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if h := r.Header(); len(h) != 1 || h[0] != "Email" {
			t.Errorf("header %q", h)
		}
		if err := use(r); !errors.Is(err, isolate.ErrCrashed) {
			t.Errorf("error %v, want ErrCrashed", err)
		}
	}
}

// TestCancel checks that cancelling a read kills the child at once and leaves nothing behind.
func TestCancel(t *testing.T) {
	tempDir(t)
	path := bigSheet(t, 20_000)
	r, err := (&isolate.Parser{}).Open(open(t, path), read.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	src := r.Source(100)
	if _, err := src.Next(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	start := time.Now()
	if _, err := src.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Next after cancel: %v", err)
	}
	if _, err := src.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Next again: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s", d)
	}
}

// TestCloseEarly checks that closing a reader before its end stops the child.
func TestCloseEarly(t *testing.T) {
	tempDir(t)
	r, err := (&isolate.Parser{}).Open(open(t, bigSheet(t, 20_000)), read.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Source(10).Next(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := r.(io.Closer).Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Source(10).Next(context.Background()); !errors.Is(err, io.EOF) {
		t.Errorf("Next after Close: %v", err)
	}
}

// TestLimits checks that a child past its memory or its CPU limit is stopped and the file
// fails with a message naming the limit, while the same file reads whole within ample limits.
// The file needs both: 60 MB of shared strings, held in memory, and 6M numbers to show
// (several CPU-seconds).
func TestLimits(t *testing.T) {
	tempDir(t)
	bin := buildLeadpipe(t)
	const rows = 200_000
	path := costlySheet(t, rows)
	inMemory := read.Options{MaxSheetXMLBytes: 1 << 30} // the shared strings in memory

	all := func(p *isolate.Parser) (int, error) {
		r, err := p.Open(open(t, path), inMemory)
		if err != nil {
			return 0, err
		}
		return r.CountRows()
	}
	n, err := all(&isolate.Parser{Command: bin, MemoryBytes: 1 << 30, CPU: time.Minute})
	if err != nil || n != rows {
		t.Fatalf("within the limits: %d rows, %v", n, err)
	}
	_, err = all(&isolate.Parser{Command: bin, MemoryBytes: 32 << 20, CPU: time.Minute})
	const wantMem = "the file is too large or malformed: parsing it went over the parser's limits: it needed more than the memory limit of 32 MiB (setting sheet_memory_limit)"
	if !errors.Is(err, isolate.ErrLimit) || err.Error() != wantMem {
		t.Errorf("memory: %v\nwant %s", err, wantMem)
	}
	_, err = all(&isolate.Parser{Command: bin, MemoryBytes: 1 << 30, CPU: time.Second})
	const wantCPU = "the file is too large or malformed: parsing it went over the parser's limits: it took more than the CPU time limit of 1s (setting sheet_cpu_limit)"
	if !errors.Is(err, isolate.ErrLimit) || err.Error() != wantCPU {
		t.Errorf("CPU: %v\nwant %s", err, wantCPU)
	}
}

// bigSheet writes a workbook of n data rows of four cells, its parts written here rather than
// by excelize, which takes seconds for a large sheet under the race detector.
func bigSheet(t *testing.T, n int) string {
	t.Helper()
	var sheet strings.Builder
	sheet.WriteString(`<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
	sheet.WriteString(`<row r="1"><c r="A1" t="inlineStr"><is><t>Email</t></is></c><c r="B1" t="inlineStr"><is><t>First Name</t></is></c><c r="C1" t="inlineStr"><is><t>Last Name</t></is></c><c r="D1" t="inlineStr"><is><t>Company</t></is></c></row>`)
	for i := 2; i <= n+1; i++ {
		fmt.Fprintf(&sheet, `<row r="%d"><c r="A%[1]d" t="inlineStr"><is><t>someone%[1]d@example.com</t></is></c><c r="B%[1]d" t="inlineStr"><is><t>Someone</t></is></c><c r="C%[1]d" t="inlineStr"><is><t>Else</t></is></c><c r="D%[1]d"><v>%[1]d</v></c></row>`, i)
	}
	sheet.WriteString(`</sheetData></worksheet>`)
	return sheetFile(t, sheet.String(), "")
}

// costlySheet writes a workbook of n data rows, each a shared string of 300 characters and 30
// numbers.
func costlySheet(t *testing.T, n int) string {
	t.Helper()
	var sst, sheet strings.Builder
	sst.WriteString(`<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`)
	sheet.WriteString(`<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
	numbers := strings.Repeat(`<c><v>12345.678901</v></c>`, 30)
	text := strings.Repeat("x", 290)
	for i := range n + 1 {
		fmt.Fprintf(&sst, `<si><t>%s%010d</t></si>`, text, i)
		fmt.Fprintf(&sheet, `<row><c t="s"><v>%d</v></c>%s</row>`, i, numbers)
	}
	sst.WriteString(`</sst>`)
	sheet.WriteString(`</sheetData></worksheet>`)
	return sheetFile(t, sheet.String(), sst.String())
}

// sheetFile writes a workbook of one worksheet, with shared strings when sst is not "".
func sheetFile(t *testing.T, sheet, sst string) string {
	t.Helper()
	const rels = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
	parts := [][2]string{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
			`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>` +
			`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
			`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="` + rels + `/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{"xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="` + rels + `">` +
			`<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="` + rels + `/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`},
		{"xl/worksheets/sheet1.xml", sheet},
	}
	if sst != "" {
		parts = append(parts, [2]string{"xl/sharedStrings.xml", sst})
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestSpeed) })
	for _, p := range parts {
		w, err := zw.Create(p[0])
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, p[1])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return write(t, "big.xlsx", buf.Bytes())
}

// buildLeadpipe builds the leadpipe command, without the race detector.
func buildLeadpipe(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "leadpipe")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/leadpipe/leadpipe/cmd/leadpipe")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/leadpipe: %v\n%s", err, out)
	}
	return bin
}
