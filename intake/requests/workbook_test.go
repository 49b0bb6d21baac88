package requests_test

import (
	"testing"

	"github.com/segmentio/kafka-go"
	"github.com/xuri/excelize/v2"

	"github.com/leadpipe/leadpipe/intake/requests"
	"github.com/leadpipe/leadpipe/store"
)

// xlsxOf is an XLSX workbook of one sheet named sheet with rows (the header first).
func xlsxOf(t *testing.T, sheet string, rows [][]string) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		t.Fatal(err)
	}
	for i, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(sheet, cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestWorkbookRequest: a request of kind workbook queues its sheet's import under the request
// (its id is the request's reserved id), which workers complete; a CSV file of kind workbook
// is dead-lettered as a bad file, and nothing is queued for it.
func TestWorkbookRequest(t *testing.T) {
	e := setup(t)
	book := e.writeFile("book.xlsx", xlsxOf(t, "Prospects", [][]string{{"Email"}, {"ann@kafka.example"}, {"bob@kafka.example"}}))
	e.produce(kafka.Message{Value: e.request(e.writeFile("list.csv", leadsCSV), map[string]any{"kind": "workbook"})},
		kafka.Message{Value: e.request(book, map[string]any{"kind": "workbook"})})
	e.start()
	imps := e.waitImports(1)
	e.runWorkers()
	done := e.waitFinished(imps[0].ID)
	if len(imps) != 1 || done.FileName != "book.xlsx" || done.Kind != "prospects" || done.RequestID != done.ID || done.Status != store.StatusCompleted ||
		done.Counts.Created != 2 || string(done.Options) != `{"sheet": "Prospects"}` {
		t.Errorf("imports %d; the sheet's: %s kind %s request %d (id %d) %s created %d options %s", len(imps), done.FileName, done.Kind,
			done.RequestID, done.ID, done.Status, done.Counts.Created, done.Options)
	}
	dead := e.deadLetters(1)
	reason, detail := header(dead[0], "leadpipe-dlq-reason"), header(dead[0], "leadpipe-dlq-detail")
	if want := "cannot import file list.csv: the file is not a workbook: it reads as CSV, which has no sheets; a workbook is an XLSX, XLS or ODS file"; reason != requests.ReasonBadFile || detail != want {
		t.Errorf("dead letter of the CSV file: %s: %s\nwant: %s: %s", reason, detail, requests.ReasonBadFile, want)
	}
}
