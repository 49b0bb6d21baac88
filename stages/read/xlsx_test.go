package read_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/stages/read"
	"github.com/xuri/excelize/v2"
)

// The workbooks of these tests are built here: with excelize's StreamWriter and cell API
// (xlsxLeadsBook), and by hand from XML parts (xlsxParts) for what excelize does not write:
// Excel's float noise, over-long cells and hostile files.

// sheetRow is a row as a test expects it: its number, its cells, and its skip detail.
// xlsxTempDir makes a fresh directory the temporary directory of the test (where the reader
// puts excelize's temporary files) and checks at the end that nothing is left in it.
func xlsxTempDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tmp")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", dir)
	t.Cleanup(func() { xlsxNoTempFiles(t, dir) })
	return dir
}

func xlsxNoTempFiles(t testing.TB, dir string) {
	t.Helper()
	if left := xlsxTempFiles(t, dir); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// xlsxTempFiles lists the reader's and excelize's temporary files and directories in dir.
func xlsxTempFiles(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "leadpipe-xlsx-") || strings.HasPrefix(e.Name(), "excelize-") {
			names = append(names, e.Name())
		}
	}
	return names
}

// xlsxWrite writes data to a file in a directory of its own and returns its path.
func xlsxWrite(t testing.TB, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "book.xlsx")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// xlsxOpen opens the file at path with read.Open.
func xlsxOpen(t testing.TB, path string, opts read.Options) (read.Reader, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return read.Open(f, opts)
}

func xlsxCheckRows(t *testing.T, got, want []sheetRow) {
	t.Helper()
	for i := range max(len(got), len(want)) {
		switch {
		case i >= len(got):
			t.Errorf("missing row %d %q", want[i].n, want[i].cells)
		case i >= len(want):
			t.Errorf("extra row %d %q %q", got[i].n, got[i].cells, got[i].why)
		case got[i].n != want[i].n || !reflect.DeepEqual(got[i].cells, want[i].cells) && len(got[i].cells)+len(want[i].cells) > 0 ||
			got[i].why != want[i].why:
			t.Errorf("row %d %q (%q), want row %d %q (%q)", got[i].n, got[i].cells, got[i].why,
				want[i].n, want[i].cells, want[i].why)
		}
	}
}

func xlsxCheck(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// xlsxStyle adds a cell style with a built-in (int) or custom (string) number format.
func xlsxStyle(t testing.TB, f *excelize.File, numFmt any) int {
	t.Helper()
	st := &excelize.Style{}
	switch v := numFmt.(type) {
	case int:
		st.NumFmt = v
	case string:
		st.CustomNumFmt = &v
	}
	id, err := f.NewStyle(st)
	xlsxCheck(t, err)
	return id
}

// xlsxLeadsBook builds a workbook of two sheets: Leads, written with the StreamWriter (inline
// strings, numbers, dates, booleans, a header on row 3 with a merged cell, blank rows), and
// Archive, written with the cell API (shared strings).
func xlsxLeadsBook(t testing.TB) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	xlsxCheck(t, f.SetSheetName("Sheet1", "Leads"))
	date := xlsxStyle(t, f, 14) // m/d/yyyy
	dateTime := xlsxStyle(t, f, "m/d/yyyy h:mm AM/PM")
	clock := xlsxStyle(t, f, 20)            // h:mm
	zip := xlsxStyle(t, f, "00000")         // Excel's ZIP code format
	money := xlsxStyle(t, f, `"$"#,##0.00`) // currency
	percent := xlsxStyle(t, f, 9)           // 0%
	general := xlsxStyle(t, f, 0)           // General, in a style of its own
	text := xlsxStyle(t, f, 49)             // @
	sw, err := f.NewStreamWriter("Leads")
	xlsxCheck(t, err)
	c := func(style int, v any) excelize.Cell { return excelize.Cell{StyleID: style, Value: v} }
	rows := []struct {
		cell string
		vals []any
	}{
		{"A2", []any{"   ", nil, "\t"}}, // blank, written; row 1 is not written at all
		{"A3", []any{"Email", " Name ", nil, "Phone", "ID", "Score", "Signed Up", "Active",
			"Last Contact", "Call At", "Zip", "Revenue", "Share", "   ", nil}},
		{"A4", []any{"ann@example.com", "Ann", "Lee", 15551234567, 1234567890123456, 42.5,
			c(date, 45306), true, c(dateTime, 45306.75), c(clock, 0.5625), c(zip, 2134),
			c(money, 1234.5), c(percent, 0.25)}},
		{"A5", []any{nil, "  "}}, // blank
		// row 6 is not written
		{"A7", []any{"bob@example.com", "Bob", nil, c(general, 15551234568), c(general, 7), c(text, 0.1),
			c(date, time.Date(2023, 12, 31, 0, 0, 0, 0, time.UTC)), false, nil, nil, c(zip, 90210)}},
		{"A8", []any{"cy@example.com", "Cy", "Ng", nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, " ", " "}},
		{"A9", []any{"dee@example.com", "Dee", nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, "extra"}},
		{"A10", []any{"TRUE", c(date, "not a date"), -3, 1e-7, c(percent, -0.5)}},
	}
	for _, r := range rows {
		xlsxCheck(t, sw.SetRow(r.cell, r.vals))
	}
	xlsxCheck(t, sw.MergeCell("B3", "C3"))
	xlsxCheck(t, sw.Flush())

	_, err = f.NewSheet("Archive")
	xlsxCheck(t, err)
	for cell, v := range map[string]any{
		"A1": "Email", "B1": "Company", "C1": "Employees",
		"A2": "eve@example.com", "B2": "Acme", "C2": 250,
		"A3": "fay@example.com", "B3": "Acme", "C3": 12.75,
	} {
		xlsxCheck(t, f.SetCellValue("Archive", cell, v))
	}
	var buf bytes.Buffer
	xlsxCheck(t, f.Write(&buf))
	return buf.Bytes()
}

var xlsxLeadsHeader = []string{"Email", "Name", "", "Phone", "ID", "Score", "Signed Up", "Active",
	"Last Contact", "Call At", "Zip", "Revenue", "Share"}

var xlsxLeadsRows = []sheetRow{
	{n: 4, cells: []string{"ann@example.com", "Ann", "Lee", "15551234567", "1234567890123460", "42.5",
		"2024-01-15", "true", "2024-01-15 18:00:00", "13:30:00", "02134", "$1,234.50", "25%"}},
	{n: 7, cells: []string{"bob@example.com", "Bob", "", "15551234568", "7", "0.1", "2023-12-31", "false",
		"", "", "90210"}},
	{n: 8, cells: []string{"cy@example.com", "Cy", "Ng"}},
	{n: 9, cells: []string{"dee@example.com", "Dee", "", "", "", "", "", "", "", "", "", "", "", "", "extra"},
		why: "row has 15 cells but the header has 13"},
	{n: 10, cells: []string{"TRUE", "not a date", "-3", "0.0000001", "-50%"}}, // A10 is the text TRUE
}

