package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/leadpipe/leadpipe/config"
	"github.com/leadpipe/leadpipe/internal/thousands"
	chsink "github.com/leadpipe/leadpipe/sinks/clickhouse"
)

// maxSinkLag is the target of the sinks' lag: an import's last row outcome is on Kafka, and
// all of its row outcomes in ClickHouse, within that long of the import completing (issue 15).
const maxSinkLag = 2 * time.Second

// defaultClickHouseAddr is LEADPIPE_CLICKHOUSE_ADDR, else the ClickHouse that
// deploy/services.sh starts.
func defaultClickHouseAddr() string {
	if v := os.Getenv("LEADPIPE_CLICKHOUSE_ADDR"); v != "" {
		return v
	}
	return "127.0.0.1:19000"
}

// benchServe measures imports under `leadpipe serve` as in production, publishing to Kafka (a
// `leadpipe broker` of its own process) and to ClickHouse, in -sql-rounds rounds (vssql.go).
// In each round it starts a daemon (serveImports), uploads the file through POST /v1/imports
// and times it from the start of the upload until the import completed, then does the same with
// the retitled copy into the same account. After each import it measures, from outside the
// daemon, how long after the import completed its last row outcome could be read from Kafka
// and ClickHouse held all of its row outcomes, and it stops the daemon. The round also imports
// both files by the SQL a DBA would write (sql.go): after the daemon stopped, or before it
// started in even rounds. It prints the
// CPU seconds of the daemon and of Postgres during each import, and the daemon's peak RSS
// (VmHWM) against its idle RSS. The goals against the SQL are the medians of the rounds'
// ratios; those of the sinks' lag and of the peak RSS hold every round, so their figures are
// the worst round's. It returns the exit status: 1 when a target was missed or a check failed.
func benchServe(ctx context.Context, bin string, o options, path string, gen GenStats) int {
	retitled, err := ensureRetitled(path)
	if err != nil {
		return fail(err)
	}
	for _, p := range []string{path, retitled} {
		if err := warmCache(p); err != nil {
			return fail(err)
		}
	}
	rounds, served, err := serveRounds(ctx, os.Stdout, o.sqlRounds, bin, o, path, retitled, gen)
	if err != nil {
		return fail(err)
	}
	first := rounds[0].leadpipe
	if bad := sqlProspectsDiffer(rounds, map[string]int64{"fresh": first.fresh.res.Created, "re-import": first.fresh.res.Created + first.again.res.Created}); len(bad) > 0 {
		fmt.Printf("SQL         ERROR: the SQL and leadpipe did not import the same file alike: %s\n", strings.Join(bad, "; "))
		return 1
	}
	var g goals
	vsSQLGoals(os.Stdout, &g, "serve ", gen.Rows, rounds, o.maxSQLRatio)
	for k, name := range []string{"", ", re-import"} { // runs[0] and runs[1] of each round
		kafka, analytics := worstLags(served, k)
		g.add("sink lag Kafka"+name, kafka.met(), kafka.figure(), fmt.Sprintf("<= %.2f s", maxSinkLag.Seconds()))
		g.add("sink lag ClickHouse"+name, analytics.met(), analytics.figure(), fmt.Sprintf("<= %.2f s", maxSinkLag.Seconds()))
	}
	peakMB := slices.MaxFunc(served, func(a, b serveRound) int { return cmp.Compare(a.peakMB, b.peakMB) }).peakMB
	g.add("daemon peak RSS", peakMB <= o.maxRSSMB, fmt.Sprintf("%.1f MB", peakMB), fmt.Sprintf("<= %.0f MB", o.maxRSSMB))
	// Each round's counts were checked (serveImports); the table is the first round's.
	return max(countsStatus(checkCounts(os.Stdout, first.fresh.res, gen)), g.report())
}

// serveRounds runs n rounds of the serve step, printing them to w: each round's imports
// through a daemon of its own (serveImports) and the SQL's, as the rounds against the SQL
// compare them and as the serve step ran them.
func serveRounds(ctx context.Context, w io.Writer, n int, bin string, o options, path, retitled string, gen GenStats) ([]vsSQLRound, []serveRound, error) {
	var served []serveRound
	rounds, err := vsSQLRounds(ctx, w, nil, n,
		func(ctx context.Context) (pairRun, error) {
			r, err := serveImports(ctx, w, len(served)+1, bin, o, path, retitled, gen)
			served = append(served, r)
			return r.pair(), err
		},
		func(ctx context.Context) (sqlPair, error) { return runSQLPair(ctx, bin, o.postgresURL, path, retitled) })
	return rounds, served, err
}

