package read

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/leadpipe/leadpipe/pipeline"
)

// maxXLSBytes caps the size of an XLS file. Excel 97–2003 sheets have at most 65536 rows of 256
// cells; a real workbook this large is unheard of.
const maxXLSBytes = 256 << 20

// xlsErr is an error about the content of an XLS file. It wraps ErrFormat.
type xlsErr struct{ msg string }

func (e *xlsErr) Error() string { return e.msg }
func (e *xlsErr) Unwrap() error { return ErrFormat }

func xlsNotValid(format string, a ...any) error {
	return &xlsErr{msg: "the file is not a valid XLS workbook: " + fmt.Sprintf(format, a...)}
}

func xlsMalformed(format string, a ...any) error {
	return &xlsErr{msg: "the XLS file is malformed: " + fmt.Sprintf(format, a...)}
}

// recoverXLS turns a panic into a malformed-file error in *err.
func recoverXLS(err *error) {
	if p := recover(); p != nil {
		*err = xlsMalformed("reading it failed (%v)", p)
	}
}

// openXLS opens a legacy XLS (BIFF8) workbook and reads the header of its sheet.
//
// No library: of the pure-Go BIFF8 readers found, the module proxy serves only (not
// github.com/pbnjay/grate, nor the newer forks of extrame/xls)
// github.com/extrame/xls v0.0.1 (2017; open crash report #60, index out of range at col.go:199;
// its ole2 dependency calls log.Fatal on a bad sector chain, cf. #7) and
// github.com/shakinm/xlsReader v0.9.12 (2022, GPL-3.0; open #29, index out of range in
// LabelSSt.GetString, whose fix PR #33 was never merged; FORMULA cells are read as blank). Both
// look up the root storage by the name "Root Entry" and dereference nil on SheetJS-written
// workbooks under 4 KiB, and xlsReader follows a looped FAT chain until the runtime dies with
// "fatal error: out of memory", which recover cannot catch. So the format is read here, from
// [MS-CFB] and [MS-XLS] (xls_cfb.go, xls_biff.go, xls_value.go; Excel 3.0 and 4.0 worksheets in
// xls_legacy.go), with every chain and count from
// the file bounded, and any panic left recovered into an error wrapping ErrFormat.
//
// The file is read as it is needed (a stream under 4 KiB is held in memory); the shared strings
// stay in memory, so files over maxXLSBytes are refused. The sheet read is Options.Sheet (exact
// name, else ignoring case), else the first visible worksheet. Rows are numbered as the
// spreadsheet shows them (1-based; blank rows count); the header is the first row with a
// non-blank cell, its cells trimmed; rows without a non-blank cell are not returned unless they
// are malformed. A row's cells run up to its last non-blank one; a row with non-blank cells past
// the header's width, a corrupt cell record, a cell record of an older BIFF version that is not
// read, or a cell past column IV (256) is malformed. A resumed read (Options.CSV.StartRow)
// skips the rows up to that row; batches carry no offset (Batch.Offset is 0). A workbook
// encrypted with Excel's default password is decrypted as its records are read (crypt.go).
//
// Values are the cells as the user sees them (pipeline.Row.Cells), by each cell's format (XF)
// and its number format (FORMAT records, or the built-in ones of numfmt.go): a number in
// "General" as its plain decimal at 15 significant digits (no exponent); in any other number
// format as the format shows it (25.00%, $1,200.00, 02134, 1.23E+04), with its plain decimal
// beside it (pipeline.Row.Typed) when that differs; a date, time or elapsed time as
// YYYY-MM-DD, YYYY-MM-DD HH:MM:SS, HH:MM:SS or [H]:MM:SS (the 1904 date system honoured); a
// boolean as true or false; text as stored (never rewritten); an error value as Excel shows it.
func openXLS(f *os.File, opts Options) (_ Reader, err error) {
	defer recoverXLS(&err)
	book, err := openXLSBook(f)
	if err != nil {
		return nil, err
	}
	sh, err := book.pickSheet(opts.Sheet)
	if err != nil {
		return nil, err
	}
	cur, err := newSheetCursor(book, sh)
	if err != nil {
		return nil, err
	}
	x := &xlsReader{book: book, cur: cur, sheet: sh.name}
	if err := x.readHeader(); err != nil {
		return nil, err
	}
	x.skip = max(x.headerRow, opts.CSV.StartRow)
	if x.haveNext && x.nextRow <= x.skip {
		x.haveNext = false // read ahead with the header, before a resumed read's start
	}
	return x, nil
}

