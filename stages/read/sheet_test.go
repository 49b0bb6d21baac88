package read_test

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"testing"

	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/stages/read"
)

// sheetRow is a row a spreadsheet reader returned: its number, cells and malformed detail.
type sheetRow struct {
	n     int
	cells []string
	why   string
}

// typedRows returns the typed cells (pipeline.Row.Typed) of the batches' rows that have
// them, by row number.
func typedRows(batches []*pipeline.Batch) map[int][]string {
	typed := map[int][]string{}
	for _, b := range batches {
		for _, row := range b.Rows {
			if row.Typed != nil {
				if len(row.Typed) != len(row.Cells) {
					panic(fmt.Sprintf("row %d: %d typed cells for %d cells", row.Number, len(row.Typed), len(row.Cells)))
				}
				typed[row.Number] = row.Typed
			}
		}
	}
	return typed
}

// checkTyped compares the typed cells of rows with want (nil or empty: none).
func checkTyped(t testing.TB, got, want map[int][]string) {
	t.Helper()
	if len(got) != len(want) || !reflect.DeepEqual(got, want) && len(want) > 0 {
		t.Errorf("typed cells by row:\n got %v\nwant %v", got, want)
	}
}

// drainSheet reads all of r's batches and returns their rows and batches.
func drainSheet(t testing.TB, r read.Reader, size int) ([]sheetRow, []*pipeline.Batch, error) {
	t.Helper()
	src := r.Source(size)
	var rows []sheetRow
	var batches []*pipeline.Batch
	for {
		b, err := src.Next(context.Background())
		if err == io.EOF {
			if _, err := src.Next(context.Background()); err != io.EOF {
				t.Fatalf("Next after io.EOF: %v", err)
			}
			return rows, batches, nil
		}
		if err != nil {
			return rows, batches, err
		}
		if b.Offset != 0 {
			t.Errorf("batch offset %d, want 0", b.Offset)
		}
		batches = append(batches, b)
		for _, row := range b.Rows {
			if row.Skipped() != (row.SkipDetail != "") || row.Skipped() && row.SkipReason != pipeline.ReasonMalformedRow {
				t.Errorf("row %d: skip %q %q", row.Number, row.SkipReason, row.SkipDetail)
			}
			rows = append(rows, sheetRow{row.Number, row.Cells, row.SkipDetail})
		}
	}
}
