package read

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/leadpipe/leadpipe/pipeline"
)

// What the readers of a workbook's sheet (XLSX, ODS, XLS) share.

// sheetRows is what readSheetHeader needs of a reader of a sheet's rows.
type sheetRows interface {
	// advance reads the next row, false at the end of the sheet; rowState then describes it.
	advance(skip bool) (bool, error)
	// rowState returns the last row's number, whether it is blank, why it is malformed ("" if
	// it is not) and its cells.
	rowState() (row int, blank bool, why string, cells []string)
}

// readSheetHeader reads r up to the first non-blank row and returns it as the header (see
// headerCells) with its row number. what names the file in messages ("XLSX workbook").
func readSheetHeader(r sheetRows, what, sheet string) (header []string, row int, err error) {
	for {
		ok, err := r.advance(false)
		if err != nil {
			return nil, 0, err
		}
		row, blank, why, cells := r.rowState()
		switch {
		case !ok && row == 0:
			return nil, 0, fmt.Errorf("%w: the sheet %q of the %s has no rows", ErrEmpty, sheet, what)
		case !ok:
			return nil, 0, fmt.Errorf("%w: all %d rows of the sheet %q are blank", ErrNoHeader, row, sheet)
		case blank:
			continue
		case why != "":
			return nil, 0, fmt.Errorf("%w: row %d, the first non-blank row of the sheet %q, cannot be read as a header: %s",
				ErrNoHeader, row, sheet, why)
		}
		return headerCells(cells), row, nil
	}
}

// headerCells returns a copy of a header row's cells, trimmed, without trailing empty ones.
func headerCells(cells []string) []string {
	n := 0
	hdr := make([]string, len(cells))
	for i, c := range cells {
		if hdr[i] = strings.TrimSpace(c); hdr[i] != "" {
			n = i + 1
		}
	}
	return hdr[:n:n]
}

// quotedList lists names for a message: "Leads", "Archive".
func quotedList(names []string) string {
	quoted := make([]string, len(names))
	for i, s := range names {
		quoted[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(quoted, ", ")
}

// sheetData is what readSheetBatch needs of a reader of a sheet's rows, past its header.
type sheetData interface {
	sheetRows
	// advanceData reads the next row after the resume point, false at the end of the sheet.
	advanceData() (bool, error)
	// dataRow returns the last row as a pipeline row: its number, cells and typed values.
	dataRow() pipeline.Row
	// fail makes err the reader's error, closes it and returns err.
	fail(err error) error
}

// readSheetBatch reads the next batch of up to size rows of x: a malformed row is skipped with
// reason malformed_row; LastRow is the number of the last row read, blank ones included. It
// returns io.EOF when no row is left.
func readSheetBatch(ctx context.Context, x sheetData, size int) (*pipeline.Batch, error) {
	if err := ctx.Err(); err != nil {
		return nil, x.fail(err)
	}
	last, _, _, _ := x.rowState()
	b := &pipeline.Batch{Rows: make([]pipeline.Row, 0, size), LastRow: last}
	for n := 1; len(b.Rows) < size; n++ {
		if n%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, x.fail(err)
			}
		}
		ok, err := x.advanceData()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		row, blank, why, _ := x.rowState()
		b.LastRow = row
		if blank {
			continue
		}
		r := x.dataRow()
		if why != "" {
			r.Skip(pipeline.ReasonMalformedRow, why)
		}
		b.Rows = append(b.Rows, r)
	}
	if len(b.Rows) == 0 {
		return nil, io.EOF
	}
	return b, nil
}
