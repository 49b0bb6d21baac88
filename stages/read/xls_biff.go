package read

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// A BIFF8 workbook stream ([MS-XLS]) is a sequence of records, each a 2-byte type, a 2-byte
// length and that many bytes. It opens with the workbook globals (sheet list, shared strings,
// number formats, cell formats) up to an EOF record; each worksheet is a substream of its own
// from a BOF record to an EOF record, at an offset the globals give. A record longer than 8224
// bytes goes on in CONTINUE records.

// Record types.
const (
	recFormula    = 0x0006
	recFormula4   = 0x0406 // the BIFF4 FORMULA record, laid out as BIFF8's; some writers still use it
	recEOF        = 0x000A
	recDateMode   = 0x0022
	recFilePass   = 0x002F
	recContinue   = 0x003C
	recBoundSheet = 0x0085
	recMulRK      = 0x00BD
	recRString    = 0x00D6
	recXF         = 0x00E0
	recSST        = 0x00FC
	recLabelSST   = 0x00FD
	recNumber     = 0x0203
	recLabel      = 0x0204
	recBoolErr    = 0x0205
	recString     = 0x0207
	recArray      = 0x0221
	recTable      = 0x0236
	recRK         = 0x027E
	recFormat     = 0x041E
	recShrFmla    = 0x04BC
	recBOF        = 0x0809
)

// BOF record substream types and versions.
const (
	bofBIFF8     = 0x0600
	bofBIFF5     = 0x0500
	bofGlobals   = 0x0005
	bofWorksheet = 0x0010
)

// xlsMaxCols is the number of columns of a BIFF8 sheet (A to IV). A cell past it is corrupt; not
// keeping it also bounds what one small record can make a row cost.
const xlsMaxCols = 256

var le = binary.LittleEndian

// xlsBook is a workbook's stream and what its globals say.
type xlsBook struct {
	r        io.ReaderAt
	size     int64
	sheets   []xlsSheetInfo // worksheets only, in workbook order
	sst      []string
	xfFmt    []cellFormat // the number format of each cell format (XF)
	date1904 bool
	legacy   *legacyBIFF    // a BIFF3 or BIFF4 worksheet file (xls_legacy.go); nil for BIFF8
	dec      *biffDecryptor // of an encrypted workbook (see crypt_xls.go), else nil
}

type xlsSheetInfo struct {
	name   string
	pos    int64 // offset of its BOF record in the stream
	hidden uint8 // 0 visible, 1 hidden, 2 very hidden
}

// recReader reads a stream's records one after the other through a buffer.
type recReader struct {
	r    io.ReaderAt
	size int64
	buf  []byte
	base int64 // stream offset of buf[0]
	n    int   // valid bytes in buf
	pos  int64 // offset of the next record

	overrun bool // a record's length ran past the end of the stream

	dec   *biffDecryptor // decrypts the records of an encrypted stream, when set
	plain []byte         // the body of the last record, decrypted
}

func newRecReader(r io.ReaderAt, size, pos int64, dec *biffDecryptor) *recReader {
	return &recReader{r: r, size: size, buf: make([]byte, 128<<10), pos: pos, dec: dec}
}

// next returns the next record; body is valid until the following call. It returns io.EOF at
// the end of the stream.
func (rr *recReader) next() (id uint16, body []byte, off int64, err error) {
	off = rr.pos
	if off >= rr.size {
		return 0, nil, off, io.EOF
	}
	h, err := rr.bytes(off, 4)
	if err != nil {
		return 0, nil, off, err
	}
	id, n := le.Uint16(h), int(le.Uint16(h[2:]))
	if body, err = rr.bytes(off+4, n); err != nil {
		return 0, nil, off, err
	}
	rr.pos = off + 4 + int64(n)
	if rr.dec != nil { // decrypted in a copy: the buffer may be read again
		rr.plain = append(rr.plain[:0], body...)
		body = rr.plain
		rr.dec.record(id, off, body)
	}
	return id, body, off, nil
}

