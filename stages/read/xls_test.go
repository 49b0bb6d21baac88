package read_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	unicode16 "unicode/utf16"
	"unicode/utf8"

	"github.com/leadpipe/leadpipe/stages/read"
)

// The fixtures in testdata/xls were written by SheetJS from testdata/xls/make-fixtures.js; the
// workbooks built here (buildXLS) cover what SheetJS does not write: formulas, RK numbers,
// shared strings cut inside a string, rows out of order, charts, encryption, BIFF5.

// openXLSBytes writes data to a file and opens it with read.Open.
func openXLSBytes(t testing.TB, data []byte, opts read.Options) (read.Reader, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "book.xls")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return openXLSPath(t, path, opts)
}

func openXLSPath(t testing.TB, path string, opts read.Options) (read.Reader, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return read.Open(f, opts)
}

func xlsFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "xls", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// readAllXLS opens data and reads its header and rows; it fails the test on any error.
func readAllXLS(t *testing.T, data []byte, opts read.Options) (read.Reader, []sheetRow) {
	t.Helper()
	r, err := openXLSBytes(t, data, opts)
	if err != nil {
		t.Fatal(err)
	}
	if r.Format() != "xls" {
		t.Errorf("Format() = %q", r.Format())
	}
	rows, _, err := drainSheet(t, r, 0)
	if err != nil {
		t.Fatal(err)
	}
	return r, rows
}

// readXLSTyped reads the XLS workbook data and returns its rows' typed cells.
func readXLSTyped(t *testing.T, data []byte, opts read.Options) map[int][]string {
	t.Helper()
	r, err := openXLSBytes(t, data, opts)
	if err != nil {
		t.Fatal(err)
	}
	_, batches, err := drainSheet(t, r, 0)
	if err != nil {
		t.Fatal(err)
	}
	return typedRows(batches)
}

func checkXLSRows(t *testing.T, got, want []sheetRow) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d rows, want %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		if g.n != w.n || !reflect.DeepEqual(g.cells, w.cells) && !(len(g.cells) == 0 && len(w.cells) == 0) || g.why != w.why {
			t.Errorf("row %d:\n got %d %q %q\nwant %d %q %q", i, g.n, g.cells, g.why, w.n, w.cells, w.why)
		}
	}
}

var xlsProspectsHeader = []string{"First Name", "Last Name", "Email", "Phone", "Score", "Signed Up", "Active", "Notes"}

var xlsProspectsRows = []sheetRow{
	// E2 is formatted 0.00: its typed value is 42.5 (xlsProspectsTyped).
	{2, []string{"Ada", "Lovelace", "ada@example.com", "15551234567", "42.50", "2024-01-31", "true", "first"}, ""},
	{3, []string{"Zoë", "Łukasiewicz", "zoe@example.com", "4930123456", "0.3", "1999-12-31", "false", "日本語"}, ""},
	// Row 4 is blank. H5 holds an empty string: the row ends at G.
	{5, []string{"Grace", "Hopper", "grace@example.com", "-7", "1000000000000000000000", "2024-02-29 13:45:00", "true"}, ""},
	{6, []string{"Alan", "Turing", "alan@example.com", "12", "3", "2024-01-01", "false", "x", "extra"}, "row has 9 cells but the header has 8"},
}

// xlsProspectsTyped are the typed cells of the Prospects sheet's rows (pipeline.Row.Typed).
var xlsProspectsTyped = map[int][]string{2: {"", "", "", "", "42.5", "", "", ""}}

// manyRows are the rows of many.xls, as make-fixtures.js makes them.
func xlsManyRows() []sheetRow {
	var rows []sheetRow
	for i := 1; i <= 40; i++ {
		note := fmt.Sprintf("note number %d %s", i, strings.Repeat("x", 90+i%13))
		if i%10 == 0 {
			note = fmt.Sprintf("nöte %d — %s", i, strings.Repeat("ж", i%7))
		}
		rows = append(rows, sheetRow{i + 1, []string{fmt.Sprintf("user%d@example.com", i), note}, ""})
	}
	return rows
}

func TestXLSFixtures(t *testing.T) {
	tests := []struct {
		file, sheet string
		xlsHeader   []string
		headerRow   int
		rows        []sheetRow
		typed       map[int][]string
	}{
		{"prospects.xls", "", xlsProspectsHeader, 1, xlsProspectsRows, xlsProspectsTyped},
		{"prospects.xls", "Prospects", xlsProspectsHeader, 1, xlsProspectsRows, xlsProspectsTyped},
		{"prospects.xls", "Archive", []string{"Email", "Company"}, 1, []sheetRow{
			{2, []string{"old@example.com", "Acme"}, ""},
			{3, []string{"older@example.com", "Initech"}, ""},
		}, nil},
		{"prospects.xls", "ARCHIVE", []string{"Email", "Company"}, 1, []sheetRow{
			{2, []string{"old@example.com", "Acme"}, ""},
			{3, []string{"older@example.com", "Initech"}, ""},
		}, nil},
		// Row 1 is blank; the header's empty third cell is dropped.
		{"header-row2.xls", "", []string{"Email", "Name"}, 2, []sheetRow{
			{3, []string{"a@example.com", "A"}, ""},
			{4, []string{"b@example.com", "B"}, ""},
		}, nil},
		{"many.xls", "", []string{"Email", "Note"}, 1, xlsManyRows(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.sheet, func(t *testing.T) {
			r, rows := readAllXLS(t, xlsFixture(t, tt.file), read.Options{Sheet: tt.sheet})
			if !reflect.DeepEqual(r.Header(), tt.xlsHeader) {
				t.Errorf("header %q, want %q", r.Header(), tt.xlsHeader)
			}
			if r.HeaderRow() != tt.headerRow {
				t.Errorf("header row %d, want %d", r.HeaderRow(), tt.headerRow)
			}
			checkXLSRows(t, rows, tt.rows)
			checkTyped(t, readXLSTyped(t, xlsFixture(t, tt.file), read.Options{Sheet: tt.sheet}), tt.typed)

			r, err := openXLSPath(t, filepath.Join("testdata", "xls", tt.file), read.Options{Sheet: tt.sheet})
			if err != nil {
				t.Fatal(err)
			}
			if n, err := r.CountRows(); err != nil || n != len(tt.rows) {
				t.Errorf("CountRows() = %d, %v; want %d", n, err, len(tt.rows))
			}
		})
	}
}

func TestXLSBatches(t *testing.T) {
	r, err := openXLSBytes(t, xlsFixture(t, "prospects.xls"), read.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, batches, err := drainSheet(t, r, 2)
	if err != nil {
		t.Fatal(err)
	}
	var got [][]int
	for _, b := range batches {
		nums := []int{b.LastRow}
		for _, row := range b.Rows {
			nums = append(nums, row.Number)
		}
		got = append(got, nums)
		if b.Offset != 0 {
			t.Errorf("batch offset %d", b.Offset)
		}
	}
	// Each batch: its LastRow, then its rows.
	want := [][]int{{3, 2, 3}, {6, 5, 6}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("batches %v, want %v", got, want)
	}
}

func TestXLSResume(t *testing.T) {
	tests := []struct {
		file     string
		startRow int
		rows     []sheetRow
	}{
		{"prospects.xls", 0, xlsProspectsRows},
		{"prospects.xls", 1, xlsProspectsRows},
		{"prospects.xls", 2, xlsProspectsRows[1:]},
		{"prospects.xls", 3, xlsProspectsRows[2:]}, // row 4 is blank
		{"prospects.xls", 4, xlsProspectsRows[2:]},
		{"prospects.xls", 5, xlsProspectsRows[3:]},
		{"prospects.xls", 6, nil},
		{"prospects.xls", 100, nil},
		{"header-row2.xls", 3, []sheetRow{{4, []string{"b@example.com", "B"}, ""}}},
		{"many.xls", 30, xlsManyRows()[29:]},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.file, tt.startRow), func(t *testing.T) {
			opts := read.Options{CSV: read.CSVOptions{StartRow: tt.startRow}}
			_, rows := readAllXLS(t, xlsFixture(t, tt.file), opts)
			checkXLSRows(t, rows, tt.rows)

			r, err := openXLSBytes(t, xlsFixture(t, tt.file), opts)
			if err != nil {
				t.Fatal(err)
			}
			if n, err := r.CountRows(); err != nil || n != len(tt.rows) {
				t.Errorf("CountRows() = %d, %v; want %d", n, err, len(tt.rows))
			}
		})
	}

	// Resuming from each batch's checkpoint gives the rows after it.
	data := xlsFixture(t, "many.xls")
	r, err := openXLSBytes(t, data, read.Options{})
	if err != nil {
		t.Fatal(err)
	}
	all, batches, err := drainSheet(t, r, 7)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, b := range batches {
		seen += len(b.Rows)
		_, rest := readAllXLS(t, data, read.Options{CSV: read.CSVOptions{StartRow: b.LastRow}})
		checkXLSRows(t, rest, all[seen:])
	}
}

