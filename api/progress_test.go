package api_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/api"
	"github.com/leadpipe/leadpipe/store"
)

// An import's rate is its rows done over the seconds since it started — until now, or until it
// ended — to a tenth; a running import with a total has the seconds left at that rate.
func TestProgressOf(t *testing.T) {
	now := time.Date(2026, 12, 5, 7, 0, 0, 0, time.UTC)
	ago := func(s float64) *time.Time {
		at := now.Add(-time.Duration(s * float64(time.Second)))
		return &at
	}
	imp := func(status string, started, finished *time.Time, done, total int) store.Import {
		im := store.Import{Status: status, StartedAt: started, FinishedAt: finished, RowsTotal: total}
		im.Counts.Rows = done
		return im
	}
	secs := func(n int64) *int64 { return &n }
	for _, c := range []struct {
		what string
		im   store.Import
		want api.Progress
	}{
		{"queued", imp(store.StatusQueued, nil, nil, 0, 150), api.Progress{RowsTotal: 150}},
		{"started, no row done", imp(store.StatusRunning, ago(10), nil, 0, 150), api.Progress{RowsTotal: 150}},
		{"running", imp(store.StatusRunning, ago(10), nil, 50, 150), api.Progress{RowsDone: 50, RowsTotal: 150, RowsPerSecond: 5, SecondsLeft: secs(20)}},
		{"running, rate to a tenth", imp(store.StatusRunning, ago(7), nil, 10, 11), api.Progress{RowsDone: 10, RowsTotal: 11, RowsPerSecond: 1.4, SecondsLeft: secs(1)}},
		{"running, every row done", imp(store.StatusRunning, ago(4), nil, 8, 8), api.Progress{RowsDone: 8, RowsTotal: 8, RowsPerSecond: 2, SecondsLeft: secs(0)}},
		{"running, total unknown", imp(store.StatusRunning, ago(3), nil, 10, 0), api.Progress{RowsDone: 10, RowsPerSecond: 3.3}},
		{"ended: its rate until then", imp(store.StatusCompleted, ago(100), ago(60), 200, 200), api.Progress{RowsDone: 200, RowsTotal: 200, RowsPerSecond: 5}},
		{"cancelled", imp(store.StatusCancelled, ago(30), ago(20), 50, 100), api.Progress{RowsDone: 50, RowsTotal: 100, RowsPerSecond: 5}},
		{"paused, back in the queue: since its first start", imp(store.StatusQueued, ago(20), nil, 40, 100), api.Progress{RowsDone: 40, RowsTotal: 100, RowsPerSecond: 2}},
		{"a clock behind its start", imp(store.StatusRunning, ago(-5), nil, 40, 100), api.Progress{RowsDone: 40, RowsTotal: 100}},
	} {
		got := api.ProgressOf(c.im, now)
		if fmt.Sprint(show(got)) != fmt.Sprint(show(c.want)) {
			t.Errorf("%s: %s, want %s", c.what, show(got), show(c.want))
		}
	}
}

// show formats a progress, seconds left by value.
func show(p api.Progress) string {
	left := "-"
	if p.SecondsLeft != nil {
		left = fmt.Sprint(*p.SecondsLeft)
	}
	return fmt.Sprintf("%d/%d at %v rows/s, %s s left", p.RowsDone, p.RowsTotal, p.RowsPerSecond, left)
}

// GET /v1/imports/{id} and the history show a running import's rate and seconds left; an
// import not started yet shows a rate of 0 and no seconds_left member.
func TestProgressShown(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	a := h.account(-1)
	id := a.submit("p.csv", []byte("Email\nq@example.com\n"), "")
	r := a.get(fmt.Sprintf("/v1/imports/%d", id))
	if !strings.Contains(string(r.Body), `"progress":{"rows_done":0,"rows_total":1,"rows_per_second":0}`) {
		t.Errorf("queued import: %s", r.Body)
	}
	// As if it had run for 100 s and done 500 of 1500 rows (no worker runs here).
	if _, err := h.pool.Exec(h.ctx, `UPDATE imports SET status = 'running', started_at = now() - interval '100 seconds', rows_done = 500,
		rows_total = 1500 WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	var v importView
	a.getJSON(fmt.Sprintf("/v1/imports/%d", id), &v)
	// A moment passes between the update and the answer: 200 s left at 5 rows/s, give or take one.
	if p := v.Progress; p.RowsPerSecond != 5 || p.SecondsLeft == nil || *p.SecondsLeft < 200 || *p.SecondsLeft > 201 {
		t.Errorf("running import: %s, want 500/1500 at 5 rows/s, 200 s left", show(p))
	}
	var list api.ImportList
	a.getJSON("/v1/imports", &list)
	if len(list.Imports) != 1 || list.Imports[0].Progress.RowsPerSecond != 5 || list.Imports[0].Progress.SecondsLeft == nil {
		t.Errorf("history: %+v", list.Imports)
	}
}
