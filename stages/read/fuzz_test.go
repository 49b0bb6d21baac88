package read_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/leadpipe/leadpipe/stages/read"
)

// FuzzCSV checks that the reader never panics, that OpenCSV fails only with its sentinels,
// and that every read agrees with itself: rows strictly increase, offsets never go back, cells
// are valid UTF-8 without NUL, CountRows counts what Next returns, and resuming from a record's
// checkpoint yields exactly the records after it. With small set, the field, column and row
// caps are tiny, so that the fuzzer reaches them: no cell passes the field cap, no header is
// wider than the column cap, and a read ends with ErrTooManyRows exactly after the row cap.
//
// Its seed corpus: the inputs below, every case of TestCSV and TestOpenCSVErrors up to
// maxSeedBytes, every fixture in testdata/csv, and the crashers kept in testdata/fuzz/FuzzCSV.
func FuzzCSV(f *testing.F) {
	seeds := []string{
		"a,b\n1,2\n",
		"a,b\r\n1,2\r\n\r\n3,4",
		"\xEF\xBB\xBFa;b\n1;2\n",
		"\xFF\xFEa\x00,\x00b\x00\n\x001\x00,\x002\x00",
		"\xFE\xFF\x00a\x00\t\x00b\x00\n\x001\x00\t\x002",
		"a|b|c\n1|2|3\n",
		"name,note\n\"Lee, Ann\",\"said \"\"hi\"\"\"\n\"multi\nline\",x\n",
		"a,b\n\"open,1\n2,3\n",
		"a,b\r1,2\r\"x\ry\",3\r",
		"\n\n , \nemail\nx\n\n",
		"a,b,,\n1,2,,\n1,2,3\n",
		"a,b,c\nx\"y,\"ab\"c,\"q\"\" \"z\n",
		"name\nCaf\xe9\n\x93q\x94\n",
		"a,b\n1,0123456789ABCDEF\n3,4\n",
		"a,b\n\"0123456789\n0123456789\",x\n3,4\n",
		"",
		" \n",
		",,\n",
		"\x00\x01\x02",
		"\"",
		"\"\"\"",
		"a\n\"",
	}
	inputs := make([][]byte, 0, len(seeds))
	for _, s := range seeds {
		inputs = append(inputs, []byte(s))
	}
	for _, tc := range csvCases(f) {
		inputs = append(inputs, tc.in)
	}
	for _, tc := range openCases(f) {
		inputs = append(inputs, tc.in)
	}
	fixtures, err := filepath.Glob(filepath.Join("testdata", "csv", "*"))
	if err != nil || len(fixtures) == 0 {
		f.Fatalf("no fixtures in testdata/csv: %v", err)
	}
	for _, path := range fixtures {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		inputs = append(inputs, data)
	}
	for _, in := range inputs {
		if len(in) <= maxSeedBytes {
			f.Add(in, false)
			f.Add(in, true)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, small bool) {
		opts := read.CSVOptions{}
		if small {
			opts = read.CSVOptions{MaxFieldBytes: 8, MaxColumns: 4, MaxRows: 5}
		}
		c, err := read.OpenCSV(bytes.NewReader(data), opts)
		if err != nil {
			if !errors.Is(err, read.ErrEmpty) && !errors.Is(err, read.ErrNotText) && !errors.Is(err, read.ErrNoHeader) &&
				!errors.Is(err, read.ErrTooManyColumns) {
				t.Fatalf("OpenCSV error is no sentinel: %v", err)
			}
			return
		}
		hdr := c.Header()
		if len(hdr) == 0 || c.HeaderRow() < 1 {
			t.Fatalf("header %q at row %d", hdr, c.HeaderRow())
		}
		if small && len(hdr) > opts.MaxColumns {
			t.Fatalf("header of %d columns passed a cap of %d", len(hdr), opts.MaxColumns)
		}
		for _, h := range hdr {
			if !utf8.ValidString(h) || strings.IndexByte(h, 0) >= 0 || h != strings.TrimSpace(h) {
				t.Fatalf("bad header cell %q", h)
			}
		}
		var recs []read.Record
		var end error // what ended the read: io.EOF, or ErrTooManyRows
		lastRow, lastOff := c.HeaderRow(), int64(0)
		for {
			rc, err := c.Next()
			if err == io.EOF || small && errors.Is(err, read.ErrTooManyRows) {
				end = err
				if _, again := c.Next(); again != err {
					t.Fatalf("Next after %v: %v", err, again)
				}
				break
			}
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			if rc.Row <= lastRow {
				t.Fatalf("row %d after row %d", rc.Row, lastRow)
			}
			if rc.Offset < lastOff {
				t.Fatalf("offset %d after offset %d", rc.Offset, lastOff)
			}
			lastRow, lastOff = rc.Row, rc.Offset
			if rc.Malformed == "" && len(rc.Cells) > len(hdr) {
				t.Fatalf("row %d has %d cells, header %d, not malformed", rc.Row, len(rc.Cells), len(hdr))
			}
			for _, cell := range rc.Cells {
				if !utf8.ValidString(cell) || strings.IndexByte(cell, 0) >= 0 {
					t.Fatalf("row %d: bad cell %q", rc.Row, cell)
				}
				if small && len(cell) > 4*8 { // 8 bytes, each at most 3 once decoded
					t.Fatalf("row %d: cell of %d bytes passed a cap of 8", rc.Row, len(cell))
				}
			}
			recs = append(recs, rc)
		}
		if small && (len(recs) > opts.MaxRows || end != io.EOF && len(recs) != opts.MaxRows) {
			t.Fatalf("read ended with %v after %d records (row cap %d)", end, len(recs), opts.MaxRows)
		}

		// Reading in one-byte chunks crosses every buffer boundary and must not change a thing.
		c1, err := read.OpenCSV(iotest.OneByteReader(bytes.NewReader(data)), opts)
		if err != nil {
			t.Fatalf("OpenCSV one byte at a time: %v", err)
		}
		if c1.Delimiter() != c.Delimiter() || !reflect.DeepEqual(c1.Header(), hdr) || c1.HeaderRow() != c.HeaderRow() {
			t.Fatalf("one byte at a time: header %q %q row %d, want %q %q row %d",
				c1.Header(), c1.Delimiter(), c1.HeaderRow(), hdr, c.Delimiter(), c.HeaderRow())
		}
		for i := 0; ; i++ {
			rc, err := c1.Next()
			if err != nil {
				if !sameEnd(err, end) || i != len(recs) {
					t.Fatalf("one byte at a time: record %d: %v (want %d records, then %v)", i, err, len(recs), end)
				}
				break
			}
			if i >= len(recs) || !reflect.DeepEqual(rc, recs[i]) {
				t.Fatalf("one byte at a time: record %d = %+v, want %+v", i, rc, first(recs[i:]))
			}
		}

		c2, err := read.OpenCSV(bytes.NewReader(data), opts)
		if err != nil {
			t.Fatalf("second OpenCSV: %v", err)
		}
		if n, err := c2.CountRows(); !sameEnd(err, end) || n != len(recs) {
			t.Fatalf("CountRows = %d, %v; Next read %d, then %v", n, err, len(recs), end)
		}

		if len(recs) > 0 {
			cp := recs[len(recs)/2]
			ropts := opts
			ropts.StartOffset, ropts.StartRow = cp.Offset, cp.Row
			c3, err := read.OpenCSV(bytes.NewReader(data), ropts)
			if err != nil {
				t.Fatalf("resume at row %d offset %d: %v", cp.Row, cp.Offset, err)
			}
			var rest []read.Record
			for {
				rc, err := c3.Next()
				if err != nil {
					break
				}
				rest = append(rest, rc)
			}
			// A resumed read counts rows from its start, so after an original read cut short
			// by the row cap it may read further.
			want := recs[len(recs)/2+1:]
			if len(rest) < len(want) || end == io.EOF && len(rest) > len(want) ||
				len(want) > 0 && !reflect.DeepEqual(rest[:len(want)], want) {
				t.Fatalf("resume at row %d offset %d: got %+v, want %+v", cp.Row, cp.Offset, rest, want)
			}
		}
	})
}

// maxSeedBytes is the largest test input FuzzCSV adds to its seed corpus: huge seeds would
// slow every run of the fuzzer down.
const maxSeedBytes = 16 << 10

// sameEnd reports whether two reads ended the same way: both at the end of the input (io.EOF,
// or nil from CountRows), or both with the same error.
func sameEnd(err, end error) bool {
	if err == nil {
		err = io.EOF
	}
	if end == nil {
		end = io.EOF
	}
	return err == end || err.Error() == end.Error()
}