// bytes returns the n bytes at stream offset off, reading them into the buffer if they are not.
// The buffer is filled as far as the stream can be read; only missing bytes that are needed are
// an error.
func (rr *recReader) bytes(off int64, n int) ([]byte, error) {
	if off+int64(n) > rr.size {
		rr.overrun = true
		return nil, xlsMalformed("the workbook stream ends inside the record at offset %d (the file may be truncated)", rr.pos)
	}
	if off < rr.base || off+int64(n) > rr.base+int64(rr.n) {
		k := int(min(int64(len(rr.buf)), rr.size-off))
		m, err := rr.r.ReadAt(rr.buf[:k], off)
		rr.base, rr.n = off, m
		if m < n {
			rr.n = 0
			if err == nil || errors.Is(err, io.EOF) {
				err = xlsMalformed("the workbook stream is shorter than its directory entry says")
			}
			return nil, err
		}
	}
	return rr.buf[off-rr.base : off-rr.base+int64(n)], nil
}

// recordAt reads the record at stream offset off into a new buffer, decrypted.
func (b *xlsBook) recordAt(off int64) (id uint16, body []byte, err error) {
	id, body, err = readRecordAt(b.r, b.size, off)
	if err == nil && b.dec != nil {
		b.dec.record(id, off, body)
	}
	return id, body, err
}

// readRecordAt reads the record at stream offset off into a new buffer.
func readRecordAt(r io.ReaderAt, size, off int64) (id uint16, body []byte, err error) {
	if off < 0 || off+4 > size {
		return 0, nil, xlsMalformed("a record at offset %d is past the end of the workbook stream", off)
	}
	var h [4]byte
	if _, err := r.ReadAt(h[:], off); err != nil {
		return 0, nil, err
	}
	n := int64(le.Uint16(h[2:]))
	if off+4+n > size {
		return 0, nil, xlsMalformed("the workbook stream ends inside the record at offset %d", off)
	}
	body = make([]byte, n)
	if _, err := r.ReadAt(body, off+4); err != nil && !(errors.Is(err, io.EOF) && n == 0) {
		return 0, nil, err
	}
	return le.Uint16(h[:]), body, nil
}

// segReader reads a structure spread over a record and its CONTINUE records (segments).
type segReader struct {
	segs [][]byte
	i, p int
}

// more reports whether any byte is left.
func (s *segReader) more() bool {
	for ; s.i < len(s.segs); s.i, s.p = s.i+1, 0 {
		if s.p < len(s.segs[s.i]) {
			return true
		}
	}
	return false
}

func (s *segReader) u8() (byte, bool) {
	if !s.more() {
		return 0, false
	}
	b := s.segs[s.i][s.p]
	s.p++
	return b, true
}

func (s *segReader) u16() (uint16, bool) {
	lo, ok1 := s.u8()
	hi, ok2 := s.u8()
	return uint16(lo) | uint16(hi)<<8, ok1 && ok2
}

func (s *segReader) u32() (uint32, bool) {
	lo, ok1 := s.u16()
	hi, ok2 := s.u16()
	return uint32(lo) | uint32(hi)<<16, ok1 && ok2
}

// skip skips n bytes, across segments.
func (s *segReader) skip(n int64) bool {
	for n > 0 {
		if !s.more() {
			return false
		}
		k := min(n, int64(len(s.segs[s.i])-s.p))
		s.p += int(k)
		n -= k
	}
	return true
}

// chars appends cch characters, 16-bit ones when high, to u. Characters cut by the end of a
// segment go on in the next one after a new option byte, which says again whether they are
// 16-bit ([MS-XLS] 2.5.293).
func (s *segReader) chars(u []uint16, cch int, high bool) ([]uint16, bool) {
	for cch > 0 {
		if s.i >= len(s.segs) {
			return u, false
		}
		seg := s.segs[s.i]
		if s.p >= len(seg) {
			s.i, s.p = s.i+1, 0
			if s.i >= len(s.segs) || len(s.segs[s.i]) == 0 {
				return u, false
			}
			high, s.p = s.segs[s.i][0]&1 != 0, 1
			continue
		}
		if high {
			k := min(cch, (len(seg)-s.p)/2)
			if k == 0 {
				return u, false // half a character
			}
			for j := range k {
				u = append(u, le.Uint16(seg[s.p+2*j:]))
			}
			s.p += 2 * k
			cch -= k
		} else {
			k := min(cch, len(seg)-s.p)
			for _, b := range seg[s.p : s.p+k] {
				u = append(u, uint16(b))
			}
			s.p += k
			cch -= k
		}
	}
	return u, true
}

