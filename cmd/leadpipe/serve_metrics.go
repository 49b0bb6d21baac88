package main

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
)

// importsScrapeTimeout bounds the query behind leadpipe_imports at each scrape, well within
// a usual scrape timeout.
const importsScrapeTimeout = 2 * time.Second

// metricsHandler serves /metrics: the process's own metrics (pipeline, sinks, Go runtime) and
// leadpipe_imports{status}, counted in Postgres at each scrape. A collector that fails is
// logged and left out; the rest of the page is still served.
func metricsHandler(e *env, pool store.Querier) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(&pipeline.ImportsByStatus{Querier: pool, Timeout: importsScrapeTimeout, Log: e.log})
	return promhttp.InstrumentMetricHandler(prometheus.DefaultRegisterer,
		promhttp.HandlerFor(prometheus.Gatherers{prometheus.DefaultGatherer, reg}, promhttp.HandlerOpts{
			ErrorLog:      slog.NewLogLogger(e.log.Handler(), slog.LevelError),
			ErrorHandling: promhttp.ContinueOnError,
		}))
}
