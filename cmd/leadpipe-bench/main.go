// Command leadpipe-bench measures the end-to-end import throughput of the leadpipe binary
// against a baseline taken in the same run. It is the program behind `make bench`.
//
// It generates (or reuses) a deterministic prospect CSV of -rows rows and 14 columns, with
// about 3% repeated emails and 1% invalid emails; times psql's \copy of that file into a plain
// table of 14 text columns (the baseline: the fastest Postgres can take the bytes in); then
// runs `leadpipe migrate`, `leadpipe account create bench-<unix time>` and times
// `leadpipe import FILE --account bench-<unix time>` as a child process, recording its peak
// RSS, with every rule on (rules.go: an owner, a list and a tag as options, which it then
// checks in Postgres with the organizations and outcomes); then times the re-import of a copy of the file with every row's title changed into the
// same account (every row updates a prospect, and keeps what it overwrote for an undo). Both
// imports are then done again by the SQL a DBA would write (sql.go) in a database of its own,
// and each leadpipe time is compared with the SQL's; the CPU time of leadpipe, psql and the
// Postgres server's processes (read from /proc while each step runs) is printed beside each.
// It prints a report, checks the imports' counts against what the generator wrote (and the
// SQL's prospects against leadpipe's), and checks the targets -min-rows-per-sec, -max-rss-mb
// (of the first import) and -max-sql-ratio.
//
// Usage:
//
//	go build -o bin/leadpipe ./cmd/leadpipe
//	go run ./cmd/leadpipe-bench [-rows 1000000] [-leadpipe ./bin/leadpipe] [-dir /tmp]
//	go run ./cmd/leadpipe-bench -gen-only -rows 10000   # prints the CSV's path only
//	go run ./cmd/leadpipe-bench -big -rows 10000000     # peak RSS at 10M rows against 1M (big.go)
//	go run ./cmd/leadpipe-bench -pair OTHER_BINARY      # this build against another, in turn (pair.go)
//
// The exit status is 0 when every target is met and every count is as expected, 1 otherwise
// (a missed target, a count mismatch, or a step that failed), 2 for bad flags.
//
// The import must print one JSON object on stdout with at least these fields: import_id,
// status ("completed"), rows, created, updated, unchanged, skipped, skipped_by_reason (an
// object of reason to count) and duration_ms. The bench account is left in place after the
// run and its name printed; the baseline table is dropped unless -keep is given.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/leadpipe/leadpipe/internal/thousands"
)

// defaultPostgresURL is the database started by deploy/services.sh.
const defaultPostgresURL = "postgres://leadpipe@127.0.0.1:55432/leadpipe?sslmode=disable"

// baselineTable is the plain table psql's \copy loads for the baseline.
const baselineTable = "leadpipe_bench_copy"

// options are the command's flags.
type options struct {
	rows          int
	seed          uint64
	dir           string
	leadpipe      string
	postgresURL   string
	minRowsPerSec float64
	maxRSSMB      float64
	maxSQLRatio   float64
	keep          bool
	genOnly       bool
	upload        bool
	xlsx          bool
	big           bool
	baseRows      int
	maxRSSGrowth  float64
	// clickhouseAddr is where -upload's daemon delivers analytics.
	clickhouseAddr string
	scale          bool
	// pair is another leadpipe binary the -leadpipe one is timed against (pair.go).
	pair       string
	pairRounds int
	// sqlRounds are the rounds of the import step and of -upload against the SQL (vssql.go).
	sqlRounds int
}

func main() {
	os.Exit(run())
}