// unicodeString reads an XLUnicodeString (a 2-byte count, or a 1-byte one when short) or an
// XLUnicodeRichExtendedString: count, option byte, formatting-run count and phonetic size when
// the options say so, characters, then the runs and the phonetic data, which are skipped.
func (s *segReader) unicodeString(u []uint16, short bool) ([]uint16, bool) {
	var cch int
	if short {
		b, ok := s.u8()
		if !ok {
			return u, false
		}
		cch = int(b)
	} else {
		n, ok := s.u16()
		if !ok {
			return u, false
		}
		cch = int(n)
	}
	opt, ok := s.u8()
	if !ok {
		return u, false
	}
	var runs, ext int64
	if opt&0x08 != 0 {
		n, ok := s.u16()
		if !ok {
			return u, false
		}
		runs = int64(n)
	}
	if opt&0x04 != 0 {
		n, ok := s.u32()
		if !ok {
			return u, false
		}
		ext = int64(n)
	}
	if u, ok = s.chars(u, cch, opt&0x01 != 0); !ok {
		return u, false
	}
	return u, s.skip(4*runs + ext)
}

// utf16String converts UTF-16 code units (unpaired surrogates become U+FFFD) to a string without
// NUL bytes.
func utf16String(u []uint16) string {
	ascii := true
	for _, c := range u {
		if c == 0 || c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		b := make([]byte, len(u))
		for i, c := range u {
			b[i] = byte(c)
		}
		return string(b)
	}
	b := make([]byte, 0, len(u)+len(u)/2)
	for i := 0; i < len(u); i++ {
		r := rune(u[i])
		if utf16.IsSurrogate(r) {
			if i+1 < len(u) {
				if d := utf16.DecodeRune(r, rune(u[i+1])); d != utf8.RuneError {
					r = d
					i++
				} else {
					r = utf8.RuneError
				}
			} else {
				r = utf8.RuneError
			}
		}
		if r != 0 {
			b = utf8.AppendRune(b, r)
		}
	}
	return string(b)
}

// readGlobals reads the workbook globals at the start of the stream.
func readGlobals(r io.ReaderAt, size int64) (*xlsBook, error) {
	b := &xlsBook{r: r, size: size}
	rr := newRecReader(r, size, 0, nil)
	id, body, _, err := rr.next()
	if err != nil && !errors.Is(err, io.EOF) && !rr.overrun {
		return nil, err
	}
	if err != nil || id != recBOF || len(body) < 4 {
		return nil, xlsNotValid("its Workbook stream does not start with a BOF record")
	}
	switch v := le.Uint16(body); v {
	case bofBIFF8:
	case bofBIFF5:
		return nil, &xlsErr{msg: "the XLS workbook is in the Excel 5.0/95 format (BIFF5), which is not read; save it as .xlsx or CSV"}
	default:
		return nil, xlsNotValid("unknown BIFF version %#04x", v)
	}
	if dt := le.Uint16(body[2:]); dt != bofGlobals {
		return nil, xlsNotValid("its Workbook stream does not start with the workbook globals (substream type %#04x)", dt)
	}

	formats := map[uint16]string{}
	var xfFmt []uint16
	var u []uint16
	var held bool // id and body hold a record read ahead
	for {
		if !held {
			if id, body, _, err = rr.next(); err != nil {
				if errors.Is(err, io.EOF) {
					return nil, xlsMalformed("the workbook globals have no EOF record (the file may be truncated)")
				}
				return nil, err
			}
		}
		held = false
		switch id {
		case recEOF:
			b.setCellFormats(formats, xfFmt)
			return b, nil
		case recFilePass:
			if b.dec != nil {
				return nil, xlsMalformed("it has two FILEPASS records")
			}
			if b.dec, err = newBiffDecryptor(body); err != nil {
				return nil, err
			}
			rr.dec = b.dec
		case recBoundSheet:
			if len(body) < 8 {
				return nil, xlsMalformed("a sheet record (BOUNDSHEET) is cut short")
			}
			s := segReader{segs: [][]byte{body[6:]}}
			if u, ok := s.unicodeString(u[:0], true); !ok {
				return nil, xlsMalformed("the name of sheet %d is cut short", len(b.sheets)+1)
			} else if body[5] == 0 { // a worksheet, not a chart, macro or VBA sheet
				b.sheets = append(b.sheets, xlsSheetInfo{
					name:   utf16String(u),
					pos:    int64(le.Uint32(body)),
					hidden: body[4] & 3,
				})
			}
		case recSST:
			segs := [][]byte{slices.Clone(body)}
			for {
				if id, body, _, err = rr.next(); err != nil {
					if errors.Is(err, io.EOF) {
						break // the loop's next read reports the missing EOF record
					}
					return nil, err
				}
				if id != recContinue {
					held = true
					break
				}
				segs = append(segs, slices.Clone(body))
			}
			if b.sst, err = parseSST(segs); err != nil {
				return nil, err
			}
		case recFormat:
			if len(body) >= 2 {
				s := segReader{segs: [][]byte{body[2:]}}
				if u, ok := s.unicodeString(u[:0], false); ok {
					formats[le.Uint16(body)] = utf16String(u)
				}
			}
		case recXF:
			var f uint16
			if len(body) >= 4 {
				f = le.Uint16(body[2:])
			}
			xfFmt = append(xfFmt, f)
		case recDateMode:
			b.date1904 = len(body) >= 2 && le.Uint16(body) == 1
		}
	}
}

