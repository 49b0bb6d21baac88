package main

import (
	"context"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/broker/brokertest"
	"github.com/leadpipe/leadpipe/pipeline"
	chsink "github.com/leadpipe/leadpipe/sinks/clickhouse"
	"github.com/leadpipe/leadpipe/sinks/clickhouse/analyticstest"
	kafkasink "github.com/leadpipe/leadpipe/sinks/kafka"
	"github.com/leadpipe/leadpipe/store"
)

// published is a delivery of the row outcomes of rows from..to of import id, each created, as
// the relay makes one.
func published(id int64, from, to int) pipeline.Delivery {
	d := pipeline.Delivery{Account: "acme", Import: store.Import{ID: id, Kind: "prospects", Source: store.SourceUpload,
		FileName: "people.csv", CreatedAt: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)}}
	for row := from; row <= to; row++ {
		d.Rows = append(d.Rows, store.RowOutcome{ImportID: id, Row: row, Outcome: "created", EntityID: int64(1000 + row)})
	}
	return d
}

// An import's last row on the Kafka outcomes topic is its outcome that is the last message of
// its partition, not another of the record batch the broker answers with, nor another
// import's.
func TestOutcomesTailLastRow(t *testing.T) {
	ctx := context.Background()
	b := brokertest.Start(t, "127.0.0.1:0", t.TempDir())
	sink := kafkasink.New(kafkasink.Config{Brokers: []string{b.Addr()}, OutcomesTopic: "outcomes", EventsTopic: "events"})
	t.Cleanup(func() { sink.Close() })
	tail := newOutcomesTail(b.Addr(), "outcomes")
	t.Cleanup(tail.close)
	lastRow := func(id int64) int {
		t.Helper()
		row, err := tail.lastRow(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return row
	}
	deliver := func(d pipeline.Delivery) {
		t.Helper()
		if err := sink.Deliver(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	// eventually waits for the last row the broker has: the tail's metadata may be a poll
	// behind.
	eventually := func(id int64, want int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(lagPoll) {
			got := lastRow(id)
			if got == want {
				return
			}
			if got != 0 || time.Now().After(deadline) {
				t.Fatalf("import %d's last row on the topic is %d, want %d", id, got, want)
			}
		}
	}

	if got := lastRow(41); got != 0 {
		t.Fatalf("import 41's last row is %d before the topic exists, want 0", got)
	}
	deliver(published(41, 2, 500))
	eventually(41, 500)
	deliver(published(41, 501, 1001)) // one produce request: one record batch of 501 messages
	eventually(41, 1001)
	if got := lastRow(99); got != 0 {
		t.Fatalf("import 99's last row is %d, though only import 41 published; want 0", got)
	}
}

// ClickHouse holds an import's row outcomes once it holds each of its rows once: a repeated
// delivery, which the ReplacingMergeTree keeps until a merge, does not count twice.
func TestAnalyticsRowsComplete(t *testing.T) {
	ctx := context.Background()
	db := analyticstest.Database(t, "leadpipe_test_bench")
	sink := &chsink.Sink{Addr: analyticstest.Addr(), Database: db}
	t.Cleanup(func() { sink.Close() })
	conn, err := chsink.Open(ctx, analyticstest.Addr(), db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	rows := analyticsRows{conn: conn}
	complete := func(id int64, n, wantStored int) bool {
		t.Helper()
		stored, ok, err := rows.complete(ctx, id, n)
		if err != nil {
			t.Fatal(err)
		}
		if stored != wantStored {
			t.Fatalf("import %d has %d row outcomes stored, want %d", id, stored, wantStored)
		}
		return ok
	}
	deliver := func(d pipeline.Delivery) {
		t.Helper()
		if err := sink.Deliver(ctx, d); err != nil {
			t.Fatal(err)
		}
	}

	if complete(7, 3, 0) {
		t.Fatal("import 7 complete before any delivery")
	}
	deliver(published(7, 2, 3))
	if complete(7, 3, 2) {
		t.Fatal("import 7 complete with rows 2 and 3 of 2..4")
	}
	deliver(published(7, 2, 3)) // again, as after a crash: four rows stored, two distinct
	if complete(7, 3, 4) {
		t.Fatal("import 7 complete with rows 2 and 3 of 2..4, each delivered twice")
	}
	deliver(published(8, 2, 4))
	if complete(7, 3, 4) {
		t.Fatal("import 7 complete with import 8's rows")
	}
	deliver(published(7, 4, 4))
	if !complete(7, 3, 5) {
		t.Fatal("import 7 not complete with rows 2..4 delivered")
	}
}
