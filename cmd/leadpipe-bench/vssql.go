package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/leadpipe/leadpipe/internal/thousands"
)

// The goals of the import step and of the serve step (serve.go) against the SQL a DBA would
// write (sql.go, issue 15) are medians of -sql-rounds rounds. The import step's first round is
// its own imports into the bench database, then the SQL's; each further round imports the file
// and its retitled copy again with both, each into a new database. Each round of the serve step
// starts a daemon with databases of its own and uploads both files to it. The SQL runs first in
// even rounds (round 2, 4, …), so that neither always runs second on a machine the other warmed
// or disturbed. After each import, of either, its database settles (settle, untimed): the
// vacuum and analyze autovacuum would run for what it wrote would otherwise land, when
// autovacuum's launcher next visited, inside whichever import ran next, of either. A goal is
// the median of the rounds' ratios, printed with each round's and their range: one pair of
// runs on the bench's machines moves by a fifth and more from minute to minute
// (docs/architecture.md, "Before and after, side by side"), which a ratio within a round mostly
// cancels and a single pair does not.

// sqlPair is the SQL baseline's fresh import and re-import of one round.
type sqlPair struct {
	fresh, again sqlRun
}

// vsSQLRound is one round: leadpipe's two imports and the SQL's.
type vsSQLRound struct {
	leadpipe pairRun
	sql      sqlPair
}

// vsSQLStep is one of the two imports a round compares: its name, and where a round's
// leadpipe and SQL runs of it are.
type vsSQLStep struct {
	name     string
	leadpipe func(pairRun) importRun
	sql      func(sqlPair) sqlRun
}

// vsSQLSteps are the fresh import and the re-import, in the order they run.
var vsSQLSteps = []vsSQLStep{
	{"fresh", func(r pairRun) importRun { return r.fresh }, func(p sqlPair) sqlRun { return p.fresh }},
	{"re-import", func(r pairRun) importRun { return r.again }, func(p sqlPair) sqlRun { return p.again }},
}

// runSQLPair imports the file and then its retitled copy with the SQL into a new database, made
// and migrated by bin, and drops it.
func runSQLPair(ctx context.Context, bin, benchURL, path, retitled string) (p sqlPair, err error) {
	run, drop, err := sqlBaseline(ctx, bin, benchURL)
	defer func() {
		if dropErr := drop(); err == nil {
			err = dropErr
		}
	}()
	if err != nil {
		return p, err
	}
	if p.fresh, err = run(path); err != nil {
		return p, err
	}
	p.again, err = run(retitled)
	return p, err
}

// vsSQLRounds prints the rounds already run (done, leadpipe first in each), then runs rounds
// until there are n, each with leadpipe's imports (leadpipe) and the SQL's (sql), printing a
// line per round to w, and returns all n rounds.
func vsSQLRounds(ctx context.Context, w io.Writer, done []vsSQLRound, n int, leadpipe func(context.Context) (pairRun, error), sql func(context.Context) (sqlPair, error)) ([]vsSQLRound, error) {
	rounds := slices.Clone(done)
	for k, r := range rounds {
		printVsSQLRound(w, k+1, r, "leadpipe first")
	}
	for k := len(rounds) + 1; k <= n; k++ {
		var (
			r   vsSQLRound
			err error
		)
		sqlFirst := k%2 == 0
		order := "leadpipe first"
		if sqlFirst {
			order = "the SQL first"
			r.sql, err = sql(ctx)
		}
		if err == nil {
			r.leadpipe, err = leadpipe(ctx)
		}
		if err == nil && !sqlFirst {
			r.sql, err = sql(ctx)
		}
		if err != nil {
			return rounds, fmt.Errorf("round %d: %w", k, err)
		}
		printVsSQLRound(w, k, r, order)
		rounds = append(rounds, r)
	}
	return rounds, nil
}

// printVsSQLRound prints a round's imports: wall and CPU times, and its ratios.
func printVsSQLRound(w io.Writer, k int, r vsSQLRound, order string) {
	var ratios []string
	for _, s := range vsSQLSteps {
		l, q := s.leadpipe(r.leadpipe), s.sql(r.sql)
		fmt.Fprintf(w, "round %d     %-9s leadpipe %6.2f s (CPU leadpipe %4.1f s, Postgres %4.1f s); SQL %6.2f s (CPU psql %.1f s, Postgres %4.1f s)\n",
			k, s.name, l.wall.Seconds(), l.cpu.Seconds(), l.pgCPU.Seconds(), q.wall.Seconds(), q.psqlCPU.Seconds(), q.pgCPU.Seconds())
		ratios = append(ratios, fmt.Sprintf("%s %.2fx", s.name, l.wall.Seconds()/q.wall.Seconds()))
	}
	fmt.Fprintf(w, "round %d     %s; leadpipe / SQL: %s; load average %s\n", k, order, strings.Join(ratios, ", "), loadAverage())
	fmt.Fprintf(w, "round %d     settled after each import, untimed (VACUUM (ANALYZE), then no autovacuum running): leadpipe %.1f s and %.1f s, SQL %.1f s and %.1f s\n",
		k, r.leadpipe.fresh.settled.Seconds(), r.leadpipe.again.settled.Seconds(), r.sql.fresh.settled.Seconds(), r.sql.again.settled.Seconds())
}

// sqlProspectsDiffer returns what differs between the prospects the SQL left after each step of
// each round and those leadpipe's account holds (want, by step name), or nil.
func sqlProspectsDiffer(rounds []vsSQLRound, want map[string]int64) []string {
	var bad []string
	for k, r := range rounds {
		for _, s := range vsSQLSteps {
			if got := s.sql(r.sql).prospects; got != want[s.name] {
				bad = append(bad, fmt.Sprintf("round %d, %s: the SQL left %s prospects, leadpipe %s",
					k+1, s.name, thousands.Format(got), thousands.Format(want[s.name])))
			}
		}
	}
	return bad
}

// vsSQLGoals prints, for each step, the median of the rounds' ratios of leadpipe's wall time
// over the SQL's with their range, and records it as the step's goal, met when at most max:
// named by what (before the step's name, "" for none) and the file's rows (rowsLabel).
func vsSQLGoals(w io.Writer, g *goals, what string, rows int, rounds []vsSQLRound, max float64) {
	for _, s := range vsSQLSteps {
		ratios := make([]float64, len(rounds))
		for k, r := range rounds {
			ratios[k] = s.leadpipe(r.leadpipe).wall.Seconds() / s.sql(r.sql).wall.Seconds()
		}
		median := medianOf(slices.Clone(ratios))
		fmt.Fprintf(w, "vs SQL      %-9s leadpipe / SQL, median of %d round(s): %s (%.2f – %.2f) (target <= %.2fx)\n",
			s.name, len(rounds), ratioFigure(median, max), slices.Min(ratios), slices.Max(ratios), max)
		g.add(what+s.name+" "+rowsLabel(rows)+" / SQL", median <= max, ratioFigure(median, max), fmt.Sprintf("<= %.2fx", max))
	}
}
