package pipeline_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
)

// recordingSink keeps what it was given, per import, and fails while down is set.
type recordingSink struct {
	name string
	mu   sync.Mutex
	down bool
	rows map[int64][]store.RowOutcome
	evs  map[int64][]store.ImportEvent
}

func (s *recordingSink) Name() string { return s.name }

func (s *recordingSink) Deliver(_ context.Context, d pipeline.Delivery) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return errors.New("sink is down")
	}
	if s.rows == nil {
		s.rows, s.evs = map[int64][]store.RowOutcome{}, map[int64][]store.ImportEvent{}
	}
	s.rows[d.Import.ID] = append(s.rows[d.Import.ID], d.Rows...)
	s.evs[d.Import.ID] = append(s.evs[d.Import.ID], d.Events...)
	return nil
}

func (s *recordingSink) setDown(down bool) {
	s.mu.Lock()
	s.down = down
	s.mu.Unlock()
}

const relayCSV = "email,first_name\na@example.com,A\nnot-an-email,B\n\nc@example.com,C\nd@example.com,D\ne@example.com,E\n\n"

func TestRelayDeliversEveryOutcomeAndEventInOrder(t *testing.T) {
	pool, acct, im := setup(t)
	ctx := context.Background()
	sum, err := im.RunNow(ctx, importer.Request{Account: acct.Name, Path: writeCSV(t, "r.csv", relayCSV), Source: store.SourceCLI}, "test", false)
	if err != nil {
		t.Fatal(err)
	}
	sink := &recordingSink{name: "test-relay-" + acct.Name}
	relay := &pipeline.Relay{Querier: pool, Sink: sink, Poll: time.Millisecond, BatchRows: 2, Log: quiet}
	for {
		n, err := relay.Drain(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	rows := sink.rows[sum.ImportID]
	var got []int
	for _, r := range rows {
		got = append(got, r.Row)
	}
	if want := []int{2, 3, 5, 6, 7}; !slices.Equal(got, want) {
		t.Fatalf("delivered rows %v, want %v", got, want)
	}
	if rows[1].Outcome != "skipped" || rows[1].Reason != "invalid_email" {
		t.Errorf("row 3 delivered as %+v", rows[1])
	}
	var kinds []string
	for _, e := range sink.evs[sum.ImportID] {
		kinds = append(kinds, e.Kind)
	}
	if len(kinds) < 3 || kinds[0] != "started" || kinds[len(kinds)-1] != "completed" || kinds[1] != "progress" {
		t.Fatalf("events %v, want started, progress…, completed", kinds)
	}
	if last := sink.evs[sum.ImportID][len(kinds)-1]; last.RowsDone != 5 || last.RowsTotal != 5 || last.Created != 4 || last.Skipped != 1 {
		t.Errorf("completed event %+v, want 5 of 5 rows, 4 created, 1 skipped", last)
	}
	// Delivered everything: another pass finds nothing for this import.
	if n, err := relay.Drain(ctx); err != nil || n != 0 {
		t.Fatalf("second drain: %d deliveries, %v", n, err)
	}
}

func TestRelayCatchesUpAfterSinkOutage(t *testing.T) {
	pool, acct, im := setup(t)
	ctx := context.Background()
	sink := &recordingSink{name: "test-outage-" + acct.Name, down: true}
	relay := &pipeline.Relay{Querier: pool, Sink: sink, Poll: time.Millisecond, BatchRows: 2, Log: quiet}
	sum, err := im.RunNow(ctx, importer.Request{Account: acct.Name, Path: writeCSV(t, "r.csv", relayCSV), Source: store.SourceCLI}, "test", false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := relay.Drain(ctx); err == nil {
		t.Fatal("drain with the sink down: no error")
	}
	if rows, _, err := store.UndeliveredCount(ctx, pool, sink.Name()); err != nil || rows < 5 {
		t.Fatalf("backlog while down: %d rows, %v; want at least 5", rows, err)
	}
	sink.setDown(false)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { relay.Run(runCtx); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		sink.mu.Lock()
		n := len(sink.rows[sum.ImportID])
		sink.mu.Unlock()
		if n == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("relay delivered %d of 5 rows after the sink came back", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
}

// TestRelayWatermark: once every import up to one has ended and been delivered, and was
// created long enough ago, the relay looks at them no more: a cursor lost below the watermark
// is not delivered again. A young import, or one that has not ended, holds the watermark.
func TestRelayWatermark(t *testing.T) {
	pool, acct, im := setup(t)
	ctx := context.Background()
	path := writeCSV(t, "r.csv", relayCSV)
	var ids []int64
	for range 2 {
		sum, err := im.RunNow(ctx, importer.Request{Account: acct.Name, Path: path, Source: store.SourceCLI}, "test", false)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, sum.ImportID)
	}
	a, b := ids[0], ids[1]
	sink := &recordingSink{name: "test-watermark-" + acct.Name}
	relay := &pipeline.Relay{Querier: pool, Sink: sink, Poll: time.Millisecond, BatchRows: 100, Log: quiet}
	drain := func() int {
		t.Helper()
		total := 0
		for {
			n, err := relay.Drain(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if total += n; n == 0 {
				return total
			}
		}
	}
	advance := func() int64 {
		t.Helper()
		if err := store.AdvanceSinkWatermark(ctx, pool, sink.Name()); err != nil {
			t.Fatal(err)
		}
		var w int64
		if err := pool.QueryRow(ctx, "SELECT coalesce((SELECT import_id FROM sink_watermarks WHERE sink = $1), 0)", sink.Name()).Scan(&w); err != nil {
			t.Fatal(err)
		}
		return w
	}
	age := func(upTo int64) {
		t.Helper()
		if _, err := pool.Exec(ctx, "UPDATE imports SET created_at = created_at - interval '1 hour' WHERE id <= $1", upTo); err != nil {
			t.Fatal(err)
		}
	}

	drain()
	if w := advance(); w >= a {
		t.Fatalf("watermark %d passes imports %d and %d, created just now", w, a, b)
	}
	age(b)
	if w := advance(); w != b {
		t.Fatalf("watermark %d, want %d: every import up to it ended, was delivered and is old", w, b)
	}
	if _, err := pool.Exec(ctx, "DELETE FROM sink_cursors WHERE sink = $1 AND import_id IN ($2, $3)", sink.Name(), a, b); err != nil {
		t.Fatal(err)
	}
	if n := drain(); n != 0 {
		t.Fatalf("%d deliveries below the watermark", n)
	}
	if rows, events, err := store.UndeliveredCount(ctx, pool, sink.Name()); err != nil || rows != 0 || events != 0 {
		t.Fatalf("backlog %d rows, %d events, %v; want none below the watermark", rows, events, err)
	}

	queued, _, err := im.Submit(ctx, importer.Request{Account: acct.Name, Path: path, Source: store.SourceCLI})
	if err != nil {
		t.Fatal(err)
	}
	drain()
	age(queued.ID)
	if w := advance(); w != b {
		t.Fatalf("watermark %d, want %d: import %d is still queued", w, b, queued.ID)
	}
	if _, err := store.CancelImport(ctx, pool, acct.ID, queued.ID); err != nil {
		t.Fatal(err)
	}
	if w := advance(); w != b {
		t.Fatalf("watermark %d, want %d: the cancelled import's last event is not delivered yet", w, b)
	}
	if n := drain(); n == 0 {
		t.Fatal("the cancelled event was not delivered")
	}
	if w := advance(); w != queued.ID {
		t.Fatalf("watermark %d, want %d", w, queued.ID)
	}
}
