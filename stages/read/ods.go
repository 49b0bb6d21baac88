package read

// # ODS
//
// An OpenDocument spreadsheet (.ods, LibreOffice's own format; also its .ots templates) is a
// zip archive whose first part, mimetype, says application/vnd.oasis.opendocument.spreadsheet,
// and whose content.xml holds every sheet. Detect names a zip "ods" when its mimetype part
// (read where the format puts it, first and stored; else found in the zip's directory, unless
// the directory lists more parts than a workbook may have) names an OpenDocument type, or,
// lacking one, when it holds content.xml and no xl/workbook.xml. A zip of another OpenDocument
// type (a text document, a presentation) fails with a message naming it, and so does a
// password-protected one (its manifest lists encryption data). The zip is checked as an XLSX
// one is (see checkZip): at most Options.MaxUnzippedBytes declared unzipped, no two parts of
// the same name, and every part unzipped once, before the first row is returned, to check its
// size and checksum.
//
// No library: of the Go ODS readers found, none is in the project's lists of vetted modules
// (go-partial.tsv), and each reads content.xml whole: github.com/knieriem/odf (and its forks,
// such as multiprocessio/go-openoffice) decodes it into structs with encoding/xml and expands
// repeated rows and columns into [][]string — LibreOffice writes a sheet's blank tail as one row
// repeated a million times, and a row's as one cell repeated 16,000 times, so a small file would
// take gigabytes — and reads only a paragraph's direct text (no text:s spaces, no text:span);
// github.com/ksev/ods says itself it is not streaming, github.com/ssolov/sods parses a []byte
// of content.xml. So content.xml is read here, streaming, with encoding/xml's token reader:
// memory holds one row (of at most the header's width plus 256 cells), whatever the file.
// Repeats cost nothing until they yield rows: a blank block of rows or cells is counted, not
// expanded; a non-blank row repeated N times is N rows (CountRows adds N at once). Rows past
// 1,048,576 (LibreOffice's last) may only be blank: data there fails the file, naming the row.
// Cells past the header's width are counted, not kept (256 are kept for the report). No XML text
// or tag over 1 MiB is held, and no element nests deeper than 256 (see odsGuard).
//
// Sheet: Options.Sheet names it, hidden or not, compared case-insensitively (LibreOffice allows
// no two sheet names that differ only in case); else the first visible table:table, the one
// LibreOffice opens on (a table is hidden when its table:style-name is an automatic style with
// table:display="false"; the first sheet if all are hidden). An unknown name is an error that
// lists the sheets.
//
// Values are the cells as the user saw them: the text of the cell's text:p paragraphs (joined
// with "\n"; text:s is its spaces, text:tab a tab, text:line-break a newline; the text of
// text:span, text:a and other inline elements counts; annotations, drawings and notes do not),
// as LibreOffice reads them, whitespace kept. Except:
//   - date cells (office:date-value): YYYY-MM-DD, or YYYY-MM-DD HH:MM:SS when the value has a
//     time part (LibreOffice writes none at midnight), rounded to the second; time cells
//     (office:time-value, an ISO duration): HH:MM:SS, the hours past 24 for a duration. A value
//     that is no such date or time reads as its text.
//   - a boolean cell reads true or false, whatever it shows, as XLS and XLSX booleans do.
//   - a float, percentage or currency cell without text reads as its office:value, as a plain
//     decimal (see formatNumber), and a string one as its office:string-value.
//   - a float, percentage or currency cell whose text is not the plain decimal of its value
//     (25.00%, $1,200.00, 1,234.50, 02134, 1.23E+04) carries that plain decimal in Row.Typed
//     (0.25, 1200, 1234.5, 2134, 12345.678): at most 15 significant digits, no exponent.
//   - a covered cell (table:covered-table-cell, hidden by a merge) is blank, whatever it holds.
//
// Rows are numbered as LibreOffice numbers them, repeats and blank rows included; rows in
// table:table-header-rows, table:table-rows and (nested) table:table-row-group are ordinary rows.
// The header is the first non-blank row, its cells trimmed and trailing blank ones dropped. A
// data row's trailing blank cells are dropped. A row is malformed (skipped with reason
// malformed_row) when it has a value past the header's width, or a cell longer than 32,767
// characters (the cell reads as "").
//
// Resuming: Options.CSV.StartRow resumes after that row (Batch.LastRow of the last committed
// batch), as for XLSX; Record.Offset and Batch.Offset are 0.
//
// Closing: CountRows, and the Source at its end (io.EOF or an error), close the reader; a caller
// that stops earlier closes it with Close (ODS is an io.Closer). The reader holds no file or
// temporary file of its own (the caller's file, content.xml's decompressor and one row), so one
// dropped unclosed is simply collected.

