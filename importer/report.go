package importer

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/leadpipe/leadpipe/store"
)

// The columns the skipped-rows report adds after the import's own (SPEC §11).
const (
	ColumnRowNumber  = "row_number"
	ColumnSkipReason = "skip_reason"
	ColumnSkipDetail = "skip_detail"
)

// skippedFlushEvery is how many rows WriteSkippedCSV writes between flushes of its buffer.
const skippedFlushEvery = 1000

// SkippedCSVHeader returns the header line of an import's skipped-rows report as
// WriteSkippedCSV writes it: the import's header columns as uploaded (store.Import.Header,
// escaped with EscapeFormula), then row_number, skip_reason and skip_detail.
func SkippedCSVHeader(imp store.Import) []string {
	hdr := make([]string, 0, len(imp.Header)+3)
	for _, h := range imp.Header {
		hdr = append(hdr, EscapeFormula(h))
	}
	return append(hdr, ColumnRowNumber, ColumnSkipReason, ColumnSkipDetail)
}

// WriteSkippedCSV writes the skipped rows of an import as CSV (SPEC §11), streamed from the
// database in row order: the SkippedCSVHeader line, then one line per skipped row with its
// original cells, its row number, skip reason and skip detail.
//
// A row's cells fill the header's columns, padded with empty cells when the row had fewer. A
// malformed row may have more cells than the header: the report keeps them all, so that
// nothing of the row is lost, but puts those beyond the header's width after skip_detail,
// so that row_number, skip_reason and skip_detail stay in their named columns on every line.
//
// Every cell, header cells and skip_detail included, that a spreadsheet could run as a
// formula is prefixed with ' (EscapeFormula). The output is flushed every
// skippedFlushEvery rows and at the end; an error of w stops the report.
//
// imp must be an import of the caller's account (store.GetImport); its rows are read by id.
func WriteSkippedCSV(ctx context.Context, q store.Querier, imp store.Import, w io.Writer) error {
	cw := csv.NewWriter(w)
	width := len(imp.Header)
	writeErr := func(err error) error { return fmt.Errorf("write skipped rows of import %d: %w", imp.ID, err) }
	if err := cw.Write(SkippedCSVHeader(imp)); err != nil {
		return writeErr(err)
	}
	var line []string
	n := 0
	err := store.SkippedRows(ctx, q, imp.ID, func(r store.SkippedRow) error {
		line = line[:0]
		for i := 0; i < width; i++ {
			cell := ""
			if i < len(r.Cells) {
				cell = r.Cells[i]
			}
			line = append(line, EscapeFormula(cell))
		}
		line = append(line, strconv.Itoa(r.Row), EscapeFormula(r.Reason), EscapeFormula(r.Detail))
		for i := width; i < len(r.Cells); i++ {
			line = append(line, EscapeFormula(r.Cells[i]))
		}
		if err := cw.Write(line); err != nil {
			return writeErr(err)
		}
		if n++; n%skippedFlushEvery == 0 {
			cw.Flush()
			if err := cw.Error(); err != nil {
				return writeErr(err)
			}
		}
		return nil
	})
	if err != nil {
		return err // the store's errors and writeErr's say which import
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return writeErr(err)
	}
	return nil
}

// EscapeFormula returns s prefixed with ' when a spreadsheet could run it: when it starts with
// '=', '+', '-', '@', a tab, a carriage return or a NUL (SPEC §11). Other strings, the empty
// one included, are returned unchanged.
func EscapeFormula(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r', 0:
		return "'" + s
	}
	return s
}
