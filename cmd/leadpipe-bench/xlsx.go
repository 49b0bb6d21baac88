package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/leadpipe/leadpipe/internal/thousands"
	"github.com/xuri/excelize/v2"
)

// xlsxRounds is how many times the XLSX loop and imports take turns; the fastest run of each
// counts. The machine's own noise moves single runs by 10% on two cores.
const xlsxRounds = 3

// leadpipeGCPercent and leadpipeMemoryLimit are the collector settings of cmd/leadpipe (gc.go).
const (
	leadpipeGCPercent   = 800
	leadpipeMemoryLimit = 192 << 20
)

// benchXLSX measures the import of an XLSX sheet holding the generated CSV's rows against a
// plain excelize Rows() loop over the same file, in the same run. It returns the exit status:
// 1 when the import with the sheet parsed in a child process, as `leadpipe serve` parses it,
// takes more than maxOverhead (a fraction) longer than the loop.
func benchXLSX(ctx context.Context, bin, postgresURL, csvPath string, maxOverhead float64) int {
	xlsxPath := strings.TrimSuffix(csvPath, ".csv") + ".xlsx"
	t0 := time.Now()
	rows, err := writeXLSX(csvPath, xlsxPath)
	if err != nil {
		return fail(err)
	}
	size, _ := fileSize(xlsxPath)
	fmt.Printf("file        %s: %s data rows, %s, written in %.2f s\n", xlsxPath, thousands.Format(int64(rows)), sizeMB(size), time.Since(t0).Seconds())

	env := append(os.Environ(), "LEADPIPE_POSTGRES_URL="+postgresURL)
	if _, err := runQuiet(ctx, env, bin, "migrate"); err != nil {
		return fail(err)
	}
	// The loop runs under the garbage-collector settings leadpipe gives itself, so that the
	// comparison measures the pipeline, not the settings. Three runs take turns, xlsxRounds
	// times: the loop, `leadpipe import` as it runs by default (parsing the sheet in its own
	// process) and `leadpipe import` parsing the sheet in a child process (as `leadpipe serve`
	// does by default), each import into a new account. Their order rotates from round to
	// round, so that none always follows an import's after-work in Postgres, and the fastest
	// run of each counts: all meet the same machine.
	d, err := settle(ctx, postgresURL)
	if err != nil {
		return fail(err)
	}
	fmt.Printf("settle      VACUUM (ANALYZE) of the bench database and no autovacuum running: %.1f s\n", d.Seconds())
	defer debug.SetGCPercent(debug.SetGCPercent(leadpipeGCPercent))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(leadpipeMemoryLimit))
	var loop time.Duration
	var n int
	var inline, child xlsxRun
	childEnv := append(slices.Clip(env), "LEADPIPE_SHEET_PARSER=process")
	runs := []func(round int) error{
		func(int) error {
			t0 := time.Now()
			if n, err = plainRowsLoop(xlsxPath); err != nil {
				return err
			}
			if d := time.Since(t0); loop == 0 || d < loop {
				loop = d
			}
			return nil
		},
		func(round int) error {
			return inline.importOnce(ctx, env, bin, xlsxPath, fmt.Sprintf("bench-xlsx-%d-%d", time.Now().Unix(), round))
		},
		func(round int) error {
			return child.importOnce(ctx, childEnv, bin, xlsxPath, fmt.Sprintf("bench-xlsx-child-%d-%d", time.Now().Unix(), round))
		},
	}
	for round := range xlsxRounds {
		for k := range runs {
			if err := runs[(round+k)%len(runs)](round + 1); err != nil {
				return fail(err)
			}
		}
	}
	fmt.Printf("baseline    excelize Rows()/Columns() over every row (%s), GOGC=%d, GOMEMLIMIT=%d MiB, best of %d: %.2f s\n",
		thousands.Format(int64(n)), leadpipeGCPercent, leadpipeMemoryLimit>>20, xlsxRounds, loop.Seconds())
	res, wall := inline.res, inline.wall
	fmt.Printf("leadpipe    import, best of %d: %.2f s wall, %s rows/s, peak RSS %.1f MB; %s rows: created %s, updated %s, unchanged %s, skipped %s\n",
		xlsxRounds, wall.Seconds(), thousands.Format(int64(float64(rows)/wall.Seconds())), float64(inline.rssKiB)/1024,
		thousands.Format(res.Rows), thousands.Format(res.Created), thousands.Format(res.Updated), thousands.Format(res.Unchanged), thousands.Format(res.Skipped))
	fmt.Printf("            import with sheet_parser=process (the daemon's default), best of %d: %.2f s wall, peak RSS %.1f MB (without its parser's)\n",
		xlsxRounds, child.wall.Seconds(), float64(child.rssKiB)/1024)
	fmt.Printf("isolation   parsing in a child process costs %+.0f%% against parsing in the import's process: %+.0f%% against the loop\n",
		(child.wall.Seconds()/wall.Seconds()-1)*100, (child.wall.Seconds()/loop.Seconds()-1)*100)
	overhead := wall.Seconds()/loop.Seconds() - 1
	fmt.Printf("overhead    the import takes %+.0f%% against the plain read loop\n", overhead*100)
	for _, r := range []importResult{inline.res, child.res} {
		if r.Rows != int64(rows) {
			fmt.Printf("counts      ERROR: the import read %s rows, the sheet has %s\n", thousands.Format(r.Rows), thousands.Format(int64(rows)))
			return 1
		}
	}
	if a, b := outcomes(inline.res), outcomes(child.res); a != b {
		fmt.Printf("counts      ERROR: the imports differ: inline %v, child process %v (created, updated, unchanged, skipped)\n", a, b)
		return 1
	}
	// The target holds the import as the daemon runs it: the sheet parsed in a child process.
	childOverhead := child.wall.Seconds()/loop.Seconds() - 1
	var g goals
	g.add("XLSX 200k, child process / Rows() loop", childOverhead <= maxOverhead,
		fmt.Sprintf("%+.1f%%", childOverhead*100), fmt.Sprintf("<= %+.0f%%", maxOverhead*100))
	return g.report()
}

