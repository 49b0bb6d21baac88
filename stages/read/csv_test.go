package read_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"golang.org/x/text/encoding/unicode"

	"github.com/leadpipe/leadpipe/stages/read"
)

// rec is an expected record: its row, cells and, if malformed, a substring of the reason.
type rec struct {
	row   int
	cells []string
	bad   string
}

func r(row int, cells ...string) rec { return rec{row: row, cells: cells} }

func bad(row int, why string, cells ...string) rec { return rec{row: row, cells: cells, bad: why} }

// readAll opens data and reads every record.
func readAll(t testing.TB, data []byte, opts read.CSVOptions) (*read.CSV, []read.Record, error) {
	t.Helper()
	c, err := read.OpenCSV(bytes.NewReader(data), opts)
	if err != nil {
		return nil, nil, err
	}
	var recs []read.Record
	for {
		rc, err := c.Next()
		if err == io.EOF {
			return c, recs, nil
		}
		if err != nil {
			return c, recs, err
		}
		recs = append(recs, rc)
	}
}

func utf16(t testing.TB, order unicode.Endianness, s string) []byte {
	t.Helper()
	b, err := unicode.UTF16(order, unicode.UseBOM).NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// bigPrefix is a header and enough plain rows to push what follows past the 64 KiB that are
// checked for binary content.
func bigPrefix() (string, int) {
	var sb strings.Builder
	sb.WriteString("a,b\n")
	n := 0
	for sb.Len() < 70<<10 {
		sb.WriteString("filler,row\n")
		n++
	}
	return sb.String(), n + 1 // rows 2..n+1 are filler
}

// csvCase is a case of TestCSV; FuzzCSV seeds its corpus with their inputs.
type csvCase struct {
	name      string
	in        []byte
	opts      read.CSVOptions
	header    []string
	headerRow int // 0 means 1
	delim     rune
	enc       string
	want      []rec
}

func csvCases(t testing.TB) []csvCase {
	prefix, prefixRows := bigPrefix()
	fillers := make([]rec, prefixRows-1)
	for i := range fillers {
		fillers[i] = r(i+2, "filler", "row")
	}
	return []csvCase{
		{
			name:   "plain comma",
			in:     []byte("email,first,last\na@x.com,Ann,Lee\nb@x.com,Bob,Ray\n"),
			header: []string{"email", "first", "last"},
			want:   []rec{r(2, "a@x.com", "Ann", "Lee"), r(3, "b@x.com", "Bob", "Ray")},
		},
		{
			name:   "no final newline",
			in:     []byte("a,b\n1,2"),
			header: []string{"a", "b"},
			want:   []rec{r(2, "1", "2")},
		},
		{
			name:   "utf-8 bom stripped",
			in:     []byte("\xEF\xBB\xBFemail,name\na@x.com,Zoë\n"),
			header: []string{"email", "name"},
			want:   []rec{r(2, "a@x.com", "Zoë")},
		},
		{
			name:   "utf-16le with bom",
			in:     utf16(t, unicode.LittleEndian, "email,name\r\na@x.com,Café 東京\r\n"),
			header: []string{"email", "name"},
			enc:    "utf-16le",
			want:   []rec{r(2, "a@x.com", "Café 東京")},
		},
		{
			name:   "utf-16be with bom, tabs",
			in:     utf16(t, unicode.BigEndian, "email\tname\na@x.com\tCafé\n"),
			header: []string{"email", "name"},
			delim:  '\t',
			enc:    "utf-16be",
			want:   []rec{r(2, "a@x.com", "Café")},
		},
		{
			name:   "windows-1252 fallback per field",
			in:     []byte("name,city,quote\nCaf\xe9,Zürich,\x93hi\x94 \x80\n"),
			header: []string{"name", "city", "quote"},
			want:   []rec{r(2, "Café", "Zürich", "“hi” €")},
		},
		{
			name:   "windows-1252 header",
			in:     []byte("Pr\xe9nom;Nom\nJos\xe9;Garc\xeda\n"),
			header: []string{"Prénom", "Nom"},
			delim:  ';',
			want:   []rec{r(2, "José", "García")},
		},
		{
			name:   "tab",
			in:     []byte("email\tcompany\na@x.com\tAcme, Inc.\n"),
			header: []string{"email", "company"},
			delim:  '\t',
			want:   []rec{r(2, "a@x.com", "Acme, Inc.")},
		},
		{
			name:   "semicolon with decimal commas",
			in:     []byte("name;score;rate\nAnn;1,5;2,25\nBob;3,0;4,5\n"),
			header: []string{"name", "score", "rate"},
			delim:  ';',
			want:   []rec{r(2, "Ann", "1,5", "2,25"), r(3, "Bob", "3,0", "4,5")},
		},
		{
			name:   "pipe",
			in:     []byte("a|b|c\n1|2|3\n"),
			header: []string{"a", "b", "c"},
			delim:  '|',
			want:   []rec{r(2, "1", "2", "3")},
		},
		{
			name:   "comma with other candidates in data",
			in:     []byte("email,notes\na@x.com,a;b|c\td\nb@x.com,x;y\n"),
			header: []string{"email", "notes"},
			want:   []rec{r(2, "a@x.com", "a;b|c\td"), r(3, "b@x.com", "x;y")},
		},
		{
			name:   "quoted delimiter in header does not fool the sniffer",
			in:     []byte("\"Last, First\";Email\n\"Lee, Ann\";a@x.com\n"),
			header: []string{"Last, First", "Email"},
			delim:  ';',
			want:   []rec{r(2, "Lee, Ann", "a@x.com")},
		},
		{
			name:   "one column",
			in:     []byte("email\na@x.com\nb@x.com\n"),
			header: []string{"email"},
			want:   []rec{r(2, "a@x.com"), r(3, "b@x.com")},
		},
		{
			name: "quoted delimiters, quotes and newlines",
			in: []byte("name,note\n" +
				"\"Lee, Ann\",\"she said \"\"hi\"\"\"\n" +
				"\"multi\nline\r\nfield\",x\n" +
				"after,multi\n"),
			header: []string{"name", "note"},
			want: []rec{
				r(2, "Lee, Ann", `she said "hi"`),
				r(3, "multi\nline\r\nfield", "x"),
				r(4, "after", "multi"),
			},
		},
		{
			name:   "crlf",
			in:     []byte("a,b\r\n1,2\r\n\r\n3,4\r\n"),
			header: []string{"a", "b"},
			want:   []rec{r(2, "1", "2"), r(4, "3", "4")},
		},
		{
			name:   "lone cr line endings",
			in:     []byte("a,b\r1,2\r\"x\ry\",3\r4,5"),
			header: []string{"a", "b"},
			want:   []rec{r(2, "1", "2"), r(3, "x\ry", "3"), r(4, "4", "5")},
		},
		{
			name:   "blank rows count but are not returned",
			in:     []byte("a,b\n1,2\n\n,\n  , \t\n\"\",\" \"\n3,4\n\n"),
			header: []string{"a", "b"},
			want:   []rec{r(2, "1", "2"), r(7, "3", "4")},
		},
		{
			name:      "blank lines before the header",
			in:        []byte("\n , \n\r\n  email , name \nx@y.z,Al\n"),
			header:    []string{"email", "name"},
			headerRow: 4,
			want:      []rec{r(5, "x@y.z", "Al")},
		},
		{
			name:   "cells are raw, header trimmed",
			in:     []byte(" Email ,\tName\n a@x.com , Ann \n"),
			header: []string{"Email", "Name"},
			want:   []rec{r(2, " a@x.com ", " Ann ")},
		},
		{
			name:   "ragged rows",
			in:     []byte("a,b,c,d\n1,2\n1,2,3,4,5\n1\n"),
			header: []string{"a", "b", "c", "d"},
			want: []rec{
				r(2, "1", "2"),
				bad(3, "row has 5 cells but the header has 4", "1", "2", "3", "4", "5"),
				r(4, "1"),
			},
		},
		{
			name:   "trailing empty cells dropped",
			in:     []byte("a,b\n1,2,,\n3,, ,\"\"\n5,6,,x\n"),
			header: []string{"a", "b"},
			want: []rec{
				r(2, "1", "2"),
				r(3, "3", ""),
				bad(4, "row has 4 cells but the header has 2", "5", "6", "", "x"),
			},
		},
		{
			name:   "trailing empty header cells dropped",
			in:     []byte("a,b,,\n1,2,,\n1,2,3,\n"),
			header: []string{"a", "b"},
			want:   []rec{r(2, "1", "2"), bad(3, "row has 3 cells but the header has 2", "1", "2", "3")},
		},
		{
			name:   "many trailing delimiters",
			in:     []byte("a,b" + strings.Repeat(",", 1000) + "\n1,2" + strings.Repeat(",", 1000) + "\n1,2" + strings.Repeat(",", 900) + "x\n"),
			header: []string{"a", "b"},
			want: []rec{
				r(2, "1", "2"),
				{row: 3, bad: "row has 902 cells but the header has 2"},
			},
		},
		{
			name:   "duplicate and empty header names kept",
			in:     []byte("email,,email\n1,2,3\n"),
			header: []string{"email", "", "email"},
			want:   []rec{r(2, "1", "2", "3")},
		},
		{
			name:   "lenient quotes",
			in:     []byte("a,b,c\nx\"y,\"ab\"c,\"q\"\" \"z\n \"s\",t,\"\"\"\"\n"),
			header: []string{"a", "b", "c"},
			want:   []rec{r(2, `x"y`, "abc", `q" z`), r(3, ` "s"`, "t", `"`)},
		},
		{
			name:   "unterminated quote at eof",
			in:     []byte("a,b\n1,2\n3,4\n\n5,6\n7,8\n\"open,9\n10,11\n"),
			header: []string{"a", "b"},
			want: []rec{
				r(2, "1", "2"), r(3, "3", "4"), r(5, "5", "6"), r(6, "7", "8"),
				bad(7, "unterminated quote: the quoted field in column 1 of row 7 is never closed, so it runs to the end of the file", "open,9\n10,11\n"),
			},
		},
		{
			name:   "oversize field then a good row",
			in:     []byte("a,b,c\n1,2,0123456789ABC\n3,4,5\n6,\"0123456789\n0123456789\",7\n8,9,0123456789\n"),
			opts:   read.CSVOptions{MaxFieldBytes: 10},
			header: []string{"a", "b", "c"},
			want: []rec{
				bad(2, "cell in column 3 is longer than 10 bytes", "1", "2", ""),
				r(3, "3", "4", "5"),
				bad(4, "cell in column 2 is longer than 10 bytes", "6", "", "7"),
				r(5, "8", "9", "0123456789"),
			},
		},
		{
			name:   "default field cap",
			in:     []byte("a,b\n1," + strings.Repeat("x", 1<<20+1) + "\n3," + strings.Repeat("y", 1<<20-1) + "\n"),
			header: []string{"a", "b"},
			want: []rec{
				bad(2, "cell in column 2 is longer than 1048576 bytes", "1", ""),
				r(3, "3", strings.Repeat("y", 1<<20-1)),
			},
		},
		{
			name: "record cap",
			in: []byte(strings.Repeat("c,", 19) + "c\n" + strings.Repeat(strings.Repeat("z", 900_000)+",", 19) + "z\n" +
				"\"" + strings.Repeat("q\n", 100) + "\",4\n"),
			header: []string{"c", "c", "c", "c", "c", "c", "c", "c", "c", "c", "c", "c", "c", "c", "c", "c", "c", "c", "c", "c"},
			want:   []rec{bad(2, "row is longer than 16777216 bytes"), r(3, strings.Repeat("q\n", 100), "4")},
		},
		{
			name:   "nul bytes removed",
			in:     []byte(prefix + "a\x00b,\"c\x00\"\n\x00,\x00\nz,z\n"),
			header: []string{"a", "b"},
			want:   append(append([]rec{}, fillers...), r(prefixRows+1, "ab", "c"), r(prefixRows+3, "z", "z")),
		},
		{
			name:   "header only",
			in:     []byte("a,b\n"),
			header: []string{"a", "b"},
		},
		{
			name:   "header only without newline, blank rows after",
			in:     []byte("a;b\n;\n\n"),
			header: []string{"a", "b"},
			delim:  ';',
		},
		{
			name:   "single byte control chars below the threshold are kept",
			in:     []byte("a,b\n" + strings.Repeat("xxxxxxxxx,yyyyyyyyy\n", 10) + "\x1a\n"),
			header: []string{"a", "b"},
			want: func() []rec {
				var w []rec
				for i := range 10 {
					w = append(w, r(i+2, "xxxxxxxxx", "yyyyyyyyy"))
				}
				return append(w, r(12, "\x1a"))
			}(),
		},
	}
}

func TestCSV(t *testing.T) {
	tests := csvCases(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, recs, err := readAll(t, tt.in, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.Header(), tt.header) {
				t.Errorf("Header() = %q, want %q", c.Header(), tt.header)
			}
			if want := max(tt.headerRow, 1); c.HeaderRow() != want {
				t.Errorf("HeaderRow() = %d, want %d", c.HeaderRow(), want)
			}
			if want := cmp(tt.delim, ','); c.Delimiter() != want {
				t.Errorf("Delimiter() = %q, want %q", c.Delimiter(), want)
			}
			if want := cmp(tt.enc, "utf-8"); c.Encoding() != want {
				t.Errorf("Encoding() = %q, want %q", c.Encoding(), want)
			}
			checkRecords(t, recs, tt.want)
		})
	}
}

