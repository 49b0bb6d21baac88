package api_test

import (
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"testing"

	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/store"
)

// TestImportRecords lists the records an import created or touched, with their values now:
// created and updated ones, an unchanged one, once each however many rows touched them, not
// the skipped rows; ?created=true keeps those it created; pages by id; another account's import
// is not found.
func TestImportRecords(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.startWorkers()
	a := h.account(-1)
	first := a.submit("first.csv", []byte("Email,Last Name\nb@example.com,B\nc@example.com,C\n"), "")
	a.waitFinished(first, store.StatusCompleted)
	// a is created (and updated by its second row), b updated, c unchanged, one row skipped.
	second := a.submit("second.csv", []byte("Email,Last Name\na@example.com,A\nb@example.com,B2\nc@example.com,C\nnot-an-email,X\na@example.com,A2\n"), "")
	v := a.waitFinished(second, store.StatusCompleted)
	if v.Created != 1 || v.Updated != 2 || v.Unchanged != 1 || v.Skipped != 1 {
		t.Fatalf("second import: %+v, want 1 created, 2 updated, 1 unchanged, 1 skipped", v.Counts)
	}
	ids := map[string]int64{}
	for _, p := range a.prospects("").Prospects {
		ids[p.Email] = p.ID
	}
	type rec struct {
		id      int64
		created bool
		last    string
	}
	page := func(query string) ([]rec, string) {
		t.Helper()
		var p importer.RecordPage
		a.getJSON(fmt.Sprintf("/v1/imports/%d/records?%s", second, query), &p)
		if p.Kind != "prospects" {
			t.Errorf("records?%s: kind %q, want prospects", query, p.Kind)
		}
		out := []rec{}
		for _, r := range p.Records {
			out = append(out, rec{r.ID, r.Created, r.Values["last_name"]})
		}
		return out, p.NextCursor
	}
	A, B, C := rec{ids["a@example.com"], true, "A2"}, rec{ids["b@example.com"], false, "B2"}, rec{ids["c@example.com"], false, "C"}
	cur := func(r rec) string { return strconv.FormatInt(r.id, 10) }
	for _, tc := range []struct {
		query      string
		want       []rec
		wantCursor string
	}{
		{"", []rec{B, C, A}, ""}, // b and c are older than a
		{"created=true", []rec{A}, ""},
		{"limit=2", []rec{B, C}, cur(C)},
		{"limit=2&cursor=" + cur(C), []rec{A}, ""},
		{"created=true&cursor=" + cur(A), []rec{}, ""},
	} {
		got, cursor := page(tc.query)
		if !reflect.DeepEqual(got, tc.want) || cursor != tc.wantCursor {
			t.Errorf("records?%s: %v next_cursor %q, want %v next_cursor %q", tc.query, got, cursor, tc.want, tc.wantCursor)
		}
	}
	for _, query := range []string{"created=maybe", "limit=0", "cursor=x"} {
		if r := a.get(fmt.Sprintf("/v1/imports/%d/records?%s", second, query)); r.Status != http.StatusBadRequest {
			t.Errorf("records?%s: status %d, want 400", query, r.Status)
		}
	}
	if r := h.account(-1).get(fmt.Sprintf("/v1/imports/%d/records", second)); r.Status != http.StatusNotFound {
		t.Errorf("another account's import: status %d, want 404", r.Status)
	}
}