// xlsxLeadsTyped are the typed cells of the Leads sheet's rows: the numbers its formats show
// otherwise than as their plain decimal.
var xlsxLeadsTyped = map[int][]string{
	4:  {"", "", "", "", "", "", "", "", "", "", "2134", "1234.5", "0.25"},
	10: {"", "", "", "", "-0.5"},
}

func TestXLSXLeads(t *testing.T) {
	xlsxTempDir(t)
	path := xlsxWrite(t, xlsxLeadsBook(t))
	for _, size := range []int{1, 2, 1000} {
		r, err := xlsxOpen(t, path, read.Options{})
		xlsxCheck(t, err)
		if r.Format() != "xlsx" || r.HeaderRow() != 3 || !reflect.DeepEqual(r.Header(), xlsxLeadsHeader) {
			t.Fatalf("format %q, header row %d %q", r.Format(), r.HeaderRow(), r.Header())
		}
		rows, batches, err := drainSheet(t, r, size)
		xlsxCheck(t, err)
		xlsxCheckRows(t, rows, xlsxLeadsRows)
		checkTyped(t, typedRows(batches), xlsxLeadsTyped)
		if last := batches[len(batches)-1].LastRow; last != 10 {
			t.Errorf("size %d: last batch's LastRow %d, want 10", size, last)
		}
		if size == 1 {
			var lasts []int
			for _, b := range batches {
				lasts = append(lasts, b.LastRow)
			}
			if want := []int{4, 7, 8, 9, 10}; !reflect.DeepEqual(lasts, want) {
				t.Errorf("LastRow of batches %v, want %v", lasts, want)
			}
		}
	}

	r, err := xlsxOpen(t, path, read.Options{})
	xlsxCheck(t, err)
	if n, err := r.CountRows(); n != len(xlsxLeadsRows) || err != nil {
		t.Errorf("CountRows = %d, %v; want %d", n, err, len(xlsxLeadsRows))
	}
	if n, err := r.CountRows(); n != 0 || err != nil {
		t.Errorf("CountRows again = %d, %v; want 0, nil", n, err)
	}
}

func TestXLSXSheets(t *testing.T) {
	xlsxTempDir(t)
	path := xlsxWrite(t, xlsxLeadsBook(t))
	for _, name := range []string{"Archive", "archive"} {
		r, err := xlsxOpen(t, path, read.Options{Sheet: name})
		xlsxCheck(t, err)
		if r.HeaderRow() != 1 || !reflect.DeepEqual(r.Header(), []string{"Email", "Company", "Employees"}) {
			t.Errorf("sheet %s: header row %d %q", name, r.HeaderRow(), r.Header())
		}
		if x, ok := r.(*read.XLSX); !ok || x.Sheet() != "Archive" {
			t.Errorf("sheet %s: reader %T", name, r)
		}
		rows, _, err := drainSheet(t, r, 10)
		xlsxCheck(t, err)
		xlsxCheckRows(t, rows, []sheetRow{
			{n: 2, cells: []string{"eve@example.com", "Acme", "250"}},
			{n: 3, cells: []string{"fay@example.com", "Acme", "12.75"}},
		})
	}
	r, err := xlsxOpen(t, path, read.Options{Sheet: "Leads"})
	xlsxCheck(t, err)
	if r.HeaderRow() != 3 {
		t.Errorf("sheet Leads: header row %d", r.HeaderRow())
	}
	xlsxCheck(t, r.(io.Closer).Close())

	_, err = xlsxOpen(t, path, read.Options{Sheet: "Prospects"})
	if err == nil || !strings.Contains(err.Error(), `"Prospects"`) || !strings.Contains(err.Error(), `"Leads", "Archive"`) {
		t.Errorf("unknown sheet: %v", err)
	}
}

func TestXLSXResume(t *testing.T) {
	xlsxTempDir(t)
	path := xlsxWrite(t, xlsxLeadsBook(t))
	for _, tc := range []struct {
		start int
		want  []sheetRow
	}{
		{0, xlsxLeadsRows},
		{3, xlsxLeadsRows},
		{4, xlsxLeadsRows[1:]},
		{6, xlsxLeadsRows[1:]},
		{7, xlsxLeadsRows[2:]},
		{9, xlsxLeadsRows[4:]},
		{10, nil},
		{50, nil},
	} {
		opts := read.Options{CSV: read.CSVOptions{StartRow: tc.start}}
		r, err := xlsxOpen(t, path, opts)
		xlsxCheck(t, err)
		rows, _, err := drainSheet(t, r, 2)
		xlsxCheck(t, err)
		xlsxCheckRows(t, rows, tc.want)

		r, err = xlsxOpen(t, path, opts)
		xlsxCheck(t, err)
		if n, err := r.CountRows(); n != len(tc.want) || err != nil {
			t.Errorf("start %d: CountRows = %d, %v; want %d", tc.start, n, err, len(tc.want))
		}
	}
}

