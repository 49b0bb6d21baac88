package isolate

// The child writes frames to its standard output, each a tag byte and its fields; numbers are
// uvarints and strings a uvarint length and their bytes:
//
//	'H' header:  row, format, sheet, cell count, cells
//	'B' batch:   last row, offset, row count, rows — each: number, skip reason, skip detail,
//	             its cells, then its typed cells (pipeline.Row.Typed; a count of 0 for none);
//	             cells travel as their count, their total length, each one's length, then
//	             their bytes
//	'C' count:   rows
//	'Z' the end of the rows
//	'S' sheets:  sheet count, then each sheet's name and visibility
//	'E' error:   kind (kinds[k-1], or 0 for none), message
//
// A child started to read rows sends the header first (or an error). The parent writes one
// command line to its standard input once it has the header: "count" or "rows BATCHSIZE".
// A child started to list the sheets (childConfig.Job "sheets") sends one sheets frame (or an
// error) and exits, reading no command.

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/stages/read"
)

const (
	frameHeader = 'H'
	frameBatch  = 'B'
	frameCount  = 'C'
	frameEnd    = 'Z'
	frameSheets = 'S'
	frameError  = 'E'
)

// kinds are the errors of the read package whose identity crosses the pipe: an error the
// child reports as kind k wraps kinds[k-1] in the parent.
var kinds = []error{read.ErrFormat, read.ErrEmpty, read.ErrNotText, read.ErrNoHeader, read.ErrTooManyColumns, read.ErrTooManyRows}

// Sanity limits on what the parent decodes, so that a garbled stream cannot make it allocate
// without bound. A row's cells travel as one string: 10,000 cells of 32,767 four-byte
// characters fit, and a workbook's list of up to a million sheets.
const (
	maxWireString = 1 << 31
	maxWireCells  = 1 << 20
	maxRowNumber  = 1 << 31
	maxWireSheets = 1 << 20
)

// errProtocol is a stream that does not follow the framing above.
var errProtocol = errors.New("malformed message from the spreadsheet parser")

type frameWriter struct {
	w   *bufio.Writer
	buf []byte
}

func (w *frameWriter) uint(v uint64) {
	w.buf = binary.AppendUvarint(w.buf[:0], v)
	w.w.Write(w.buf) //nolint:errcheck // bufio keeps the first error for Flush
}

func (w *frameWriter) str(s string) {
	w.uint(uint64(len(s)))
	w.w.WriteString(s) //nolint:errcheck // bufio keeps the first error for Flush
}

func (w *frameWriter) strs(ss []string) {
	w.uint(uint64(len(ss)))
	for _, s := range ss {
		w.str(s)
	}
}

func (w *frameWriter) header(r read.Reader) error {
	w.w.WriteByte(frameHeader) //nolint:errcheck // bufio keeps the first error for Flush
	w.uint(uint64(r.HeaderRow()))
	w.str(r.Format())
	sheet := ""
	if s, ok := r.(read.SheetReader); ok {
		sheet = s.Sheet()
	}
	w.str(sheet)
	w.strs(r.Header())
	return w.w.Flush()
}

func (w *frameWriter) batch(b *pipeline.Batch) error {
	w.w.WriteByte(frameBatch) //nolint:errcheck // bufio keeps the first error for Flush
	w.uint(uint64(b.LastRow))
	w.uint(uint64(b.Offset))
	w.uint(uint64(len(b.Rows)))
	for i := range b.Rows {
		r := &b.Rows[i]
		w.uint(uint64(r.Number))
		w.str(r.SkipReason)
		w.str(r.SkipDetail)
		w.cells(r.Cells)
		w.cells(r.Typed)
	}
	return w.w.Flush()
}

// cells writes a row's cells: their count, total length, each one's length, then their bytes.
func (w *frameWriter) cells(cells []string) {
	w.uint(uint64(len(cells)))
	total := 0
	for _, c := range cells {
		total += len(c)
	}
	w.uint(uint64(total))
	for _, c := range cells {
		w.uint(uint64(len(c)))
	}
	for _, c := range cells {
		w.w.WriteString(c) //nolint:errcheck // bufio keeps the first error for Flush
	}
}

func (w *frameWriter) sheets(sheets []read.Sheet) error {
	w.w.WriteByte(frameSheets) //nolint:errcheck // bufio keeps the first error for Flush
	w.uint(uint64(len(sheets)))
	for _, s := range sheets {
		w.str(s.Name)
		w.str(s.Visibility)
	}
	return w.w.Flush()
}

func (w *frameWriter) count(n int) error {
	w.w.WriteByte(frameCount) //nolint:errcheck // bufio keeps the first error for Flush
	w.uint(uint64(n))
	return w.w.Flush()
}

func (w *frameWriter) end() error {
	w.w.WriteByte(frameEnd) //nolint:errcheck // bufio keeps the first error for Flush
	return w.w.Flush()
}

