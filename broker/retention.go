package broker

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// RetentionCheck is how often the broker deletes the messages beyond its Retention.Bytes.
// Between two checks a partition may exceed it by what is written to it. Messages older
// than Retention.Time are looked for every tenth of it, at least every RetentionCheck and at
// most every minute.
const RetentionCheck = time.Second

const (
	// maxSegmentBytes caps a partition's segment files at kfake's default size.
	maxSegmentBytes = 100 << 20
	// maxBatchBytes is kfake's default message.max.bytes: the largest batch it accepts.
	maxBatchBytes = 1048588
)

// Retention is how much of each partition of every topic the broker keeps. Messages older
// than Time, and a partition's oldest messages beyond its newest Bytes, are deleted from
// memory and from the data directory; a consumer behind them goes on at the oldest kept. A
// partition always keeps its newest message, however old, and its newest batch: the broker
// accepts no batch larger than Bytes. A zero field sets no limit.
type Retention struct {
	Time  time.Duration
	Bytes int64 // per partition, counting messages as they are sent (compressed, with headers)
}

// configs are the broker configs that make kfake keep what r allows: the byte limit (-1:
// none), batches no larger, and segment files small enough, an eighth of it, that deleting
// whole ones frees the disk and memory of what is no longer kept. kfake's own time limit is
// off: expire applies it.
func (r Retention) configs() map[string]string {
	bytes, segment, batch := int64(-1), int64(maxSegmentBytes), int64(maxBatchBytes)
	if r.Bytes > 0 {
		bytes = r.Bytes
		segment = min(max(r.Bytes/8, 1), maxSegmentBytes)
		batch = min(r.Bytes, maxBatchBytes)
	}
	return map[string]string{
		"log.retention.ms":    "-1",
		"log.retention.bytes": strconv.FormatInt(bytes, 10),
		"log.segment.bytes":   strconv.FormatInt(segment, 10),
		"message.max.bytes":   strconv.FormatInt(batch, 10),
	}
}

// applyRetention deletes what r does not keep until Close. kfake would apply its limits by
// itself only to topics created with limits of their own, and only hourly.
func (b *Broker) applyRetention(r Retention) {
	defer close(b.stopped)
	if r.Time <= 0 && r.Bytes <= 0 {
		return
	}
	tick := time.NewTicker(RetentionCheck)
	defer tick.Stop()
	expireEvery := min(max(r.Time/10, RetentionCheck), time.Minute)
	var expired time.Time
	for {
		select {
		case <-b.stop:
			return
		case <-tick.C:
		}
		if r.Bytes > 0 {
			b.cluster.ApplyRetention()
		}
		if r.Time > 0 && time.Since(expired) >= expireEvery {
			expired = time.Now()
			if err := b.expire(r.Time); err != nil {
				b.log.Warn("delete expired messages", "error", err)
			}
		}
	}
}

// expire deletes from every partition the messages older than age but its newest one. kfake
// can expire messages by itself, but a partition it has emptied starts again at offset 0
// when the broker restarts, behind the offsets its consumers committed, which then wait
// for ever.
func (b *Broker) expire(age time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, err := kgo.NewClient(kgo.SeedBrokers(b.addr))
	if err != nil {
		return err
	}
	defer client.Close()
	meta, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, client)
	if err != nil {
		return err
	}
	// Each partition's offsets first: messages written after them are never deleted.
	type bounds struct{ start, end int64 }
	offsets := map[string]map[int32]bounds{}
	cutoff := time.Now().Add(-age).UnixMilli()
	list := kmsg.NewPtrListOffsetsRequest()
	list.ReplicaID = -1
	for _, t := range meta.Topics {
		if t.Topic == nil || t.ErrorCode != 0 {
			continue
		}
		offsets[*t.Topic] = map[int32]bounds{}
		for _, p := range b.cluster.PartitionInfos(*t.Topic) {
			offsets[*t.Topic][p.Partition] = bounds{p.LogStartOffset, p.HighWatermark}
		}
		lt := kmsg.NewListOffsetsRequestTopic()
		lt.Topic = *t.Topic
		for _, p := range t.Partitions {
			lp := kmsg.NewListOffsetsRequestTopicPartition()
			lp.Partition, lp.Timestamp = p.Partition, cutoff
			lt.Partitions = append(lt.Partitions, lp)
		}
		list.Topics = append(list.Topics, lt)
	}
	// The first message of each partition written at or after the cutoff: -1 when none is.
	listed, err := list.RequestWith(ctx, client)
	if err != nil {
		return err
	}
	var errs []error
	for _, t := range listed.Topics {
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				errs = append(errs, fmt.Errorf("%s/%d: %w", t.Topic, p.Partition, err))
				continue
			}
			o, ok := offsets[t.Topic][p.Partition]
			if !ok {
				continue // created since
			}
			keep := o.end - 1
			if p.Offset >= 0 && p.Offset < keep {
				keep = p.Offset
			}
			if keep > o.start {
				if err := b.cluster.DeleteRecords(t.Topic, p.Partition, keep); err != nil {
					errs = append(errs, fmt.Errorf("%s/%d: %w", t.Topic, p.Partition, err))
				}
			}
		}
	}
	return errors.Join(errs...)
}
