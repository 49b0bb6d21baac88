// Package read is the first stage of an import: it turns an uploaded file into rows.
//
// # CSV
//
// The CSV reader is written by hand rather than on encoding/csv because an import needs what
// that package does not give: the spreadsheet row number of every record (a quoted field may
// span several lines, and blank rows still count), the byte offset after every record (the
// checkpoint a resumed import starts from), field caps that do not buffer a runaway field,
// Excel's leniency about stray quotes, and per-field Windows-1252 fallback.
//
// Text: a UTF-8 byte-order mark is stripped. A UTF-16 file (LE or BE) with a byte-order mark
// is decoded to UTF-8 as it is read. Any other input is read as bytes, and each field that is
// not valid UTF-8 is decoded as Windows-1252, whole (a field is never a mix of the two). NUL
// bytes are removed wherever they are (Postgres rejects them), so a stray NUL never fails a
// row or the file. But the first 64 KiB (after the byte-order mark, and decoded) decide
// whether the file is text at all: more than 8 NUL bytes plus one per 4 KiB (not counting a
// run of NULs that pads the end of the file), or more than one byte in ten of control
// characters (C0 except tab, LF, CR, VT, FF; and DEL), make it binary: ErrNotText.
//
// Offsets (Record.Offset, Batch.Offset, CSVOptions.StartOffset) count bytes of the decoded
// UTF-8 stream after the byte-order mark. For a file that is not UTF-16 that is the file
// offset minus the length of the BOM (0 or 3); for UTF-16 it is no file offset at all. An
// offset is only meant to be handed back to OpenCSV with the same file.
//
// Delimiter: one of ',', '\t', ';' and '|', sniffed from the first 50 non-blank records of the
// first 64 KiB by counting each candidate outside quotes. A candidate must occur in the first
// record (the header); the winner has the largest share of records whose count equals the
// header's, then the larger header count, then comes first in that list. A header without any
// candidate (one column) means ','.
//
// Records: a record is one logical row; a quoted field may contain the delimiter, doubled
// quotes and line breaks (CRLF, LF or a lone CR, kept as they are). Every record, blank ones
// included, is one spreadsheet row, however many lines it spans. A record whose cells are all
// empty or whitespace is blank: not returned, but counted in the numbering. The header is the
// first non-blank record; its cells are trimmed and its trailing empty cells dropped (its width
// is what is left). Quoting is lenient the way Excel's is: a quote opens a quoted field only as
// the very first byte of the field; anywhere else it is literal; text after a closing quote is
// appended (`"ab"c` reads as `abc`); a quote still open at the end of the file makes that
// record, and so the rest of the file, one malformed record.
//
// Caps, so that no input can exhaust memory: a field longer than CSVOptions.MaxFieldBytes
// (1 MiB by default) makes its record malformed; the reader stops keeping the field's bytes
// (its cell reads as "") and goes on to the end of the record. A record of more than 16
// fields' worth of bytes (at least 16 MiB; counted before and again after any Windows-1252
// decoding) is malformed, and none of its bytes are kept (all its cells read as ""). A data
// record keeps at most 256 cells past the header's width; further cells are only counted, so
// a row of a million delimiters is one malformed record of bounded size. A header with more
// than CSVOptions.MaxColumns columns (2000 by default; trailing empty cells do not count)
// fails OpenCSV with ErrTooManyColumns, and more than CSVOptions.MaxRows data records (no
// limit by default) fail the read with ErrTooManyRows. The reader thus holds at most about
// one record's cap (plus a 256 KiB buffer) whatever the input, and gives back buffers over
// 4 MiB after the record that needed them.
package read

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Errors for files that cannot be read at all. They are returned wrapped, with a detail for a
// person; test for them with errors.Is.
var (
	// ErrEmpty: the file has no bytes, or only whitespace.
	ErrEmpty = errors.New("file is empty")
	// ErrNotText: the file is binary (NUL bytes, or mostly control bytes, near its start).
	ErrNotText = errors.New("file is not text")
	// ErrNoHeader: the file has content but no row that can be its header (every row is blank,
	// or the first non-blank row cannot be parsed).
	ErrNoHeader = errors.New("file has no header row")
	// ErrTooManyColumns: the header has more columns than CSVOptions.MaxColumns.
	ErrTooManyColumns = errors.New("file has too many columns")
	// ErrTooManyRows: the file has more data rows than CSVOptions.MaxRows. Next, CountRows and
	// the source's Next return it (and go on returning it) once the limit is passed.
	ErrTooManyRows = errors.New("file has too many rows")
)

