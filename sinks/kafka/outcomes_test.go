package kafkasink_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/leadpipe/leadpipe/broker/brokertest"
	"github.com/leadpipe/leadpipe/config"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/internal/freeport"
	"github.com/leadpipe/leadpipe/pipeline"
	kafkasink "github.com/leadpipe/leadpipe/sinks/kafka"
	"github.com/leadpipe/leadpipe/store"
	"github.com/leadpipe/leadpipe/store/storetest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

const (
	outcomesTopic = "leadpipe.outcomes"
	eventsTopic   = "leadpipe.events"
)

// setup returns the test database, a fresh account and an importer with batches of
// batchSize rows.
func setup(t *testing.T, batchSize int) (*pgxpool.Pool, store.Account, *importer.Importer) {
	t.Helper()
	pool := storetest.Pool(t)
	acct := storetest.Account(t, pool, -1)
	cfg := config.Default
	cfg.BatchSize = batchSize
	cfg.QueueDepth = 1
	return pool, acct, &importer.Importer{Pool: pool, Config: cfg, Log: quiet}
}

func newSink(t *testing.T, addr string) *kafkasink.Sink {
	t.Helper()
	s := kafkasink.New(kafkasink.Config{Brokers: []string{addr}, OutcomesTopic: outcomesTopic, EventsTopic: eventsTopic,
		Timeout: 10 * time.Second})
	t.Cleanup(func() { s.Close() })
	return s
}