// serveRound is one round's imports through the daemon, fresh and re-import, and the daemon's
// peak RSS over both.
type serveRound struct {
	runs   [2]serveRun
	peakMB float64
}

// pair is the round's imports as the rounds against the SQL compare them: the time from the
// start of each upload until the import completed, and the daemon's CPU time meanwhile.
func (r serveRound) pair() pairRun {
	run := func(s serveRun) importRun {
		return importRun{res: s.res, wall: s.total, cpu: s.daemonCPU, pgCPU: s.pgCPU, settled: s.settled}
	}
	return pairRun{fresh: run(r.runs[0]), again: run(r.runs[1])}
}

// worstLags returns the longest lag of each sink after the k-th import (0 fresh, 1 the
// re-import) of any round; a lag that never ended is the longest.
func worstLags(rounds []serveRound, k int) (kafka, analytics sinkLag) {
	worse := func(a, b sinkLag) sinkLag {
		if a.err != nil || (b.err == nil && a.afterFinished >= b.afterFinished) {
			return a
		}
		return b
	}
	kafka, analytics = rounds[0].runs[k].kafka, rounds[0].runs[k].analytics
	for _, r := range rounds[1:] {
		kafka, analytics = worse(kafka, r.runs[k].kafka), worse(analytics, r.runs[k].analytics)
	}
	return kafka, analytics
}

// serveImports is round k's imports through a daemon started for them (startServe), with
// databases of its own: the file, then its retitled copy into the same account, each printed
// to w. It stops the daemon before it returns, so that the round's SQL runs alone, as each
// import did. It fails when an import did not complete or its counts are not what the file
// holds.
func serveImports(ctx context.Context, w io.Writer, k int, bin string, o options, path, retitled string, gen GenStats) (r serveRound, err error) {
	d, err := startServe(ctx, bin, o.postgresURL, o.clickhouseAddr)
	defer d.close()
	if err != nil {
		return r, err
	}
	fmt.Fprintf(w, "round %d     serve: daemon with Postgres database %s, Kafka a `leadpipe broker` of its own process, ClickHouse database %s at %s (all dropped afterwards)\n",
		k, d.database, d.database, o.clickhouseAddr)
	idle, _ := procStatusKiB(d.pid(), "VmRSS")
	for i, step := range []struct{ name, path string }{{"fresh", path}, {"re-import", retitled}} {
		run, err := d.importFile(ctx, step.path)
		if err != nil {
			return r, fmt.Errorf("serve %s: %w", step.name, err)
		}
		r.runs[i] = run
		size, _ := fileSize(step.path)
		fmt.Fprintf(w, "serve %-9s upload %s through POST /v1/imports in %.2f s (%.0f MB/s); import %d %s: %s rows in %.2f s from the start of the upload\n",
			step.name, sizeMB(size), run.upload.Seconds(), float64(size)/(1<<20)/run.upload.Seconds(), run.id, run.res.Status,
			thousands.Format(run.res.Rows), run.total.Seconds())
		fmt.Fprintf(w, "            CPU: daemon %.1f s, Postgres %.1f s\n", run.daemonCPU.Seconds(), run.pgCPU.Seconds())
		if run.res.Status != "completed" {
			return r, fmt.Errorf("serve %s: import %d ended %s", step.name, run.id, run.res.Status)
		}
		fmt.Fprintf(w, "            sinks when the completion was seen: Kafka at row %s of %s, ClickHouse %s of %s row outcomes\n",
			thousands.Format(int64(run.kafka.atSeen)), thousands.Format(int64(run.lastRow)),
			thousands.Format(int64(run.analytics.atSeen)), thousands.Format(run.res.Rows))
		fmt.Fprintf(w, "            sink lag after finished_at (after completion seen): Kafka %s, ClickHouse %s\n", run.kafka, run.analytics)
		if r.runs[i].settled, err = settle(ctx, d.pgURL); err != nil {
			return r, fmt.Errorf("serve %s: %w", step.name, err)
		}
	}
	peak, err := procStatusKiB(d.pid(), "VmHWM")
	if err != nil {
		return r, err
	}
	r.peakMB = float64(peak) / 1024
	fmt.Fprintf(w, "daemon RSS  idle %.1f MB, peak %.1f MB (VmHWM, both uploads, imports and deliveries included)\n", float64(idle)/1024, r.peakMB)
	// The report keeps to its lines; the error names what differs.
	if bad := append(checkCounts(io.Discard, r.runs[0].res, gen), checkReimport(io.Discard, r.runs[1].res, gen)...); len(bad) > 0 {
		return r, fmt.Errorf("the imports' counts differ from the file's: %s", strings.Join(bad, ", "))
	}
	return r, nil
}

