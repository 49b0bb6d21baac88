package api_test

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/store"
)

// uploadKind posts a file of a kind to path.
func (c *client) uploadKind(path, fileName, kind string, content []byte) response {
	c.h.t.Helper()
	body, ct := multipartBody(c.h.t, part{Name: "file", FileName: fileName, Content: content}, part{Name: "kind", Content: []byte(kind)})
	return c.h.do(c, http.MethodPost, path, body, ct)
}

// The CSV template of prospects holds every field a column may feed, by label, custom ones
// last (not full name, which feeds nothing unless split, nor a label an earlier field claims),
// and an example value of each that the value rules take as it is.
func TestTemplateCSV(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	a := h.account(-1)
	a.user("jdoe", "jane@example.com", "Jane Doe")
	a.customized()
	a.field("prospects", crm.Field{Key: "city_label_clash", Label: "City", Type: crm.Text}) // its label is the standard city's: the column is named by its key

	r := a.get("/v1/templates/prospects.csv")
	if r.Status != http.StatusOK {
		t.Fatalf("GET /v1/templates/prospects.csv: %s", r)
	}
	if ct, cd := r.Header.Get("Content-Type"), r.Header.Get("Content-Disposition"); ct != "text/csv; charset=utf-8" || cd != `attachment; filename=prospects-template.csv` {
		t.Errorf("Content-Type %q, Content-Disposition %q", ct, cd)
	}
	want := "Email,First Name,Last Name,Title,Phone,Mobile,Website,Street,City,State,Postal Code,Country,Lead Source,Lead Owner,Email Opt In,Organization," +
		"Tier,Interests,Score,Birthday,VIP,Assistant Email,Fax,Nickname,city_label_clash\n" +
		"jane.doe@example.com,Jane,Doe,Head of Sales,+1 415 555 0100,+1 415 555 0100,https://www.example.com,1 Market Street,San Francisco,CA,94105,United States," +
		"Trade Show,jdoe,yes,Example Inc,Gold,Golf,100,2026-01-31,yes,jane.doe@example.com,+1 415 555 0100,Examp,Example city\n"
	if string(r.Body) != want {
		t.Errorf("template:\n%s\nwant\n%s", r.Body, want)
	}

	// Unknown kinds and files answer 404, naming the kinds there are; another account's object
	// type is no kind of this one.
	b := h.account(-1)
	b.objectType("b_gadget", "B Gadget", "serial")
	e := wantError(t, "GET /v1/templates/nope.csv", a.get("/v1/templates/nope.csv"), http.StatusNotFound, "unknown kind")
	if d, _ := e.Detail.(string); !strings.Contains(d, "deals, organizations, prospects; or one of the account's object types: vehicle") {
		t.Errorf("unknown kind: detail %q does not name the kinds", d)
	}
	wantError(t, "B's object type", a.get("/v1/templates/b_gadget.xlsx"), http.StatusNotFound, "unknown kind")
	wantError(t, "workbook", a.get("/v1/templates/workbook.csv"), http.StatusNotFound, "unknown kind")
	for _, p := range []string{"/v1/templates/prospects.txt", "/v1/templates/prospects", "/v1/templates/.csv"} {
		wantError(t, p, a.get(p), http.StatusNotFound, "not found")
	}
	if r := b.get("/v1/templates/b_gadget.csv"); r.Status != http.StatusOK || string(r.Body) != "Prospect Email,Serial\njane.doe@example.com,Example serial\n" {
		t.Errorf("B's template: %s", r)
	}
}

// Every kind's template, CSV and XLSX, imports back whole: a preview maps every column and
// would create its example row without a warning, and a real import creates it.
func TestTemplatesImportBack(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.startWorkers()
	for _, ext := range []string{".csv", ".xlsx"} {
		a := h.account(-1)
		a.user("jdoe", "jane@example.com", "Jane Doe")
		a.customized()
		// Organizations first: the other kinds' example rows link to its example organization,
		// and the deal's to the prospect's example prospect.
		for _, kind := range []string{"organizations", "prospects", "deals", "vehicle"} {
			what := kind + ext
			r := a.get("/v1/templates/" + what)
			if r.Status != http.StatusOK {
				t.Fatalf("GET /v1/templates/%s: %s", what, r)
			}
			if cd := r.Header.Get("Content-Disposition"); cd != "attachment; filename="+kind+"-template"+ext {
				t.Errorf("%s: Content-Disposition %q", what, cd)
			}
			if ext == ".xlsx" {
				checkWorkbook(t, what, r.Body, kind)
			}
			var p importer.Preview
			pr := a.uploadKind("/v1/previews", kind+"-template"+ext, kind, r.Body)
			if pr.Status != http.StatusOK {
				t.Fatalf("preview %s: %s", what, pr)
			}
			decode(t, pr, &p)
			if len(p.Unmapped) != 0 || len(p.Columns) < 2 {
				t.Errorf("preview %s: unmapped %q of %d columns", what, p.Unmapped, len(p.Columns))
			}
			if len(p.Rows) != 1 || p.Rows[0].Outcome != "created" || len(p.Rows[0].Warnings) != 0 {
				t.Errorf("preview %s: rows %+v, want one created without warnings", what, p.Rows)
			}
			ir := a.uploadKind("/v1/imports", kind+"-template"+ext, kind, r.Body)
			if ir.Status != http.StatusAccepted {
				t.Fatalf("import %s: %s", what, ir)
			}
			var q struct {
				ImportID int64    `json:"import_id"`
				Unmapped []string `json:"unmapped_columns"`
			}
			decode(t, ir, &q)
			v := a.waitFinished(q.ImportID, store.StatusCompleted)
			if v.Rows != 1 || v.Created != 1 || v.Skipped != 0 || len(q.Unmapped) != 0 {
				t.Errorf("import %s: %d rows, %d created, %d skipped, unmapped %q; want the row created", what, v.Rows, v.Created, v.Skipped, q.Unmapped)
			}
			if n := h.count(`SELECT count(*) FROM import_rows WHERE import_id = $1 AND warnings IS NOT NULL AND warnings::text NOT IN ('null', '[]')`, q.ImportID); n != 0 {
				t.Errorf("import %s: %d rows with warnings", what, n)
			}
		}
	}
}

// checkWorkbook checks that an XLSX template has one sheet, named for its kind, of text cells.
func checkWorkbook(t *testing.T, what string, body []byte, kind string) {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	defer f.Close()
	if sheets := f.GetSheetList(); !slices.Equal(sheets, []string{kind}) {
		t.Errorf("%s: sheets %q, want [%q]", what, sheets, kind)
	}
	rows, err := f.GetRows(kind)
	if err != nil || len(rows) != 2 || len(rows[0]) != len(rows[1]) {
		t.Errorf("%s: rows %q (%v), want a header and an example row", what, rows, err)
	}
}
