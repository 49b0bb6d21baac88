package read_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/leadpipe/leadpipe/stages/read"
)

// TestXLSXSheetXML reads a worksheet written in the ways XML allows and writers use: prefixed
// names, single-quoted attributes, references and CDATA, comments, CR LF line ends, rows and
// cells without references, rich text with a phonetic run, _xHHHH_ escapes and ISO dates.
func TestXLSXSheetXML(t *testing.T) {
	xlsxTempDir(t)
	sheet := `<?xml version="1.0" encoding="UTF-8"?>` +
		`<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>` +
		`<x:row r='1'><x:c r='A1' t='inlineStr'><x:is><x:t>Name</x:t></x:is></x:c><x:c t="inlineStr"><x:is><x:t>Note</x:t></x:is></x:c><x:c t="inlineStr"><x:is><x:t>When</x:t></x:is></x:c></x:row>` +
		"<!-- a comment --><x:row>" +
		`<x:c t="inlineStr"><x:is><x:t>A &amp; B &lt;&#x41;&#66;&gt; &quot;q&apos;</x:t></x:is></x:c>` +
		"<x:c t=\"inlineStr\"><x:is><x:t><![CDATA[<raw> & ]]>line\r\nnext\rlast</x:t></x:is></x:c>" +
		`<x:c t="d"><x:v>2024-01-15T13:45:00Z</x:v></x:c></x:row>` +
		`<x:row r="4"><x:c r="A4" t="s"><x:v>0</x:v></x:c><x:c r="C4" t="d"><x:v>2024-01-15</x:v></x:c></x:row>` +
		`</x:sheetData></x:worksheet>`
	sst := `<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` +
		`<si><r><rPr><b/></rPr><t xml:space="preserve">東京 </t></r><r><t>_x0041__x005F_x0042_</t></r><rPh sb="0" eb="2"><t>トウキョウ</t></rPh></si></sst>`
	r, err := xlsxOpen(t, xlsxWrite(t, xlsxParts(t, map[string]string{
		"xl/worksheets/sheet1.xml": sheet,
		"xl/sharedStrings.xml":     sst,
	})), read.Options{})
	xlsxCheck(t, err)
	rows, _, err := drainSheet(t, r, 10)
	xlsxCheck(t, err)
	xlsxCheckRows(t, rows, []sheetRow{
		{n: 2, cells: []string{`A & B <AB> "q'`, "<raw> & line\nnext\nlast", "2024-01-15 13:45:00"}},
		{n: 4, cells: []string{"東京 A_x0042_", "", "2024-01-15"}},
	})
}

// TestXLSXSheetAcrossBuffers reads rows whose references, CDATA sections and line ends fall on
// every offset of the scanner's buffer.
func TestXLSXSheetAcrossBuffers(t *testing.T) {
	xlsxTempDir(t)
	rows := []string{`<c r="A1" t="inlineStr"><is><t>Value</t></is></c>`}
	want := []sheetRow{}
	for i := 2; i <= 4000; i++ {
		pad := strings.Repeat("p", i%37)
		rows = append(rows, fmt.Sprintf("<c r=\"A%d\" t=\"inlineStr\"><is><t>%s&amp;&#233;\r\n<![CDATA[&]]>%d</t></is></c>", i, pad, i))
		want = append(want, sheetRow{n: i, cells: []string{fmt.Sprintf("%s&é\n&%d", pad, i)}})
	}
	r, err := xlsxOpen(t, xlsxWrite(t, xlsxParts(t, map[string]string{"xl/worksheets/sheet1.xml": xlsxSheet(rows...)})), read.Options{})
	xlsxCheck(t, err)
	got, _, err := drainSheet(t, r, 1000)
	xlsxCheck(t, err)
	xlsxCheckRows(t, got, want)
}