const (
	// DefaultMaxFieldBytes is the field cap when CSVOptions.MaxFieldBytes is 0.
	DefaultMaxFieldBytes = 1 << 20
	// DefaultMaxColumns is the header column cap when CSVOptions.MaxColumns is 0. Real exports
	// of CRMs stay well below it; every column costs memory in every row of every batch.
	DefaultMaxColumns = 2000

	// sniffBytes is how much of the start of the file is checked for binary content and used
	// to sniff the delimiter.
	sniffBytes = 64 << 10
	// sniffRecords is how many non-blank records the delimiter sniffer looks at.
	sniffRecords = 50
	// bufSize is the size of the read buffer.
	bufSize = 256 << 10
	// extraCellCap is how many cells beyond the header's width a data record keeps; further
	// cells are only counted (and checked for being blank), so a line of a million delimiters
	// cannot exhaust memory.
	extraCellCap = 256
	// minRecordBytes is the least total size of a record before it is malformed; the cap is
	// the larger of this and 16 fields' worth.
	minRecordBytes = 16 << 20
	// minRecordAlloc is the least capacity the record buffer grows to.
	minRecordAlloc = 4 << 10
	// retainBytes is the most capacity a record buffer keeps from one record to the next; a
	// larger one, grown for a huge record, is given back to the garbage collector.
	retainBytes = 4 << 20
	// arenaCells is how many cells Next allocates at a time.
	arenaCells = 1024
)

// CSVOptions tune OpenCSV.
type CSVOptions struct {
	// MaxFieldBytes caps the size of one field (after unquoting, before any Windows-1252
	// decoding); a longer field makes its record malformed. 0 means DefaultMaxFieldBytes.
	MaxFieldBytes int
	// StartOffset resumes a read: after reading the header, OpenCSV skips the decoded input up
	// to this byte offset, which must be a Record.Offset or Batch.Offset from an earlier read
	// of the same file. 0 means read from just after the header.
	StartOffset int64
	// StartRow is the row number of the last record before StartOffset (Batch.LastRow); the
	// next record read is numbered from it. Ignored when StartOffset is 0.
	StartRow int
	// MaxColumns caps the header's width (trailing empty header cells do not count); a wider
	// header fails OpenCSV with ErrTooManyColumns. 0 means DefaultMaxColumns.
	MaxColumns int
	// MaxRows caps the data records read (non-blank ones, malformed ones included): reading
	// the one after the last allowed fails with ErrTooManyRows. 0 means no limit. A resumed
	// read (StartOffset) counts from its start; the records before it were counted by the
	// read that made the checkpoint.
	MaxRows int
}

// Record is one non-blank data record.
type Record struct {
	// Row is the spreadsheet row number a user sees. The header is HeaderRow(); each record
	// after it, blank ones included, counts one, however many lines its quoted fields span.
	Row int
	// Cells are the raw cell texts, untrimmed. Extra empty cells past the header's width are
	// dropped, so len(Cells) <= len(Header()) unless the record is malformed.
	Cells []string
	// Malformed, when not empty, says for a person why the record cannot be imported; the
	// importer skips it with reason malformed_row.
	Malformed string
	// Offset is the byte offset in the decoded input just after this record (see the package
	// documentation); a checkpoint.
	Offset int64
}

