package read

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// # Reading a worksheet's rows
//
// Built rather than bought: excelize's row iterator (File.Rows, Rows.Columns) decodes every cell
// into a struct with encoding/xml, by reflection, token by token: 6.7–7.0 s for make bench's
// 200,000-row sheet (173 MB of XML), where unzipping it takes 0.35 s. That parse was the
// critical path of an XLSX import (issue 15), and the import could not come within 5% of the
// bare loop while it ran it. It also formats cells in its own way, which the reader had to undo
// (a random marker in rewritten number formats, a second iterator for raw values, dates of
// 1904 workbooks made again). A worksheet's cells need little of XML: a row, its cells with
// their reference, style and type, a value or an inline string. So the sheet is read here, from
// the zip part, by a scanner of its own (xlsx_xmlscan.go), and each value is shown by the same
// renderer as XLS (numfmt.go) from the cell's style. excelize still opens the workbook: its
// sheets, their visibility, the styles and the date system.

// xlsxMaxRows is Excel's last row number.
const xlsxMaxRows = 1 << 20

// xlsxMaxCols is Excel's last column number (XFD).
const xlsxMaxCols = 1 << 14

// xlsxMaxCellBytes caps what is kept of a cell's text as written: more than it holds more than
// Excel's 32,767 characters however it is written (an _xHHHH_ escape, 7 bytes, is one
// character), which makes the row malformed whatever follows.
const xlsxMaxCellBytes = 7 * (xlsxMaxCellChars + 1)

// xlsxMaxRowBytes caps a row's values: a row holding more (say, 1,000 cells each showing one
// long shared string) is malformed, its values past the cap not kept.
const xlsxMaxRowBytes = 16 << 20

// xlsxBook is what reading a cell needs of the workbook: its styles' number formats (by
// the cell's s attribute), the date system and the shared strings.
type xlsxBook struct {
	formats  []cellFormat
	date1904 bool
	sst      *sharedStrings
}

// sheetScan reads a worksheet's rows one row number at a time: rows the file leaves out read
// blank.
type sheetScan struct {
	sc   *xmlScanner
	book xlsxBook
	row  int  // the number of the last row returned
	next int  // the number of the row read ahead (its cells in cells), 0 when none
	done bool // </sheetData> or the end of the part was reached

	// The row read: its cells and their typed values (nil when none), or why it cannot be read.
	cells []string
	typed []string
	why   string

	text  []byte // a row's values, one after another
	spans []xlsxSpan
	val   []byte // the value being read
	attr  []byte
}

// xlsxSpan is where a cell's value and typed value are in sheetScan.text.
type xlsxSpan struct {
	col        int
	start, end int
	typed      string
}

func newSheetScan(r io.Reader, book xlsxBook) *sheetScan {
	return &sheetScan{sc: newXMLScanner(r, xlsxMaxCellBytes), book: book}
}

// advance moves to the next row number, reporting false after the last row. Its cells, typed
// values and reason for being malformed are then in cells, typed and why.
func (s *sheetScan) advance() (bool, error) {
	if s.next == 0 && !s.done {
		if err := s.readRow(); err != nil {
			return false, err
		}
	}
	if s.next == 0 {
		return false, nil
	}
	s.row++
	if s.row < s.next {
		s.cells, s.typed, s.why = nil, nil, ""
		return true, nil
	}
	s.next = 0
	s.build()
	return true, nil
}

// readRow reads up to the next row element and its cells, setting next to its number; at the
// end of the sheet's data it sets done instead.
func (s *sheetScan) readRow() error {
	for {
		tok, err := s.sc.next(nil)
		if err != nil {
			return s.fault(err)
		}
		switch {
		case tok == xmlEOF:
			s.done = true
			return nil
		case tok == xmlEnd && string(s.sc.name) == "sheetData":
			s.done = true
			return nil
		case tok == xmlStart && string(s.sc.name) == "row":
			num := s.row + 1
			for a := s.sc.attrs; ; {
				var k, v []byte
				if k, v, a = nextAttr(a); k == nil {
					break
				}
				if string(k) != "r" {
					continue
				}
				if v, err = attrValue(v, s.attr); err != nil {
					return s.fault(err)
				}
				if n, err := strconv.Atoi(string(v)); err == nil && n > 0 {
					num = max(n, s.row+1) // rows go down the sheet; one out of order is the next
				}
			}
			if num > xlsxMaxRows {
				return fmt.Errorf("row number %d is past Excel's last row, %d", num, xlsxMaxRows)
			}
			s.next = num
			s.text, s.spans, s.why = s.text[:0], s.spans[:0], ""
			if s.sc.selfClosing {
				return nil
			}
			return s.readCells()
		}
	}
}

