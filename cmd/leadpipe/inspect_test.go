package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/internal/corpus"
)

// inspectProcess runs `leadpipe inspect args...` as a process of its own, with a database
// address nothing answers at (inspect needs none) and the settings in env, and returns its
// output and exit code.
func inspectProcess(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], append([]string{"inspect"}, args...)...)
	cmd.Env = append(os.Environ(), asCLIVar+"=1", "LEADPIPE_CONFIG=", "LEADPIPE_POSTGRES_URL=postgres://nobody@127.0.0.1:1/nothing?connect_timeout=1")
	cmd.Env = append(cmd.Env, env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		code = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("leadpipe inspect %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errOut.String(), code
}

// lines joins JSON lines as leadpipe inspect prints them.
func lines(l ...string) string { return strings.Join(l, "\n") + "\n" }

const prospectsHeader = `"header_row":1,"header":["Email","First Name","Last Name","Phone","Company","Email Opt In","Signed Up","Score"]}`

// TestInspect checks what `leadpipe inspect` prints of the prospect fixtures as CSV, XLSX and
// XLS, of a workbook whose first sheet is hidden, and with --sheet and --limit: the format, the
// sheets, the sheet read, the header, and each non-blank data row with its row number and its
// cells as displayed. Row 5 of the fixtures is blank: it has no line.
func TestInspect(t *testing.T) {
	const formats = "../../importer/testdata/formats/"
	workbookRows := lines(
		`{"row":2,"cells":["ann@acme.com","Ann","Able","15551234567","Acme Inc","true","2024-01-31","42.5"]}`,
		`{"row":3,"cells":["ANN@ACME.COM","Ann","Able-Smith"]}`,
		`{"row":4,"cells":["bad-email","Bob","Brown","4930123456"]}`,
		`{"row":6,"cells":["","Cy","Cee","4930123456"]}`,
		`{"row":7,"cells":["dee@beta.io","Dee","Dunn","","Beta LLC","false","1999-12-31","7"]}`,
		`{"row":8,"cells":["ann@acme.com","Ann","Able-Smith"]}`,
	)
	hidden := corpus.Path(t, "poi-TwoSheetsOneHidden.xlsx")
	hiddenSheets := `{"format":"xlsx","sheets":[{"name":"Sheet1","visibility":"hidden"},{"name":"Sheet2","visibility":"visible"}],`
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"csv", []string{formats + "prospects.csv"}, lines(
			`{"format":"csv","encoding":"utf-8","delimiter":",",`+prospectsHeader,
			`{"row":2,"cells":["ann@acme.com","Ann","Able","15551234567","Acme Inc","TRUE","2024-01-31","42.5"]}`,
			`{"row":3,"cells":["ANN@ACME.COM","Ann","Able-Smith","","","","",""]}`,
			`{"row":4,"cells":["bad-email","Bob","Brown","4930123456","","","",""]}`,
			`{"row":6,"cells":["","Cy","Cee","4930123456","","","",""]}`,
			`{"row":7,"cells":["dee@beta.io","Dee","Dunn","","Beta LLC","FALSE","12/31/1999","7"]}`,
			`{"row":8,"cells":["ann@acme.com","Ann","Able-Smith","","","","",""]}`,
		)},
		{"xlsx", []string{formats + "prospects.xlsx"},
			`{"format":"xlsx","sheets":[{"name":"Prospects","visibility":"visible"}],"sheet":"Prospects",` + prospectsHeader + "\n" + workbookRows},
		{"xls", []string{formats + "prospects.xls"},
			`{"format":"xls","sheets":[{"name":"Prospects","visibility":"visible"}],"sheet":"Prospects",` + prospectsHeader + "\n" + workbookRows},
		{"limit", []string{"--limit", "2", formats + "prospects.xls"}, lines(
			`{"format":"xls","sheets":[{"name":"Prospects","visibility":"visible"}],"sheet":"Prospects",`+prospectsHeader,
			`{"row":2,"cells":["ann@acme.com","Ann","Able","15551234567","Acme Inc","true","2024-01-31","42.5"]}`,
			`{"row":3,"cells":["ANN@ACME.COM","Ann","Able-Smith"]}`,
		)},
		{"first sheet hidden", []string{hidden}, lines(hiddenSheets + `"sheet":"Sheet2","header_row":1,"header":["Sheet2A1"]}`)},
		{"hidden sheet named", []string{hidden, "--sheet", "sheet1"}, lines(hiddenSheets + `"sheet":"Sheet1","header_row":1,"header":["Sheet1A1"]}`)},
	} {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr, code := inspectProcess(t, nil, c.args...)
			if code != 0 || stderr != "" || stdout != c.want {
				t.Errorf("exit %d, stderr %q, stdout:\n%s\nwant:\n%s", code, stderr, stdout, c.want)
			}
		})
	}
}

