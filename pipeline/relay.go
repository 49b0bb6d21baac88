package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/leadpipe/leadpipe/store"
)

var (
	sinkRows = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "leadpipe_sink_rows_total",
		Help: "Row outcomes a sink delivered (a replay after a crash counts again).",
	}, []string{"sink"})
	sinkEvents = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "leadpipe_sink_events_total",
		Help: "Import events a sink delivered.",
	}, []string{"sink"})
	sinkErrors = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "leadpipe_sink_errors_total",
		Help: "Deliveries a sink failed; they are retried.",
	}, []string{"sink"})
	sinkSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "leadpipe_sink_delivery_seconds",
		Help:    "Time a sink took to deliver one batch of an import's outcomes and events.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 15),
	}, []string{"sink"})
	sinkBacklog = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "leadpipe_sink_backlog_rows",
		Help: "Committed row outcomes a sink has not delivered yet.",
	}, []string{"sink"})
	sinkBacklogEvents = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "leadpipe_sink_backlog_events",
		Help: "Committed import events a sink has not delivered yet.",
	}, []string{"sink"})
	sinkUp = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "leadpipe_sink_up",
		Help: "1 when a sink's last delivery succeeded, 0 while it is failing.",
	}, []string{"sink"})
)

// Sink takes an import's committed row outcomes and events somewhere else (Kafka,
// ClickHouse). Deliveries repeat after a crash or a failed delivery, so a sink must write
// them idempotently or under keys its readers de-duplicate by (import_id + row_number,
// import_id + seq).
type Sink interface {
	// Name names the sink in its cursors, metrics and logs; it must not change.
	Name() string
	// Deliver writes d. An error means none of it may be taken as delivered.
	Deliver(ctx context.Context, d Delivery) error
}

// Delivery is a part of one import's outcomes and events, in order: rows by row number,
// events by seq. Events come only once every row committed before them has been delivered.
type Delivery struct {
	Import  store.Import // the import as it was when the delivery was read
	Account string
	Rows    []store.RowOutcome
	Events  []store.ImportEvent
}

// DefaultMaxBackoff is the longest a relay waits between retries of a failing sink, unless
// its MaxBackoff says otherwise: short enough that outcomes flow again within seconds of the
// broker's or ClickHouse's return, long enough that a sink that is down costs one failed
// attempt every few seconds.
const DefaultMaxBackoff = 5 * time.Second

// Relay delivers what Postgres committed to a sink (the outbox of DESIGN): it reads row
// outcomes and events past the sink's cursor, delivers them and moves the cursor. Imports go
// on while a sink is down; its backlog drains when it returns. Each poll reads only the
// imports pending for the sink (store.UndeliveredImports), not every import stored.
type Relay struct {
	Querier store.Querier
	Sink    Sink
	// Poll is how long the relay waits when there is nothing to deliver; after each failure in
	// a row it waits twice as long, up to MaxBackoff.
	Poll time.Duration
	// MaxBackoff is the longest wait between retries of a failing sink; DefaultMaxBackoff when
	// zero, Poll when Poll is longer.
	MaxBackoff time.Duration
	// BatchRows is the most row outcomes in one delivery.
	BatchRows int
	// Linger is how long the relay waits after a round that delivered something before it
	// reads again, so that what commits meanwhile goes in fewer, larger deliveries — for a sink
	// whose every write costs, like ClickHouse's, each a part on disk that merges rewrite. It
	// adds at most that long to a sink's lag. A backlog is not slowed by it: a round delivers
	// everything pending of up to a hundred imports before it waits. 0 reads again at once.
	Linger time.Duration
	// Committed, when set, ends the relay's wait when there was nothing to deliver: the
	// daemon wakes it each time a run of one of its imports commits a batch or ends
	// (importer.Importer.Committed), so that what the run committed is delivered at once
	// instead of at the next Poll. It does not end a Linger, nor the wait after a failure.
	// What is committed outside a run of this daemon (an import's queued event, a cancel of a
	// queued import, `leadpipe import`, another daemon's runs) the relay finds at its next
	// Poll, as it finds everything without it.
	Committed *Signal
	Log       *slog.Logger

	registered bool // the sink is registered (store.RegisterSink)
}