func cmp[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func checkRecords(t *testing.T, got []read.Record, want []rec) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d records, want %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		if g.Row != w.row {
			t.Errorf("record %d: Row = %d, want %d", i, g.Row, w.row)
		}
		if w.cells != nil && !reflect.DeepEqual(g.Cells, w.cells) {
			t.Errorf("record %d (row %d): Cells = %.300q, want %.300q", i, g.Row, g.Cells, w.cells)
		}
		if w.bad == "" && g.Malformed != "" {
			t.Errorf("record %d (row %d): unexpected Malformed %q", i, g.Row, g.Malformed)
		}
		if w.bad != "" && !strings.Contains(g.Malformed, w.bad) {
			t.Errorf("record %d (row %d): Malformed = %q, want it to contain %q", i, g.Row, g.Malformed, w.bad)
		}
	}
}

func TestCSVOffsets(t *testing.T) {
	in := "\xEF\xBB\xBFa,b\r\n1,2\r\n\r\n\"x\ny\",3\n4,5"
	c, recs, err := readAll(t, []byte(in), read.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_ = c
	body := in[3:] // offsets count after the BOM
	var got []int64
	for _, rc := range recs {
		got = append(got, rc.Offset)
	}
	want := []int64{
		int64(strings.Index(body, "1,2\r\n") + 5),
		int64(strings.Index(body, ",3\n") + 3),
		int64(len(body)),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("offsets = %v, want %v", got, want)
	}
}

// openCase is a case of TestOpenCSVErrors; FuzzCSV seeds its corpus with their inputs.
type openCase struct {
	name   string
	in     []byte
	target error
	detail string
}

func openCases(t testing.TB) []openCase {
	prefix, _ := bigPrefix()
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(i*7919 + i>>3) // includes 0x00
	}
	return []openCase{
		{"empty", nil, read.ErrEmpty, "file is empty: 0 bytes"},
		{"bom only", []byte("\xEF\xBB\xBF"), read.ErrEmpty, "0 bytes"},
		{"utf-16 bom only", []byte("\xFF\xFE"), read.ErrEmpty, "0 bytes"},
		{"whitespace", []byte(" \r\n\t\n  \n"), read.ErrEmpty, "only whitespace"},
		{"blank rows only", []byte(",,\n , \n\n"), read.ErrNoHeader, "all 3 rows are blank"},
		{"one blank row", []byte(`""`), read.ErrNoHeader, "only row is blank"},
		{"nul bytes", []byte("email,name\na@x.com,A" + strings.Repeat("\x00", 9) + "nn\n"), read.ErrNotText, "file is not text: 9 binary NUL (0x00) bytes in its first 32 bytes, the first at offset 20"},
		{"few nul bytes are stripped, not binary", []byte("email,name\na@x.com,A\x00n\x00n\n"), nil, ""},
		{"nine nul bytes in 64 KiB are stripped", []byte(prefix[:40000] + strings.Repeat("\x00x", 9) + prefix[40000:]), nil, ""},
		{"nul padding at the end is not binary", []byte("email,name\na@x.com,Ann\n" + strings.Repeat("\x00", 4096)), nil, ""},
		{"binary garbage", garbage, read.ErrNotText, "16 binary NUL (0x00) bytes in its first 4096 bytes"},
		{"zip / xlsx", []byte("PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00"), read.ErrNotText, "10 of the first 13 bytes are control characters (the first, 0x03, at offset 2)"},
		{"control bytes", []byte("\x01\x02\x03\x04\x05\x06abc,def\n\x07\x08\x0e\x0f\x10,x\n"), read.ErrNotText, "control characters"},
		{"utf-16 without bom", utf16(t, unicode.LittleEndian, "email,name\nx@y.z,Al\n")[2:], read.ErrNotText, "UTF-16"},
		{"unterminated quote in header", []byte("\"email,name\nx,y\n"), read.ErrNoHeader, "row 1, the first non-blank row, cannot be read as a header: unterminated quote: the quoted field in column 1 of row 1 is never closed"},
		{"oversize header", []byte("\n" + strings.Repeat("x", 2000) + ",b\n"), read.ErrNoHeader, "row 2, the first non-blank row, cannot be read as a header: cell in column 1 is longer"},
		{"too many header cells", []byte(strings.Repeat("a,", 70000) + "b\n"), read.ErrTooManyColumns, "file has too many columns: the header (row 1) has 70001 columns; the limit is 2000"},
		{"nul past the check is not binary", []byte(prefix + "\x00"), nil, ""},
	}
}