// TestXLSXTempFiles reads through excelize's temporary files (a sheet and shared strings over
// MaxSheetXMLBytes), and checks they are gone whichever way the reader ends.
func TestXLSXTempFiles(t *testing.T) {
	dir := xlsxTempDir(t)
	path := xlsxWrite(t, xlsxLeadsBook(t))
	opts := read.Options{MaxSheetXMLBytes: 64, Sheet: "Archive"}

	r, err := xlsxOpen(t, path, opts)
	xlsxCheck(t, err)
	if len(xlsxTempFiles(t, dir)) == 0 {
		t.Error("no temporary files while reading a sheet over MaxSheetXMLBytes")
	}
	rows, _, err := drainSheet(t, r, 1)
	xlsxCheck(t, err)
	if len(rows) != 2 || rows[1].cells[1] != "Acme" {
		t.Errorf("rows %v", rows)
	}
	xlsxNoTempFiles(t, dir)

	r, err = xlsxOpen(t, path, opts)
	xlsxCheck(t, err)
	_, err = r.CountRows()
	xlsxCheck(t, err)
	xlsxNoTempFiles(t, dir)

	r, err = xlsxOpen(t, path, opts)
	xlsxCheck(t, err)
	xlsxCheck(t, r.(io.Closer).Close())
	xlsxCheck(t, r.(io.Closer).Close())
	xlsxNoTempFiles(t, dir)
	if _, err := r.Source(1).Next(context.Background()); err != io.EOF {
		t.Errorf("Next after Close: %v", err)
	}

	// A cancelled source ends the reader too.
	r, err = xlsxOpen(t, path, opts)
	xlsxCheck(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Source(1).Next(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Next with a cancelled context: %v", err)
	}
	xlsxNoTempFiles(t, dir)
}

// xlsxParts builds an XLSX file from XML parts: a workbook of one sheet (sheet1.xml) unless
// parts say otherwise. A nil part is left out.
func xlsxParts(t testing.TB, parts map[string]string) []byte {
	t.Helper()
	all := map[string]string{
		"[Content_Types].xml": `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
			`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>` +
			`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
			`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`,
		"_rels/.rels": `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
		"xl/workbook.xml": `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">` +
			`<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels": `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>` +
			`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>` +
			`<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>`,
	}
	for name, p := range parts {
		all[name] = p
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := []string{"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
		"xl/styles.xml", "xl/sharedStrings.xml", "xl/worksheets/sheet1.xml"}
	for _, name := range slices.Sorted(maps.Keys(parts)) { // parts of other names, after those
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	for _, name := range names {
		p, ok := all[name]
		if !ok || p == "\x00" {
			continue
		}
		w, err := zw.Create(name)
		xlsxCheck(t, err)
		_, err = io.WriteString(w, p)
		xlsxCheck(t, err)
	}
	xlsxCheck(t, zw.Close())
	return buf.Bytes()
}

// xlsxSheet returns a worksheet part with the given rows (each a row element's content).
func xlsxSheet(rows ...string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
	for i, r := range rows {
		fmt.Fprintf(&b, `<row r="%d">%s</row>`, i+1, r)
	}
	b.WriteString(`</sheetData></worksheet>`)
	return b.String()
}

// xlsxSST returns a shared strings part.
func xlsxSST(strs ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">`, len(strs), len(strs))
	for _, s := range strs {
		fmt.Fprintf(&b, `<si><t>%s</t></si>`, s)
	}
	b.WriteString(`</sst>`)
	return b.String()
}

// xlsxStyles returns a styles part whose cell styles 1, 2 … have the given number format IDs;
// custom formats are numbered from 164.
func xlsxStyles(numFmtIDs []int, custom ...string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`)
	if len(custom) > 0 {
		fmt.Fprintf(&b, `<numFmts count="%d">`, len(custom))
		for i, c := range custom {
			fmt.Fprintf(&b, `<numFmt numFmtId="%d" formatCode="%s"/>`, 164+i, strings.ReplaceAll(c, `"`, "&quot;"))
		}
		b.WriteString(`</numFmts>`)
	}
	b.WriteString(`<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>` +
		`<fills count="1"><fill><patternFill patternType="none"/></fill></fills><borders count="1"><border/></borders>` +
		`<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>`)
	fmt.Fprintf(&b, `<cellXfs count="%d"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>`, len(numFmtIDs)+1)
	for _, id := range numFmtIDs {
		fmt.Fprintf(&b, `<xf numFmtId="%d" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>`, id)
	}
	b.WriteString(`</cellXfs></styleSheet>`)
	return b.String()
}

// TestXLSXValues reads values as Excel writes them, which excelize's writer does not: full
// precision floats with their binary noise, exponent forms, shared strings, formulas, errors.
func TestXLSXValues(t *testing.T) {
	xlsxTempDir(t)
	long := strings.Repeat("é", 32767)
	styles := xlsxStyles([]int{14, 22, 164, 165, 166, 167, 168, 169, 170, 4, 49, 0, 10},
		`dd/mm/yyyy`, `[$-409]mmmm d, yyyy;@`, `yyyy-mm-dd hh:mm:ss.000`, `[h]:mm`, `mmm-yy`, `00000-0000`, `#,##0 "days"`)
	sheet := xlsxSheet(
		`<c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="inlineStr"><is><t>Value</t></is></c>`,
		`<c r="A2" t="s"><v>2</v></c><c r="B2" t="str"><f>A2&amp;"!"</f><v>noise!</v></c><c r="C2"><v>42.000000000000007</v></c>`,
		`<c r="A3"><v>0.30000000000000004</v></c><c r="B3"><v>1.0000000000000001E-7</v></c><c r="C3"><v>1.5551234567E10</v></c>`,
		`<c r="A4" s="1"><v>45306</v></c><c r="B4" s="2"><v>45306.5</v></c><c r="C4" s="3"><v>45306</v></c>`,
		`<c r="A5" s="4"><v>45306.25</v></c><c r="B5" s="5"><v>45306.999999</v></c><c r="C5" s="6"><v>1.75</v></c>`,
		`<c r="A6" s="7"><v>45306</v></c><c r="B6" s="8"><v>21341234</v></c><c r="C6" s="9"><v>12.5</v></c>`,
		`<c r="A7" s="10"><v>1234567.891</v></c><c r="B7" s="11"><v>5</v></c><c r="C7" s="12"><v>12345678901234567890</v></c>`,
		`<c r="A8" t="b"><v>1</v></c><c r="B8" t="b"><v>0</v></c><c r="C8" t="e"><v>#N/A</v></c>`,
		`<c r="A9" t="inlineStr"><is><t>`+long+`</t></is></c><c r="B9" t="inlineStr"><is><t>`+long+`x</t></is></c><c r="C9"><v>1</v></c>`,
		`<c r="A10" t="inlineStr"><is><r><t>rich </t></r><r><t>text</t></r></is></c><c r="B10" s="1" t="s"><v>3</v></c><c r="C10"><f>1+1</f><v>2</v></c>`,
		`<c r="A11" t="s"><v>4</v></c>`,
		// Text that looks like a boolean or a number in exponent form stays as it is, text to every
		// field; a number of 16 digits reads as its 15 significant digits.
		`<c r="A12" t="s"><v>5</v></c><c r="B12" t="s"><v>6</v></c><c r="C12"><v>1234567890123456</v></c>`,
		// 0.00%: 2/3 has 15 significant digits and more (read from the raw value); a boolean in it.
		`<c r="A13" s="13"><v>0.66666666666666663</v></c><c r="B13" s="13"><v>0.25</v></c><c r="C13" s="13" t="b"><v>1</v></c>`,
		`<c r="A14" s="10"><v>12345678.123456789</v></c><c r="B14" s="10"><v>1234567890123456</v></c><c r="C14" s="13"><v>0.123456789012345678</v></c>`,
	)
	path := xlsxWrite(t, xlsxParts(t, map[string]string{
		"xl/styles.xml":            styles,
		"xl/sharedStrings.xml":     xlsxSST("Name", " Kind ", "Anne &amp; Co", "2024-01-15", "  ", "TRUE", "1.23E+04"),
		"xl/worksheets/sheet1.xml": sheet,
	}))
	r, err := xlsxOpen(t, path, read.Options{})
	xlsxCheck(t, err)
	if want := []string{"Name", "Kind", "Value"}; !reflect.DeepEqual(r.Header(), want) {
		t.Errorf("header %q, want %q", r.Header(), want)
	}
	rows, batches, err := drainSheet(t, r, 100)
	xlsxCheck(t, err)
	xlsxCheckRows(t, rows, []sheetRow{
		{n: 2, cells: []string{"Anne & Co", "noise!", "42"}},
		{n: 3, cells: []string{"0.3", "0.0000001", "15551234567"}},
		{n: 4, cells: []string{"2024-01-15", "2024-01-15 12:00:00", "2024-01-15"}},
		{n: 5, cells: []string{"2024-01-15", "2024-01-16 00:00:00", "42:00:00"}}, // 23:59:59.914 rounds up
		{n: 6, cells: []string{"2024-01-15", "02134-1234", "13 days"}},
		{n: 7, cells: []string{"1,234,567.89", "5", "12345678901234600000"}},
		{n: 8, cells: []string{"true", "false", "#N/A"}},
		{n: 9, cells: []string{long, "", "1"}, why: "cell B9 is longer than 32767 characters"},
		{n: 10, cells: []string{"rich text", "2024-01-15", "2"}},
		{n: 12, cells: []string{"TRUE", "1.23E+04", "1234567890123460"}},
		{n: 13, cells: []string{"66.67%", "25.00%", "true"}},
		{n: 14, cells: []string{"12,345,678.12", "1,234,567,890,123,460.00", "12.35%"}},
	})
	checkTyped(t, typedRows(batches), map[int][]string{
		6:  {"", "21341234", "12.5"},
		7:  {"1234567.891", "", ""},
		13: {"0.666666666666667", "0.25", ""},
		14: {"12345678.1234568", "1234567890123460", "0.123456789012346"}, // 15 digits, rounded
	})
}