// setCellFormats sets the number format of each cell format (XF), from the number format ids
// of the XFs and the codes of the formats the file defines (FORMAT records).
func (b *xlsBook) setCellFormats(formats map[uint16]string, xfFmt []uint16) {
	b.xfFmt = make([]cellFormat, len(xfFmt))
	byID := map[uint16]cellFormat{} // many XFs share a format: each is parsed once
	for i, id := range xfFmt {
		f, ok := byID[id]
		if !ok {
			code, defined := formats[id]
			f = newCellFormat(int(id), code, defined)
			byID[id] = f
		}
		b.xfFmt[i] = f
	}
}

// parseSST reads the shared-string table from the SST record and its CONTINUE records.
func parseSST(segs [][]byte) ([]string, error) {
	s := segReader{segs: segs}
	_, ok1 := s.u32() // total number of references to the strings
	n, ok2 := s.u32() // number of strings
	if !ok1 || !ok2 {
		return nil, xlsMalformed("its shared-string table (SST) is cut short")
	}
	total := 0
	for _, seg := range segs {
		total += len(seg)
	}
	out := make([]string, 0, min(int(n), total/3)) // a string takes 3 bytes at least
	var u []uint16
	for i := uint32(0); i < n; i++ {
		if !s.more() {
			break // fewer strings than announced: cells that refer to the others say so
		}
		var ok bool
		if u, ok = s.unicodeString(u[:0], false); !ok {
			return nil, xlsMalformed("its shared-string table (SST) is cut short in string %d of %d", i+1, n)
		}
		out = append(out, utf16String(u))
	}
	return out, nil
}

// sheetCursor returns the cell records of a worksheet substream in row order: in stream order
// when the rows never go back (the usual case), else through an index sorted by row.
type sheetCursor struct {
	b     *xlsBook
	rr    *recReader
	depth int // of substreams nested in the sheet (charts), whose records are not the sheet's
	refs  []cellRef
	index bool
}

type cellRef struct {
	row uint32
	off uint32 // stream offset of the record; a stream is under 4 GiB (the file is capped)
}

// isCellRecord reports whether records of type id hold cell values: the ones of the book's
// BIFF version that are decoded, and those of older BIFF versions that are not, which make their
// row malformed rather than vanish. (BLANK and MULBLANK hold no value and are skipped.)
func (b *xlsBook) isCellRecord(id uint16) bool {
	if b.legacy != nil && id == recFormula3 {
		return true
	}
	switch id {
	case recLabelSST, recLabel, recRString, recNumber, recRK, recMulRK, recBoolErr, recFormula, recFormula4:
		return true
	}
	return isOldCellRecord(id)
}

// isOldCellRecord reports whether id is a cell record of BIFF2 or BIFF3 that BIFF8 does not
// define: BLANK, INTEGER, NUMBER, LABEL and BOOLERR of BIFF2 (0x0001 to 0x0005) and FORMULA of
// BIFF3 (0x0206). Each starts with the cell's row and column, as BIFF8 cell records do.
func isOldCellRecord(id uint16) bool {
	switch id {
	case 0x0001, 0x0002, 0x0003, 0x0004, 0x0005, 0x0206:
		return true
	}
	return false
}