import (
	"archive/zip"
	"context"
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/leadpipe/leadpipe/pipeline"
)

const (
	// odsMaxRows and odsMaxColumns are LibreOffice's last row and column.
	odsMaxRows    = 1 << 20
	odsMaxColumns = 1 << 14
	// odsMaxRunBytes caps an XML text run or tag (see odsGuard), and odsMaxDepth the nesting of
	// elements.
	odsMaxRunBytes = 1 << 20
	odsMaxDepth    = 256

	odsMimePrefix = "application/vnd.oasis.opendocument."
	odsMimeSheet  = odsMimePrefix + "spreadsheet"

	nsOffice = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
	nsTable  = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
	nsText   = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
	nsStyle  = "urn:oasis:names:tc:opendocument:xmlns:style:1.0"
)

// isODS reports whether the zip archive ra, of size bytes, is an OpenDocument file: its
// mimetype part (the first, as the format requires, but found anywhere) is one of
// OpenDocument's, or it has no mimetype part but a content.xml and no xl/workbook.xml.
func isODS(ra io.ReaderAt, size int64) bool {
	var lh [30 + len("mimetype")]byte
	if _, err := ra.ReadAt(lh[:], 0); err == nil && string(lh[30:]) == "mimetype" &&
		binary.LittleEndian.Uint16(lh[8:]) == zip.Store && binary.LittleEndian.Uint16(lh[26:]) == uint16(len("mimetype")) {
		mime := make([]byte, len(odsMimePrefix))
		if _, err := ra.ReadAt(mime, int64(len(lh))+int64(binary.LittleEndian.Uint16(lh[28:]))); err == nil && string(mime) == odsMimePrefix {
			return true // the usual case, without reading the zip's directory
		}
	}
	if n, ok := zipEntries(ra, size); !ok || n > maxZipEntries {
		return false // the XLSX reader's checks say what is wrong, in the child process
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return false
	}
	if zf := zipPart(zr, "mimetype"); zf != nil {
		rc, err := zf.Open()
		if err != nil {
			return false
		}
		defer rc.Close()
		mime := make([]byte, len(odsMimePrefix))
		_, err = io.ReadFull(rc, mime)
		return err == nil && string(mime) == odsMimePrefix
	}
	return zipPart(zr, "content.xml") != nil && zipPart(zr, "xl/workbook.xml") == nil
}

// zipEntries reads the number of entries of the zip archive ra, of size bytes, from its end of
// central directory record, so that Detect reads no directory of a million entries (in the
// daemon: the parsers run in child processes). ok is false when there is no such record, or
// the count is in a ZIP64 record.
func zipEntries(ra io.ReaderAt, size int64) (n int, ok bool) {
	const eocdLen = 22
	tail := make([]byte, min(size, eocdLen+0xFFFF)) // the record, and a comment of at most 64 KiB
	if _, err := ra.ReadAt(tail, size-int64(len(tail))); err != nil {
		return 0, false
	}
	for i := len(tail) - eocdLen; i >= 0; i-- {
		if string(tail[i:i+4]) == "PK\x05\x06" {
			n := binary.LittleEndian.Uint16(tail[i+10:])
			return int(n), n != 0xFFFF
		}
	}
	return 0, false
}

// ODS reads one sheet of an OpenDocument spreadsheet row by row. It is not safe for concurrent
// use.
type ODS struct {
	content   io.ReadCloser
	p         *odsParser
	sheet     string
	header    []string
	headerRow int
	width     int // -1 until the header is read
	startRow  int // rows up to this one are skipped (resume)

	row      int      // the number of the last row read
	cells    []string // the last row's cells, trimmed to what is kept
	typed    []string // their typed values (Row.Typed), or nil
	why      string   // why the last row is malformed, or ""
	blank    bool     // the last row (or block of rows) is blank
	left     int      // how many more times the last row repeats
	repeated bool     // the last row is one of several repeats: its cells are shared
	pastEnd  bool     // data goes on past odsMaxRows after the repeats left
	err      error    // sticky: the reader failed or is spent
}

