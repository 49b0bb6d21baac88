package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// The pair step (-pair OTHER) times the -leadpipe binary (A) against another build of
// leadpipe (B, the code before a change, say) on the bench file: -pair-rounds rounds, each
// importing the file with the bench's rules into a new database and then its retitled copy
// into the same account, once with each binary. The order alternates from round to round
// (A B, B A, …) so that neither always runs second, on a machine warmed or disturbed by the
// other; an even number of rounds gives each the first place as often. It prints each
// import's wall time, leadpipe's CPU and the Postgres server's, and the medians of the rounds'
// ratios A/B with their range: the before-and-after figures a change on the hot path states.
// A machine that slows down for a while slows both runs of a round, which a ratio of the two
// cancels and a single time does not; what it cannot cancel shows in the range (and in a run
// with the same code on both sides, docs/architecture.md). It has no goals; it fails when an
// import does, or when its counts are not what the file holds.

// pairRun is one binary's fresh import and re-import of one round.
type pairRun struct {
	fresh, again importRun
}

// pairFigure is one figure of an import run, which the step prints the ratios of.
type pairFigure struct {
	name string
	of   func(importRun) time.Duration
}

// pairFigures are the figures the step compares.
var pairFigures = []pairFigure{
	{"wall", func(r importRun) time.Duration { return r.wall }},
	{"leadpipe CPU", func(r importRun) time.Duration { return r.cpu }},
	{"Postgres CPU", func(r importRun) time.Duration { return r.pgCPU }},
}

// pairSteps are the two imports of a pair run.
var pairSteps = []struct {
	name string
	of   func(pairRun) importRun
}{
	{"fresh", func(r pairRun) importRun { return r.fresh }},
	{"re-import", func(r pairRun) importRun { return r.again }},
}

// benchPair runs the pair step with binaries a and b (rounds at least 1), writing its report to
// w, and returns the exit status.
func benchPair(ctx context.Context, w io.Writer, a, b, benchURL, path string, gen GenStats, rounds int) int {
	if err := warmCache(path); err != nil {
		return fail(err)
	}
	retitled, err := ensureRetitled(path)
	if err != nil {
		return fail(err)
	}
	if err := warmCache(retitled); err != nil {
		return fail(err)
	}
	fmt.Fprintf(w, "pair        A = %s, B = %s; %d round(s), each a new database: the file, then its retitled copy into the same account, with the bench's rules\n", a, b, rounds)
	bins := map[string]string{"A": a, "B": b}
	runs := map[string][]pairRun{}
	for round := range rounds {
		order := []string{"A", "B"}
		if round%2 == 1 {
			order = []string{"B", "A"}
		}
		for _, name := range order {
			run, err := pairImports(ctx, bins[name], benchURL, path, retitled, gen)
			if err != nil {
				return fail(fmt.Errorf("round %d, %s (%s): %w", round+1, name, bins[name], err))
			}
			runs[name] = append(runs[name], run)
			fmt.Fprintf(w, "round %d %s   fresh %6.2f s (CPU leadpipe %4.1f s, Postgres %4.1f s); re-import %6.2f s (CPU leadpipe %4.1f s, Postgres %4.1f s); load average %s\n",
				round+1, name, run.fresh.wall.Seconds(), run.fresh.cpu.Seconds(), run.fresh.pgCPU.Seconds(),
				run.again.wall.Seconds(), run.again.cpu.Seconds(), run.again.pgCPU.Seconds(), loadAverage())
		}
	}
	fmt.Fprintf(w, "A / B       median of the %d rounds' ratios (lowest – highest)\n", rounds)
	for _, line := range pairRatios(runs["A"], runs["B"]) {
		fmt.Fprintln(w, "           ", line)
	}
	return 0
}

// pairRatios are the report's lines of ratios, one per step: for each figure, the median of the
// rounds' ratios a[k]/b[k] and their range, over the rounds where both were measured (CPU time
// comes in ticks, which a small import may not fill).
func pairRatios(a, b []pairRun) []string {
	var lines []string
	for _, step := range pairSteps {
		var figures []string
		for _, f := range pairFigures {
			var ratios []float64
			for k := range a {
				if x, y := f.of(step.of(a[k])), f.of(step.of(b[k])); x > 0 && y > 0 {
					ratios = append(ratios, x.Seconds()/y.Seconds())
				}
			}
			if len(ratios) == 0 {
				figures = append(figures, f.name+" too small to measure")
				continue
			}
			figures = append(figures, fmt.Sprintf("%s %.3fx (%.3f – %.3f)", f.name, medianOf(ratios), slices.Min(ratios), slices.Max(ratios)))
		}
		lines = append(lines, fmt.Sprintf("%-9s %s", step.name, strings.Join(figures, ", ")))
	}
	return lines
}

// pairImports imports the file and then the retitled copy with bin into a new database, with
// the bench's rules, letting the database settle after each (settle), checks both imports'
// counts and drops the database.
func pairImports(ctx context.Context, bin, benchURL, path, retitled string, gen GenStats) (run pairRun, err error) {
	dbURL, _, drop, err := freshDatabase(ctx, benchURL, "_pair")
	if err != nil {
		return run, err
	}
	defer func() {
		if dropErr := drop(); err == nil {
			err = dropErr
		}
	}()
	env := append(os.Environ(), "LEADPIPE_POSTGRES_URL="+dbURL)
	if _, err := runQuiet(ctx, env, bin, "migrate"); err != nil {
		return run, err
	}
	const account = "pair"
	rules, err := setUpRules(ctx, env, bin, account)
	if err != nil {
		return run, err
	}
	defer rules.remove()
	for _, step := range []struct {
		path string
		run  *importRun
	}{{path, &run.fresh}, {retitled, &run.again}} {
		if *step.run, err = runImport(ctx, env, bin, step.path, account, rules.args()...); err != nil {
			return run, err
		}
		if step.run.settled, err = settle(ctx, dbURL); err != nil {
			return run, err
		}
	}
	// The report keeps to one line an import; the error names what differs.
	if bad := append(checkCounts(io.Discard, run.fresh.res, gen), checkReimport(io.Discard, run.again.res, gen)...); len(bad) > 0 {
		return run, fmt.Errorf("the imports' counts differ from the file's: %s", strings.Join(bad, ", "))
	}
	return run, nil
}