// malformed makes why the reason the row is malformed, unless it has one.
func (s *sheetScan) malformed(why string) {
	if s.why == "" {
		s.why = why
	}
}

// fault is the error of a worksheet whose XML cannot be read.
func (s *sheetScan) fault(err error) error {
	return fmt.Errorf("its XML cannot be read: %v", err)
}

// readCells reads the cells of the row element just started, up to its end tag.
func (s *sheetScan) readCells() error {
	col := 0
	for {
		tok, err := s.sc.next(nil)
		if err != nil {
			return s.fault(err)
		}
		switch {
		case tok == xmlEOF:
			return s.fault(io.ErrUnexpectedEOF)
		case tok == xmlEnd && string(s.sc.name) == "row":
			return nil
		case tok == xmlStart && string(s.sc.name) == "c":
			if col, err = s.readCell(col); err != nil {
				return err
			}
		case tok == xmlStart:
			if err := s.sc.skip(); err != nil {
				return s.fault(err)
			}
		}
	}
}

// readCell reads the cell element just started, the cell after column prev (1-based) unless its
// reference says otherwise, and returns its column.
func (s *sheetScan) readCell(prev int) (int, error) {
	sc := s.sc
	col := prev + 1
	var ref, style, typ []byte
	for a := sc.attrs; ; {
		var k, v []byte
		if k, v, a = nextAttr(a); k == nil {
			break
		}
		switch string(k) {
		case "r":
			ref = v
		case "s":
			style = v
		case "t":
			typ = v
		}
	}
	drop := false // the cell has no place in the row: its value is not kept
	if ref != nil {
		c, ok := xlsxColumnOf(ref)
		switch {
		case !ok:
			s.malformed(fmt.Sprintf("the cell reference %q is not valid", ref))
		case c <= prev:
			s.malformed(fmt.Sprintf("the cell %s comes after a cell to its right", ref))
			drop = true
		default:
			col = c
		}
	}
	if col > xlsxMaxCols {
		s.malformed(fmt.Sprintf("the cell %s is past Excel's last column", ref))
		drop = true
	}
	styleIndex, _ := strconv.Atoi(string(style))
	cellType := string(typ)
	if bytes.IndexByte(typ, '&') >= 0 {
		t, err := attrValue(typ, s.attr)
		if err != nil {
			return 0, s.fault(err)
		}
		cellType = string(t)
	}
	hasInline := false
	s.val = s.val[:0]
	if !sc.selfClosing {
		for done := false; !done; {
			tok, err := sc.next(nil)
			if err != nil {
				return 0, s.fault(err)
			}
			switch {
			case tok == xmlEOF:
				return 0, s.fault(io.ErrUnexpectedEOF)
			case tok == xmlEnd:
				done = true // </c>: well-formed XML closes nothing else here
			case tok == xmlStart && string(sc.name) == "v":
				if s.val, err = readElementText(sc, s.val[:0]); err != nil {
					return 0, s.fault(err)
				}
			case tok == xmlStart && string(sc.name) == "is":
				hasInline = true
				if s.val, err = readRichText(sc, s.val[:0]); err != nil {
					return 0, s.fault(err)
				}
			case tok == xmlStart:
				if err := sc.skip(); err != nil {
					return 0, s.fault(err)
				}
			}
		}
	}
	if drop {
		return prev, nil
	}
	if len(s.text) > xlsxMaxRowBytes {
		s.malformed(fmt.Sprintf("the row holds more than %d MiB of text", xlsxMaxRowBytes>>20))
		return col, nil
	}
	start := len(s.text)
	typed, why := s.value(cellType, styleIndex, hasInline)
	if why != "" {
		s.malformed(fmt.Sprintf("the cell %s%d %s", xlsxColumnName(col-1), s.next, why))
	}
	if len(s.text) > start || typed != "" {
		s.spans = append(s.spans, xlsxSpan{col: col, start: start, end: len(s.text), typed: typed})
	}
	return col, nil
}

