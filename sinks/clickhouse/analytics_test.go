package chsink_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadpipe/leadpipe/config"
	"github.com/leadpipe/leadpipe/dashboards"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/pipeline"
	chsink "github.com/leadpipe/leadpipe/sinks/clickhouse"
	"github.com/leadpipe/leadpipe/sinks/clickhouse/analyticstest"
	"github.com/leadpipe/leadpipe/sinks/sinkstest"
	"github.com/leadpipe/leadpipe/store"
	"github.com/leadpipe/leadpipe/store/storetest"
)

// TestMain gives these tests a Postgres database of their own: the relay delivers every import
// of its database, and these tests count what arrives.
func TestMain(m *testing.M) {
	storetest.UseOwnDatabase("leadpipe_test_analytics")
	os.Exit(m.Run())
}

// chDatabase is the ClickHouse database of these tests.
const chDatabase = "leadpipe_test_analytics"

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// peopleCSV has rows of every outcome, two skip reasons and two kinds of field warning.
const peopleCSV = "Email,First Name,Last Name,Lead Owner,Email Opt In\n" +
	"ann@example.com,Ann,Archer,grace,yes\n" + // created
	"not-an-email,Bob,Baker,grace,\n" + // skipped: invalid_email
	"bob@example.com,Bob,Baker,nobody,\n" + // created, owner_not_found
	",,,grace,\n" + // skipped: missing_identifier
	"ann@example.com,Ann,Archer,grace,yes\n" + // unchanged
	"ann@example.com,Annie,Archer,ghost,maybe\n" + // updated, owner_not_found and invalid_boolean
	"cy@example.com,Cy,Cole,,\n" // created

// fixture is an account with a user, an importer with small batches, and a relay into the
// ClickHouse sink.
type fixture struct {
	pool  *pgxpool.Pool
	acct  store.Account
	im    *importer.Importer
	sink  *chsink.Sink
	relay *pipeline.Relay
}

// newFixture returns a fixture whose sink writes to the tests' database on the shared server.
func newFixture(t *testing.T) (*fixture, driver.Conn) {
	t.Helper()
	pool := storetest.Pool(t)
	db := analyticstest.Database(t, chDatabase)
	return fixtureOn(t, pool, analyticstest.Addr(), db), analyticstest.Conn(t, analyticstest.Addr(), db)
}

func fixtureOn(t *testing.T, pool *pgxpool.Pool, addr, database string) *fixture {
	t.Helper()
	acct := storetest.Account(t, pool, -1)
	if _, err := store.AddUser(context.Background(), pool, acct.ID, store.User{Username: "grace", Email: "grace@example.com", FullName: "Grace Hopper"}); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default
	cfg.BatchSize = 3
	cfg.QueueDepth = 1
	sink := &chsink.Sink{Addr: addr, Database: database, Querier: pool}
	t.Cleanup(func() { sink.Close() })
	return &fixture{
		pool:  pool,
		acct:  acct,
		im:    &importer.Importer{Pool: pool, Config: cfg, Log: quiet},
		sink:  sink,
		relay: &pipeline.Relay{Querier: pool, Sink: sink, Poll: 20 * time.Millisecond, BatchRows: 4, Log: quiet},
	}
}

