package isolate_test

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/internal/corpus"
	"github.com/leadpipe/leadpipe/stages/read"
	"github.com/leadpipe/leadpipe/stages/read/isolate"
)

// listed is what listing a file's sheets gave: the sheets, or the error's text.
type listed struct {
	Sheets []read.Sheet
	Err    string
}

func list(sheets []read.Sheet, err error) listed {
	return listed{Sheets: sheets, Err: errText(err)}
}

// TestSheetsSameAsInProcess checks that a child lists the sheets of every fixture as
// read.Sheets does in this process — a workbook's with their visibility, an encrypted one's once
// decrypted — and fails alike on a malformed one, the error's kind crossing the pipe.
func TestSheetsSameAsInProcess(t *testing.T) {
	tempDir(t)
	p := &isolate.Parser{}
	files := fixtures(t)
	files["poi-TwoSheetsOneHidden.xlsx"] = corpus.Path(t, "poi-TwoSheetsOneHidden.xlsx")
	files["poi-TwoSheetsOneHidden.xls"] = corpus.Path(t, "poi-TwoSheetsOneHidden.xls")
	files["leads.csv"] = write(t, "leads.csv", []byte("Email\na@example.com\n"))
	got := map[string]listed{}
	for name, path := range files {
		wantSheets, wantErr := read.Sheets(open(t, path), read.Options{})
		gotSheets, gotErr := p.Sheets(open(t, path), read.Options{})
		want := list(wantSheets, wantErr)
		got[name] = list(gotSheets, gotErr)
		if !reflect.DeepEqual(got[name], want) {
			t.Errorf("%s:\n got %+v\nwant %+v", name, got[name], want)
		}
		for _, kind := range []error{read.ErrFormat, read.ErrNotWorkbook} {
			if errors.Is(gotErr, kind) != errors.Is(wantErr, kind) {
				t.Errorf("%s: errors.Is(%v, %v) differs from this process's", name, gotErr, kind)
			}
		}
	}
	// What the fixtures list, so that the comparison above compares something.
	sheet1 := []read.Sheet{{Name: "Sheet1", Visibility: "visible"}}
	hidden := []read.Sheet{{Name: "Sheet1", Visibility: "hidden"}, {Name: "Sheet2", Visibility: "visible"}}
	for name, want := range map[string][]read.Sheet{
		"leads.xlsx": sheet1, "encrypted.xlsx": sheet1, "leads.ods": {{Name: "Leads", Visibility: "visible"}},
		"prospects.xls":               {{Name: "Prospects", Visibility: "visible"}, {Name: "Archive", Visibility: "visible"}},
		"poi-TwoSheetsOneHidden.xlsx": hidden, "poi-TwoSheetsOneHidden.xls": hidden,
	} {
		if g := got[name]; g.Err != "" || !reflect.DeepEqual(g.Sheets, want) {
			t.Errorf("%s: %+v, want sheets %+v", name, g, want)
		}
	}
	for name, want := range map[string]string{
		"truncated.xlsx":   "the file is not a valid XLSX workbook",
		"truncated.xls":    "XLS",
		"truncated.ods":    "ODS",
		"no-workbook.xlsx": "it has no xl/workbook.xml",
		"protected.xlsx":   "the XLSX file is protected with a password",
		"leads.csv":        "it reads as CSV, which has no sheets",
	} {
		if g := got[name]; g.Sheets != nil || !strings.Contains(g.Err, want) {
			t.Errorf("%s: %+v, want an error saying %q", name, g, want)
		}
	}
}

// TestSheetsInChild checks that the sheets of every workbook format are listed by a child:
// with no child to start, each fails with ErrNotStarted; a CSV file's error is this process's.
func TestSheetsInChild(t *testing.T) {
	tempDir(t)
	p := &isolate.Parser{Command: "/nonexistent"}
	files := fixtures(t)
	for _, name := range []string{"leads.xlsx", "encrypted.xlsx", "prospects.xls", "leads.ods"} {
		if _, err := p.Sheets(open(t, files[name]), read.Options{}); !errors.Is(err, isolate.ErrNotStarted) {
			t.Errorf("%s: error %v, want ErrNotStarted: the file was not given to a child", name, err)
		}
	}
	_, err := p.Sheets(open(t, write(t, "a.csv", []byte("Email\na@example.com\n"))), read.Options{})
	if !errors.Is(err, read.ErrNotWorkbook) {
		t.Errorf("CSV: error %v, want ErrNotWorkbook", err)
	}
}

