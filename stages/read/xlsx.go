package read

// # XLSX
//
// excelize opens an XLSX workbook for its sheets, their visibility, its styles and its date
// system; the chosen worksheet's rows are read here, streamed from its zip part by a scanner of
// our own (xlsx_sheet.go says why), never by loading a whole sheet: memory holds one row at a
// time, plus the shared strings (in a temporary file past Options.MaxSheetXMLBytes of text) and
// what excelize keeps of the workbook's other parts (each up to Options.MaxSheetXMLBytes in
// memory, a larger one in a temporary file).
//
// Before excelize sees the file, the zip archive is checked: it must be a zip archive, declare
// no more than Options.MaxUnzippedBytes unzipped in all (1 GiB by default; a zip bomb fails
// here, before anything is unzipped), hold xl/workbook.xml and no two parts of the same name
// (compared as part names are: case-insensitively, \ as /; readers disagree on which one counts),
// and every part must unzip to what its header declares, checksum included (a reader would read
// a corrupt part short, silently); the worksheets and the shared strings must close every
// element they open (xlsx_xmlcheck.go), so that a broken file fails before its first row is
// imported rather than part-way.
// Each of these failures, a worksheet whose XML cannot be read (a bad reference, a row number
// past Excel's last row), and a panic on a crafted file, is an error wrapping ErrFormat that
// names XLSX. A workbook encrypted with Excel's default password (an OLE2 compound file) is
// decrypted into a temporary file first, and that file is checked and read (crypt.go).
//
// Sheet: Options.Sheet names it (case-insensitively, as Excel does), hidden or not; else the first
// visible sheet of the workbook, in the workbook's order, the one Excel opens on. An unknown name
// is an error that lists the sheets.
//
// Values are the cells as the user sees them (pipeline.Row.Cells), by the cell's type and its
// style's number format, with, for a number shown otherwise than as its plain decimal, that
// decimal beside it (pipeline.Row.Typed), which a number field takes; the same renderer as XLS
// (numfmt.go):
//   - numbers in "General" (or "@", or no format): the plain decimal of the value, rounded to
//     Excel's 15 significant digits, so float noise disappears (42.000000000000007 reads 42) and
//     no number is in exponent form (a phone number 15551234567 reads 15551234567, a 16-digit
//     integer its 15 significant digits zero-filled, as Excel shows it, a number stored as
//     1E+15 1000000000000000); no typed value.
//   - numbers whose format shows nothing (0;-0;;@ for a zero) read "", their typed value kept.
//   - numbers in any other number format: as the format shows them: 0.25 in 0.00% reads
//     25.00%, 1200 in "$"#,##0.00 $1,200.00, 2134 in 00000 02134, 12300 in 0.00E+00 1.23E+04;
//     the typed value is the plain decimal (0.25, 1200, 2134, 12300) when it differs from what
//     is shown.
//   - dates, by the cell's number format (a built-in date format or a custom one with date
//     parts): YYYY-MM-DD; with a time part too, YYYY-MM-DD HH:MM:SS (24-hour clock, rounded to
//     the second as Excel does); a time-only format, HH:MM:SS; an elapsed-time format ([h]:mm),
//     [H]:MM:SS hours; no typed value. The 1904 date system is honoured (serial 0 reads
//     1904-01-01). On the 1900 system, serial 0 (and a time below 1) reads 1900-01-00 as Excel
//     shows it, and serial 60 Excel's 1900-02-29: no valid date, so a date field rejects them.
//     A serial out of Excel's date range reads as a number. An ISO date cell (t="d") reads as
//     its date (and time), in its date format or, without one, as YYYY-MM-DD (HH:MM:SS).
//   - booleans: true or false.
//   - text (shared strings, inline strings, formula results): as stored, untrimmed, never
//     rewritten, whatever its style: the text TRUE reads TRUE, the text 1.23E+04 reads 1.23E+04
//     and is text to every field, as in a CSV file.
//   - error values (#N/A, #DIV/0! …): as Excel shows them.
//
// Rows are numbered as Excel numbers them: the header need not be on row 1, and blank rows,
// whether written as empty rows or left out of the file, count. The header is the first
// non-blank row; its cells are trimmed and trailing empty ones dropped. A header cell merged
// across several columns holds its text in its first (top-left) column only: the other columns
// of the merge have an empty header. A data row's trailing blank cells are dropped (its Cells
// may be shorter than the header). A row is malformed (skipped with reason malformed_row) when
// it has a value past the header's width, a cell longer than 32,767 characters (Excel's limit;
// the cell reads as ""), a cell reference that cannot be read or that goes back along the row,
// or a shared-string index the workbook does not have. A cell whose style index is out of
// range reads in General.
//
// Resuming: an XLSX file has no offsets. Options.CSV.StartRow resumes after that row number
// (Batch.LastRow of the last committed batch); Record.Offset and Batch.Offset are 0.
//
// Closing: the reader holds excelize's workbook, the worksheet part and its temporary files (in
// a directory of its own). CountRows, and the Source at its end (io.EOF or an error), close it;
// a caller that stops earlier closes it with Close (XLSX is an io.Closer). A reader that is
// dropped unclosed is closed when the garbage collector collects it.

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/xuri/excelize/v2"
)

