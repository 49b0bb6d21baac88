package read_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/stages/read"
)

// The spreadsheets of these tests are built here from content.xml by hand (odsBook), and one
// was written by LibreOffice (testdata/ods/prospects.ods, from prospects.fods by
// make-fixtures.sh).

const odsNamespaces = `xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" ` +
	`xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" ` +
	`xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" ` +
	`xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" ` +
	`xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:dc="http://purl.org/dc/elements/1.1/"`

// odsHiddenStyle is an automatic table style that hides the tables that use it ("hide").
const odsHiddenStyle = `<style:style style:name="hide" style:family="table"><style:table-properties table:display="false"/></style:style>` +
	`<style:style style:name="show" style:family="table"><style:table-properties table:display="true"/></style:style>`

// odsContent is a content.xml of the tables, with the automatic styles.
func odsContent(styles string, tables ...string) string {
	return `<?xml version="1.0" encoding="UTF-8"?><office:document-content ` + odsNamespaces + ` office:version="1.3">` +
		`<office:automatic-styles>` + styles + `</office:automatic-styles><office:body><office:spreadsheet>` +
		strings.Join(tables, "") + `</office:spreadsheet></office:body></office:document-content>`
}

// odsTable is a table:table named name of style style ("" for none) holding rows.
func odsTable(name, style string, rows ...string) string {
	attrs := fmt.Sprintf(` table:name=%q`, name)
	if style != "" {
		attrs += fmt.Sprintf(` table:style-name=%q`, style)
	}
	return `<table:table` + attrs + `><table:table-column table:number-columns-repeated="16384"/>` + strings.Join(rows, "") + `</table:table>`
}

// odsRow is a table:table-row of cells; odsRows the same repeated n times.
func odsRow(cells ...string) string { return odsRows(1, cells...) }

func odsRows(n int, cells ...string) string {
	attr := ""
	if n > 1 {
		attr = fmt.Sprintf(` table:number-rows-repeated="%d"`, n)
	}
	return `<table:table-row` + attr + `>` + strings.Join(cells, "") + `</table:table-row>`
}

// odsText is a string cell of one paragraph; odsBlank n blank cells.
func odsText(s string) string {
	return `<table:table-cell office:value-type="string"><text:p>` + s + `</text:p></table:table-cell>`
}

func odsBlank(n int) string {
	return fmt.Sprintf(`<table:table-cell table:number-columns-repeated="%d"/>`, n)
}

// odsBook zips content into an ODS file: mimetype first, as the format requires, a manifest and
// content.xml.
func odsBook(t testing.TB, content string) []byte {
	t.Helper()
	return odsZip(t, [2]string{"mimetype", "application/vnd.oasis.opendocument.spreadsheet"},
		[2]string{"META-INF/manifest.xml", `<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">` +
			`<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>` +
			`<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>`},
		[2]string{"content.xml", content})
}

// odsZip zips the parts (name, content) in order, stored (uncompressed: cheap to make for the
// fuzzer; testdata/ods/prospects.ods has compressed parts).
func odsZip(t testing.TB, parts ...[2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range parts {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: p[0], Method: zip.Store})
		xlsxCheck(t, err)
		_, err = io.WriteString(w, p[1])
		xlsxCheck(t, err)
	}
	xlsxCheck(t, zw.Close())
	return buf.Bytes()
}

// odsWrite writes data to a file in a directory of its own and returns its path.
func odsWrite(t testing.TB, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "book.ods")
	xlsxCheck(t, os.WriteFile(path, data, 0o600))
	return path
}

// odsSheet is what a read gives: the header, its row, every row and each batch's LastRow.
type odsSheet struct {
	Header    []string
	HeaderRow int
	Rows      []odsGot
	LastRows  []int
}

type odsGot struct {
	Number       int
	Cells, Typed []string
	Detail       string
}

// odsReadFile opens the file at path with read.Open and reads it in batches of size.
func odsReadFile(t testing.TB, path string, opts read.Options, size int) (odsSheet, error) {
	t.Helper()
	f, err := os.Open(path)
	xlsxCheck(t, err)
	defer f.Close()
	r, err := read.Open(f, opts)
	if err != nil {
		return odsSheet{}, err
	}
	if r.Format() != "ods" {
		t.Errorf("format %q, want ods", r.Format())
	}
	return odsDrain(t, r, size)
}

// odsReadBytes opens the spreadsheet data and reads it in batches of size.
func odsReadBytes(t testing.TB, data []byte, opts read.Options, size int) (odsSheet, error) {
	t.Helper()
	r, err := read.OpenODSBytes(data, opts)
	if err != nil {
		return odsSheet{}, err
	}
	return odsDrain(t, r, size)
}

func odsDrain(t testing.TB, r read.Reader, size int) (odsSheet, error) {
	t.Helper()
	s := odsSheet{Header: r.Header(), HeaderRow: r.HeaderRow()}
	src := r.Source(size)
	for {
		b, err := src.Next(context.Background())
		if err == io.EOF {
			return s, nil
		}
		if err != nil {
			return s, err
		}
		s.LastRows = append(s.LastRows, b.LastRow)
		for _, row := range b.Rows {
			if row.Typed != nil && len(row.Typed) != len(row.Cells) {
				t.Errorf("row %d: %d typed cells for %d cells", row.Number, len(row.Typed), len(row.Cells))
			}
			s.Rows = append(s.Rows, odsGot{row.Number, row.Cells, row.Typed, row.SkipDetail})
		}
	}
}