// value appends what a cell of type t and style shows to s.text, from its value (or inline
// string) in s.val. It returns the cell's typed value (pipeline.Row.Typed) and why the cell
// cannot be read ("" when it can).
func (s *sheetScan) value(t string, style int, inline bool) (typed, why string) {
	v := s.val
	switch t {
	case "s":
		if len(v) == 0 {
			return "", ""
		}
		i, err := strconv.Atoi(strings.TrimSpace(string(v)))
		text, ok, err2 := s.book.sst.get(i)
		if err2 != nil {
			return "", fmt.Sprintf("cannot be read: %v", err2)
		}
		if err != nil || !ok {
			return "", fmt.Sprintf("refers to shared string %q, which the workbook does not have", v)
		}
		s.text = append(s.text, text...)
	case "inlineStr":
		if inline {
			v = unescapeBstr(v)
		}
		s.text = append(s.text, v...)
	case "str", "e":
		s.text = append(s.text, v...)
	case "b":
		switch string(v) {
		case "1":
			s.text = append(s.text, "true"...)
		case "0":
			s.text = append(s.text, "false"...)
		default:
			s.text = append(s.text, v...)
		}
	case "d":
		serial, timed, ok := isoSerial(string(v), s.book.date1904)
		if !ok {
			s.text = append(s.text, v...)
			break
		}
		f := s.book.format(style)
		if f.kind < fmtDate { // an ISO date without a date format: shown as a date anyway
			f = cellFormat{kind: fmtDate}
			if timed {
				f.kind = fmtDateTime
			}
		}
		return s.number(serial, f), ""
	default:
		num := trimXMLSpace(bytes.TrimLeft(v, " \t\r\n")) // xsd:double allows white space around
		n, err := strconv.ParseFloat(string(num), 64)
		if !isDecimal(num) || err != nil { // text, or out of float64's range
			s.text = append(s.text, v...)
			break
		}
		return s.number(n, s.book.format(style)), ""
	}
	return "", ""
}

// number appends number v as format f shows it to s.text and returns its typed value.
func (s *sheetScan) number(v float64, f cellFormat) string {
	display, typed := f.show(v, s.book.date1904)
	s.text = append(s.text, display...)
	return typed
}

// format returns the number format of style s (General when the workbook has no such style).
func (b xlsxBook) format(s int) cellFormat {
	if s < 0 || s >= len(b.formats) {
		return cellFormat{}
	}
	return b.formats[s]
}

// build makes cells and typed from the row's spans.
func (s *sheetScan) build() {
	s.cells, s.typed = nil, nil
	if len(s.spans) == 0 {
		return
	}
	all := string(s.text) // one allocation for the row's values
	s.cells = make([]string, s.spans[len(s.spans)-1].col)
	for _, sp := range s.spans {
		s.cells[sp.col-1] = all[sp.start:sp.end]
		if sp.typed != "" {
			if s.typed == nil {
				s.typed = make([]string, len(s.cells))
			}
			s.typed[sp.col-1] = sp.typed
		}
	}
}

// readElementText appends the text of the element just started, up to its end tag, to dst (at
// most the scanner's maxText in all).
func readElementText(sc *xmlScanner, dst []byte) ([]byte, error) {
	if sc.selfClosing {
		return dst, nil
	}
	for {
		tok, err := sc.next(&dst)
		switch {
		case err != nil:
			return dst, err
		case tok == xmlEOF:
			return dst, io.ErrUnexpectedEOF
		case tok == xmlStart:
			if err := sc.skip(); err != nil {
				return dst, err
			}
		case tok == xmlEnd:
			return dst, nil
		}
	}
}

// readRichText appends the text of the string item just started (a shared string's si, an
// inline string's is) to dst: its t elements, plain or in runs, but not those of its phonetic
// runs (rPh), which Excel does not show in the cell. The _xHHHH_ escapes are left to the caller.
func readRichText(sc *xmlScanner, dst []byte) ([]byte, error) {
	if sc.selfClosing {
		return dst, nil
	}
	for depth := 1; ; {
		tok, err := sc.next(nil)
		switch {
		case err != nil:
			return dst, err
		case tok == xmlEOF:
			return dst, io.ErrUnexpectedEOF
		case tok == xmlStart && string(sc.name) == "t":
			if dst, err = readElementText(sc, dst); err != nil {
				return dst, err
			}
		case tok == xmlStart && string(sc.name) == "rPh":
			if err := sc.skip(); err != nil {
				return dst, err
			}
		case tok == xmlStart && !sc.selfClosing:
			depth++
		case tok == xmlEnd:
			if depth--; depth == 0 {
				return dst, nil
			}
		}
	}
}

