//go:build soak

// Package soak_test runs leadpipe for minutes and watches its resources. It is built only with
// -tags soak: `make test` runs it in a step of its own, without the race detector, which
// would only slow the test's own sampling (the daemon it measures is a process of its own,
// built without it).
package soak_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/segmentio/kafka-go"

	"github.com/leadpipe/leadpipe/internal/freeport"
	"github.com/leadpipe/leadpipe/internal/syncbuf"
	"github.com/leadpipe/leadpipe/store/storetest"
)

// database is this package's database, dropped and made afresh at each run: a soak leaves
// hundreds of thousands of rows behind.
const database = "leadpipe_test_soak"

func TestMain(m *testing.M) {
	dropDatabase(database + os.Getenv("LEADPIPE_TEST_DB_SUFFIX"))
	storetest.UseOwnDatabase(database)
	os.Exit(m.Run())
}

// dropDatabase drops the database name next to the test database, if it can.
func dropDatabase(name string) {
	u, err := url.Parse(storetest.URL())
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		return // the test fails or skips on the database as storetest says
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		fmt.Fprintf(os.Stderr, "drop the soak test's database of an earlier run: %v\n", err)
	}
}

// Soak settings. LEADPIPE_SOAK_ROWS sets how many row outcomes flow (default soakRows), for a
// longer soak run by hand.
const (
	soakRows          = 2_000_000
	soakRowsPerImport = 200_000
	// soakRetention is the embedded broker's retention a partition: the 3 outcome partitions
	// keep about 20,000 outcomes.
	soakRetention = 1 << 20
	// soakMaxGrowth bounds how much higher the daemon's RSS peaks in the second half of the
	// soak than in the first: 1.8 and 5.6 MB in two runs with the retention, 210.8 MB without
	// (docs/kafka.md).
	soakMaxGrowth = 24 << 20
)

