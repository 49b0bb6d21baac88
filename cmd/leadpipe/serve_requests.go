package main

import (
	"context"
	"time"

	"github.com/leadpipe/leadpipe/filestore"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/intake/requests"
	"github.com/leadpipe/leadpipe/store"
)

// serveRequests starts the Kafka request consumer (docs/requests.md) on brokers, and the
// pruning of its records in Postgres, until ctx is done, and returns a function that waits for
// both to have stopped. It fails when file_root cannot be opened.
func serveRequests(ctx context.Context, e *env, im *importer.Importer, files *filestore.Store, brokers []string) (wait func(), err error) {
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
// than kafka_requests_retention (pruneEvery).
func pruneRequests(ctx context.Context, e *env, pool store.Querier) {
	pruneEvery(ctx, e, "kafka_requests_retention", time.Duration(e.cfg.KafkaRequestsRetention), "kafka requests",
		func(ctx context.Context, retention time.Duration) (int64, error) {
			return store.PruneRequests(ctx, pool, time.Now().Add(-retention))
		})
}