func importFile(t *testing.T, im *importer.Importer, account, content string) importer.Summary {
	t.Helper()
	path := filepath.Join(t.TempDir(), "prospects.csv")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := im.RunNow(context.Background(), importer.Request{Account: account, Path: path, Source: store.SourceCLI}, "test", false)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// dbRows returns an import's row outcomes as Postgres has them, as the sink would publish them.
func dbRows(t *testing.T, pool *pgxpool.Pool, account string, importID int64) []kafkasink.Outcome {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT i.kind, r.row_number, r.outcome, coalesce(r.reason, ''),
			coalesce(r.detail, ''), r.entity_id, coalesce(r.warnings, '[]')
		FROM import_rows r JOIN imports i ON i.id = r.import_id WHERE r.import_id = $1 ORDER BY r.row_number`, importID)
	if err != nil {
		t.Fatal(err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (kafkasink.Outcome, error) {
		o := kafkasink.Outcome{Version: 2, ImportID: importID, Account: account}
		var warnings []byte
		err := r.Scan(&o.Kind, &o.RowNumber, &o.Outcome, &o.Reason, &o.Detail, &o.EntityID, &warnings)
		o.Warnings = warnings
		if o.Kind == "prospects" {
			o.ProspectID = o.EntityID
		}
		return o, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// published returns the messages of topic keyed by the import, decoded into T, and checks
// that they all are on one partition.
func published[T any](t *testing.T, addr, topic string, importID int64) []T {
	t.Helper()
	var out []T
	partition := -1
	for _, m := range brokertest.Messages(t, addr, topic) {
		if string(m.Key) != strconv.FormatInt(importID, 10) {
			continue
		}
		if partition >= 0 && m.Partition != partition {
			t.Errorf("import %d's messages on %s are on partitions %d and %d, want one", importID, topic, partition, m.Partition)
		}
		partition = m.Partition
		var v T
		if err := json.Unmarshal(m.Value, &v); err != nil {
			t.Fatalf("message on %s: %v\n%s", topic, err, m.Value)
		}
		out = append(out, v)
	}
	return out
}

// describe renders outcomes for comparison, with warnings in a canonical form.
func describe(t *testing.T, list []kafkasink.Outcome) []string {
	t.Helper()
	var out []string
	for _, o := range list {
		var warnings any
		if err := json.Unmarshal(o.Warnings, &warnings); err != nil {
			t.Fatalf("row %d warnings %s: %v", o.RowNumber, o.Warnings, err)
		}
		w, _ := json.Marshal(warnings)
		out = append(out, fmt.Sprintf("v%d import %d row %d account %s kind %s: %s %q %q entity %s prospect %s warnings %s",
			o.Version, o.ImportID, o.RowNumber, o.Account, o.Kind, o.Outcome, o.Reason, o.Detail, id(o.EntityID),
			id(o.ProspectID), w))
	}
	return out
}

// id renders an id that may be null.
func id(p *int64) string {
	if p == nil {
		return "null"
	}
	return strconv.FormatInt(*p, 10)
}

// drain delivers everything pending.
func drain(t *testing.T, relay *pipeline.Relay) {
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

// keys returns the sorted keys of one JSON object.
func keys(t *testing.T, b []byte) []string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return slices.Sorted(maps.Keys(m))
}

const sampleCSV = "email,first_name,owner\n" +
	"a@example.com,A,\n" +
	"not-an-email,B,\n" +
	"\n" +
	"c@example.com,C,ghost@example.com\n" +
	"a@example.com,A2,\n" +
	",,ghost@example.com\n" +
	"d@example.com,D,\n" +
	"e@example.com,E,\n"

func TestEveryOutcomeAndEventPublishedAsInPostgres(t *testing.T) {
	pool, acct, im := setup(t, 2)
	b := brokertest.Start(t, "127.0.0.1:0", t.TempDir())
	sum := importFile(t, im, acct.Name, sampleCSV)
	relay := &pipeline.Relay{Querier: pool, Sink: newSink(t, b.Addr()), Poll: time.Millisecond, BatchRows: 3, Log: quiet}
	drain(t, relay)

	want := dbRows(t, pool, acct.Name, sum.ImportID)
	got := published[kafkasink.Outcome](t, b.Addr(), outcomesTopic, sum.ImportID)
	if g, w := describe(t, got), describe(t, want); !slices.Equal(g, w) {
		t.Errorf("published outcomes, in order:\n%s\nwant (import_rows):\n%s", strings.Join(g, "\n"), strings.Join(w, "\n"))
	}
	seen := map[string]bool{}
	for _, o := range want {
		seen[o.Outcome] = true
		if o.Outcome == "skipped" {
			seen[o.Reason] = true
		}
		if string(o.Warnings) != "[]" {
			seen["warnings"] = true
		}
	}
	for _, k := range []string{"created", "updated", "skipped", "invalid_email", "missing_identifier", "warnings"} {
		if !seen[k] {
			t.Errorf("the sample has no row with %s: the test checks less than it should", k)
		}
	}

	events := published[kafkasink.Event](t, b.Addr(), eventsTopic, sum.ImportID)
	var kinds []string
	for i, e := range events {
		kinds = append(kinds, e.Event)
		if e.Seq != i+1 || e.Version != 2 || e.Kind != "prospects" || e.ImportID != sum.ImportID || e.Account != acct.Name ||
			e.File != "prospects.csv" || e.Source != store.SourceCLI || e.At.IsZero() {
			t.Errorf("event %d: %+v", i, e)
		}
	}
	if len(kinds) < 3 || kinds[0] != "started" || kinds[1] != "progress" || kinds[len(kinds)-1] != "completed" {
		t.Fatalf("events %v, want started, progress…, completed", kinds)
	}
	last := events[len(events)-1]
	var rowsTotal int // a foreground import records its total after it completed: 0 here
	if err := pool.QueryRow(context.Background(), "SELECT coalesce(rows_total, 0) FROM import_events WHERE import_id = $1 AND seq = $2",
		sum.ImportID, last.Seq).Scan(&rowsTotal); err != nil {
		t.Fatal(err)
	}
	// The sample links no organization: a prospects import reports its two counters at 0.
	wantCounts := kafkasink.Counts{RowsDone: sum.Rows, RowsTotal: rowsTotal, Created: sum.Created, Updated: sum.Updated,
		Unchanged: sum.Unchanged, Skipped: sum.Skipped,
		Counters: map[string]int{"organizations_created": 0, "organizations_linked": 0}}
	if !reflect.DeepEqual(last.Counts, wantCounts) || last.Status != "completed" || last.Error != "" {
		t.Errorf("completed event %+v, want counts %+v", last, wantCounts)
	}

	// The documented fields, every one present.
	msgs := brokertest.Messages(t, b.Addr(), outcomesTopic)
	if got, want := keys(t, msgs[0].Value), []string{"account", "detail", "entity_id", "import_id", "kind", "outcome",
		"prospect_id", "reason", "row_number", "source_row", "undo_of", "version", "warnings"}; !slices.Equal(got, want) {
		t.Errorf("outcome message fields %v, want %v", got, want)
	}
	msgs = brokertest.Messages(t, b.Addr(), eventsTopic)
	if got, want := keys(t, msgs[0].Value), []string{"account", "at", "counts", "error", "event", "file", "import_id",
		"kind", "seq", "source", "status", "undo_of", "undone_at", "undone_by", "version"}; !slices.Equal(got, want) {
		t.Errorf("event message fields %v, want %v", got, want)
	}
}

// A delivery of more rows than one produce request carries (1,000) publishes them all, in row
// order, in several requests, with the import's events after them: the relay reads the import's
// 2,500 outcomes, runs of created rows and skipped rows between them, in one delivery.
func TestDeliveryOfSeveralProduceRequestsPublishedInOrder(t *testing.T) {
	pool, acct, im := setup(t, 1000)
	b := brokertest.Start(t, "127.0.0.1:0", t.TempDir())
	var csv strings.Builder
	csv.WriteString("email,first_name\n")
	for i := range 2500 {
		if i%7 == 3 {
			fmt.Fprintf(&csv, "not-an-email-%d,P%d\n", i, i)
			continue
		}
		fmt.Fprintf(&csv, "p%d@example.com,P%d\n", i, i)
	}
	sum := importFile(t, im, acct.Name, csv.String())
	sink := newSink(t, b.Addr())
	relay := &pipeline.Relay{Querier: pool, Sink: sink, Poll: time.Millisecond,
		BatchRows: kafkasink.DeliveryRows, Log: quiet}
	if n, err := relay.Drain(context.Background()); err != nil || n != 1 {
		t.Fatalf("Drain = %d deliveries, %v; want the import's 2,500 outcomes and its events in one", n, err)
	}
	if n := kafkasink.ProduceRequests(sink); n != 4 {
		t.Errorf("the delivery took %d produce requests, want 3 of outcomes (1,000 at most each) and 1 of events", n)
	}
	want := dbRows(t, pool, acct.Name, sum.ImportID)
	got := published[kafkasink.Outcome](t, b.Addr(), outcomesTopic, sum.ImportID)
	if len(want) != 2500 {
		t.Fatalf("%d outcomes in Postgres, want 2,500", len(want))
	}
	if g, w := describe(t, got), describe(t, want); !slices.Equal(g, w) {
		t.Errorf("published %d outcomes, want the %d of import_rows in row order", len(g), len(w))
	}
	events := published[kafkasink.Event](t, b.Addr(), eventsTopic, sum.ImportID)
	if len(events) == 0 || events[len(events)-1].Event != "completed" {
		t.Errorf("events %+v, want them through completed", events)
	}
}

// Outcomes larger than a produce request's bytes (1 MiB) allow go in more requests than their
// count needs, each whole and in order: 300 outcomes of some 5 kB each take two.
func TestDeliveryOfLargeOutcomesSplitByBytes(t *testing.T) {
	b := brokertest.Start(t, "127.0.0.1:0", t.TempDir())
	sink := newSink(t, b.Addr())
	d := pipeline.Delivery{Import: store.Import{ID: 7, Kind: "prospects"}, Account: "a"}
	for i := range 300 {
		d.Rows = append(d.Rows, store.RowOutcome{ImportID: 7, Row: i + 2, Outcome: "skipped", Reason: "invalid_email",
			Detail: strings.Repeat(strconv.Itoa(i%10), 5000)})
	}
	if err := sink.Deliver(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if n := kafkasink.ProduceRequests(sink); n != 2 {
		t.Errorf("300 outcomes of 5 kB took %d produce requests, want 2", n)
	}
	got := published[kafkasink.Outcome](t, b.Addr(), outcomesTopic, 7)
	if len(got) != len(d.Rows) {
		t.Fatalf("%d outcomes published, want %d", len(got), len(d.Rows))
	}
	for i, o := range got {
		if r := d.Rows[i]; o.RowNumber != r.Row || o.Detail != r.Detail {
			t.Fatalf("outcome %d published as row %d with detail %.10q…, want row %d with %.10q…", i, o.RowNumber, o.Detail, r.Row, r.Detail)
		}
	}
}

// kafka-go's writer looks up its topic's metadata for every message, to count its partitions;
// the sink answers those lookups from the first of each produce request, so that a delivery of
// 2,500 outcomes, in three requests, sends three lookups to kafka-go's transport, not 2,500.
// Every outcome is published.
func TestDeliveryLooksUpItsTopicOnce(t *testing.T) {
	b := brokertest.Start(t, "127.0.0.1:0", t.TempDir())
	sink := newSink(t, b.Addr())
	lookups := kafkasink.CountMetadataLookups(sink)
	d := pipeline.Delivery{Import: store.Import{ID: 9, Kind: "prospects"}, Account: "a"}
	for i := range 2500 {
		d.Rows = append(d.Rows, store.RowOutcome{ImportID: 9, Row: i + 2, Outcome: "created", EntityID: int64(i + 1)})
	}
	if err := sink.Deliver(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if n, requests := lookups(), kafkasink.ProduceRequests(sink); n != 3 || requests != 3 {
		t.Errorf("a delivery of 2,500 outcomes in %d produce requests sent %d metadata requests to kafka-go's transport, want 3 and 3", requests, n)
	}
	if got := published[kafkasink.Outcome](t, b.Addr(), outcomesTopic, 9); len(got) != len(d.Rows) || got[len(got)-1].RowNumber != d.Rows[len(d.Rows)-1].Row {
		t.Errorf("%d outcomes published, want %d, the last row %d", len(got), len(d.Rows), d.Rows[len(d.Rows)-1].Row)
	}
}

// sinkErrors returns leadpipe_sink_errors_total for the kafka sink.
func sinkErrors(t *testing.T) float64 {
	t.Helper()
	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "leadpipe_sink_errors_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "sink" && l.GetValue() == kafkasink.Name {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// delivered reports whether the kafka sink's cursor reached the end of the import's row
// outcomes and events.
func delivered(t *testing.T, pool *pgxpool.Pool, importID int64) bool {
	t.Helper()
	var done bool
	err := pool.QueryRow(context.Background(), `SELECT coalesce(c.row_number >= i.checkpoint_row AND c.event_seq >= i.event_seq, false)
		FROM imports i LEFT JOIN sink_cursors c ON c.sink = $2 AND c.import_id = i.id WHERE i.id = $1`,
		importID, kafkasink.Name).Scan(&done)
	if err != nil {
		t.Fatal(err)
	}
	return done
}

// cursorRow returns how far the kafka sink delivered the import's rows.
func cursorRow(t *testing.T, pool *pgxpool.Pool, importID int64) int {
	t.Helper()
	var row int
	err := pool.QueryRow(context.Background(), `SELECT coalesce(max(row_number), 0) FROM sink_cursors WHERE sink = $1 AND import_id = $2`,
		kafkasink.Name, importID).Scan(&row)
	if err != nil {
		t.Fatal(err)
	}
	return row
}

// waitFor polls cond until it holds or a minute has passed.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting after a minute for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func bigCSV(prefix string, rows int) string {
	var sb strings.Builder
	sb.WriteString("email,first_name\n")
	for i := range rows {
		if i%7 == 3 {
			fmt.Fprintf(&sb, "not-an-email-%d,X\n", i) // skipped
			continue
		}
		fmt.Fprintf(&sb, "%s%d@example.com,P%d\n", prefix, i, i)
	}
	return sb.String()
}

// checkNoneLost checks that every row outcome and every event of the import is on the topics,
// as Postgres has it; repeats are allowed.
func checkNoneLost(t *testing.T, pool *pgxpool.Pool, addr, account string, importID int64) {
	t.Helper()
	want := describe(t, dbRows(t, pool, account, importID))
	got := describe(t, published[kafkasink.Outcome](t, addr, outcomesTopic, importID))
	slices.Sort(got)
	got = slices.Compact(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("import %d: %d distinct outcomes published, %d in import_rows; they differ", importID, len(got), len(want))
	}
	var eventSeq int
	if err := pool.QueryRow(context.Background(), "SELECT event_seq FROM imports WHERE id = $1", importID).Scan(&eventSeq); err != nil {
		t.Fatal(err)
	}
	seqs := map[int]bool{}
	for _, e := range published[kafkasink.Event](t, addr, eventsTopic, importID) {
		seqs[e.Seq] = true
	}
	for seq := 1; seq <= eventSeq; seq++ {
		if !seqs[seq] {
			t.Errorf("import %d: event %d of %d not published", importID, seq, eventSeq)
		}
	}
}

// The broker stops while an import commits and stays down while another one runs; the
// imports complete, the relay keeps failing, and once the broker is back on the same data
// directory every outcome and event arrives.
func TestBrokerOutageLosesNothing(t *testing.T) {
	pool, acct, im := setup(t, 20)
	dir := t.TempDir()
	// The broker restarts on its address: one outside the ephemeral range, which no listen on
	// port 0 can take while it is down.
	b := brokertest.Start(t, freeport.Addr(t), dir)
	addr := b.Addr()
	relay := &pipeline.Relay{Querier: pool, Sink: newSink(t, addr), Poll: 10 * time.Millisecond, BatchRows: 15, Log: quiet}
	ctx, cancel := context.WithCancel(context.Background())
	relayDone := make(chan struct{})
	go func() { relay.Run(ctx); close(relayDone) }()
	defer func() { cancel(); <-relayDone }()

	type result struct {
		sum importer.Summary
		err error
	}
	path := filepath.Join(t.TempDir(), "during.csv")
	if err := os.WriteFile(path, []byte(bigCSV("during", 2000)), 0o644); err != nil {
		t.Fatal(err)
	}
	running := make(chan result, 1)
	go func() {
		sum, err := im.RunNow(ctx, importer.Request{Account: acct.Name, Path: path, Source: store.SourceCLI}, "test", false)
		running <- result{sum, err}
	}()
	var during int64
	waitFor(t, "the first outcomes of the import to be published", func() bool {
		err := pool.QueryRow(ctx, "SELECT coalesce(max(id), 0) FROM imports WHERE account_id = $1", acct.ID).Scan(&during)
		return err == nil && during > 0 && cursorRow(t, pool, during) > 0
	})
	errorsBefore := sinkErrors(t)
	b.Close()
	r := <-running
	if r.err != nil || r.sum.Status != "completed" {
		t.Fatalf("import while the broker went down: %+v, %v; want completed", r.sum, r.err)
	}
	after := importFile(t, im, acct.Name, bigCSV("after", 100))
	waitFor(t, "the relay to fail twice", func() bool { return sinkErrors(t) >= errorsBefore+2 })
	if delivered(t, pool, during) || cursorRow(t, pool, after.ImportID) != 0 {
		t.Fatalf("delivered with the broker down: import %d to row %d, import %d to row %d",
			during, cursorRow(t, pool, during), after.ImportID, cursorRow(t, pool, after.ImportID))
	}

	brokertest.Start(t, addr, dir)
	waitFor(t, "the relay to catch up", func() bool {
		return delivered(t, pool, during) && delivered(t, pool, after.ImportID)
	})
	checkNoneLost(t, pool, addr, acct.Name, during)
	checkNoneLost(t, pool, addr, acct.Name, after.ImportID)
}

// A broker that accepts connections and never answers fails a delivery once its timeout is
// up, instead of holding the relay.
func TestDeliverToAHungBrokerTimesOut(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var conns []net.Conn
	accepted := make(chan struct{})
	go func() {
		defer close(accepted)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c) // held open, never answered
		}
	}()
	s := kafkasink.New(kafkasink.Config{Brokers: []string{l.Addr().String()}, OutcomesTopic: outcomesTopic,
		EventsTopic: eventsTopic, Timeout: 100 * time.Millisecond})
	defer s.Close()
	d := pipeline.Delivery{Import: store.Import{ID: 1}, Account: "a", Rows: []store.RowOutcome{{ImportID: 1, Row: 2, Outcome: "created"}}}
	if err := s.Deliver(context.Background(), d); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Deliver to a broker that never answers = %v, want the deadline exceeded", err)
	}
	l.Close()
	<-accepted
	for _, c := range conns {
		c.Close()
	}
}