// unescapeBstr replaces, in place, the escapes _xHHHH_ by which a string item writes characters
// XML cannot hold (_x0008_), _x005F_ being the underscore that keeps a literal escape
// (_x005F_x0008_ reads _x0008_). An escape of no character (a lone surrogate) is dropped, as
// excelize drops it.
func unescapeBstr(p []byte) []byte {
	if bytes.Index(p, []byte("_x")) < 0 {
		return p
	}
	w := 0
	for r := 0; r < len(p); {
		if r+7 <= len(p) && p[r] == '_' && p[r+1] == 'x' && p[r+6] == '_' {
			if n, err := strconv.ParseUint(string(p[r+2:r+6]), 16, 32); err == nil {
				if utf8.ValidRune(rune(n)) {
					w += utf8.EncodeRune(p[w:], rune(n))
				}
				r += 7
				continue
			}
		}
		p[w] = p[r]
		w++
		r++
	}
	return p[:w]
}

// xlsxColumnOf returns the 1-based column of a cell reference such as B7.
func xlsxColumnOf(ref []byte) (int, bool) {
	col, i := 0, 0
	for ; i < len(ref) && i < 4; i++ {
		c := ref[i] | 0x20 // lower case
		if c < 'a' || c > 'z' {
			break
		}
		col = col*26 + int(c-'a'+1)
	}
	if i == 0 || i == len(ref) || col > xlsxMaxCols {
		return 0, false
	}
	row := 0
	for _, c := range ref[i:] {
		if c < '0' || c > '9' {
			return 0, false
		}
		if row = row*10 + int(c-'0'); row > xlsxMaxRows {
			return 0, false
		}
	}
	return col, row > 0
}

// isDecimal reports whether v is a decimal number as a worksheet stores one: an optional sign,
// digits with an optional point, and an optional exponent.
func isDecimal(v []byte) bool {
	i := 0
	if i < len(v) && (v[i] == '-' || v[i] == '+') {
		i++
	}
	digits := 0
	for ; i < len(v) && v[i] >= '0' && v[i] <= '9'; i++ {
		digits++
	}
	if i < len(v) && v[i] == '.' {
		for i++; i < len(v) && v[i] >= '0' && v[i] <= '9'; i++ {
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(v) && (v[i] == 'e' || v[i] == 'E') {
		i++
		if i < len(v) && (v[i] == '-' || v[i] == '+') {
			i++
		}
		start := i
		for ; i < len(v) && v[i] >= '0' && v[i] <= '9'; i++ {
		}
		if i == start {
			return false
		}
	}
	return i == len(v)
}

// isoSerial reads an ISO 8601 date, time or date and time (a cell of type d) as a serial day
// number, and whether it has a time of day.
func isoSerial(v string, date1904 bool) (serial float64, timed, ok bool) {
	var t time.Time
	var err error
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02", "15:04:05"} {
		if t, err = time.Parse(layout, v); err == nil {
			break
		}
	}
	if err != nil {
		return 0, false, false
	}
	if t.Year() == 0 { // a time only: a fraction of day 0
		t = t.AddDate(1899, 11, 29)
	}
	// The wall clock as written, whatever its zone (Excel has none); in days from the epoch by
	// seconds, as a time.Duration ends in 2192.
	y, m, d := t.Date()
	h, mi, sec := t.Clock()
	wall := time.Date(y, m, d, h, mi, sec, t.Nanosecond(), time.UTC)
	serial = float64(wall.Unix()-excelEpoch.Unix())/secondsPerDay + float64(wall.Nanosecond())/1e9/secondsPerDay
	if serial < fakeLeapDay+1 && t.Year() >= 1900 {
		serial-- // before 1900-03-01: the serials count Excel's phantom 1900-02-29 from there on
	}
	if date1904 {
		serial -= serial1904
	}
	return serial, h != 0 || mi != 0 || sec != 0 || t.Nanosecond() != 0, true
}

// sharedStrings is a workbook's shared-string table: the texts one after another, and where
// each ends. Each of the two is kept in memory until it passes a limit, then in a temporary
// file of its own (a table of millions of empty strings is all ends).
type sharedStrings struct {
	limit int
	n     int   // texts in all
	size  int64 // bytes of text in all

	data  []byte  // the texts, while in memory
	ends  []int64 // where each text ends, while in memory
	texts spill   // the texts, once past the limit
	endsF spill   // the ends, once past the limit

	buf []byte
}

// spill is a temporary file written through a buffer.
type spill struct {
	f *os.File
	w *bufio.Writer
}

// open creates the file in dir and writes first to it.
func (sp *spill) open(dir, prefix string, first []byte) error {
	f, err := os.CreateTemp(dir, prefix)
	if err != nil {
		return fmt.Errorf("read xlsx: %w", err)
	}
	sp.f, sp.w = f, bufio.NewWriterSize(f, 64<<10)
	_, err = sp.w.Write(first)
	return err
}

// close closes and removes the file, if there is one.
func (sp *spill) close() error {
	if sp.f == nil {
		return nil
	}
	err := sp.f.Close()
	if rerr := os.Remove(sp.f.Name()); err == nil {
		err = rerr
	}
	sp.f = nil
	return err
}

// readSharedStrings reads the shared-string table from r; texts and ends past limit bytes go to
// temporary files in dir.
func readSharedStrings(r io.Reader, dir string, limit int) (*sharedStrings, error) {
	t := &sharedStrings{limit: limit}
	sc := newXMLScanner(r, xlsxMaxCellBytes)
	var item []byte
	for {
		tok, err := sc.next(nil)
		if err != nil {
			return t, fmt.Errorf("its shared strings cannot be read: %v", err)
		}
		if tok == xmlEOF {
			return t, t.flush()
		}
		if tok != xmlStart || string(sc.name) != "si" {
			continue
		}
		if item, err = readRichText(sc, item[:0]); err != nil {
			return t, fmt.Errorf("its shared string %d cannot be read: %v", t.n, err)
		}
		if err := t.add(unescapeBstr(item), dir); err != nil {
			return t, err
		}
	}
}

// add appends a text to the table.
func (t *sharedStrings) add(text []byte, dir string) error {
	if t.texts.f == nil && len(t.data)+len(text) > t.limit {
		if err := t.texts.open(dir, "shared-strings-", t.data); err != nil {
			return err
		}
		t.data = nil
	}
	if t.texts.f != nil {
		if _, err := t.texts.w.Write(text); err != nil {
			return fmt.Errorf("read xlsx: %w", err)
		}
	} else {
		t.data = append(t.data, text...)
	}
	t.size += int64(len(text))
	t.n++
	if t.endsF.f == nil && 8*(len(t.ends)+1) > t.limit {
		if err := t.endsF.open(dir, "shared-string-ends-", binary.LittleEndian.AppendUint64(nil, 0)); err != nil {
			return err
		}
		var b [8]byte
		for _, e := range t.ends {
			binary.LittleEndian.PutUint64(b[:], uint64(e))
			_, _ = t.endsF.w.Write(b[:]) // an error stays in w, for flush
		}
		t.ends = nil
	}
	if t.endsF.f != nil {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], uint64(t.size))
		if _, err := t.endsF.w.Write(b[:]); err != nil {
			return fmt.Errorf("read xlsx: %w", err)
		}
		return nil
	}
	t.ends = append(t.ends, t.size)
	return nil
}

