package main

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	chsink "github.com/leadpipe/leadpipe/sinks/clickhouse"
	"github.com/leadpipe/leadpipe/sinks/clickhouse/analyticstest"
	"github.com/leadpipe/leadpipe/store/storetest"
)

// TestServeStepRunsRounds runs the serve step's rounds over a small file with the real daemon,
// broker, ClickHouse and SQL: each round starts a daemon with databases of its own (its imports
// are 1 and 2), both imports complete and both sinks deliver them, round 2 runs the SQL first,
// each round's SQL leaves the prospects the daemon's account holds, and no database of the
// rounds is left behind in Postgres or ClickHouse.
func TestServeStepRunsRounds(t *testing.T) {
	pool := storetest.Pool(t)                        // Postgres is there, or the test fails in CI
	analyticstest.Database(t, "leadpipe_test_bench") // and ClickHouse
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	bin := buildLeadpipe(t)
	path, retitled, gen := smallFiles(t, 1500)
	o := options{postgresURL: storetest.URL(), clickhouseAddr: analyticstest.Addr()}
	var out bytes.Buffer
	rounds, served, err := serveRounds(ctx, &out, 2, bin, o, path, retitled, gen)
	report := out.String()
	if err != nil {
		t.Fatalf("%v; report:\n%s", err, report)
	}
	var order []string
	for _, m := range regexp.MustCompile(`(?m)^round (\d)     (leadpipe first|the SQL first);`).FindAllStringSubmatch(report, -1) {
		order = append(order, m[1]+" "+m[2])
	}
	if got, want := strings.Join(order, ", "), "1 leadpipe first, 2 the SQL first"; got != want {
		t.Errorf("rounds %q, want %q; report:\n%s", got, want, report)
	}
	if len(rounds) != 2 || len(served) != 2 {
		t.Fatalf("%d rounds against the SQL and %d served, want 2 of each", len(rounds), len(served))
	}
	for k, r := range served {
		for i, run := range r.runs {
			if run.id != int64(i+1) || run.res.Status != "completed" || run.kafka.err != nil || run.analytics.err != nil {
				t.Errorf("round %d, import %d: id %d, %s; sink lags %v, %v; want import %d of a new database, completed and delivered",
					k+1, i+1, run.id, run.res.Status, run.kafka, run.analytics, i+1)
			}
		}
		if got := rounds[k].leadpipe; got.fresh.wall != r.runs[0].total || got.again.wall != r.runs[1].total {
			t.Errorf("round %d: compared with the SQL at %v and %v, want the times from the start of the uploads, %v and %v",
				k+1, got.fresh.wall, got.again.wall, r.runs[0].total, r.runs[1].total)
		}
		if r.peakMB <= 0 {
			t.Errorf("round %d: the daemon's peak RSS is %.1f MB", k+1, r.peakMB)
		}
	}
	created := served[0].runs[0].res.Created
	if bad := sqlProspectsDiffer(rounds, map[string]int64{"fresh": created, "re-import": created + served[0].runs[1].res.Created}); len(bad) > 0 || created == 0 {
		t.Errorf("the SQL's prospects: %v (leadpipe created %d)", bad, created)
	}
	conn, err := chsink.Open(ctx, o.clickhouseAddr, "default")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	serveDB := benchDatabase(t, o.postgresURL, "_serve")
	var leftCH uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM system.databases WHERE name = $1", serveDB).Scan(&leftCH); err != nil {
		t.Fatal(err)
	}
	if left := leftDatabases(t, pool, o.postgresURL, "_serve", "_sql"); len(left) > 0 || leftCH != 0 {
		t.Errorf("databases of the rounds left behind: %v in Postgres, %d in ClickHouse", left, leftCH)
	}
}

// TestWorstLagsOverRounds checks what the sink-lag goals hold to: each sink's longest lag after
// the same import over every round, a lag that never ended being the longest.
func TestWorstLagsOverRounds(t *testing.T) {
	lag := func(s float64) sinkLag { return sinkLag{afterFinished: time.Duration(s * float64(time.Second))} }
	never := sinkLag{err: errors.New("not delivered")}
	round := func(freshKafka, freshCH, againKafka, againCH sinkLag) serveRound {
		return serveRound{runs: [2]serveRun{{kafka: freshKafka, analytics: freshCH}, {kafka: againKafka, analytics: againCH}}}
	}
	rounds := []serveRound{round(lag(0.5), lag(1.9), lag(0.2), never), round(lag(2.5), lag(0.1), never, lag(0.4))}
	kafka, analytics := worstLags(rounds, 0)
	if kafka.figure() != "2.50 s" || kafka.met() || analytics.figure() != "1.90 s" || !analytics.met() {
		t.Errorf("fresh: Kafka %v, ClickHouse %v; want 2.50 s missed and 1.90 s met", kafka, analytics)
	}
	kafka, analytics = worstLags(rounds, 1)
	if kafka.err == nil || kafka.met() || analytics.err == nil || analytics.met() {
		t.Errorf("re-import: Kafka %v, ClickHouse %v; want, for each, the lag that never ended (round 2's, round 1's)", kafka, analytics)
	}
}