func TestXLSSheetErrors(t *testing.T) {
	_, err := openXLSBytes(t, xlsFixture(t, "prospects.xls"), read.Options{Sheet: "Leads"})
	want := `the XLS workbook has no sheet named "Leads"; its sheets are "Prospects", "Archive"`
	if err == nil || err.Error() != want || !errors.Is(err, read.ErrFormat) {
		t.Errorf("unknown sheet: %v", err)
	}
}

// ----- Workbooks built byte by byte -----

type xlsRecord struct {
	id   uint16
	body []byte
}

func xlsRec(id uint16, parts ...any) xlsRecord {
	var b []byte
	for _, p := range parts {
		switch v := p.(type) {
		case int:
			b = binary.LittleEndian.AppendUint16(b, uint16(v))
		case uint32:
			b = binary.LittleEndian.AppendUint32(b, v)
		case byte:
			b = append(b, v)
		case float64:
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		case []byte:
			b = append(b, v...)
		case string:
			b = append(b, xlsUnicode(v)...)
		default:
			panic(fmt.Sprintf("rec: %T", p))
		}
	}
	return xlsRecord{id, b}
}

// xlString is an XLUnicodeString: 16-bit when s is not Latin-1.
func xlsUnicode(s string) []byte {
	b := binary.LittleEndian.AppendUint16(nil, uint16(utf8.RuneCountInString(s)))
	return append(b, xlsChars(s)...)
}

// xlChars is an option byte and s's characters, 8-bit ones when s is Latin-1.
func xlsChars(s string) []byte {
	latin := true
	for _, r := range s {
		latin = latin && r < 256
	}
	if latin {
		b := []byte{0}
		for _, r := range s {
			b = append(b, byte(r))
		}
		return b
	}
	b := []byte{1}
	for _, u := range unicode16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}

const (
	xNumber   = 0x0203
	xLabel    = 0x0204
	xLabelSST = 0x00FD
	xSST      = 0x00FC
	xContinue = 0x003C
	xFormula  = 0x0006
	xString   = 0x0207
)

func xlsNumber(row, col, xf int, v float64) xlsRecord { return xlsRec(xNumber, row, col, xf, v) }
func xlsLabel(row, col int, s string) xlsRecord       { return xlsRec(xLabel, row, col, 0, s) }
func xlsFormula(row, col int, value []byte) xlsRecord {
	return xlsRec(xFormula, row, col, 0, value, 0, uint32(0), 3, []byte{0x1E, 1, 0}) // =1
}
func xlsFormulaResult(kind, v byte) []byte { return []byte{kind, 0, v, 0, 0, 0, 0xFF, 0xFF} }

type xlsSheet struct {
	name   string
	hidden bool
	recs   []xlsRecord
}

var (
	xlsGlobalsBOF = xlsRec(0x0809, 0x0600, 0x0005, 0, 0, uint32(0), uint32(0))
	xlsSheetBOF   = xlsRec(0x0809, 0x0600, 0x0010, 0, 0, uint32(0), uint32(0))
	xlsEOF        = xlsRec(0x000A)
)

// buildXLS builds a workbook stream of the globals records (after BOF) and the sheets, and puts
// it in a compound file.
func buildXLS(globals []xlsRecord, sheets ...xlsSheet) []byte {
	return xlsBuildCFB("Workbook", buildXLSStream(globals, sheets...))
}

// buildXLSStream builds a workbook stream of the globals records (after BOF) and the sheets.
func buildXLSStream(globals []xlsRecord, sheets ...xlsSheet) []byte {
	var w bytes.Buffer
	put := func(r xlsRecord) int {
		off := w.Len()
		binary.Write(&w, binary.LittleEndian, r.id)
		binary.Write(&w, binary.LittleEndian, uint16(len(r.body)))
		w.Write(r.body)
		return off
	}
	put(xlsGlobalsBOF)
	for _, r := range globals {
		put(r)
	}
	var patch []int
	for _, s := range sheets {
		hs := byte(0)
		if s.hidden {
			hs = 1
		}
		name := xlsChars(s.name)
		off := put(xlsRec(0x0085, uint32(0), hs, byte(0), byte(utf8.RuneCountInString(s.name)), name))
		patch = append(patch, off+4)
	}
	put(xlsEOF)
	for i, s := range sheets {
		pos := put(xlsSheetBOF)
		for _, r := range s.recs {
			put(r)
		}
		put(xlsEOF)
		b := w.Bytes()
		binary.LittleEndian.PutUint32(b[patch[i]:], uint32(pos))
	}
	return w.Bytes()
}

