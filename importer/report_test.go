package importer_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/store"
)

// getImport reads back an import of the test's account.
func (e *tenv) getImport(id int64) store.Import {
	e.t.Helper()
	imp, err := store.GetImport(e.ctx, e.pool, e.acct.ID, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return imp
}

// skippedCSV returns the skipped-rows report of an import.
func (e *tenv) skippedCSV(id int64) string {
	e.t.Helper()
	var buf bytes.Buffer
	if err := importer.WriteSkippedCSV(e.ctx, e.pool, e.getImport(id), &buf); err != nil {
		e.t.Fatal(err)
	}
	return buf.String()
}

func TestEscapeFormula(t *testing.T) {
	for in, want := range map[string]string{
		"":                           "",
		"=1+1":                       "'=1+1",
		`=HYPERLINK("http://x","y")`: `'=HYPERLINK("http://x","y")`,
		"+1":                         "'+1",
		"-2":                         "'-2",
		"@x":                         "'@x",
		"\tx":                        "'\tx",
		"\rx":                        "'\rx",
		"\x00x":                      "'\x00x",
		"plain":                      "plain",
		"a=b":                        "a=b",
		" =x":                        " =x",
		"'=x":                        "'=x",
		"ann@acme.com":               "ann@acme.com",
	} {
		if got := importer.EscapeFormula(in); got != want {
			t.Errorf("EscapeFormula(%q) = %q, want %q", in, got, want)
		}
	}
}

// SPEC §11: the skipped rows of an import as CSV, with the original columns and cells,
// row_number, skip_reason and skip_detail, formulas escaped.
func TestSkippedCSV(t *testing.T) {
	e := newEnv(t, -1)
	r := e.importCSV("Email,First Name,Notes,-Score\n"+
		"ann@acme.com,Ann,ok,1\n"+ // row 2: created
		"not-an-email,Bob,\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",+1\n"+ // row 3: invalid_email
		",,@x,-2\n"+ // row 4: missing_identifier
		"cat@gamma.org,Cat,\"\tx\",3,extra\n"+ // row 5: malformed_row, one cell too many
		"dan@delta.net,Dan,=1+1,-4\n"+ // row 6: created (its formula is no concern of the report)
		"eve@,Eve\n", // row 7: invalid_email, fewer cells than the header
		crm.Options{})
	checkOutcomes(t, r.Outcomes, map[int]string{2: "created", 3: "skipped:invalid_email", 4: "skipped:missing_identifier",
		5: "skipped:malformed_row", 6: "created", 7: "skipped:invalid_email"})
	want := "Email,First Name,Notes,'-Score,row_number,skip_reason,skip_detail\n" +
		"not-an-email,Bob,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",'+1,3,invalid_email,\"\"\"not-an-email\"\" is not a valid email address\"\n" +
		",,'@x,'-2,4,missing_identifier,\"the row has no email, no unique identifier and no first or last name\"\n" +
		"cat@gamma.org,Cat,'\tx,3,5,malformed_row,row has 5 cells but the header has 4,extra\n" +
		"eve@,Eve,,,7,invalid_email,\"\"\"eve@\"\" is not a valid email address\"\n"
	if got := e.skippedCSV(r.Sum.ImportID); got != want {
		t.Errorf("skipped rows CSV:\n got:\n%s\nwant:\n%s", got, want)
	}

	// An import without skipped rows: the header line only.
	r = e.importCSV("Email,=cmd\nfay@zeta.io,x\n", crm.Options{})
	if got, want := e.skippedCSV(r.Sum.ImportID), "Email,'=cmd,row_number,skip_reason,skip_detail\n"; got != want {
		t.Errorf("no skipped rows:\n got: %q\nwant: %q", got, want)
	}
}

// Reasons and details are escaped too, and a cell starting with CR.
func TestSkippedCSVEscapesEveryColumn(t *testing.T) {
	e := newEnv(t, -1)
	imp, err := store.CreateImport(e.ctx, e.pool, store.Import{AccountID: e.acct.ID, Source: store.SourceCLI,
		FileName: "x.csv", FilePath: "/nonexistent/x.csv", FileSHA256: "x", Header: []string{"@A", "B"}}, testOwner, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	outcomes := []store.Outcome{
		{Row: 2, Outcome: "skipped", Reason: "=reason", Detail: "-1 is below zero", Cells: []string{"\rx", "+y"}},
		{Row: 3, Outcome: "skipped", Reason: "invalid_email", Detail: "@home", Cells: nil},
	}
	err = pgx.BeginFunc(e.ctx, e.pool, func(tx pgx.Tx) error {
		return store.RecordBatch(e.ctx, tx, imp.ID, testOwner, time.Hour, outcomes,
			store.Counts{SkippedByReason: map[string]int{}, WarningsByKind: map[string]int{}}, 3, 0)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.FinishImport(e.ctx, e.pool, imp.ID, testOwner, store.StatusCompleted, ""); err != nil {
		t.Fatal(err)
	}
	want := "'@A,B,row_number,skip_reason,skip_detail\n" +
		"\"'\rx\",'+y,2,'=reason,'-1 is below zero\n" +
		",,3,invalid_email,'@home\n"
	if got := e.skippedCSV(imp.ID); got != want {
		t.Errorf("skipped rows CSV:\n got: %q\nwant: %q", got, want)
	}
}

// countingWriter counts the writes it is given and fails once failAfter bytes have passed
// (0: never).
type countingWriter struct {
	buf       bytes.Buffer
	writes    int
	largest   int
	failAfter int
}

var errWriterFull = errors.New("writer full")

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	w.largest = max(w.largest, len(p))
	if w.failAfter > 0 && w.buf.Len()+len(p) > w.failAfter {
		return 0, errWriterFull
	}
	return w.buf.Write(p)
}

// A large report is streamed: many small writes, in row order across the store's chunks,
// and a failing writer stops it early.
func TestSkippedCSVStreams(t *testing.T) {
	const n = 20000
	e := newEnv(t, -1)
	var file strings.Builder
	file.WriteString("Email,First Name\n")
	for i := range n {
		fmt.Fprintf(&file, "bad%d,Name%d\n", i, i)
		if i%5000 == 0 {
			fmt.Fprintf(&file, "ok%d@acme.com,Ok\n", i) // a created row now and then
		}
	}
	r := e.importPath(writeFile(t, "big.csv", file.String()), crm.Options{}, 1000)
	checkCounts(t, r.Sum.Counts, fmt.Sprintf("rows=%d created=4 updated=0 unchanged=0 skipped=%d orgs_created=0 orgs_linked=0", n+4, n))
	imp := e.getImport(r.Sum.ImportID)

	w := &countingWriter{}
	if err := importer.WriteSkippedCSV(e.ctx, e.pool, imp, w); err != nil {
		t.Fatal(err)
	}
	out := w.buf.String()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != n+1 {
		t.Fatalf("%d lines, want %d", len(lines), n+1)
	}
	// Row numbers: bad0 is row 2, ok0 row 3, bad1 row 4, ...; an ok row follows each bad
	// multiple of 5000.
	row := 1
	for i := range n {
		row++
		want := fmt.Sprintf(`bad%d,Name%d,%d,invalid_email,"""bad%d"" is not a valid email address"`, i, i, row, i)
		if lines[i+1] != want {
			t.Fatalf("line %d:\n got: %s\nwant: %s", i+2, lines[i+1], want)
		}
		if i%5000 == 0 {
			row++
		}
	}
	if lines[0] != "Email,First Name,row_number,skip_reason,skip_detail" {
		t.Errorf("header line %q", lines[0])
	}
	// Written as it goes: many writes, none of them the whole report.
	if w.writes < 100 || w.largest > 64<<10 {
		t.Errorf("%d writes of at most %d bytes for %d bytes, want at least 100 of at most 64 KiB", w.writes, w.largest, len(out))
	}

	// A writer that fails stops the report long before its end.
	w = &countingWriter{failAfter: 32 << 10}
	err := importer.WriteSkippedCSV(e.ctx, e.pool, imp, w)
	if !errors.Is(err, errWriterFull) {
		t.Fatalf("failing writer: err %v, want %v", err, errWriterFull)
	}
	if w.writes > 20 {
		t.Errorf("failing writer: %d writes, want it to stop at the first failure", w.writes)
	}
}

// SPEC §11: prospects by the import that created, updated or touched them, through real imports.
func TestListProspectsOfImports(t *testing.T) {
	e := newEnv(t, -1)
	e.addUser("jdoe", "jdoe@example.com", "J Doe")
	first := e.importPath(writeFile(t, "leads.csv", "Email,First Name,Company,Lead Owner\n"+
		"ann@acme.com,Ann,Acme Corp,jdoe\n"+
		"bob@beta.io,Bob,,\n"), crm.Options{}, 3)
	second := e.importPath(writeFile(t, "leads.csv", "Email,First Name,Title\n"+
		"ann@acme.com,Ann,\n"+ // unchanged
		"bob@beta.io,,CTO\n"+ // updated
		"bad,Carl,\n"+ // skipped
		"cat@gamma.org,Cat,\n"), crm.Options{}, 3) // created
	third := e.importPath(writeFile(t, "other.csv", "Email,First Name\ndan@delta.net,Dan\n"), crm.Options{}, 3)
	fourth := e.importPath(writeFile(t, "more.csv", "Email,Title\n"+
		"ann@acme.com,CEO\n"), // skipped: existing_not_updated
		crm.Options{UpdateExisting: ptr(false)}, 3)
	checkOutcomes(t, fourth.Outcomes, map[int]string{2: "skipped:existing_not_updated"})
	ann, bob, cat, dan := e.prospectID("ann@acme.com"), e.prospectID("bob@beta.io"), e.prospectID("cat@gamma.org"), e.prospectID("dan@delta.net")

	list := func(f store.ProspectFilter) string {
		t.Helper()
		ps, err := store.ListProspects(e.ctx, e.pool, e.acct.ID, f)
		if err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, p := range ps {
			parts = append(parts, fmt.Sprintf("%d:%s|%s|%s|%s", p.ID, p.Email, p.Title, p.LeadOwner, p.Organization))
		}
		return strings.Join(parts, " ")
	}
	for _, c := range []struct {
		name   string
		filter store.ProspectFilter
		want   []string
	}{
		{"first import", store.ProspectFilter{ImportID: first.Sum.ImportID},
			[]string{fmt.Sprintf("%d:ann@acme.com||jdoe|Acme Corp", ann), fmt.Sprintf("%d:bob@beta.io|CTO||", bob)}},
		{"unchanged and updated count, skipped do not", store.ProspectFilter{ImportID: second.Sum.ImportID},
			[]string{fmt.Sprintf("%d:ann@acme.com||jdoe|Acme Corp", ann), fmt.Sprintf("%d:bob@beta.io|CTO||", bob),
				fmt.Sprintf("%d:cat@gamma.org|||", cat)}},
		{"existing_not_updated is not touched", store.ProspectFilter{ImportID: fourth.Sum.ImportID}, nil},
		{"file name", store.ProspectFilter{ImportFile: "other.csv"}, []string{fmt.Sprintf("%d:dan@delta.net|||", dan)}},
		{"import id of another file", store.ProspectFilter{ImportID: third.Sum.ImportID, ImportFile: "leads.csv"}, nil},
	} {
		if got, want := list(c.filter), strings.Join(c.want, " "); got != want {
			t.Errorf("%s:\n got: %s\nwant: %s", c.name, got, want)
		}
	}
}
