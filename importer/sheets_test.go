package importer_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/stages/read"
	"github.com/leadpipe/leadpipe/stages/read/isolate"
)

// loggingChild writes a script that serves as a spreadsheet parser's child: it appends the
// job the child is started for ("sheets", or "" to read rows) to the file jobs, as a line of
// the child's configuration, then runs this test binary as the child.
func loggingChild(t *testing.T, jobs string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(t.TempDir(), "child.sh")
	body := fmt.Sprintf("#!/bin/sh\nprintf '%%s\\n' \"$LEADPIPE_SHEET_PARSER_CHILD\" >> '%s'\nexec '%s' \"$@\"\n", jobs, exe)
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	return script
}

// childJobs returns the jobs of the children started since the last call, by job, and forgets
// them.
func childJobs(t *testing.T, jobs string) map[string]int {
	t.Helper()
	b, err := os.ReadFile(jobs)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	os.Remove(jobs)
	n := map[string]int{}
	for line := range strings.Lines(string(b)) {
		var cfg struct {
			Job string `json:"job"`
		}
		if err := json.Unmarshal([]byte(line), &cfg); err != nil {
			t.Fatalf("child configuration %q: %v", line, err)
		}
		n[cfg.Job]++
	}
	return n
}

// TestSheetsListedInChild: with a spreadsheet parser set, a workbook's sheets are listed by a
// child process, as its rows are read — for a preview, for inspect and for a workbook request —
// and the sheets are the workbook's.
func TestSheetsListedInChild(t *testing.T) {
	e := newEnv(t, -1)
	jobs := filepath.Join(t.TempDir(), "jobs")
	e.Sheets = &isolate.Parser{Command: loggingChild(t, jobs)}
	im := e.importer(2)
	book := writeWorkbook(t, "book.xlsx", prospectSheet)
	want := []read.Sheet{{Name: "Prospects", Visibility: "visible"}}

	// A workbook request lists its sheets before it checks any: a parser that cannot start
	// fails it there, as the machine's trouble, not the file's.
	broken := e.importer(2)
	broken.Sheets = &isolate.Parser{Command: filepath.Join(t.TempDir(), "missing")}
	_, _, err := broken.Submit(e.ctx, e.workbookRequest(book, crm.Options{}))
	if !errors.Is(err, isolate.ErrNotStarted) || errors.Is(err, importer.ErrBadFile) || !strings.HasPrefix(err.Error(), "cannot start the spreadsheet parser: ") {
		t.Errorf("workbook request, parser not started: %v; want ErrNotStarted from listing its sheets", err)
	}
	e.checkNothingWritten()

	for _, c := range []struct {
		what string
		list func() ([]read.Sheet, error)
	}{
		{"preview", func() ([]read.Sheet, error) {
			p, err := im.Preview(e.ctx, e.request(book, crm.Options{}))
			if err != nil {
				return nil, err
			}
			return p.Sheets, nil
		}},
		{"inspect", func() ([]read.Sheet, error) {
			o, err := im.OpenFile(book, crm.Options{})
			if err != nil {
				return nil, err
			}
			defer o.Close()
			return o.Sheets, nil
		}},
		{"workbook request", func() ([]read.Sheet, error) {
			_, c, err := im.Submit(e.ctx, e.workbookRequest(book, crm.Options{}))
			if err != nil {
				return nil, err
			}
			var sheets []read.Sheet
			for _, s := range c.Sheets {
				sheets = append(sheets, read.Sheet{Name: s.Sheet, Visibility: "visible"})
			}
			return sheets, nil
		}},
	} {
		sheets, err := c.list()
		if err != nil || !reflect.DeepEqual(sheets, want) {
			t.Errorf("%s: sheets %+v, %v; want %+v", c.what, sheets, err, want)
		}
		if n := childJobs(t, jobs); n["sheets"] != 1 {
			t.Errorf("%s: children started by job %v, want one listing the sheets", c.what, n)
		}
	}
}
