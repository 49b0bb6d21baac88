package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/leadpipe/leadpipe/dashboards"
	"github.com/leadpipe/leadpipe/internal/syncbuf"
	"github.com/leadpipe/leadpipe/pipeline"
	chsink "github.com/leadpipe/leadpipe/sinks/clickhouse"
	"github.com/leadpipe/leadpipe/sinks/clickhouse/analyticstest"
	"github.com/leadpipe/leadpipe/store"
)

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

const analyticsCSV = "Email,First Name\nada@analytics.example,Ada\nnot-an-email,Bob\ncy@analytics.example,Cy\n"

// TestAnalyticsCommand imports a file, delivers its analytics to ClickHouse and reads them back
// with `leadpipe analytics`.
func TestAnalyticsCommand(t *testing.T) {
	pool := cliEnv(t)
	db := analyticstest.Database(t, "leadpipe_test_cmd")
	t.Setenv("LEADPIPE_CLICKHOUSE_ADDR", analyticstest.Addr())
	t.Setenv("LEADPIPE_CLICKHOUSE_DATABASE", db)
	if out := mustCLI(t, "migrate"); !strings.Contains(out, "clickhouse schema is up to date") {
		t.Errorf("leadpipe migrate said %q, want it to say the clickhouse schema is up to date", out)
	}
	account := uniqueName(t)
	mustCLI(t, "account", "create", account)
	mustCLI(t, "import", writeTestFile(t, "people.csv", []byte(analyticsCSV)), "--account", account)
	sink := &chsink.Sink{Addr: analyticstest.Addr(), Database: db, Querier: pool}
	defer sink.Close()
	relay := &pipeline.Relay{Querier: pool, Sink: sink, Poll: time.Millisecond, BatchRows: 1000, Log: quietLog}
	for {
		if _, err := relay.Drain(context.Background()); err != nil {
			t.Fatal(err)
		}
		if rows, events, err := store.UndeliveredCount(context.Background(), pool, sink.Name()); err != nil || rows+events == 0 {
			break
		}
	}

	out := mustCLI(t, "analytics", "outcomes_by_day", "--account", account, "--since", "2d")
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("leadpipe analytics outcomes_by_day printed %q, want a header and one row", out)
	}
	header, row := strings.Fields(lines[0]), strings.Fields(lines[1])
	want := []string{"day", "account", "kind", "total_rows", "created_rows", "updated_rows", "unchanged_rows", "skipped_rows"}
	if strings.Join(header, " ") != strings.Join(want, " ") {
		t.Errorf("header %q, want %q", header, want)
	}
	if len(row) != len(want) || row[1] != account || row[2] != "prospects" || row[3] != "3" || row[4] != "2" || row[7] != "1" {
		t.Errorf("row %q, want the account's 3 rows of prospects: 2 created, 1 skipped", row)
	}
	// Columns are aligned: each starts where its header does.
	for _, name := range want[1:] {
		at := strings.Index(lines[0], " "+name) + 1
		if at == 0 || lines[1][at-1] != ' ' || lines[1][at] == ' ' {
			t.Errorf("column %s is not aligned:\n%s", name, out)
		}
	}

	// An account name is a parameter, never SQL.
	out = mustCLI(t, "analytics", "skip_reasons", "--account", account+"' OR '1'='1")
	if strings.TrimSpace(out) != "day  account  kind  reason  skipped_rows\n(no rows)" {
		t.Errorf("a quote in --account changed the query:\n%s", out)
	}

	out = mustCLI(t, "analytics")
	for _, q := range dashboards.Queries() {
		if !strings.Contains(out, q.Name+" ") || !strings.Contains(out, q.Title) {
			t.Errorf("leadpipe analytics does not list %s:\n%s", q.Name, out)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"analytics", "no_such_query"}, "skip_reasons"},
		{[]string{"analytics", "skip_reasons", "--since", "last week"}, "--since"},
	} {
		if _, _, err := cli(t, c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("leadpipe %s: %v, want an error naming %s", strings.Join(c.args, " "), err, c.want)
		}
	}
	t.Setenv("LEADPIPE_CLICKHOUSE_ADDR", "")
	if _, _, err := cli(t, "analytics", "skip_reasons"); err == nil || !strings.Contains(err.Error(), "LEADPIPE_CLICKHOUSE_ADDR") {
		t.Errorf("leadpipe analytics with analytics off: %v, want an error naming LEADPIPE_CLICKHOUSE_ADDR", err)
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2024, 5, 10, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"30d":                  now.AddDate(0, 0, -30),
		"12h":                  now.Add(-12 * time.Hour),
		"2024-05-01":           time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC),
		"2024-05-01T08:00:00Z": time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC),
	} {
		if got, err := parseSince(in, now); err != nil || !got.Equal(want) {
			t.Errorf("parseSince(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "yesterday", "-3d", "-1h", "5/1/2024"} {
		if _, err := parseSince(in, now); err == nil {
			t.Errorf("parseSince(%q) took it", in)
		}
	}
}

// TestServeWithClickHouseDown starts the daemon while ClickHouse is down: it serves and
// imports all the same, and the import's analytics arrive once ClickHouse is up.
func TestServeWithClickHouseDown(t *testing.T) {
	pool := cliEnv(t)
	srv := analyticstest.StartServer(t)
	srv.Kill(t)
	const db = "leadpipe_serve"
	t.Setenv("LEADPIPE_CLICKHOUSE_ADDR", srv.Addr())
	t.Setenv("LEADPIPE_CLICKHOUSE_DATABASE", db)
	t.Setenv("LEADPIPE_HTTP_ADDR", unusedAddr(t))
	t.Setenv("LEADPIPE_POLL_INTERVAL", "50ms")
	account := uniqueName(t)
	mustCLI(t, "account", "create", account)

	errOut := serveInBackground(t)
	queued := oneJSON(t, mustCLI(t, "import", writeTestFile(t, "people.csv", []byte(analyticsCSV)), "--account", account, "--queue"))
	id, err := queued["import_id"].(json.Number).Int64()
	if err != nil {
		t.Fatalf("leadpipe import --queue: %v: %v", queued, err)
	}
	waitUntil(t, errOut, "the import to complete", func() bool {
		var status string
		err := pool.QueryRow(context.Background(), "SELECT status FROM imports WHERE id = $1", id).Scan(&status)
		return err == nil && status == store.StatusCompleted
	})
	if !strings.Contains(errOut.String(), "clickhouse not reachable") {
		t.Errorf("the daemon did not say that ClickHouse is not reachable:\n%s", errOut.String())
	}

	srv.Start(t)
	waitUntil(t, errOut, "the import's analytics", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := chsink.Open(ctx, srv.Addr(), db)
		if err != nil {
			return false
		}
		defer conn.Close()
		var rows, summaries uint64
		err = conn.QueryRow(ctx, `SELECT (SELECT count() FROM row_outcomes FINAL WHERE account = @account),
			(SELECT count() FROM import_summaries FINAL WHERE account = @account)`, clickhouse.Named("account", account)).
			Scan(&rows, &summaries)
		return err == nil && rows == 3 && summaries == 1
	})
}

// waitUntil polls cond until it holds, failing the test, with the daemon's log, after a
// minute.
func waitUntil(t *testing.T, log *syncbuf.Buffer, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s; daemon log:\n%s", what, log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