// openODS opens the sheet of an ODS spreadsheet that opts name and reads its header.
func openODS(f *os.File, opts Options) (Reader, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read file: %w", err)
	}
	x, err := openODSAt(f, st.Size(), opts)
	if err != nil {
		return nil, err
	}
	return x, nil
}

// openODSAt opens the sheet of the ODS spreadsheet ra, of size bytes, that opts name and reads
// its header. Errors say what is wrong with the file and wrap ErrFormat, ErrEmpty or
// ErrNoHeader; an unknown opts.Sheet is an error listing the sheets.
func openODSAt(ra io.ReaderAt, size int64, opts Options) (x *ODS, err error) {
	zr, err := odsCheckZip(ra, size, opts)
	if err != nil {
		return nil, err
	}
	verified := make(chan error, 1)
	go func() { verified <- verifyZipParts(zr, odsZip) }()
	defer func() {
		if verr := <-verified; verr != nil {
			if x != nil {
				_ = x.Close()
			}
			x, err = nil, verr
		}
	}()

	x = &ODS{width: -1, startRow: opts.CSV.StartRow}
	if err := x.openSheet(zr, opts.Sheet); err != nil {
		_ = x.Close()
		return nil, err
	}
	if err := x.readHeader(); err != nil {
		_ = x.Close()
		return nil, err
	}
	return x, nil
}

// odsCheckZip checks the zip archive (see checkZip) and its mimetype: an OpenDocument file of
// another type is refused by name.
func odsCheckZip(ra io.ReaderAt, size int64, opts Options) (*zip.Reader, error) {
	maxUnzipped := opts.MaxUnzippedBytes
	if maxUnzipped <= 0 {
		maxUnzipped = DefaultMaxUnzippedBytes
	}
	zr, err := checkZip(ra, size, maxUnzipped, odsZip)
	if err != nil {
		return nil, err
	}
	if zf := zipPart(zr, "mimetype"); zf != nil {
		rc, err := zf.Open()
		if err != nil {
			return nil, fmt.Errorf("%w: the file is not a valid ODS spreadsheet: mimetype: %v", ErrFormat, err)
		}
		mime, err := io.ReadAll(io.LimitReader(rc, 256))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%w: the file is not a valid ODS spreadsheet: mimetype: %v", ErrFormat, err)
		}
		if m := strings.TrimSpace(string(mime)); m != odsMimeSheet && m != odsMimeSheet+"-template" {
			return nil, fmt.Errorf("%w: the file is an OpenDocument file of type %q, not a spreadsheet; save it as ODS, XLSX or CSV",
				ErrFormat, strings.TrimPrefix(m, odsMimePrefix))
		}
	}
	if zipPart(zr, "content.xml") == nil {
		return nil, fmt.Errorf("%w: the file is not a valid ODS spreadsheet: it has no content.xml", ErrFormat)
	}
	if odsEncrypted(zr) {
		return nil, fmt.Errorf("%w: the ODS file is password-protected: open it in LibreOffice with its password, save it without one "+
			"(File > Save As, with \"Save with password\" unchecked) or as CSV, and import that", ErrFormat)
	}
	return zr, nil
}

// odsEncrypted reports whether the manifest of the spreadsheet (its first MiB) says a part is
// encrypted: a password-protected file, whose content.xml is no XML.
func odsEncrypted(zr *zip.Reader) bool {
	zf := zipPart(zr, "meta-inf/manifest.xml")
	if zf == nil {
		return false
	}
	rc, err := zf.Open()
	if err != nil {
		return false
	}
	defer rc.Close()
	d := xml.NewDecoder(io.LimitReader(rc, 1<<20))
	for {
		t, err := d.RawToken()
		if err != nil {
			return false
		}
		if se, ok := t.(xml.StartElement); ok && se.Name.Local == "encryption-data" {
			return true
		}
	}
}

// openContent opens content.xml and reads it up to office:spreadsheet.
func (x *ODS) openContent(zr *zip.Reader) error {
	if x.content != nil {
		x.content.Close()
	}
	rc, err := zipPart(zr, "content.xml").Open()
	if err != nil {
		return fmt.Errorf("%w: the file is not a valid ODS spreadsheet: content.xml: %v", ErrFormat, err)
	}
	x.content = rc
	x.p = newODSParser(rc)
	return x.p.readPrelude()
}

