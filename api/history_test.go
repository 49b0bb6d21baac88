package api_test

import (
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"strconv"
	"testing"

	"github.com/leadpipe/leadpipe/api"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/store"
)

// ids lists the imports of a history page, and its next_cursor.
func (c *client) history(query string) ([]int64, string) {
	c.h.t.Helper()
	var l api.ImportList
	c.getJSON("/v1/imports?"+query, &l)
	if l.Imports == nil {
		c.h.t.Errorf("imports?%s: imports is null, want a list", query)
	}
	ids := []int64{}
	for _, v := range l.Imports {
		ids = append(ids, v.ID)
	}
	return ids, l.NextCursor
}

// setCreated sets an import's created_at.
func (h *harness) setCreated(id int64, at string) {
	h.t.Helper()
	if _, err := h.pool.Exec(h.ctx, "UPDATE imports SET created_at = $2 WHERE id = $1", id, at); err != nil {
		h.t.Fatal(err)
	}
}

// TestHistory pages the history of three imports, newest first, and filters it by status and
// by creation time.
func TestHistory(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	a := h.account(-1)
	stop := h.startWorkers()
	first := a.submit("one.csv", []byte("Email\none@example.com\n"), "")
	a.waitFinished(first, store.StatusCompleted)
	second := a.submit("two.csv", []byte("Email\ntwo@example.com\n"), "")
	a.waitFinished(second, store.StatusCompleted)
	stop()
	third := a.submit("three.csv", []byte("Email\nthree@example.com\n"), "")
	if r := a.post(fmt.Sprintf("/v1/imports/%d/cancel", third)); r.Status != http.StatusOK {
		t.Fatalf("cancel: %s", r)
	}
	h.setCreated(first, "2024-01-10T12:00:00Z")
	h.setCreated(second, "2024-02-10T12:00:00Z")
	h.setCreated(third, "2024-03-10T12:00:00Z")
	s := func(id int64) string { return strconv.FormatInt(id, 10) }

	for _, tc := range []struct {
		query      string
		want       []int64
		wantCursor string
	}{
		{"", []int64{third, second, first}, ""},
		{"limit=2", []int64{third, second}, s(second)},
		{"limit=2&cursor=" + s(second), []int64{first}, ""},
		{"limit=3", []int64{third, second, first}, s(first)},
		{"limit=3&cursor=" + s(first), []int64{}, ""},
		{"limit=1&cursor=" + s(third), []int64{second}, s(second)},
		{"status=completed", []int64{second, first}, ""},
		{"status=cancelled", []int64{third}, ""},
		{"status=failed", []int64{}, ""},
		{"status=completed&limit=1", []int64{second}, s(second)},
		{"status=completed&limit=1&cursor=" + s(second), []int64{first}, s(first)},
		{"from=2024-02-01", []int64{third, second}, ""},
		{"to=2024-02-01", []int64{first}, ""},
		{"from=2024-02-01&to=2024-03-01", []int64{second}, ""},
		// from is inclusive, to exclusive.
		{"from=2024-02-10T12:00:00Z&to=2024-03-10T12:00:00Z", []int64{second}, ""},
		{"from=2024-02-10T13:00:00%2B01:00", []int64{third, second}, ""},
		{"from=2024-02-10T12:00:00.000001Z", []int64{third}, ""},
		{"from=2024-02-01&status=completed", []int64{second}, ""},
		{"kind=prospects", []int64{third, second, first}, ""},
	} {
		got, cursor := a.history(tc.query)
		if !reflect.DeepEqual(got, tc.want) || cursor != tc.wantCursor {
			t.Errorf("imports?%s: %v next_cursor %q, want %v next_cursor %q", tc.query, got, cursor, tc.want, tc.wantCursor)
		}
	}

	// Every other kind has no import here.
	for _, kind := range importer.Kinds() {
		if got, _ := a.history("kind=" + kind); kind != "prospects" && len(got) != 0 {
			t.Errorf("imports?kind=%s: %v, want none", kind, got)
		}
	}

	// The views carry what the history shows of each; a prospects import that never ran
	// reports its counters too, at 0.
	var l api.ImportList
	a.getJSON("/v1/imports", &l)
	noOrgs := map[string]int{"organizations_created": 0, "organizations_linked": 0}
	for _, v := range l.Imports {
		switch v.ID {
		case third:
			if v.Status != "cancelled" || v.FileName != "three.csv" || v.FinishedAt == nil || v.StartedAt != nil || v.Counts.Rows != 0 ||
				!maps.Equal(v.Counters, noOrgs) {
				t.Errorf("cancelled import %+v", v)
			}
		default:
			if v.Status != "completed" || v.Created != 1 || v.Progress.RowsDone != 1 || v.Progress.RowsTotal != 1 || v.Source != "upload" {
				t.Errorf("completed import %+v", v)
			}
		}
	}
}
