package api_test

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/leadpipe/leadpipe/internal/corpus"
)

// TestPreviewSheets checks that POST /v1/previews of a workbook lists every sheet with its
// visibility and names the one read: in poi-TwoSheetsOneHidden.xlsx, whose first sheet is
// hidden, the visible Sheet2, or the hidden Sheet1 that the sheet option names. A CSV file lists
// none. A file none of whose columns maps to a field is previewed too, for its columns to be
// mapped by hand: every column, the sheets, no rows, and the problem to fix.
func TestPreviewSheets(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	a := h.account(-1)
	book, err := os.ReadFile(corpus.Path(t, "poi-TwoSheetsOneHidden.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	const sheets = `{"sheets":[{"name":"Sheet1","visibility":"hidden"},{"name":"Sheet2","visibility":"visible"}],`
	for _, c := range []struct {
		name, content, options, want string
	}{
		// The sheets hold one cell, A1, which names itself: the options map it to a field.
		{"two-sheets.xlsx", string(book), `{"mapping": {"Sheet2A1": "first_name"}}`,
			sheets + `"sheet":"Sheet2","mapping":[{"header":"Sheet2A1","field":"first_name","how":"explicit"}],"unmapped_columns":[],"rows":[],"total_rows":0,"over_limit_warning":false,"suggested_mapping":null}`},
		{"two-sheets.xlsx", string(book), `{"sheet": "sheet1", "mapping": {"Sheet1A1": "first_name"}}`,
			sheets + `"sheet":"Sheet1","mapping":[{"header":"Sheet1A1","field":"first_name","how":"explicit"}],"unmapped_columns":[],"rows":[],"total_rows":0,"over_limit_warning":false,"suggested_mapping":null}`},
		{"two-sheets.xlsx", string(book), "",
			sheets + `"sheet":"Sheet2","mapping":[{"header":"Sheet2A1","how":"no matching field"}],"unmapped_columns":["Sheet2A1"],"rows":[],"total_rows":0,"over_limit_warning":false,"suggested_mapping":null,` +
				`"problem":"no column of the header maps to a prospect field (columns: Sheet2A1); name the columns like the fields or give a mapping"}`},
		{"b.csv", "Colour,Size\nred,9\n", `{"mapping": {"Size": ""}}`,
			`{"mapping":[{"header":"Colour","how":"no matching field"},{"header":"Size","how":"mapped to nothing"}],"unmapped_columns":["Colour","Size"],"rows":[],"total_rows":0,"over_limit_warning":false,"suggested_mapping":null,` +
				`"problem":"no column of the header maps to a prospect field (columns: Colour, Size); name the columns like the fields or give a mapping"}`},
		{"a.csv", "Email\nann@example.com\n", "",
			`{"mapping":[{"header":"Email","field":"email","how":"auto"}],"unmapped_columns":[],"rows":[{"row_number":2,"outcome":"created","values":{"email":"ann@example.com"}}],"total_rows":1,"over_limit_warning":false,"suggested_mapping":null}`},
	} {
		r := a.upload("/v1/previews", c.name, []byte(c.content), c.options)
		if r.Status != http.StatusOK || strings.TrimSpace(string(r.Body)) != c.want {
			t.Errorf("preview %s %s: %s\nwant 200 %s", c.name, c.options, r, c.want)
		}
	}
}
