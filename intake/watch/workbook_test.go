package watch_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/leadpipe/leadpipe/config"
	"github.com/leadpipe/leadpipe/kinds/objects"
)

// workbookContent is an XLSX workbook of the sheets (name, then rows with the header first).
func workbookContent(t *testing.T, sheets map[string][][]string, order ...string) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, name := range order {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", name); err != nil {
				t.Fatal(err)
			}
		} else if _, err := f.NewSheet(name); err != nil {
			t.Fatal(err)
		}
		for r, row := range sheets[name] {
			cell, _ := excelize.CoordinatesToCellName(1, r+1)
			if err := f.SetSheetRow(name, cell, &row); err != nil {
				t.Fatal(err)
			}
		}
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// A workbook dropped with an options file of kind workbook is imported sheet by sheet, each
// with its kind's options, and moved to processed/ once its last sheet has ended; a CSV file
// of kind workbook goes to failed/ saying why.
func TestWatchedWorkbook(t *testing.T) {
	f := newFixture(t)
	if _, err := objects.Create(f.ctx, f.pool, f.acct.ID, "subscription", "Subscription", "serial"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	w := f.watcher(config.WatchDir{Dir: dir, Account: f.acct.Name})
	workers(t, f.pool, f.im, "workbook")
	book := workbookContent(t, map[string][][]string{
		"Subscription": {{"Serial", "Prospect Email"}, {"S-1", "ann@watch.example"}},
		"prospects":    {{"Email"}, {"ann@watch.example"}},
	}, "Subscription", "prospects")
	drop(t, dir, "book.xlsx.options.json", `{"kind": "workbook", "kinds": {"prospects": {"tags": ["fair"]}}}`)
	drop(t, dir, "book.xlsx", book)
	drop(t, dir, "list.csv.options.json", `{"kind": "workbook"}`)
	drop(t, dir, "list.csv", "Email\nann@watch.example\n")
	f.scanUntil(w, "both files are processed or failed", func() bool {
		return exists(filepath.Join(dir, "processed", "book.xlsx")) && exists(filepath.Join(dir, "failed", "list.csv.error.txt"))
	})
	var got []string
	for _, imp := range f.imports() {
		got = append(got, fmt.Sprintf("%s %s %s %s request=%v", imp.FileName, imp.Kind, imp.Status, imp.Options, imp.RequestID == f.imports()[0].ID))
	}
	want := []string{
		`book.xlsx prospects completed {"tags": ["fair"], "sheet": "prospects"} request=true`,
		`book.xlsx subscription completed {"sheet": "Subscription"} request=true`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("imports:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var linked int
	if err := f.pool.QueryRow(f.ctx, `SELECT count(*) FROM object_records r JOIN prospects p ON p.id = r.prospect_id
		WHERE r.account_id = $1 AND r.identifier_value = 'S-1' AND p.email = 'ann@watch.example'`, f.acct.ID).Scan(&linked); err != nil || linked != 1 {
		t.Errorf("S-1 linked to ann: %d, %v", linked, err)
	}
	if got, want := readFile(t, filepath.Join(dir, "failed", "list.csv.error.txt")),
		"cannot import file list.csv: the file is not a workbook: it reads as CSV, which has no sheets; a workbook is an XLSX, XLS or ODS file"; !strings.Contains(got, want) {
		t.Errorf("list.csv.error.txt: %q, want it to say %q", got, want)
	}
}