// openXLSBook opens the Workbook stream of a legacy XLS file and reads its globals: its
// worksheets, shared strings and cell formats.
func openXLSBook(f *os.File) (*xlsBook, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read file: %w", err)
	}
	size := fi.Size()
	if size > maxXLSBytes {
		return nil, &xlsErr{msg: fmt.Sprintf("the XLS file is %d MiB, over the %d MiB that are read; save the sheet as CSV",
			size>>20, maxXLSBytes>>20)}
	}
	var head [8]byte // the OLE2 signature's length
	if _, err := f.ReadAt(head[:], 0); err == nil && !bytes.Equal(head[:], ole2Signature) {
		return readLegacy(f, size) // Detect found a BIFF stream without a container
	}
	cf, err := openCFB(f, size)
	if err != nil {
		return nil, err
	}
	// Excel 97 and later name the stream Workbook, Excel 5.0/95 Book; but some writers put BIFF8
	// in a stream named Book, which Excel reads. So the name only finds the stream, and
	// readGlobals judges the version by its BOF record.
	wbe, ok := cf.find("Workbook")
	if !ok {
		if wbe, ok = cf.find("Book"); !ok {
			return nil, xlsNotValid("it is an OLE2 compound file without a Workbook stream (another Office document?)")
		}
	}
	if wbe.size == 0 || wbe.size > size {
		return nil, xlsMalformed("its Workbook stream is said to be %d bytes, more than the file's %d (it may be truncated)", wbe.size, size)
	}
	stream, err := cf.open(wbe, "the Workbook stream")
	if err != nil {
		return nil, err
	}
	return readGlobals(stream, wbe.size)
}

// pickSheet returns the worksheet named name (exactly, else ignoring case, as Excel does), or
// with no name the first visible one.
func (b *xlsBook) pickSheet(name string) (xlsSheetInfo, error) {
	if len(b.sheets) == 0 {
		return xlsSheetInfo{}, xlsNotValid("the workbook has no worksheet")
	}
	if name == "" {
		for _, s := range b.sheets {
			if s.hidden == 0 {
				return s, nil
			}
		}
		return b.sheets[0], nil
	}
	for _, s := range b.sheets {
		if s.name == name {
			return s, nil
		}
	}
	for _, s := range b.sheets {
		if strings.EqualFold(s.name, name) {
			return s, nil
		}
	}
	names := make([]string, len(b.sheets))
	for i, s := range b.sheets {
		names[i] = s.name
	}
	return xlsSheetInfo{}, &xlsErr{msg: fmt.Sprintf("the XLS workbook has no sheet named %q; its sheets are %s", name, quotedList(names))}
}

// xlsReader reads the rows of one worksheet. It is not safe for concurrent use.
type xlsReader struct {
	book  *xlsBook
	cur   *sheetCursor
	sheet string

	header    []string
	headerRow int
	width     int
	skip      int // rows up to this one are not returned: the header, or a resumed read's start
	lastRow   int // the last row read, blank or not

	// The row last read: its 1-based number, cells by column (up to the last one present),
	// their typed values (pipeline.Row.Typed; nil when the row has none), 1-based index of its
	// last non-blank cell, and why it is malformed.
	row          int
	cells        []string
	typed        []string
	lastNonBlank int
	why          string

	// The cells of a record of the next row, read before the row last read was complete.
	next     []xcell
	nextRow  int
	nextBad  string
	haveNext bool
	done     bool
}

// Header returns the header cells, trimmed, without trailing empty ones.
func (x *xlsReader) Header() []string { return x.header }

// HeaderRow returns the sheet row number of the header.
func (x *xlsReader) HeaderRow() int { return x.headerRow }

// Format names the format: "xls".
func (x *xlsReader) Format() string { return "xls" }

// Sheet returns the name of the worksheet being read.
func (x *xlsReader) Sheet() string { return x.sheet }

var _ SheetReader = (*xlsReader)(nil)

// readHeader reads up to the first row with a non-blank cell and makes it the header.
func (x *xlsReader) readHeader() error {
	for {
		ok, err := x.readRow()
		if err != nil {
			return err
		}
		if !ok {
			if x.lastRow == 0 {
				return fmt.Errorf("%w: sheet %q of the XLS workbook is empty", ErrNoHeader, x.sheet)
			}
			return fmt.Errorf("%w: sheet %q of the XLS workbook has no non-blank cell", ErrNoHeader, x.sheet)
		}
		x.lastRow = x.row
		if x.lastNonBlank > 0 || x.why != "" {
			break
		}
	}
	if x.why != "" {
		return fmt.Errorf("%w: row %d, the first non-blank row of sheet %q of the XLS workbook, cannot be read as a header: %s",
			ErrNoHeader, x.row, x.sheet, x.why)
	}
	hdr := make([]string, x.lastNonBlank)
	for i, c := range x.cells[:x.lastNonBlank] {
		hdr[i] = strings.TrimSpace(c)
	}
	x.header, x.headerRow, x.width = hdr, x.row, len(hdr)
	return nil
}