// Run delivers until ctx is cancelled.
func (r *Relay) Run(ctx context.Context) {
	name := r.Sink.Name()
	// The sink's counters start at zero, so that its error rate is 0 rather than absent.
	for _, c := range []*prometheus.CounterVec{sinkRows, sinkEvents, sinkErrors} {
		c.WithLabelValues(name)
	}
	sinkSeconds.WithLabelValues(name)
	wait, failing := r.Poll, false
	var backlogRead time.Time
	for {
		committed := r.Committed.Next() // before the drain: a commit during it ends the wait after it
		n, err := r.Drain(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			sinkErrors.WithLabelValues(name).Inc()
			sinkUp.WithLabelValues(name).Set(0)
			if !failing {
				r.Log.Warn("sink failing; imports go on and it will catch up", "sink", name, "error", err)
			}
			failing = true
			wait = min(max(2*wait, r.Poll), r.maxBackoff())
		default:
			sinkUp.WithLabelValues(name).Set(1)
			if failing {
				r.Log.Info("sink recovered", "sink", name)
			}
			failing, wait = false, r.Poll
		}
		// The backlog is read at most once a Poll: woken at every commit, the relay would
		// otherwise read it for every batch of every import.
		if time.Since(backlogRead) >= r.Poll {
			backlogRead = time.Now()
			if rows, events, err := store.UndeliveredCount(ctx, r.Querier, name); err == nil {
				sinkBacklog.WithLabelValues(name).Set(float64(rows))
				sinkBacklogEvents.WithLabelValues(name).Set(float64(events))
			}
		}
		pause, woken := wait, committed
		switch {
		case err != nil:
			woken = nil // a failing sink is tried again after its backoff, not at every commit
		case n > 0:
			pause, woken = r.Linger, nil // more may be waiting: let it gather
		}
		if pause == 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-woken:
		case <-time.After(pause):
		}
	}
}

// maxBackoff is the longest wait after a failure.
func (r *Relay) maxBackoff() time.Duration {
	if r.MaxBackoff == 0 {
		return max(DefaultMaxBackoff, r.Poll)
	}
	return max(r.MaxBackoff, r.Poll)
}

// Drain delivers what is pending now, for up to a hundred imports, and returns how many
// deliveries it made. It stops at the first failed delivery.
func (r *Relay) Drain(ctx context.Context) (int, error) {
	name := r.Sink.Name()
	if !r.registered {
		if err := store.RegisterSink(ctx, r.Querier, name); err != nil {
			return 0, err
		}
		r.registered = true
	}
	pending, err := store.UndeliveredImports(ctx, r.Querier, name, 100)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, u := range pending {
		k, err := r.deliverImport(ctx, u)
		n += k
		if err != nil {
			return n, fmt.Errorf("%s: import %d: %w", name, u.Import.ID, err)
		}
	}
	return n, nil
}

// deliverImport delivers one import's rows past its cursor in batches, then its events. Its
// last cursor update clears the import's pending row once nothing committed is left.
func (r *Relay) deliverImport(ctx context.Context, u store.Undelivered) (int, error) {
	name := r.Sink.Name()
	// Read the events first: every row committed before them is then among the rows read after.
	events, err := store.ImportEvents(ctx, r.Querier, u.Import.ID, u.Cursor.EventSeq)
	if err != nil {
		return 0, err
	}
	cursor := u.Cursor
	n := 0
	for {
		rows, err := store.RowOutcomes(ctx, r.Querier, u.Import.ID, cursor.Row, r.BatchRows)
		if err != nil {
			return n, err
		}
		last := len(rows) < r.BatchRows
		d := Delivery{Import: u.Import, Account: u.Account, Rows: rows}
		if last {
			d.Events = events
		}
		if len(d.Rows) == 0 && len(d.Events) == 0 {
			// Nothing left: rows past the last outcome (blank ones, say) have none. The cursor
			// update clears the import's pending row, if nothing committed since.
			cursor.Row = max(cursor.Row, u.Import.CheckpointRow)
			return n, store.AdvanceSinkCursor(ctx, r.Querier, name, u.Import.ID, cursor)
		}
		start := time.Now()
		if err := r.Sink.Deliver(ctx, d); err != nil {
			return n, err
		}
		sinkSeconds.WithLabelValues(name).Observe(time.Since(start).Seconds())
		sinkRows.WithLabelValues(name).Add(float64(len(d.Rows)))
		sinkEvents.WithLabelValues(name).Add(float64(len(d.Events)))
		if len(d.Rows) > 0 {
			cursor.Row = d.Rows[len(d.Rows)-1].Row
		}
		if last {
			cursor.Row = max(cursor.Row, u.Import.CheckpointRow)
		}
		if len(d.Events) > 0 {
			cursor.EventSeq = d.Events[len(d.Events)-1].Seq
		}
		if err := store.AdvanceSinkCursor(ctx, r.Querier, name, u.Import.ID, cursor); err != nil {
			return n, err
		}
		n++
		if last {
			return n, nil
		}
	}
}
