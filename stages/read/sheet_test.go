package read_test

import (
	"context"
	"io"
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