func odsCompare(t *testing.T, got, want odsSheet) {
	t.Helper()
	if !reflect.DeepEqual(got.Header, want.Header) || got.HeaderRow != want.HeaderRow {
		t.Errorf("header %q at row %d, want %q at row %d", got.Header, got.HeaderRow, want.Header, want.HeaderRow)
	}
	for i := range max(len(got.Rows), len(want.Rows)) {
		if i >= len(got.Rows) || i >= len(want.Rows) || !reflect.DeepEqual(got.Rows[i], want.Rows[i]) {
			t.Errorf("row %d:\n got %#v\nwant %#v", i, got.Rows[i:min(i+1, len(got.Rows))], want.Rows[i:min(i+1, len(want.Rows))])
		}
	}
	if want.LastRows != nil && !reflect.DeepEqual(got.LastRows, want.LastRows) {
		t.Errorf("batch LastRows %v, want %v", got.LastRows, want.LastRows)
	}
}

// TestODSValues reads a cell of each kind: what the user saw, and the typed value of number
// cells whose text is not their plain number.
func TestODSValues(t *testing.T) {
	header := make([]string, 18)
	cells := make([]string, 18)
	for i := range header {
		header[i] = odsText(string(rune('A' + i)))
	}
	cells[0] = `<table:table-cell office:value-type="string"><office:annotation><dc:creator>Ann</dc:creator><text:p>a comment</text:p></office:annotation><text:p>ann@acme.com</text:p></table:table-cell>`
	cells[1] = `<table:table-cell office:value-type="string"><text:p>  two<text:s text:c="3"/>x<text:tab/>y<text:line-break/>z <text:span>span</text:span> <text:a xlink:href="http://x">link</text:a><text:s/></text:p><text:p>second</text:p></table:table-cell>`
	cells[2] = `<table:table-cell office:value-type="percentage" office:value="0.25"><text:p>25.00%</text:p></table:table-cell>`
	cells[3] = `<table:table-cell office:value-type="currency" office:currency="USD" office:value="1200"><text:p>$1,200.00</text:p></table:table-cell>`
	cells[4] = `<table:table-cell office:value-type="float" office:value="1234.5"><text:p>1,234.50</text:p></table:table-cell>`
	cells[5] = `<table:table-cell office:value-type="float" office:value="2134"><text:p>02134</text:p></table:table-cell>`
	cells[6] = `<table:table-cell office:value-type="float" office:value="42.5"><text:p>42.5</text:p></table:table-cell>`
	cells[7] = `<table:table-cell office:value-type="float" office:value="0.30000000000000004"/>`
	cells[8] = `<table:table-cell office:value-type="float" office:value="15551234567"><text:p>1.56E+10</text:p></table:table-cell>`
	cells[9] = `<table:table-cell office:value-type="date" office:date-value="2024-01-31"><text:p>1/31/2024</text:p></table:table-cell>`
	cells[10] = `<table:table-cell office:value-type="date" office:date-value="2024-01-31T13:45:59.6"><text:p>1/31/24 1:46 PM</text:p></table:table-cell>`
	cells[11] = `<table:table-cell office:value-type="time" office:time-value="PT36H05M00S"><text:p>36:05</text:p></table:table-cell>`
	cells[12] = `<table:table-cell office:value-type="boolean" office:boolean-value="true"><text:p>TRUE</text:p></table:table-cell>`
	cells[13] = `<table:table-cell office:value-type="boolean" office:boolean-value="false"/>`
	cells[14] = `<table:table-cell office:value-type="string" office:string-value="from the attribute"/>`
	cells[15] = `<table:covered-table-cell office:value-type="string"><text:p>under a merge</text:p></table:covered-table-cell>`
	cells[16] = `<table:table-cell table:formula="of:=1/0" office:value-type="string" office:string-value=""><text:p>#DIV/0!</text:p></table:table-cell>`
	cells[17] = odsText("1.23E+04")
	content := odsContent("", odsTable("Sheet1", "", odsRow(header...), odsRow(cells...)))

	got, err := odsReadFile(t, odsWrite(t, odsBook(t, content)), read.Options{}, 10)
	xlsxCheck(t, err)
	odsCompare(t, got, odsSheet{
		Header:    []string{"A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O", "P", "Q", "R"},
		HeaderRow: 1,
		Rows: []odsGot{{Number: 2,
			Cells: []string{"ann@acme.com", "  two   x\ty\nz span link \nsecond", "25.00%", "$1,200.00", "1,234.50", "02134", "42.5", "0.3",
				"1.56E+10", "2024-01-31", "2024-01-31 13:46:00", "36:05:00", "true", "false", "from the attribute", "", "#DIV/0!", "1.23E+04"},
			Typed: []string{"", "", "0.25", "1200", "1234.5", "2134", "", "", "15551234567", "", "", "", "", "", "", "", "", ""},
		}},
	})
}