func (w *frameWriter) error(err error) error {
	w.w.WriteByte(frameError) //nolint:errcheck // bufio keeps the first error for Flush
	kind := 0
	for k, e := range kinds {
		if errors.Is(err, e) {
			kind = k + 1
			break
		}
	}
	w.uint(uint64(kind))
	w.str(err.Error())
	return w.w.Flush()
}

// frameReader decodes frames; its first error sticks.
type frameReader struct {
	r   *bufio.Reader
	err error
	buf []byte
}

func (r *frameReader) fail(err error) {
	if r.err == nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		r.err = err
	}
}

func (r *frameReader) tag() byte {
	if r.err != nil {
		return 0
	}
	b, err := r.r.ReadByte()
	if err != nil {
		r.err = err // a clean io.EOF here is the child's output ending between frames
		return 0
	}
	return b
}

func (r *frameReader) uint(limit uint64) uint64 {
	if r.err != nil {
		return 0
	}
	v, err := binary.ReadUvarint(r.r)
	if err != nil {
		r.fail(err)
		return 0
	}
	if v > limit {
		r.fail(fmt.Errorf("%w: %d is more than %d", errProtocol, v, limit))
		return 0
	}
	return v
}

func (r *frameReader) bytes(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if uint64(cap(r.buf)) < n {
		r.buf = make([]byte, n)
	}
	b := r.buf[:n]
	if _, err := io.ReadFull(r.r, b); err != nil {
		r.fail(err)
		return nil
	}
	return b
}

func (r *frameReader) str() string {
	return string(r.bytes(r.uint(maxWireString)))
}

func (r *frameReader) strs() []string {
	ss := make([]string, r.uint(maxWireCells))
	for i := range ss {
		ss[i] = r.str()
	}
	return ss
}

// header decodes a header frame's fields.
func (r *frameReader) header() (row int, format, sheet string, header []string) {
	row = int(r.uint(maxRowNumber))
	format = r.str()
	sheet = r.str()
	header = r.strs()
	return row, format, sheet, header
}

// sheets decodes a sheets frame's fields.
func (r *frameReader) sheets() []read.Sheet {
	sheets := make([]read.Sheet, r.uint(maxWireSheets))
	for i := range sheets {
		sheets[i] = read.Sheet{Name: r.str(), Visibility: r.str()}
	}
	if r.err != nil {
		return nil
	}
	return sheets
}

// batch decodes a batch frame's fields, of up to maxRows rows. The cells of a row are one
// string's substrings: one allocation a row.
func (r *frameReader) batch(maxRows int) *pipeline.Batch {
	b := &pipeline.Batch{LastRow: int(r.uint(maxRowNumber)), Offset: int64(r.uint(1 << 62))}
	b.Rows = make([]pipeline.Row, r.uint(uint64(maxRows)))
	var lens []uint64
	for i := range b.Rows {
		row := &b.Rows[i]
		row.Number = int(r.uint(maxRowNumber))
		row.SkipReason, row.SkipDetail = r.str(), r.str()
		if row.SkipReason != "" {
			row.Outcome = pipeline.Skipped
		}
		row.Cells, lens = r.cells(row.Number, lens)
		row.Typed, lens = r.cells(row.Number, lens)
		if r.err != nil {
			return nil
		}
		if len(row.Typed) == 0 {
			row.Typed = nil
		} else if len(row.Typed) != len(row.Cells) {
			r.fail(fmt.Errorf("%w: row %d has %d typed cells for %d cells", errProtocol, row.Number, len(row.Typed), len(row.Cells)))
			return nil
		}
	}
	if r.err != nil {
		return nil
	}
	return b
}

// cells decodes a row's cells (see frameWriter.cells) as one string's substrings, reusing
// lens for their lengths.
func (r *frameReader) cells(row int, lens []uint64) ([]string, []uint64) {
	n := r.uint(maxWireCells)
	total := r.uint(maxWireString)
	lens = lens[:0]
	var sum uint64
	for range n {
		l := r.uint(maxWireString)
		lens = append(lens, l)
		sum += l
	}
	if r.err == nil && sum != total {
		r.fail(fmt.Errorf("%w: row %d's cells add up to %d bytes, not %d", errProtocol, row, sum, total))
	}
	all := string(r.bytes(total))
	if r.err != nil || n == 0 {
		return nil, lens
	}
	cells := make([]string, n)
	for k, l := range lens {
		cells[k], all = all[:l], all[l:]
	}
	return cells, lens
}

// failure decodes an error frame's fields.
func (r *frameReader) failure() error {
	kind := r.uint(uint64(len(kinds)))
	msg := r.str()
	if r.err != nil {
		return r.err
	}
	if kind == 0 {
		return errors.New(msg)
	}
	return &childError{msg: msg, kind: kinds[kind-1]}
}

// childError is an error the child reported, with the identity of the read package's error
// it wrapped.
type childError struct {
	msg  string
	kind error
}

func (e *childError) Error() string { return e.msg }
func (e *childError) Unwrap() error { return e.kind }