// TestInspectLimitDefault checks that inspect prints the first 20 data rows unless --limit
// says otherwise, and every row with --limit 0.
func TestInspectLimitDefault(t *testing.T) {
	var csv strings.Builder
	csv.WriteString("Email\n")
	for i := range 25 {
		csv.WriteString("p" + string(rune('a'+i)) + "@example.com\n")
	}
	path := writeTestFile(t, "25.csv", []byte(csv.String()))
	for _, c := range []struct {
		args     []string
		rows     int
		lastLine string
	}{
		{nil, 20, `{"row":21,"cells":["pt@example.com"]}`},
		{[]string{"--limit", "0"}, 25, `{"row":26,"cells":["py@example.com"]}`},
		{[]string{"--limit", "30"}, 25, `{"row":26,"cells":["py@example.com"]}`},
	} {
		stdout, stderr, code := inspectProcess(t, nil, append(c.args, path)...)
		got := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
		if code != 0 || stderr != "" || len(got) != 1+c.rows || got[len(got)-1] != c.lastLine {
			t.Errorf("%q: exit %d, stderr %q, %d lines ending %s; want 1+%d ending %s", c.args, code, stderr, len(got), got[len(got)-1], c.rows, c.lastLine)
		}
	}
}

// TestInspectMalformedRow checks that a row an import would skip as malformed_row is printed
// with what is wrong with it.
func TestInspectMalformedRow(t *testing.T) {
	path := writeTestFile(t, "quote.csv", []byte("email,name,note\na@x.com,Ann,ok\n\nb@x.com,\"Bob,oops\nc@x.com,Cy,ok\n"))
	want := lines(
		`{"format":"csv","encoding":"utf-8","delimiter":",","header_row":1,"header":["email","name","note"]}`,
		`{"row":2,"cells":["a@x.com","Ann","ok"]}`,
		`{"row":4,"cells":["b@x.com","Bob,oops\nc@x.com,Cy,ok\n"],"malformed":"unterminated quote: the quoted field in column 2 of row 4 is never closed, so it runs to the end of the file"}`,
	)
	stdout, stderr, code := inspectProcess(t, nil, path)
	if code != 0 || stderr != "" || stdout != want {
		t.Errorf("exit %d, stderr %q, stdout:\n%s\nwant:\n%s", code, stderr, stdout, want)
	}
}

// TestInspectRefused checks that a file inspect cannot read, or a wrong argument, exits 1 with a
// one-line reason on stderr, the message an import fails with, and prints nothing; and that a
// fault after the first rows comes after them.
func TestInspectRefused(t *testing.T) {
	dir := t.TempDir()
	xlsx := readTestFile(t, "../../importer/testdata/formats/prospects.xlsx")
	for _, c := range []struct {
		name   string
		env    []string
		args   []string
		stdout string
		stderr string
	}{
		{"binary", nil, []string{writeTestFile(t, "binary.csv", []byte("\x7fELF\x02\x01\x01\x00garbage\x00\x01\x02\x03"))}, "",
			"leadpipe: cannot import file binary.csv: file is not text: 9 of the first 19 bytes are control characters (the first, 0x7f, at offset 0)"},
		{"truncated xlsx", nil, []string{writeTestFile(t, "truncated.xlsx", xlsx[:len(xlsx)*2/3])}, "",
			"leadpipe: cannot import file truncated.xlsx: unsupported file format: the file is not a valid XLSX workbook: zip: not a valid zip file"},
		{"directory", nil, []string{dir}, "",
			"leadpipe: cannot import file " + filepath.Base(dir) + ": it is a directory, not a regular file; name a CSV, XLSX, XLS or ODS file"},
		{"missing", nil, []string{filepath.Join(dir, "gone.csv")}, "",
			"leadpipe: cannot import file gone.csv: there is no such file; check its path"},
		{"unknown sheet", nil, []string{corpus.Path(t, "poi-TwoSheetsOneHidden.xls"), "--sheet", "Leads"}, "",
			`leadpipe: cannot import file poi-TwoSheetsOneHidden.xls: the XLS workbook has no sheet named "Leads"; its sheets are "Sheet1", "Sheet2"`},
		{"sheet of a csv", nil, []string{"--sheet", "Leads", "../../importer/testdata/formats/prospects.csv"}, "",
			"leadpipe: --sheet: prospects.csv reads as CSV, which has no sheets; leave --sheet out"},
		{"negative limit", nil, []string{"--limit", "-1", "../../importer/testdata/formats/prospects.csv"}, "",
			"leadpipe: --limit is -1; give the most rows to print, or 0 for all of them"},
		{"no file", nil, nil, "", "leadpipe: usage: leadpipe inspect FILE [--sheet NAME] [--limit N]"},
		{"too many rows after two", []string{"LEADPIPE_MAX_ROWS=2"}, []string{"../../importer/testdata/formats/prospects.csv"}, lines(
			`{"format":"csv","encoding":"utf-8","delimiter":",",`+prospectsHeader,
			`{"row":2,"cells":["ann@acme.com","Ann","Able","15551234567","Acme Inc","TRUE","2024-01-31","42.5"]}`,
			`{"row":3,"cells":["ANN@ACME.COM","Ann","Able-Smith","","","","",""]}`),
			"leadpipe: cannot import file prospects.csv: file has too many rows: more than the limit of 2 data rows (row 4 is data row 3) (setting max_rows); split it into smaller files"},
	} {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr, code := inspectProcess(t, c.env, c.args...)
			if code != 1 || stderr != c.stderr+"\n" || stdout != c.stdout {
				t.Errorf("exit %d, stderr:\n%s\nwant:\n%s\nstdout:\n%s\nwant:\n%s", code, stderr, c.stderr, stdout, c.stdout)
			}
		})
	}
}

