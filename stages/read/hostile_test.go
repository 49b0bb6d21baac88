package read_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/stages/read"
)

// seg is a part of a generated input: pat, n times.
type seg struct {
	pat string
	n   int
}

func lit(s string) seg        { return seg{s, 1} }
func rep(s string, n int) seg { return seg{s, n} }
func cols(prefix string, n int) []string {
	c := make([]string, n)
	for i := range c {
		c[i] = fmt.Sprintf("%s%d", prefix, i+1)
	}
	return c
}

// genReader streams its segments without ever holding the whole input, so that a test of a
// huge input measures the reader's memory, not the input's.
type genReader struct {
	segs []seg
	done int // bytes of segs[0] already read
}

func (g *genReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) && len(g.segs) > 0 {
		s := g.segs[0]
		total := len(s.pat) * s.n
		if g.done >= total {
			g.segs, g.done = g.segs[1:], 0
			continue
		}
		at := g.done % len(s.pat)
		k := copy(p[n:min(len(p), n+total-g.done)], s.pat[at:])
		n += k
		g.done += k
	}
	if n == 0 && len(g.segs) == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// heapWatch samples the live heap (after a collection) every few MiB read through it.
type heapWatch struct {
	r           io.Reader
	since, peak uint64
}

const heapSampleEvery = 2 << 20

func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func (w *heapWatch) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if w.since += uint64(n); w.since >= heapSampleEvery {
		w.since = 0
		w.sample()
	}
	return n, err
}

func (w *heapWatch) sample() { w.peak = max(w.peak, liveHeap()) }

// hrec is an exact expected record.
type hrec struct {
	row       int
	cells     []string
	malformed string
}

