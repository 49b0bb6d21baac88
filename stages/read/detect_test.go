package read_test

import (
	"os"
	"testing"

	"github.com/leadpipe/leadpipe/stages/read"
)

// TestIsWorkbook checks that IsWorkbook, from a file's first bytes, says what Detect says: a
// workbook for the zip, OLE2 and bare BIFF heads, CSV for anything else, short files included.
func TestIsWorkbook(t *testing.T) {
	for _, c := range []struct {
		name     string
		path     string
		workbook bool
	}{
		{"xlsx", corpusFile(t, "poi-TwoSheetsOneHidden.xlsx"), true},
		{"xls", corpusFile(t, "poi-TwoSheetsOneHidden.xls"), true},
		{"encrypted xlsx", corpusFile(t, "poi-58616.xlsx"), true},
		{"biff4", corpusFile(t, "xlrd-biff4_no_format_no_window2.xls"), true},
		{"ods", "testdata/ods/prospects.ods", true},
		{"ole2 head only", writeTemp(t, "ole2.xls", []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}), true},
		{"zip head only", writeTemp(t, "head.zip", []byte("PK\x03\x04")), true},
		{"csv", writeTemp(t, "a.csv", []byte("Email\na@example.com\n")), false},
		{"csv starting PK", writeTemp(t, "pk.csv", []byte("PK,Name\n1,a\n")), false},
		{"short", writeTemp(t, "short.csv", []byte("a")), false},
		{"empty", writeTemp(t, "empty.csv", nil), false},
	} {
		f, err := os.Open(c.path)
		if err != nil {
			t.Fatal(err)
		}
		workbook, err := read.IsWorkbook(f)
		format, derr := read.Detect(f)
		f.Close()
		if err != nil || workbook != c.workbook {
			t.Errorf("%s: IsWorkbook = %v, %v; want %v", c.name, workbook, err, c.workbook)
		}
		if derr != nil || (format != "csv") != c.workbook {
			t.Errorf("%s: Detect = %q, %v; IsWorkbook says %v", c.name, format, derr, c.workbook)
		}
	}
}