// buildCFB builds a version-3 compound file holding one stream; a stream under 4096 bytes is
// padded with zeros so that it is not in the mini stream.
func xlsBuildCFB(name string, stream []byte) []byte {
	const ss = 512
	if len(stream) < 4096 {
		stream = append(stream, make([]byte, 4096-len(stream))...)
	}
	n := (len(stream) + ss - 1) / ss
	nfat := 1
	for (nfat+1+n+127)/128 > nfat {
		nfat++
	}
	le := binary.LittleEndian
	hdr := make([]byte, ss)
	copy(hdr, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1")
	le.PutUint16(hdr[0x18:], 0x3E)
	le.PutUint16(hdr[0x1A:], 3)
	le.PutUint16(hdr[0x1C:], 0xFFFE)
	le.PutUint16(hdr[0x1E:], 9)
	le.PutUint16(hdr[0x20:], 6)
	le.PutUint32(hdr[0x2C:], uint32(nfat))
	le.PutUint32(hdr[0x30:], uint32(nfat)) // the directory follows the FAT
	le.PutUint32(hdr[0x38:], 4096)
	le.PutUint32(hdr[0x3C:], 0xFFFFFFFE)
	le.PutUint32(hdr[0x44:], 0xFFFFFFFE)
	for i := range 109 {
		v := uint32(0xFFFFFFFF)
		if i < nfat {
			v = uint32(i)
		}
		le.PutUint32(hdr[0x4C+4*i:], v)
	}
	fat := make([]byte, nfat*ss)
	for i := range nfat * 128 {
		v := uint32(0xFFFFFFFF)
		switch {
		case i < nfat:
			v = 0xFFFFFFFD
		case i == nfat:
			v = 0xFFFFFFFE
		case i < nfat+n:
			v = uint32(i + 1)
		case i == nfat+n:
			v = 0xFFFFFFFE
		}
		le.PutUint32(fat[4*i:], v)
	}
	dir := make([]byte, ss)
	entry := func(i int, name string, typ byte, child, start uint32, size int) {
		e := dir[i*128 : (i+1)*128]
		u := unicode16.Encode([]rune(name))
		for j, c := range u {
			le.PutUint16(e[2*j:], c)
		}
		le.PutUint16(e[0x40:], uint16(2*len(u)+2))
		e[0x42], e[0x43] = typ, 1
		le.PutUint32(e[0x44:], 0xFFFFFFFF)
		le.PutUint32(e[0x48:], 0xFFFFFFFF)
		le.PutUint32(e[0x4C:], child)
		le.PutUint32(e[0x74:], start)
		le.PutUint32(e[0x78:], uint32(size))
	}
	entry(0, "Root Entry", 5, 1, 0xFFFFFFFE, 0)
	entry(1, name, 2, 0xFFFFFFFF, uint32(nfat+1), len(stream))
	out := append(hdr, fat...)
	out = append(out, dir...)
	out = append(out, stream...)
	return append(out, make([]byte, n*ss-len(stream))...)
}

func xlsHeader(cols ...string) []xlsRecord {
	var recs []xlsRecord
	for i, c := range cols {
		recs = append(recs, xlsLabel(0, i, c))
	}
	return recs
}

func TestXLSBuiltCells(t *testing.T) {
	// Cell formats: XF 0 general, 1 built-in date 14, 2..: custom formats 164...
	formats := []string{
		`[$-409]d-mmm-yy;@`,     // 2: date
		`"Date: "0.00`,          // 3: a number, whatever the quoted text says
		`0.00E+00`,              // 4: a number
		`h:mm`,                  // 5: time
		`[h]:mm:ss`,             // 6: elapsed time
		`mmm`,                   // 7: a month: a date
		`yyyy-mm-dd hh:mm`,      // 8: date and time
		`[Red]0.00;[Blue]-0.00`, // 9: a number in color
	}
	globals := []xlsRecord{
		xlsRec(0x00E0, 0, 0, make([]byte, 16)),
		xlsRec(0x00E0, 0, 14, make([]byte, 16)),
	}
	for i, f := range formats {
		globals = append(globals, xlsRec(0x041E, 164+i, f))
		globals = append(globals, xlsRec(0x00E0, 0, 164+i, make([]byte, 16)))
	}
	rk := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	cells := append(xlsHeader("a", "b", "c", "d", "e", "f", "g", "h", "i", "j"),
		// Row 2: numbers in each format.
		xlsNumber(1, 0, 0, 45292.75),
		xlsNumber(1, 1, 1, 45292.75),
		xlsNumber(1, 2, 2, 45292),
		xlsNumber(1, 3, 3, 45292),
		xlsNumber(1, 4, 4, 45292),
		xlsNumber(1, 5, 5, 0.5625),
		xlsNumber(1, 6, 6, 1.5),
		xlsNumber(1, 7, 7, 45292),
		xlsNumber(1, 8, 8, 45292.5),
		xlsNumber(1, 9, 9, -2.5),
		// Row 3: RK numbers: integer 1234, 12.34 (1234/100), a double (3.5), a negative integer.
		xlsRec(0x027E, 2, 0, 0, rk(1234<<2|2)),
		xlsRec(0x027E, 2, 1, 0, rk(1234<<2|3)),
		xlsRec(0x027E, 2, 2, 0, rk(uint32(math.Float64bits(3.5)>>32))),
		// MULRK: D3..F3, the middle one a date.
		xlsRec(0x00BD, 2, 3, 0, rk(0xFFFFFFFC|2), 1, rk(45292<<2|2), 0, rk(7<<2|2), 5),
		// Row 4: formula results: number, string (after a shared formula), boolean, error,
		// empty string, a date.
		xlsFormula(3, 0, binary.LittleEndian.AppendUint64(nil, math.Float64bits(0.1+0.2))),
		xlsFormula(3, 1, xlsFormulaResult(0, 0)),
		xlsRec(0x04BC, make([]byte, 10)),
		xlsRec(xString, "computed ünïcode ✓"),
		xlsFormula(3, 2, xlsFormulaResult(1, 1)),
		xlsFormula(3, 3, xlsFormulaResult(2, 0x2A)),
		xlsFormula(3, 4, xlsFormulaResult(3, 0)),
		xlsRec(xFormula, 3, 5, 1, binary.LittleEndian.AppendUint64(nil, math.Float64bits(45322)), 0, uint32(0), 3, []byte{0x1E, 1, 0}),
		// Row 5: booleans and errors, a string with a NUL, an RSTRING.
		xlsRec(0x0205, 4, 0, 0, byte(1), byte(0)),
		xlsRec(0x0205, 4, 1, 0, byte(0), byte(0)),
		xlsRec(0x0205, 4, 2, 0, byte(0x07), byte(1)),
		xlsLabel(4, 3, "a\x00b"),
		xlsRec(0x00D6, 4, 4, 0, "rich", 1, []byte{0, 0, 0, 0}),
		// Row 6: blank cells only (BLANK, MULBLANK) and whitespace: a blank row.
		xlsRec(0x0201, 5, 0, 0),
		xlsRec(0x00BE, 5, 1, 0, 0, 3),
		xlsLabel(5, 4, "   "),
		// Row 7: a cell past the header (blank), and one in the header's last column.
		xlsLabel(6, 9, "j"),
		xlsLabel(6, 12, " "),
	)
	data := buildXLS(globals, xlsSheet{name: "Data", recs: cells})
	_, rows := readAllXLS(t, data, read.Options{})
	want := []sheetRow{
		{2, []string{"45292.75", "2024-01-01", "2024-01-01", "Date: 45292.00", "4.53E+04", "13:30:00", "36:00:00", "2024-01-01", "2024-01-01 12:00:00", "-2.50"}, ""},
		{3, []string{"1234", "12.34", "3.5", "-1", "2024-01-01", "7"}, ""},
		{4, []string{"0.3", "computed ünïcode ✓", "true", "#N/A", "", "2024-01-31"}, ""},
		{5, []string{"true", "false", "#DIV/0!", "ab", "rich"}, ""},
		{7, []string{"", "", "", "", "", "", "", "", "", "j"}, ""},
	}
	checkXLSRows(t, rows, want)
	checkTyped(t, readXLSTyped(t, data, read.Options{}), map[int][]string{
		2: {"", "", "", "45292", "45292", "", "", "", "", "-2.5"},
	})
}

func TestXLSBuiltDates(t *testing.T) {
	globals := []xlsRecord{xlsRec(0x00E0, 0, 0, make([]byte, 16)), xlsRec(0x00E0, 0, 14, make([]byte, 16))}
	cells := append(xlsHeader("d"),
		xlsNumber(1, 0, 1, 1),       // 1900-01-01
		xlsNumber(2, 0, 1, 59),      // 1900-02-28
		xlsNumber(3, 0, 1, 60),      // Excel's 1900-02-29
		xlsNumber(4, 0, 1, 61),      // 1900-03-01
		xlsNumber(5, 0, 1, 2958465), // 9999-12-31
		xlsNumber(6, 0, 1, 2958466), // no date: the number
		xlsNumber(7, 0, 1, -1),      // no date: the number
		xlsNumber(8, 0, 1, 45322.99999999),
	)
	_, rows := readAllXLS(t, buildXLS(globals, xlsSheet{name: "S", recs: cells}), read.Options{})
	checkXLSRows(t, rows, []sheetRow{
		{2, []string{"1900-01-01"}, ""},
		{3, []string{"1900-02-28"}, ""},
		{4, []string{"1900-02-29"}, ""},
		{5, []string{"1900-03-01"}, ""},
		{6, []string{"9999-12-31"}, ""},
		{7, []string{"2958466"}, ""},
		{8, []string{"-1"}, ""},
		{9, []string{"2024-02-01"}, ""}, // rounded to the second: midnight of the next day
	})

	// The 1904 date system: serial 0 is 1904-01-01.
	globals = append(globals, xlsRec(0x0022, 1))
	_, rows = readAllXLS(t, buildXLS(globals, xlsSheet{name: "S", recs: append(xlsHeader("d"), xlsNumber(1, 0, 1, 0), xlsNumber(2, 0, 1, 43860))}), read.Options{})
	checkXLSRows(t, rows, []sheetRow{{2, []string{"1904-01-01"}, ""}, {3, []string{"2024-01-31"}, ""}})
}

// sst builds an SST record and its CONTINUE records from the chunks of its body: the first
// chunk follows the two counts, each further one is a CONTINUE record.
func xlsSST(count int, chunks ...[]byte) []xlsRecord {
	first := append(binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, uint32(count)), uint32(count)), chunks[0]...)
	recs := []xlsRecord{{xSST, first}}
	for _, c := range chunks[1:] {
		recs = append(recs, xlsRecord{xContinue, c})
	}
	return recs
}

