package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/leadpipe/leadpipe/broker"
	"github.com/leadpipe/leadpipe/pipeline"
	kafkasink "github.com/leadpipe/leadpipe/sinks/kafka"
	"github.com/leadpipe/leadpipe/store"
)

// kafkaSide is the daemon's Kafka: the embedded broker when no brokers are configured, and the
// relay that publishes committed row outcomes and import events there.
type kafkaSide struct {
	// brokers is where Kafka is, host:port each: what the daemon's Kafka clients connect to.
	brokers  []string
	embedded *broker.Broker // nil with configured brokers
	sink     *kafkasink.Sink
	stop     context.CancelFunc
	done     chan struct{}
}

// startKafka starts the embedded broker when kafka_brokers is empty, then the relay to the
// Kafka sink, which runs until ctx is done or close is called, woken by committed.
func startKafka(ctx context.Context, e *env, pool store.Querier, committed *pipeline.Signal) (*kafkaSide, error) {
	k := &kafkaSide{brokers: brokerList(e.cfg.KafkaBrokers)}
	if len(k.brokers) == 0 {
		b, err := broker.Start(e.cfg.KafkaEmbeddedAddr, e.cfg.KafkaDataDir, embeddedRetention(e))
		if err != nil {
			return nil, fmt.Errorf("%w (kafka_brokers is empty, so leadpipe runs its own broker on kafka_embedded_addr: "+
				"set that to a free address, or kafka_brokers to running brokers)", err)
		}
		k.embedded, k.brokers = b, []string{b.Addr()}
		e.log.Info("embedded kafka broker listening", "addr", b.Addr(), "data_dir", e.cfg.KafkaDataDir,
			"retention", time.Duration(e.cfg.KafkaEmbeddedRetention), "retention_bytes", e.cfg.KafkaEmbeddedRetentionBytes)
	}
	k.sink = kafkasink.New(kafkasink.Config{Brokers: k.brokers, OutcomesTopic: e.cfg.KafkaOutcomesTopic,
		EventsTopic: e.cfg.KafkaEventsTopic})
	// A delivery may carry a whole batch of an import (kafkasink.DeliveryRows).
	relay := &pipeline.Relay{Querier: pool, Sink: k.sink, Poll: time.Duration(e.cfg.PollInterval),
		BatchRows: max(kafkasink.DeliveryRows, e.cfg.BatchSize), Committed: committed, Log: e.log}
	ctx, k.stop = context.WithCancel(ctx)
	k.done = make(chan struct{})
	go func() { relay.Run(ctx); close(k.done) }()
	e.log.Info("publishing row outcomes and import events to kafka", "brokers", strings.Join(k.brokers, ","),
		"outcomes_topic", e.cfg.KafkaOutcomesTopic, "events_topic", e.cfg.KafkaEventsTopic)
	return k, nil
}

// close stops the relay, then the sink's writer, then the embedded broker: nothing is
// written to a broker that is gone. What was not published yet is published by the next run.
func (k *kafkaSide) close(e *env) {
	k.stop()
	<-k.done
	if err := k.sink.Close(); err != nil {
		e.log.Error("close kafka writer", "error", err)
	}
	if k.embedded != nil {
		k.embedded.Close()
		e.log.Info("embedded kafka broker stopped")
	}
}

// embeddedRetention is what the embedded broker keeps: kafka_embedded_retention and
// kafka_embedded_retention_bytes.
func embeddedRetention(e *env) broker.Retention {
	return broker.Retention{Time: time.Duration(e.cfg.KafkaEmbeddedRetention), Bytes: e.cfg.KafkaEmbeddedRetentionBytes}
}

// brokerList splits kafka_brokers (host:port, comma-separated) into its addresses.
func brokerList(s string) []string {
	var list []string
	for _, b := range strings.Split(s, ",") {
		if b = strings.TrimSpace(b); b != "" {
			list = append(list, b)
		}
	}
	return list
}