// checkReimport checks the counts of the re-import of the retitled copy into the account the
// file was imported into: no prospect created, every valid row updated or unchanged. It prints
// what differs to w.
func checkReimport(w io.Writer, re importResult, gen GenStats) []string {
	valid := int64(gen.Rows - gen.Invalid)
	if re.Created == 0 && re.Updated+re.Unchanged == valid {
		return nil
	}
	fmt.Fprintf(w, "re-import   ERROR: created %s, updated+unchanged %s; want 0 and every valid row (%s)\n",
		thousands.Format(re.Created), thousands.Format(re.Updated+re.Unchanged), thousands.Format(valid))
	return []string{"re-import"}
}

// serveDaemon is a running `leadpipe serve` with its broker, its databases, and what the bench
// reads the sinks and the daemon's database with.
type serveDaemon struct {
	base, token string
	options     []byte // every rule on (rules.go): the "options" part of each upload
	database    string // of Postgres and of ClickHouse
	pgURL       string // the daemon's Postgres database
	daemon      *exec.Cmd
	pg          *pgx.Conn
	tail        outcomesTail
	analytics   analyticsRows
	cleanups    []func() // in the order they are to run
}

// startServe makes the daemon's databases afresh, starts a broker and the daemon with an
// account and its API token, and connects to what the bench reads. d.close undoes what was
// done, also after an error.
//
// The daemon works in a Postgres database of its own (the bench database's name + "_serve",
// made afresh) and a ClickHouse database of the same name, both dropped by d.close: a sink
// registers with what is already stored as pending, and would otherwise deliver the earlier
// steps' (or rounds') imports while this one is measured.
func startServe(ctx context.Context, bin, benchURL, clickhouseAddr string) (d *serveDaemon, err error) {
	d = &serveDaemon{}
	pgURL, database, dropPG, err := freshDatabase(ctx, benchURL, "_serve")
	if err != nil {
		return d, err
	}
	d.later(func() { dropPG() }) //nolint:errcheck // a leftover database is dropped by the next run
	d.database, d.pgURL = database, pgURL
	if err := dropAnalytics(ctx, clickhouseAddr, d.database); err != nil {
		return d, err
	}
	d.later(func() { dropAnalytics(context.Background(), clickhouseAddr, d.database) }) //nolint:errcheck // as above

	dir, err := os.MkdirTemp("", "leadpipe-bench-serve-")
	if err != nil {
		return d, err
	}
	d.later(func() { os.RemoveAll(dir) })
	addr, err := freeAddr()
	if err != nil {
		return d, err
	}
	// The daemon publishes to a broker of its own process, as in production: the embedded
	// broker keeps its topics in memory, which would count in the daemon's RSS.
	kafkaAddr, err := freeAddr()
	if err != nil {
		return d, err
	}
	broker := exec.CommandContext(ctx, bin, "broker", "--addr", kafkaAddr, "--data-dir", filepath.Join(dir, "kafka"))
	broker.Env = append(os.Environ(), "LEADPIPE_LOG_LEVEL=warn")
	if err := broker.Start(); err != nil {
		return d, err
	}
	d.later(func() { stop(broker) })
	outcomes := config.Default.KafkaOutcomesTopic
	d.tail = newOutcomesTail(kafkaAddr, outcomes)
	d.later(d.tail.close)

	env := append(os.Environ(), "LEADPIPE_POSTGRES_URL="+pgURL, "LEADPIPE_HTTP_ADDR="+addr,
		"LEADPIPE_FILES_DIR="+filepath.Join(dir, "files"), "LEADPIPE_WORKERS=1", "LEADPIPE_LOG_LEVEL=warn",
		"LEADPIPE_KAFKA_BROKERS="+kafkaAddr, "LEADPIPE_KAFKA_OUTCOMES_TOPIC="+outcomes,
		"LEADPIPE_CLICKHOUSE_ADDR="+clickhouseAddr, "LEADPIPE_CLICKHOUSE_DATABASE="+d.database)
	if _, err := runQuiet(ctx, env, bin, "migrate"); err != nil { // ClickHouse's schema too
		return d, err
	}
	const account = "bench-serve"
	rules, err := setUpRules(ctx, env, bin, account)
	if err != nil {
		return d, err
	}
	defer rules.remove()
	if d.options, err = os.ReadFile(rules.optionsPath); err != nil {
		return d, err
	}
	out, err := runQuiet(ctx, env, bin, "token", "create", "--account", account)
	if err != nil {
		return d, err
	}
	d.token = strings.TrimSpace(string(out))
	if d.pg, err = pgx.Connect(ctx, pgURL); err != nil {
		return d, err
	}
	d.later(func() { d.pg.Close(context.Background()) })
	conn, err := chsink.Open(ctx, clickhouseAddr, d.database)
	if err != nil {
		return d, err
	}
	d.later(func() { conn.Close() })
	d.analytics = analyticsRows{conn: conn}

	d.daemon = exec.CommandContext(ctx, bin, "serve")
	d.daemon.Env, d.daemon.Stderr = env, os.Stderr
	if err := d.daemon.Start(); err != nil {
		return d, err
	}
	d.later(func() { stop(d.daemon) })
	d.base = "http://" + addr
	return d, waitReady(ctx, d.base+"/readyz")
}

