package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
)

// recordingSink keeps what it was given, per import, and fails while down is set.
type recordingSink struct {
	name     string
	mu       sync.Mutex
	down     bool
	attempts int // deliveries tried, failed ones included
	rows     map[int64][]store.RowOutcome
	evs      map[int64][]store.ImportEvent
}

func (s *recordingSink) Name() string { return s.name }

func (s *recordingSink) Deliver(_ context.Context, d pipeline.Delivery) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts++
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

// sinkName returns a sink name of the test's own, whose registration and pending rows are
// forgotten when the test ends: a registered sink takes a pending row of every later import,
// and the tests' database outlives many runs.
func sinkName(t *testing.T, pool *pgxpool.Pool, kind string, acct store.Account) string {
	t.Helper()
	name := "test-" + kind + "-" + acct.Name
	t.Cleanup(func() {
		ctx := context.Background()
		if _, err := pool.Exec(ctx, "DELETE FROM sink_pending WHERE sink = $1", name); err != nil {
			t.Error(err)
		}
		if _, err := pool.Exec(ctx, "DELETE FROM sinks WHERE name = $1", name); err != nil {
			t.Error(err)
		}
	})
	return name
}

const relayCSV = "email,first_name\na@example.com,A\nnot-an-email,B\n\nc@example.com,C\nd@example.com,D\ne@example.com,E\n\n"

