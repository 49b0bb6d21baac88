package api_test

import (
	"net/http"
	"reflect"
	"testing"

	"github.com/leadpipe/leadpipe/importer"
)

// POST /v1/imports?dry_run=true&rows=skipped streams the skipped rows' results only, with the
// summary of every row, as rows=all (the default) has it; rows is checked.
func TestDryRunSkippedRows(t *testing.T) {
	h := newHarness(t, harnessOpts{BatchSize: 2})
	a := h.account(-1)
	dryRun := func(query string) dryRunBody {
		t.Helper()
		r := a.upload("/v1/imports?dry_run=true"+query, "flow.csv", fixture(t, "flow.csv"), "")
		if r.Status != http.StatusOK {
			t.Fatalf("dry run %s: %s", query, r)
		}
		var body dryRunBody
		decode(t, r, &body)
		if body.Error != nil || body.Summary == nil {
			t.Fatalf("dry run %s: error %v, summary %v", query, body.Error, body.Summary)
		}
		body.Summary.DurationMS = 0
		return body
	}
	skipped := dryRun("&rows=skipped")
	want := []importer.RowResult{flowOutcomes[1], flowOutcomes[2], flowOutcomes[3]} // rows 3, 4 and 5
	if !reflect.DeepEqual(skipped.Rows, want) {
		t.Errorf("rows=skipped: rows %+v, want %+v", skipped.Rows, want)
	}
	all, byDefault := dryRun("&rows=all"), dryRun("")
	if len(all.Rows) != 6 || !reflect.DeepEqual(all, byDefault) {
		t.Errorf("rows=all: %d rows, want 6, as without rows (%d)", len(all.Rows), len(byDefault.Rows))
	}
	if s := skipped.Summary; !reflect.DeepEqual(*s, *all.Summary) || s.Rows != 6 || s.Created != 2 || s.Updated != 1 || s.Skipped != 3 {
		t.Errorf("rows=skipped: summary %+v, want %+v", *s, *all.Summary)
	}

	for query, detail := range map[string]string{
		"?dry_run=true&rows=some": `rows: "some" is not all or skipped`,
		"?rows=skipped":           "rows: applies to a dry run only: add dry_run=true, or leave rows out",
	} {
		e := wantError(t, query, a.upload("/v1/imports"+query, "flow.csv", fixture(t, "flow.csv"), ""), http.StatusBadRequest, "invalid query parameters")
		if d, _ := e.Detail.([]any); len(d) != 1 || d[0] != detail {
			t.Errorf("%s: detail %v, want [%q]", query, e.Detail, detail)
		}
	}
	if n := h.count("SELECT count(*) FROM imports WHERE account_id = $1", a.acct.ID); n != 0 {
		t.Errorf("%d imports recorded, want 0", n)
	}
}