func xlsCat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
func xlsU16(v int) []byte           { return binary.LittleEndian.AppendUint16(nil, uint16(v)) }

func TestXLSSharedStrings(t *testing.T) {
	utf := func(s string) []byte { // 16-bit characters, whatever s holds
		var b []byte
		for _, u := range unicode16.Encode([]rune(s)) {
			b = binary.LittleEndian.AppendUint16(b, u)
		}
		return b
	}
	globals := xlsSST(6,
		xlsCat(xlsU16(5), []byte{0}, []byte("Email"),
			// "ĀĒĪŌŪ": 16-bit, cut after two characters; the CONTINUE starts with option 1.
			xlsU16(5), []byte{1}, utf("ĀĒ")),
		xlsCat([]byte{1}, utf("ĪŌŪ"),
			// "abcdef": 8-bit, cut after "abc"; it goes on 16-bit.
			xlsU16(6), []byte{0}, []byte("abc")),
		xlsCat([]byte{1}, utf("def"),
			// "rich": a formatting run (4 bytes) cut in two, and no option byte before its rest.
			xlsU16(4), []byte{0x08}, xlsU16(1), []byte("rich"), []byte{0, 0}),
		xlsCat([]byte{0, 0},
			// "ph": phonetic data of 6 bytes, then a string whose header opens the next record.
			xlsU16(2), []byte{0x04}, binary.LittleEndian.AppendUint32(nil, 6), []byte("ph"), make([]byte, 6)),
		xlsCat(xlsU16(4), []byte{0}, []byte("last")),
	)
	cells := []xlsRecord{xlsRec(xLabelSST, 0, 0, 0, uint32(0))}
	for i := range 5 {
		cells = append(cells, xlsRec(xLabelSST, i+1, 0, 0, uint32(i+1)))
	}
	cells = append(cells, xlsRec(xLabelSST, 7, 0, 0, uint32(6))) // past the table
	_, rows := readAllXLS(t, buildXLS(globals, xlsSheet{name: "S", recs: cells}), read.Options{})
	checkXLSRows(t, rows, []sheetRow{
		{2, []string{"ĀĒĪŌŪ"}, ""},
		{3, []string{"abcdef"}, ""},
		{4, []string{"rich"}, ""},
		{5, []string{"ph"}, ""},
		{6, []string{"last"}, ""},
		{8, nil, "cell A8 refers to shared string 6, but the workbook has 6"},
	})
}