// newSheetCursor checks the sheet's BOF record and its row order.
func newSheetCursor(b *xlsBook, sh xlsSheetInfo) (*sheetCursor, error) {
	if sh.pos < 0 || sh.pos == 0 && b.legacy == nil || sh.pos >= b.size {
		return nil, xlsMalformed("sheet %q starts at offset %d, outside the workbook stream (%d bytes)", sh.name, sh.pos, b.size)
	}
	c := &sheetCursor{b: b, rr: newRecReader(b.r, b.size, sh.pos, b.dec)}
	id, body, _, err := c.rr.next()
	if err != nil {
		return nil, err
	}
	if !isBOF(id) || len(body) < 4 {
		return nil, xlsMalformed("sheet %q does not start with a BOF record", sh.name)
	}
	if dt := le.Uint16(body[2:]); dt != bofWorksheet {
		return nil, xlsNotValid("sheet %q is not a worksheet (substream type %#04x)", sh.name, dt)
	}
	start := c.rr.pos

	// First pass: are the rows in order?
	last := -1
	for {
		_, body, _, ok, err := c.nextSeq()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		if len(body) < 2 {
			continue
		}
		row := int(le.Uint16(body))
		if row < last {
			c.index = true
			break
		}
		last = row
	}
	c.rr.pos, c.depth = start, 0
	if !c.index {
		return c, nil
	}
	// Out of order: index the cell records by row, keeping the stream order within a row.
	for {
		_, body, off, ok, err := c.nextSeq()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		if len(body) >= 2 {
			c.refs = append(c.refs, cellRef{row: uint32(le.Uint16(body)), off: uint32(off)})
		}
	}
	slices.SortStableFunc(c.refs, func(a, b cellRef) int { return int(a.row) - int(b.row) })
	return c, nil
}

// next returns the next cell record in row order; body is valid until the following call.
func (c *sheetCursor) next() (id uint16, body []byte, off int64, ok bool, err error) {
	if !c.index {
		return c.nextSeq()
	}
	if len(c.refs) == 0 {
		return 0, nil, 0, false, nil
	}
	off = int64(c.refs[0].off)
	c.refs = c.refs[1:]
	id, body, err = c.b.recordAt(off)
	return id, body, off, err == nil, err
}

// nextSeq returns the next cell record of the sheet in stream order.
func (c *sheetCursor) nextSeq() (id uint16, body []byte, off int64, ok bool, err error) {
	for {
		id, body, off, err = c.rr.next()
		if errors.Is(err, io.EOF) {
			return 0, nil, off, false, nil // a sheet cut off without its EOF record ends there
		}
		if err != nil {
			return 0, nil, off, false, err
		}
		switch {
		case isBOF(id):
			c.depth++
		case id == recEOF:
			if c.depth == 0 {
				c.rr.pos = c.b.size // nothing after the EOF record is read
				return 0, nil, off, false, nil
			}
			c.depth--
		case c.depth == 0 && c.b.isCellRecord(id):
			return id, body, off, true, nil
		}
	}
}

// xcell is a cell decoded from a record: its value as shown and, for a number shown otherwise
// than as its plain decimal, that decimal (typed).
type xcell struct {
	col   int
	val   string
	typed string
	blank bool
}