// run does the whole benchmark and returns the exit status.
func run() int {
	var o options
	defURL := os.Getenv("LEADPIPE_POSTGRES_URL")
	if defURL == "" {
		defURL = defaultPostgresURL
	}
	flag.IntVar(&o.rows, "rows", 1_000_000, "data rows in the generated CSV")
	flag.Uint64Var(&o.seed, "seed", 1, "generator seed; the same -rows and -seed give the same file")
	flag.StringVar(&o.dir, "dir", os.TempDir(), "directory for the generated CSV (reused when already there)")
	flag.StringVar(&o.leadpipe, "leadpipe", "./bin/leadpipe", "path of the leadpipe binary to measure")
	flag.StringVar(&o.postgresURL, "postgres-url", defURL, "Postgres URL for the baseline and for leadpipe (LEADPIPE_POSTGRES_URL)")
	flag.StringVar(&o.clickhouseAddr, "clickhouse-addr", defaultClickHouseAddr(), "ClickHouse (host:port, native protocol) that -upload's daemon delivers analytics to (LEADPIPE_CLICKHOUSE_ADDR)")
	flag.Float64Var(&o.minRowsPerSec, "min-rows-per-sec", 50000, "target: lowest acceptable leadpipe import throughput, rows per second of wall time")
	flag.Float64Var(&o.maxRSSMB, "max-rss-mb", 256, "target: highest acceptable peak RSS of the leadpipe import process, MB")
	flag.Float64Var(&o.maxSQLRatio, "max-sql-ratio", 1.0, "target: highest acceptable median of the rounds' ratios of leadpipe's time (the import's, or under -upload the upload's and import's) over the hand-written SQL import's, fresh and re-import")
	flag.BoolVar(&o.keep, "keep", false, "keep the baseline table "+baselineTable+" (the bench account is always kept)")
	flag.BoolVar(&o.genOnly, "gen-only", false, "only write the CSV and print its path")
	flag.BoolVar(&o.xlsx, "xlsx", false, "measure the import of the rows as an XLSX sheet against a plain excelize Rows() loop instead")
	flag.BoolVar(&o.big, "big", false, "measure whether memory stays flat instead: peak RSS of the -rows import (10M under make bench-big) against the -base-rows import's")
	flag.IntVar(&o.baseRows, "base-rows", 1_000_000, "with -big: data rows of the import whose peak RSS the -rows import's is held to")
	flag.Float64Var(&o.maxRSSGrowth, "max-rss-growth", 1.10, "with -big, target: highest acceptable peak RSS of the -rows import over the -base-rows import's")
	flag.BoolVar(&o.upload, "upload", false, "measure uploads through `leadpipe serve`'s HTTP API, with its Kafka and ClickHouse sinks, against the SQL instead (its -max-rss-mb is the daemon's)")
	flag.BoolVar(&o.scale, "scale", false, "measure imports into an account holding -scale-prospects prospects and into one among -scale-accounts others against one alone instead (scale.go)")
	flag.StringVar(&o.pair, "pair", "", "time the -leadpipe binary against this other leadpipe binary instead, in turn, -pair-rounds times: the file and its retitled copy (pair.go)")
	flag.IntVar(&o.sqlRounds, "sql-rounds", 3, "rounds of leadpipe's fresh import and re-import against the SQL's, in the import step and under -upload, the SQL first in even rounds; the goals are the medians of the rounds' ratios (vssql.go)")
	flag.IntVar(&o.pairRounds, "pair-rounds", 4, "-pair: rounds, each importing with both binaries; the report gives the medians of the rounds' ratios")
	flag.Parse()
	if o.rows <= 0 || o.baseRows <= 0 || o.pairRounds <= 0 || o.sqlRounds <= 0 || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "leadpipe-bench: -rows, -base-rows, -sql-rounds and -pair-rounds must be positive and no arguments are taken")
		flag.Usage()
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// 1. The file.
	t0 := time.Now()
	path, gen, reused, err := ensureFile(o.dir, o.rows, o.seed)
	if err != nil {
		return fail(err)
	}
	genTime := time.Since(t0)
	if o.genOnly {
		fmt.Fprintf(os.Stderr, "%s: %s rows, %s, %s\n", path, thousands.Format(int64(gen.Rows)), sizeMB(gen.Bytes), genNote(reused, genTime))
		fmt.Println(path)
		return 0
	}
	fmt.Printf("file        %s\n", path)
	fmt.Printf("            %s data rows + header, 14 columns, %s (%d bytes), %s\n",
		thousands.Format(int64(gen.Rows)), sizeMB(gen.Bytes), gen.Bytes, genNote(reused, genTime))
	fmt.Printf("            invalid emails %s; repeated emails %s (adjacent %s, of which byte-identical lines %s; recent %s; far %s; case changed %s); rows with quoted fields %s\n",
		thousands.Format(int64(gen.Invalid)), thousands.Format(int64(gen.Duplicates)), thousands.Format(int64(gen.DupAdjacent)),
		thousands.Format(int64(gen.DupExactRepeat)), thousands.Format(int64(gen.DupRecent)), thousands.Format(int64(gen.DupFar)),
		thousands.Format(int64(gen.DupCaseChanged)), thousands.Format(int64(gen.QuotedRows)))

	bin, binErr := exec.LookPath(o.leadpipe)
	if o.xlsx {
		if binErr != nil {
			return fail(fmt.Errorf("leadpipe binary %q not found: %v", o.leadpipe, binErr))
		}
		return benchXLSX(ctx, bin, o.postgresURL, path, 0.05)
	}
	if o.scale {
		if binErr != nil {
			return fail(fmt.Errorf("leadpipe binary %q not found: %v", o.leadpipe, binErr))
		}
		return benchScale(ctx, bin, o.postgresURL, path, gen)
	}
	if o.pair != "" {
		if binErr != nil {
			return fail(fmt.Errorf("leadpipe binary %q not found: %v", o.leadpipe, binErr))
		}
		other, err := exec.LookPath(o.pair)
		if err != nil {
			return fail(fmt.Errorf("-pair: leadpipe binary %q not found: %v", o.pair, err))
		}
		return benchPair(ctx, os.Stdout, bin, other, o.postgresURL, path, gen, o.pairRounds)
	}
	if o.upload {
		if binErr != nil {
			return fail(fmt.Errorf("leadpipe binary %q not found: %v", o.leadpipe, binErr))
		}
		return benchServe(ctx, bin, o, path, gen)
	}
	if o.big {
		if binErr != nil {
			return fail(fmt.Errorf("leadpipe binary %q not found: %v", o.leadpipe, binErr))
		}
		return benchBig(ctx, bin, o, path, gen)
	}
	if binErr != nil {
		fmt.Fprintf(os.Stderr, "leadpipe-bench: warning: leadpipe binary %q not found; running the baseline only\n", o.leadpipe)
	}

	// Read the file once so that neither run below pays for cold disk reads.
	if err := warmCache(path); err != nil {
		return fail(err)
	}

	// 2. The baseline.
	copyTime, err := baseline(ctx, o.postgresURL, path, gen.Rows, o.keep)
	if err != nil {
		return fail(fmt.Errorf("baseline: %w", err))
	}
	copyRate := float64(gen.Rows) / copyTime.Seconds()
	fmt.Printf("baseline    psql \\copy into a plain table of 14 text columns: %.2f s, %s rows/s\n",
		copyTime.Seconds(), thousands.Format(int64(copyRate)))

	// 3. leadpipe.
	if binErr != nil {
		return fail(fmt.Errorf("leadpipe binary %q not found (%v): build it with `go build -o bin/leadpipe ./cmd/leadpipe` or pass -leadpipe", o.leadpipe, binErr))
	}
	env := append(os.Environ(), "LEADPIPE_POSTGRES_URL="+o.postgresURL) // the last value wins
	if _, err := runQuiet(ctx, env, bin, "migrate"); err != nil {
		return fail(err)
	}
	account := "bench-" + strconv.FormatInt(time.Now().Unix(), 10)
	rules, err := setUpRules(ctx, env, bin, account)
	if err != nil {
		return fail(err)
	}
	defer rules.remove()
	fmt.Printf("account     %s (left in place)\n", account)
	fmt.Printf("rules       %s\n", rules)

	first, err := runImport(ctx, env, bin, path, account, rules.args()...)
	if err == nil {
		first.settled, err = settle(ctx, o.postgresURL)
	}
	if err != nil {
		return fail(err)
	}
	res, wall := first.res, first.wall
	rate := float64(gen.Rows) / wall.Seconds()
	rssMB := float64(first.rssKiB) / 1024
	fmt.Printf("leadpipe    import: %.2f s wall, %s rows/s (its own duration_ms %.0f: %s rows/s); import_id %s, status %s\n",
		wall.Seconds(), thousands.Format(int64(rate)), res.DurationMS,
		thousands.Format(int64(float64(gen.Rows)/(res.DurationMS/1000))), string(res.ImportID), res.Status)
	fmt.Printf("            CPU: leadpipe %.1f s, Postgres %.1f s\n", first.cpu.Seconds(), first.pgCPU.Seconds())
	fmt.Printf("ratio       leadpipe time / \\copy time: %.2fx\n", wall.Seconds()/copyTime.Seconds())
	fmt.Printf("peak RSS    %.1f MB\n", rssMB)
	fmt.Printf("import      rows %s: created %s, updated %s, unchanged %s, skipped %s %s\n",
		thousands.Format(res.Rows), thousands.Format(res.Created), thousands.Format(res.Updated), thousands.Format(res.Unchanged),
		thousands.Format(res.Skipped), reasons(res.SkippedByReason))
	ruleMismatches, err := rules.check(ctx, o.postgresURL, account, res)
	if err != nil {
		return fail(fmt.Errorf("checking the rules: %w", err))
	}

	// 4. A re-import of the file with every row's title changed: each row updates its
	// prospect and keeps what it overwrote for an undo (import_rows.undo).
	retitled, err := ensureRetitled(path)
	if err != nil {
		return fail(err)
	}
	second, err := runImport(ctx, env, bin, retitled, account, rules.args()...)
	if err == nil {
		second.settled, err = settle(ctx, o.postgresURL)
	}
	if err != nil {
		return fail(err)
	}
	re, reWall := second.res, second.wall
	fmt.Printf("re-import   every title changed: %.2f s wall, %s rows/s; import_id %s; updated %s, unchanged %s, created %s, skipped %s\n",
		reWall.Seconds(), thousands.Format(int64(float64(gen.Rows)/reWall.Seconds())), string(re.ImportID),
		thousands.Format(re.Updated), thousands.Format(re.Unchanged), thousands.Format(re.Created), thousands.Format(re.Skipped))
	fmt.Printf("            CPU: leadpipe %.1f s, Postgres %.1f s\n", second.cpu.Seconds(), second.pgCPU.Seconds())

	// 5. The same two files imported by the SQL a DBA would write (sql.go), in a database of
	// its own: leadpipe's time against it, with every rule leadpipe applies on, in rounds
	// (vssql.go).
	own := vsSQLRound{leadpipe: pairRun{first, second}}
	if own.sql, err = runSQLPair(ctx, bin, o.postgresURL, path, retitled); err != nil {
		return fail(err)
	}
	rounds, err := vsSQLRounds(ctx, os.Stdout, []vsSQLRound{own}, o.sqlRounds,
		func(ctx context.Context) (pairRun, error) {
			return pairImports(ctx, bin, o.postgresURL, path, retitled, gen)
		},
		func(ctx context.Context) (sqlPair, error) { return runSQLPair(ctx, bin, o.postgresURL, path, retitled) })
	if err != nil {
		return fail(err)
	}
	if bad := sqlProspectsDiffer(rounds, map[string]int64{"fresh": res.Created, "re-import": res.Created + re.Created}); len(bad) > 0 {
		fmt.Printf("SQL         ERROR: the SQL and leadpipe did not import the same file alike: %s\n", strings.Join(bad, "; "))
		return 1
	}
	var g goals
	vsSQLGoals(os.Stdout, &g, "", gen.Rows, rounds, o.maxSQLRatio)

	// 6. Checks.
	mismatches := append(append(checkCounts(os.Stdout, res, gen), ruleMismatches...), checkReimport(os.Stdout, re, gen)...)
	g.add("throughput "+rowsLabel(gen.Rows), rate >= o.minRowsPerSec, thousands.Format(int64(rate))+" rows/s", ">= "+thousands.Format(int64(o.minRowsPerSec)))
	g.add("peak RSS "+rowsLabel(gen.Rows), rssMB <= o.maxRSSMB, fmt.Sprintf("%.1f MB", rssMB), fmt.Sprintf("<= %.0f MB", o.maxRSSMB))
	return max(countsStatus(mismatches), g.report())
}