// TestXLSXDate1904 reads dates of workbooks on the 1904 date system, where serial 0 is
// 1904-01-01 (excelize read serials below 61 as on the 1900 system: 1 as 1900-01-03, 11 as
// 1904-01-13), and serial 0 on the 1900 system, which Excel shows as 1900-01-00.
func TestXLSXDate1904(t *testing.T) {
	xlsxTempDir(t)
	book := func(date1904 bool, rows ...string) string {
		pr := ""
		if date1904 {
			pr = `<workbookPr date1904="1"/>`
		}
		return xlsxWrite(t, xlsxParts(t, map[string]string{
			"xl/workbook.xml": `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">` +
				pr + `<sheets><sheet name="Mac" sheetId="1" r:id="rId1"/></sheets></workbook>`,
			"xl/styles.xml":            xlsxStyles([]int{14, 22, 0}),
			"xl/worksheets/sheet1.xml": xlsxSheet(append([]string{`<c r="A1" t="inlineStr"><is><t>Born</t></is></c><c r="B1" t="inlineStr"><is><t>Seen</t></is></c>`}, rows...)...),
		}))
	}
	for _, tc := range []struct {
		name  string
		path  string
		start int // resume after this row
		want  []sheetRow
	}{
		{"1904", book(true,
			`<c r="A2" s="1"><v>43844</v></c><c r="B2" s="2"><v>100.5</v></c>`,
			`<c r="A3" s="1"><v>0</v></c><c r="B3" s="2"><v>0.5</v></c>`,
			`<c r="A4" s="1"><v>1</v></c><c r="B4" s="2"><v>11.25</v></c>`,
			`<c r="A5" s="1"><v>59</v></c><c r="B5" s="2"><v>60</v></c>`,
			`<c r="A6" s="1"><v>30</v></c><c r="B6" s="2"><v>60.999999</v></c>`,
			`<c r="A7" s="1" t="inlineStr"><is><t>1904-01-13</t></is></c><c r="B7" s="3"><v>11</v></c>`,
		), 0, []sheetRow{
			{n: 2, cells: []string{"2024-01-15", "1904-04-10 12:00:00"}},
			{n: 3, cells: []string{"1904-01-01", "1904-01-01 12:00:00"}},
			{n: 4, cells: []string{"1904-01-02", "1904-01-12 06:00:00"}},
			{n: 5, cells: []string{"1904-02-29", "1904-03-01 00:00:00"}},
			{n: 6, cells: []string{"1904-01-31", "1904-03-02 00:00:00"}},
			{n: 7, cells: []string{"1904-01-13", "11"}},
		}},
		{"1904 resumed", book(true,
			`<c r="A2" s="1"><v>0</v></c>`, `<c r="A3" s="1"><v>1</v></c>`, `<c r="A4" s="1"><v>11</v></c>`,
		), 3, []sheetRow{{n: 4, cells: []string{"1904-01-12"}}}},
		{"1900", book(false,
			`<c r="A2" s="1"><v>0</v></c><c r="B2" s="2"><v>0.5</v></c>`,
			`<c r="A3" s="1"><v>1</v></c><c r="B3" s="2"><v>61</v></c>`,
		), 0, []sheetRow{
			{n: 2, cells: []string{"1900-01-00", "1900-01-00 12:00:00"}},
			{n: 3, cells: []string{"1900-01-01", "1900-03-01 00:00:00"}},
		}},
		// B shows as dates C computes with TEXT(B, "YYYY-MM-DD") and D takes with T(C).
		{"sheetjs-1904.xlsx", corpusFile(t, "sheetjs-1904.xlsx"), 0, []sheetRow{
			{n: 2, cells: []string{"11", "1904-01-12", "1904-01-12", "1904-01-12"}},
			{n: 3, cells: []string{"111", "1904-04-21", "1904-04-21", "1904-04-21"}},
			{n: 4, cells: []string{"1111", "1907-01-16", "1907-01-16", "1907-01-16"}},
			{n: 5, cells: []string{"11111", "1934-06-03", "1934-06-03", "1934-06-03"}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := xlsxOpen(t, tc.path, read.Options{CSV: read.CSVOptions{StartRow: tc.start}})
			xlsxCheck(t, err)
			if tc.name == "sheetjs-1904.xlsx" {
				if want := []string{"1", "1904-01-02", "1904-01-02", "1904-01-02"}; !reflect.DeepEqual(r.Header(), want) {
					t.Errorf("row 1 %q, want %q", r.Header(), want)
				}
			}
			rows, _, err := drainSheet(t, r, 10)
			xlsxCheck(t, err)
			xlsxCheckRows(t, rows, tc.want)
		})
	}
}

// xlsxRawEntry writes a zip entry raw: its content, deflated, under a header that declares
// declared bytes unzipped.
func xlsxRawEntry(t testing.TB, zw *zip.Writer, name string, content []byte, declared uint64) {
	t.Helper()
	var comp bytes.Buffer
	fw, err := flate.NewWriter(&comp, flate.BestCompression)
	xlsxCheck(t, err)
	_, err = fw.Write(content)
	xlsxCheck(t, err)
	xlsxCheck(t, fw.Close())
	w, err := zw.CreateRaw(&zip.FileHeader{
		Name: name, Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(content),
		CompressedSize64: uint64(comp.Len()), UncompressedSize64: declared,
	})
	xlsxCheck(t, err)
	_, err = w.Write(comp.Bytes())
	xlsxCheck(t, err)
}

// xlsxRezip copies the XLSX file data, replacing the part name with a raw entry.
func xlsxRezip(t testing.TB, data []byte, name string, content []byte, declared uint64) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	xlsxCheck(t, err)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, zf := range zr.File {
		if zf.Name == name {
			xlsxRawEntry(t, zw, name, content, declared)
			continue
		}
		xlsxCheck(t, zw.Copy(zf))
	}
	xlsxCheck(t, zw.Close())
	return buf.Bytes()
}

