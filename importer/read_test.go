package importer_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/store"
)

// SPEC §2: delimiters, encodings, quoting, blank rows and row numbers, malformed rows.
func TestReadFiles(t *testing.T) {
	cases := []struct {
		name      string
		file      string
		rows      int // Summary.Rows: data rows, blank ones not counted
		outcomes  map[int]string
		prospects []map[string]string // every prospect of the account, oldest first
	}{
		{
			name: "semicolon",
			file: "Email;First Name;Last Name;Title\n" +
				"ann@acme.com;Ann;Lee;CEO, Founder\n" +
				"bob@beta.io;Bob;Ray;\"CTO; Ops\"\n",
			rows:     2,
			outcomes: map[int]string{2: "created", 3: "created"},
			prospects: []map[string]string{
				{"email": "ann@acme.com", "first_name": "Ann", "last_name": "Lee", "title": "CEO, Founder"},
				{"email": "bob@beta.io", "first_name": "Bob", "last_name": "Ray", "title": "CTO; Ops"},
			},
		},
		{
			name: "pipe",
			file: "Email|First Name|Last Name|Title\n" +
				"ann@acme.com|Ann|Lee|CEO, Founder\n" +
				"bob@beta.io|Bob|Ray|CTO; Ops\n",
			rows:     2,
			outcomes: map[int]string{2: "created", 3: "created"},
			prospects: []map[string]string{
				{"email": "ann@acme.com", "first_name": "Ann", "last_name": "Lee", "title": "CEO, Founder"},
				{"email": "bob@beta.io", "first_name": "Bob", "last_name": "Ray", "title": "CTO; Ops"},
			},
		},
		{
			name:     "UTF-16LE with BOM",
			file:     utf16LE("\ufeffEmail,First Name,City\r\nann@acme.com,Ann,Zürich\r\nbob@beta.io,Bob,東京\r\n"),
			rows:     2,
			outcomes: map[int]string{2: "created", 3: "created"},
			prospects: []map[string]string{
				{"email": "ann@acme.com", "first_name": "Ann", "city": "Zürich"},
				{"email": "bob@beta.io", "first_name": "Bob", "city": "東京"},
			},
		},
		{
			name: "tab",
			file: "Email\tFirst Name\tLast Name\tTitle\n" +
				"ann@acme.com\tAnn\tLee\tCEO, Founder\n" +
				"bob@beta.io\tBob\tRay\tCTO; Ops\n",
			rows:     2,
			outcomes: map[int]string{2: "created", 3: "created"},
			prospects: []map[string]string{
				{"email": "ann@acme.com", "first_name": "Ann", "last_name": "Lee", "title": "CEO, Founder"},
				{"email": "bob@beta.io", "first_name": "Bob", "last_name": "Ray", "title": "CTO; Ops"},
			},
		},
		{
			name:     "UTF-8 BOM and CRLF",
			file:     "\ufeffEmail,First Name,City\r\nann@acme.com,Ann,Zürich\r\nbob@beta.io,Bob,Paris\r\n",
			rows:     2,
			outcomes: map[int]string{2: "created", 3: "created"},
			prospects: []map[string]string{
				{"email": "ann@acme.com", "first_name": "Ann", "city": "Zürich"},
				{"email": "bob@beta.io", "first_name": "Bob", "city": "Paris"},
			},
		},
		{
			name: "Windows-1252",
			file: "Email,First Name,Last Name,City,Title\r\n" +
				"ann@acme.com,Ren\xe9e,M\xfcller,K\xf6ln,Price \x805\r\n" +
				"bob@beta.io,Bob,O\x92Neil,S\xe3o Paulo,\r\n",
			rows:     2,
			outcomes: map[int]string{2: "created", 3: "created"},
			prospects: []map[string]string{
				{"email": "ann@acme.com", "first_name": "Renée", "last_name": "Müller", "city": "Köln", "title": "Price €5"},
				{"email": "bob@beta.io", "first_name": "Bob", "last_name": "O’Neil", "city": "São Paulo"},
			},
		},
		{
			name: "quoted newline, quotes and delimiter",
			file: "Email,First Name,Street\n" +
				"ann@acme.com,Ann,\"1 Main St\nSuite 2\"\n" +
				"bob@beta.io,Bob,\"5 \"\"Big\"\" Rd, Unit 3\"\n" +
				"cat@gamma.org,Cat,\"x\r\ny\r\nz\"\n" +
				"dan@delta.net,Dan,\n",
			rows:     4,
			outcomes: map[int]string{2: "created", 3: "created", 4: "created", 5: "created"},
			prospects: []map[string]string{
				{"email": "ann@acme.com", "first_name": "Ann", "street": "1 Main St\nSuite 2"},
				{"email": "bob@beta.io", "first_name": "Bob", "street": `5 "Big" Rd, Unit 3`},
				{"email": "cat@gamma.org", "first_name": "Cat", "street": "x\r\ny\r\nz"},
				{"email": "dan@delta.net", "first_name": "Dan"},
			},
		},
		{
			name: "blank rows are not counted but numbered",
			file: "\n" + // row 1: blank, so the header is row 2
				"Email,First Name\n" + // row 2
				"ann@acme.com,Ann\n" + // row 3
				",\n" + // row 4: blank
				"bob@beta.io,Bob\n" + // row 5
				"\n" + // row 6: blank
				"   ,  \n" + // row 7: blank
				"cat@gamma.org,Cat\n", // row 8
			rows:     3,
			outcomes: map[int]string{3: "created", 5: "created", 8: "created"},
			prospects: []map[string]string{
				{"email": "ann@acme.com", "first_name": "Ann"},
				{"email": "bob@beta.io", "first_name": "Bob"},
				{"email": "cat@gamma.org", "first_name": "Cat"},
			},
		},
		{
			name: "more cells than the header",
			file: "Email,First Name\n" +
				"ann@acme.com,Ann\n" +
				"bob@beta.io,Bob,extra\n" +
				"cat@gamma.org,Cat\n",
			rows:     3,
			outcomes: map[int]string{2: "created", 3: "skipped:malformed_row", 4: "created"},
			prospects: []map[string]string{
				{"email": "ann@acme.com", "first_name": "Ann"},
				{"email": "cat@gamma.org", "first_name": "Cat"},
			},
		},
		{
			name: "unterminated quote at the end of the file",
			file: "Email,First Name\n" +
				"ann@acme.com,Ann\n" +
				"bob@beta.io,\"Bob\n",
			rows:     2,
			outcomes: map[int]string{2: "created", 3: "skipped:malformed_row"},
			prospects: []map[string]string{
				{"email": "ann@acme.com", "first_name": "Ann"},
			},
		},
		{
			name:     "header only",
			file:     "Email,First Name\n",
			rows:     0,
			outcomes: map[int]string{},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, -1)
			r := e.importCSV(tc.file, crm.Options{})
			checkOutcomes(t, r.Outcomes, tc.outcomes)
			if r.Sum.Rows != tc.rows {
				t.Errorf("Summary.Rows = %d, want %d", r.Sum.Rows, tc.rows)
			}
			e.checkProspects(tc.prospects)
		})
	}
}