// countsStatus prints whether any count differed from what the file holds and returns the exit
// status that calls for.
func countsStatus(mismatches []string) int {
	if len(mismatches) > 0 {
		fmt.Printf("counts      ERROR: %d count(s) differ from what the file holds (see above)\n", len(mismatches))
		return 1
	}
	fmt.Println("counts      all as expected")
	return 0
}

// fail prints err and returns the failure exit status.
func fail(err error) int {
	fmt.Fprintf(os.Stderr, "leadpipe-bench: error: %v\n", err)
	return 1
}

// genNote says how the file came to be.
func genNote(reused bool, d time.Duration) string {
	if reused {
		return "reused from an earlier run"
	}
	return fmt.Sprintf("generated in %.2f s", d.Seconds())
}

// warmCache reads the file once, so that it sits in the page cache for both timed runs.
func warmCache(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(io.Discard, f)
	return err
}

// baseline (re)creates the baseline table and times psql's \copy of the file into it. It
// checks that psql reports rows rows copied, and drops the table afterwards unless keep.
func baseline(ctx context.Context, url, path string, rows int, keep bool) (time.Duration, error) {
	cols := make([]string, len(csvHeader))
	for k, h := range csvHeader {
		cols[k] = strings.ToLower(strings.ReplaceAll(h, " ", "_")) + " text"
	}
	psql, psqlArgs := psqlCommand(), func(cmds ...string) []string { return psqlArgs(url, cmds...) }
	if _, err := runQuiet(ctx, nil, psql, psqlArgs(
		"DROP TABLE IF EXISTS "+baselineTable,
		"CREATE TABLE "+baselineTable+" ("+strings.Join(cols, ", ")+")")...); err != nil {
		return 0, err
	}
	copyCmd := `\copy ` + baselineTable + ` FROM '` + strings.ReplaceAll(path, `'`, `''`) +
		`' WITH (FORMAT csv, HEADER true)`
	t0 := time.Now()
	out, err := runQuiet(ctx, nil, psql, psqlArgs(copyCmd)...)
	d := time.Since(t0)
	if err != nil {
		return 0, err
	}
	// psql prints the command tag of \copy: "COPY 1000000".
	if got := strings.TrimSpace(string(out)); got != "COPY "+strconv.Itoa(rows) {
		return 0, fmt.Errorf(`\copy reported %q, want "COPY %d"`, got, rows)
	}
	if !keep {
		if _, err := runQuiet(ctx, nil, psql, psqlArgs("DROP TABLE "+baselineTable)...); err != nil {
			return 0, err
		}
	}
	return d, nil
}