func TestXLSXHostile(t *testing.T) {
	dir := xlsxTempDir(t)
	good := xlsxParts(t, map[string]string{"xl/worksheets/sheet1.xml": xlsxSheet(`<c r="A1" t="inlineStr"><is><t>Email</t></is></c>`)})
	bomb := append([]byte(`<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`),
		bytes.Repeat([]byte(" "), 8<<20)...)
	bomb = append(bomb, `</sheetData></worksheet>`...)
	var stray bytes.Buffer
	zw := zip.NewWriter(&stray)
	w, _ := zw.Create("hello.txt")
	io.WriteString(w, "hello")
	zw.Close()
	corrupt := bytes.Clone(good)
	if i := bytes.Index(corrupt, []byte("xl/worksheets/sheet1.xml")); i > 0 {
		// flip bytes in the compressed data of the first local entry after the name
		for j := i + 30; j < i+40 && j < len(corrupt); j++ {
			corrupt[j] ^= 0x55
		}
	}

	for _, tc := range []struct {
		name string
		data []byte
		opts read.Options
		want string
	}{
		{"not a zip", append([]byte("PK\x03\x04"), bytes.Repeat([]byte("not a zip "), 50)...), read.Options{},
			"the file is not a valid XLSX workbook: zip: not a valid zip file"},
		{"truncated", good[:len(good)*2/3], read.Options{}, "the file is not a valid XLSX workbook: zip: not a valid zip file"},
		{"no workbook", stray.Bytes(), read.Options{}, "the file is a zip archive but not an XLSX workbook: it has no xl/workbook.xml"},
		{"no sheets", xlsxParts(t, map[string]string{"xl/workbook.xml": `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets/></workbook>`}),
			read.Options{}, "the XLSX workbook has no sheets"},
		{"zip bomb", xlsxRezip(t, good, "xl/worksheets/sheet1.xml", bomb, uint64(len(bomb))), read.Options{MaxUnzippedBytes: 1 << 20},
			fmt.Sprintf("the XLSX file unzips to more than the limit of 1048576 bytes (xl/worksheets/sheet1.xml declares %d bytes)", len(bomb))},
		{"lying zip bomb", xlsxRezip(t, good, "xl/worksheets/sheet1.xml", bomb, 1000), read.Options{MaxUnzippedBytes: 1 << 20},
			"part xl/worksheets/sheet1.xml: zip: not a valid zip file"},
		{"corrupt part", corrupt, read.Options{}, "the file is not a valid XLSX workbook: part xl/worksheets/sheet1.xml:"},
		{"bad cell reference in the header", xlsxParts(t, map[string]string{
			"xl/worksheets/sheet1.xml": xlsxSheet(`<c r="A1" t="inlineStr"><is><t>Email</t></is></c><c r="1B"><v>1</v></c>`),
		}), read.Options{}, `the XLSX file is malformed: sheet "Sheet1" row 1: the cell reference "1B" is not valid`},
		{"row number too large", xlsxParts(t, map[string]string{
			"xl/worksheets/sheet1.xml": `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="99999999"><c r="A99999999"><v>1</v></c></row></sheetData></worksheet>`,
		}), read.Options{}, "the XLSX file is malformed: sheet \"Sheet1\" after row 0: row number 99999999 is past Excel's last row, 1048576"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := xlsxOpen(t, xlsxWrite(t, tc.data), tc.opts)
			if err == nil {
				_, err = r.CountRows()
			}
			if !errors.Is(err, read.ErrFormat) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "XLSX") {
				t.Errorf("error %v\nwant ErrFormat with %q", err, tc.want)
			}
			xlsxNoTempFiles(t, dir)
		})
	}
}

// TestXLSXCrafted reads crafted cells: a style index out of range is General; a shared-string
// index out of range (negative, too large) or a cell reference that cannot be read makes the
// row malformed; a number past every date is shown as a number.
func TestXLSXCrafted(t *testing.T) {
	dir := xlsxTempDir(t)
	path := xlsxWrite(t, xlsxParts(t, map[string]string{
		"xl/styles.xml":        xlsxStyles([]int{14}),
		"xl/sharedStrings.xml": xlsxSST("Email", "Name"),
		"xl/worksheets/sheet1.xml": xlsxSheet(
			`<c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>`,
			`<c r="A2" s="999"><v>45306</v></c><c r="B2" s="-5" t="s"><v>1</v></c>`,
			`<c r="A3" t="s"><v>-7</v></c><c r="B3" t="s"><v>1</v></c>`,
			`<c r="A4" t="s"><v>99</v></c>`,
			`<c r="A5" t="s"><v>0</v></c><c r="B0"><v>1</v></c>`,
			`<c r="A6" s="1"><v>1E+300</v></c><c r="B6" s="1"><v>-1</v></c>`,
		),
	}))
	r, err := xlsxOpen(t, path, read.Options{})
	xlsxCheck(t, err)
	rows, _, err := drainSheet(t, r, 10)
	xlsxCheck(t, err)
	xlsxCheckRows(t, rows, []sheetRow{
		{n: 2, cells: []string{"45306", "Name"}},
		{n: 3, cells: []string{"", "Name"}, why: `the cell A3 refers to shared string "-7", which the workbook does not have`},
		{n: 4, why: `the cell A4 refers to shared string "99", which the workbook does not have`},
		{n: 5, cells: []string{"Email", "1"}, why: `the cell reference "B0" is not valid`},
		{n: 6, cells: []string{"1" + strings.Repeat("0", 300), "-1"}},
	})
	xlsxNoTempFiles(t, dir)
}

