// Package brokertest gives tests the embedded Kafka broker and a way to read back what was
// published. The broker runs in the test's process, so tests that use it never skip.
package brokertest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/leadpipe/leadpipe/broker"
)

// Start starts an embedded broker on addr ("127.0.0.1:0" for a free port) keeping its state
// in dataDir (t.TempDir(), say), and closes it when the test ends. It keeps every message.
func Start(t testing.TB, addr, dataDir string) *broker.Broker {
	t.Helper()
	b, err := broker.Start(addr, dataDir, broker.Retention{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// Messages returns every message of topic on the broker at addr, partition by partition in
// partition order, each partition's in offset order.
func Messages(t testing.TB, addr, topic string) []kafka.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := kafka.DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatalf("dial kafka %s: %v", addr, err)
	}
	defer conn.Close()
	partitions, err := conn.ReadPartitions(topic)
	if err != nil {
		t.Fatalf("partitions of %s: %v", topic, err)
	}
	slices.SortFunc(partitions, func(a, b kafka.Partition) int { return a.ID - b.ID })
	var all []kafka.Message
	for _, p := range partitions {
		all = append(all, partition(ctx, t, addr, topic, p.ID)...)
	}
	return all
}

// partition reads one partition from its first offset to its end. When the broker deletes
// messages meanwhile (retention), it reads again from the new first offset.
func partition(ctx context.Context, t testing.TB, addr, topic string, id int) []kafka.Message {
	t.Helper()
	for {
		msgs, err := readPartition(ctx, addr, topic, id)
		if errors.Is(err, kafka.OffsetOutOfRange) && ctx.Err() == nil {
			continue
		}
		if err != nil {
			t.Fatalf("read %s/%d: %v", topic, id, err)
		}
		return msgs
	}
}

// readPartition reads one partition from its first offset to its end.
func readPartition(ctx context.Context, addr, topic string, id int) ([]kafka.Message, error) {
	conn, err := kafka.DialLeader(ctx, "tcp", addr, topic, id)
	if err != nil {
		return nil, fmt.Errorf("dial the leader: %w", err)
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		conn.SetDeadline(deadline)
	}
	first, last, err := conn.ReadOffsets()
	if err != nil {
		return nil, fmt.Errorf("offsets: %w", err)
	}
	if _, err := conn.Seek(first, kafka.SeekAbsolute); err != nil {
		return nil, fmt.Errorf("seek to %d: %w", first, err)
	}
	var msgs []kafka.Message
	for next := first; next < last; {
		batch := conn.ReadBatch(1, 16<<20)
		for {
			m, err := batch.ReadMessage()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					batch.Close()
					return nil, fmt.Errorf("at %d: %w", next, err)
				}
				break
			}
			msgs = append(msgs, m)
			next = m.Offset + 1
		}
		if err := batch.Close(); err != nil {
			return nil, fmt.Errorf("at %d: %w", next, err)
		}
	}
	return msgs, nil
}
