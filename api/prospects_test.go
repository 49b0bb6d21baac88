package api_test

import (
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"testing"

	"github.com/leadpipe/leadpipe/store"
)

// emails lists the emails of a page of prospects, and its next_cursor.
func (c *client) emails(query string) ([]string, string) {
	c.h.t.Helper()
	l := c.prospects(query)
	out := []string{}
	for _, p := range l.Prospects {
		out = append(out, p.Email)
	}
	return out, l.NextCursor
}

// TestProspectFilters filters prospects by the import that created, updated or left them
// unchanged: by import id, by file name (two imports of leads.csv), by import date, combined,
// and pages them by id.
func TestProspectFilters(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.startWorkers()
	a := h.account(-1)
	imp1 := a.submit("leads.csv", []byte("Email,Last Name\na@example.com,A\nb@example.com,B\n"), "")
	a.waitFinished(imp1, store.StatusCompleted)
	imp2 := a.submit("leads.csv", []byte("Email,Last Name\nb@example.com,B\nc@example.com,C\n"), "")
	a.waitFinished(imp2, store.StatusCompleted)
	imp3 := a.submit("other.csv", []byte("Email,Last Name\nd@example.com,D\na@example.com,A2\nnot-an-email,X\n"), "")
	v3 := a.waitFinished(imp3, store.StatusCompleted)
	if v3.Created != 1 || v3.Updated != 1 || v3.Skipped != 1 {
		t.Fatalf("import 3: %+v, want 1 created, 1 updated, 1 skipped", v3.Counts)
	}
	h.setCreated(imp1, "2024-01-10T12:00:00Z")
	h.setCreated(imp2, "2024-02-10T12:00:00Z")
	h.setCreated(imp3, "2024-03-10T12:00:00Z")

	// Prospect ids in creation order: a and b (import 1), c (2), d (3).
	var ids []int64
	for _, p := range a.prospects("").Prospects {
		ids = append(ids, p.ID)
	}
	if len(ids) != 4 {
		t.Fatalf("all prospects: %v, want 4", ids)
	}
	cur := func(i int) string { return strconv.FormatInt(ids[i], 10) }
	A, B, C, D := "a@example.com", "b@example.com", "c@example.com", "d@example.com"

	for _, tc := range []struct {
		query      string
		want       []string
		wantCursor string
	}{
		{"", []string{A, B, C, D}, ""},
		{fmt.Sprintf("import_id=%d", imp1), []string{A, B}, ""},
		{fmt.Sprintf("import_id=%d", imp2), []string{B, C}, ""}, // b unchanged
		{fmt.Sprintf("import_id=%d", imp3), []string{A, D}, ""}, // a updated, d created
		{"import_file=leads.csv", []string{A, B, C}, ""},
		{"import_file=other.csv", []string{A, D}, ""},
		{"import_file=nope.csv", []string{}, ""},
		{fmt.Sprintf("import_id=%d&import_file=leads.csv", imp3), []string{}, ""},
		{fmt.Sprintf("import_id=%d&import_file=leads.csv", imp2), []string{B, C}, ""},
		{"imported_from=2024-02-01", []string{A, B, C, D}, ""},
		{"imported_to=2024-02-01", []string{A, B}, ""},
		{"imported_from=2024-02-01&imported_to=2024-03-01", []string{B, C}, ""},
		// imported_from inclusive, imported_to exclusive, RFC 3339 with offsets.
		{"imported_from=2024-02-10T12:00:00Z&imported_to=2024-03-10T12:00:00Z", []string{B, C}, ""},
		{"imported_from=2024-02-10T13:00:00%2B01:00&imported_to=2024-03-10T12:00:00.000001Z", []string{A, B, C, D}, ""},
		{"imported_from=2024-03-11", []string{}, ""},
		{"import_file=leads.csv&imported_from=2024-02-01", []string{B, C}, ""},
		{"import_file=other.csv&imported_to=2024-03-01", []string{}, ""},
		// Keyset pages by id.
		{"limit=1", []string{A}, cur(0)},
		{"limit=1&cursor=" + cur(0), []string{B}, cur(1)},
		{"limit=3", []string{A, B, C}, cur(2)},
		{"limit=3&cursor=" + cur(2), []string{D}, ""},
		{"limit=2&cursor=" + cur(1), []string{C, D}, cur(3)},
		{"limit=2&cursor=" + cur(3), []string{}, ""},
		{"import_file=leads.csv&limit=2", []string{A, B}, cur(1)},
		{"import_file=leads.csv&limit=2&cursor=" + cur(1), []string{C}, ""},
		{fmt.Sprintf("import_id=%d&limit=1&cursor=%s", imp3, cur(0)), []string{D}, cur(3)},
	} {
		got, cursor := a.emails(tc.query)
		if !reflect.DeepEqual(got, tc.want) || cursor != tc.wantCursor {
			t.Errorf("prospects?%s: %q next_cursor %q, want %q next_cursor %q", tc.query, got, cursor, tc.want, tc.wantCursor)
		}
	}

	// The records: a's last name is import 3's.
	l := a.prospects(fmt.Sprintf("import_id=%d", imp3))
	if got := l.Prospects[0]; got.LastName != "A2" || got.CreatedAt.IsZero() || got.UpdatedAt.Before(got.CreatedAt) {
		t.Errorf("prospect a: %+v", got)
	}
	// An import id that does not exist is not found.
	r := a.get("/v1/prospects?import_id=999999999")
	wantError(t, "prospects of a missing import", r, http.StatusNotFound, "not found")
}

// TestProspectsPageSize: every page the API returns says whether there are more. limit=0 once
// returned the store's default page of 100 with no next_cursor, hiding the rest; it is either
// paged correctly or refused.
func TestProspectsPageSize(t *testing.T) {
	h := newHarness(t, harnessOpts{BatchSize: 200})
	h.startWorkers()
	a := h.account(-1)
	csv := []byte("Email\n")
	for i := range 150 {
		csv = fmt.Appendf(csv, "p%03d@example.com\n", i)
	}
	id := a.submit("many.csv", csv, "")
	a.waitFinished(id, store.StatusCompleted)

	got, cursor := a.emails("")
	if len(got) != 50 || cursor == "" {
		t.Errorf("default page: %d prospects, next_cursor %q; want 50 and a cursor", len(got), cursor)
	}
	r := a.get("/v1/prospects?limit=0")
	if r.Status == http.StatusOK {
		got, cursor := a.emails("limit=0")
		if cursor == "" && len(got) < 150 {
			t.Errorf("prospects?limit=0: %d of 150 prospects and no next_cursor: the rest cannot be fetched", len(got))
		}
	} else {
		wantError(t, "prospects?limit=0", r, http.StatusBadRequest, "invalid query parameters")
	}
}