// TestXLSXPanic checks that a panic while reading, wherever it happens, is the file's error and
// leaves no temporary files.
func TestXLSXPanic(t *testing.T) {
	dir := xlsxTempDir(t)
	path := xlsxWrite(t, xlsxLeadsBook(t))
	opts := read.Options{MaxSheetXMLBytes: 64} // temporary files too
	const want = "unsupported file format: the XLSX file is malformed: index out of range [-1]"
	panicAt := func(at int) func() {
		return read.SetXLSXRowHook(func(n int) {
			if n == at {
				panic("index out of range [-1]")
			}
		})
	}

	restore := panicAt(3) // the header, on row 3 (rows 1 and 2 are blank)
	_, err := xlsxOpen(t, path, opts)
	restore()
	if !errors.Is(err, read.ErrFormat) || err.Error() != want {
		t.Errorf("open: %v", err)
	}
	xlsxNoTempFiles(t, dir)

	restore = panicAt(6) // a data row, after the first batch (row 4)
	defer restore()
	r, err := xlsxOpen(t, path, opts)
	xlsxCheck(t, err)
	src := r.Source(1)
	if _, err := src.Next(context.Background()); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := src.Next(context.Background()); !errors.Is(err, read.ErrFormat) || err.Error() != want {
			t.Errorf("Next: %v", err)
		}
	}
	xlsxNoTempFiles(t, dir)

	restore()
	restore = panicAt(5)
	r, err = xlsxOpen(t, path, opts)
	xlsxCheck(t, err)
	if _, err := r.CountRows(); !errors.Is(err, read.ErrFormat) || err.Error() != want {
		t.Errorf("CountRows: %v", err)
	}
	xlsxNoTempFiles(t, dir)
}

func TestXLSXEmpty(t *testing.T) {
	xlsxTempDir(t)
	for _, tc := range []struct {
		sheet string
		want  error
		text  string
	}{
		{xlsxSheet(), read.ErrEmpty, `the sheet "Sheet1" of the XLSX workbook has no rows`},
		{xlsxSheet(``, `<c r="A2" t="inlineStr"><is><t>  </t></is></c>`, ``), read.ErrNoHeader, `all 3 rows of the sheet "Sheet1" are blank`},
		{xlsxSheet(`<c r="B1" t="inlineStr"><is><t>` + strings.Repeat("x", 32768) + `</t></is></c>`), read.ErrNoHeader,
			"row 1, the first non-blank row of the sheet \"Sheet1\", cannot be read as a header: cell B1 is longer than 32767 characters"},
	} {
		_, err := xlsxOpen(t, xlsxWrite(t, xlsxParts(t, map[string]string{"xl/worksheets/sheet1.xml": tc.sheet})), read.Options{})
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("error %v, want %v with %q", err, tc.want, tc.text)
		}
	}
}

// xlsxBenchBook writes a sheet of rows rows of 14 columns, the way a prospect list looks, and
// returns its path.
func xlsxBenchBook(b *testing.B, rows int) string {
	b.Helper()
	f := excelize.NewFile()
	defer f.Close()
	date := xlsxStyle(b, f, 14)
	zip := xlsxStyle(b, f, "00000")
	money := xlsxStyle(b, f, 4)
	sw, err := f.NewStreamWriter("Sheet1")
	xlsxCheck(b, err)
	header := []any{"Email", "First Name", "Last Name", "Company", "Phone", "ID", "Score", "Created",
		"Active", "City", "State", "Zip", "Revenue", "Notes"}
	xlsxCheck(b, sw.SetRow("A1", header))
	cities := []string{"Springfield", "Riverside", "Franklin", "Greenville", "Madison"}
	row := make([]any, 14)
	for i := range rows {
		row[0] = fmt.Sprintf("person%d@example%d.com", i, i%97)
		row[1] = fmt.Sprintf("First%d", i%1000)
		row[2] = fmt.Sprintf("Last%d", i%5000)
		row[3] = fmt.Sprintf("Company %d Inc", i%3000)
		row[4] = 15550000000 + i
		row[5] = 100000 + i
		row[6] = float64(i%1000) / 8
		row[7] = excelize.Cell{StyleID: date, Value: 40000 + i%5000}
		row[8] = i%2 == 0
		row[9] = cities[i%len(cities)]
		row[10] = "CA"
		row[11] = excelize.Cell{StyleID: zip, Value: 1000 + i%90000}
		row[12] = excelize.Cell{StyleID: money, Value: float64(i) * 1.25}
		row[13] = "Met at the trade show; follow up next quarter"
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		xlsxCheck(b, sw.SetRow(cell, row))
	}
	xlsxCheck(b, sw.Flush())
	path := filepath.Join(b.TempDir(), "bench.xlsx")
	xlsxCheck(b, f.SaveAs(path))
	return path
}

// BenchmarkXLSX compares reading a 200,000-row, 14-column sheet through the reader's Source
// with plain excelize Rows/Columns loops over the same file: one with formatted values (what
// Columns returns by default) and one with raw values (RawCellValue: the least work excelize's
// iterator can do). Each op opens the file and reads every row. The parent logs the reader's
// time relative to both (with -v).
func BenchmarkXLSX(b *testing.B) {
	const rows = 200_000
	path := xlsxBenchBook(b, rows)
	times := map[string]time.Duration{}
	loop := func(name string, opts excelize.Options) {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				f, err := excelize.OpenFile(path)
				xlsxCheck(b, err)
				it, err := f.Rows("Sheet1")
				xlsxCheck(b, err)
				n := 0
				for it.Next() {
					cols, err := it.Columns(opts)
					xlsxCheck(b, err)
					n += len(cols)
				}
				xlsxCheck(b, it.Close())
				xlsxCheck(b, f.Close())
				if n != (rows+1)*14 {
					b.Fatalf("%d cells", n)
				}
			}
			times[name] = b.Elapsed() / time.Duration(b.N)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/rows, "ns/row")
		})
	}
	loop("excelize-rows", excelize.Options{})
	loop("excelize-rows-raw", excelize.Options{RawCellValue: true})
	b.Run("reader-source", func(b *testing.B) {
		for b.Loop() {
			f, err := os.Open(path)
			xlsxCheck(b, err)
			r, err := read.Open(f, read.Options{})
			xlsxCheck(b, err)
			src := r.Source(read.DefaultBatchSize)
			n := 0
			for {
				batch, err := src.Next(context.Background())
				if err == io.EOF {
					break
				}
				xlsxCheck(b, err)
				n += len(batch.Rows)
			}
			f.Close()
			if n != rows {
				b.Fatalf("%d rows", n)
			}
		}
		times["reader-source"] = b.Elapsed() / time.Duration(b.N)
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/rows, "ns/row")
	})
	reader := times["reader-source"]
	for _, name := range []string{"excelize-rows", "excelize-rows-raw"} {
		if plain := times[name]; plain > 0 && reader > 0 {
			b.Logf("reader Source %v vs %s %v: %+.1f%%", reader, name, plain, 100*(float64(reader)/float64(plain)-1))
		}
	}
}

