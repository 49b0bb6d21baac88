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

// published is a delivery of the created row outcomes of rows from..to of import id, as the relay delivers
// them.
func published(id int64, from, to int) pipeline.Delivery {
	d := pipeline.Delivery{Account: "acme", Import: store.Import{ID: id, Kind: "prospects", Source: store.SourceUpload,
		FileName: "people.csv", CreatedAt: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)}}
	for row := from; row <= to; row++ {
		d.Rows = append(d.Rows, store.RowOutcome{ImportID: id, Row: row, Outcome: "created", EntityID: int64(1000 + row)})
	}
	return d
}

// The Kafka outcomes topic holds an import's last row once that row is the last message of its
// partition: not while only earlier rows are there, nor a row of another import, nor a row that
// is not the last of the batch the broker answers with.
func TestOutcomesTailHas(t *testing.T) {
	ctx := context.Background()
	b := brokertest.Start(t, "127.0.0.1:0", t.TempDir())
	sink := kafkasink.New(kafkasink.Config{Brokers: []string{b.Addr()}, OutcomesTopic: "outcomes", EventsTopic: "events"})
	t.Cleanup(func() { sink.Close() })
	tail := newOutcomesTail(b.Addr(), "outcomes")
	t.Cleanup(tail.close)
	has := func(id int64, row int) bool {
		t.Helper()
		ok, err := tail.has(ctx, id, row)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	deliver := func(d pipeline.Delivery) {
		t.Helper()
		if err := sink.Deliver(ctx, d); err != nil {
			t.Fatal(err)
		}
	}

	// eventually waits for a row the broker has: the tail's metadata may be a poll behind.
	eventually := func(id int64, row int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !has(id, row); time.Sleep(lagPoll) {
			if time.Now().After(deadline) {
				t.Fatalf("import %d's row %d, the last delivered, is not there", id, row)
			}
		}
	}

	if has(41, 1001) {
		t.Fatal("import 41's row 1001 is there before the topic exists")
	}
	deliver(published(41, 2, 500))
	eventually(41, 500)
	if has(41, 1001) {
		t.Fatal("import 41's row 1001 is there after rows 2..500 only")
	}
	deliver(published(41, 501, 1001)) // one produce request: one record batch of 501 messages
	eventually(41, 1001)
	if has(41, 1000) {
		t.Fatal("import 41's row 1000 taken for the last one, though 1001 follows it in its batch")
	}
	if has(99, 1001) {
		t.Fatal("import 99's row 1001 is there, though only import 41 published")
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
	complete := func(id int64, n int) bool {
		t.Helper()
		ok, err := rows.complete(ctx, id, n)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	deliver := func(d pipeline.Delivery) {
		t.Helper()
		if err := sink.Deliver(ctx, d); err != nil {
			t.Fatal(err)
		}
	}

	if complete(7, 3) {
		t.Fatal("import 7 complete before any delivery")
	}
	deliver(published(7, 2, 3))
	if complete(7, 3) {
		t.Fatal("import 7 complete with rows 2 and 3 of 2..4")
	}
	deliver(published(7, 2, 3)) // again, as after a crash: four rows stored, two distinct
	if complete(7, 3) {
		t.Fatal("import 7 complete with rows 2 and 3 of 2..4, each delivered twice")
	}
	deliver(published(8, 2, 4))
	if complete(7, 3) {
		t.Fatal("import 7 complete with import 8's rows")
	}
	deliver(published(7, 4, 4))
	if !complete(7, 3) {
		t.Fatal("import 7 not complete with rows 2..4 delivered")
	}
}
