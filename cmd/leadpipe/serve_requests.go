package main

import (
	"context"

	"github.com/leadpipe/leadpipe/api"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/pipeline/requests"
)

// serveRequests starts the Kafka request consumer (docs/requests.md) on brokers, until ctx is
// done, and returns a function that waits for it to have stopped. It fails when file_root
// cannot be opened.
func serveRequests(ctx context.Context, e *env, im *importer.Importer, files *api.Files, brokers []string) (wait func(), err error) {
	c, err := requests.New(brokers, e.cfg, im, files, e.log)
	if err != nil {
		return nil, err
	}
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	return func() { <-done }, nil
}
