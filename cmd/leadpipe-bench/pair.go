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
// other. It prints each import's wall time, leadpipe's and Postgres's CPU, and the medians of
// the rounds' ratios A/B with their range: the before-and-after figures a change on the hot
// path states. A slower machine moves both runs of a round together, so a ratio of one round
// is steadier than either time. It has no goals; it fails when an import does, or when its
// counts are not what the file holds.

// pairRun is one binary's fresh import and re-import of one round.
type pairRun struct {
	fresh, again importRun
}

// pairFigure is one figure of an import run, which the step prints the ratios of.
type pairFigure struct {
	name string
	of   func(importRun) time.Duration
}

var pairFigures = []pairFigure{
	{"wall", func(r importRun) time.Duration { return r.wall }},
	{"leadpipe CPU", func(r importRun) time.Duration { return r.cpu }},
	{"Postgres CPU", func(r importRun) time.Duration { return r.pgCPU }},
}

// benchPair runs the pair step with binaries a and b, writing its report to w, and returns the
// exit status.
func benchPair(ctx context.Context, w io.Writer, a, b, benchURL, path string, gen GenStats, rounds int) int {
	if rounds < 1 {
		return fail(fmt.Errorf("-pair-rounds is %d, want at least 1", rounds))
	}
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
	for _, step := range []struct {
		name string
		of   func(pairRun) importRun
	}{
		{"fresh", func(r pairRun) importRun { return r.fresh }},
		{"re-import", func(r pairRun) importRun { return r.again }},
	} {
		var figures []string
		for _, f := range pairFigures {
			var ratios []float64 // of the rounds where B's figure was measured (CPU time comes in ticks)
			for k := range rounds {
				if b := f.of(step.of(runs["B"][k])); b > 0 {
					ratios = append(ratios, f.of(step.of(runs["A"][k])).Seconds()/b.Seconds())
				}
			}
			if len(ratios) == 0 {
				figures = append(figures, f.name+" too small to measure")
				continue
			}
			figures = append(figures, fmt.Sprintf("%s %.3fx (%.3f – %.3f)", f.name, medianOf(ratios), slices.Min(ratios), slices.Max(ratios)))
		}
		fmt.Fprintf(w, "            %-9s %s\n", step.name, strings.Join(figures, ", "))
	}
	return 0
}

// pairImports imports the file and then the retitled copy with bin into a new database, with
// the bench's rules, checks both imports' counts and drops the database.
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
	if run.fresh, err = runImport(ctx, env, bin, path, account, rules.args()...); err != nil {
		return run, err
	}
	if run.again, err = runImport(ctx, env, bin, retitled, account, rules.args()...); err != nil {
		return run, err
	}
	if bad := append(checkCounts(run.fresh.res, gen), checkReimport(run.again.res, gen)...); len(bad) > 0 {
		return run, fmt.Errorf("the imports' counts differ from the file's: %s", strings.Join(bad, ", "))
	}
	return run, nil
}