// CSV reads a delimited text file record by record. It is not safe for concurrent use.
type CSV struct {
	src  io.Reader
	buf  []byte
	r, w int   // unread bytes are buf[r:w]
	base int64 // decoded offset of buf[0]
	err  error // sticky error from src; io.EOF at the end

	delim    byte
	enc      string
	unq      [256]bool // bytes that end a run of an unquoted field
	qtd      [256]bool // bytes that end a run of a quoted field
	maxField int
	maxRec   int
	maxRows  int

	header    []string
	headerRow int
	width     int // len(header), once the header is read; -1 before

	row   int   // row number of the last record read
	off   int64 // offset just after the last record read
	nrows int   // non-blank data records read (only counted with a row limit)
	fail  error // sticky ErrTooManyRows

	// The record being read: its fields are rec[ends[i-1]:ends[i]].
	rec          []byte
	ends         []int
	tmp          []byte // scratch for Windows-1252 decoding
	tmpEnds      []int
	ncells       int  // cells seen, kept or not
	cellCap      int  // cells kept at most
	fstart       int  // start of the current field in rec
	discard      bool // bytes of the current field are not kept
	dropRest     bool // bytes of the rest of the record are not kept
	dirty        bool // a discarded part of the current field was not whitespace
	lastNonBlank int  // 1-based index of the last non-blank cell that was not kept
	quoted       bool // the record had a quoted field
	why          string
	blank        bool // set by finish
	nkeep        int  // set by finish: cells to return

	arena []string // Next's cells are slices of this
}