// TestSheetsMemoryLimit checks that a child listing the sheets of a workbook past its memory
// limit is stopped with the limit's message, while it lists them all within an ample limit.
func TestSheetsMemoryLimit(t *testing.T) {
	tempDir(t)
	bin := buildLeadpipe(t)
	const n = 400_000
	path := manySheets(t, n)
	opts := read.Options{MaxSheetXMLBytes: 1 << 30, MaxUnzippedBytes: 1 << 30}
	sheets, err := (&isolate.Parser{Command: bin, MemoryBytes: 1 << 30, CPU: time.Minute}).Sheets(open(t, path), opts)
	if err != nil || len(sheets) != n || sheets[n-1] != (read.Sheet{Name: fmt.Sprintf(manySheetsName, n), Visibility: "visible"}) {
		t.Fatalf("within the limits: %d sheets, %v", len(sheets), err)
	}
	_, err = (&isolate.Parser{Command: bin, MemoryBytes: 32 << 20, CPU: time.Minute}).Sheets(open(t, path), opts)
	const want = "the file is too large or malformed: parsing it went over the parser's limits: it needed more than the memory limit of 32 MiB (setting sheet_memory_limit)"
	if !errors.Is(err, isolate.ErrLimit) || err.Error() != want {
		t.Errorf("memory: %v\nwant %s", err, want)
	}
}

// manySheetsName names the sheets of manySheets.
const manySheetsName = "Sheet number %07d, whose name is long enough to take some memory"

// manySheets writes an XLSX file whose xl/workbook.xml lists n sheets (listing reads nothing
// else of it).
func manySheets(t *testing.T, n int) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("xl/workbook.xml")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets>`)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(w, `<sheet name="`+manySheetsName+`" sheetId="%[1]d"/>`, i)
	}
	io.WriteString(w, `</sheets></workbook>`)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return write(t, "many-sheets.xlsx", buf.Bytes())
}

// TestParentReadsOnlyTheHead checks that the parent tells a workbook from a CSV file by its
// first bytes, leaving the rest to the child: for an OLE2 file whose directory runs through 7 MB
// of sectors (55,000 entries), handing it to a child that cannot start allocates next to
// nothing here, where telling XLS from an encrypted XLSX would read the whole directory.
func TestParentReadsOnlyTheHead(t *testing.T) {
	tempDir(t)
	path := write(t, "long-directory.xls", longDirectory())
	p := &isolate.Parser{Command: "/nonexistent"}
	for what, hand := range map[string]func() error{
		"Open":   func() error { _, err := p.Open(open(t, path), read.Options{}); return err },
		"Sheets": func() error { _, err := p.Sheets(open(t, path), read.Options{}); return err },
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		err := hand()
		runtime.ReadMemStats(&after)
		if !errors.Is(err, isolate.ErrNotStarted) {
			t.Errorf("%s: %v, want ErrNotStarted", what, err)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
			t.Errorf("%s: the parent allocated %d bytes, want under 1 MiB: it read the file beyond its head", what, alloc)
		}
	}
}

// longDirectory is an OLE2 compound file of 512-byte sectors: 109 FAT sectors (all the header
// lists) chaining every other sector into one directory of empty entries.
func longDirectory() []byte {
	const fatSectors, perFAT = 109, 512 / 4
	const sectors = fatSectors * perFAT
	le := binary.LittleEndian
	b := make([]byte, 512+sectors*512)
	copy(b, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1")
	le.PutUint16(b[0x1A:], 3)      // major version
	le.PutUint16(b[0x1C:], 0xFFFE) // byte order
	le.PutUint16(b[0x1E:], 9)      // sector size 2^9
	le.PutUint16(b[0x20:], 6)      // mini sector size 2^6
	le.PutUint32(b[0x2C:], fatSectors)
	le.PutUint32(b[0x30:], fatSectors) // the directory starts after the FAT
	le.PutUint32(b[0x3C:], 0xFFFFFFFE) // no mini FAT
	le.PutUint32(b[0x44:], 0xFFFFFFFE) // no DIFAT sectors
	for i := range fatSectors {
		le.PutUint32(b[0x4C+4*i:], uint32(i))
	}
	fat := b[512 : 512+fatSectors*512]
	for id := range sectors {
		next := uint32(0xFFFFFFFD) // a FAT sector
		switch {
		case id == sectors-1:
			next = 0xFFFFFFFE
		case id >= fatSectors:
			next = uint32(id + 1)
		}
		le.PutUint32(fat[4*id:], next)
	}
	return b
}