// TestODSDatesAndTimes renders date and time values as the package doc says, and a value that
// is none as the cell's text.
func TestODSDatesAndTimes(t *testing.T) {
	for _, tc := range []struct{ attr, want string }{
		{`office:value-type="date" office:date-value="1899-12-30"`, "1899-12-30"},
		{`office:value-type="date" office:date-value="2024-02-29T00:00:00"`, "2024-02-29 00:00:00"},
		{`office:value-type="date" office:date-value="2024-12-31T23:59:59.5"`, "2025-01-01 00:00:00"},
		{`office:value-type="date" office:date-value="2024-01-31T08:00:00Z"`, "2024-01-31 08:00:00"},
		{`office:value-type="date" office:date-value="2024-01-31T08:00:00-05:00"`, "2024-01-31 08:00:00"},
		{`office:value-type="date" office:date-value="2024-13-01"`, "shown"},
		{`office:value-type="date" office:date-value="31/01/2024"`, "shown"},
		{`office:value-type="time" office:time-value="PT13H45M00S"`, "13:45:00"},
		{`office:value-type="time" office:time-value="PT00H00M00.9999936S"`, "00:00:01"},
		{`office:value-type="time" office:time-value="P1DT2H"`, "26:00:00"},
		{`office:value-type="time" office:time-value="-PT1H30M"`, "-01:30:00"},
		{`office:value-type="time" office:time-value="13:45"`, "shown"},
		{`office:value-type="time" office:time-value="PT1D"`, "shown"},
		{`office:value-type="time" office:time-value="PTNaNS"`, "shown"},
		{`office:value-type="time" office:time-value="PTInfH"`, "shown"},
	} {
		content := odsContent("", odsTable("S", "", odsRow(odsText("When")),
			odsRow(`<table:table-cell `+tc.attr+`><text:p>shown</text:p></table:table-cell>`)))
		got, err := odsReadBytes(t, odsBook(t, content), read.Options{}, 10)
		xlsxCheck(t, err)
		if len(got.Rows) != 1 || !reflect.DeepEqual(got.Rows[0].Cells, []string{tc.want}) {
			t.Errorf("%s: rows %#v, want one of %q", tc.attr, got.Rows, tc.want)
		}
	}
}

// TestODSOddNumbers reads number cells whose value is no finite number as their text alone.
func TestODSOddNumbers(t *testing.T) {
	for _, value := range []string{"NaN", "Inf", "1e400", "12abc", ""} {
		content := odsContent("", odsTable("S", "", odsRow(odsText("N")),
			odsRow(`<table:table-cell office:value-type="float" office:value="`+value+`"><text:p>shown</text:p></table:table-cell>`)))
		got, err := odsReadBytes(t, odsBook(t, content), read.Options{}, 10)
		if want := []odsGot{{Number: 2, Cells: []string{"shown"}}}; err != nil || !reflect.DeepEqual(got.Rows, want) {
			t.Errorf("value %q: rows %#v, %v; want %#v", value, got.Rows, err, want)
		}
	}
}

// odsRowsContent is a sheet of what rows can be: a blank start, the header in
// table:table-header-rows with blank cells, a repeated row in a row group, blank, wide and
// over-long rows, a cell repeated far past the last column, and a blank tail to the last row.
func odsRowsContent() string {
	return odsContent("", odsTable("Sheet1", "",
		odsRows(2, odsBlank(16384)),
		`<table:table-header-rows>`+odsRow(odsText(" Email "), odsText("Name"), odsText(" "), odsBlank(16381))+`</table:table-header-rows>`,
		odsRow(odsText("a@x.com"), odsText("Ann"), odsBlank(16382)),
		`<table:table-row-group><table:table-row-group>`+odsRows(3, odsText("rep@x.com"), odsText("Rep"))+`</table:table-row-group></table:table-row-group>`,
		odsRow(odsText(" "), odsBlank(3)),
		odsRow(odsText("wide@x.com"), odsBlank(1), odsText("extra")),
		odsRow(odsText("long@x.com"), odsText(strings.Repeat("é", 32768))),
		odsRow(`<table:table-cell office:value-type="string" table:number-columns-repeated="100000"><text:p>x</text:p></table:table-cell>`),
		odsRow(odsText("z@x.com"), odsText("  "), odsBlank(16382)),
		odsRows(1048564, odsBlank(16384)),
	))
}

