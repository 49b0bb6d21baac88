package broker_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/leadpipe/leadpipe/broker"
	"github.com/leadpipe/leadpipe/broker/brokertest"
	"github.com/leadpipe/leadpipe/internal/freeport"
)

// startKeeping starts a broker on a free port that keeps what keep allows, in dataDir, and
// closes it when the test ends.
func startKeeping(t *testing.T, addr, dataDir string, keep broker.Retention) *broker.Broker {
	t.Helper()
	b, err := broker.Start(addr, dataDir, keep)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// dirBytes is the size of every file under dir, skipping those the broker deletes meanwhile.
func dirBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		var info fs.FileInfo
		if err == nil && !d.IsDir() {
			info, err = d.Info()
		}
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if info != nil {
			n += info.Size()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// outcome is a message the size of a row outcome, numbered n.
func outcome(n int) kafka.Message {
	return kafka.Message{Key: fmt.Appendf(nil, "%d", n%7), Value: fmt.Appendf(nil,
		`{"version":1,"import_id":%d,"row_number":%d,"account":"acme","outcome":"created","reason":"","detail":"","prospect_id":%d,"warnings":[]}`,
		n%7, n, n)}
}

// lastOfEachKey is, for each key, the value of the last message of msgs with it.
func lastOfEachKey(msgs []kafka.Message) map[string]string {
	last := map[string]string{}
	for _, m := range msgs {
		last[string(m.Key)] = string(m.Value)
	}
	return last
}

func TestRetentionKeepsEachPartitionsNewestBytes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const keep = 64 << 10 // per partition
	dir := t.TempDir()
	b := startKeeping(t, freeport.Addr(t), dir, broker.Retention{Time: 7 * 24 * time.Hour, Bytes: keep})
	addr := b.Addr()
	if err := broker.EnsureTopics(ctx, []string{addr}, "outcomes"); err != nil {
		t.Fatal(err)
	}
	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: "outcomes", Balancer: kafka.Murmur2Balancer{},
		RequiredAcks: kafka.RequireAll, BatchSize: 100, BatchTimeout: time.Millisecond}
	defer w.Close()

	// A consumer group reads the first messages and commits them: retention will go past them.
	var sent []kafka.Message
	for n := range 100 {
		sent = append(sent, outcome(n))
	}
	if err := w.WriteMessages(ctx, sent...); err != nil {
		t.Fatal(err)
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{addr}, GroupID: "g", Topic: "outcomes",
		StartOffset: kafka.FirstOffset, MaxWait: 100 * time.Millisecond})
	committed, err := r.FetchMessage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.CommitMessages(ctx, committed); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	// 30,000 messages, 4 MB: over 20 times what the topic's 3 partitions keep.
	var sentBytes int64
	for n := 100; n < 30000; n += 1000 {
		chunk := make([]kafka.Message, 1000)
		for i := range chunk {
			chunk[i] = outcome(n + i)
			sentBytes += int64(len(chunk[i].Value))
		}
		if err := w.WriteMessages(ctx, chunk...); err != nil {
			t.Fatal(err)
		}
		sent = append(sent, chunk...)
	}

	// What is kept: at most keep bytes a partition, and on disk no more than that, an eighth
	// more for the segment file retention is part way through, one more batch, and the
	// broker's own small files. Everything once sent would be over 4 MB.
	maxDir := int64(broker.Partitions * (keep + keep/8 + 32<<10 + 8<<10))
	kept := waitKept(t, addr, "outcomes", broker.Partitions*keep, dir, maxDir)
	if len(kept) < broker.Partitions*300 {
		t.Errorf("%d messages kept of %d sent, want at least the 300 a partition that fill half its %d bytes", len(kept), len(sent), keep)
	}
	// A consumer still reads the newest messages, to the last of each key.
	want := lastOfEachKey(sent)
	if got := lastOfEachKey(kept); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the newest message of each key kept:\n%v\nwant\n%v", got, want)
	}
	t.Logf("sent %d messages (%d bytes); kept %d; data directory %d bytes", len(sent), sentBytes, len(kept), dirBytes(t, dir))

	// The group that committed a message retention deleted goes on at the oldest one kept.
	r = kafka.NewReader(kafka.ReaderConfig{Brokers: []string{addr}, GroupID: "g", Topic: "outcomes",
		StartOffset: kafka.FirstOffset, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	next, err := r.FetchMessage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if next.Offset <= committed.Offset+1 || !strings.Contains(fmt.Sprint(values(kept)), string(next.Value)) {
		t.Errorf("the group that committed offset %d goes on at offset %d (%s), want one of the kept messages", committed.Offset, next.Offset, next.Value)
	}

	// A restart keeps what was kept, and retention goes on.
	b.Close()
	b = startKeeping(t, addr, dir, broker.Retention{Bytes: keep})
	if after := brokertest.Messages(t, addr, "outcomes"); fmt.Sprint(values(after)) != fmt.Sprint(values(kept)) {
		t.Errorf("after a restart the topic holds %d messages, want the %d kept before", len(after), len(kept))
	}
	if err := w.WriteMessages(ctx, sent[len(sent)-5000:]...); err != nil {
		t.Fatal(err)
	}
	waitKept(t, addr, "outcomes", broker.Partitions*keep, dir, maxDir)
}

// waitKept waits for the broker at addr to keep at most maxBytes of message values on topic
// and at most maxDir bytes in its data directory dir, and no fewer messages after two more
// retention checks, and returns the messages it keeps.
func waitKept(t *testing.T, addr, topic string, maxBytes int, dir string, maxDir int64) []kafka.Message {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		kept := brokertest.Messages(t, addr, topic)
		keptBytes := 0
		for _, m := range kept {
			keptBytes += len(m.Value)
		}
		onDisk := dirBytes(t, dir)
		if keptBytes <= maxBytes && onDisk <= maxDir {
			time.Sleep(2 * broker.RetentionCheck)
			if again := brokertest.Messages(t, addr, topic); len(again) == len(kept) {
				return kept
			}
			continue
		}
		if time.Now().After(deadline) {
			t.Fatalf("the broker keeps %d messages of %d bytes, %d bytes on disk, want at most %d and %d", len(kept), keptBytes, onDisk, maxBytes, maxDir)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestRetentionDeletesOldMessagesButEachPartitionsNewest(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	keep := broker.Retention{Time: 500 * time.Millisecond}
	b := startKeeping(t, freeport.Addr(t), dir, keep)
	addr := b.Addr()
	if err := broker.EnsureTopics(ctx, []string{addr}, "events"); err != nil {
		t.Fatal(err)
	}
	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: "events", Balancer: kafka.Murmur2Balancer{},
		RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
	defer w.Close()
	for n := range 3 { // one key, one partition: offsets 0, 1, 2
		if err := w.WriteMessages(ctx, outcome(7*n)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(brokertest.Messages(t, addr, "events")) > 1 {
		if time.Now().After(deadline) {
			t.Fatal("messages older than the retention time are still there after 10s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	newest := []string{values([]kafka.Message{outcome(14)})[0]}
	if got := values(brokertest.Messages(t, addr, "events")); fmt.Sprint(got) != fmt.Sprint(newest) {
		t.Fatalf("after the retention time the topic holds %v, want the newest message %v", got, newest)
	}

	// After a restart the partition goes on from its last offset.
	b.Close()
	b = startKeeping(t, addr, dir, keep)
	if err := w.WriteMessages(ctx, outcome(21)); err != nil {
		t.Fatal(err)
	}
	got := brokertest.Messages(t, addr, "events")
	if last := got[len(got)-1]; last.Offset != 3 || string(last.Value) != string(outcome(21).Value) {
		t.Errorf("after a restart the message written is at offset %d, want 3, after the ones before the restart", last.Offset)
	}
}