const (
	// DefaultMaxUnzippedBytes and DefaultMaxSheetXMLBytes are the XLSX limits when
	// Options.MaxUnzippedBytes and Options.MaxSheetXMLBytes are 0.
	DefaultMaxUnzippedBytes = 1 << 30
	DefaultMaxSheetXMLBytes = 16 << 20

	// xlsxMaxCellChars is Excel's limit on the characters of one cell.
	xlsxMaxCellChars = 32767
)

// XLSX reads one worksheet of an XLSX workbook row by row. It is not safe for concurrent use.
type XLSX struct {
	res       *xlsxResources
	scan      *sheetScan
	sheet     string
	header    []string
	headerRow int
	width     int
	startRow  int // rows up to this one are skipped (resume)

	row   int      // Excel row number of the last row read
	cells []string // the last row's cells, converted and trimmed to what is kept
	typed []string // their typed values (pipeline.Row.Typed), nil when none
	why   string   // why the last row is malformed, or ""
	blank bool     // the last row is blank
	err   error    // sticky: the reader failed or is spent
}

// xlsxResources are what an XLSX reader must release: excelize's workbook, the worksheet part
// being read, the shared strings and the directory of their temporary files. close is
// idempotent and safe from any goroutine.
type xlsxResources struct {
	once  sync.Once
	f     *excelize.File
	part  io.ReadCloser
	sst   *sharedStrings
	owned *os.File // a file of the reader's own that the worksheet is read from (decrypted), or nil
	dir   string
	err   error
}

func (r *xlsxResources) close() error {
	r.once.Do(func() {
		if r.part != nil {
			_ = r.part.Close()
		}
		_ = r.sst.close()
		if r.owned != nil {
			_ = r.owned.Close()
		}
		if r.f != nil {
			r.err = r.f.Close()
		}
		if r.dir != "" {
			if err := os.RemoveAll(r.dir); err != nil && r.err == nil {
				r.err = err
			}
		}
	})
	return r.err
}

// errXLSXSpent is the sticky state of a reader that reached its end or was closed.
var errXLSXSpent = io.EOF

// openXLSX opens the worksheet of an XLSX workbook that opts name and reads its header. A panic
// of excelize on a crafted file is returned as an error wrapping ErrFormat.
// An encrypted workbook (an OLE2 compound file) is decrypted first (see crypt.go).
func openXLSX(f *os.File, opts Options) (Reader, error) {
	open := OpenXLSX
	if isOLE2(f) {
		open = openEncryptedXLSX
	}
	x, err := open(f, opts)
	if err != nil {
		return nil, err
	}
	return x, nil
}

// OpenXLSX opens the worksheet of the XLSX workbook f that opts name (see Options) and reads its
// header. Errors say what is wrong with the file and wrap ErrFormat, ErrEmpty or ErrNoHeader;
// an unknown opts.Sheet is an error listing the workbook's sheets.
func OpenXLSX(f *os.File, opts Options) (x *XLSX, err error) {
	return openXLSXWith(f, opts, &xlsxResources{})
}