// A UTF-8 byte-order mark is not part of the first header.
func TestReadBOMHeader(t *testing.T) {
	e := newEnv(t, -1)
	path := writeFile(t, "bom.csv", "\ufeff\"Email\",First Name\nann@acme.com,Ann\n")
	c, err := e.importer(3).Check(e.ctx, e.request(path, crm.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	equalStrings(t, "header", c.Header, []string{"Email", "First Name"})
	if c.Rows != 1 {
		t.Errorf("Rows = %d, want 1", c.Rows)
	}
}

// SPEC §2: a file that cannot be read at all fails with a clear message; nothing is written.
func TestBadFiles(t *testing.T) {
	cases := []struct {
		name    string
		file    string
		message string // the error names the problem
	}{
		{"binary garbage", "\x7fELF\x02\x01\x01\x00garbage\x00\x01\x02\x03", "not text"},
		{"truncated zip", "PK\x03\x04\x14\x00\x00\x00\x08\x00\xa3\x8c\x00\x00garbage\x00\x01\x02\x03", "XLSX"},
		{"empty file", "", "empty"},
		{"only whitespace", " \n\r\n  \n", "empty"},
		{"header matches no field", "Foo,Bar,Baz\n1,2,3\n4,5,6\n", "no column of the header maps to a prospect field"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, dry := range []bool{false, true} {
				e := newEnv(t, -1)
				path := writeFile(t, "bad.csv", tc.file)
				sum, err := e.runNow(path, crm.Options{List: "L"}, 3, dry)
				if !errors.Is(err, importer.ErrBadFile) {
					t.Fatalf("dry=%v: RunNow error = %v, want one wrapping importer.ErrBadFile", dry, err)
				}
				if !strings.Contains(err.Error(), tc.message) {
					t.Errorf("dry=%v: error %q does not say %q", dry, err, tc.message)
				}
				if sum.Status != "" || sum.ImportID != 0 {
					t.Errorf("dry=%v: summary %+v, want none", dry, sum)
				}
				e.checkNothingWritten()

				_, _, err = e.importer(3).Submit(e.ctx, e.request(path, crm.Options{}))
				if !errors.Is(err, importer.ErrBadFile) {
					t.Errorf("Submit error = %v, want one wrapping importer.ErrBadFile", err)
				}
				e.checkNothingWritten()
			}
		})
	}
}

// A header-only file completes with 0 rows and records a completed import.
func TestHeaderOnlyRecordsCompletedImport(t *testing.T) {
	e := newEnv(t, -1)
	r := e.importCSV("Email,First Name\r\n", crm.Options{})
	checkCounts(t, r.Sum.Counts, "rows=0 created=0 updated=0 unchanged=0 skipped=0 orgs_created=0 orgs_linked=0")
	var status string
	var total int
	if err := e.pool.QueryRow(e.ctx, "SELECT status, rows_total FROM imports WHERE id = $1", r.Sum.ImportID).Scan(&status, &total); err != nil {
		t.Fatal(err)
	}
	if status != store.StatusCompleted || total != 0 {
		t.Errorf("import status %q rows_total %d, want completed 0", status, total)
	}
}

// utf16LE encodes s as UTF-16, little-endian.
func utf16LE(s string) string {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return string(b)
}