func TestXLSBuiltStructure(t *testing.T) {
	t.Run("rows out of order", func(t *testing.T) {
		cells := append(xlsHeader("a", "b"),
			xlsLabel(3, 0, "row4"), xlsLabel(1, 1, "row2b"), xlsLabel(2, 0, "row3"), xlsLabel(1, 0, "row2a"))
		_, rows := readAllXLS(t, buildXLS(nil, xlsSheet{name: "S", recs: cells}), read.Options{})
		checkXLSRows(t, rows, []sheetRow{
			{2, []string{"row2a", "row2b"}, ""},
			{3, []string{"row3"}, ""},
			{4, []string{"row4"}, ""},
		})
	})
	t.Run("chart inside the sheet", func(t *testing.T) {
		chart := xlsRec(0x0809, 0x0600, 0x0020, 0, 0, uint32(0), uint32(0))
		cells := append(xlsHeader("a"), xlsLabel(1, 0, "before"), chart, xlsNumber(9, 0, 0, 99), xlsEOF, xlsLabel(2, 0, "after"))
		_, rows := readAllXLS(t, buildXLS(nil, xlsSheet{name: "S", recs: cells}), read.Options{})
		checkXLSRows(t, rows, []sheetRow{{2, []string{"before"}, ""}, {3, []string{"after"}, ""}})
	})
	t.Run("first visible sheet", func(t *testing.T) {
		data := buildXLS(nil,
			xlsSheet{name: "Hidden", hidden: true, recs: xlsHeader("hidden")},
			xlsSheet{name: "Shown", recs: append(xlsHeader("shown"), xlsLabel(1, 0, "x"))})
		r, rows := readAllXLS(t, data, read.Options{})
		if !reflect.DeepEqual(r.Header(), []string{"shown"}) {
			t.Errorf("header %q", r.Header())
		}
		checkXLSRows(t, rows, []sheetRow{{2, []string{"x"}, ""}})
		r, _ = readAllXLS(t, data, read.Options{Sheet: "hidden"})
		if !reflect.DeepEqual(r.Header(), []string{"hidden"}) {
			t.Errorf("header %q", r.Header())
		}
	})
	t.Run("header gaps and spaces", func(t *testing.T) {
		cells := []xlsRecord{xlsLabel(2, 0, " a "), xlsLabel(2, 2, "c"), xlsLabel(2, 3, "  "), xlsLabel(3, 1, " x ")}
		r, rows := readAllXLS(t, buildXLS(nil, xlsSheet{name: "S", recs: cells}), read.Options{})
		if !reflect.DeepEqual(r.Header(), []string{"a", "", "c"}) || r.HeaderRow() != 3 {
			t.Errorf("header %q at row %d", r.Header(), r.HeaderRow())
		}
		checkXLSRows(t, rows, []sheetRow{{4, []string{"", " x "}, ""}})
	})
	t.Run("corrupt cells", func(t *testing.T) {
		cells := append(xlsHeader("a", "b"),
			xlsLabel(1, 0, "ok"), xlsRec(xNumber, 1, 1, 0, uint32(0)), // NUMBER cut short
			xlsLabel(2, 0, "wide"), xlsLabel(2, 300, "far"),
			xlsLabel(3, 0, "fine"),
			xlsFormula(4, 0, xlsFormulaResult(0, 0)), // its STRING record is missing
			xlsRec(0x027E, 5, 0, 0),                  // RK cut short
		)
		_, rows := readAllXLS(t, buildXLS(nil, xlsSheet{name: "S", recs: cells}), read.Options{})
		checkXLSRows(t, rows, []sheetRow{
			{2, []string{"ok"}, "the record of cell B2 is cut short"},
			{3, []string{"wide"}, "it has a cell in column 301, past IV, the last column of an XLS sheet"},
			{4, []string{"fine"}, ""},
			{5, nil, "the text result of the formula in cell A5 is missing or cut short"},
			{6, nil, "the record of cell A6 is cut short"}, // blank but for its corrupt cell
		})
	})
	t.Run("cell records of older formats", func(t *testing.T) {
		cells := append(xlsHeader("a", "b"),
			xlsLabel(1, 0, "int"), xlsRec(0x0002, 1, 1, []byte{0, 0, 0}, 7), // BIFF2 INTEGER
			xlsRec(0x0206, 2, 1, 0, 3.0, 0, uint32(0), 3, []byte{0x1E, 3, 0}), // BIFF3 FORMULA: row 3 holds nothing else
			xlsRec(0x0406, 3, 0, 0, 4.0, 0, uint32(0), 3, []byte{0x1E, 4, 0}), // BIFF4 FORMULA, read
			xlsLabel(4, 0, "noted"), xlsRec(0x001C, 4, 1, 0, 1, "me"), // a NOTE, which is no cell
		)
		_, rows := readAllXLS(t, buildXLS(nil, xlsSheet{name: "S", recs: cells}), read.Options{})
		checkXLSRows(t, rows, []sheetRow{
			{2, []string{"int"}, "cell B2 is in a record of type 0x0002, of an older Excel format, which is not read; save the file as .xlsx"},
			{3, nil, "cell B3 is in a record of type 0x0206, of an older Excel format, which is not read; save the file as .xlsx"},
			{4, []string{"4"}, ""},
			{5, []string{"noted"}, ""},
		})
	})
}

// TestXLSCorpus reads real workbooks of the shared corpus (see its MANIFEST.md); the cells
// expected were checked by hand against the files' records.
func TestXLSCorpus(t *testing.T) {
	readCorpus := func(t *testing.T, name string) (read.Reader, []sheetRow) {
		t.Helper()
		r, err := openXLSPath(t, corpusFile(t, name), read.Options{})
		if err != nil {
			t.Fatal(err)
		}
		rows, _, err := drainSheet(t, r, 0)
		if err != nil {
			t.Fatal(err)
		}
		return r, rows
	}
	t.Run("BIFF8 in a stream named Book", func(t *testing.T) {
		// 6,087 sheet rows (the DIMENSIONS record says so): the header and 6,086 contacts.
		r, rows := readCorpus(t, "poi-46904.xls")
		if h := r.Header(); len(h) != 21 || h[0] != "NAVNETYPE" || h[2] != "NAVN1" || h[20] != "ADRESSEOPDATERET" || r.HeaderRow() != 1 {
			t.Errorf("header %q at row %d", h, r.HeaderRow())
		}
		if len(rows) != 6086 {
			t.Fatalf("got %d rows, want 6086", len(rows))
		}
		for i, row := range rows {
			if row.n != i+2 || row.why != "" {
				t.Fatalf("row %d: number %d, malformed %q", i, row.n, row.why)
			}
		}
		checkXLSRows(t, []sheetRow{rows[0], rows[len(rows)-1]}, []sheetRow{
			{2, []string{"D", "BRKAJ", "Brian Kamp Jensen", "BK-Teknik", "", "Fiskens kvt. 142", "", "6710", "Esbjerg V", "DK",
				"", "", "75 46 82 81", "", "1-5988", "561-41-01111", "20747285", "17617", "50700"}, ""},
			{6087, []string{"R", "MOHAMØ", "Mogens Harkjær Møller", "", "", "Oddesundvej 202, Koldby", "Koldby", "7752", "Snedsted", "DK",
				"", "", "", "", "2-1474", "561-41-06879", "", "48950", "81243", "27-06-2008", "27-06-2008"}, ""},
		})
	})
	t.Run("BIFF8 in a stream named BOOK", func(t *testing.T) {
		r, rows := readCorpus(t, "poi-BOOK_in_capitals.xls")
		if h := r.Header(); !reflect.DeepEqual(h, []string{"301. Exposures by Counterparty and Agreement Detail"}) {
			t.Errorf("header %q", h)
		}
		// A report, not a list: its rows are wider than its one-cell title.
		if len(rows) != 13 || rows[7].n != 10 || !reflect.DeepEqual(rows[7].cells, []string{"Report Date: ", "2013-01-16"}) {
			t.Errorf("got %d rows; the 8th: %v", len(rows), rows[min(7, len(rows)-1)])
		}
	})
	t.Run("BIFF4 formula records", func(t *testing.T) {
		r, rows := readCorpus(t, "poi-WrongFormulaRecordType.xls")
		if h := r.Header(); !reflect.DeepEqual(h, []string{"Sum of Numbers", "Max of Numbers", "Dates?"}) {
			t.Errorf("header %q", h)
		}
		checkXLSRows(t, rows, []sheetRow{
			{2, []string{"1", "1", "2009-01-01"}, ""},
			{3, []string{"2", "2", "2009-01-02"}, ""},
			{4, []string{"3", "2", "2009-01-02"}, ""},
		})
	})
	t.Run("1904 date system", func(t *testing.T) {
		// The XLSX copy reads the same (TestXLSXDate1904): B shows dates, which C computes as text
		// with TEXT(B, "YYYY-MM-DD") and D takes with T(C).
		r, rows := readCorpus(t, "sheetjs-1904.xls")
		if h := r.Header(); !reflect.DeepEqual(h, []string{"1", "1904-01-02", "1904-01-02", "1904-01-02"}) {
			t.Errorf("header %q", h)
		}
		checkXLSRows(t, rows, []sheetRow{
			{2, []string{"11", "1904-01-12", "1904-01-12", "1904-01-12"}, ""},
			{3, []string{"111", "1904-04-21", "1904-04-21", "1904-04-21"}, ""},
			{4, []string{"1111", "1907-01-16", "1907-01-16", "1907-01-16"}, ""},
			{5, []string{"11111", "1934-06-03", "1934-06-03", "1934-06-03"}, ""},
		})
	})
	t.Run("Excel 3.0 worksheet", func(t *testing.T) {
		// A USDA table with a one-cell title for its first row: every data row is wider than
		// that "header", so each is malformed, with its cells kept for the report.
		r, rows := readCorpus(t, "poi-testEXCEL_3.xls")
		if h := r.Header(); !reflect.DeepEqual(h, []string{"Table C-13--Lemons: Utilization of production, by State, 1977/78 to date"}) {
			t.Errorf("header %q", h)
		}
		if len(rows) != 29 {
			t.Errorf("got %d rows, want 29", len(rows))
		}
		// The numbers' cell format (XF 57, its number-format flag set) has the format
		// #,##0___________) (FORMAT 48), so they show whole, as xlrd reads the file too; a number
		// field gets the value (LibreOffice 7.4 shows them in General: 376.2).
		checkXLSRows(t, rows[3:5], []sheetRow{
			{6, []string{"1977/78", "", "376", "395", "", "87", "133", "", "464", "528"}, "row has 10 cells but the header has 1"},
			{7, []string{"1978/79", "", "348", "187", "", "106", "103", "", "455", "290"}, "row has 10 cells but the header has 1"},
		})
	})
	t.Run("Excel 4.0 worksheet", func(t *testing.T) {
		r, rows := readCorpus(t, "xlrd-biff4_no_format_no_window2.xls")
		if h := r.Header(); !reflect.DeepEqual(h, []string{"ID", "TOTAL", "MAIN", "SUB"}) {
			t.Errorf("header %q", h)
		}
		if len(rows) != 26 {
			t.Errorf("got %d rows, want 26", len(rows))
		}
		checkXLSRows(t, rows[:2], []sheetRow{
			{2, []string{"A", "DOG & CAT PRODUCTS", "Dog & Cat Product"}, ""},
			{3, []string{"B", "BIRD PRODUCTS", "Bird Product"}, ""},
		})
	})
}