// later adds a cleanup, to run before those added earlier.
func (d *serveDaemon) later(f func()) {
	d.cleanups = append([]func(){f}, d.cleanups...)
}

// close stops the daemon and the broker and drops the databases; calling it again does nothing.
func (d *serveDaemon) close() {
	for _, f := range d.cleanups {
		f()
	}
	d.cleanups = nil
}

func (d *serveDaemon) pid() int { return d.daemon.Process.Pid }

// stop ends a child process with SIGTERM and waits for it.
func stop(cmd *exec.Cmd) {
	cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck // Wait reports how it ended
	cmd.Wait()                          //nolint:errcheck // a stopped process's status is not news
}

// dropAnalytics drops the ClickHouse database name at addr, if it exists.
func dropAnalytics(ctx context.Context, addr, name string) error {
	conn, err := chsink.Open(ctx, addr, "default")
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name)
}

// serveRun is one file imported through the daemon: the import as it ended and its highest
// row number, the time its upload took and the time from the start of the upload until the
// bench saw it complete, the CPU time of the daemon and of Postgres meanwhile, and the sinks'
// lag after it.
type serveRun struct {
	id               int64
	res              importResult
	lastRow          int
	upload, total    time.Duration
	daemonCPU, pgCPU time.Duration
	kafka, analytics sinkLag
	settled          time.Duration // how long the daemon's database took to settle after it (settle)
}

// importFile uploads path, waits for its import to end and, when it completed, for the sinks to
// hold its row outcomes.
func (d *serveDaemon) importFile(ctx context.Context, path string) (serveRun, error) {
	var r serveRun
	cpu0, err := processCPU(d.pid())
	if err != nil {
		return r, err
	}
	pg := samplePostgresCPU()
	start := time.Now()
	id, err := upload(ctx, d.base+"/v1/imports", d.token, path, d.options)
	r.upload = time.Since(start)
	if err != nil {
		pg.Stop()
		return r, err
	}
	st, err := waitImport(ctx, d.base+"/v1/imports/"+id, d.token)
	r.total = st.seen.Sub(start)
	r.pgCPU = pg.Stop()
	if err != nil {
		return r, err
	}
	cpu1, err := processCPU(d.pid())
	if err != nil {
		return r, err
	}
	r.daemonCPU, r.res = cpu1-cpu0, st.importResult
	if r.id, err = strconv.ParseInt(id, 10, 64); err != nil {
		return r, fmt.Errorf("import id %q: %w", id, err)
	}
	if st.Status != "completed" {
		return r, nil
	}
	if st.FinishedAt == nil {
		return r, fmt.Errorf("import %d completed without a finished_at", r.id)
	}
	err = d.pg.QueryRow(ctx, `SELECT coalesce(greatest(
			(SELECT max(row_number) FROM import_outcome_rows WHERE import_id = $1),
			(SELECT max(last_row) FROM import_created_runs WHERE import_id = $1),
			(SELECT max(last_row) FROM import_updated_runs WHERE import_id = $1)), 0)`, r.id).Scan(&r.lastRow)
	if err != nil {
		return r, fmt.Errorf("import %d's last row: %w", r.id, err)
	}
	r.kafka, r.analytics = d.sinkLags(ctx, r.id, int(st.Rows), r.lastRow, *st.FinishedAt, st.seen)
	return r, nil
}

