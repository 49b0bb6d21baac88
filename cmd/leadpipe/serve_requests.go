package main

import (
	"context"
	"strings"

	"github.com/leadpipe/leadpipe/api"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/pipeline/requests"
)

// serveRequests starts the Kafka request consumer (docs/requests.md) on brokers, until ctx is
// done, and returns a function that waits for it to have stopped. With no brokers, import
// requests are off and it says so. It fails when file_root cannot be opened.
func serveRequests(ctx context.Context, e *env, im *importer.Importer, files *api.Files, brokers []string) (wait func(), err error) {
	if len(brokers) == 0 {
		e.log.Info("import requests off: they need a Kafka broker; set kafka_brokers (LEADPIPE_KAFKA_BROKERS)")
		return func() {}, nil
	}
	c, err := requests.New(brokers, e.cfg, im, files, e.log)
	if err != nil {
		return nil, err
	}
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	return func() { <-done }, nil
}

// kafkaBrokers splits the kafka_brokers setting (host:port, comma-separated) into addresses.
func kafkaBrokers(list string) []string {
	var out []string
	for _, b := range strings.Split(list, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}