// psqlCommand is the psql program.
func psqlCommand() string {
	if psql, err := exec.LookPath("psql"); err == nil {
		return psql
	}
	return "/usr/bin/psql"
}

// psqlArgs are psql's arguments to run cmds, one after the other, in the database at url,
// stopping at the first error.
func psqlArgs(url string, cmds ...string) []string {
	args := []string{"-X", "-v", "ON_ERROR_STOP=1", "-d", url}
	for _, c := range cmds {
		args = append(args, "-c", c)
	}
	return args
}

// runQuiet runs a command to completion and returns its stdout; on failure the error carries
// the command line and its stderr. A nil env means the current environment.
func runQuiet(ctx context.Context, env []string, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// importResult is the JSON object `leadpipe import` prints on stdout; these are the fields the
// bench relies on, and all of them must be present.
type importResult struct {
	ImportID        json.RawMessage  `json:"import_id"` // a string or a number
	Status          string           `json:"status"`
	Rows            int64            `json:"rows"`
	Created         int64            `json:"created"`
	Updated         int64            `json:"updated"`
	Unchanged       int64            `json:"unchanged"`
	Skipped         int64            `json:"skipped"`
	SkippedByReason map[string]int64 `json:"skipped_by_reason"`
	DurationMS      float64          `json:"duration_ms"`
	// OrganizationsCreated and UnmappedColumns are what the rules' check (rules.go) holds
	// Postgres and the mapping to.
	OrganizationsCreated int64    `json:"organizations_created"`
	UnmappedColumns      []string `json:"unmapped_columns"`
}

// requiredFields are the JSON keys of importResult.
var requiredFields = []string{"import_id", "status", "rows", "created", "updated", "unchanged",
	"skipped", "skipped_by_reason", "duration_ms", "organizations_created", "unmapped_columns"}

// importRun is a timed `leadpipe import`: its result, wall time, peak resident set size in KiB,
// its own CPU time and the Postgres server's while it ran.
type importRun struct {
	res        importResult
	wall       time.Duration
	rssKiB     int64
	cpu, pgCPU time.Duration
	settled    time.Duration // how long its database took to settle after it (settle), when the step settles it
}

// peakRSS follows a child's peak resident set size (VmHWM, KiB) from /proc while it runs. The
// child's rusage cannot say: a process started by Go (clone with CLONE_VM, then exec) is
// charged at exec with the peak of the parent's memory, so an import run by a bench that had
// just generated a 10M-row file reported 916 MB.
type peakRSS struct {
	stopped chan struct{}
	done    chan struct{}
	kib     int64
}

// watch starts reading pid's VmHWM every 50 ms.
func (p *peakRSS) watch(pid int) {
	p.stopped, p.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(p.done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if kib, err := procStatusKiB(pid, "VmHWM"); err == nil && kib > p.kib {
				p.kib = kib
			}
			select {
			case <-p.stopped:
				return
			case <-t.C:
			}
		}
	}()
}