// TestXLSXSheetFaults: a cell reference going back along its row makes the row malformed; a
// reference to no character fails the file at its row, naming it.
func TestXLSXSheetFaults(t *testing.T) {
	dir := xlsxTempDir(t)
	header := `<c r="A1" t="inlineStr"><is><t>Name</t></is></c><c r="B1" t="inlineStr"><is><t>Note</t></is></c>`
	r, err := xlsxOpen(t, xlsxWrite(t, xlsxParts(t, map[string]string{"xl/worksheets/sheet1.xml": xlsxSheet(header,
		`<c r="B2"><v>1</v></c><c r="A2"><v>2</v></c>`,
		`<c r="A3"><v>3</v></c>`,
	)})), read.Options{})
	xlsxCheck(t, err)
	rows, _, err := drainSheet(t, r, 10)
	xlsxCheck(t, err)
	xlsxCheckRows(t, rows, []sheetRow{
		{n: 2, cells: []string{"", "1"}, why: "the cell A2 comes after a cell to its right"},
		{n: 3, cells: []string{"3"}},
	})

	r, err = xlsxOpen(t, xlsxWrite(t, xlsxParts(t, map[string]string{"xl/worksheets/sheet1.xml": xlsxSheet(header,
		`<c r="A2"><v>1</v></c>`,
		`<c r="A3" t="inlineStr"><is><t>a &bogus; b</t></is></c>`,
	)})), read.Options{})
	xlsxCheck(t, err)
	_, _, err = drainSheet(t, r, 10)
	const want = `the XLSX file is malformed: sheet "Sheet1" after row 2: its XML cannot be read: the reference &bogus; is not valid at byte`
	if !errors.Is(err, read.ErrFormat) || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v\nwant ErrFormat with %q", err, want)
	}
	xlsxNoTempFiles(t, dir)
}

// TestXLSXSharedStringsInAFile: past Options.MaxSheetXMLBytes of text, the shared strings are
// kept in a temporary file, and read the same; the file goes with the reader.
func TestXLSXSharedStringsInAFile(t *testing.T) {
	dir := xlsxTempDir(t)
	strs := []string{"Name"}
	rows := []string{`<c r="A1" t="s"><v>0</v></c>`}
	want := []sheetRow{}
	for i := 1; i <= 500; i++ {
		strs = append(strs, fmt.Sprintf("name %d", i))
		rows = append(rows, fmt.Sprintf(`<c r="A%d" t="s"><v>%d</v></c>`, i+1, 501-i))
		want = append(want, sheetRow{n: i + 1, cells: []string{fmt.Sprintf("name %d", 501-i)}})
	}
	r, err := xlsxOpen(t, xlsxWrite(t, xlsxParts(t, map[string]string{
		"xl/worksheets/sheet1.xml": xlsxSheet(rows...),
		"xl/sharedStrings.xml":     xlsxSST(strs...),
	})), read.Options{MaxSheetXMLBytes: 1000})
	xlsxCheck(t, err)
	if spilled, _ := filepath.Glob(filepath.Join(dir, "leadpipe-xlsx-*", "shared-strings-*")); len(spilled) != 1 {
		t.Errorf("shared strings' temporary files while reading: %v, want one", spilled)
	}
	got, _, err := drainSheet(t, r, 100)
	xlsxCheck(t, err)
	xlsxCheckRows(t, got, want)
	xlsxNoTempFiles(t, dir)
}

// TestXLSXSheetValues reads values at the edges: ISO dates far ahead (past 2192, where a
// time.Duration from 1899 ends) and with a zone (the wall clock as written, as Excel has no
// zones), numbers with white space around them, and long texts written with _xHHHH_ escapes
// (seven bytes a character), read whole below Excel's 32,767 characters and malformed above.
func TestXLSXSheetValues(t *testing.T) {
	xlsxTempDir(t)
	escaped := "A" + strings.Repeat("_x0041_", 20000) + "Z"       // 20,002 characters
	tooLong := strings.Repeat("_x0041_", read.XLSXMaxCellChars+1) // one too many
	sheet := xlsxSheet(`<c r="A1" t="inlineStr"><is><t>When</t></is></c><c r="B1" t="inlineStr"><is><t>Note</t></is></c>`,
		`<c r="A2" t="d"><v>9999-12-31</v></c><c r="B2"><v> 42 </v></c>`,
		`<c r="A3" t="d"><v>2200-01-01T12:00:00</v></c><c r="B3" t="s"><v>0</v></c>`,
		`<c r="A4" t="d"><v>2024-01-15T13:45:00+02:00</v></c><c r="B4" t="inlineStr"><is><t>`+escaped+`</t></is></c>`,
		`<c r="B5" t="inlineStr"><is><t>`+tooLong+`</t></is></c>`,
	)
	r, err := xlsxOpen(t, xlsxWrite(t, xlsxParts(t, map[string]string{
		"xl/worksheets/sheet1.xml": sheet,
		"xl/sharedStrings.xml":     xlsxSST(escaped),
	})), read.Options{})
	xlsxCheck(t, err)
	rows, _, err := drainSheet(t, r, 10)
	xlsxCheck(t, err)
	whole := "A" + strings.Repeat("A", 20000) + "Z"
	xlsxCheckRows(t, rows, []sheetRow{
		{n: 2, cells: []string{"9999-12-31", "42"}},
		{n: 3, cells: []string{"2200-01-01 12:00:00", whole}},
		{n: 4, cells: []string{"2024-01-15 13:45:00", whole}},
		{n: 5, cells: []string{"", ""}, why: "cell B5 is longer than 32767 characters"},
	})
}