// TestInspectParsesInChild checks that inspect parses a spreadsheet in a child process under
// the parser's limits, as the daemon does, so that a crafted file fails alone: a styles part of
// 100 MiB of XML held in memory passes the 64 MiB memory limit, which kills only the child.
func TestInspectParsesInChild(t *testing.T) {
	xlsx := readTestFile(t, "../../importer/testdata/formats/prospects.xlsx")
	huge := writeTestFile(t, "huge.xlsx", rezip(t, xlsx, "xl/styles.xml", func(s string) string {
		return strings.Replace(s, "<fonts", strings.Repeat(" ", 100<<20)+"<fonts", 1)
	}))
	env := []string{"LEADPIPE_SHEET_MEMORY_LIMIT=67108864", "LEADPIPE_MAX_SHEET_XML_BYTES=1073741824"}
	const want = "leadpipe: cannot import file huge.xlsx: the file is too large or malformed: parsing it went over the parser's limits: it needed more than the memory limit of 64 MiB (setting sheet_memory_limit)\n"
	stdout, stderr, code := inspectProcess(t, env, huge)
	if code != 1 || stderr != want || stdout != "" {
		t.Errorf("exit %d, stderr:\n%s\nwant:\n%s\nstdout:\n%s", code, stderr, want, stdout)
	}
}

// TestPreviewSheets checks that `leadpipe preview` of a workbook lists every sheet with its
// visibility and names the one read: the visible Sheet2 of poi-TwoSheetsOneHidden.xlsx, or the
// hidden Sheet1 its sheet option names; and lists none for a CSV file.
func TestPreviewSheets(t *testing.T) {
	cliEnv(t)
	account := uniqueName(t)
	mustCLI(t, "account", "create", account)
	path := corpus.Path(t, "poi-TwoSheetsOneHidden.xlsx")
	// The sheets hold one cell, A1, which names itself: map it to a field.
	visible := writeTestFile(t, "visible.json", []byte(`{"mapping": {"Sheet2A1": "first_name"}}`))
	hidden := writeTestFile(t, "hidden.json", []byte(`{"sheet": "sheet1", "mapping": {"Sheet1A1": "first_name"}}`))
	const sheets = `{"sheets":[{"name":"Sheet1","visibility":"hidden"},{"name":"Sheet2","visibility":"visible"}],`
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{path, "--options", visible}, sheets + `"sheet":"Sheet2","mapping":[{"header":"Sheet2A1","field":"first_name","how":"explicit"}],"unmapped_columns":[],"rows":[],"total_rows":0,"over_limit_warning":false,"suggested_mapping":null}`},
		{[]string{path, "--options", hidden}, sheets + `"sheet":"Sheet1","mapping":[{"header":"Sheet1A1","field":"first_name","how":"explicit"}],"unmapped_columns":[],"rows":[],"total_rows":0,"over_limit_warning":false,"suggested_mapping":null}`},
		{[]string{writeTestFile(t, "a.csv", []byte("Email\nann@example.com\n"))}, `{"mapping":[{"header":"Email","field":"email","how":"auto"}],"unmapped_columns":[],"rows":[{"row_number":2,"outcome":"created","values":{"email":"ann@example.com"}}],"total_rows":1,"over_limit_warning":false,"suggested_mapping":null}`},
	} {
		out := mustCLI(t, append(append([]string{"preview"}, c.args...), "--account", account)...)
		if strings.TrimSpace(out) != c.want {
			t.Errorf("preview %q:\n%s\nwant:\n%s", c.args, out, c.want)
		}
	}
}