// FuzzXLSX reads workbooks whose cells, and one custom number format, are fuzzed. Nothing may
// panic out of the reader, every error must be one of the reader's, and no temporary file may
// be left. A panic of excelize that the reader recovered fails too, so that fuzzing finds them.
func FuzzXLSX(f *testing.F) {
	f.Add(`<c r="A2" s="1"><v>45306</v></c>`, `<c r="A3" s="2" t="d"><v>2024-01-01T00:00:00Z</v></c>`, "yyyy")
	f.Add(`<c r="B2" t="s"><v>1</v></c>`, `<c r="B3" s="3"><v>1e400</v></c>`, "[h]:mm")
	f.Add(`<c r="C2" s="5"><v>-1</v></c>`, `<c r="A3" t="b"><v>2</v></c>`, `0.00E+00;"neg"`)
	f.Add(`<c r="A2" s="1"><v>1</v></c><c r="B2" s="3"><v>59.5</v></c>`, `<c r="B3" s="2"><v>0.5</v></c>`, "d-mmm") // 1904
	// One file per worker process, rewritten for each input: a temporary directory per input
	// costs more than reading it.
	path := filepath.Join(f.TempDir(), "fuzz.xlsx")
	f.Fuzz(func(t *testing.T, a, b, code string) {
		// Half the inputs (by the length of code) are on the 1904 date system.
		datePr := ""
		if len(code)%2 == 1 {
			datePr = `<workbookPr date1904="1"/>`
		}
		data := xlsxParts(t, map[string]string{
			"xl/workbook.xml": `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">` +
				datePr + `<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`,
			"xl/styles.xml":            xlsxStyles([]int{14, 22, 164, 46, 165}, code, "00000"),
			"xl/sharedStrings.xml":     xlsxSST("x", "y"),
			"xl/worksheets/sheet1.xml": xlsxSheet(`<c r="A1" t="inlineStr"><is><t>H</t></is></c>`+a, b, a+b),
		})
		xlsxCheck(t, os.WriteFile(path, data, 0o600))
		file, err := os.Open(path)
		xlsxCheck(t, err)
		defer file.Close()
		r, err := read.Open(file, read.Options{})
		if err == nil {
			_, _, err = drainSheet(t, r, 2)
		}
		if err != nil && !errors.Is(err, read.ErrFormat) && !errors.Is(err, read.ErrEmpty) && !errors.Is(err, read.ErrNoHeader) {
			t.Fatalf("error of no kind: %v", err)
		}
		if err != nil && strings.Contains(err.Error(), "malformed: runtime error") {
			t.Fatalf("the reader panicked: %v", err)
		}
	})
}

// TestXLSXHiddenSheet reads poi-TwoSheetsOneHidden.xlsx, whose first sheet is hidden: without a
// sheet option the reader takes the visible one Excel opens on; naming the hidden one reads it.
func TestXLSXHiddenSheet(t *testing.T) {
	xlsxTempDir(t)
	path := corpusFile(t, "poi-TwoSheetsOneHidden.xlsx")
	for _, tc := range []struct{ option, sheet, header string }{
		{"", "Sheet2", "Sheet2A1"},
		{"sheet1", "Sheet1", "Sheet1A1"},
	} {
		r, err := xlsxOpen(t, path, read.Options{Sheet: tc.option})
		xlsxCheck(t, err)
		if x := r.(*read.XLSX); x.Sheet() != tc.sheet || !reflect.DeepEqual(r.Header(), []string{tc.header}) {
			t.Errorf("sheet option %q: sheet %q header %q, want %q %q", tc.option, x.Sheet(), r.Header(), tc.sheet, tc.header)
		}
		xlsxCheck(t, r.(io.Closer).Close())
	}
}

// TestXLSXDuplicatePart refuses a zip holding two parts of the same name, which readers resolve
// differently: poi-duplicate-filename.xlsx, and names that differ only as part names may
// (case, \ for /).
func TestXLSXDuplicatePart(t *testing.T) {
	dir := xlsxTempDir(t)
	good := xlsxParts(t, map[string]string{"xl/worksheets/sheet1.xml": xlsxSheet(`<c r="A1" t="inlineStr"><is><t>Email</t></is></c>`)})
	zr, err := zip.NewReader(bytes.NewReader(good), int64(len(good)))
	xlsxCheck(t, err)
	var twice bytes.Buffer
	zw := zip.NewWriter(&twice)
	for _, zf := range zr.File {
		xlsxCheck(t, zw.Copy(zf))
	}
	w, err := zw.Create(`XL\Worksheets\sheet1.xml`)
	xlsxCheck(t, err)
	_, err = io.WriteString(w, xlsxSheet(`<c r="A1" t="inlineStr"><is><t>Phone</t></is></c>`))
	xlsxCheck(t, err)
	xlsxCheck(t, zw.Close())

	for _, tc := range []struct{ name, path, want string }{
		{"corpus", corpusFile(t, "poi-duplicate-filename.xlsx"),
			`the XLSX file is malformed: its zip archive holds two parts named "xl/worksheets/sheet1.xml", and which one counts is ambiguous`},
		{"case and backslash", xlsxWrite(t, twice.Bytes()),
			`the XLSX file is malformed: its zip archive holds two parts named "XL\\Worksheets\\sheet1.xml", and which one counts is ambiguous`},
	} {
		r, err := xlsxOpen(t, tc.path, read.Options{})
		if err == nil {
			t.Errorf("%s: read, header %q", tc.name, r.Header())
			xlsxCheck(t, r.(io.Closer).Close())
			continue
		}
		if !errors.Is(err, read.ErrFormat) || !strings.HasSuffix(err.Error(), tc.want) {
			t.Errorf("%s: error %v\nwant ErrFormat ending %q", tc.name, err, tc.want)
		}
		xlsxNoTempFiles(t, dir)
	}
}

