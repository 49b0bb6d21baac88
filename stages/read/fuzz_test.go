package read_test

import (
	"bytes"
	"errors"
	"io"
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
// checkpoint yields exactly the records after it.
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
	for _, s := range seeds {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, small bool) {
		opts := read.CSVOptions{}
		if small {
			opts.MaxFieldBytes = 8
		}
		c, err := read.OpenCSV(bytes.NewReader(data), opts)
		if err != nil {
			if !errors.Is(err, read.ErrEmpty) && !errors.Is(err, read.ErrNotText) && !errors.Is(err, read.ErrNoHeader) {
				t.Fatalf("OpenCSV error is no sentinel: %v", err)
			}
			return
		}
		hdr := c.Header()
		if len(hdr) == 0 || c.HeaderRow() < 1 {
			t.Fatalf("header %q at row %d", hdr, c.HeaderRow())
		}
		for _, h := range hdr {
			if !utf8.ValidString(h) || strings.IndexByte(h, 0) >= 0 || h != strings.TrimSpace(h) {
				t.Fatalf("bad header cell %q", h)
			}
		}
		var recs []read.Record
		lastRow, lastOff := c.HeaderRow(), int64(0)
		for {
			rc, err := c.Next()
			if err == io.EOF {
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
				if err != io.EOF || i != len(recs) {
					t.Fatalf("one byte at a time: record %d: %v (want %d records)", i, err, len(recs))
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
		if n, err := c2.CountRows(); err != nil || n != len(recs) {
			t.Fatalf("CountRows = %d, %v; Next read %d", n, err, len(recs))
		}

		if len(recs) > 0 {
			cp := recs[len(recs)/2]
			c3, err := read.OpenCSV(bytes.NewReader(data), read.CSVOptions{
				MaxFieldBytes: opts.MaxFieldBytes, StartOffset: cp.Offset, StartRow: cp.Row,
			})
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
			want := recs[len(recs)/2+1:]
			if len(rest) != len(want) || len(want) > 0 && !reflect.DeepEqual(rest, want) {
				t.Fatalf("resume at row %d offset %d: got %+v, want %+v", cp.Row, cp.Offset, rest, want)
			}
		}
	})
}
