package requests

import (
	"context"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// lagInterval is how often the request lag is measured, besides after each commit.
const lagInterval = 5 * time.Second

// watchLag keeps leadpipe_requests_lag at the consumer group's lag on the requests topic until
// ctx is done: measured at once, every lagInterval and whenever measure receives. It is
// measured on the broker, not from the messages handled, so that it grows while the consumer
// is stuck on a message or waiting for Postgres. A failed measurement keeps the last value.
func (c *Consumer) watchLag(ctx context.Context, measure <-chan struct{}) {
	transport := &kafka.Transport{}
	defer transport.CloseIdleConnections()
	client := &kafka.Client{Addr: kafka.TCP(c.brokers...), Timeout: 10 * time.Second, Transport: transport}
	tick := time.NewTicker(lagInterval)
	defer tick.Stop()
	for {
		lag, err := groupLag(ctx, client, c.cfg.KafkaRequestsTopic, c.cfg.KafkaGroup)
		switch {
		case err == nil:
			requestsLag.Set(float64(lag))
		case ctx.Err() == nil:
			c.log.Debug("import requests: measure the lag", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-measure:
		}
	}
}

// groupLag returns how many messages of topic group has not committed: the sum over the
// topic's partitions of the high-water mark minus the group's committed offset, or minus the
// partition's first offset when the group has committed none there (it starts at the first).
func groupLag(ctx context.Context, client *kafka.Client, topic, group string) (int64, error) {
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return 0, err
	}
	if len(meta.Topics) != 1 || meta.Topics[0].Error != nil {
		return 0, fmt.Errorf("metadata of topic %s: %v", topic, meta.Topics)
	}
	var partitions []int
	var bounds []kafka.OffsetRequest
	for _, p := range meta.Topics[0].Partitions {
		partitions = append(partitions, p.ID)
		bounds = append(bounds, kafka.FirstOffsetOf(p.ID), kafka.LastOffsetOf(p.ID))
	}
	offsets, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: bounds}})
	if err != nil {
		return 0, err
	}
	committed, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: partitions}})
	if err == nil {
		err = committed.Error
	}
	if err != nil {
		return 0, err
	}
	next := map[int]int64{}
	for _, p := range committed.Topics[topic] {
		if p.Error != nil {
			return 0, p.Error
		}
		next[p.Partition] = p.CommittedOffset
	}
	var lag int64
	for _, p := range offsets.Topics[topic] {
		if p.Error != nil {
			return 0, p.Error
		}
		from, ok := next[p.Partition]
		if !ok || from < p.FirstOffset {
			from = p.FirstOffset // none committed (-1), or committed before what the broker still keeps
		}
		lag += max(0, p.LastOffset-from)
	}
	return lag, nil
}
