package broker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
)

// EnsureTopics creates those of topics that do not exist yet on the Kafka cluster reachable
// at brokers (host:port each), with the cluster's default partition count and replication
// factor (Kafka 2.4 or later). Topics that exist are left as they are, so calling it again
// does nothing.
func EnsureTopics(ctx context.Context, brokers []string, topics ...string) error {
	transport := &kafka.Transport{}
	defer transport.CloseIdleConnections()
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Transport: transport, Timeout: 30 * time.Second}
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		return fmt.Errorf("kafka topics %s on %s: %w", strings.Join(topics, ", "), strings.Join(brokers, ","), err)
	}
	exists := map[string]bool{}
	for _, t := range meta.Topics {
		exists[t.Name] = t.Error == nil
	}
	var missing []kafka.TopicConfig
	for _, t := range topics {
		if !exists[t] {
			missing = append(missing, kafka.TopicConfig{Topic: t, NumPartitions: -1, ReplicationFactor: -1})
		}
	}
	if len(missing) == 0 {
		return nil
	}
	resp, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: missing})
	if err != nil {
		return fmt.Errorf("create kafka topics on %s: %w", strings.Join(brokers, ","), err)
	}
	var errs []error
	for topic, err := range resp.Errors {
		if err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
			errs = append(errs, fmt.Errorf("create kafka topic %s: %w", topic, err))
		}
	}
	return errors.Join(errs...)
}