// openXLSXWith is OpenXLSX with resources to release when the reader closes (or fails): its
// temporary files go in res.dir, made here when it is empty.
func openXLSXWith(f *os.File, opts Options, res *xlsxResources) (x *XLSX, err error) {
	defer func() {
		if p := recover(); p != nil {
			x, err = nil, malformedXLSX(p)
		}
		if err != nil {
			_ = res.close()
		}
	}()

	maxUnzipped := opts.MaxUnzippedBytes
	if maxUnzipped <= 0 {
		maxUnzipped = DefaultMaxUnzippedBytes
	}
	maxSheetXML := opts.MaxSheetXMLBytes
	if maxSheetXML <= 0 {
		maxSheetXML = DefaultMaxSheetXMLBytes
	}
	maxSheetXML = min(maxSheetXML, maxUnzipped) // excelize requires it

	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read file: %w", err)
	}
	zr, err := checkXLSXZip(f, st.Size(), maxUnzipped)
	if err != nil {
		return nil, err
	}
	// Every part is unzipped once to check it while excelize opens the workbook: on two cores
	// the check then costs no time. Its error, when there is one, says best what is wrong.
	verified := make(chan error, 1)
	go func() { verified <- verifyZipParts(zr, xlsxZip) }()
	defer func() {
		if verr := <-verified; verr != nil {
			x, err = nil, verr
			_ = res.close()
		}
	}()

	if res.dir == "" {
		if res.dir, err = os.MkdirTemp("", "leadpipe-xlsx-"); err != nil {
			return nil, fmt.Errorf("read xlsx: %w", err)
		}
	}
	xo := excelize.Options{
		UnzipSizeLimit:    maxUnzipped,
		UnzipXMLSizeLimit: maxSheetXML,
		TmpDir:            res.dir,
	}
	res.f, err = xlsxOpenExcelize(zr, xo)
	if err != nil {
		return nil, fmt.Errorf("%w: the file is not a valid XLSX workbook: %v", ErrFormat, err)
	}

	sheets := res.f.GetSheetList()
	if len(sheets) == 0 {
		return nil, fmt.Errorf("%w: the XLSX workbook has no sheets", ErrFormat)
	}
	sheet, err := xlsxPickSheet(res.f, sheets, opts.Sheet)
	if err != nil {
		return nil, err
	}
	book := xlsxBook{formats: xlsxCellFormats(res.f)}
	props, err := res.f.GetWorkbookProps()
	book.date1904 = err == nil && props.Date1904 != nil && *props.Date1904
	if zp := zipPart(zr, "xl/sharedstrings.xml"); zp != nil {
		rc, err := zp.Open()
		if err != nil {
			return nil, fmt.Errorf("%w: the XLSX file is malformed: %v", ErrFormat, err)
		}
		res.sst, err = readSharedStrings(rc, res.dir, int(maxSheetXML))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%w: the XLSX file is malformed: %v", ErrFormat, err)
		}
		book.sst = res.sst
	}
	zp, err := xlsxSheetPart(zr, res.f, sheet)
	if err != nil {
		return nil, err
	}
	if !xmlCheckedPart(zp.Name) { // a worksheet outside xl/worksheets/, which OPC allows
		rc, err := zp.Open()
		if err == nil {
			err = checkXML(rc)
			rc.Close()
		}
		if err != nil {
			return nil, fmt.Errorf("%w: the file is not a valid XLSX workbook: part %s: %v", ErrFormat, zp.Name, err)
		}
	}
	if res.part, err = zp.Open(); err != nil {
		return nil, fmt.Errorf("%w: the XLSX file is malformed: sheet %q: %v", ErrFormat, sheet, err)
	}

	x = &XLSX{res: res, scan: newSheetScan(res.part, book), sheet: sheet, width: -1, startRow: opts.CSV.StartRow}
	if err := x.readHeader(); err != nil {
		return nil, err
	}
	runtime.AddCleanup(x, func(r *xlsxResources) { _ = r.close() }, res)
	return x, nil
}

// checkXLSXZip checks the zip archive before excelize unzips it (see checkZip), and that it
// holds a workbook.
func checkXLSXZip(f *os.File, size, maxUnzipped int64) (*zip.Reader, error) {
	zr, err := checkZip(f, size, maxUnzipped, xlsxZip)
	if err != nil {
		return nil, err
	}
	if zipPart(zr, "xl/workbook.xml") == nil {
		return nil, fmt.Errorf("%w: the file is a zip archive but not an XLSX workbook: it has no xl/workbook.xml", ErrFormat)
	}
	return zr, nil
}