// flush writes out what the files' buffers hold.
func (t *sharedStrings) flush() error {
	for _, sp := range []*spill{&t.texts, &t.endsF} {
		if sp.f != nil {
			if err := sp.w.Flush(); err != nil {
				return fmt.Errorf("read xlsx: %w", err)
			}
		}
	}
	return nil
}

// get returns text i, valid until the next call; ok is false when the table has none.
func (t *sharedStrings) get(i int) (text []byte, ok bool, err error) {
	if t == nil || i < 0 || i >= t.n {
		return nil, false, nil
	}
	var start, end int64
	switch {
	case t.endsF.f != nil: // the file starts with a 0: ends of i-1 and i are at 8i
		var b [16]byte
		if _, err := t.endsF.f.ReadAt(b[:], int64(8*i)); err != nil {
			return nil, false, fmt.Errorf("read xlsx: shared strings: %w", err)
		}
		start, end = int64(binary.LittleEndian.Uint64(b[:8])), int64(binary.LittleEndian.Uint64(b[8:]))
	default:
		if i > 0 {
			start = t.ends[i-1]
		}
		end = t.ends[i]
	}
	if t.texts.f == nil {
		return t.data[start:end], true, nil
	}
	n := int(end - start)
	if cap(t.buf) < n {
		t.buf = make([]byte, n)
	}
	if _, err := t.texts.f.ReadAt(t.buf[:n], start); err != nil {
		return nil, false, fmt.Errorf("read xlsx: shared strings: %w", err)
	}
	return t.buf[:n], true, nil
}

// close removes the table's temporary files.
func (t *sharedStrings) close() error {
	if t == nil {
		return nil
	}
	err := t.texts.close()
	if eerr := t.endsF.close(); err == nil {
		err = eerr
	}
	return err
}
