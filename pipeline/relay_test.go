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
