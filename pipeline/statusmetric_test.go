package pipeline_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/sinks/sinkstest"
	"github.com/leadpipe/leadpipe/store"
	"github.com/leadpipe/leadpipe/store/storetest"
)

// gatherImports scrapes c and returns leadpipe_imports by status.
func gatherImports(t *testing.T, c prometheus.Collector) map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			got[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
		}
	}
	return got
}

func TestImportsByStatusCountsEveryStatus(t *testing.T) {
	pool, acct, im := setup(t)
	ctx := context.Background()
	if _, err := im.RunNow(ctx, importer.Request{Account: acct.Name, Path: writeCSV(t, "s.csv", relayCSV), Source: store.SourceCLI}, "test", false); err != nil {
		t.Fatal(err)
	}
	sinkstest.OrganizationsUndo(t, pool, acct, sinkstest.Organizations(t, pool, acct))
	got := gatherImports(t, &pipeline.ImportsByStatus{Querier: pool, Timeout: 10 * time.Second, Log: quiet})
	if len(got) != len(store.Statuses) {
		t.Errorf("leadpipe_imports has %d series %v, want one per status %v", len(got), got, store.Statuses)
	}
	for _, status := range store.Statuses {
		var want float64
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM imports WHERE status = $1", status).Scan(&want); err != nil {
			t.Fatal(err)
		}
		if v, ok := got[status]; !ok || v != want {
			t.Errorf("leadpipe_imports{status=%q} = %v (present %v), want %v", status, v, ok, want)
		}
	}
	if got[store.StatusCompleted] < 1 {
		t.Errorf("leadpipe_imports{status=\"completed\"} = %v after a completed import", got[store.StatusCompleted])
	}
	if got[store.StatusUndone] < 1 {
		t.Errorf("leadpipe_imports{status=\"undone\"} = %v after an undone import", got[store.StatusUndone])
	}
}

// While Postgres does not answer, the metric is left out of the scrape and the failure is
// logged once; it comes back when Postgres does.
func TestImportsByStatusWithoutPostgres(t *testing.T) {
	pool := storetest.Pool(t)
	closed, err := store.Connect(context.Background(), storetest.URL())
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	var log bytes.Buffer
	c := &pipeline.ImportsByStatus{Querier: closed, Timeout: 10 * time.Second, Log: slog.New(slog.NewTextHandler(&log, nil))}
	for range 2 {
		if got := gatherImports(t, c); len(got) != 0 {
			t.Errorf("leadpipe_imports = %v from a closed pool, want no series", got)
		}
	}
	if n := strings.Count(log.String(), "not exported"); n != 1 {
		t.Errorf("%d failure lines after two failed scrapes, want 1:\n%s", n, log.String())
	}
	c.Querier = pool
	if got := gatherImports(t, c); len(got) != len(store.Statuses) {
		t.Errorf("leadpipe_imports = %v once Postgres answers, want one series per status", got)
	}
	if !strings.Contains(log.String(), "exported again") {
		t.Errorf("no recovery line:\n%s", log.String())
	}
}