// OpenCSV checks that r holds text, sniffs its encoding and delimiter, and reads the header.
// With opts.StartOffset set it then skips to that offset.
func OpenCSV(r io.Reader, opts CSVOptions) (*CSV, error) {
	c := &CSV{
		src:      r,
		buf:      make([]byte, bufSize),
		enc:      "utf-8",
		maxField: opts.MaxFieldBytes,
		maxRows:  max(opts.MaxRows, 0),
		width:    -1,
		cellCap:  opts.MaxColumns,
	}
	if c.maxField <= 0 {
		c.maxField = DefaultMaxFieldBytes
	}
	if c.cellCap <= 0 {
		c.cellCap = DefaultMaxColumns
	}
	c.maxRec = max(minRecordBytes, 16*c.maxField)

	// Byte-order mark.
	for c.w < 3 && c.fill() {
	}
	if err := c.readErr(); err != nil {
		return nil, err
	}
	head := c.buf[c.r:c.w]
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		c.r += 3
		c.base = -3 // offsets count from after the BOM
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		c.decodeUTF16(unicode.LittleEndian, "utf-16le")
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		c.decodeUTF16(unicode.BigEndian, "utf-16be")
	}

	// Binary check and delimiter sniffing on the start of the decoded stream.
	for c.w-c.r < sniffBytes && c.fill() {
	}
	if err := c.readErr(); err != nil {
		return nil, err
	}
	sample := c.buf[c.r:c.w]
	atEOF := c.err != nil
	if len(sample) > sniffBytes {
		sample, atEOF = sample[:sniffBytes], false
	}
	if err := checkText(sample, atEOF); err != nil {
		return nil, err
	}
	c.setDelimiter(sniffDelimiter(sample, atEOF))

	if err := c.readHeader(); err != nil {
		return nil, err
	}
	if opts.StartOffset > 0 {
		if err := c.skipTo(opts.StartOffset, opts.StartRow); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// decodeUTF16 replaces the source with a UTF-16 decoder over the bytes not read yet (which
// start with the byte-order mark; the decoder drops it).
func (c *CSV) decodeUTF16(order unicode.Endianness, name string) {
	pending := append([]byte(nil), c.buf[c.r:c.w]...)
	dec := unicode.UTF16(order, unicode.ExpectBOM).NewDecoder()
	c.src = transform.NewReader(io.MultiReader(bytes.NewReader(pending), c.src), dec)
	c.r, c.w, c.base, c.err = 0, 0, 0, nil
	c.enc = name
}

func (c *CSV) setDelimiter(d byte) {
	c.delim = d
	c.unq = [256]bool{}
	c.unq[d], c.unq['\n'], c.unq['\r'], c.unq[0] = true, true, true, true
	c.qtd = [256]bool{}
	c.qtd['"'], c.qtd[0] = true, true
}

// readHeader reads up to the first non-blank record and makes it the header.
func (c *CSV) readHeader() error {
	onlySpace := true
	for {
		ok, err := c.advance()
		if err != nil {
			return err
		}
		if !ok {
			switch {
			case c.row == 0:
				return fmt.Errorf("%w: 0 bytes", ErrEmpty)
			case onlySpace:
				return fmt.Errorf("%w: only whitespace (%d bytes)", ErrEmpty, c.off)
			case c.row == 1:
				return fmt.Errorf("%w: its only row is blank", ErrNoHeader)
			default:
				return fmt.Errorf("%w: all %d rows are blank", ErrNoHeader, c.row)
			}
		}
		if !c.blank {
			break
		}
		if c.ncells > 1 || c.quoted {
			onlySpace = false
		}
	}
	if c.why != "" {
		return fmt.Errorf("%w: row %d, the first non-blank row, cannot be read as a header: %s",
			ErrNoHeader, c.row, c.why)
	}
	if c.lastNonBlank > 0 {
		return fmt.Errorf("%w: the header (row %d) has %d columns; the limit is %d",
			ErrTooManyColumns, c.row, c.lastNonBlank, c.cellCap)
	}
	hdr := c.cells(nil)
	for i, h := range hdr {
		hdr[i] = strings.TrimSpace(h)
	}
	for len(hdr) > 0 && hdr[len(hdr)-1] == "" {
		hdr = hdr[:len(hdr)-1]
	}
	c.header, c.headerRow, c.width = hdr, c.row, len(hdr)
	c.cellCap = c.width + extraCellCap
	return nil
}

// skipTo discards the decoded input up to offset and numbers the next record after row.
func (c *CSV) skipTo(offset int64, row int) error {
	if offset < c.off {
		return fmt.Errorf("read csv: resume offset %d is inside the header, which ends at offset %d", offset, c.off)
	}
	if row < c.headerRow {
		return fmt.Errorf("read csv: resume row %d is before the header row %d", row, c.headerRow)
	}
	for {
		pos := c.base + int64(c.r)
		if n := offset - pos; n <= int64(c.w-c.r) {
			c.r += int(n)
			break
		}
		c.r = c.w
		if !c.fill() {
			if err := c.readErr(); err != nil {
				return err
			}
			return fmt.Errorf("read csv: resume offset %d is past the end of the input (%d bytes)",
				offset, c.base+int64(c.w))
		}
	}
	c.row, c.off = row, offset
	return nil
}

// Header returns the header cells, trimmed, without trailing empty ones.
func (c *CSV) Header() []string { return c.header }

// HeaderRow returns the spreadsheet row number of the header: 1 unless blank rows precede it.
func (c *CSV) HeaderRow() int { return c.headerRow }

// Delimiter returns the sniffed delimiter: ',', '\t', ';' or '|'.
func (c *CSV) Delimiter() rune { return rune(c.delim) }

// Encoding returns "utf-8", "utf-16le" or "utf-16be"; informational. A "utf-8" file may still
// have fields decoded as Windows-1252.
func (c *CSV) Encoding() string { return c.enc }

// Next returns the next non-blank data record, or io.EOF after the last one. Any other error
// is a read error of the underlying reader.
func (c *CSV) Next() (Record, error) {
	for {
		ok, err := c.advance()
		if err != nil {
			return Record{}, err
		}
		if !ok {
			return Record{}, io.EOF
		}
		if c.blank {
			continue
		}
		// Cells are carved out of a shared chunk: one allocation for many records.
		if cap(c.arena)-len(c.arena) < c.nkeep {
			c.arena = make([]string, 0, max(c.nkeep, arenaCells))
		}
		start := len(c.arena)
		c.arena = c.cells(c.arena)
		return Record{
			Row:       c.row,
			Cells:     c.arena[start:len(c.arena):len(c.arena)],
			Malformed: c.why,
			Offset:    c.off,
		}, nil
	}
}

// CountRows reads the rest of the input and returns how many non-blank data records it holds,
// malformed ones included. It does not build the records' cells. After it, Next returns io.EOF.
func (c *CSV) CountRows() (int, error) {
	n := 0
	for {
		if c.fail == nil && c.skipPlainRecord() {
			if err := c.countDataRow(); err != nil {
				return n, err
			}
			n++
			continue
		}
		ok, err := c.advance()
		if err != nil {
			return n, err
		}
		if !ok {
			return n, nil
		}
		if !c.blank {
			n++
		}
	}
}

// advance reads and checks the next record, blank or not. It returns false at the end of the
// input, and an error if the underlying reader fails.
func (c *CSV) advance() (bool, error) {
	if c.fail != nil {
		return false, c.fail
	}
	ok := c.readRecord()
	if err := c.readErr(); err != nil {
		return false, err
	}
	if !ok {
		return false, nil
	}
	c.finish()
	if !c.blank {
		if err := c.countDataRow(); err != nil {
			return false, err
		}
	}
	return true, nil
}

// countDataRow counts the non-blank record just read against the row cap, and fails the read
// once it is passed.
func (c *CSV) countDataRow() error {
	if c.maxRows > 0 && c.width >= 0 {
		if c.nrows++; c.nrows > c.maxRows {
			c.fail = fmt.Errorf("%w: more than the limit of %d data rows (row %d is data row %d)",
				ErrTooManyRows, c.maxRows, c.row, c.nrows)
			return c.fail
		}
	}
	return nil
}

// skipPlainRecord passes over the next record without reading its cells, when that cannot
// change what CountRows counts: the buffer holds the whole record up to its LF, it starts with
// a printable ASCII byte other than the delimiter and the quote (so it is not blank, whatever
// its cells), and it holds no quote and no CR but that of a CRLF ending (so it ends at that
// LF). It reports whether it did. Three searches of the line for one byte each cost a tenth
// of what reading its cells does.
func (c *CSV) skipPlainRecord() bool {
	buf := c.buf[c.r:c.w]
	if len(buf) == 0 || buf[0] <= ' ' || buf[0] >= utf8.RuneSelf || buf[0] == c.delim || buf[0] == '"' {
		return false
	}
	end := bytes.IndexByte(buf, '\n')
	if end < 0 {
		return false
	}
	line := buf[:end]
	if bytes.IndexByte(line, '"') >= 0 {
		return false
	}
	if cr := bytes.IndexByte(line, '\r'); cr >= 0 && cr != end-1 {
		return false
	}
	c.r += end + 1
	c.row++
	c.off = c.base + int64(c.r)
	c.blank = false
	return true
}

// readErr returns the underlying reader's error, if it is not the end of the input.
func (c *CSV) readErr() error {
	if c.err == nil || c.err == io.EOF {
		return nil
	}
	return fmt.Errorf("read csv: %w", c.err)
}

// cells appends the kept cells of the current record to dst, as substrings of one string.
func (c *CSV) cells(dst []string) []string {
	if c.nkeep == 0 {
		return dst
	}
	s := string(c.rec[:c.ends[c.nkeep-1]])
	start := 0
	for _, e := range c.ends[:c.nkeep] {
		dst = append(dst, s[start:e])
		start = e
	}
	return dst
}

// fill reads more input into the buffer, first moving the unread bytes to its front. It
// reports whether it added any bytes.
func (c *CSV) fill() bool {
	if c.err != nil {
		return false
	}
	if c.r > 0 {
		n := copy(c.buf, c.buf[c.r:c.w])
		c.base += int64(c.r)
		c.r, c.w = 0, n
	}
	if c.w == len(c.buf) {
		return false // cannot happen: callers fill only with less than a sample unread
	}
	for range 100 {
		n, err := c.src.Read(c.buf[c.w:])
		c.w += n
		if err != nil {
			c.err = err
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
	c.err = io.ErrNoProgress
	return false
}

// peekByte returns the next unread byte without consuming it.
func (c *CSV) peekByte() (byte, bool) {
	if c.r >= c.w && !c.fill() {
		return 0, false
	}
	return c.buf[c.r], true
}

var quoteByte = []byte{'"'}

// Word-at-a-time byte search: hasZero(x) has the high bit set in the lowest zero byte of x
// (and maybe in higher ones), so x^(lsb*b) finds the first byte b.
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
	qm  = lsb * '"'
)

func hasZero(x uint64) uint64 { return (x - lsb) &^ x & msb }

// hasLess is like hasZero for the bytes of x below n (n <= 128).
func hasLess(x uint64, n byte) uint64 { return (x - lsb*uint64(n)) &^ x & msb }

// readRecord reads the next record into rec and ends, and leaves the reader just after its
// line break. It returns false when no input is left.
func (c *CSV) readRecord() bool {
	if cap(c.rec) > retainBytes || cap(c.tmp) > retainBytes {
		c.rec, c.tmp = nil, nil
	}
	c.rec = c.rec[:0]
	c.ends = c.ends[:0]
	c.ncells, c.fstart, c.lastNonBlank = 0, 0, 0
	c.discard, c.dropRest, c.dirty, c.quoted = false, false, false, false
	c.why = ""
	if c.r >= c.w && !c.fill() {
		return false
	}
	unq := &c.unq
	dm := lsb * uint64(c.delim)
fields:
	for {
		// At the start of a field.
		if c.r >= c.w && !c.fill() {
			c.endField() // the input ends just after a delimiter
			return true
		}
		if c.buf[c.r] == '"' {
			c.r++
			c.quoted = true
			if !c.readQuoted() {
				if c.err == io.EOF {
					c.why = fmt.Sprintf("unterminated quote: the quoted field in column %d of row %d is never closed, so it runs to the end of the file",
						c.ncells+1, c.row+1)
				}
				c.endField()
				return true
			}
		}
		// The unquoted field, or the rest of a quoted one after its closing quote.
		for {
			buf := c.buf[c.r:c.w]
			i := 0
			// Eight bytes at a time: stop at the first delimiter or byte below 0x0E (which
			// covers NUL, LF and CR); go on if that byte is not special after all.
			for i+8 <= len(buf) {
				x := binary.LittleEndian.Uint64(buf[i:])
				m := hasZero(x^dm) | hasLess(x, 0x0E)
				if m == 0 {
					i += 8
					continue
				}
				i += bits.TrailingZeros64(m) >> 3
				if unq[buf[i]] {
					goto found
				}
				i++
			}
			for i < len(buf) && !unq[buf[i]] {
				i++
			}
		found:
			if i > 0 {
				// cap(c.rec) <= c.maxRec always: see keep.
				if p := buf[:i]; !c.discard && len(c.rec)-c.fstart+i <= c.maxField && len(c.rec)+i <= cap(c.rec) {
					c.rec = append(c.rec, p...)
				} else {
					c.keep(p)
				}
			}
			c.r += i
			if i == len(buf) {
				if !c.fill() {
					c.endField()
					return true
				}
				continue
			}
			c.r++
			switch buf[i] {
			case 0:
				continue
			case '\n':
				c.endField()
				return true
			case '\r':
				if b, ok := c.peekByte(); ok && b == '\n' {
					c.r++
				}
				c.endField()
				return true
			default: // the delimiter
				c.endField()
				continue fields
			}
		}
	}
}

// readQuoted reads a quoted field's content, after its opening quote, up to and including its
// closing quote. It returns false if the input ends first.
func (c *CSV) readQuoted() bool {
	qtd := &c.qtd
	for {
		buf := c.buf[c.r:c.w]
		i := 0
		for ; i+8 <= len(buf); i += 8 {
			x := binary.LittleEndian.Uint64(buf[i:])
			if m := hasZero(x^qm) | hasZero(x); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				goto found
			}
		}
		for i < len(buf) && !qtd[buf[i]] {
			i++
		}
	found:
		if i > 0 {
			c.keep(buf[:i])
		}
		c.r += i
		if i == len(buf) {
			if !c.fill() {
				return false
			}
			continue
		}
		c.r++
		if buf[i] == 0 {
			continue
		}
		if b, ok := c.peekByte(); ok && b == '"' { // a doubled quote
			c.r++
			c.keep(quoteByte)
			continue
		}
		return true
	}
}

// keep appends bytes of the current field to the record, unless the field or record is over
// its cap or the field is not kept. It grows the record buffer, never past the record cap.
func (c *CSV) keep(p []byte) {
	if c.discard {
		if !c.dirty && !asciiSpace(p) {
			c.dirty = true
		}
		return
	}
	if len(c.rec)-c.fstart+len(p) > c.maxField {
		if c.why == "" {
			c.why = fmt.Sprintf("cell in column %d is longer than %d bytes", c.ncells+1, c.maxField)
		}
		c.rec = c.rec[:c.fstart]
		c.discard, c.dirty = true, true
		return
	}
	if len(c.rec)+len(p) > c.maxRec {
		c.dropRecord(fmt.Sprintf("row is longer than %d bytes", c.maxRec))
		c.discard, c.dirty, c.dropRest = true, true, true
		return
	}
	if need := len(c.rec) + len(p); need > cap(c.rec) {
		rec := make([]byte, len(c.rec), min(max(2*cap(c.rec), need, minRecordAlloc), c.maxRec))
		copy(rec, c.rec)
		c.rec = rec
	}
	c.rec = append(c.rec, p...)
}

// dropRecord makes the current record malformed (unless it already is) and drops all its
// bytes: every cell kept so far reads as "".
func (c *CSV) dropRecord(why string) {
	if c.why == "" {
		c.why = why
	}
	c.rec = c.rec[:0]
	clear(c.ends)
	c.fstart = 0
}

// endField ends the current field.
func (c *CSV) endField() {
	if c.ncells < c.cellCap {
		c.ends = append(c.ends, len(c.rec))
	} else if c.dirty {
		c.lastNonBlank = c.ncells + 1
	}
	c.ncells++
	c.fstart = len(c.rec)
	c.dirty = false
	c.discard = c.dropRest || c.ncells >= c.cellCap
}

// finish completes the record just read: numbering, encoding, blankness and cell count.
func (c *CSV) finish() {
	c.row++
	c.off = c.base + int64(c.r)
	if !utf8.Valid(c.rec) || c.splitRune() {
		c.fixEncoding()
	}
	c.nkeep = len(c.ends)
	c.blank = c.why == "" && c.lastNonBlank == 0 && len(bytes.TrimSpace(c.rec)) == 0
	if c.blank || c.width < 0 {
		return
	}
	n := len(c.ends)
	for n > c.width && c.fieldBlank(n-1) {
		n--
	}
	c.nkeep = n
	if c.why == "" {
		if count := max(n, c.lastNonBlank); count > c.width {
			c.why = fmt.Sprintf("row has %d cells but the header has %d", count, c.width)
		}
	}
}

func (c *CSV) fieldBlank(i int) bool {
	start := 0
	if i > 0 {
		start = c.ends[i-1]
	}
	return len(bytes.TrimSpace(c.rec[start:c.ends[i]])) == 0
}

// fixEncoding decodes each kept field that is not valid UTF-8 as Windows-1252. A record that
// would be longer than the record cap once decoded is dropped (malformed) instead.
func (c *CSV) fixEncoding() {
	start, bad, n := 0, false, 0
	for _, e := range c.ends {
		if f := c.rec[start:e]; utf8.Valid(f) {
			n += len(f)
		} else {
			bad = true
			for _, b := range f {
				n += int(cp1252Len[b])
			}
		}
		start = e
	}
	if !bad {
		return
	}
	if n > c.maxRec {
		c.dropRecord(fmt.Sprintf("row is longer than %d bytes once decoded from Windows-1252", c.maxRec))
		return
	}
	out, ends := c.tmp[:0], c.tmpEnds[:0]
	if cap(out) < n {
		out = make([]byte, 0, n)
	}
	start = 0
	for _, e := range c.ends {
		f := c.rec[start:e]
		if utf8.Valid(f) {
			out = append(out, f...)
		} else {
			for _, b := range f {
				if b < utf8.RuneSelf {
					out = append(out, b)
				} else {
					out = utf8.AppendRune(out, charmap.Windows1252.DecodeByte(b))
				}
			}
		}
		ends = append(ends, len(out))
		start = e
	}
	c.tmp, c.rec = c.rec, out
	c.tmpEnds, c.ends = c.ends, ends
}

// cp1252Len is the length in UTF-8 of each byte decoded as Windows-1252.
var cp1252Len = func() (t [256]uint8) {
	for b := range t {
		t[b] = uint8(utf8.RuneLen(charmap.Windows1252.DecodeByte(byte(b))))
	}
	return t
}()

// splitRune reports whether a field boundary of a valid UTF-8 record falls inside a rune, in
// which case the fields themselves are not valid.
func (c *CSV) splitRune() bool {
	for _, e := range c.ends {
		if e < len(c.rec) && !utf8.RuneStart(c.rec[e]) {
			return true
		}
	}
	return false
}

// asciiSpace reports whether p is all ASCII whitespace.
func asciiSpace(p []byte) bool {
	for _, b := range p {
		switch b {
		case ' ', '\t', '\n', '\r', '\v', '\f':
		default:
			return false
		}
	}
	return true
}
