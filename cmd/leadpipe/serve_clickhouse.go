package main

import (
	"context"
	"time"

	"github.com/leadpipe/leadpipe/pipeline"
	chsink "github.com/leadpipe/leadpipe/sinks/clickhouse"
	"github.com/leadpipe/leadpipe/store"
)

// serveAnalytics delivers every committed row outcome and every finished import to ClickHouse
// until ctx is done. With no ClickHouse configured it says once that analytics are off and
// returns. ClickHouse being down, at start or later, stops nothing: imports go on, the relay
// retries, and the backlog drains when ClickHouse answers again; the schema is brought up to
// date on the first delivery that reaches it. committed wakes the relay.
func serveAnalytics(ctx context.Context, e *env, pool store.Querier, committed *pipeline.Signal) {
	addr, database := e.cfg.ClickHouseAddr, e.cfg.ClickHouseDatabase
	if addr == "" {
		e.log.Info("analytics off: clickhouse_addr (LEADPIPE_CLICKHOUSE_ADDR) is not set")
		return
	}
	sink := &chsink.Sink{Addr: addr, Database: database, Querier: pool}
	defer sink.Close()
	if err := sink.Ready(ctx); err != nil {
		e.log.Warn("clickhouse not reachable; imports go on and analytics catch up when it answers",
			"addr", addr, "error", err)
	} else {
		e.log.Info("analytics to clickhouse", "addr", addr, "database", database)
	}
	relay := &pipeline.Relay{
		Querier:   pool,
		Sink:      sink,
		Poll:      time.Duration(e.cfg.PollInterval),
		BatchRows: e.cfg.ClickHouseBatchRows,
		Linger:    time.Duration(e.cfg.ClickHouseLinger),
		Committed: committed,
		Log:       e.log,
	}
	relay.Run(ctx)
}
