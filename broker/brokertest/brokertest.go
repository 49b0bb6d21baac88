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

// AbandonMember joins consumer group on the broker at addr as a member of topic that then
// vanishes without leaving, as a consumer killed with SIGKILL does: the broker keeps it in the
// group, holding partition 0, until session has passed without a heartbeat. A consumer that
// joins meanwhile waits in a rebalance for it.
func AbandonMember(t testing.TB, addr, group, topic string, session time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := &kafka.Client{Addr: kafka.TCP(addr)}
	join := &kafka.JoinGroupRequest{GroupID: group, SessionTimeout: session, RebalanceTimeout: session, ProtocolType: "consumer",
		Protocols: []kafka.GroupProtocol{{Name: "range", Metadata: kafka.GroupProtocolSubscription{Topics: []string{topic}}}}}
	joined, err := client.JoinGroup(ctx, join)
	if err == nil && errors.Is(joined.Error, kafka.MemberIDRequired) {
		join.MemberID = joined.MemberID
		joined, err = client.JoinGroup(ctx, join)
	}
	if err == nil {
		err = joined.Error
	}
	if err != nil {
		t.Fatalf("join group %s: %v", group, err)
	}
	synced, err := client.SyncGroup(ctx, &kafka.SyncGroupRequest{GroupID: group, GenerationID: joined.GenerationID,
		MemberID: joined.MemberID, ProtocolType: "consumer", ProtocolName: "range",
		Assignments: []kafka.SyncGroupRequestAssignment{{MemberID: joined.MemberID,
			Assignment: kafka.GroupProtocolAssignment{AssignedPartitions: map[string][]int{topic: {0}}}}}})
	if err == nil {
		err = synced.Error
	}
	if err != nil {
		t.Fatalf("sync group %s: %v", group, err)
	}
}

// GroupState returns the state of consumer group on the broker at addr, as the broker
// describes it: Empty, PreparingRebalance, CompletingRebalance, Stable or Dead.
func GroupState(t testing.TB, addr, group string) string {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(addr), Timeout: 30 * time.Second}
	resp, err := client.DescribeGroups(context.Background(), &kafka.DescribeGroupsRequest{GroupIDs: []string{group}})
	if err != nil || len(resp.Groups) != 1 {
		t.Fatalf("describe group %s: %v %+v", group, err, resp)
	}
	return resp.Groups[0].GroupState
}
