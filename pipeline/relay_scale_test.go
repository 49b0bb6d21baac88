package pipeline_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadpipe/leadpipe/config"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
	"github.com/leadpipe/leadpipe/store/storetest"
)

// storedImports is how many delivered imports TestRelayPollCostsWhatIsPending stores.
const storedImports = 1_000_000

// TestRelayPollCostsWhatIsPending: with a million imports stored and delivered, a relay's poll
// (what is pending, and the backlog) reads a few pages, not the imports, and takes
// milliseconds; the imports that come after are delivered, and only they.
func TestRelayPollCostsWhatIsPending(t *testing.T) {
	pool := storetest.FreshDatabase(t, "leadpipe_test_relay_scale")
	ctx := context.Background()
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", strings.Fields(sql)[0], err)
		}
	}
	start := time.Now()
	acct, err := store.CreateAccount(ctx, pool, "scale", nil)
	if err != nil {
		t.Fatal(err)
	}
	// The imports are written as they are once they ran, without their events (no poll reads
	// those) and with the foreign key checked once for all rather than row by row, which keeps
	// this test's setup under a minute.
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `ALTER TABLE imports DISABLE TRIGGER USER;
			ALTER TABLE imports DROP CONSTRAINT imports_account_id_fkey`)
		if err == nil {
			_, err = tx.Exec(ctx, `INSERT INTO imports (account_id, source, file_name, file_path, file_size,
					file_sha256, status, rows_total, rows_done, created, checkpoint_row, event_seq, started_at, finished_at)
				SELECT $1, 'cli', 'people.csv', 'people.csv', 100, '', 'completed', 10, 10, 10, 11, 3, now(), now()
				FROM generate_series(1, $2::int)`, acct.ID, storedImports)
		}
		if err == nil {
			_, err = tx.Exec(ctx, `ALTER TABLE imports ADD CONSTRAINT imports_account_id_fkey
					FOREIGN KEY (account_id) REFERENCES accounts (id);
				ALTER TABLE imports ENABLE TRIGGER USER`)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sink := &recordingSink{name: "scale"}
	exec(`INSERT INTO sink_cursors (sink, import_id, row_number, event_seq)
		SELECT $1, id, checkpoint_row, event_seq FROM imports`, sink.name)
	exec("VACUUM ANALYZE imports, sink_cursors")
	t.Logf("%d imports stored and delivered in %v", storedImports, time.Since(start).Round(time.Millisecond))

	cfg := config.Default
	cfg.BatchSize = 2
	im := &importer.Importer{Pool: pool, Config: cfg, Log: quiet}
	relay := &pipeline.Relay{Querier: pool, Sink: sink, Poll: time.Millisecond, BatchRows: 100, Log: quiet}
	start = time.Now()
	if n, err := relay.Drain(ctx); err != nil || n != 0 {
		t.Fatalf("first poll: %d deliveries, %v; want none, everything was delivered", n, err)
	}
	t.Logf("first poll, which registers the sink, in %v", time.Since(start).Round(time.Millisecond))
	var fresh []int64
	for range 2 {
		sum, err := im.RunNow(ctx, importer.Request{Account: acct.Name, Path: writeCSV(t, "r.csv", relayCSV), Source: store.SourceCLI}, "test", false)
		if err != nil {
			t.Fatal(err)
		}
		fresh = append(fresh, sum.ImportID)
	}
	for {
		n, err := relay.Drain(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	var delivered []int64
	for id := range sink.rows {
		delivered = append(delivered, id)
	}
	slices.Sort(delivered)
	if !slices.Equal(delivered, fresh) {
		t.Fatalf("delivered imports %v, want %v: only the imports run after the million", delivered, fresh)
	}
	for _, id := range fresh {
		if len(sink.rows[id]) != 5 || sink.evs[id][len(sink.evs[id])-1].Kind != "completed" {
			t.Errorf("import %d: %d rows delivered, events %v; want 5 rows, then completed", id, len(sink.rows[id]), sink.evs[id])
		}
	}
	exec("ANALYZE") // as autovacuum would, after the churn of the imports that ran

	// Timed: more polls than Postgres plans a prepared statement for before it may switch to a
	// generic plan, within half a minute.
	var polls []time.Duration
	for deadline := time.Now().Add(30 * time.Second); len(polls) < 21 && time.Now().Before(deadline); {
		start := time.Now()
		if n, err := relay.Drain(ctx); err != nil || n != 0 {
			t.Fatalf("poll: %d deliveries, %v; want none", n, err)
		}
		if _, _, err := store.UndeliveredCount(ctx, pool, sink.name); err != nil {
			t.Fatal(err)
		}
		polls = append(polls, time.Since(start))
	}
	// The pages each query reads (below) are the proof of the cost; wall-clock time on a shared
	// machine is only a generous bound, on the fastest poll: reading what is stored, not what
	// is pending, took seconds.
	slices.Sort(polls)
	t.Logf("poll and backlog with %d imports stored: fastest %v, median %v, slowest %v",
		storedImports, polls[0], polls[len(polls)/2], polls[len(polls)-1])
	if polls[0] > 50*time.Millisecond {
		t.Errorf("the fastest of %d polls and backlogs took %v, want under 50ms: they read what is stored, not what is pending", len(polls), polls[0])
	}

	// What the queries read, whatever the time: each one's plan, run, touches a few pages.
	queries := captureQueries(t, pool, func(q store.Querier) {
		traced := &pipeline.Relay{Querier: q, Sink: sink, Poll: time.Millisecond, BatchRows: 100, Log: quiet}
		if n, err := traced.Drain(ctx); err != nil || n != 0 {
			t.Fatalf("poll: %d deliveries, %v; want none", n, err)
		}
		if _, _, err := store.UndeliveredCount(ctx, q, sink.name); err != nil {
			t.Fatal(err)
		}
	})
	explained := 0
	for _, q := range queries {
		if strings.Contains(q.sql, "sink_register") {
			continue
		}
		explained++
		var plans []struct {
			Plan planNode `json:"Plan"`
		}
		if err := pool.QueryRow(ctx, "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) "+q.sql, q.args...).Scan(&plans); err != nil {
			t.Fatalf("explain %s: %v", q.sql, err)
		}
		plan := plans[0].Plan
		if pages := plan.SharedHit + plan.SharedRead; pages > 100 {
			t.Errorf("a poll's query reads %d pages, want a few: %s", pages, q.sql)
		}
		plan.walk(func(n planNode) {
			if n.Type == "Seq Scan" && (n.Relation == "imports" || n.Relation == "sink_cursors") {
				t.Errorf("a poll's query scans %s: %s", n.Relation, q.sql)
			}
		})
	}
	if explained < 2 {
		t.Fatalf("%d queries of a poll explained, want the pending imports and the backlog", explained)
	}
}

// planNode is a node of EXPLAIN (FORMAT JSON)'s plan, with its children.
type planNode struct {
	Type       string     `json:"Node Type"`
	Relation   string     `json:"Relation Name"`
	SharedHit  int        `json:"Shared Hit Blocks"`
	SharedRead int        `json:"Shared Read Blocks"`
	Plans      []planNode `json:"Plans"`
}

func (n planNode) walk(visit func(planNode)) {
	visit(n)
	for _, c := range n.Plans {
		c.walk(visit)
	}
}

// query is a query as run, with its arguments.
type query struct {
	sql  string
	args []any
}

// captureQueries returns the queries that run makes on a pool of its own, on pool's database.
func captureQueries(t *testing.T, pool *pgxpool.Pool, run func(store.Querier)) []query {
	t.Helper()
	tracer := &queryTracer{}
	cfg := pool.Config().Copy()
	cfg.ConnConfig.Tracer = tracer
	traced, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer traced.Close()
	run(traced)
	tracer.mu.Lock()
	defer tracer.mu.Unlock()
	return tracer.queries
}

// queryTracer records the queries of a pool.
type queryTracer struct {
	mu      sync.Mutex
	queries []query
}

func (q *queryTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	q.mu.Lock()
	q.queries = append(q.queries, query{sql: d.SQL, args: d.Args})
	q.mu.Unlock()
	return ctx
}

func (q *queryTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