// settle lets Postgres finish the after-work of what the bench wrote to a database before the
// next timed run, which would otherwise share the two cores with it: it vacuums and analyzes the
// database's tables, then waits (up to two minutes) until no autovacuum worker runs on it. It
// returns how long that took, which no timed run counts.
func settle(ctx context.Context, postgresURL string) (time.Duration, error) {
	t0 := time.Now()
	psql := psqlCommand()
	if _, err := runQuiet(ctx, nil, psql, psqlArgs(postgresURL, "SET client_min_messages = error", "VACUUM (ANALYZE)")...); err != nil {
		return 0, err
	}
	for time.Since(t0) < 2*time.Minute {
		out, err := runQuiet(ctx, nil, psql, append(psqlArgs(postgresURL,
			"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker' AND datname = current_database()"), "-At")...)
		if err != nil {
			return 0, err
		}
		if strings.TrimSpace(string(out)) == "0" {
			break
		}
		time.Sleep(time.Second)
	}
	return time.Since(t0), nil
}

// outcomes are an import's rows created, updated, unchanged and skipped.
func outcomes(r importResult) [4]int64 { return [4]int64{r.Created, r.Updated, r.Unchanged, r.Skipped} }

// xlsxRun is the fastest of an XLSX import's runs.
type xlsxRun struct {
	res    importResult
	wall   time.Duration
	rssKiB int64
}

// importOnce imports path into a new account and keeps the run if it is the fastest.
func (x *xlsxRun) importOnce(ctx context.Context, env []string, bin, path, account string) error {
	if _, err := runQuiet(ctx, env, bin, "account", "create", account); err != nil {
		return err
	}
	r, err := runImport(ctx, env, bin, path, account)
	if err != nil {
		return err
	}
	if x.wall == 0 || r.wall < x.wall {
		x.res, x.wall, x.rssKiB = r.res, r.wall, r.rssKiB
	}
	return nil
}

// writeXLSX copies a CSV into the first sheet of an XLSX workbook with excelize's stream
// writer and returns its data rows.
func writeXLSX(csvPath, xlsxPath string) (int, error) {
	in, err := os.Open(csvPath)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		return 0, err
	}
	r := csv.NewReader(in)
	r.FieldsPerRecord = -1
	rows := -1 // the header is not a data row
	for row := 1; ; row++ {
		rec, err := r.Read()
		if err != nil {
			break
		}
		cells := make([]any, len(rec))
		for i, c := range rec {
			cells[i] = c
		}
		cell, _ := excelize.CoordinatesToCellName(1, row)
		if err := sw.SetRow(cell, cells); err != nil {
			return 0, err
		}
		rows++
	}
	if err := sw.Flush(); err != nil {
		return 0, err
	}
	return rows, f.SaveAs(xlsxPath)
}

// plainRowsLoop reads every cell of the first sheet with excelize's Rows iterator, the way a
// program that only reads the file would, and returns the rows after the header.
func plainRowsLoop(path string) (int, error) {
	f, err := excelize.OpenFile(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	rows, err := f.Rows(f.GetSheetName(0))
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := -1
	for rows.Next() {
		if _, err := rows.Columns(); err != nil {
			return 0, err
		}
		n++
	}
	return n, rows.Error()
}