// TestHostileCSV feeds the reader the inputs of the hardening issue, one case per bullet (and
// the options' limits), and checks the exact outcome through Next, CountRows and the
// pipeline source: the exact error, or the exact records and malformed_row details. For the
// huge inputs, streamed from a generator, it also checks that the live heap never grows more
// than 3 MiB past the cap that applies while the input is read.
func TestHostileCSV(t *testing.T) {
	const MiB = 1 << 20
	wide := cols("c", 10000)
	tests := []struct {
		name    string
		file    string // a fixture in testdata/csv
		gen     []seg  // or a generated input
		opts    read.CSVOptions
		errIs   error  // the error of OpenCSV (when header is nil) or of the read after want
		errMsg  string // exactly
		header  []string
		want    []hrec
		heapCap int64 // when not 0: the cap the live heap may exceed by at most 3 MiB
	}{
		{
			name:   "unterminated quote runs to the end of the file",
			file:   "unterminated-quote.csv",
			header: []string{"email", "name", "note"},
			want: []hrec{
				{2, []string{"a@x.com", "Ann", "ok"}, ""},
				{3, []string{"b@x.com", "Bob,oops\r\nc@x.com,Cy,ok\r\n"},
					"unterminated quote: the quoted field in column 2 of row 3 is never closed, so it runs to the end of the file"},
			},
		},
		{
			name:   "unterminated quote runs 8 MiB to the end of the file",
			gen:    []seg{lit("email,note\na@x.com,ok\nb@x.com,\""), rep("x,y\n", 2*MiB)},
			header: []string{"email", "note"},
			want: []hrec{
				{2, []string{"a@x.com", "ok"}, ""},
				{3, []string{"b@x.com", ""},
					"unterminated quote: the quoted field in column 2 of row 3 is never closed, so it runs to the end of the file"},
			},
			heapCap: read.DefaultMaxFieldBytes,
		},
		{
			name:   "field one byte over the default cap",
			gen:    []seg{lit("email,note\na@x.com,"), rep("x", MiB+1), lit("\nb@x.com,"), rep("y", MiB), lit("\n")},
			header: []string{"email", "note"},
			want: []hrec{
				{2, []string{"a@x.com", ""}, "cell in column 2 is longer than 1048576 bytes"},
				{3, []string{"b@x.com", strings.Repeat("y", MiB)}, ""},
			},
		},
		{
			name:   "quoted field of 8 MiB",
			gen:    []seg{lit("email,note,x\n\""), rep("a\"\"b, \r\n", MiB), lit("\",b@x.com,x\nc@x.com,ok\n")},
			header: []string{"email", "note", "x"},
			want: []hrec{
				{2, []string{"", "b@x.com", "x"}, "cell in column 1 is longer than 1048576 bytes"},
				{3, []string{"c@x.com", "ok"}, ""},
			},
			heapCap: read.DefaultMaxFieldBytes,
		},
		{
			name: "row of 20 MiB in fields under the cap",
			gen: append(append([]seg{lit(strings.Join(cols("c", 40), ",") + "\n")},
				func() (s []seg) {
					for range 40 {
						s = append(s, rep("z", 512<<10), lit(","))
					}
					return s
				}()...), lit("\nlast\n")),
			header: cols("c", 40),
			want: []hrec{
				{2, make([]string, 40), "row is longer than 16777216 bytes"},
				{3, []string{"last"}, ""},
			},
			heapCap: 16 * MiB,
		},
		{
			name: "row over the cap once decoded from Windows-1252",
			gen: append(append([]seg{lit(strings.Join(cols("c", 16), ";") + "\n")},
				func() (s []seg) {
					for range 16 {
						s = append(s, rep("\xe9", 1_000_000), lit(";"))
					}
					return s
				}()...), lit("\nlast\n")),
			header: cols("c", 16),
			want: []hrec{
				{2, make([]string, 16), "row is longer than 16777216 bytes once decoded from Windows-1252"},
				{3, []string{"last"}, ""},
			},
			heapCap: 16 * MiB,
		},
		{
			name:   "nul bytes are stripped, a row of nothing but them is blank",
			file:   "nul-bytes.csv",
			header: []string{"email", "name"},
			want: []hrec{
				{2, []string{"a@x.com", "Ann"}, ""},
				{4, []string{"b@x.com", `Bo"b`}, ""},
				{5, []string{"c@x.com", "Cy"}, ""},
				{6, []string{"p1@x.com", "Person 1"}, ""},
				{7, []string{"p2@x.com", "Person 2"}, ""},
				{8, []string{"p3@x.com", "Person 3"}, ""},
				{9, []string{"p4@x.com", "Person 4"}, ""},
				{10, []string{"p5@x.com", "Person 5"}, ""},
			},
		},
		{
			name:   "invalid utf-8 is read as windows-1252, field by field",
			file:   "invalid-utf8.csv",
			header: []string{"Prénom", "Nom", "Note"},
			want: []hrec{
				{2, []string{"José", "García", "“ok” €"}, ""},
				{3, []string{"Zoë", "cafÃ", "\uFFFD\uFFFD"}, ""},
			},
		},
		{
			name:   "utf-16le with bom, a lone surrogate and an odd last byte",
			file:   "utf16le-bom.csv",
			header: []string{"email", "name"},
			want: []hrec{
				{2, []string{"a@x.com", "Café 東京 😀"}, ""},
				{3, []string{"b@x.com", "line\r\nbreak"}, ""},
				{4, []string{"c@x.com", "\uFFFDz\uFFFD"}, ""},
			},
		},
		{
			name:   "utf-16be with bom",
			file:   "utf16be-bom.csv",
			header: []string{"email", "name"},
			want: []hrec{
				{2, []string{"a@x.com", "Zoë"}, ""},
				{4, []string{"b@x.com", "Åsa"}, ""},
			},
		},
		{
			name:   "10,000-column header",
			gen:    []seg{lit(strings.Join(wide, ",") + "\n" + strings.Repeat("x,", 9999) + "x\n")},
			errIs:  read.ErrTooManyColumns,
			errMsg: "file has too many columns: the header (row 1) has 10000 columns; the limit is 2000",
		},
		{
			name:   "10,000-column header within MaxColumns",
			gen:    []seg{lit(strings.Join(wide, ",") + "\n" + strings.Repeat("x,", 9999) + "x\n")},
			opts:   read.CSVOptions{MaxColumns: 10000},
			header: wide,
			want:   []hrec{{2, strings.Split(strings.Repeat("x,", 9999)+"x", ","), ""}},
		},
		{
			name:   "more columns than MaxColumns",
			file:   "too-many-columns.csv",
			opts:   read.CSVOptions{MaxColumns: 3},
			errIs:  read.ErrTooManyColumns,
			errMsg: "file has too many columns: the header (row 1) has 4 columns; the limit is 3",
		},
		{
			name:   "MaxColumns does not count trailing empty header cells",
			file:   "too-many-columns.csv",
			opts:   read.CSVOptions{MaxColumns: 4},
			header: []string{"a", "b", "c", "d"},
			want:   []hrec{{2, []string{"1", "2", "3", "4"}, ""}},
		},
		{
			name:   "data row of 10,000 cells",
			gen:    []seg{lit("a,b,c\n"), rep("x,", 9999), lit("x\n1,2,3\n")},
			header: []string{"a", "b", "c"},
			want: []hrec{
				{2, strings.Split(strings.Repeat("x,", 258)+"x", ","), "row has 10000 cells but the header has 3"},
				{3, []string{"1", "2", "3"}, ""},
			},
		},
		{
			name:   "more rows than MaxRows",
			file:   "too-many-rows.csv",
			opts:   read.CSVOptions{MaxRows: 3},
			header: []string{"email", "name"},
			want: []hrec{
				{2, []string{"a@x.com", "Ann"}, ""},
				{3, []string{"b@x.com", "Bob"}, ""},
				{6, []string{"c@x.com", "Cy", "extra"}, "row has 3 cells but the header has 2"},
			},
			errIs:  read.ErrTooManyRows,
			errMsg: "file has too many rows: more than the limit of 3 data rows (row 7 is data row 4)",
		},
		{
			name:   "as many rows as MaxRows",
			file:   "too-many-rows.csv",
			opts:   read.CSVOptions{MaxRows: 5},
			header: []string{"email", "name"},
			want: []hrec{
				{2, []string{"a@x.com", "Ann"}, ""},
				{3, []string{"b@x.com", "Bob"}, ""},
				{6, []string{"c@x.com", "Cy", "extra"}, "row has 3 cells but the header has 2"},
				{7, []string{"d@x.com", "Di"}, ""},
				{8, []string{"e@x.com", "Ed"}, ""},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			input := func() io.Reader {
				if tt.file != "" {
					data, err := os.ReadFile(filepath.Join("testdata", "csv", tt.file))
					if err != nil {
						t.Fatal(err)
					}
					return bytes.NewReader(data)
				}
				return &genReader{segs: tt.gen}
			}
			checkErr := func(what string, err error) {
				t.Helper()
				if tt.errIs == nil {
					if err != nil {
						t.Fatalf("%s: %v", what, err)
					}
					return
				}
				if !errors.Is(err, tt.errIs) || err.Error() != tt.errMsg {
					t.Fatalf("%s error = %v, want %q (%v)", what, err, tt.errMsg, tt.errIs)
				}
			}
			open := func(r io.Reader) *read.CSV {
				t.Helper()
				c, err := read.OpenCSV(r, tt.opts)
				if tt.header == nil {
					checkErr("OpenCSV", err)
					return nil
				}
				if err != nil {
					t.Fatalf("OpenCSV: %v", err)
				}
				if !reflect.DeepEqual(c.Header(), tt.header) {
					t.Fatalf("Header() = %d cells %s, want %d cells %s", len(c.Header()), short(c.Header()), len(tt.header), short(tt.header))
				}
				return c
			}

			// Next, with the heap watched.
			base := liveHeap()
			w := &heapWatch{r: input()}
			c := open(w)
			if c == nil {
				return
			}
			var got []hrec
			var err error
			for {
				var rc read.Record
				if rc, err = c.Next(); err != nil {
					break
				}
				got = append(got, hrec{rc.Row, rc.Cells, rc.Malformed})
				w.sample()
			}
			if err == io.EOF {
				err = nil
			}
			checkErr("Next", err)
			if _, again := c.Next(); err != nil && again != err {
				t.Errorf("Next after %v: %v", err, again)
			}
			checkHrecs(t, got, tt.want)
			if tt.heapCap > 0 {
				if grew := int64(w.peak) - int64(base); grew > tt.heapCap+3<<20 {
					t.Errorf("live heap grew by %.1f MiB while reading, more than the %.1f MiB cap and 3 MiB",
						float64(grew)/(1<<20), float64(tt.heapCap)/(1<<20))
				} else {
					t.Logf("live heap grew by %.1f MiB at most (cap %.1f MiB)", float64(grew)/(1<<20), float64(tt.heapCap)/(1<<20))
				}
			}

			// CountRows.
			n, err := open(input()).CountRows()
			checkErr("CountRows", err)
			if n != len(tt.want) {
				t.Errorf("CountRows = %d, want %d", n, len(tt.want))
			}

			// The pipeline source, one row per batch so that rows before an error come out.
			src := read.NewSource(open(input()), 1)
			got = got[:0]
			for {
				var b *pipeline.Batch
				if b, err = src.Next(t.Context()); err != nil {
					break
				}
				for _, row := range b.Rows {
					h := hrec{row.Number, row.Cells, row.SkipDetail}
					if row.SkipDetail != "" && row.SkipReason != pipeline.ReasonMalformedRow {
						t.Errorf("row %d skipped with reason %q", row.Number, row.SkipReason)
					}
					got = append(got, h)
				}
			}
			if err == io.EOF {
				err = nil
			}
			checkErr("source", err)
			checkHrecs(t, got, tt.want)
		})
	}
}

func checkHrecs(t *testing.T, got, want []hrec) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d records, want %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		if g.row != w.row || g.malformed != w.malformed || !reflect.DeepEqual(g.cells, w.cells) {
			t.Errorf("record %d = {row %d, %d cells %s, malformed %q}, want {row %d, %d cells %s, malformed %q}",
				i, g.row, len(g.cells), short(g.cells), g.malformed, w.row, len(w.cells), short(w.cells), w.malformed)
		}
	}
}

// short formats cells for a failure message, long ones and long lists cut short.
func short(cells []string) string {
	var sb strings.Builder
	for i, c := range cells {
		if i == 8 {
			fmt.Fprintf(&sb, " …")
			break
		}
		if len(c) > 40 {
			fmt.Fprintf(&sb, " %q…(%d bytes)", c[:40], len(c))
		} else {
			fmt.Fprintf(&sb, " %q", c)
		}
	}
	return "[" + strings.TrimPrefix(sb.String(), " ") + "]"
}
