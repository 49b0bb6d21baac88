package pipeline

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/leadpipe/leadpipe/store"
)

var importsDesc = prometheus.NewDesc("leadpipe_imports",
	"Imports in the database by status, counted at each scrape (every process on one database exports the same figures).",
	[]string{"status"}, nil)

// ImportsByStatus is a Prometheus collector of leadpipe_imports{status}: how many imports of
// all accounts the database holds in each status, with every status present (0 when none).
// It queries Postgres at each scrape, for at most Timeout. When the query fails the scrape
// goes on without the metric, and the failure is logged once until the query works again.
type ImportsByStatus struct {
	Querier store.Querier
	Timeout time.Duration
	Log     *slog.Logger

	failing atomic.Bool
}

// Describe sends the metric's description.
func (c *ImportsByStatus) Describe(ch chan<- *prometheus.Desc) { ch <- importsDesc }

// Collect counts the imports and sends one gauge per status. It may be called concurrently.
func (c *ImportsByStatus) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.Timeout)
	defer cancel()
	counts, err := store.CountImportsByStatus(ctx, c.Querier)
	if err != nil {
		if !c.failing.Swap(true) {
			c.Log.Warn("leadpipe_imports not exported until Postgres answers", "error", err)
		}
		return
	}
	if c.failing.Swap(false) {
		c.Log.Info("leadpipe_imports exported again")
	}
	for _, status := range store.Statuses {
		ch <- prometheus.MustNewConstMetric(importsDesc, prometheus.GaugeValue, float64(counts[status]), status)
	}
}