// TestXLSXSheetHiddenEnd: "<?>" is no processing instruction's end, for the reader as for the
// XML check: a cell's value cannot hide behind one.
func TestXLSXSheetHiddenEnd(t *testing.T) {
	xlsxTempDir(t)
	sheet := xlsxSheet(`<c r="A1" t="inlineStr"><is><t>A</t></is></c><c r="B1" t="inlineStr"><is><t>B</t></is></c>`,
		`<c r="A2"><?></c>?><v>5</v></c><c r="B2"><v>6</v></c>`)
	r, err := xlsxOpen(t, xlsxWrite(t, xlsxParts(t, map[string]string{"xl/worksheets/sheet1.xml": sheet})), read.Options{})
	xlsxCheck(t, err)
	rows, _, err := drainSheet(t, r, 10)
	xlsxCheck(t, err)
	xlsxCheckRows(t, rows, []sheetRow{{n: 2, cells: []string{"5", "6"}}})
}

// TestXLSXSheetLongRow: a row whose values pass 16 MiB (here, 200 cells showing one shared
// string of 32,767 three-byte characters) is malformed, its values past that not kept.
func TestXLSXSheetLongRow(t *testing.T) {
	xlsxTempDir(t)
	row := strings.Repeat(`<c t="s"><v>1</v></c>`, 200)
	r, err := xlsxOpen(t, xlsxWrite(t, xlsxParts(t, map[string]string{
		"xl/worksheets/sheet1.xml": xlsxSheet(`<c t="s"><v>0</v></c>`, row, `<c t="s"><v>0</v></c>`),
		"xl/sharedStrings.xml":     xlsxSST("Note", strings.Repeat("中", read.XLSXMaxCellChars)),
	})), read.Options{})
	xlsxCheck(t, err)
	rows, _, err := drainSheet(t, r, 10)
	xlsxCheck(t, err)
	if len(rows) != 2 || rows[0].why != "the row holds more than 16 MiB of text" || len(rows[0].cells) > 200 ||
		!reflect.DeepEqual(rows[1].cells, []string{"Note"}) {
		t.Errorf("rows: %d; row 2 (%d cells): %q", len(rows), len(rows[0].cells), rows[0].why)
	}
}

// TestXLSXSheetOutsideWorksheets: a worksheet a workbook keeps outside xl/worksheets/ (OPC
// allows any name) is read, and its XML checked like any worksheet's.
func TestXLSXSheetOutsideWorksheets(t *testing.T) {
	dir := xlsxTempDir(t)
	rels := `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
		`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="/data/leads.xml"/></Relationships>`
	for _, tc := range []struct {
		name, sheet, err string
	}{
		{"good", xlsxSheet(`<c r="A1" t="inlineStr"><is><t>Email</t></is></c>`, `<c r="A2" t="inlineStr"><is><t>a@b.example</t></is></c>`), ""},
		{"broken", xlsxSheet(`<c r="A1" t="inlineStr"><is><t>Email</t></is></c>`, `<c r="A2"><v>1</v></row>`),
			"the file is not a valid XLSX workbook: part data/leads.xml: its XML is broken"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := xlsxOpen(t, xlsxWrite(t, xlsxParts(t, map[string]string{
				"xl/_rels/workbook.xml.rels": rels, "xl/worksheets/sheet1.xml": "\x00", "data/leads.xml": tc.sheet,
			})), read.Options{})
			if tc.err != "" {
				if !errors.Is(err, read.ErrFormat) || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("error %v, want ErrFormat with %q", err, tc.err)
				}
				return
			}
			xlsxCheck(t, err)
			rows, _, err := drainSheet(t, r, 10)
			xlsxCheck(t, err)
			xlsxCheckRows(t, rows, []sheetRow{{n: 2, cells: []string{"a@b.example"}}})
		})
	}
	xlsxNoTempFiles(t, dir)
}