// importFile imports content as a file of the fixture's account, in the foreground, and
// returns the import's id.
func (f *fixture) importFile(t *testing.T, name, content string) int64 {
	t.Helper()
	id, err := f.run(writeFile(t, name, content))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// run imports the file at path, in the foreground, and returns the import's id.
func (f *fixture) run(path string) (int64, error) {
	sum, err := f.im.RunNow(context.Background(), importer.Request{Account: f.acct.Name, Path: path, Source: store.SourceCLI}, "test", false)
	if err == nil && sum.Status != store.StatusCompleted {
		err = fmt.Errorf("import %s: %s", path, sum.Status)
	}
	return sum.ImportID, err
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// endedImport records an import of the fixture's account that ends with status failed (it
// started, then failed) or cancelled (while queued), and returns its id.
func (f *fixture) endedImport(t *testing.T, status string) int64 {
	t.Helper()
	ctx := context.Background()
	rec := store.Import{AccountID: f.acct.ID, Source: store.SourceKafka, FileName: status + ".csv", FilePath: "/nonexistent/" + status + ".csv",
		FileSize: 42, FileSHA256: strings.Repeat("0", 64)}
	owner := ""
	if status == store.StatusFailed {
		owner = "test"
	}
	im, err := store.CreateImport(ctx, f.pool, rec, owner, time.Minute)
	if err == nil && status == store.StatusFailed {
		err = store.FinishImport(ctx, f.pool, im.ID, owner, store.StatusFailed, "the file is not a spreadsheet")
	} else if err == nil {
		_, err = store.CancelImport(ctx, f.pool, f.acct.ID, im.ID)
	}
	if err != nil {
		t.Fatal(err)
	}
	return im.ID
}

// drain delivers everything pending to the sink.
func (f *fixture) drain(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	for {
		if _, err := f.relay.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		rows, events, err := store.UndeliveredCount(ctx, f.pool, f.sink.Name())
		if err != nil {
			t.Fatal(err)
		}
		if rows == 0 && events == 0 {
			return
		}
	}
}

// pgRows returns an import's row outcomes as Postgres holds them, one line each:
// "row outcome reason prospect_id warning_kinds".
func pgRows(t *testing.T, pool *pgxpool.Pool, importID int64) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT format('%s %s %s %s %s', row_number, outcome, coalesce(reason, ''),
			coalesce(entity_id, 0), coalesce((SELECT string_agg(DISTINCT w->>'kind', ',' ORDER BY w->>'kind')
				FROM jsonb_array_elements(warnings) w), ''))
		FROM import_rows WHERE import_id = $1 ORDER BY row_number`, importID)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

// chRows returns an import's row outcomes as ClickHouse holds them, de-duplicated, in the
// lines of pgRows, with the account, source, file name and time each row carries.
func chRows(t *testing.T, ch driver.Conn, importID int64) (lines, carried []string) {
	t.Helper()
	rows, err := ch.Query(context.Background(), `SELECT row_number, outcome, reason, prospect_id, warnings, account, source,
			file_name, at
		FROM row_outcomes FINAL WHERE import_id = @id ORDER BY row_number`, clickhouse.Named("id", uint64(importID)))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	for rows.Next() {
		var row uint32
		var prospect uint64
		var outcome, reason, warnings, account, source, file string
		var at time.Time
		if err := rows.Scan(&row, &outcome, &reason, &prospect, &warnings, &account, &source, &file, &at); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, fmt.Sprintf("%d %s %s %d %s", row, outcome, reason, prospect, warnings))
		seen[fmt.Sprintf("%s %s %s %s", account, source, file, at.UTC().Format(time.DateTime))] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return lines, slices.Sorted(maps.Keys(seen))
}

// summaries returns how many de-duplicated summaries ClickHouse holds for an import.
func summaries(t *testing.T, ch driver.Conn, importID int64) uint64 {
	t.Helper()
	var n uint64
	if err := ch.QueryRow(context.Background(), "SELECT count() FROM import_summaries FINAL WHERE import_id = @id",
		clickhouse.Named("id", uint64(importID))).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSinkWritesWhatPostgresCommitted(t *testing.T) {
	f, ch := newFixture(t)
	ctx := context.Background()
	id := f.importFile(t, "people.csv", peopleCSV)
	f.drain(t)

	want := pgRows(t, f.pool, id)
	got, seen := chRows(t, ch, id)
	if !slices.Equal(got, want) {
		t.Errorf("row outcomes in ClickHouse:\n%s\nin Postgres:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	im, err := store.GetImport(ctx, f.pool, f.acct.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	if wantSeen := fmt.Sprintf("%s cli people.csv %s", f.acct.Name, im.StartedAt.UTC().Format(time.DateTime)); !slices.Equal(seen, []string{wantSeen}) {
		t.Errorf("rows carry %q, want %q", seen, wantSeen)
	}
	if n := summaries(t, ch, id); n != 1 {
		t.Fatalf("%d summaries of import %d, want 1", n, id)
	}

	var s struct {
		Account, Kind, Source, FileName, FileSHA256, Status, Error, Options string
		FileSize                                                            uint64
		OverLimit                                                           uint8
		RowsTotal, RowsDone, Created, Updated, Unchanged, Skipped           uint32
		OrgsCreated, OrgsLinked                                             uint32
		CreatedAt, StartedAt, FinishedAt                                    time.Time
		QueuedMS, RunMS, RowsPerSecond                                      uint64
	}
	err = ch.QueryRow(ctx, `SELECT account, kind, source, file_name, file_sha256, status, error, options, file_size,
			over_limit_warning, rows_total, rows_done, created, updated, unchanged, skipped, organizations_created,
			organizations_linked, created_at, started_at, finished_at, queued_ms, run_ms, rows_per_second
		FROM import_summaries FINAL WHERE import_id = @id`, clickhouse.Named("id", uint64(id))).
		Scan(&s.Account, &s.Kind, &s.Source, &s.FileName, &s.FileSHA256, &s.Status, &s.Error, &s.Options, &s.FileSize,
			&s.OverLimit, &s.RowsTotal, &s.RowsDone, &s.Created, &s.Updated, &s.Unchanged, &s.Skipped, &s.OrgsCreated,
			&s.OrgsLinked, &s.CreatedAt, &s.StartedAt, &s.FinishedAt, &s.QueuedMS, &s.RunMS, &s.RowsPerSecond)
	if err != nil {
		t.Fatal(err)
	}
	c := im.Counts
	got = []string{s.Account, s.Kind, s.Source, s.FileName, s.FileSHA256, s.Status, s.Error, s.Options,
		fmt.Sprint(s.FileSize, s.OverLimit, s.RowsTotal, s.RowsDone, s.Created, s.Updated, s.Unchanged, s.Skipped, s.OrgsCreated, s.OrgsLinked),
		seconds(s.CreatedAt), seconds(s.StartedAt), seconds(s.FinishedAt)}
	want = []string{f.acct.Name, im.Kind, im.Source, im.FileName, im.FileSHA256, im.Status, im.Error, string(im.Options),
		fmt.Sprint(im.FileSize, 0, im.RowsTotal, c.Rows, c.Created, c.Updated, c.Unchanged, c.Skipped, c.Counters["organizations_created"], c.Counters["organizations_linked"]),
		seconds(im.CreatedAt), seconds(*im.StartedAt), seconds(*im.FinishedAt)}
	if !slices.Equal(got, want) {
		t.Errorf("summary in ClickHouse:\n%q\nin Postgres:\n%q", got, want)
	}
	if c.Rows != 7 || c.Created != 3 || c.Updated != 1 || c.Unchanged != 1 || c.Skipped != 2 {
		t.Errorf("the import's counts are %+v; the file was meant to give 3 created, 1 updated, 1 unchanged, 2 skipped", c)
	}
	if run := im.FinishedAt.Sub(*im.StartedAt).Milliseconds(); int64(s.RunMS) != run {
		t.Errorf("run_ms %d, want %d", s.RunMS, run)
	}

	rows, err := ch.Query(ctx, "SELECT kind, name, count FROM import_counts FINAL WHERE import_id = @id", clickhouse.Named("id", uint64(id)))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	counts := map[string]map[string]int{"skip_reason": {}, "warning": {}}
	for rows.Next() {
		var kind, name string
		var n uint64
		if err := rows.Scan(&kind, &name, &n); err != nil {
			t.Fatal(err)
		}
		counts[kind][name] = int(n)
	}
	if !maps.Equal(counts["skip_reason"], c.SkippedByReason) || !maps.Equal(counts["warning"], c.WarningsByKind) {
		t.Errorf("counts in ClickHouse %v, in Postgres skipped %v and warnings %v", counts, c.SkippedByReason, c.WarningsByKind)
	}
}

// seconds writes a time to the second, as ClickHouse's DateTime keeps it.
func seconds(t time.Time) string { return t.UTC().Truncate(time.Second).Format(time.DateTime) }

// dashboardResults runs every dashboards query for one account.
func dashboardResults(t *testing.T, ch driver.Conn, account string) map[string]*chsink.Table {
	t.Helper()
	out := map[string]*chsink.Table{}
	for _, q := range dashboards.Queries() {
		res, err := chsink.Query(context.Background(), ch, q.SQL, chsink.Params{Account: account, Since: time.Now().Add(-24 * time.Hour)})
		if err != nil {
			t.Fatalf("dashboards/%s.sql: %v", q.Name, err)
		}
		out[q.Name] = res
	}
	return out
}

func TestDashboardsQueriesAndReplay(t *testing.T) {
	f, ch := newFixture(t)
	ctx := context.Background()
	ids := []int64{f.importFile(t, "people.csv", peopleCSV), f.endedImport(t, store.StatusFailed), f.endedImport(t, store.StatusCancelled)}
	// An undone import and its undo, for the undos query.
	undo, undone := sinkstest.OrganizationsUndo(t, f.pool, f.acct, sinkstest.Organizations(t, f.pool, f.acct))
	ids = append(ids, undone.ID, undo.ID)
	f.drain(t)
	before := dashboardResults(t, ch, f.acct.Name)
	if len(before) < 5 {
		t.Fatalf("%d dashboards queries, want at least 5", len(before))
	}
	for name, res := range before {
		if len(res.Rows) == 0 {
			t.Errorf("dashboards/%s.sql returned no rows after an import", name)
		}
	}

	// Replay: deliver the three imports again, with merges stopped so that the copies stay
	// apart until the queries read them.
	db := analyticstest.Database(t, chDatabase)
	for _, table := range []string{"row_outcomes", "import_summaries", "import_counts"} {
		if err := ch.Exec(ctx, "SYSTEM STOP MERGES "+db+"."+table); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ch.Exec(context.Background(), "SYSTEM START MERGES "+db+"."+table) }) //nolint:errcheck
	}
	raw := func() (n uint64) {
		t.Helper()
		if err := ch.QueryRow(ctx, "SELECT count() FROM row_outcomes WHERE import_id = @id", clickhouse.Named("id", uint64(ids[0]))).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	once := raw()
	if _, err := f.pool.Exec(ctx, "DELETE FROM sink_cursors WHERE sink = $1 AND import_id = ANY($2)", f.sink.Name(), ids); err != nil {
		t.Fatal(err)
	}
	f.drain(t)
	if twice := raw(); twice != 2*once {
		t.Fatalf("after the replay ClickHouse stores %d row outcomes of import %d, want %d: the replay did not write them again", twice, ids[0], 2*once)
	}
	after := dashboardResults(t, ch, f.acct.Name)
	for name, res := range after {
		if !reflect.DeepEqual(res, before[name]) {
			t.Errorf("dashboards/%s.sql after a replay:\n%v\nbefore:\n%v", name, res, before[name])
		}
	}
	for _, id := range ids {
		if n := summaries(t, ch, id); n != 1 {
			t.Errorf("%d summaries of import %d after a replay, want 1", n, id)
		}
	}
}

func TestMigrateTwiceAppliesNothing(t *testing.T) {
	db := analyticstest.Database(t, chDatabase)
	applied, err := chsink.Migrate(context.Background(), analyticstest.Addr(), db)
	if err != nil || len(applied) != 0 {
		t.Fatalf("migrating a migrated database applied %v, %v; want nothing", applied, err)
	}
	if _, err := chsink.Migrate(context.Background(), analyticstest.Addr(), "no-such;name"); err == nil {
		t.Fatal("a database name that is no identifier was taken")
	}
}

// TestClickHouseCrash kills ClickHouse while an import commits and keeps it down for another:
// both complete, and once ClickHouse is back every row outcome and summary is there exactly
// once.
func TestClickHouseCrash(t *testing.T) {
	pool := storetest.Pool(t)
	srv := analyticstest.StartServer(t)
	const db = "leadpipe_crash"
	f := fixtureOn(t, pool, srv.Addr(), db)
	ctx := context.Background()
	if err := f.sink.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	relayDone := make(chan struct{})
	go func() { f.relay.Run(runCtx); close(relayDone) }()
	defer func() { stop(); <-relayDone }()

	var big strings.Builder
	big.WriteString("Email,First Name,Last Name\n")
	for i := range 120 {
		fmt.Fprintf(&big, "p%d@crash.example,P%d,Crash\n", i, i)
		if i%10 == 0 {
			big.WriteString("broken-email,X,Y\n")
		}
	}
	ids := []int64{f.importFile(t, "before.csv", peopleCSV)}
	waitFor(t, "the first import's summary", func() bool { return chCount(srv.Addr(), db, ids[0]) == 1 })

	path := writeFile(t, "during.csv", big.String())
	type result struct {
		id  int64
		err error
	}
	during := make(chan result)
	go func() { id, err := f.run(path); during <- result{id, err} }()
	srv.Kill(t)
	r := <-during
	if r.err != nil {
		t.Fatal(r.err)
	}
	ids = append(ids, r.id, f.importFile(t, "after.csv", peopleCSV))
	if rows, events, err := store.UndeliveredCount(ctx, pool, f.sink.Name()); err != nil || rows+events == 0 {
		t.Fatalf("backlog while ClickHouse is down: %d rows, %d events, %v; want some", rows, events, err)
	}

	srv.Start(t)
	waitFor(t, "the backlog to drain", func() bool {
		rows, events, err := store.UndeliveredCount(ctx, pool, f.sink.Name())
		return err == nil && rows == 0 && events == 0
	})
	ch := analyticstest.Conn(t, srv.Addr(), db)
	total := 0
	for _, id := range ids {
		want := pgRows(t, pool, id)
		total += len(want)
		if got, _ := chRows(t, ch, id); !slices.Equal(got, want) {
			t.Errorf("import %d: %d row outcomes in ClickHouse, %d in Postgres, or they differ", id, len(got), len(want))
		}
		if n := summaries(t, ch, id); n != 1 {
			t.Errorf("%d summaries of import %d, want 1", n, id)
		}
	}
	res := dashboardResults(t, ch, f.acct.Name)["outcomes_by_day"]
	sum := 0
	for _, row := range res.Rows {
		n, _ := strconv.Atoi(row[slices.Index(res.Columns, "total_rows")])
		sum += n
	}
	if sum != total {
		t.Errorf("outcomes_by_day counts %d rows (%v), want %d", sum, res.Rows, total)
	}
}

// chCount returns how many de-duplicated summaries of an import the server at addr holds, or
// -1 when it cannot be asked.
func chCount(addr, db string, importID int64) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := chsink.Open(ctx, addr, db)
	if err != nil {
		return -1
	}
	defer conn.Close()
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM import_summaries FINAL WHERE import_id = @id",
		clickhouse.Named("id", uint64(importID))).Scan(&n); err != nil {
		return -1
	}
	return int(n)
}

// waitFor polls cond until it holds, failing the test after two minutes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