func TestRelayDeliversEveryOutcomeAndEventInOrder(t *testing.T) {
	pool, acct, im := setup(t)
	ctx := context.Background()
	sum, err := im.RunNow(ctx, importer.Request{Account: acct.Name, Path: writeCSV(t, "r.csv", relayCSV), Source: store.SourceCLI}, "test", false)
	if err != nil {
		t.Fatal(err)
	}
	sink := &recordingSink{name: sinkName(t, pool, "relay", acct)}
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
	sink := &recordingSink{name: sinkName(t, pool, "outage", acct), down: true}
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

// drainAll polls until a poll delivers nothing.
func drainAll(t *testing.T, relay *pipeline.Relay) {
	t.Helper()
	for {
		n, err := relay.Drain(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// rowNumbers returns the row numbers a sink was given for an import, in delivery order.
func (s *recordingSink) rowNumbers(importID int64) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var rows []int
	for _, r := range s.rows[importID] {
		rows = append(rows, r.Row)
	}
	return rows
}

// pendingCount returns how many imports are pending for sink.
func pendingCount(t *testing.T, pool *pgxpool.Pool, sink string) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM sink_pending WHERE sink = $1", sink).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRelayDeliversToASinkAddedLater: a sink first seen after imports ran delivers them from
// the start, and a sink's cursor deleted or moved back makes its import delivered again.
func TestRelayDeliversToASinkAddedLater(t *testing.T) {
	pool, acct, im := setup(t)
	ctx := context.Background()
	sum, err := im.RunNow(ctx, importer.Request{Account: acct.Name, Path: writeCSV(t, "r.csv", relayCSV), Source: store.SourceCLI}, "test", false)
	if err != nil {
		t.Fatal(err)
	}
	first := &recordingSink{name: sinkName(t, pool, "first", acct)}
	drainAll(t, &pipeline.Relay{Querier: pool, Sink: first, Poll: time.Millisecond, BatchRows: 2, Log: quiet})
	if n := pendingCount(t, pool, first.name); n != 0 {
		t.Fatalf("%d imports still pending for a sink that delivered everything", n)
	}
	later := &recordingSink{name: sinkName(t, pool, "later", acct)}
	relay := &pipeline.Relay{Querier: pool, Sink: later, Poll: time.Millisecond, BatchRows: 2, Log: quiet}
	drainAll(t, relay)
	want := []int{2, 3, 5, 6, 7}
	if got := later.rowNumbers(sum.ImportID); !slices.Equal(got, want) {
		t.Fatalf("a sink added later was given rows %v, want %v", got, want)
	}
	if evs := later.evs[sum.ImportID]; len(evs) == 0 || evs[0].Kind != "started" || evs[len(evs)-1].Kind != "completed" {
		t.Fatalf("a sink added later was given events %v, want started … completed", evs)
	}

	if _, err := pool.Exec(ctx, "DELETE FROM sink_cursors WHERE sink = $1 AND import_id = $2", later.name, sum.ImportID); err != nil {
		t.Fatal(err)
	}
	drainAll(t, relay)
	if got := later.rowNumbers(sum.ImportID); !slices.Equal(got, append(want, want...)) {
		t.Fatalf("after its cursor was deleted, the sink was given rows %v, want %v twice", got, want)
	}
	if _, err := pool.Exec(ctx, "UPDATE sink_cursors SET row_number = 3, event_seq = 0 WHERE sink = $1 AND import_id = $2", later.name, sum.ImportID); err != nil {
		t.Fatal(err)
	}
	drainAll(t, relay)
	if got := later.rowNumbers(sum.ImportID); !slices.Equal(got, append(append(want, want...), 5, 6, 7)) {
		t.Fatalf("after its cursor was moved back to row 3, the sink was given rows %v, want %v twice, then 5 6 7", got, want)
	}
}

// crashingSink takes the first delivery of import crashOn, then fails it, as a relay that
// crashed between the delivery and its cursor's move would leave it.
type crashingSink struct {
	recordingSink
	crashOn int64
	crashed bool
}

func (s *crashingSink) Deliver(ctx context.Context, d pipeline.Delivery) error {
	if err := s.recordingSink.Deliver(ctx, d); err != nil || s.crashed || d.Import.ID != s.crashOn {
		return err
	}
	s.crashed = true
	return errors.New("crashed before the cursor moved")
}

// TestRelayRedeliversWhatACrashLeftUncursored: a delivery whose cursor did not move is
// delivered again, its import stays pending until then, and nothing else repeats.
func TestRelayRedeliversWhatACrashLeftUncursored(t *testing.T) {
	pool, acct, im := setup(t)
	ctx := context.Background()
	sum, err := im.RunNow(ctx, importer.Request{Account: acct.Name, Path: writeCSV(t, "r.csv", relayCSV), Source: store.SourceCLI}, "test", false)
	if err != nil {
		t.Fatal(err)
	}
	sink := &crashingSink{recordingSink: recordingSink{name: sinkName(t, pool, "crash", acct)}, crashOn: sum.ImportID}
	relay := &pipeline.Relay{Querier: pool, Sink: sink, Poll: time.Millisecond, BatchRows: 2, Log: quiet}
	for !sink.crashed {
		if _, err := relay.Drain(ctx); err != nil && !sink.crashed {
			t.Fatal(err)
		}
	}
	var pending bool
	err = pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM sink_pending WHERE sink = $1 AND import_id = $2)", sink.name, sum.ImportID).Scan(&pending)
	if err != nil || !pending {
		t.Fatalf("import pending after the crash: %v, %v; want it pending", pending, err)
	}
	drainAll(t, relay)
	if got, want := sink.rowNumbers(sum.ImportID), []int{2, 3, 2, 3, 5, 6, 7}; !slices.Equal(got, want) {
		t.Fatalf("rows delivered %v, want %v: the uncursored delivery again, then the rest once", got, want)
	}
	if n := pendingCount(t, pool, sink.name); n != 0 {
		t.Fatalf("%d imports pending once everything was delivered", n)
	}
}

// TestRelayDeliversConcurrentImportsOnce: while imports commit batch after batch, the relay
// delivers them as they go and clears their pending rows; at the end every row and event of
// each was delivered once, in order, and nothing is left pending.
func TestRelayDeliversConcurrentImportsOnce(t *testing.T) {
	pool, acct, im := setup(t)
	ctx := context.Background()
	var csv strings.Builder
	csv.WriteString("email,first_name\n")
	for i := range 60 {
		fmt.Fprintf(&csv, "p%d@example.com,P%d\n", i, i)
	}
	sink := &recordingSink{name: sinkName(t, pool, "concurrent", acct)}
	relay := &pipeline.Relay{Querier: pool, Sink: sink, Poll: time.Millisecond, BatchRows: 3, Log: quiet}
	drainAll(t, relay) // registers the sink before the imports start
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { relay.Run(runCtx); close(done) }()

	const imports = 4
	ids := make(chan int64, imports)
	var wg sync.WaitGroup
	for i := range imports {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sum, err := im.RunNow(ctx, importer.Request{Account: acct.Name, Path: writeCSV(t, fmt.Sprintf("c%d.csv", i), csv.String()),
				Source: store.SourceCLI}, "test", false)
			if err != nil {
				t.Error(err)
				return
			}
			ids <- sum.ImportID
		}()
	}
	wg.Wait()
	close(ids)
	deadline := time.Now().Add(30 * time.Second)
	for {
		rows, events, err := store.UndeliveredCount(ctx, pool, sink.name)
		if err != nil {
			t.Fatal(err)
		}
		if rows == 0 && events == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d rows and %d events still undelivered 30s after the imports ended", rows, events)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	drainAll(t, relay) // clears what the last poll found already delivered

	var want []int
	for i := range 60 {
		want = append(want, i+2)
	}
	for id := range ids {
		if got := sink.rowNumbers(id); !slices.Equal(got, want) {
			t.Errorf("import %d: rows %v delivered, want 2…61 once each, in order", id, got)
		}
		var seqs []int
		for _, e := range sink.evs[id] {
			seqs = append(seqs, e.Seq)
		}
		if len(seqs) == 0 || seqs[0] != 1 || sink.evs[id][len(seqs)-1].Kind != "completed" {
			t.Errorf("import %d: events %v delivered, want 1… up to completed", id, seqs)
		}
		for i := 1; i < len(seqs); i++ {
			if seqs[i] != seqs[i-1]+1 {
				t.Errorf("import %d: events %v delivered, want each once, in order", id, seqs)
				break
			}
		}
	}
	if n := pendingCount(t, pool, sink.name); n != 0 {
		t.Errorf("%d imports still pending once everything was delivered", n)
	}
}

// flakySink fails its first failures deliveries, then delivers, and records when each attempt
// came.
type flakySink struct {
	recordingSink
	failures int
	attempts []time.Time
}

func (s *flakySink) Deliver(ctx context.Context, d pipeline.Delivery) error {
	s.mu.Lock()
	s.attempts = append(s.attempts, time.Now())
	failing := len(s.attempts) <= s.failures
	s.mu.Unlock()
	if failing {
		return errors.New("sink is down")
	}
	return s.recordingSink.Deliver(ctx, d)
}

// TestRelayRetriesWithinTheBackoffCap: a sink that failed many times in a row is retried
// within MaxBackoff, so what waited flows as soon as the sink is back, not up to a minute
// later.
func TestRelayRetriesWithinTheBackoffCap(t *testing.T) {
	pool, acct, im := setup(t)
	ctx := context.Background()
	sum, err := im.RunNow(ctx, importer.Request{Account: acct.Name, Path: writeCSV(t, "r.csv", relayCSV), Source: store.SourceCLI}, "test", false)
	if err != nil {
		t.Fatal(err)
	}
	// Doubling from 1ms, the 14th wait would be 8s: the gaps between attempts, checked below,
	// show the cap. The deadline only bounds the wait on a loaded machine (-race, beside the
	// other packages' tests), where 10 s proved too short.
	sink := &flakySink{recordingSink: recordingSink{name: sinkName(t, pool, "backoff", acct)}, failures: 14}
	const maxBackoff = 50 * time.Millisecond
	relay := &pipeline.Relay{Querier: pool, Sink: sink, Poll: time.Millisecond, MaxBackoff: maxBackoff, BatchRows: 2, Log: quiet}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { relay.Run(runCtx); close(done) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		sink.mu.Lock()
		n := len(sink.rows[sum.ImportID])
		sink.mu.Unlock()
		if n == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 5 rows delivered 60s after a sink that failed %d times came back", n, sink.failures)
		}
		time.Sleep(10 * time.Millisecond)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	// What separates two attempts beyond the wait is the relay's own queries: well under a
	// second, even on a loaded machine.
	for i := 1; i < len(sink.attempts); i++ {
		if gap := sink.attempts[i].Sub(sink.attempts[i-1]); gap > maxBackoff+time.Second {
			t.Errorf("attempt %d came %v after the one before, want at most %v and the relay's queries", i+1, gap, maxBackoff)
		}
	}
}

// timedSink records when each import's deliveries came and signals the first of one import.
type timedSink struct {
	recordingSink
	watch int64 // the import whose first delivery closes first
	at    map[int64][]time.Time
	first chan struct{}
}

func (s *timedSink) Deliver(ctx context.Context, d pipeline.Delivery) error {
	if err := s.recordingSink.Deliver(ctx, d); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.at[d.Import.ID] = append(s.at[d.Import.ID], time.Now())
	if d.Import.ID == s.watch && len(s.at[d.Import.ID]) == 1 {
		close(s.first)
	}
	return nil
}

// TestRelayLingersAfterADelivery: what commits just after a delivery waits out the relay's
// Linger, however short its Poll, and then goes in one delivery.
func TestRelayLingersAfterADelivery(t *testing.T) {
	pool, acct, im := setup(t)
	ctx := context.Background()
	run := func() int64 {
		sum, err := im.RunNow(ctx, importer.Request{Account: acct.Name, Path: writeCSV(t, "r.csv", relayCSV), Source: store.SourceCLI}, "test", false)
		if err != nil {
			t.Fatal(err)
		}
		return sum.ImportID
	}
	first := run()
	sink := &timedSink{recordingSink: recordingSink{name: sinkName(t, pool, "linger", acct)}, watch: first,
		at: map[int64][]time.Time{}, first: make(chan struct{})}
	const linger = 2 * time.Second // far longer than the second import takes, even under -race on a loaded machine
	relay := &pipeline.Relay{Querier: pool, Sink: sink, Poll: time.Millisecond, BatchRows: 100, Linger: linger, Log: quiet}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { relay.Run(runCtx); close(done) }()
	defer func() { cancel(); <-done }()
	<-sink.first
	second := run() // commits while the relay lingers
	deadline := time.Now().Add(10 * time.Second)
	for len(sink.rowNumbers(second)) < 5 {
		if time.Now().After(deadline) {
			t.Fatalf("%d of the second import's 5 rows delivered after 10 s", len(sink.rowNumbers(second)))
		}
		time.Sleep(10 * time.Millisecond)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.at[first]) != 1 || len(sink.at[second]) != 1 {
		t.Fatalf("deliveries: %d of the first import, %d of the second; want one each", len(sink.at[first]), len(sink.at[second]))
	}
	if gap := sink.at[second][0].Sub(sink.at[first][0]); gap < linger {
		t.Errorf("the second import was delivered %v after the first, want at least the linger (%v)", gap, linger)
	}
}

// TestRelayWokenWhenCommitted: with an hour between polls, what an import commits once the
// relay is idle is delivered at once, because the importer says so after each commit
// (importer.Importer.Committed) and that wakes the relay.
func TestRelayWokenWhenCommitted(t *testing.T) {
	pool, acct, im := setup(t)
	committed := &pipeline.Signal{}
	im.Committed = committed.Wake
	sink := caughtUp(t, pool, "woken", acct)
	runRelay(t, &pipeline.Relay{Querier: pool, Sink: sink, Poll: time.Hour, BatchRows: 100, Committed: committed, Log: quiet})
	time.Sleep(300 * time.Millisecond) // its first look finds nothing; it waits an hour, or for a wake

	sum := importRelayCSV(t, im, acct)
	start := time.Now()
	if !deliveredWithin(sink, sum.ImportID, 10*time.Second) {
		t.Fatalf("an hour between polls: the relay delivered rows %v and events %v of the import 10 s after it ended, want rows 2 3 5 6 7 and its completed event",
			sink.rowNumbers(sum.ImportID), sink.eventKinds(sum.ImportID))
	}
	t.Logf("import ended to delivered in %s", time.Since(start).Round(time.Millisecond))
}

// TestImporterSaysWhenItCommits: the importer calls Committed after each batch of a run
// commits, and once more after the run ends, so that the relays deliver its last event at once
// too.
func TestImporterSaysWhenItCommits(t *testing.T) {
	pool, acct, im := setup(t) // batches of 2 rows: relayCSV's 5 in 3
	var statuses []string      // the import's status at each call
	im.Committed = func() {
		var status string
		if err := pool.QueryRow(context.Background(), "SELECT status FROM imports WHERE account_id = $1 ORDER BY id DESC LIMIT 1",
			acct.ID).Scan(&status); err != nil {
			t.Error(err)
		}
		statuses = append(statuses, status)
	}
	importRelayCSV(t, im, acct)
	if want := []string{"running", "running", "running", "completed"}; !slices.Equal(statuses, want) {
		t.Fatalf("Committed called with the import %v, want %v", statuses, want)
	}
}

// TestRelayWokenOnlyWhenIdle: a wake ends only the wait of a relay that found nothing to
// deliver, not the linger after a delivery nor the backoff after a failure, whose point is to
// wait: a busy import commits several batches a second.
func TestRelayWokenOnlyWhenIdle(t *testing.T) {
	for _, tc := range []struct {
		name   string
		down   bool
		linger time.Duration
	}{
		{"lingering after a delivery", false, time.Hour},
		{"backing off after a failure", true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pool, acct, im := setup(t)
			sink := caughtUp(t, pool, "idle", acct)
			sink.setDown(tc.down)
			first, before := importRelayCSV(t, im, acct), sink.tries()
			committed := &pipeline.Signal{}
			runRelay(t, &pipeline.Relay{Querier: pool, Sink: sink, Poll: time.Hour, Linger: tc.linger,
				BatchRows: 100, Committed: committed, Log: quiet})
			deadline := time.Now().Add(10 * time.Second)
			for !tc.down && !deliveredWithin(sink, first.ImportID, 0) || tc.down && sink.tries() == before {
				if time.Now().After(deadline) {
					t.Fatalf("the relay's first round did not end within 10 s: rows %v, %d deliveries tried", sink.rowNumbers(first.ImportID), sink.tries()-before)
				}
				time.Sleep(10 * time.Millisecond)
			}
			tried := sink.settledTries() // the first round's end: what else it had to deliver, too

			second := importRelayCSV(t, im, acct)
			for range 20 {
				committed.Wake()
				time.Sleep(10 * time.Millisecond)
			}
			time.Sleep(200 * time.Millisecond)
			if rows := sink.rowNumbers(second.ImportID); len(rows) > 0 || sink.tries() != tried {
				t.Fatalf("20 wakes during the wait: the relay tried %d deliveries more and delivered rows %v of an import committed meanwhile; want none",
					sink.tries()-tried, rows)
			}
		})
	}
}

// importRelayCSV imports relayCSV into acct, from the command line.
func importRelayCSV(t *testing.T, im *importer.Importer, acct store.Account) importer.Summary {
	t.Helper()
	sum, err := im.RunNow(context.Background(), importer.Request{Account: acct.Name, Path: writeCSV(t, "r.csv", relayCSV), Source: store.SourceCLI}, "test", false)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// runRelay runs relay until the test ends.
func runRelay(t *testing.T, relay *pipeline.Relay) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { relay.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// caughtUp returns a sink of the test's own (sinkName) that has been given everything the
// tests' database held: a sink registers with every import stored pending.
func caughtUp(t *testing.T, pool *pgxpool.Pool, kind string, acct store.Account) *recordingSink {
	sink := &recordingSink{name: sinkName(t, pool, kind, acct)}
	drainAll(t, &pipeline.Relay{Querier: pool, Sink: sink, Poll: time.Millisecond, BatchRows: 1000, Log: quiet})
	return sink
}

// deliveredWithin reports whether the sink is given all of relayCSV's import, its rows and
// its completed event, within d.
func deliveredWithin(s *recordingSink, importID int64, d time.Duration) bool {
	for deadline := time.Now().Add(d); ; time.Sleep(10 * time.Millisecond) {
		kinds := s.eventKinds(importID)
		if slices.Equal(s.rowNumbers(importID), []int{2, 3, 5, 6, 7}) && len(kinds) > 0 && kinds[len(kinds)-1] == "completed" {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// eventKinds returns the kinds of the events a sink was given for an import, in order.
func (s *recordingSink) eventKinds(importID int64) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var kinds []string
	for _, e := range s.evs[importID] {
		kinds = append(kinds, e.Kind)
	}
	return kinds
}

// settledTries waits until the sink has been asked for no delivery for 100 ms, and returns
// how many it was asked for.
func (s *recordingSink) settledTries() int {
	for n := s.tries(); ; {
		time.Sleep(100 * time.Millisecond)
		m := s.tries()
		if m == n {
			return n
		}
		n = m
	}
}

// tries returns how many deliveries the sink was asked for.
func (s *recordingSink) tries() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}