// TestODSRows reads rows as LibreOffice numbers them, and skips malformed ones with a detail.
// The sheet ends in a million blank rows of 16,384 blank cells, which must cost nothing.
func TestODSRows(t *testing.T) {
	path := odsWrite(t, odsBook(t, odsRowsContent()))
	start := time.Now()
	got, err := odsReadFile(t, path, read.Options{}, 4)
	xlsxCheck(t, err)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("reading took %v: the blank tail is not free", d)
	}
	odsCompare(t, got, odsSheet{
		Header:    []string{"Email", "Name"},
		HeaderRow: 3,
		Rows: []odsGot{
			{Number: 4, Cells: []string{"a@x.com", "Ann"}},
			{Number: 5, Cells: []string{"rep@x.com", "Rep"}},
			{Number: 6, Cells: []string{"rep@x.com", "Rep"}},
			{Number: 7, Cells: []string{"rep@x.com", "Rep"}},
			{Number: 9, Cells: []string{"wide@x.com", "", "extra"}, Detail: "row has 3 cells but the header has 2"},
			{Number: 10, Cells: []string{"long@x.com", ""}, Detail: "cell B10 is longer than 32767 characters"},
			{Number: 11, Cells: slices.Repeat([]string{"x"}, 2+256), Detail: "row has a value in column 100000, past the last column of a sheet (16384)"},
			{Number: 12, Cells: []string{"z@x.com"}},
		},
		LastRows: []int{7, 12},
	})

	f, err := os.Open(path)
	xlsxCheck(t, err)
	defer f.Close()
	r, err := read.Open(f, read.Options{})
	xlsxCheck(t, err)
	if n, err := r.CountRows(); n != 8 || err != nil {
		t.Errorf("CountRows = %d, %v; want 8", n, err)
	}
}

// TestODSResume resumes after a row, in a repeated block or not: the rows after it are read,
// numbered as before.
func TestODSResume(t *testing.T) {
	data := odsBook(t, odsRowsContent())
	for _, tc := range []struct {
		start int
		want  []int
	}{
		{0, []int{4, 5, 6, 7, 9, 10, 11, 12}},
		{4, []int{5, 6, 7, 9, 10, 11, 12}},
		{5, []int{6, 7, 9, 10, 11, 12}},
		{6, []int{7, 9, 10, 11, 12}},
		{8, []int{9, 10, 11, 12}},
		{12, nil},
		{2000000, nil},
	} {
		got, err := odsReadBytes(t, data, read.Options{CSV: read.CSVOptions{StartRow: tc.start}}, 3)
		xlsxCheck(t, err)
		var rows []int
		for _, r := range got.Rows {
			rows = append(rows, r.Number)
		}
		if !reflect.DeepEqual(rows, tc.want) || got.HeaderRow != 3 {
			t.Errorf("from row %d: rows %v after a header at row %d, want %v after row 3", tc.start, rows, got.HeaderRow, tc.want)
		}
	}
}