// TestXLSXBrokenXML: a worksheet or shared-string table whose XML breaks part-way through fails
// the file; excelize's row iterator would stop there without a word, losing the rows after it.
func TestXLSXBrokenXML(t *testing.T) {
	xlsxTempDir(t)
	for _, c := range []struct{ part, xml, want string }{
		{"xl/worksheets/sheet1.xml", xlsxSheet(`<c r="A1" t="inlineStr"><is><t>Email</t></is></c>`, `<c r="A2"><v>1</w></c>`, `<c r="A3"><v>2</v></c>`),
			"unsupported file format: the file is not a valid XLSX workbook: part xl/worksheets/sheet1.xml: its XML is broken at byte 221: the element <v> is closed by </w>"},
		{"xl/sharedStrings.xml", strings.TrimSuffix(xlsxSST("a", "b"), "</sst>"),
			"unsupported file format: the file is not a valid XLSX workbook: part xl/sharedStrings.xml: its XML is cut short: the element <sst> is never closed (169 bytes)"},
	} {
		parts := map[string]string{"xl/worksheets/sheet1.xml": xlsxSheet(`<c r="A1" t="s"><v>0</v></c>`, `<c r="A2" t="s"><v>1</v></c>`)}
		parts[c.part] = c.xml
		if c.part != "xl/sharedStrings.xml" {
			parts["xl/sharedStrings.xml"] = xlsxSST("a")
		}
		_, err := xlsxOpen(t, xlsxWrite(t, xlsxParts(t, parts)), read.Options{})
		if !errors.Is(err, read.ErrFormat) || err == nil || err.Error() != c.want {
			t.Errorf("%s: %v\nwant %s", c.part, err, c.want)
		}
	}
}

// TestXLSXStylesShareFormats: the styles sharing a number format read alike, in a workbook of
// thousands of styles.
func TestXLSXStylesShareFormats(t *testing.T) {
	xlsxTempDir(t)
	ids := make([]int, 0, 2000)
	for i := range 2000 {
		ids = append(ids, 164+i%2) // 0.00% and $#,##0.00, by turns
	}
	styles := xlsxStyles(ids, `0.00%`, `"$"#,##0.00`)
	data := xlsxParts(t, map[string]string{
		"xl/styles.xml": styles,
		"xl/worksheets/sheet1.xml": xlsxSheet(`<c r="A1" t="inlineStr"><is><t>Rate</t></is></c><c r="B1" t="inlineStr"><is><t>Fee</t></is></c>`,
			`<c r="A2" s="1"><v>0.25</v></c><c r="B2" s="2"><v>1200</v></c>`,
			`<c r="A3" s="1999"><v>0.5</v></c><c r="B3" s="2000"><v>7</v></c>`),
	})
	r, err := xlsxOpen(t, xlsxWrite(t, data), read.Options{})
	xlsxCheck(t, err)
	rows, batches, err := drainSheet(t, r, 10)
	xlsxCheck(t, err)
	xlsxCheckRows(t, rows, []sheetRow{{n: 2, cells: []string{"25.00%", "$1,200.00"}}, {n: 3, cells: []string{"50.00%", "$7.00"}}})
	checkTyped(t, typedRows(batches), map[int][]string{2: {"0.25", "1200"}, 3: {"0.5", "7"}})
}

// TestXLSXExponentNumbers: a number stored in exponent form (1E+15, as some writers store it;
// Excel's 1.0000000000000001E-5) is a number: it reads as its plain decimal.
func TestXLSXExponentNumbers(t *testing.T) {
	xlsxTempDir(t)
	data := xlsxParts(t, map[string]string{
		"xl/worksheets/sheet1.xml": xlsxSheet(`<c r="A1" t="inlineStr"><is><t>Big</t></is></c><c r="B1" t="inlineStr"><is><t>Small</t></is></c>`,
			`<c r="A2"><v>1E+15</v></c><c r="B2"><v>1.0000000000000001E-5</v></c>`,
			`<c r="A3"><v>-1.5E+20</v></c><c r="B3"><v>2</v></c>`),
	})
	r, err := xlsxOpen(t, xlsxWrite(t, data), read.Options{})
	xlsxCheck(t, err)
	rows, batches, err := drainSheet(t, r, 10)
	xlsxCheck(t, err)
	xlsxCheckRows(t, rows, []sheetRow{{n: 2, cells: []string{"1000000000000000", "0.00001"}}, {n: 3, cells: []string{"-150000000000000000000", "2"}}})
	checkTyped(t, typedRows(batches), map[int][]string{})
}

// TestXLSXHiddenZero: a number its format shows as nothing (0;-0;;@ hides zeros) is a blank
// cell to a text field, but its number still goes to a number field, in the last column too.
func TestXLSXHiddenZero(t *testing.T) {
	xlsxTempDir(t)
	data := xlsxParts(t, map[string]string{
		"xl/styles.xml": xlsxStyles([]int{164}, `0;-0;;@`),
		"xl/worksheets/sheet1.xml": xlsxSheet(`<c r="A1" t="inlineStr"><is><t>Name</t></is></c><c r="B1" t="inlineStr"><is><t>Count</t></is></c>`,
			`<c r="A2" t="inlineStr"><is><t>Ann</t></is></c><c r="B2" s="1"><v>0</v></c>`,
			`<c r="A3" t="inlineStr"><is><t>Bo</t></is></c><c r="B3" s="1"><v>-3</v></c>`),
	})
	r, err := xlsxOpen(t, xlsxWrite(t, data), read.Options{})
	xlsxCheck(t, err)
	rows, batches, err := drainSheet(t, r, 10)
	xlsxCheck(t, err)
	xlsxCheckRows(t, rows, []sheetRow{{n: 2, cells: []string{"Ann", ""}}, {n: 3, cells: []string{"Bo", "-3"}}})
	checkTyped(t, typedRows(batches), map[int][]string{2: {"", "0"}})
}

// TestXLSXTextInANumberFormat: a text cell in a number format is text, never rewritten (once
// the reader marked the numbers excelize formatted with private-use characters, which a text
// could hold too).
func TestXLSXTextInANumberFormat(t *testing.T) {
	xlsxTempDir(t)
	fake := "\uE0000\uE00112"
	data := xlsxParts(t, map[string]string{
		"xl/styles.xml":        xlsxStyles([]int{164}, `0.00%`),
		"xl/sharedStrings.xml": xlsxSST("Rate", fake),
		"xl/worksheets/sheet1.xml": xlsxSheet(`<c r="A1" t="s"><v>0</v></c>`,
			`<c r="A2" s="1" t="s"><v>1</v></c>`, `<c r="A3" s="1"><v>0.5</v></c>`),
	})
	r, err := xlsxOpen(t, xlsxWrite(t, data), read.Options{})
	xlsxCheck(t, err)
	rows, batches, err := drainSheet(t, r, 10)
	xlsxCheck(t, err)
	xlsxCheckRows(t, rows, []sheetRow{{n: 2, cells: []string{fake}}, {n: 3, cells: []string{"50.00%"}}})
	checkTyped(t, typedRows(batches), map[int][]string{3: {"0.5"}})
}
