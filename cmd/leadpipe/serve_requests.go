package main

import (
	"context"
	"time"

	"github.com/leadpipe/leadpipe/api"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/pipeline/requests"
	"github.com/leadpipe/leadpipe/store"
)

// serveRequests starts the Kafka request consumer (docs/requests.md) on brokers, and the
// pruning of its records in Postgres, until ctx is done, and returns a function that waits for
// both to have stopped. It fails when file_root cannot be opened.
func serveRequests(ctx context.Context, e *env, im *importer.Importer, files *api.Files, brokers []string) (wait func(), err error) {
	c, err := requests.New(brokers, e.cfg, im, files, e.log)
	if err != nil {
		return nil, err
	}
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	pruned := make(chan struct{})
	go func() { pruneRequests(ctx, e, im.Pool); close(pruned) }()
	return func() { <-done; <-pruned }, nil
}

// pruneRequests deletes the records of Kafka requests (kafka_requests) first seen longer ago
// than the kafka_requests_retention setting, at start and then every pruneInterval, until ctx
// is done. With no retention it does nothing.
func pruneRequests(ctx context.Context, e *env, pool store.Querier) {
	retention := time.Duration(e.cfg.KafkaRequestsRetention)
	if retention <= 0 {
		return
	}
	for {
		n, err := store.PruneRequests(ctx, pool, time.Now().Add(-retention))
		switch {
		case err != nil && ctx.Err() == nil:
			e.log.Error("prune kafka requests", "error", err)
		case n > 0:
			e.log.Info("pruned kafka requests", "requests", n, "retention", retention.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pruneInterval):
		}
	}
}