// readRow reads the next row that has any cell record. It returns false at the end of the sheet.
func (x *xlsReader) readRow() (bool, error) {
	x.row, x.lastNonBlank, x.why = 0, 0, ""
	clear(x.cells)
	x.cells = x.cells[:0]
	clear(x.typed)
	x.typed = x.typed[:0]
	for {
		if !x.haveNext {
			if x.done {
				return x.row > 0, nil
			}
			id, body, off, ok, err := x.cur.next()
			if err != nil {
				return false, err
			}
			if !ok {
				x.done = true
				return x.row > 0, nil
			}
			row := rowOf(body)
			if row <= x.skip {
				continue // a resumed read: not decoded
			}
			x.next, x.nextBad = x.book.decode(x.next[:0], id, body, off)
			x.nextRow, x.haveNext = row, true
		}
		if x.row > 0 && x.nextRow != x.row {
			return true, nil
		}
		x.row, x.haveNext = x.nextRow, false
		if x.nextBad != "" && x.why == "" {
			x.why = x.nextBad
		}
		for _, c := range x.next {
			x.put(c)
		}
	}
}

// put sets a cell of the row being read.
func (x *xlsReader) put(c xcell) {
	if c.col >= xlsMaxCols {
		if x.why == "" {
			x.why = fmt.Sprintf("it has a cell in column %d, past IV, the last column of an XLS sheet", c.col+1)
		}
		return
	}
	if c.col >= len(x.cells) {
		x.cells = append(x.cells, make([]string, c.col+1-len(x.cells))...)
	}
	x.cells[c.col] = c.val
	if c.typed != "" && c.col >= len(x.typed) {
		x.typed = append(x.typed, make([]string, c.col+1-len(x.typed))...)
	}
	if c.col < len(x.typed) {
		x.typed[c.col] = c.typed
	}
	if !c.blank {
		x.lastNonBlank = max(x.lastNonBlank, c.col+1)
	}
}

// nextData reads the next non-blank data row: x.row, x.cells[:x.lastNonBlank] and x.why.
func (x *xlsReader) nextData() (bool, error) {
	for {
		ok, err := x.readRow()
		if !ok || err != nil {
			return false, err
		}
		x.lastRow = x.row
		if x.lastNonBlank == 0 && x.why == "" {
			continue // blank; a row with corrupt cells is malformed, never blank
		}
		if x.why == "" && x.lastNonBlank > x.width {
			x.why = fmt.Sprintf("row has %d cells but the header has %d", x.lastNonBlank, x.width)
		}
		return true, nil
	}
}

// CountRows reads the rest of the sheet and returns how many non-blank data rows it holds,
// malformed ones included.
func (x *xlsReader) CountRows() (n int, err error) {
	defer recoverXLS(&err)
	for {
		ok, err := x.nextData()
		if !ok || err != nil {
			return n, err
		}
		n++
	}
}

// Source returns the rest of the sheet as batches of up to batchSize rows (DefaultBatchSize
// when 0 or less). A malformed row is skipped with reason malformed_row. A batch's LastRow is
// the last row it read, blank or not; its Offset is 0.
func (x *xlsReader) Source(batchSize int) pipeline.Source {
	if batchSize <= 0 {
		batchSize = DefaultBatchSize
	}
	return &xlsSource{x: x, size: batchSize}
}

type xlsSource struct {
	x    *xlsReader
	size int
	done bool
}

// Next returns the next batch, or io.EOF after the last one.
func (s *xlsSource) Next(ctx context.Context) (_ *pipeline.Batch, err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.done {
		return nil, io.EOF
	}
	defer func() {
		if err != nil {
			s.done = true
		}
	}()
	defer recoverXLS(&err)
	x := s.x
	b := &pipeline.Batch{Rows: make([]pipeline.Row, 0, s.size), LastRow: x.lastRow}
	var arena []string
	for n := 1; len(b.Rows) < s.size; n++ {
		if n%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		ok, err := x.nextData()
		if err != nil {
			return nil, err
		}
		b.LastRow = x.lastRow
		if !ok {
			s.done = true
			break
		}
		k := x.lastNonBlank
		if cap(arena)-len(arena) < k {
			arena = make([]string, 0, max(k, (s.size-len(b.Rows))*max(x.width, 1)))
		}
		start := len(arena)
		arena = append(arena, x.cells[:k]...)
		row := pipeline.Row{Number: x.row, Cells: arena[start:len(arena):len(arena)]}
		if len(x.typed) > 0 {
			row.Typed = make([]string, k)
			copy(row.Typed, x.typed)
		}
		if x.why != "" {
			row.Skip(pipeline.ReasonMalformedRow, x.why)
		}
		b.Rows = append(b.Rows, row)
	}
	if len(b.Rows) == 0 {
		return nil, io.EOF
	}
	return b, nil
}
