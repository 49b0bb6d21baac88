package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/segmentio/kafka-go"
)

// The sinks' lag is measured from outside the daemon, the way a consumer downstream sees it:
// by reading the Kafka outcomes topic and counting ClickHouse's row_outcomes, every lagPoll,
// until the import's outcomes are there.

// lagPoll is how often the bench looks at a sink for an import's outcomes: often enough that
// the lag measured is not the poll interval.
const lagPoll = 50 * time.Millisecond

// lagTimeout is how long the bench waits for a sink to hold an import's outcomes before it
// gives up on it.
const lagTimeout = 5 * time.Minute

// outcomesTail reads the last message of each partition of the Kafka outcomes topic. An
// import's outcomes are keyed by its id, so they share one partition, and the relay publishes
// them by row number: once the import's last row outcome is on the topic, it stays the last
// message of its partition until another import publishes there.
type outcomesTail struct {
	client *kafka.Client
	topic  string
}

// newOutcomesTail reads topic on the broker at addr. Its client answers metadata requests
// from a cache of its own, renewed every lagPoll: a topic created meanwhile is seen at the
// next poll, not up to 6 seconds (kafka-go's default) later.
func newOutcomesTail(addr, topic string) outcomesTail {
	transport := &kafka.Transport{MetadataTTL: lagPoll}
	return outcomesTail{client: &kafka.Client{Addr: kafka.TCP(addr), Timeout: 10 * time.Second, Transport: transport}, topic: topic}
}

// close closes the client's connections.
func (t outcomesTail) close() {
	t.client.Transport.(*kafka.Transport).CloseIdleConnections()
}

// lastRow is the row_number of import's outcome that is the last message of a partition, 0
// when no partition ends with one of import's outcomes. A topic that does not exist yet holds
// nothing.
func (t outcomesTail) lastRow(ctx context.Context, importID int64) (int, error) {
	meta, err := t.client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{t.topic}})
	if err != nil {
		return 0, fmt.Errorf("kafka topic %s: %w", t.topic, err)
	}
	var asks []kafka.OffsetRequest
	for _, topic := range meta.Topics {
		if topic.Error != nil {
			return 0, nil // not created yet: the sink creates it before its first delivery
		}
		for _, p := range topic.Partitions {
			asks = append(asks, kafka.LastOffsetOf(p.ID))
		}
	}
	offsets, err := t.client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{t.topic: asks}})
	if err != nil {
		return 0, fmt.Errorf("kafka topic %s: %w", t.topic, err)
	}
	key := strconv.FormatInt(importID, 10)
	for _, p := range offsets.Topics[t.topic] {
		if p.Error != nil {
			return 0, fmt.Errorf("kafka topic %s partition %d: %w", t.topic, p.Partition, p.Error)
		}
		if p.LastOffset <= 0 { // empty
			continue
		}
		row, err := t.rowAt(ctx, p.Partition, p.LastOffset-1, key)
		if row != 0 || err != nil {
			return row, err
		}
	}
	return 0, nil
}

// rowAt is the row_number of the message at offset of partition when its key is key, else 0.
// The broker answers with the whole record batch that holds offset; only offset counts.
func (t outcomesTail) rowAt(ctx context.Context, partition int, offset int64, key string) (int, error) {
	resp, err := t.client.Fetch(ctx, &kafka.FetchRequest{Topic: t.topic, Partition: partition, Offset: offset,
		MinBytes: 1, MaxBytes: 16 << 20, MaxWait: time.Second})
	if err != nil {
		return 0, fmt.Errorf("kafka topic %s partition %d: %w", t.topic, partition, err)
	}
	if resp.Error != nil {
		return 0, fmt.Errorf("kafka topic %s partition %d: %w", t.topic, partition, resp.Error)
	}
	for {
		rec, err := resp.Records.ReadRecord()
		if errors.Is(err, io.EOF) {
			return 0, nil
		}
		if err != nil {
			return 0, fmt.Errorf("kafka topic %s partition %d: %w", t.topic, partition, err)
		}
		if rec.Offset != offset {
			continue
		}
		k, err := kafka.ReadAll(rec.Key)
		if err != nil || string(k) != key {
			return 0, err
		}
		v, err := kafka.ReadAll(rec.Value)
		if err != nil {
			return 0, err
		}
		var m struct {
			RowNumber int `json:"row_number"`
		}
		if err := json.Unmarshal(v, &m); err != nil {
			return 0, fmt.Errorf("kafka topic %s partition %d offset %d: %w", t.topic, partition, offset, err)
		}
		return m.RowNumber, nil
	}
}

// analyticsRows counts an import's row outcomes in ClickHouse's row_outcomes.
type analyticsRows struct {
	conn driver.Conn
}

// complete reports whether row_outcomes holds rows distinct row outcomes of import, and how
// many it stores, a row delivered twice counted twice until ClickHouse merges the copies. The
// table is a ReplacingMergeTree that a repeated delivery writes to again, so only a count with
// FINAL is the distinct rows; it runs once the plain count, cheaper, has reached rows.
func (a analyticsRows) complete(ctx context.Context, importID int64, rows int) (stored int, ok bool, err error) {
	stored, err = a.count(ctx, "SELECT count() FROM row_outcomes WHERE import_id = ?", importID)
	if stored < rows || err != nil {
		return stored, false, err
	}
	distinct, err := a.count(ctx, "SELECT count() FROM row_outcomes FINAL WHERE import_id = ?", importID)
	return stored, distinct >= rows, err
}

func (a analyticsRows) count(ctx context.Context, query string, importID int64) (int, error) {
	var n uint64
	if err := a.conn.QueryRow(ctx, query, uint64(importID)).Scan(&n); err != nil {
		return 0, fmt.Errorf("clickhouse row_outcomes: %w", err)
	}
	return int(n), nil
}

// pollUntil calls check every lagPoll until it answers true, and returns the time the call
// that did began: what it found was there by then, however long the call took. It gives up
// after lagTimeout, or at the first error.
func pollUntil(ctx context.Context, check func(context.Context) (bool, error)) (time.Time, error) {
	deadline := time.Now().Add(lagTimeout)
	for {
		at := time.Now()
		ok, err := check(ctx)
		switch {
		case err != nil:
			return at, err
		case ok:
			return at, nil
		case time.Now().After(deadline):
			return at, fmt.Errorf("not there after %s", lagTimeout)
		}
		select {
		case <-ctx.Done():
			return at, ctx.Err()
		case <-time.After(lagPoll):
		}
	}
}