// legacyStream is a bare BIFF stream of records, as Excel 2.x–4.x wrote a worksheet file.
func legacyStream(recs ...xlsRecord) []byte {
	var w bytes.Buffer
	for _, r := range recs {
		binary.Write(&w, binary.LittleEndian, r.id)
		binary.Write(&w, binary.LittleEndian, uint16(len(r.body)))
		w.Write(r.body)
	}
	return w.Bytes()
}

// legacyLabel is a BIFF3/4 LABEL record: a byte string of the file's code page.
func legacyLabel(row, col int, s []byte) xlsRecord {
	return xlsRec(xLabel, row, col, 0, len(s), s)
}

// TestXLSLegacyBuilt reads Excel 3.0 and 4.0 worksheets built record by record: text in the
// file's code page, numbers, a date by its format (BIFF3 numbers FORMAT records in order), a
// formula (0x0206), and refuses the formats that are not read with a message that names them.
func TestXLSLegacyBuilt(t *testing.T) {
	bof3 := xlsRec(0x0209, 0, 0x0010, 0)
	bof4 := xlsRec(0x0409, 0, 0x0010, 0)
	formats := []xlsRecord{
		xlsRec(0x001E, byte(7), []byte("General")),
		xlsRec(0x001E, byte(10), []byte("yyyy-mm-dd")),
		xlsRec(0x0243, byte(0), byte(0), 0, 0, 0, uint32(0)), // XF 0: format 0
		xlsRec(0x0243, byte(0), byte(1), 0, 0, 0, uint32(0)), // XF 1: format 1, a date
	}
	cells := []xlsRecord{
		legacyLabel(0, 0, []byte("Name")), legacyLabel(0, 1, []byte("Score")), legacyLabel(0, 2, []byte("Since")),
		legacyLabel(1, 0, []byte("Ren\xe9e")), xlsNumber(1, 1, 0, 42.5), xlsNumber(1, 2, 1, 45322),
		legacyLabel(2, 0, []byte("Bo")), xlsRec(0x0206, 2, 1, 0, 7.0, 0, uint32(0), 0),
	}
	want := []sheetRow{
		{2, []string{"Renée", "42.5", "2024-01-31"}, ""},
		{3, []string{"Bo", "7"}, ""},
	}
	t.Run("Excel 3.0", func(t *testing.T) {
		r, rows := readAllXLS(t, legacyStream(slices.Concat([]xlsRecord{bof3}, formats, cells, []xlsRecord{xlsEOF})...), read.Options{})
		if !reflect.DeepEqual(r.Header(), []string{"Name", "Score", "Since"}) {
			t.Errorf("header %q", r.Header())
		}
		checkXLSRows(t, rows, want)
	})
	t.Run("Excel 4.0, code page 1251", func(t *testing.T) {
		recs := slices.Concat([]xlsRecord{bof4, xlsRec(0x0042, 1251)}, cells[:3], []xlsRecord{legacyLabel(1, 0, []byte{0xC0, 0xED, 0xED, 0xE0}), xlsEOF})
		_, rows := readAllXLS(t, legacyStream(recs...), read.Options{})
		checkXLSRows(t, rows, []sheetRow{{2, []string{"Анна"}, ""}})
	})
	t.Run("one sheet, Sheet1", func(t *testing.T) {
		path := writeTemp(t, "old.xls", legacyStream(bof3, legacyLabel(0, 0, []byte("Email")), xlsEOF))
		got, err := sheetsOf(t, path)
		if err != nil || !reflect.DeepEqual(got, []read.Sheet{{Name: "Sheet1", Visibility: "visible"}}) {
			t.Errorf("Sheets: %v, %v", got, err)
		}
		if _, err := openXLSPath(t, path, read.Options{Sheet: "Other"}); err == nil || !strings.Contains(err.Error(), "Sheet1") {
			t.Errorf("an unknown sheet: %v, want the sheets listed", err)
		}
	})
	save := "; open it in Excel or LibreOffice and save it as .xlsx"
	for _, c := range []struct {
		what string
		data []byte
		want string
	}{
		{"Excel 2.x", legacyStream(xlsRec(0x0009, 2, 0x0010), xlsEOF), "the file is an Excel 2.x worksheet (BIFF2), a format that is not read" + save},
		{"Excel 4.0 workbook", legacyStream(xlsRec(0x0409, 0, 0x0100, 0), xlsEOF), "the file is an Excel 4.0 workbook (BIFF4W), a format that is not read" + save},
		{"Excel 3.0 chart", legacyStream(xlsRec(0x0209, 0, 0x0020, 0), xlsEOF), "the file is an Excel 3.0 chart or macro sheet, not a worksheet" + save},
		{"password", legacyStream(bof3, xlsRec(0x002F, 0, 0), xlsEOF), "the Excel worksheet is password-protected; open it, remove the password and save it as .xlsx"},
	} {
		_, err := openXLSBytes(t, c.data, read.Options{})
		if !errors.Is(err, read.ErrFormat) || err.Error() != c.want {
			t.Errorf("%s: %v, want %q", c.what, err, c.want)
		}
	}
}

