package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/store/storetest"
)

// TestVsSQLRoundsAlternate runs the import step's extra rounds over a small file with the real
// leadpipe and the real SQL: round 2 runs the SQL first and round 3 leadpipe first, each
// round's SQL leaves the prospects leadpipe's account holds, and no database is left behind.
func TestVsSQLRoundsAlternate(t *testing.T) {
	pool := storetest.Pool(t) // Postgres is there, or the test fails in CI
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin := buildLeadpipe(t)
	path, retitled, gen := smallFiles(t, 1500)
	benchURL := storetest.URL()
	own, err := pairImports(ctx, bin, benchURL, path, retitled, gen)
	if err != nil {
		t.Fatal(err)
	}
	first := vsSQLRound{leadpipe: own}
	if first.sql, err = runSQLPair(ctx, bin, benchURL, path, retitled); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rounds, err := vsSQLRounds(ctx, &out, []vsSQLRound{first}, 3,
		func(ctx context.Context) (pairRun, error) {
			return pairImports(ctx, bin, benchURL, path, retitled, gen)
		},
		func(ctx context.Context) (sqlPair, error) { return runSQLPair(ctx, bin, benchURL, path, retitled) })
	if err != nil {
		t.Fatalf("%v; report:\n%s", err, out.String())
	}
	report := out.String()
	var order []string
	for _, m := range regexp.MustCompile(`(?m)^round (\d)     (leadpipe first|the SQL first);`).FindAllStringSubmatch(report, -1) {
		order = append(order, m[1]+" "+m[2])
	}
	if got, want := strings.Join(order, ", "), "1 leadpipe first, 2 the SQL first, 3 leadpipe first"; got != want {
		t.Errorf("rounds %q, want %q; report:\n%s", got, want, report)
	}
	created := own.fresh.res.Created
	if len(rounds) != 3 {
		t.Fatalf("%d rounds, want 3", len(rounds))
	}
	if bad := sqlProspectsDiffer(rounds, map[string]int64{"fresh": created, "re-import": created + own.again.res.Created}); len(bad) > 0 || created == 0 {
		t.Errorf("the SQL's prospects: %v (leadpipe created %d)", bad, created)
	}
	if left := leftDatabases(t, pool, benchURL, "_pair", "_sql"); len(left) > 0 {
		t.Errorf("databases of the rounds left behind: %v", left)
	}
}

// TestVsSQLGoalsAreTheMediansOfTheRounds checks the goals on made-up rounds: each step's
// figure is the median of the rounds' ratios leadpipe/SQL, never SQL/leadpipe, met when at
// most the target, with the rounds' range printed, and named by the step and the file's rows.
func TestVsSQLGoalsAreTheMediansOfTheRounds(t *testing.T) {
	d := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	round := func(fresh, again, sqlFresh, sqlAgain float64) vsSQLRound {
		return vsSQLRound{
			leadpipe: pairRun{fresh: importRun{wall: d(fresh)}, again: importRun{wall: d(again)}},
			sql:      sqlPair{fresh: sqlRun{wall: d(sqlFresh)}, again: sqlRun{wall: d(sqlAgain)}},
		}
	}
	rounds := []vsSQLRound{round(12, 30, 10, 20), round(9, 24, 10, 20), round(10, 44, 10, 20)}
	var out bytes.Buffer
	var g goals
	vsSQLGoals(&out, &g, "serve ", 1_000_000, rounds, 1.0)
	want := "vs SQL      fresh     leadpipe / SQL, median of 3 round(s): 1.00x (0.90 – 1.20) (target <= 1.00x)\n" +
		"vs SQL      re-import leadpipe / SQL, median of 3 round(s): 1.50x (1.20 – 2.20) (target <= 1.00x)\n"
	if out.String() != want {
		t.Errorf("report:\n%s\nwant:\n%s", out.String(), want)
	}
	if len(g.list) != 2 || !g.list[0].met || g.list[0].figure != "1.00x" || g.list[1].met || g.list[1].figure != "1.50x" ||
		g.list[0].name != "serve fresh 1M / SQL" || g.list[1].name != "serve re-import 1M / SQL" {
		t.Errorf("goals %+v, want serve fresh 1M met at 1.00x and serve re-import 1M missed at 1.50x", g.list)
	}
}

// A ratio past its target never prints as the target: two decimals, or three where two would
// round it onto the target.
func TestRatioFigure(t *testing.T) {
	for _, tc := range []struct {
		r, max float64
		want   string
	}{
		{1.0016, 1, "1.002x"},
		{1.004, 1, "1.004x"},
		{1, 1, "1.00x"},
		{0.998, 1, "1.00x"},
		{1.2, 1, "1.20x"},
		{1.006, 1, "1.01x"},
	} {
		if got := ratioFigure(tc.r, tc.max); got != tc.want {
			t.Errorf("ratioFigure(%v, %v) = %q, want %q", tc.r, tc.max, got, tc.want)
		}
	}
}