// openSheet positions the reader at the start of the sheet named want (see the package doc),
// or of the first visible one.
func (x *ODS) openSheet(zr *zip.Reader, want string) error {
	if err := x.openContent(zr); err != nil {
		return err
	}
	var names []string
	for {
		name, hidden, ok, err := x.p.nextTable()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if want == "" && !hidden || want != "" && strings.EqualFold(name, want) {
			x.sheet = name
			return nil
		}
		names = append(names, name)
		if err := x.p.skip(); err != nil {
			return err
		}
	}
	switch {
	case len(names) == 0:
		return fmt.Errorf("%w: the ODS spreadsheet has no sheets", ErrFormat)
	case want != "":
		return fmt.Errorf("read ods: the spreadsheet has no sheet %q; its sheets are %s", want, quotedList(names))
	}
	// Every sheet is hidden: the first one, read again from the start.
	if err := x.openContent(zr); err != nil {
		return err
	}
	name, _, _, err := x.p.nextTable()
	x.sheet = name
	return err
}

// readHeader reads up to the first non-blank row and makes it the header. A header repeated:
// its repeats (x.left) are data rows, with its cells.
func (x *ODS) readHeader() (err error) {
	x.header, x.headerRow, err = readSheetHeader(x, "ODS spreadsheet", x.sheet)
	x.width = len(x.header)
	return err
}

func (x *ODS) rowState() (int, bool, string, []string) { return x.row, x.blank, x.why, x.cells }

// Header returns the header cells, trimmed, without trailing empty ones.
func (x *ODS) Header() []string { return x.header }

// HeaderRow returns the row number of the header.
func (x *ODS) HeaderRow() int { return x.headerRow }

// Format names the ODS format.
func (x *ODS) Format() string { return "ods" }

// Sheet returns the name of the sheet being read.
func (x *ODS) Sheet() string { return x.sheet }

var _ SheetReader = (*ODS)(nil)

// Close releases content.xml's decompressor. It is idempotent; the reader is spent afterwards.
func (x *ODS) Close() error {
	if x.err == nil {
		x.err = io.EOF
	}
	if x.content != nil {
		x.content.Close()
		x.content, x.p = nil, nil
	}
	return nil
}

// fail makes err the reader's sticky error and closes it.
func (x *ODS) fail(err error) error {
	_ = x.Close()
	x.err = err
	return err
}

// Next returns the next non-blank data record, or io.EOF after the last one.
func (x *ODS) Next() (Record, error) {
	for {
		ok, err := x.advanceData()
		if err != nil {
			return Record{}, err
		}
		if !ok {
			return Record{}, io.EOF
		}
		if !x.blank {
			return Record{Row: x.row, Cells: x.rowCells(), Malformed: x.why}, nil
		}
	}
}

// rowCells returns the cells of the last row, a copy when they are shared with its repeats.
func (x *ODS) rowCells() []string {
	if x.repeated {
		return slices.Clone(x.cells)
	}
	return x.cells
}

// CountRows reads the rest of the sheet and returns how many non-blank data rows it holds,
// malformed ones included. It closes the reader.
func (x *ODS) CountRows() (n int, err error) {
	for {
		ok, err := x.advanceData()
		if err != nil {
			return n, err
		}
		if !ok {
			return n, nil
		}
		if !x.blank {
			n += 1 + x.left // a repeated row's repeats at once
			x.row += x.left
			x.left = 0
		}
	}
}

// Source returns the rest of the sheet as a pipeline source of batches of up to batchSize rows
// (DefaultBatchSize when 0 or less). A malformed row is skipped with reason malformed_row. Each
// batch's LastRow is the number of the last row it consumed, blank ones included; its Offset
// is 0. The source closes the reader when it returns io.EOF or an error.
func (x *ODS) Source(batchSize int) pipeline.Source {
	if batchSize <= 0 {
		batchSize = DefaultBatchSize
	}
	return &odsSource{x: x, size: batchSize}
}

type odsSource struct {
	x    *ODS
	size int
}

// Next returns the next batch, or io.EOF after the last one.
func (s *odsSource) Next(ctx context.Context) (*pipeline.Batch, error) {
	return readSheetBatch(ctx, s.x, s.size)
}

