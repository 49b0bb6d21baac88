package read_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/stages/read"
)

// readBatches drains a source.
func readBatches(t *testing.T, in []byte, opts read.CSVOptions, size int) []*pipeline.Batch {
	t.Helper()
	c, err := read.OpenCSV(bytes.NewReader(in), opts)
	if err != nil {
		t.Fatal(err)
	}
	src := read.NewSource(c, size)
	var out []*pipeline.Batch
	for {
		b, err := src.Next(t.Context())
		if err == io.EOF {
			if _, err := src.Next(t.Context()); err != io.EOF {
				t.Fatalf("Next after io.EOF: %v", err)
			}
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
}

type wantBatch struct {
	rows    []int // row numbers
	lastRow int
	offset  int64
}

func TestSource(t *testing.T) {
	in := "a,b\n1,2\n\n3,4\n1,2,3\n5,6\n\n ,\n"
	end := int64(len(in))
	off := func(after string) int64 { return int64(strings.Index(in, after) + len(after)) }
	tests := []struct {
		name string
		size int
		want []wantBatch
	}{
		{"size 1", 1, []wantBatch{
			{[]int{2}, 2, off("1,2\n")},
			{[]int{4}, 4, off("3,4\n")},
			{[]int{5}, 5, off("1,2,3\n")},
			{[]int{6}, 6, off("5,6\n")},
		}},
		{"size 2", 2, []wantBatch{
			{[]int{2, 4}, 4, off("3,4\n")},
			{[]int{5, 6}, 6, off("5,6\n")},
		}},
		{"size 3: last batch checkpoints past trailing blank rows", 3, []wantBatch{
			{[]int{2, 4, 5}, 5, off("1,2,3\n")},
			{[]int{6}, 8, end},
		}},
		{"default size", 0, []wantBatch{
			{[]int{2, 4, 5, 6}, 8, end},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			batches := readBatches(t, []byte(in), read.CSVOptions{}, tt.size)
			var got []wantBatch
			for _, b := range batches {
				w := wantBatch{lastRow: b.LastRow, offset: b.Offset}
				for _, row := range b.Rows {
					w.rows = append(w.rows, row.Number)
				}
				got = append(got, w)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("batches = %+v\nwant %+v", got, tt.want)
			}
		})
	}

	t.Run("rows", func(t *testing.T) {
		batches := readBatches(t, []byte(in), read.CSVOptions{}, 10)
		rows := batches[0].Rows
		if !reflect.DeepEqual(rows[0].Cells, []string{"1", "2"}) || rows[0].Skipped() {
			t.Errorf("row 2 = %+v", rows[0])
		}
		bad := rows[2]
		if bad.Number != 5 || bad.SkipReason != pipeline.ReasonMalformedRow ||
			bad.SkipDetail != "row has 3 cells but the header has 2" || bad.Outcome != pipeline.Skipped {
			t.Errorf("malformed row = %+v", bad)
		}
		if !reflect.DeepEqual(bad.Cells, []string{"1", "2", "3"}) {
			t.Errorf("malformed row cells = %q", bad.Cells)
		}
		// Cells of different rows do not share capacity: appending to one cannot clobber
		// the next.
		_ = append(rows[0].Cells, "x")
		if rows[1].Cells[0] != "3" {
			t.Errorf("appending to one row's cells changed the next row's: %q", rows[1].Cells)
		}
	})
}

func TestSourceResume(t *testing.T) {
	for name, in := range resumeInputs(t) {
		t.Run(name, func(t *testing.T) {
			all := readBatches(t, in, read.CSVOptions{}, 7)
			var allRows []pipeline.Row
			for _, b := range all {
				allRows = append(allRows, b.Rows...)
			}
			seen := 0
			for i, b := range all {
				seen += len(b.Rows)
				if i%5 != 0 && i != len(all)-1 {
					continue
				}
				rest := readBatches(t, in, read.CSVOptions{StartOffset: b.Offset, StartRow: b.LastRow}, 7)
				var rows []pipeline.Row
				for _, rb := range rest {
					rows = append(rows, rb.Rows...)
				}
				if len(rows) != len(allRows)-seen || (len(rows) > 0 && !reflect.DeepEqual(rows, allRows[seen:])) {
					t.Fatalf("resume after batch %d (row %d, offset %d): got %d rows, want %d",
						i, b.LastRow, b.Offset, len(rows), len(allRows)-seen)
				}
			}
		})
	}
}

// cancelReader cancels a context once it has been read from past the first read.
type cancelReader struct {
	r      io.Reader
	reads  int
	cancel context.CancelFunc
}

func (c *cancelReader) Read(p []byte) (int, error) {
	c.reads++
	if c.reads > 2 {
		c.cancel()
	}
	return c.r.Read(p[:min(len(p), 4096)])
}

func TestSourceContext(t *testing.T) {
	var sb strings.Builder
	sb.WriteString("a,b\n")
	for range 200000 {
		sb.WriteString("x,y\n")
	}
	t.Run("cancelled before", func(t *testing.T) {
		c, err := read.OpenCSV(strings.NewReader(sb.String()), read.CSVOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := read.NewSource(c, 10).Next(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Next = %v, want context.Canceled", err)
		}
	})
	t.Run("cancelled during a batch", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		cr := &cancelReader{r: strings.NewReader(sb.String()), cancel: cancel}
		c, err := read.OpenCSV(cr, read.CSVOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := read.NewSource(c, 1_000_000).Next(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Next = %v, want context.Canceled", err)
		}
	})
}
