package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/leadpipe/leadpipe/internal/thousands"
)

// benchBig is the -big mode behind `make bench-big`, issue 15's "memory is flat": it imports
// the file of -base-rows rows and the file of -rows rows (1M and 10M under make bench-big),
// each with every rule on (rules.go) into a fresh account of a database of its own, checks both
// imports' counts and rules, and holds the larger import's peak RSS to -max-rss-mb and to
// -max-rss-growth times the smaller one's, measured in the same run. Each import has a
// database of its own so that neither is planned with the other's statistics, and both
// databases (several GB at 10M rows) are dropped at the end unless -keep.
func benchBig(ctx context.Context, bin string, o options, bigPath string, bigGen GenStats) int {
	if o.baseRows >= o.rows {
		return fail(fmt.Errorf("-base-rows (%d) must be fewer than -rows (%d)", o.baseRows, o.rows))
	}
	t0 := time.Now()
	basePath, baseGen, reused, err := ensureFile(o.dir, o.baseRows, o.seed)
	if err != nil {
		return fail(err)
	}
	fmt.Printf("base file   %s: %s data rows, %s, %s\n", basePath, thousands.Format(int64(baseGen.Rows)), sizeMB(baseGen.Bytes), genNote(reused, time.Since(t0)))

	type sized struct {
		path  string
		gen   GenStats
		label string
		rssMB float64
	}
	base := sized{path: basePath, gen: baseGen, label: sizeLabel(o.baseRows)}
	big := sized{path: bigPath, gen: bigGen, label: sizeLabel(o.rows)}
	var mismatches []string
	for _, s := range []*sized{&base, &big} {
		dbURL, _, drop, err := freshDatabase(ctx, o.postgresURL, "_rss_"+strings.NewReplacer(".", "_").Replace(strings.ToLower(s.label)))
		if drop != nil && !o.keep {
			defer drop() //nolint:errcheck // a leftover database is dropped by the next run
		}
		if err != nil {
			return fail(err)
		}
		env := append(os.Environ(), "LEADPIPE_POSTGRES_URL="+dbURL) // the last value wins
		if _, err := runQuiet(ctx, env, bin, "migrate"); err != nil {
			return fail(err)
		}
		account := "bench-" + strings.ToLower(s.label)
		rules, err := setUpRules(ctx, env, bin, account)
		if err != nil {
			return fail(err)
		}
		defer rules.remove()
		if s == &base {
			fmt.Printf("rules       %s\n", rules)
		}
		run, err := runImport(ctx, env, bin, s.path, account, rules.args()...)
		if err != nil {
			return fail(err)
		}
		s.rssMB = float64(run.rssKiB) / 1024
		res := run.res
		fmt.Printf("\nimport %s   %.2f s wall, %s rows/s; CPU: leadpipe %.1f s, Postgres %.1f s; peak RSS %.1f MB\n",
			s.label, run.wall.Seconds(), thousands.Format(int64(float64(s.gen.Rows)/run.wall.Seconds())),
			run.cpu.Seconds(), run.pgCPU.Seconds(), s.rssMB)
		fmt.Printf("            rows %s: created %s, updated %s, unchanged %s, skipped %s %s\n",
			thousands.Format(res.Rows), thousands.Format(res.Created), thousands.Format(res.Updated), thousands.Format(res.Unchanged),
			thousands.Format(res.Skipped), reasons(res.SkippedByReason))
		bad, err := rules.check(ctx, dbURL, account, res)
		if err != nil {
			return fail(fmt.Errorf("checking the rules: %w", err))
		}
		mismatches = append(mismatches, bad...)
		mismatches = append(mismatches, checkCounts(os.Stdout, res, s.gen)...)
	}

	var g goals
	for _, s := range []sized{base, big} {
		g.add("peak RSS "+s.label, s.rssMB <= o.maxRSSMB, fmt.Sprintf("%.1f MB", s.rssMB), fmt.Sprintf("<= %.0f MB", o.maxRSSMB))
	}
	g.ratio("peak RSS "+big.label+" / "+base.label, big.rssMB, base.rssMB, o.maxRSSGrowth)
	status := 0
	if len(mismatches) > 0 {
		fmt.Printf("counts      ERROR: %d count(s) differ from what the files hold or the rules ask (see above)\n", len(mismatches))
		status = 1
	} else {
		fmt.Println("counts      all as expected")
	}
	return max(status, g.report())
}

// sizeLabel names a row count the way the goals do: "1M", "10M", "2.5M", "50k".
func sizeLabel(rows int) string {
	if rows >= 1_000_000 {
		return strconv.FormatFloat(float64(rows)/1e6, 'f', -1, 64) + "M"
	}
	if rows >= 1000 {
		return strconv.FormatFloat(float64(rows)/1e3, 'f', -1, 64) + "k"
	}
	return strconv.Itoa(rows)
}