// decode appends the cells of a cell record at offset off to dst. bad says why the record is
// corrupt, if it is.
func (b *xlsBook) decode(dst []xcell, id uint16, body []byte, off int64) (cells []xcell, bad string) {
	if len(body) < 6 {
		return dst, fmt.Sprintf("a cell record of row %d is cut short", rowOf(body))
	}
	row, col, xf := int(le.Uint16(body)), int(le.Uint16(body[2:])), le.Uint16(body[4:])
	short := func() (cells []xcell, bad string) {
		return dst, fmt.Sprintf("the record of cell %s is cut short", cellName(row, col))
	}
	text := func(s string) []xcell {
		s = strings.ReplaceAll(s, "\x00", "")
		return append(dst, xcell{col: col, val: s, blank: strings.TrimSpace(s) == ""})
	}
	if id == recFormula3 && b.legacy != nil {
		id = recFormula4 // BIFF3's FORMULA is laid out as BIFF4's; in BIFF8 it is of an older format
	}
	switch id {
	case recLabelSST:
		if len(body) < 10 {
			return short()
		}
		i := le.Uint32(body[6:])
		if uint64(i) >= uint64(len(b.sst)) {
			return dst, fmt.Sprintf("cell %s refers to shared string %d, but the workbook has %d", cellName(row, col), i, len(b.sst))
		}
		return text(b.sst[i]), ""
	case recLabel, recRString:
		if b.legacy != nil {
			s, ok := b.legacy.byteString(body[6:])
			if !ok {
				return short()
			}
			return text(s), ""
		}
		s := segReader{segs: [][]byte{body[6:]}}
		u, ok := s.unicodeString(nil, false)
		if !ok {
			return short()
		}
		return text(utf16String(u)), ""
	case recNumber:
		if len(body) < 14 {
			return short()
		}
		return append(dst, b.number(col, float64frombits(body[6:]), xf)), ""
	case recRK:
		if len(body) < 10 {
			return short()
		}
		return append(dst, b.number(col, rkValue(le.Uint32(body[6:])), xf)), ""
	case recMulRK:
		n := (len(body) - 6) / 6
		if n <= 0 {
			return short()
		}
		for i := range n {
			p := 4 + 6*i
			dst = append(dst, b.number(col+i, rkValue(le.Uint32(body[p+2:])), le.Uint16(body[p:])))
		}
		return dst, ""
	case recBoolErr:
		if len(body) < 8 {
			return short()
		}
		return append(dst, xcell{col: col, val: boolErrText(body[6], body[7] != 0)}), ""
	case recFormula, recFormula4:
		if len(body) < 14 {
			return short()
		}
		v := body[6:14]
		if v[6] != 0xFF || v[7] != 0xFF {
			return append(dst, b.number(col, float64frombits(v), xf)), ""
		}
		switch v[0] {
		case 0: // a string, in the STRING record that follows
			s, ok := b.formulaString(off + 4 + int64(len(body)))
			if !ok {
				return dst, fmt.Sprintf("the text result of the formula in cell %s is missing or cut short", cellName(row, col))
			}
			return text(s), ""
		case 1:
			return append(dst, xcell{col: col, val: boolErrText(v[2], false)}), ""
		case 2:
			return append(dst, xcell{col: col, val: boolErrText(v[2], true)}), ""
		default: // 3: an empty string
			return text(""), ""
		}
	}
	return dst, fmt.Sprintf("cell %s is in a record of type 0x%04X, of an older Excel format, which is not read; save the file as .xlsx",
		cellName(row, col), id)
}

// formulaString reads the STRING record holding a formula's text result, which follows the
// FORMULA record at stream offset off (after its shared-formula, array or table records).
func (b *xlsBook) formulaString(off int64) (string, bool) {
	for range 4 {
		id, body, err := b.recordAt(off)
		if err != nil {
			return "", false
		}
		off += 4 + int64(len(body))
		switch id {
		case recShrFmla, recArray, recTable:
			continue
		case recString:
			if b.legacy != nil {
				return b.legacy.byteString(body)
			}
			segs := [][]byte{body}
			// A long result goes on in CONTINUE records; 65535 characters take at most 17.
			for range 17 {
				id, body, err := b.recordAt(off)
				if err != nil || id != recContinue {
					break
				}
				segs = append(segs, body)
				off += 4 + int64(len(body))
			}
			s := segReader{segs: segs}
			u, ok := s.unicodeString(nil, false)
			return utf16String(u), ok
		default:
			return "", false
		}
	}
	return "", false
}

// number makes the cell in column col of number v with cell format xf (see cellFormat.show).
func (b *xlsBook) number(col int, v float64, xf uint16) xcell {
	if int(xf) >= len(b.xfFmt) {
		return xcell{col: col, val: formatNumber(v)}
	}
	val, typed := b.xfFmt[xf].show(v, b.date1904)
	return xcell{col: col, val: val, typed: typed}
}

func rowOf(body []byte) int {
	if len(body) < 2 {
		return 0
	}
	return int(le.Uint16(body)) + 1
}