// TestEmbeddedBrokerMemoryLevelsOff runs `leadpipe serve`, built and in a process of its own,
// with the embedded broker in memory (kafka_data_dir empty: every message it keeps is in the
// daemon's RSS) and a small retention, through LEADPIPE_SOAK_ROWS row outcomes: imports of a
// generated CSV, queued one after another. It samples the daemon's RSS as the outcomes are
// published and checks that it levels off: its peak in the second half is at most
// soakMaxGrowth above its peak in the first.
func TestEmbeddedBrokerMemoryLevelsOff(t *testing.T) {
	rows := soakRows
	if s := os.Getenv("LEADPIPE_SOAK_ROWS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < soakRowsPerImport {
			t.Fatalf("LEADPIPE_SOAK_ROWS=%q, want a whole number of at least %d", s, soakRowsPerImport)
		}
		rows = n
	}
	imports := (rows + soakRowsPerImport - 1) / soakRowsPerImport
	rows = imports * soakRowsPerImport

	pool := storetest.Pool(t) // migrated and reachable, or skip (fail in CI)
	bin := buildLeadpipe(t)
	httpAddr, kafkaAddr := freeport.Addr(t), freeport.Addr(t)
	env := leadpipeEnv(
		"LEADPIPE_POSTGRES_URL="+storetest.URL(),
		"LEADPIPE_HTTP_ADDR="+httpAddr,
		"LEADPIPE_FILES_DIR="+t.TempDir(),
		"LEADPIPE_WORKERS=1",
		"LEADPIPE_POLL_INTERVAL=100ms",
		"LEADPIPE_LOG_LEVEL=warn",
		"LEADPIPE_KAFKA_EMBEDDED_ADDR="+kafkaAddr,
		"LEADPIPE_KAFKA_DATA_DIR=",
		"LEADPIPE_KAFKA_EMBEDDED_RETENTION_BYTES="+strconv.Itoa(soakRetention),
	)
	account := fmt.Sprintf("soak-%d", time.Now().UnixNano())
	run(t, bin, env, "account", "create", account)
	pid := startProcess(t, bin, env, "serve")
	metrics := "http://" + httpAddr + "/metrics"
	waitUntil(t, time.Minute, "the daemon answers /metrics", func() bool { _, ok := get(metrics); return ok })
	csv := writeCSV(t, soakRowsPerImport)
	for range imports {
		run(t, bin, env, "import", csv, "--account", account, "--queue")
	}

	// Sample until every import completed and its outcomes are on the topic.
	type sample struct {
		published int64 // outcomes on the topic so far
		rss       int64
	}
	var samples []sample
	start := time.Now()
	deadline := start.Add(15 * time.Minute)
	for {
		published, _ := topicOffsets(t, kafkaAddr, "leadpipe.outcomes")
		samples = append(samples, sample{published, vmRSS(t, pid)})
		var completed int
		if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM imports i JOIN accounts a ON a.id = i.account_id
			WHERE a.name = $1 AND i.status = 'completed'`, account).Scan(&completed); err != nil {
			t.Fatal(err)
		}
		page, _ := get(metrics)
		if backlog, ok := metricValue(page, `leadpipe_sink_backlog_rows{sink="kafka"}`); ok && backlog == 0 &&
			completed == imports && published >= int64(rows) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s, %d of %d outcomes published", time.Since(start).Round(time.Second), published, rows)
		}
		time.Sleep(250 * time.Millisecond)
	}

	var firstPeak, secondPeak int64
	for _, s := range samples {
		if s.published <= int64(rows)/2 {
			firstPeak = max(firstPeak, s.rss)
		} else {
			secondPeak = max(secondPeak, s.rss)
		}
	}
	// Once the outcomes stop, the broker keeps what its retention allows: outcomes take about
	// 150 bytes (the bound counts 100); while they flow, also what came since its last check.
	const maxKept = 3 * soakRetention / 100
	published, kept := topicOffsets(t, kafkaAddr, "leadpipe.outcomes")
	for stop := time.Now().Add(10 * time.Second); kept > maxKept && time.Now().Before(stop); time.Sleep(100 * time.Millisecond) {
		published, kept = topicOffsets(t, kafkaAddr, "leadpipe.outcomes")
	}
	t.Logf("%d outcomes published in %s (%d samples); %d kept on the topic; daemon RSS peak %.1f MB in the first half, %.1f MB in the second",
		published, time.Since(start).Round(time.Second), len(samples), kept, mb(firstPeak), mb(secondPeak))
	if growth := secondPeak - firstPeak; growth > soakMaxGrowth {
		t.Errorf("the daemon's RSS peaked %.1f MB higher in the second half of the soak than in the first, want at most %.1f MB",
			mb(growth), mb(soakMaxGrowth))
	}
	if kept > maxKept {
		t.Errorf("%d outcomes kept on the topic 10s after the last was published, want at most %d", kept, maxKept)
	}
}

func mb(n int64) float64 { return float64(n) / (1 << 20) }

// writeCSV writes a CSV of rows prospects, each with an email of its own.
func writeCSV(t *testing.T, rows int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "soak.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "Email,First Name,Last Name,Company")
	for i := range rows {
		fmt.Fprintf(w, "p%d@soak.example.com,First%d,Last%d,Company %d\n", i, i, i, i%50)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return path
}

// buildLeadpipe builds the leadpipe command into a temporary directory.
func buildLeadpipe(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "leadpipe")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/leadpipe/leadpipe/cmd/leadpipe").CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/leadpipe: %v\n%s", err, out)
	}
	return bin
}

// leadpipeEnv is the test's environment without its LEADPIPE_ settings, then settings.
func leadpipeEnv(settings ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LEADPIPE_") {
			env = append(env, kv)
		}
	}
	return append(env, settings...)
}

// run runs a leadpipe command to its end.
func run(t *testing.T, bin string, env []string, args ...string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("leadpipe %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// startProcess runs a leadpipe command until the test ends, when it gets SIGTERM, and
// returns its process id.
func startProcess(t *testing.T, bin string, env []string, args ...string) int {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	log := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = io.Discard, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck // Wait reports how it ended
		if err := cmd.Wait(); err != nil {
			t.Errorf("leadpipe %s: %v; log:\n%s", strings.Join(args, " "), err, log.String())
		}
	})
	return cmd.Process.Pid
}

// waitUntil polls cond until it holds, failing the test after timeout.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// get returns the body of url, and whether it answered 200.
func get(url string) (string, bool) {
	resp, err := http.Get(url)
	if err != nil {
		return "", false
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return string(body), err == nil && resp.StatusCode == http.StatusOK
}

// metricValue finds the sample line "name value" in a /metrics page.
func metricValue(page, name string) (float64, bool) {
	for _, line := range strings.Split(page, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f, err == nil
		}
	}
	return 0, false
}

// vmRSS is the resident memory of process pid, in bytes.
func vmRSS(t *testing.T, pid int) int64 {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("VmRSS of process %d: %q", pid, line)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmRSS for process %d", pid)
	return 0
}

// topicOffsets returns how many messages were ever published to topic on the broker at addr,
// the sum of its partitions' end offsets, and how many of them it keeps; 0, 0 while the topic
// does not exist.
func topicOffsets(t *testing.T, addr, topic string) (published, kept int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := kafka.DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatalf("dial kafka %s: %v", addr, err)
	}
	defer conn.Close()
	partitions, err := conn.ReadPartitions(topic)
	if err != nil {
		return 0, 0
	}
	for _, p := range partitions {
		leader, err := kafka.DialLeader(ctx, "tcp", addr, topic, p.ID)
		if err != nil {
			t.Fatalf("dial the leader of %s/%d: %v", topic, p.ID, err)
		}
		first, last, err := leader.ReadOffsets()
		leader.Close()
		if err != nil {
			t.Fatalf("offsets of %s/%d: %v", topic, p.ID, err)
		}
		published += last
		kept += last - first
	}
	return published, kept
}