// dataRow returns the last row as a pipeline row, its cells and typed values copies when they
// are shared with its repeats.
func (x *ODS) dataRow() pipeline.Row {
	row := pipeline.Row{Number: x.row, Cells: x.rowCells(), Typed: x.typed}
	if x.repeated && x.typed != nil {
		row.Typed = slices.Clone(x.typed)
	}
	return row
}

// advanceData reads the next row (or block of blank rows) after the resume point. It returns
// false at the end of the sheet, having closed the reader.
func (x *ODS) advanceData() (bool, error) {
	if x.err == io.EOF {
		return false, nil
	}
	if x.err != nil {
		return false, x.err
	}
	ok, err := x.advance(true)
	if err != nil {
		return false, x.fail(err)
	}
	if !ok {
		_ = x.Close()
	}
	return ok, nil
}

// advance reads the next row, or block of blank rows, into row, cells, typed, why and blank.
// With resume, rows up to startRow are passed over unread. It returns false at the end of the
// sheet.
func (x *ODS) advance(resume bool) (bool, error) {
	if resume && x.left > 0 && x.row < x.startRow {
		skip := min(x.left, x.startRow-x.row)
		x.left -= skip
		x.row += skip
	}
	if x.left > 0 {
		x.left--
		x.row++
		return true, nil
	}
	if x.pastEnd {
		return false, fmt.Errorf("%w: the sheet %q of the ODS file has data past row %d, the last row of a sheet",
			ErrFormat, x.sheet, odsMaxRows)
	}
	for {
		se, ok, err := x.p.nextRow()
		if err != nil || !ok {
			return false, err
		}
		n := odsRepeat(se, "number-rows-repeated", odsMaxRows)
		x.cells, x.typed, x.why, x.blank, x.repeated = nil, nil, "", true, false
		if resume && x.row+n <= x.startRow {
			x.row += n
			if err := x.p.skip(); err != nil {
				return false, err
			}
			continue
		}
		if resume && x.row < x.startRow {
			n -= x.startRow - x.row
			x.row = x.startRow
		}
		limit := odsMaxColumns
		if x.width >= 0 {
			limit = x.width + extraCellCap
		}
		r, err := x.p.readRow(limit, x.row+1)
		if err != nil {
			return false, err
		}
		if r.last == 0 {
			x.row = min(x.row+n, odsMaxRows) // blank rows past the last one are no rows
			return true, nil
		}
		if x.row >= odsMaxRows {
			x.pastEnd = true
			return x.advance(resume)
		}
		if x.row+n > odsMaxRows {
			n, x.pastEnd = odsMaxRows-x.row, true
		}
		x.row++
		x.left, x.repeated = n-1, n > 1
		x.cells, x.typed, x.why, x.blank = r.cells, r.typed, r.why, false
		switch {
		case x.why != "":
		case r.last > int64(odsMaxColumns):
			x.why = fmt.Sprintf("row has a value in column %d, past the last column of a sheet (%d)", r.last, odsMaxColumns)
		case x.width >= 0 && r.last > int64(x.width):
			x.why = fmt.Sprintf("row has %d cells but the header has %d", r.last, x.width)
		}
		return true, nil
	}
}

// odsSheets lists the sheets of the ODS spreadsheet f: the tables of content.xml, read through
// without their rows being looked at.
func odsSheets(f *os.File, opts Options) ([]Sheet, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read file: %w", err)
	}
	zr, err := odsCheckZip(f, st.Size(), opts)
	if err != nil {
		return nil, err
	}
	x := &ODS{}
	defer x.Close()
	if err := x.openContent(zr); err != nil {
		return nil, err
	}
	var sheets []Sheet
	for {
		name, hidden, ok, err := x.p.nextTable()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		v := "visible"
		if hidden {
			v = "hidden"
		}
		sheets = append(sheets, Sheet{Name: name, Visibility: v})
		if err := x.p.skip(); err != nil {
			return nil, err
		}
	}
	if len(sheets) == 0 {
		return nil, fmt.Errorf("%w: the ODS spreadsheet has no sheets", ErrFormat)
	}
	return sheets, nil
}

// Make sure ODS is a Reader and a Closer.
var (
	_ Reader    = (*ODS)(nil)
	_ io.Closer = (*ODS)(nil)
)