func TestXLSBuiltErrors(t *testing.T) {
	tests := []struct {
		name      string
		data      []byte
		want      string
		xlsHeader bool // ErrNoHeader rather than ErrFormat
	}{
		{"XOR obfuscation", buildXLS([]xlsRecord{xlsRec(0x002F, 0, 0x1234, 0x5678)}, xlsSheet{name: "S", recs: xlsHeader("a")}),
			"the XLS file is protected with a password and encrypted with XOR obfuscation, which is not read: " + removePassword, false},
		{"unknown RC4 version", buildXLS([]xlsRecord{xlsRec(0x002F, 1, make([]byte, 52))}, xlsSheet{name: "S", recs: xlsHeader("a")}),
			"the XLS file is protected with a password and encrypted with RC4 encryption version 0.0, which is not read: " + removePassword, false},
		{"RC4 CryptoAPI header", buildXLS([]xlsRecord{xlsRec(0x002F, 1, 4, 2, make([]byte, 52))}, xlsSheet{name: "S", recs: xlsHeader("a")}),
			"the XLS file is malformed: its FILEPASS record has an encryption header of a wrong size", false},
		{"FILEPASS cut short", buildXLS([]xlsRecord{xlsRec(0x002F, 1, 1, 1, make([]byte, 40))}, xlsSheet{name: "S", recs: xlsHeader("a")}),
			"the XLS file is malformed: its FILEPASS record is cut short", false},
		{"BIFF5 stream", xlsBuildCFB("Book", []byte{0x09, 0x08, 8, 0, 0, 5, 5, 0, 0, 0, 0, 0}),
			"the XLS workbook is in the Excel 5.0/95 format (BIFF5), which is not read; save it as .xlsx or CSV", false},
		{"BIFF5 record", xlsBuildCFB("Workbook", []byte{0x09, 0x08, 8, 0, 0, 5, 5, 0, 0, 0, 0, 0}),
			"the XLS workbook is in the Excel 5.0/95 format (BIFF5), which is not read; save it as .xlsx or CSV", false},
		{"Word document", xlsBuildCFB("WordDocument", []byte("hello")),
			"the file is not a valid XLS workbook: it is an OLE2 compound file without a Workbook stream (another Office document?)", false},
		{"no worksheet", buildXLS(nil),
			"the file is not a valid XLS workbook: the workbook has no worksheet", false},
		{"no BOF", xlsBuildCFB("Workbook", []byte("not a record stream at all")),
			"the file is not a valid XLS workbook: its Workbook stream does not start with a BOF record", false},
		{"empty sheet", buildXLS(nil, xlsSheet{name: "S"}),
			`file has no header row: sheet "S" of the XLS workbook is empty`, true},
		{"blank sheet", buildXLS(nil, xlsSheet{name: "S", recs: []xlsRecord{xlsLabel(0, 0, " "), xlsRec(0x0201, 3, 0, 0)}}),
			`file has no header row: sheet "S" of the XLS workbook has no non-blank cell`, true},
		{"bad header", buildXLS(nil, xlsSheet{name: "S", recs: []xlsRecord{xlsLabel(1, 0, "a"), xlsRec(xLabelSST, 1, 1, 0, uint32(5))}}),
			`file has no header row: row 2, the first non-blank row of sheet "S" of the XLS workbook, cannot be read as a header: cell B2 refers to shared string 5, but the workbook has 0`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := openXLSBytes(t, tt.data, read.Options{})
			if err == nil || err.Error() != tt.want {
				t.Fatalf("got %v\nwant %s", err, tt.want)
			}
			if sentinel := map[bool]error{false: read.ErrFormat, true: read.ErrNoHeader}[tt.xlsHeader]; !errors.Is(err, sentinel) {
				t.Errorf("error does not wrap %v", sentinel)
			}
		})
	}
}

// ----- Hostile files -----

// checkHostile reads data through read.Open, CountRows and Source, and returns the first error.
// An error must wrap ErrFormat (or ErrNoHeader) and name XLS; it must not come from a panic.
func checkHostileXLS(t testing.TB, data []byte) error {
	t.Helper()
	var errs []error
	r, err := openXLSBytes(t, data, read.Options{})
	if err == nil {
		_, _, err = drainSheet(t, r, 7)
		errs = append(errs, err)
		if r, err := openXLSBytes(t, data, read.Options{}); err == nil {
			_, err = r.CountRows()
			errs = append(errs, err)
		}
	} else {
		errs = append(errs, err)
	}
	for _, err := range errs {
		if err == nil {
			continue
		}
		if !errors.Is(err, read.ErrFormat) && !errors.Is(err, read.ErrNoHeader) {
			t.Errorf("error wraps no sentinel: %v", err)
		}
		if !strings.Contains(err.Error(), "XLS") {
			t.Errorf("error does not say XLS: %v", err)
		}
		if strings.Contains(err.Error(), "reading it failed") {
			t.Errorf("a panic was recovered: %v", err)
		}
		return err
	}
	return nil
}

func xlsOLE2(rest []byte) []byte { return append([]byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"), rest...) }

func TestXLSHostile(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	randomBytes := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rnd.Uint32())
		}
		return b
	}
	prospects := xlsFixture(t, "prospects.xls")
	many := xlsFixture(t, "many.xls")

	exact := []struct {
		name string
		data []byte
		want string
	}{
		{"signature only", xlsOLE2(nil), "the file is not a valid XLS workbook: the file is 8 bytes, shorter than a compound file header"},
		{"random bytes after the signature", xlsOLE2(randomBytes(4096)), "the file is not a valid XLS workbook: bad byte-order mark"},
		{"truncated to its header", prospects[:512], "the file is not a valid XLS workbook: the file is 512 bytes, too short for any sector"},
		{"truncated in half", many[:len(many)/2], "the XLS file is malformed: its Workbook stream is said to be 12067 bytes, more than the file's 7424 (it may be truncated)"},
		// Sector 26 is the last of the Workbook stream's; sector 27 is not read.
		{"truncated in the last sector", many[:27*512+10], "the XLS file is malformed: sector 26 of a stream: the file ends before its last sector (it may be truncated)"},
		{"truncated in an unread sector", many[:len(many)-1], ""},
		{"FAT loop", xlsFATLoop(many), "the XLS file is malformed: the sector chain of the Workbook stream loops back to sector"},
		{"directory loop", xlsDirLoop(prospects), "the XLS file is malformed: the sector chain of the directory loops back to sector"},
		{"FAT past the file", xlsSetFAT(many, 5, 1<<20), "the XLS file is malformed: the sector chain of the Workbook stream points to sector 1048576, past the end of the file"},
		{"huge FAT count", xlsSetU32(prospects, 0x2C, 0xFFFFFFFF), "the XLS file is malformed: the compound file header says it has 4294967295 FAT sectors"},
		// Found by mutation: the mini FAT's sector count sized an allocation before its chain was
		// followed (testdata/fuzz/FuzzXLS/minifat-count-allocation).
		{"huge mini FAT count", xlsSetU32(prospects, 0x40, 0xA8000001), "the XLS file is malformed: the mini FAT is said to take 2818572289 sectors, more than there are (9)"},
	}
	for _, tt := range exact {
		t.Run(tt.name, func(t *testing.T) {
			err := checkHostileXLS(t, tt.data)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("got %v\nwant it to contain %q", err, tt.want)
			}
		})
	}

	// Random damage: no panic, no hang, and an error that says what it is, or a read.
	for _, base := range []struct {
		name string
		data []byte
	}{{"prospects", prospects}, {"many", many}} {
		fatStart, fatEnd := xlsFATRegion(base.data)
		for i := range 200 {
			data := bytes.Clone(base.data)
			switch i % 4 {
			case 0: // flip bytes in the FAT
				for range 1 + i%7 {
					data[fatStart+rnd.IntN(fatEnd-fatStart)] ^= byte(1 + rnd.IntN(255))
				}
			case 1: // flip bytes anywhere after the signature
				for range 1 + i%5 {
					data[8+rnd.IntN(len(data)-8)] ^= byte(1 + rnd.IntN(255))
				}
			case 2: // truncate
				data = data[:8+rnd.IntN(len(data)-8)]
			case 3: // overwrite a run with random bytes
				p := 512 + rnd.IntN(len(data)-512)
				copy(data[p:], randomBytes(1+rnd.IntN(64)))
			}
			checkHostileXLS(t, data)
		}
	}
}

