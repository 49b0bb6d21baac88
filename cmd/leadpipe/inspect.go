package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/stages/read"
)

// inspectLimit is how many data rows `leadpipe inspect` prints when --limit is not given.
const inspectLimit = 20

// inspectHead is the first line `leadpipe inspect` prints: what the file is, which sheet is
// read and where its data starts.
type inspectHead struct {
	Format string `json:"format"`
	// Encoding and Delimiter are what the CSV reader detected; absent for a workbook.
	Encoding  string `json:"encoding,omitempty"`
	Delimiter string `json:"delimiter,omitempty"`
	// Sheets are a workbook's worksheets, hidden ones included, and Sheet the one read;
	// absent for a CSV file.
	Sheets    []read.Sheet `json:"sheets,omitempty"`
	Sheet     string       `json:"sheet,omitempty"`
	HeaderRow int          `json:"header_row"`
	Header    []string     `json:"header"`
}

// inspectRow is one data row as the reader gives it, before any mapping.
type inspectRow struct {
	Row   int      `json:"row"`
	Cells []string `json:"cells"`
	// Malformed says why an import would skip the row as malformed_row.
	Malformed string `json:"malformed,omitempty"`
}

const inspectUsage = "usage: leadpipe inspect FILE [--sheet NAME] [--limit N]"

// inspectFile prints what leadpipe reads from a file, as JSON lines: the head, then one line a
// data row. It needs no database; a spreadsheet is parsed in a child process (sheet_parser).
func inspectFile(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	sheet := fs.String("sheet", "", "the worksheet of a workbook to read; the first visible one when not given")
	limit := fs.Int("limit", inspectLimit, "the most data rows to print; 0 prints them all")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New(inspectUsage)
	}
	if *limit < 0 {
		return fmt.Errorf("--limit is %d; give the most rows to print, or 0 for all of them", *limit)
	}
	file, err := e.importer(nil).OpenFile(pos[0], crm.Options{Sheet: *sheet})
	if err != nil {
		return err
	}
	defer file.Close()
	r := file.Reader
	head := inspectHead{Format: r.Format(), Sheets: file.Sheets, HeaderRow: r.HeaderRow(), Header: nonNil(r.Header())}
	switch r := r.(type) {
	case read.SheetReader:
		head.Sheet = r.Sheet()
	case *read.CSV:
		if *sheet != "" {
			return fmt.Errorf("--sheet: %s reads as CSV, which has no sheets; leave --sheet out", filepath.Base(pos[0]))
		}
		head.Encoding, head.Delimiter = r.Encoding(), string(r.Delimiter())
	}
	out := bufio.NewWriter(e.stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(head); err != nil {
		return err
	}
	// One row a batch: the rows before a fault in the file are printed before its error.
	src := file.Source(1)
	for printed := 0; *limit == 0 || printed < *limit; {
		b, err := src.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if flushErr := out.Flush(); flushErr != nil {
				return flushErr
			}
			return err
		}
		for i := range b.Rows {
			if err := enc.Encode(newInspectRow(&b.Rows[i])); err != nil {
				return err
			}
			printed++
		}
	}
	return out.Flush()
}

// newInspectRow is the line of a data row.
func newInspectRow(row *pipeline.Row) inspectRow {
	ir := inspectRow{Row: row.Number, Cells: nonNil(row.Cells)}
	if row.SkipReason == pipeline.ReasonMalformedRow {
		ir.Malformed = row.SkipDetail
	}
	return ir
}

// nonNil is cells, or an empty list for none, so that JSON shows [] rather than null.
func nonNil(cells []string) []string {
	if cells == nil {
		return []string{}
	}
	return cells
}
