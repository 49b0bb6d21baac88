package broker_test

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/leadpipe/leadpipe/broker"
	"github.com/leadpipe/leadpipe/broker/brokertest"
	"github.com/leadpipe/leadpipe/internal/freeport"
)

// values returns the messages' keys and values as "key=value".
func values(msgs []kafka.Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, string(m.Key)+"="+string(m.Value))
	}
	return out
}

func TestRestartKeepsTopicsMessagesAndCommittedOffsets(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	b := brokertest.Start(t, "127.0.0.1:0", dir)
	addr := b.Addr()
	if strings.HasSuffix(addr, ":0") {
		t.Fatalf("Addr() = %s, want the port picked", addr)
	}
	for range 2 { // the second call finds the topics and does nothing
		if err := broker.EnsureTopics(ctx, []string{addr}, "kept", "also-kept"); err != nil {
			t.Fatal(err)
		}
	}
	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: "kept", Balancer: kafka.Murmur2Balancer{},
		RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
	var sent []kafka.Message
	for i := range 20 {
		sent = append(sent, kafka.Message{Key: fmt.Appendf(nil, "k%d", i%4), Value: fmt.Appendf(nil, "v%d", i)})
	}
	if err := w.WriteMessages(ctx, sent...); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	before := brokertest.Messages(t, addr, "kept")
	if len(before) != len(sent) {
		t.Fatalf("%d messages on the topic, want %d", len(before), len(sent))
	}

	// A consumer group reads one message of a partition and commits it.
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{addr}, GroupID: "g", Topic: "kept",
		StartOffset: kafka.FirstOffset, MaxWait: 100 * time.Millisecond})
	m, err := r.FetchMessage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.CommitMessages(ctx, m); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	b.Close()
	if _, err := kafka.DialContext(ctx, "tcp", addr); err == nil {
		t.Fatal("the broker still answers after Close")
	}
	brokertest.Start(t, addr, dir)

	after := brokertest.Messages(t, addr, "kept")
	if !slices.Equal(values(after), values(before)) {
		t.Errorf("after a restart the topic holds\n%v\nwant\n%v", values(after), values(before))
	}
	if len(brokertest.Messages(t, addr, "also-kept")) != 0 {
		t.Error("messages on a topic nothing was written to")
	}
	client := &kafka.Client{Addr: kafka.TCP(addr), Transport: &kafka.Transport{}}
	res, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: "g", Topics: map[string][]int{"kept": {m.Partition}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Topics["kept"]; len(got) != 1 || got[0].CommittedOffset != m.Offset+1 {
		t.Errorf("committed offsets of partition %d after a restart: %+v, want %d", m.Partition, got, m.Offset+1)
	}
}

func TestStartOnATakenAddress(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, err = broker.Start(l.Addr().String(), t.TempDir(), broker.Retention{})
	if err == nil || !strings.Contains(err.Error(), l.Addr().String()) {
		t.Fatalf("Start on a taken address = %v, want an error naming it", err)
	}
}

func TestEnsureTopicsWithoutABroker(t *testing.T) {
	addr := freeport.Addr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := broker.EnsureTopics(ctx, []string{addr}, "t"); err == nil || !strings.Contains(err.Error(), addr) {
		t.Fatalf("EnsureTopics with no broker = %v, want an error naming the address", err)
	}
}