func xlsSetU32(data []byte, off int, v uint32) []byte {
	data = bytes.Clone(data)
	binary.LittleEndian.PutUint32(data[off:], v)
	return data
}

// fatRegion returns the file offsets of the first FAT sector.
func xlsFATRegion(data []byte) (int, int) {
	first := int(binary.LittleEndian.Uint32(data[0x4C:]))
	return 512 + first*512, 512 + (first+1)*512
}

// setFATEntry sets the FAT entry of sector i (in the first FAT sector).
func xlsSetFAT(data []byte, i int, v uint32) []byte {
	start, _ := xlsFATRegion(data)
	return xlsSetU32(data, start+4*i, v)
}

// workbookStart returns the first sector of the Workbook stream of a fixture written by SheetJS.
func xlsWorkbookStart(data []byte) int {
	dir := int(binary.LittleEndian.Uint32(data[0x30:]))
	for e := range 4 {
		off := 512 + dir*512 + e*128
		name := binary.LittleEndian.Uint16(data[off:])
		if name == 'W' {
			return int(binary.LittleEndian.Uint32(data[off+0x74:]))
		}
	}
	panic("no Workbook entry")
}

// fatLoop makes the Workbook stream's second sector point back to its first.
func xlsFATLoop(data []byte) []byte {
	first := xlsWorkbookStart(data)
	fat, _ := xlsFATRegion(data)
	second := int(binary.LittleEndian.Uint32(data[fat+4*first:]))
	return xlsSetFAT(data, second, uint32(first))
}

// dirLoop makes the directory's sector chain point to itself.
func xlsDirLoop(data []byte) []byte {
	dir := binary.LittleEndian.Uint32(data[0x30:])
	return xlsSetFAT(data, int(dir), dir)
}

// FuzzXLS checks that no panic escapes read.Open, CountRows or Source on any input that starts
// with the OLE2 signature (none is even recovered inside), that errors wrap ErrFormat or
// ErrNoHeader, and that a read agrees with itself: rows strictly increase after the header,
// cells are valid UTF-8 without NUL, and CountRows counts what Source returns.
func FuzzXLS(f *testing.F) {
	for _, name := range []string{"prospects.xls", "header-row2.xls", "many.xls"} {
		f.Add(xlsFixture(f, name))
	}
	encrypted, err := os.ReadFile(corpusFile(f, "messytables-encrypted_no_password.xls")) // RC4, 6 KiB
	if err != nil {
		f.Fatal(err)
	}
	f.Add(encrypted)
	f.Add(buildXLS(xlsSST(2, xlsCat(xlsU16(3), []byte{0}, []byte("abc"), xlsU16(3), []byte{1}, []byte{'d', 0}), []byte{0, 'e', 'f'}),
		xlsSheet{name: "S", recs: append(xlsHeader("a", "b"), xlsRec(xLabelSST, 1, 0, 0, uint32(1)), xlsNumber(1, 1, 0, 2.5),
			xlsFormula(2, 0, xlsFormulaResult(0, 0)), xlsRec(xString, "s"), xlsLabel(1, 0, "x"))}))
	f.Add([]byte(strings.Repeat("\ta", 2001) + "\n")) // a tab-separated text past MaxColumns, not a BIFF stream
	f.Add(legacyStream(xlsRec(0x0209, 0, 0x0010, 0), xlsRec(0x0042, 1251), xlsRec(0x001E, byte(10), []byte("yyyy-mm-dd")),
		xlsRec(0x0243, byte(0), byte(0), 0, 0, 0, uint32(0)), legacyLabel(0, 0, []byte("a")), xlsNumber(1, 0, 0, 45322),
		xlsRec(0x0206, 2, 0, 0, 7.0, 0, uint32(0), 0), legacyLabel(3, 0, []byte{0xC0}), xlsEOF))
	// One file per worker process, rewritten for each input: a temporary directory per input
	// would cost more than reading it.
	path := filepath.Join(f.TempDir(), "fuzz.xls")
	open := func(t *testing.T, data []byte) (read.Reader, error) {
		file, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { file.Close() })
		if _, err := file.Write(data); err != nil {
			t.Fatal(err)
		}
		return read.Open(file, read.Options{})
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 8 {
			return
		}
		if data[0] != 0x09 { // not a BIFF stream's BOF record (Excel 2.x–4.x): make it a compound file
			data = xlsOLE2(data[8:])
		}
		r, err := open(t, data)
		if err != nil {
			if data[0] == 0x09 && (errors.Is(err, read.ErrNotText) || errors.Is(err, read.ErrEmpty) || errors.Is(err, read.ErrTooManyColumns)) {
				return // no BIFF stream after all: text (too wide to read), or nothing
			}
			checkXLSFuzzErr(t, err)
			return
		}
		if r.Format() != "xls" {
			return // a tab-separated text, read as CSV
		}
		if len(r.Header()) == 0 || r.HeaderRow() < 1 {
			t.Fatalf("header %q at row %d", r.Header(), r.HeaderRow())
		}
		rows, _, err := drainSheet(t, r, 5)
		if err != nil {
			checkXLSFuzzErr(t, err)
			return
		}
		last := r.HeaderRow()
		for _, row := range rows {
			if row.n <= last {
				t.Fatalf("row %d after row %d", row.n, last)
			}
			last = row.n
			for _, c := range row.cells {
				if !utf8.ValidString(c) || strings.IndexByte(c, 0) >= 0 {
					t.Fatalf("row %d: bad cell %q", row.n, c)
				}
			}
		}
		r2, err := open(t, data)
		if err != nil {
			t.Fatalf("second open: %v", err)
		}
		if n, err := r2.CountRows(); err != nil || n != len(rows) {
			t.Fatalf("CountRows() = %d, %v; Source gave %d rows", n, err, len(rows))
		}
	})
}

func checkXLSFuzzErr(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, read.ErrFormat) && !errors.Is(err, read.ErrNoHeader) {
		t.Fatalf("error wraps no sentinel: %v", err)
	}
	if strings.Contains(err.Error(), "reading it failed") {
		t.Fatalf("a panic was recovered: %v", err)
	}
}