// stop ends the watch, once the child has exited, and answers the peak it saw (0 if none).
func (p *peakRSS) stop() int64 {
	if p.stopped == nil {
		return 0
	}
	close(p.stopped)
	<-p.done
	return p.kib
}

// runImport times `leadpipe import FILE --account ACCOUNT [ARGS…]` and returns its parsed
// result with what it cost. The child's stderr goes to ours.
func runImport(ctx context.Context, env []string, bin, path, account string, args ...string) (importRun, error) {
	var run importRun
	cmd := exec.CommandContext(ctx, bin, append([]string{"import", path, "--account", account}, args...)...)
	cmd.Env = env
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, os.Stderr
	pg := samplePostgresCPU()
	t0 := time.Now()
	err := cmd.Start()
	var peak peakRSS
	if err == nil {
		peak.watch(cmd.Process.Pid)
		err = cmd.Wait()
	}
	run.wall = time.Since(t0)
	run.pgCPU = pg.Stop()
	run.rssKiB = peak.stop()
	if err != nil {
		return run, fmt.Errorf("%s: %w\nstdout: %s", strings.Join(cmd.Args, " "), err, strings.TrimSpace(stdout.String()))
	}
	run.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	obj, err := lastJSONObject(stdout.Bytes())
	if err != nil {
		return run, fmt.Errorf("import output: %w\nstdout: %s", err, strings.TrimSpace(stdout.String()))
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(obj, &keys); err != nil {
		return run, fmt.Errorf("import output: %w", err)
	}
	var missing []string
	for _, k := range requiredFields {
		if _, ok := keys[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return run, fmt.Errorf("import output lacks field(s) %s: %s", strings.Join(missing, ", "), obj)
	}
	if err := json.Unmarshal(obj, &run.res); err != nil {
		return run, fmt.Errorf("import output: %w: %s", err, obj)
	}
	if run.res.Status != "completed" {
		return run, fmt.Errorf("import status %q, want \"completed\": %s", run.res.Status, obj)
	}
	return run, nil
}

// lastJSONObject returns the JSON object of out: the whole of it when it is one object, else
// its last line that is one (in case the command also printed other lines).
func lastJSONObject(out []byte) ([]byte, error) {
	out = bytes.TrimSpace(out)
	if len(out) > 0 && out[0] == '{' && json.Valid(out) {
		return out, nil
	}
	lines := bytes.Split(out, []byte("\n"))
	for k := len(lines) - 1; k >= 0; k-- {
		if l := bytes.TrimSpace(lines[k]); len(l) > 0 && l[0] == '{' && json.Valid(l) {
			return l, nil
		}
	}
	return nil, errors.New("no JSON object on stdout")
}

// countChecks prints counts beside what they should be, one line each, to w, and keeps the
// names of those that differ.
type countChecks struct {
	w   io.Writer
	bad []string
}

// check prints one count beside what it should be.
func (c *countChecks) check(what string, got, want int64) {
	mark := "ok"
	if got != want {
		mark = "MISMATCH"
		c.bad = append(c.bad, what)
	}
	fmt.Fprintf(c.w, "  %-40s expected %11s  got %11s  %s\n", what, thousands.Format(want), thousands.Format(got), mark)
}

// checkCounts prints the import's counts beside what the file holds, to w, and returns the
// mismatches. With email-only matching into a fresh account with no limit:
// created = distinct valid emails; updated + unchanged = valid rows repeating an earlier email;
// skipped = invalid rows, all with reason invalid_email; no other skip reason.
func checkCounts(w io.Writer, res importResult, gen GenStats) []string {
	c := countChecks{w: w}
	check := c.check
	fmt.Fprintln(w, "check       (expected from the generated file, got from the import)")
	check("rows", res.Rows, int64(gen.Rows))
	check("created+updated+unchanged+skipped", res.Created+res.Updated+res.Unchanged+res.Skipped, res.Rows)
	check("created (distinct valid emails)", res.Created, int64(gen.Created()))
	check("updated+unchanged (repeated emails)", res.Updated+res.Unchanged, int64(gen.Duplicates))
	check("skipped", res.Skipped, int64(gen.Invalid))
	check("skipped invalid_email", res.SkippedByReason["invalid_email"], int64(gen.Invalid))
	check("skipped missing_identifier", res.SkippedByReason["missing_identifier"], 0)
	var other int64
	for r, n := range res.SkippedByReason {
		if r != "invalid_email" && r != "missing_identifier" {
			other += n
		}
	}
	check("skipped for any other reason", other, 0)
	return c.bad
}

// reasons formats skip counts by reason, sorted by reason.
func reasons(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + " " + thousands.Format(m[k])
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// sizeMB formats a byte count in MB (10^6 bytes).
func sizeMB(n int64) string {
	return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + " MB"
}
