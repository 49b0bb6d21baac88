package read

import (
	"context"
	"io"

	"github.com/leadpipe/leadpipe/pipeline"
)

// DefaultBatchSize is the batch size NewSource uses when given 0 or less.
const DefaultBatchSize = 1000

// ctxCheckEvery is how many records (blank ones included) a batch reads between checks of
// its context.
const ctxCheckEvery = 256

// maxArenaCells is the most cells a batch allocates at a time (1 MiB of string headers).
const maxArenaCells = 1 << 16

// NewSource returns a pipeline source that reads c's records in batches of up to batchSize
// rows. A malformed record becomes a row skipped with reason malformed_row. Each batch's
// LastRow and Offset are those of the last record it consumed, blank ones included.
func NewSource(c *CSV, batchSize int) pipeline.Source {
	if batchSize <= 0 {
		batchSize = DefaultBatchSize
	}
	return &source{c: c, size: batchSize}
}

type source struct {
	c    *CSV
	size int
	done bool
}

// Next returns the next batch, or io.EOF after the last one.
func (s *source) Next(ctx context.Context) (*pipeline.Batch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.done {
		return nil, io.EOF
	}
	c := s.c
	b := &pipeline.Batch{Rows: make([]pipeline.Row, 0, s.size), LastRow: c.row, Offset: c.off}
	// Cells of the batch's rows are carved out of shared arenas: one allocation for many rows.
	var arena []string
	for n := 1; len(b.Rows) < s.size; n++ {
		if n%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		ok, err := c.advance()
		if err != nil {
			return nil, err
		}
		if !ok {
			s.done = true
			break
		}
		b.LastRow, b.Offset = c.row, c.off
		if c.blank {
			continue
		}
		if cap(arena)-len(arena) < c.nkeep {
			// Enough for the rest of the batch at the header's width, but no more than
			// maxArenaCells at a time: a wide header must not cost a huge slice up front.
			arena = make([]string, 0, max(c.nkeep, min((s.size-len(b.Rows))*max(c.width, 1), maxArenaCells)))
		}
		start := len(arena)
		arena = c.cells(arena)
		row := pipeline.Row{Number: c.row, Cells: arena[start:len(arena):len(arena)]}
		if c.why != "" {
			row.Skip(pipeline.ReasonMalformedRow, c.why)
		}
		b.Rows = append(b.Rows, row)
	}
	if len(b.Rows) == 0 {
		return nil, io.EOF
	}
	return b, nil
}
