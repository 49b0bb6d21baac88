package api_test

import (
	"fmt"
	"net/http"
	"reflect"
	"testing"

	"github.com/xuri/excelize/v2"
)

// workbookBytes is an XLSX workbook of one sheet named name with rows (the header first).
func workbookBytes(t *testing.T, name string, rows [][]string) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", name); err != nil {
		t.Fatal(err)
	}
	for i, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(name, cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestUploadWorkbook: an upload of kind workbook queues one import per sheet under one request,
// answers 202 with the request and its sheets' imports, and the history lists them by
// request_id; a CSV file of kind workbook is refused, and nothing is recorded.
func TestUploadWorkbook(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	a := h.account(-1)
	book := workbookBytes(t, "Prospects", [][]string{{"Email", "First Name"}, {"ann@book.example", "Ann"}, {"bob@book.example", "Bob"}})
	body, ct := multipartBody(t, part{Name: "kind", Content: []byte("workbook")}, part{Name: "file", FileName: "book.xlsx", Content: book})
	r := h.do(a, http.MethodPost, "/v1/imports", body, ct)
	var queued struct {
		ImportID  *int64 `json:"import_id"`
		RequestID int64  `json:"request_id"`
		Kind      string `json:"kind"`
		Status    string `json:"status"`
		RowsTotal int    `json:"rows_total"`
		Sheets    []struct {
			Sheet     string   `json:"sheet"`
			Kind      string   `json:"kind"`
			ImportID  int64    `json:"import_id"`
			Status    string   `json:"status"`
			RowsTotal int      `json:"rows_total"`
			Unmapped  []string `json:"unmapped_columns"`
		} `json:"sheets"`
	}
	decode(t, r, &queued)
	if r.Status != http.StatusAccepted || queued.ImportID != nil || queued.Kind != "workbook" || queued.Status != "queued" || queued.RowsTotal != 2 ||
		len(queued.Sheets) != 1 {
		t.Fatalf("POST /v1/imports, kind workbook: %s", r)
	}
	s := queued.Sheets[0]
	if s.Sheet != "Prospects" || s.Kind != "prospects" || s.ImportID != queued.RequestID || s.Status != "queued" || s.RowsTotal != 2 ||
		!reflect.DeepEqual(s.Unmapped, []string{}) {
		t.Errorf("sheet: %+v (request %d)", s, queued.RequestID)
	}
	if loc, want := r.Header.Get("Location"), fmt.Sprintf("/v1/imports?request_id=%d", queued.RequestID); loc != want {
		t.Errorf("Location %q, want %q", loc, want)
	}
	if got, _ := a.history(fmt.Sprintf("request_id=%d", queued.RequestID)); !reflect.DeepEqual(got, []int64{s.ImportID}) {
		t.Errorf("imports?request_id=%d: %v, want [%d]", queued.RequestID, got, s.ImportID)
	}
	var view struct {
		RequestID int64  `json:"request_id"`
		Kind      string `json:"kind"`
	}
	a.getJSON(fmt.Sprintf("/v1/imports/%d", s.ImportID), &view)
	if view.RequestID != queued.RequestID || view.Kind != "prospects" {
		t.Errorf("GET /v1/imports/%d: request %d kind %s", s.ImportID, view.RequestID, view.Kind)
	}

	b := h.account(-1)
	body, ct = multipartBody(t, part{Name: "kind", Content: []byte("workbook")}, part{Name: "file", FileName: "list.csv", Content: []byte("Email\nann@book.example\n")})
	e := wantError(t, "a CSV file of kind workbook", h.do(b, http.MethodPost, "/v1/imports", body, ct), http.StatusUnprocessableEntity,
		"the file cannot be imported")
	if want := "cannot import file list.csv: the file is not a workbook: it reads as CSV, which has no sheets; a workbook is an XLSX, XLS or ODS file"; e.Detail != want {
		t.Errorf("a CSV file of kind workbook: detail %#v, want %q", e.Detail, want)
	}
	if n := h.count("SELECT count(*) FROM imports WHERE account_id = $1", b.acct.ID); n != 0 {
		t.Errorf("%d imports recorded of a refused workbook", n)
	}
}