func TestOpenCSVErrors(t *testing.T) {
	for _, tt := range openCases(t) {
		t.Run(tt.name, func(t *testing.T) {
			_, err := read.OpenCSV(bytes.NewReader(tt.in), read.CSVOptions{MaxFieldBytes: 1000})
			if tt.target == nil {
				if err != nil {
					t.Fatalf("OpenCSV: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.target) {
				t.Fatalf("OpenCSV error = %v, want %v", err, tt.target)
			}
			if !strings.Contains(err.Error(), tt.detail) {
				t.Errorf("OpenCSV error = %q, want it to contain %q", err, tt.detail)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	boom := errors.New("boom")
	t.Run("while opening", func(t *testing.T) {
		_, err := read.OpenCSV(iotest.ErrReader(boom), read.CSVOptions{})
		if !errors.Is(err, boom) {
			t.Fatalf("OpenCSV error = %v, want %v", err, boom)
		}
	})
	t.Run("while reading", func(t *testing.T) {
		prefix, _ := bigPrefix()
		in := io.MultiReader(strings.NewReader(prefix+strings.Repeat("x,y\n", 100000)), iotest.ErrReader(boom))
		c, err := read.OpenCSV(in, read.CSVOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for {
			_, err = c.Next()
			if err != nil {
				break
			}
		}
		if !errors.Is(err, boom) {
			t.Fatalf("Next error = %v, want %v", err, boom)
		}
	})
	t.Run("one byte at a time", func(t *testing.T) {
		in := "\xEF\xBB\xBFa;b\r\n\"1\r\n\"\"x\"\"\";2\r\n\r\n3;4\r"
		c, err := read.OpenCSV(iotest.OneByteReader(strings.NewReader(in)), read.CSVOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var recs []read.Record
		for {
			rc, err := c.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			recs = append(recs, rc)
		}
		checkRecords(t, recs, []rec{r(2, "1\r\n\"x\"", "2"), r(4, "3", "4")})
		if last := recs[len(recs)-1].Offset; last != int64(len(in)-3) {
			t.Errorf("last offset = %d, want %d", last, len(in)-3)
		}
	})
}

// resumeInputs are files read in full and then resumed from every checkpoint.
func resumeInputs(t testing.TB) map[string][]byte {
	var big strings.Builder
	big.WriteString("\n\nemail;name;note\n")
	for i := range 3000 {
		switch i % 7 {
		case 0:
			fmt.Fprintf(&big, "u%d@x.com;\"Name\n%d\";\"a;b\"\r\n", i, i)
		case 3:
			big.WriteString("\n;;\n")
		case 5:
			fmt.Fprintf(&big, "u%d@x.com;Caf\xe9;1;2;3\n", i)
		default:
			fmt.Fprintf(&big, "u%d@x.com;N%d;note %d\n", i, i, i)
		}
	}
	big.WriteString("\"unterminated;x\n")
	return map[string][]byte{
		"small":    []byte("a,b\n1,2\n\n\"x\ny\",3\n,\n4,5\n"),
		"bom":      []byte("\xEF\xBB\xBFa,b\r\n1,2\r\n\r\n3,4\r\n"),
		"utf-16le": utf16(t, unicode.LittleEndian, "a,b\n1,Café\n\n3,東京\n4,5\n"),
		"big":      []byte(big.String()),
	}
}

func TestResume(t *testing.T) {
	for name, in := range resumeInputs(t) {
		t.Run(name, func(t *testing.T) {
			_, all, err := readAll(t, in, read.CSVOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(all) == 0 {
				t.Fatal("no records")
			}
			step := max(1, len(all)/40)
			for i := 0; i < len(all); i += step {
				cp := all[i]
				_, rest, err := readAll(t, in, read.CSVOptions{StartOffset: cp.Offset, StartRow: cp.Row})
				if err != nil {
					t.Fatalf("resume at row %d: %v", cp.Row, err)
				}
				if !reflect.DeepEqual(rest, all[i+1:]) && !(len(rest) == 0 && i == len(all)-1) {
					t.Fatalf("resume at row %d offset %d: got %d records starting %+v, want %d",
						cp.Row, cp.Offset, len(rest), first(rest), len(all)-i-1)
				}
			}
		})
	}
}

func first(rs []read.Record) any {
	if len(rs) == 0 {
		return nil
	}
	return rs[0]
}

func TestResumeErrors(t *testing.T) {
	in := []byte("a,b\n1,2\n3,4\n")
	tests := []struct {
		name string
		opts read.CSVOptions
		want string
	}{
		{"inside header", read.CSVOptions{StartOffset: 2, StartRow: 1}, "inside the header"},
		{"past the end", read.CSVOptions{StartOffset: 100, StartRow: 3}, "past the end"},
		{"row before header", read.CSVOptions{StartOffset: 8, StartRow: 0}, "before the header row"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := read.OpenCSV(bytes.NewReader(in), tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("OpenCSV error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	c, recs, err := readAll(t, in, read.CSVOptions{StartOffset: int64(len(in)), StartRow: 3})
	if err != nil || len(recs) != 0 || c.Header()[1] != "b" {
		t.Fatalf("resume at the end: %d records, err %v", len(recs), err)
	}
}

func TestCountRows(t *testing.T) {
	tests := []struct {
		name string
		in   string
		skip int // records read with Next first
		want int
	}{
		{"empty body", "a,b\n", 0, 0},
		{"blank rows not counted, malformed counted", "a,b\n1,2\n\n,\n1,2,3\n\"x\ny\",z\n\"open\n", 0, 4},
		{"after some Next", "a\n1\n2\n3\n\n4\n", 2, 2},
		// Lines that look plain at their start but are not one record each.
		{"a lone CR ends a record", "a,b\n1,2\r3,4\n5,6\n", 0, 3},
		{"CRLF ends one", "a,b\r\n1,2\r\n3,4\r\n", 0, 2},
		{"a quoted field runs over lines", "a,b\n1,\"x\ny\nz\"\n2,3\n", 0, 2},
		{"a line of spaces and delimiters is blank", "a,b\n \t, \n,\n1,2\n", 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := read.OpenCSV(strings.NewReader(tt.in), read.CSVOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for range tt.skip {
				if _, err := c.Next(); err != nil {
					t.Fatal(err)
				}
			}
			n, err := c.CountRows()
			if err != nil || n != tt.want {
				t.Fatalf("CountRows() = %d, %v; want %d", n, err, tt.want)
			}
			if _, err := c.Next(); err != io.EOF {
				t.Fatalf("Next after CountRows: %v, want io.EOF", err)
			}
		})
	}
	for name, in := range resumeInputs(t) {
		t.Run("matches Next/"+name, func(t *testing.T) {
			_, all, err := readAll(t, in, read.CSVOptions{})
			if err != nil {
				t.Fatal(err)
			}
			c, err := read.OpenCSV(bytes.NewReader(in), read.CSVOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if n, err := c.CountRows(); err != nil || n != len(all) {
				t.Fatalf("CountRows() = %d, %v; Next read %d", n, err, len(all))
			}
		})
	}
}

func TestCountRowsAllocs(t *testing.T) {
	var sb strings.Builder
	sb.WriteString("a,b,c,d\n")
	for range 20000 {
		sb.WriteString("alpha,\"beta, gamma\",delta,epsilon\n")
	}
	in := sb.String()
	allocs := testing.AllocsPerRun(3, func() {
		c, err := read.OpenCSV(strings.NewReader(in), read.CSVOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := c.CountRows(); err != nil || n != 20000 {
			t.Fatalf("CountRows() = %d, %v", n, err)
		}
	})
	if allocs > 50 {
		t.Errorf("CountRows of 20000 records made %v allocations; want a handful", allocs)
	}
}

// TestMatchesEncodingCSV reads a large RFC 4180 file, through reads of every size, and checks
// that the cells are those encoding/csv reads and the row numbers count records.
func TestMatchesEncodingCSV(t *testing.T) {
	data := genProspects(5000) // about 900 KB: several buffer refills
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	want, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	readers := map[string]func() io.Reader{
		"whole":      func() io.Reader { return bytes.NewReader(data) },
		"half":       func() io.Reader { return iotest.HalfReader(bytes.NewReader(data)) },
		"one byte":   func() io.Reader { return iotest.OneByteReader(bytes.NewReader(data)) },
		"data error": func() io.Reader { return iotest.DataErrReader(bytes.NewReader(data)) },
	}
	for name, open := range readers {
		t.Run(name, func(t *testing.T) {
			c, err := read.OpenCSV(open(), read.CSVOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.Header(), want[0]) {
				t.Fatalf("header %q, want %q", c.Header(), want[0])
			}
			for i := 1; ; i++ {
				rc, err := c.Next()
				if err == io.EOF {
					if i != len(want) {
						t.Fatalf("read %d records, want %d", i-1, len(want)-1)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if rc.Row != i+1 || rc.Malformed != "" {
					t.Fatalf("record %d: row %d, malformed %q", i, rc.Row, rc.Malformed)
				}
				// (The file has no empty cells past the header's width, which we would drop.)
				if !reflect.DeepEqual(rc.Cells, want[i]) {
					t.Fatalf("row %d: %q, want %q", rc.Row, rc.Cells, want[i])
				}
			}
		})
	}
}