// TestODSRepeatedRowLimit counts a row repeated to the last row of a sheet at once, and fails a
// sheet whose data goes on past it.
func TestODSRepeatedRowLimit(t *testing.T) {
	for _, tc := range []struct {
		repeat int
		want   int
		err    string
	}{
		{1048575, 1048575, ""},
		{1048576, 1048575, `unsupported file format: the sheet "S" of the ODS file has data past row 1048576, the last row of a sheet`},
	} {
		content := odsContent("", odsTable("S", "", odsRow(odsText("Email")), odsRows(tc.repeat, odsText("a@x.com")), odsRows(5, odsBlank(3))))
		r, err := read.OpenODSBytes(odsBook(t, content), read.Options{})
		xlsxCheck(t, err)
		start := time.Now()
		n, err := r.CountRows()
		if n != tc.want || errText(err) != tc.err {
			t.Errorf("%d repeats: CountRows = %d, %v; want %d, %q", tc.repeat, n, err, tc.want, tc.err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%d repeats: counting took %v", tc.repeat, d)
		}
	}
	// Read row by row, the repeats are rows of their own: changing one changes no other.
	content := odsContent("", odsTable("S", "", odsRows(3, odsText("Email"), `<table:table-cell office:value-type="percentage" office:value="0.5"><text:p>50%</text:p></table:table-cell>`)))
	r, err := read.OpenODSBytes(odsBook(t, content), read.Options{})
	xlsxCheck(t, err)
	b, err := r.Source(10).Next(context.Background())
	xlsxCheck(t, err)
	if len(b.Rows) != 2 || b.Rows[0].Number != 2 || b.Rows[1].Number != 3 {
		t.Fatalf("rows %+v, want rows 2 and 3 repeating the header", b.Rows)
	}
	b.Rows[0].Cells[0], b.Rows[0].Typed[1] = "changed", "changed"
	if want := []string{"Email", "50%"}; !reflect.DeepEqual(b.Rows[1].Cells, want) || !reflect.DeepEqual(b.Rows[1].Typed, []string{"", "0.5"}) {
		t.Errorf("row 3: %q %q, want %q and typed 0.5", b.Rows[1].Cells, b.Rows[1].Typed, want)
	}
}

// TestODSSheets picks the first visible sheet, or the one named, hidden or not, and lists every
// sheet with its visibility.
func TestODSSheets(t *testing.T) {
	content := odsContent(odsHiddenStyle,
		odsTable("Notes", "hide", odsRow(odsText("Secret"))),
		odsTable("Leads", "show", odsRow(odsText("Email"))),
		odsTable("Old Leads", "hide", odsRow(odsText("Phone"))),
	)
	path := odsWrite(t, odsBook(t, content))
	for _, tc := range []struct{ option, header, err string }{
		{"", "Email", ""},
		{"notes", "Secret", ""},
		{"OLD LEADS", "Phone", ""},
		{"Leads 2", "", `read ods: the spreadsheet has no sheet "Leads 2"; its sheets are "Notes", "Leads", "Old Leads"`},
	} {
		got, err := odsReadFile(t, path, read.Options{Sheet: tc.option}, 10)
		if errText(err) != tc.err || tc.err == "" && !reflect.DeepEqual(got.Header, []string{tc.header}) {
			t.Errorf("sheet option %q: header %q, error %v; want %q, %q", tc.option, got.Header, err, tc.header, tc.err)
		}
	}
	f, err := os.Open(path)
	xlsxCheck(t, err)
	defer f.Close()
	sheets, err := read.Sheets(f, read.Options{})
	want := []read.Sheet{{Name: "Notes", Visibility: "hidden"}, {Name: "Leads", Visibility: "visible"}, {Name: "Old Leads", Visibility: "hidden"}}
	if err != nil || !reflect.DeepEqual(sheets, want) {
		t.Errorf("Sheets = %+v, %v; want %+v", sheets, err, want)
	}

	allHidden := odsContent(odsHiddenStyle, odsTable("One", "hide", odsRow(odsText("First"))), odsTable("Two", "hide", odsRow(odsText("Second"))))
	got, err := odsReadBytes(t, odsBook(t, allHidden), read.Options{}, 10)
	if err != nil || !reflect.DeepEqual(got.Header, []string{"First"}) {
		t.Errorf("every sheet hidden: header %q, %v; want the first sheet's", got.Header, err)
	}
}

// TestODSLibreOffice reads testdata/ods/prospects.ods, as LibreOffice 7.4 wrote it: its first
// sheet hidden, number formats applied to the cells' text, a merged cell.
func TestODSLibreOffice(t *testing.T) {
	got, err := odsReadFile(t, filepath.Join("testdata", "ods", "prospects.ods"), read.Options{}, 10)
	xlsxCheck(t, err)
	odsCompare(t, got, odsSheet{
		Header:    []string{"Email", "First Name", "Score", "Budget", "Revenue", "Zip", "Signed Up", "Call At", "Note"},
		HeaderRow: 1,
		Rows: []odsGot{
			{Number: 2,
				Cells: []string{"ann@acme.com", "Ann", "25.00%", "$1,200.00", "1,234,567.89", "02134", "2024-01-31", "13:45:00", "two  spaces\nand a second line"},
				Typed: []string{"", "", "0.25", "1200", "1234567.891", "2134", "", "", ""}},
			{Number: 5, Cells: []string{"bob@beta.io", "", "42.5", "-$3.50"}, Typed: []string{"", "", "", "-3.5"}},
		},
	})
	f, err := os.Open(filepath.Join("testdata", "ods", "prospects.ods"))
	xlsxCheck(t, err)
	defer f.Close()
	sheets, err := read.Sheets(f, read.Options{})
	want := []read.Sheet{{Name: "Notes", Visibility: "hidden"}, {Name: "Prospects", Visibility: "visible"}}
	if err != nil || !reflect.DeepEqual(sheets, want) {
		t.Errorf("Sheets = %+v, %v; want %+v", sheets, err, want)
	}
}

// TestODSDetect tells ODS from XLSX and other zips by the content, and refuses zips that are
// not spreadsheets, or unsafe ones, with the XLSX reader's checks.
func TestODSDetect(t *testing.T) {
	content := odsContent("", odsTable("S", "", odsRow(odsText("Email")), odsRow(odsText("a@x.com"))))
	manifest := [2]string{"META-INF/manifest.xml", `<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"/>`}
	foreign := odsZip(t, [2]string{"mimetype", "application/x-other"}, [2]string{"content.xml", content})
	for _, tc := range []struct {
		name   string
		data   []byte
		opts   read.Options
		format string
		err    string
	}{
		{"mimetype first", odsBook(t, content), read.Options{}, "ods", ""},
		{"mimetype not first", odsZip(t, manifest, [2]string{"mimetype", "application/vnd.oasis.opendocument.spreadsheet"}, [2]string{"content.xml", content}), read.Options{}, "ods", ""},
		{"no mimetype", odsZip(t, manifest, [2]string{"content.xml", content}), read.Options{}, "ods", ""},
		{"template", odsZip(t, [2]string{"mimetype", "application/vnd.oasis.opendocument.spreadsheet-template"}, [2]string{"content.xml", content}), read.Options{}, "ods", ""},
		{"text document", odsZip(t, [2]string{"mimetype", "application/vnd.oasis.opendocument.text"}, [2]string{"content.xml", content}), read.Options{}, "ods",
			`unsupported file format: the file is an OpenDocument file of type "text", not a spreadsheet; save it as ODS, XLSX or CSV`},
		{"text body", odsZip(t, [2]string{"content.xml", `<office:document-content ` + odsNamespaces + `><office:body><office:text/></office:body></office:document-content>`}), read.Options{}, "ods",
			`unsupported file format: the file is an OpenDocument text, not a spreadsheet; save it as ODS, XLSX or CSV`},
		{"password", odsZip(t, [2]string{"mimetype", "application/vnd.oasis.opendocument.spreadsheet"},
			[2]string{"META-INF/manifest.xml", `<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">` +
				`<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml" manifest:size="10996">` +
				`<manifest:encryption-data manifest:checksum-type="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0#sha256-1k" manifest:checksum="x">` +
				`<manifest:algorithm manifest:algorithm-name="http://www.w3.org/2001/04/xmlenc#aes256-cbc" manifest:initialisation-vector="x"/>` +
				`</manifest:encryption-data></manifest:file-entry></manifest:manifest>`},
			[2]string{"content.xml", "\x8f\x13 encrypted bytes"}), read.Options{}, "ods",
			`unsupported file format: the ODS file is password-protected: open it in LibreOffice with its password, save it without one (File > Save As, with "Save with password" unchecked) or as CSV, and import that`},
		{"no content", odsZip(t, [2]string{"mimetype", "application/vnd.oasis.opendocument.spreadsheet"}, manifest), read.Options{}, "ods",
			`unsupported file format: the file is not a valid ODS spreadsheet: it has no content.xml`},
		{"xlsx", xlsxParts(t, map[string]string{"xl/worksheets/sheet1.xml": xlsxSheet(`<c r="A1" t="inlineStr"><is><t>Email</t></is></c>`)}), read.Options{}, "xlsx", ""},
		{"other zip", odsZip(t, [2]string{"hello.txt", "hello"}), read.Options{}, "xlsx",
			`unsupported file format: the file is a zip archive but not an XLSX workbook: it has no xl/workbook.xml`},
		{"two contents", odsZip(t, [2]string{"mimetype", "application/vnd.oasis.opendocument.spreadsheet"}, [2]string{"content.xml", content}, [2]string{`Content.XML`, content}), read.Options{}, "ods",
			`unsupported file format: the ODS file is malformed: its zip archive holds two parts named "Content.XML", and which one counts is ambiguous`},
		{"zip bomb", odsBook(t, content), read.Options{MaxUnzippedBytes: 1000}, "ods",
			fmt.Sprintf(`unsupported file format: the ODS file unzips to more than the limit of 1000 bytes (content.xml declares %d bytes); a zip bomb or a workbook too large to import`, len(content))},
		{"foreign mimetype", foreign, read.Options{}, "xlsx",
			`unsupported file format: the file is a zip archive but not an XLSX workbook: it has no xl/workbook.xml`},
	} {
		path := odsWrite(t, tc.data)
		f, err := os.Open(path)
		xlsxCheck(t, err)
		format, err := read.Detect(f)
		if err != nil || format != tc.format {
			t.Errorf("%s: Detect = %q, %v; want %q", tc.name, format, err, tc.format)
		}
		r, err := read.Open(f, tc.opts)
		if errText(err) != tc.err || tc.err != "" && !errors.Is(err, read.ErrFormat) {
			t.Errorf("%s: Open error %v, want %q", tc.name, err, tc.err)
		}
		if err == nil && (r.Format() != tc.format || !reflect.DeepEqual(r.Header(), []string{"Email"})) {
			t.Errorf("%s: format %q header %q", tc.name, r.Format(), r.Header())
		}
		f.Close()
	}
}

// TestODSCorruptPart fails a file whose content.xml does not unzip to its checksum before any
// row is read, though its XML reads well.
func TestODSCorruptPart(t *testing.T) {
	content := odsContent("", odsTable("S", "", odsRow(odsText("Email")), odsRow(odsText("a@x.com"))))
	data := odsZip(t, [2]string{"mimetype", "application/vnd.oasis.opendocument.spreadsheet"}, [2]string{"content.xml", content})
	i := bytes.Index(data, []byte("a@x.com"))
	data[i] = 'b'
	_, err := odsReadBytes(t, data, read.Options{}, 10)
	if want := "unsupported file format: the file is not a valid ODS spreadsheet: part content.xml: zip: checksum error"; errText(err) != want {
		t.Errorf("error %v, want %q", err, want)
	}
}

// TestODSHostile reads files made to exhaust a reader: errors name what is wrong, and no token
// over the caps is held.
func TestODSHostile(t *testing.T) {
	header := odsRow(odsText("Email"), odsText("Note"))
	for _, tc := range []struct {
		name    string
		content string
		rows    []odsGot
		err     string
	}{
		{"no rows", odsContent("", odsTable("S", "")), nil,
			`file is empty: the sheet "S" of the ODS spreadsheet has no rows`},
		{"blank rows", odsContent("", odsTable("S", "", odsRows(1000, odsBlank(5)))), nil,
			`file has no header row: all 1000 rows of the sheet "S" are blank`},
		{"no sheets", odsContent(""), nil, `unsupported file format: the ODS spreadsheet has no sheets`},
		{"over-long header", odsContent("", odsTable("S", "", odsRow(odsText(strings.Repeat("x", 32768))))), nil,
			`file has no header row: row 1, the first non-blank row of the sheet "S", cannot be read as a header: cell A1 is longer than 32767 characters`},
		{"truncated", odsContent("", odsTable("S", "", header, odsRow(odsText("a@x.com"))))[:600], nil,
			`unsupported file format: the ODS file is malformed: content.xml: XML syntax error on line 1: unexpected EOF`},
		{"not ODF", `<html/>`, nil,
			`unsupported file format: the file is not a valid ODS spreadsheet: content.xml holds no office:document-content`},
		{"deep", odsContent("", odsTable("S", "", header, odsRow(odsText(strings.Repeat("<text:span>", 300)+"x"+strings.Repeat("</text:span>", 300))))), nil,
			`unsupported file format: the ODS file is malformed: content.xml: elements nested more than 256 deep`},
		{"huge text", odsContent("", odsTable("S", "", header,
			odsRow(odsText("a@x.com"), odsText(strings.Repeat("ab&amp;", 1<<18))), odsRow(odsText("b@x.com"), odsText("ok")))),
			[]odsGot{{Number: 2, Cells: []string{"a@x.com", ""}, Detail: "cell B2 is longer than 32767 characters"}, {Number: 3, Cells: []string{"b@x.com", "ok"}}}, ""},
		{"huge tag", odsContent("", odsTable("S", "", header, odsRow(`<table:table-cell office:value-type="string" office:string-value="`+strings.Repeat("x", 2<<20)+`"/>`))), nil,
			`unsupported file format: the ODS file is malformed: content.xml has a tag longer than 1048576 bytes`},
		{"huge entity", odsContent("", odsTable("S", "", header, odsRow(odsText("&"+strings.Repeat("a", 100)+";")))), nil,
			`unsupported file format: the ODS file is malformed: content.xml has an entity reference longer than 64 bytes`},
		{"huge repeats", odsContent("", odsTable("S", "", header, odsRow(odsText("a@x.com"), `<table:table-cell table:number-columns-repeated="99999999999"/>`, odsText("b")))),
			[]odsGot{{Number: 2, Cells: []string{"a@x.com"}, Detail: "row has a value in column 2147483649, past the last column of a sheet (16384)"}}, ""},
	} {
		got, err := odsReadBytes(t, odsBook(t, tc.content), read.Options{}, 10)
		if errText(err) != tc.err || !reflect.DeepEqual(got.Rows, tc.rows) {
			t.Errorf("%s: rows %.300v, error %v; want %v, %q", tc.name, got.Rows, err, tc.rows, tc.err)
		}
	}
}

// TestODSClose closes a reader early, and a closed reader reads nothing.
func TestODSClose(t *testing.T) {
	r, err := read.OpenODSBytes(odsBook(t, odsRowsContent()), read.Options{})
	xlsxCheck(t, err)
	xlsxCheck(t, r.(io.Closer).Close())
	xlsxCheck(t, r.(io.Closer).Close())
	if _, err := r.Source(10).Next(context.Background()); err != io.EOF {
		t.Errorf("Next after Close: %v, want io.EOF", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r, err = read.OpenODSBytes(odsBook(t, odsRowsContent()), read.Options{})
	xlsxCheck(t, err)
	if _, err := r.Source(1).Next(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Next with a cancelled context: %v", err)
	}
}

// FuzzODS reads spreadsheets whose rows are fuzzed, in memory: nothing may panic, every error
// must be one of the reader's, row numbers increase, a row wider than the header is malformed,
// Typed matches Cells, CountRows counts what the source gives, and resuming after a row gives
// the rows after it. The inputs are the cells of two rows (the first repeated), in XML whose
// short prefixes t, o and x name the table, office and text namespaces: the fuzzer minimizes
// each new input, at a cost that grows with the square of its length.
func FuzzODS(f *testing.F) {
	f.Add(`<t:table-cell o:value-type="percentage" o:value=".5"><x:p>50%</x:p></t:table-cell>`, `<t:table-cell><x:p>a</x:p></t:table-cell>`)
	f.Add(`<t:table-cell o:value-type="date" o:date-value="2024-01-31T10:00:00"/>`, `<t:covered-table-cell/><t:table-cell><x:p>x<x:s x:c="2"/></x:p></t:table-cell>`)
	f.Add(`<t:table-cell t:number-columns-repeated="9"><x:p>x</x:p></t:table-cell>`, `</t:table-row><t:table-row t:number-rows-repeated="99">`)
	f.Add(`<t:table-cell o:value-type="time" o:time-value="PT1H"/>`, `<t:table-cell o:value-type="float" o:value="1e400"/>`)
	f.Fuzz(func(t *testing.T, a, b string) {
		rows := `<t:table-row t:number-rows-repeated="2">` + a + `</t:table-row><t:table-row>` + b + `</t:table-row>`
		content := strings.Replace(odsContent(odsHiddenStyle, odsTable("Hidden", "hide", rows),
			odsTable("Data", "", odsRow(odsText("H1"), odsText("H2"), odsText("H3")), rows)),
			"<office:document-content ", `<office:document-content xmlns:t="urn:oasis:names:tc:opendocument:xmlns:table:1.0" `+
				`xmlns:o="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:x="urn:oasis:names:tc:opendocument:xmlns:text:1.0" `, 1)
		data := odsBook(t, content)
		r, err := read.OpenODSBytes(data, read.Options{})
		if err != nil {
			if !errors.Is(err, read.ErrFormat) && !errors.Is(err, read.ErrEmpty) && !errors.Is(err, read.ErrNoHeader) {
				t.Fatalf("error of no kind: %v", err)
			}
			return
		}
		width := len(r.Header())
		n, cerr := r.CountRows()
		if cerr != nil && !errors.Is(cerr, read.ErrFormat) {
			t.Fatalf("error of no kind: %v", cerr)
		}
		if n > 1000 {
			return // a row repeated many times: reading each one costs time and proves no more
		}
		r, err = read.OpenODSBytes(data, read.Options{})
		if err != nil {
			t.Fatalf("second open: %v", err)
		}
		got, err := odsDrain(t, r, 7)
		if errText(cerr) != errText(err) || err == nil && n != len(got.Rows) {
			t.Fatalf("CountRows = %d, %v; the source gave %d rows, then %v", n, cerr, len(got.Rows), err)
		}
		last := got.HeaderRow
		for _, row := range got.Rows {
			if row.Number <= last || row.Number > 1<<20 {
				t.Fatalf("row %d after row %d", row.Number, last)
			}
			last = row.Number
			if row.Detail == "" && len(row.Cells) > width {
				t.Fatalf("row %d has %d cells, the header %d, and is not malformed", row.Number, len(row.Cells), width)
			}
		}
		if err != nil || len(got.Rows) == 0 {
			return
		}
		mid := got.Rows[len(got.Rows)/2].Number
		rest, err := odsReadBytes(t, data, read.Options{CSV: read.CSVOptions{StartRow: mid}}, 5)
		if err != nil {
			t.Fatalf("resume after row %d: %v", mid, err)
		}
		if want := got.Rows[len(got.Rows)/2+1:]; len(rest.Rows) != len(want) || len(want) > 0 && !reflect.DeepEqual(rest.Rows, want) {
			t.Fatalf("resume after row %d: %d rows, want %d", mid, len(rest.Rows), len(want))
		}
	})
}

// errText is err's message, "" for nil.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestODSDetectManyParts tells a zip of more parts than a workbook may have from an ODS
// spreadsheet by its end record alone: Detect runs in the daemon, and reads no directory of a
// hostile zip (the reader then refuses it in the child process).
func TestODSDetectManyParts(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := range 70000 {
		_, err := zw.CreateHeader(&zip.FileHeader{Name: fmt.Sprint(i), Method: zip.Store})
		xlsxCheck(t, err)
	}
	xlsxCheck(t, zw.Close())
	f, err := os.Open(odsWrite(t, buf.Bytes()))
	xlsxCheck(t, err)
	defer f.Close()
	var format string
	allocs := testing.AllocsPerRun(3, func() { format, err = read.Detect(f) })
	if format != "xlsx" || err != nil || allocs > 100 {
		t.Errorf("Detect = %q, %v with %v allocations; want xlsx, with few", format, err, allocs)
	}
	_, err = read.Open(f, read.Options{})
	if want := "unsupported file format: the file is not a valid XLSX workbook: its zip archive has 70000 parts (at most 65536)"; errText(err) != want {
		t.Errorf("Open error %v, want %q", err, want)
	}
}

// BenchmarkODS reads the benchmark's prospect list (benchData) as an ODS sheet: its cells as
// LibreOffice writes text cells, every tenth row's Phone a number shown formatted. Bytes are
// those of content.xml.
func BenchmarkODS(b *testing.B) {
	cr := csv.NewReader(bytes.NewReader(benchData()))
	cr.FieldsPerRecord = -1
	records, err := cr.ReadAll()
	xlsxCheck(b, err)
	var content strings.Builder
	for i, rec := range records {
		content.WriteString(`<table:table-row table:style-name="ro1">`)
		for j, cell := range rec {
			var esc strings.Builder
			xlsxCheck(b, xml.EscapeText(&esc, []byte(cell)))
			switch {
			case cell == "":
				content.WriteString(`<table:table-cell/>`)
			case j == 5 && i%10 == 1:
				fmt.Fprintf(&content, `<table:table-cell office:value-type="float" office:value="%d" calcext:value-type="float"><text:p>%s</text:p></table:table-cell>`, i, esc.String())
			default:
				fmt.Fprintf(&content, `<table:table-cell office:value-type="string" calcext:value-type="string"><text:p>%s</text:p></table:table-cell>`, esc.String())
			}
		}
		content.WriteString(`<table:table-cell table:number-columns-repeated="16370"/></table:table-row>`)
	}
	doc := strings.Replace(odsContent("", odsTable("Prospects", "", content.String(), odsRows(1048576-len(records), odsBlank(16384)))),
		"<office:document-content ", `<office:document-content xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0" `, 1)
	data := odsBook(b, doc)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := read.OpenODSBytes(data, read.Options{})
		xlsxCheck(b, err)
		src := r.Source(2000)
		n := 0
		for {
			batch, err := src.Next(b.Context())
			if err == io.EOF {
				break
			}
			xlsxCheck(b, err)
			n += len(batch.Rows)
		}
		if n != benchRows {
			b.Fatalf("read %d rows", n)
		}
	}
}