// xlsxOpenExcelize opens the workbook with excelize, for what the reader takes of it (its sheets,
// styles and date system): excelize gets the archive's parts but for the worksheets, each
// replaced by an empty one, and the shared strings, which the reader reads itself. It would
// otherwise unzip every worksheet once more, into memory or a temporary file (0.4 s for make
// bench's 200,000-row sheet), for nothing. The parts are copied as they are compressed.
func xlsxOpenExcelize(zr *zip.Reader, opts excelize.Options) (*excelize.File, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, zf := range zr.File {
		name := zipPartName(zf.Name)
		switch {
		case name == "xl/sharedstrings.xml":
			continue
		case xmlCheckedPart(name):
			w, err := zw.Create(zf.Name)
			if err != nil {
				return nil, err
			}
			if _, err := io.WriteString(w, xlsxEmptySheet); err != nil {
				return nil, err
			}
		default:
			if err := zw.Copy(zf); err != nil {
				return nil, err
			}
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return excelize.OpenReader(&buf, opts)
}

// xlsxEmptySheet stands in for a worksheet in the copy of the workbook excelize opens.
const xlsxEmptySheet = `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>`

// xlsxPickSheet returns the sheet named want (case-insensitively, as Excel compares sheet names),
// hidden or not; when want is empty, the first visible sheet, the one Excel opens on (the first
// sheet if all are hidden, which Excel does not allow).
func xlsxPickSheet(f *excelize.File, sheets []string, want string) (string, error) {
	if want == "" {
		for _, s := range sheets {
			if visible, err := f.GetSheetVisible(s); err == nil && visible {
				return s, nil
			}
		}
		return sheets[0], nil
	}
	for _, s := range sheets {
		if s == want {
			return s, nil
		}
	}
	for _, s := range sheets {
		if strings.EqualFold(s, want) {
			return s, nil
		}
	}
	return "", fmt.Errorf("read xlsx: the workbook has no sheet %q; its sheets are %s", want, quotedList(sheets))
}

// malformedXLSX turns a panic while reading the file (excelize's, or the reader's) into its error.
func malformedXLSX(p any) error {
	return fmt.Errorf("%w: the XLSX file is malformed: %v", ErrFormat, p)
}

// readHeader reads up to the first non-blank row and makes it the header.
func (x *XLSX) readHeader() (err error) {
	x.header, x.headerRow, err = readSheetHeader(x, "XLSX workbook", x.sheet)
	x.width, x.cells = len(x.header), nil
	return err
}

func (x *XLSX) rowState() (int, bool, string, []string) { return x.row, x.blank, x.why, x.cells }

// Header returns the header cells, trimmed, without trailing empty ones.
func (x *XLSX) Header() []string { return x.header }

// HeaderRow returns the Excel row number of the header.
func (x *XLSX) HeaderRow() int { return x.headerRow }

// Format names the XLSX format.
func (x *XLSX) Format() string { return "xlsx" }

// Sheet returns the name of the sheet being read.
func (x *XLSX) Sheet() string { return x.sheet }

// Close releases the workbook and removes its temporary files. It is idempotent; the reader is
// spent afterwards.
func (x *XLSX) Close() error {
	if x.err == nil {
		x.err = errXLSXSpent
	}
	return x.res.close()
}

// fail makes err the reader's sticky error and closes it.
func (x *XLSX) fail(err error) error {
	x.err = err
	_ = x.res.close()
	return err
}

// Next returns the next non-blank data record, or io.EOF after the last one (when the reader
// is closed). Any other error means the file cannot be read further; the reader is closed.
func (x *XLSX) Next() (rec Record, err error) {
	defer x.recoverInto(&err)
	for {
		ok, err := x.advanceData()
		if err != nil {
			return Record{}, err
		}
		if !ok {
			return Record{}, io.EOF
		}
		if !x.blank {
			return Record{Row: x.row, Cells: x.cells, Malformed: x.why}, nil
		}
	}
}

// CountRows reads the rest of the sheet and returns how many non-blank data rows it holds,
// malformed ones included. It closes the reader.
func (x *XLSX) CountRows() (n int, err error) {
	defer x.recoverInto(&err)
	for {
		ok, err := x.advanceData()
		if err != nil {
			return n, err
		}
		if !ok {
			return n, nil
		}
		if !x.blank {
			n++
		}
	}
}

// Source returns the rest of the sheet as a pipeline source of batches of up to batchSize rows
// (DefaultBatchSize when 0 or less). A malformed row is skipped with reason malformed_row. Each
// batch's LastRow is the Excel row number of the last row it consumed, blank ones included; its
// Offset is 0. The source closes the reader when it returns io.EOF or an error.
func (x *XLSX) Source(batchSize int) pipeline.Source {
	if batchSize <= 0 {
		batchSize = DefaultBatchSize
	}
	return &xlsxSource{x: x, size: batchSize}
}

type xlsxSource struct {
	x    *XLSX
	size int
}

// Next returns the next batch, or io.EOF after the last one.
func (s *xlsxSource) Next(ctx context.Context) (b *pipeline.Batch, err error) {
	x := s.x
	defer x.recoverInto(&err)
	if err := ctx.Err(); err != nil {
		return nil, x.fail(err)
	}
	if x.err == errXLSXSpent {
		return nil, io.EOF
	}
	if x.err != nil {
		return nil, x.err
	}
	return readSheetBatch(ctx, x, s.size)
}

// dataRow returns the last row as a pipeline row.
func (x *XLSX) dataRow() pipeline.Row {
	return pipeline.Row{Number: x.row, Cells: x.cells, Typed: x.typed}
}

// recoverInto turns a panic while reading into the reader's error, and closes the reader.
func (x *XLSX) recoverInto(err *error) {
	if p := recover(); p != nil {
		*err = x.fail(malformedXLSX(p))
	}
}

// advanceData reads the next row after the resume point. It returns false at the end of the
// sheet, having closed the reader.
func (x *XLSX) advanceData() (bool, error) {
	if x.err == errXLSXSpent {
		return false, nil
	}
	if x.err != nil {
		return false, x.err
	}
	for {
		skip := x.row+1 <= x.startRow
		ok, err := x.advance(skip)
		if err != nil {
			return false, x.fail(err)
		}
		if !ok {
			_ = x.Close() // the rows are read: failing to remove a temporary file fails no import
			return false, nil
		}
		if !skip {
			return true, nil
		}
	}
}

// advance reads the next row, blank or not, into row, cells, why and blank. With skip it only
// moves past the row. It returns false at the end of the sheet.
func (x *XLSX) advance(skip bool) (bool, error) {
	ok, err := xlsxAdvance(x.scan)
	if err != nil {
		return false, fmt.Errorf("%w: the XLSX file is malformed: sheet %q after row %d: %v", ErrFormat, x.sheet, x.row, err)
	}
	if !ok {
		return false, nil
	}
	x.row++
	x.cells, x.typed, x.why, x.blank = nil, nil, "", true
	if skip {
		return true, nil
	}
	cells, typed := x.scan.cells, x.scan.typed
	if x.why = x.scan.why; x.why != "" && x.width < 0 {
		return false, fmt.Errorf("%w: the XLSX file is malformed: sheet %q row %d: %s", ErrFormat, x.sheet, x.row, x.why)
	}
	n := 0 // cells up to the last non-blank one
	for i, c := range cells {
		if c == "" {
			if typed != nil && typed[i] != "" {
				n = i + 1 // a number its format hides (0;-0;;@ shows 0 as nothing): a number field gets it
			}
			continue
		}
		if len(c) > xlsxMaxCellChars && utf8.RuneCountInString(c) > xlsxMaxCellChars {
			if x.why == "" {
				x.why = fmt.Sprintf("cell %s%d is longer than %d characters", xlsxColumnName(i), x.row, xlsxMaxCellChars)
			}
			cells[i] = ""
			n = i + 1
		}
		if !xlsxBlank(c) {
			n = i + 1
		}
	}
	x.blank = n == 0 && x.why == ""
	if x.blank {
		return true, nil
	}
	x.cells = cells[:n:n]
	if typed != nil {
		x.typed = typed[:n:n]
	}
	if x.why == "" && x.width >= 0 && n > x.width {
		x.why = fmt.Sprintf("row has %d cells but the header has %d", n, x.width)
	}
	return true, nil
}

// xlsxAdvance moves a sheet's scan to its next row; a variable for tests.
var xlsxAdvance = (*sheetScan).advance

// xlsxBlank reports whether s is empty or whitespace only.
func xlsxBlank(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\r', '\v', '\f':
		default:
			if s[i] < utf8.RuneSelf {
				return false
			}
			return strings.TrimSpace(s[i:]) == ""
		}
	}
	return true
}

// xlsxColumnName returns the Excel name of the 0-based column i (0 → A).
func xlsxColumnName(i int) string {
	name, err := excelize.ColumnNumberToName(i + 1)
	if err != nil {
		return fmt.Sprintf("column %d of row ", i+1)
	}
	return name
}

// Make sure XLSX is a SheetReader and a Closer.
var (
	_ SheetReader = (*XLSX)(nil)
	_ io.Closer   = (*XLSX)(nil)
)
