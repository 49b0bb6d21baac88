package main

import (
	"context"
	"errors"
	"time"

	"github.com/leadpipe/leadpipe/broker"
)

// runBroker runs the embedded Kafka broker standalone, as `leadpipe serve` runs it when no
// brokers are configured, until SIGTERM or SIGINT. --addr and --data-dir default to
// kafka_embedded_addr and kafka_data_dir; it keeps what kafka_embedded_retention and
// kafka_embedded_retention_bytes allow.
func runBroker(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	addr := fs.String("addr", "", "host:port to listen on (default: kafka_embedded_addr)")
	dataDir := fs.String("data-dir", "", "directory keeping topics, messages and committed offsets (default: kafka_data_dir)")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return errors.New("usage: leadpipe broker [--addr HOST:PORT] [--data-dir DIR]")
	}
	if *addr == "" {
		*addr = e.cfg.KafkaEmbeddedAddr
	}
	if *dataDir == "" {
		*dataDir = e.cfg.KafkaDataDir
	}
	b, err := broker.Start(*addr, *dataDir, embeddedRetention(e))
	if err != nil {
		return err
	}
	e.log.Info("kafka broker listening", "addr", b.Addr(), "data_dir", *dataDir,
		"retention", time.Duration(e.cfg.KafkaEmbeddedRetention), "retention_bytes", e.cfg.KafkaEmbeddedRetentionBytes)
	<-ctx.Done()
	b.Close()
	e.log.Info("kafka broker stopped")
	return nil
}