// sinkLag is how long after an import completed a sink held its row outcomes: after its
// finished_at, and after the bench saw it completed; err when it never did. atSeen is how far
// the sink was when the bench saw the import complete: the import's last row on Kafka, its row
// outcomes stored in ClickHouse.
type sinkLag struct {
	afterFinished, afterSeen time.Duration
	atSeen                   int
	err                      error
}

func (l sinkLag) met() bool { return l.err == nil && l.afterFinished <= maxSinkLag }

func (l sinkLag) figure() string {
	if l.err != nil {
		return "none"
	}
	return fmt.Sprintf("%.2f s", l.afterFinished.Seconds())
}

func (l sinkLag) String() string {
	if l.err != nil {
		return "ERROR " + l.err.Error()
	}
	return fmt.Sprintf("%.2f s (%.2f s)", l.afterFinished.Seconds(), l.afterSeen.Seconds())
}

// sinkLags measures both sinks' lag after an import of rows rows, the last of them lastRow,
// completed, both at the same time.
//
// The lag is counted from the import's finished_at, which Postgres stamps (now()) in the
// statement that completes the import, on its own: the moment the import completed, on the
// same machine's clock, whatever the bench's polling. The bench sees the completion up to a
// status poll (lagPoll) and a request later; the lag after that is printed beside it.
func (d *serveDaemon) sinkLags(ctx context.Context, id int64, rows, lastRow int, finished, seen time.Time) (kafka, analytics sinkLag) {
	// measure polls check until it is done; its first answer's progress is atSeen.
	measure := func(check func(context.Context) (progress int, done bool, err error)) sinkLag {
		var l sinkLag
		first := true
		at, err := pollUntil(ctx, func(ctx context.Context) (bool, error) {
			progress, done, err := check(ctx)
			if first {
				l.atSeen, first = progress, false
			}
			return done, err
		})
		l.afterFinished, l.afterSeen, l.err = at.Sub(finished), at.Sub(seen), err
		return l
	}
	done := make(chan sinkLag)
	go func() {
		done <- measure(func(ctx context.Context) (int, bool, error) { return d.analytics.complete(ctx, id, rows) })
	}()
	kafka = measure(func(ctx context.Context) (int, bool, error) {
		row, err := d.tail.lastRow(ctx, id)
		return row, row == lastRow, err
	})
	return kafka, <-done
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func fileSize(path string) (int64, error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// waitReady polls url until it answers 200, for up to 30 seconds.
func waitReady(ctx context.Context, url string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("the daemon did not become ready at %s", url)
}

// upload streams path as the "file" part of a multipart POST, never holding it in memory,
// after options as its "options" part, and returns the import id of the 202 answer.
func upload(ctx context.Context, url, token, path string, options []byte) (string, error) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := mw.WriteField("options", string(options))
		var part io.Writer
		if err == nil {
			part, err = mw.CreateFormFile("file", filepath.Base(path))
		}
		if err == nil {
			var f *os.File
			if f, err = os.Open(path); err == nil {
				_, err = io.Copy(part, f)
				f.Close()
			}
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, pr)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var body struct {
		ImportID json.Number `json:"import_id"`
		Error    string      `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusAccepted {
		return "", fmt.Errorf("upload: %s %s", resp.Status, body.Error)
	}
	return body.ImportID.String(), nil
}

// importStatus is an import as GET /v1/imports/{id} shows it, with the moment the bench read
// it.
type importStatus struct {
	importResult
	FinishedAt *time.Time `json:"finished_at"`
	seen       time.Time
}

// waitImport polls an import every lagPoll until it ends, and returns it as it ended.
func waitImport(ctx context.Context, url, token string) (importStatus, error) {
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return importStatus{}, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return importStatus{}, err
		}
		var st importStatus
		err = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		st.seen = time.Now()
		if err != nil {
			return st, err
		}
		switch st.Status {
		case "completed", "failed", "cancelled":
			return st, nil
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-time.After(lagPoll):
		}
	}
}

// procStatusKiB reads a "kB" field (VmRSS, VmHWM) of /proc/PID/status.
func procStatusKiB(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}
