package main

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/xuri/excelize/v2"
)

// writeSheets writes an XLSX workbook with the sheets named in order, each sheet's rows with
// its header first.
func writeSheets(t *testing.T, name string, sheets map[string][][]string, order []string) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, sheet := range order {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", sheet); err != nil {
				t.Fatal(err)
			}
		} else if _, err := f.NewSheet(sheet); err != nil {
			t.Fatal(err)
		}
		for r, row := range sheets[sheet] {
			cell, _ := excelize.CoordinatesToCellName(1, r+1)
			if err := f.SetSheetRow(sheet, cell, &row); err != nil {
				t.Fatal(err)
			}
		}
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return writeTestFile(t, name, buf.Bytes())
}

// workbookOut is what `leadpipe import --kind workbook` prints.
type workbookOut struct {
	RequestID int64  `json:"request_id"`
	Kind      string `json:"kind"`
	Status    string `json:"status"`
	Created   int    `json:"created"`
	DryRun    bool   `json:"dry_run"`
	Sheets    []struct {
		Sheet    string `json:"sheet"`
		Kind     string `json:"kind"`
		ImportID int64  `json:"import_id"`
		Status   string `json:"status"`
		Created  int    `json:"created"`
	} `json:"sheets"`
}

func decodeWorkbookOut(t *testing.T, stdout string) workbookOut {
	t.Helper()
	oneJSON(t, stdout)
	var out workbookOut
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCLIImportWorkbook: `leadpipe import --kind workbook` prints one JSON object for the
// request with its sheets' summaries, in the foreground, as a dry run and queued; `imports
// list --request` lists the request's imports.
func TestCLIImportWorkbook(t *testing.T) {
	pool := cliEnv(t)
	name := uniqueName(t)
	mustCLI(t, "account", "create", name)
	book := writeSheets(t, "book.xlsx", map[string][][]string{"Prospects": {{"Email", "First Name"}, {"ann@book.example", "Ann"}, {"bob@book.example", "Bob"}}}, []string{"Prospects"})

	dry := decodeWorkbookOut(t, mustCLI(t, "import", book, "--account", name, "--kind", "workbook", "--dry-run"))
	if dry.Kind != "workbook" || !dry.DryRun || dry.Created != 2 || len(dry.Sheets) != 1 || dry.Sheets[0].Sheet != "Prospects" || dry.Sheets[0].Created != 2 {
		t.Errorf("dry run: %+v", dry)
	}
	nothingWritten(t, pool, accountID(t, pool, name))

	run := decodeWorkbookOut(t, mustCLI(t, "import", book, "--account", name, "--kind", "workbook"))
	if run.Kind != "workbook" || run.Status != "completed" || run.Created != 2 || len(run.Sheets) != 1 {
		t.Fatalf("import: %+v", run)
	}
	if s := run.Sheets[0]; s.Sheet != "Prospects" || s.Kind != "prospects" || s.ImportID != run.RequestID || s.Status != "completed" || s.Created != 2 {
		t.Errorf("import: sheet %+v of request %d", s, run.RequestID)
	}

	queued := decodeWorkbookOut(t, mustCLI(t, "import", book, "--account", name, "--kind", "workbook", "--queue"))
	if queued.Kind != "workbook" || queued.Status != "queued" || len(queued.Sheets) != 1 || queued.Sheets[0].ImportID != queued.RequestID ||
		queued.Sheets[0].Status != "queued" || queued.RequestID == run.RequestID {
		t.Errorf("import --queue: %+v", queued)
	}

	var list struct {
		Imports []struct {
			ID        int64  `json:"id"`
			RequestID int64  `json:"request_id"`
			Kind      string `json:"kind"`
		} `json:"imports"`
	}
	out := mustCLI(t, "imports", "list", "--account", name, "--request", fmt.Sprint(run.RequestID))
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list.Imports) != 1 || list.Imports[0].ID != run.RequestID ||
		list.Imports[0].RequestID != run.RequestID || list.Imports[0].Kind != "prospects" {
		t.Errorf("imports list --request %d: %s (err %v)", run.RequestID, out, err)
	}
}
