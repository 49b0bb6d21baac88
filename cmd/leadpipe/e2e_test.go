package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/segmentio/kafka-go"

	"github.com/leadpipe/leadpipe/broker"
	"github.com/leadpipe/leadpipe/broker/brokertest"
	"github.com/leadpipe/leadpipe/internal/syncbuf"
	"github.com/leadpipe/leadpipe/sinks/clickhouse/analyticstest"
	kafkasink "github.com/leadpipe/leadpipe/sinks/kafka"
)

// e2e is one daemon with every source and sink on, against real services: Postgres, a Kafka
// broker and a ClickHouse server the test can stop and restart, a watched directory and a file
// root for requests.
type e2e struct {
	t        *testing.T
	pool     *pgxpool.Pool
	account  string
	watchDir string
	fileRoot string
	kafka    *broker.Broker
	kafkaDir string
	ch       *analyticstest.Server
	chConn   driver.Conn
	httpAddr string
	log      *syncbuf.Buffer
}

func startE2E(t *testing.T) *e2e {
	t.Helper()
	e := &e2e{t: t, pool: cliEnv(t), account: uniqueName(t), watchDir: t.TempDir(), fileRoot: t.TempDir(),
		kafkaDir: t.TempDir(), httpAddr: unusedAddr(t)}
	mustCLI(t, "account", "create", e.account)
	e.kafka = brokertest.Start(t, unusedAddr(t), e.kafkaDir)
	e.ch = analyticstest.StartServer(t)
	e.chConn = analyticstest.Conn(t, e.ch.Addr(), "default")
	for k, v := range map[string]string{
		"LEADPIPE_CLICKHOUSE_ADDR": e.ch.Addr(), "LEADPIPE_CLICKHOUSE_DATABASE": "leadpipe_e2e",
		"LEADPIPE_KAFKA_BROKERS": e.kafka.Addr(), "LEADPIPE_WATCH": e.watchDir + "=" + e.account,
		"LEADPIPE_WATCH_INTERVAL": "50ms", "LEADPIPE_WATCH_QUIET": "200ms", "LEADPIPE_FILE_ROOT": e.fileRoot,
		"LEADPIPE_FILES_DIR": t.TempDir(), "LEADPIPE_POLL_INTERVAL": "50ms",
		"LEADPIPE_BATCH_SIZE": "100",
	} {
		t.Setenv(k, v)
	}
	e.log = e.startDaemon()
	return e
}

// startDaemon starts a `leadpipe serve` with the test's settings and a port of its own, and
// waits until it serves.
func (e *e2e) startDaemon() *syncbuf.Buffer {
	e.t.Helper()
	e.t.Setenv("LEADPIPE_HTTP_ADDR", e.httpAddr)
	log, _ := runInBackground(e.t, "serve")
	waitLog(e.t, log, "leadpipe serving")
	return log
}

// prospectsCSV is a file of n rows: every tenth has an invalid email, every seventh repeats an
// earlier row's email.
func prospectsCSV(tag string, n int) []byte {
	var b strings.Builder
	b.WriteString("Email,First Name,Company\n")
	for i := 1; i <= n; i++ {
		email := fmt.Sprintf("p%d@%s.example", i, tag)
		switch {
		case i%10 == 0:
			email = "not-an-email-" + strconv.Itoa(i)
		case i%7 == 0:
			email = fmt.Sprintf("p%d@%s.example", i/2, tag)
		}
		fmt.Fprintf(&b, "%s,Name%d,Company %d\n", email, i, i%13)
	}
	return []byte(b.String())
}

// drop writes a file beside the watched directory and renames it in, as a producer should.
func (e *e2e) drop(name string, content []byte) {
	e.t.Helper()
	tmp := filepath.Join(filepath.Dir(e.watchDir), "."+name)
	if err := os.WriteFile(tmp, content, 0o644); err != nil {
		e.t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(e.watchDir, name)); err != nil {
		e.t.Fatal(err)
	}
}

// request writes a file under the file root and sends an import request for it.
func (e *e2e) request(name string, content []byte) {
	e.t.Helper()
	if err := os.WriteFile(filepath.Join(e.fileRoot, name), content, 0o644); err != nil {
		e.t.Fatal(err)
	}
	w := &kafka.Writer{Addr: kafka.TCP(e.kafka.Addr()), Topic: "leadpipe.requests", RequiredAcks: kafka.RequireAll,
		AllowAutoTopicCreation: true}
	defer w.Close()
	msg := fmt.Sprintf(`{"version": 1, "account": %q, "file": %q, "options": {"list": "e2e"}}`, e.account, name)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, kafka.Message{Value: []byte(msg)}); err != nil {
		e.t.Fatal(err)
	}
}

// importOf waits until the account has an import of the file name from source, and returns
// its id.
func (e *e2e) importOf(source, name string) int64 {
	e.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var id int64
		err := e.pool.QueryRow(context.Background(), `SELECT i.id FROM imports i JOIN accounts a ON a.id = i.account_id
			WHERE a.name = $1 AND i.source = $2 AND i.file_name = $3`, e.account, source, name).Scan(&id)
		if err == nil {
			return id
		}
		if err != pgx.ErrNoRows {
			e.t.Fatal(err)
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("no %s import of %s within a minute; log:\n%s", source, name, e.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitFor polls cond until it holds, for up to two minutes.
func (e *e2e) waitFor(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("%s: not within two minutes; log:\n%s", what, e.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (e *e2e) status(id int64) (status string, rowsDone int) {
	e.t.Helper()
	if err := e.pool.QueryRow(context.Background(), "SELECT status, rows_done FROM imports WHERE id = $1", id).
		Scan(&status, &rowsDone); err != nil {
		e.t.Fatal(err)
	}
	return status, rowsDone
}

// undo asks the daemon's API to undo an import, and returns the undo's id.
func (e *e2e) undo(id int64) int64 {
	e.t.Helper()
	token := strings.TrimSpace(mustCLI(e.t, "token", "create", "--account", e.account))
	req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("http://%s/v1/imports/%d/undo", e.httpAddr, id), nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct {
		ID     int64 `json:"id"`
		UndoOf int64 `json:"undo_of"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode != http.StatusAccepted || v.UndoOf != id {
		e.t.Fatalf("POST /v1/imports/%d/undo: %s, %+v, %v; want 202 with the undo", id, resp.Status, v, err)
	}
	return v.ID
}

// delivered reports whether sink has delivered everything the import committed.
func (e *e2e) delivered(sink string, id int64) bool {
	var done bool
	err := e.pool.QueryRow(context.Background(), `SELECT i.status = 'completed' AND c.row_number >= i.checkpoint_row
			AND c.event_seq >= i.event_seq
		FROM imports i JOIN sink_cursors c ON c.import_id = i.id AND c.sink = $2 WHERE i.id = $1`, id, sink).Scan(&done)
	return err == nil && done
}

// outcomeLine is a row outcome as compared between Postgres and the sinks: its import's kind,
// and the row's outcome, skip reason and entity id.
func outcomeLine(kind string, row int, outcome, reason string, entityID int64) string {
	return fmt.Sprintf("%s %d %s %s %d", kind, row, outcome, reason, entityID)
}

// undoLine is outcomeLine of an undo's row, which names the import it takes back and that
// import's row; line itself for an import's row (undoOf 0).
func undoLine(line string, undoOf int64, sourceRow int) string {
	if undoOf == 0 {
		return line
	}
	return fmt.Sprintf("%s undo_of=%d source_row=%d", line, undoOf, sourceRow)
}

// postgresOutcomes returns the import's committed row outcomes, in row order.
func (e *e2e) postgresOutcomes(id int64) []string {
	e.t.Helper()
	rows, err := e.pool.Query(context.Background(), `SELECT i.kind, r.row_number, r.outcome, coalesce(r.reason, ''),
		coalesce(r.entity_id, 0), coalesce(i.undo_of, 0), coalesce(r.source_row, 0) FROM import_rows r JOIN imports i ON i.id = r.import_id
		WHERE r.import_id = $1 ORDER BY r.row_number`, id)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		var row int
		var kind, outcome, reason string
		var entity, undoOf int64
		var source int
		if err := rows.Scan(&kind, &row, &outcome, &reason, &entity, &undoOf, &source); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, undoLine(outcomeLine(kind, row, outcome, reason, entity), undoOf, source))
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// topicOutcomes returns the import's row outcomes on the outcomes topic, repeats removed, in
// row order; every message is checked to be in row order within the partition, repeats aside.
func (e *e2e) topicOutcomes(id int64) []string {
	e.t.Helper()
	seen := map[int]string{}
	last := 0
	for _, m := range brokertest.Messages(e.t, e.kafka.Addr(), "leadpipe.outcomes") {
		if string(m.Key) != strconv.FormatInt(id, 10) {
			continue
		}
		var o kafkasink.Outcome
		if err := json.Unmarshal(m.Value, &o); err != nil {
			e.t.Fatal(err)
		}
		var entity int64
		if o.EntityID != nil {
			entity = *o.EntityID
		}
		if o.Version != kafkasink.Version {
			e.t.Errorf("import %d row %d: message version %d, want %d", id, o.RowNumber, o.Version, kafkasink.Version)
		}
		line := outcomeLine(o.Kind, o.RowNumber, o.Outcome, o.Reason, entity)
		if o.UndoOf != nil && o.SourceRow != nil {
			line = undoLine(line, *o.UndoOf, *o.SourceRow)
		}
		if prev, ok := seen[o.RowNumber]; ok && prev != line {
			e.t.Errorf("import %d row %d published twice, differently: %q and %q", id, o.RowNumber, prev, line)
		}
		if o.RowNumber < last && seen[o.RowNumber] == "" {
			e.t.Errorf("import %d: row %d published after row %d", id, o.RowNumber, last)
		}
		seen[o.RowNumber] = line
		last = max(last, o.RowNumber)
	}
	rows := make([]int, 0, len(seen))
	for r := range seen {
		rows = append(rows, r)
	}
	slices.Sort(rows)
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = seen[r]
	}
	return out
}

// checkTopic checks that the outcomes topic holds every row outcome of the import exactly as
// Postgres does.
func (e *e2e) checkTopic(id int64) {
	e.t.Helper()
	want := e.postgresOutcomes(id)
	if len(want) == 0 {
		e.t.Fatalf("import %d has no row outcomes", id)
	}
	if got := e.topicOutcomes(id); !slices.Equal(got, want) {
		e.t.Errorf("import %d: %d outcomes on the topic, %d in Postgres; they differ", id, len(got), len(want))
	}
}

// checkClickHouse checks that ClickHouse holds every row outcome of the import exactly as
// Postgres does, once each to a query that reads with FINAL, and its summary.
func (e *e2e) checkClickHouse(id int64) {
	e.t.Helper()
	ctx := context.Background()
	rows, err := e.chConn.Query(ctx, `SELECT kind, row_number, outcome, reason, entity_id, undo_of, source_row
		FROM leadpipe_e2e.row_outcomes FINAL WHERE import_id = ? ORDER BY row_number`, uint64(id))
	if err != nil {
		e.t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var row, source uint32
		var kind, outcome, reason string
		var entity, undoOf uint64
		if err := rows.Scan(&kind, &row, &outcome, &reason, &entity, &undoOf, &source); err != nil {
			e.t.Fatal(err)
		}
		got = append(got, undoLine(outcomeLine(kind, int(row), outcome, reason, int64(entity)), int64(undoOf), int(source)))
	}
	rows.Close()
	if want := e.postgresOutcomes(id); !slices.Equal(got, want) {
		e.t.Errorf("import %d: %d row outcomes in ClickHouse, %d in Postgres; they differ", id, len(got), len(want))
	}
	var kind, status string
	var done, created, skipped uint32
	if err := e.chConn.QueryRow(ctx, `SELECT kind, status, rows_done, created, skipped
		FROM leadpipe_e2e.import_summaries FINAL WHERE import_id = ?`, uint64(id)).Scan(&kind, &status, &done, &created, &skipped); err != nil {
		e.t.Fatalf("import %d summary in ClickHouse: %v", id, err)
	}
	var pgKind string
	var pgDone, pgCreated, pgSkipped uint32
	if err := e.pool.QueryRow(ctx, "SELECT kind, rows_done, created, skipped FROM imports WHERE id = $1", id).
		Scan(&pgKind, &pgDone, &pgCreated, &pgSkipped); err != nil {
		e.t.Fatal(err)
	}
	if kind != pgKind || status != "completed" || done != pgDone || created != pgCreated || skipped != pgSkipped {
		e.t.Errorf("import %d summary in ClickHouse: %s %s, %d rows, %d created, %d skipped; Postgres: %s, %d, %d, %d",
			id, kind, status, done, created, skipped, pgKind, pgDone, pgCreated, pgSkipped)
	}
}

// metric returns the sum of a metric's series whose labels include every one of labels
// (`name="value"` each), as the daemon's /metrics shows it.
func (e *e2e) metric(name string, labels ...string) float64 {
	e.t.Helper()
	resp, err := http.Get("http://" + e.httpAddr + "/metrics")
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	var sum float64
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		if slices.ContainsFunc(labels, func(l string) bool { return !strings.Contains(line, l) }) {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			e.t.Fatalf("metrics line %q: %v", line, err)
		}
		sum += v
	}
	return sum
}

// TestEndToEnd: a file dropped in the watched directory and a Kafka request message each
// become a completed import whose every row outcome is on the outcomes topic exactly as in
// Postgres, whose summary and row outcomes are in ClickHouse, and the metrics moved; so are
// those of an undo of the second, which leaves it undone. Then the
// broker stops and ClickHouse is killed in the middle of an import: the import completes, and
// once they are back every row outcome is on the topic and in ClickHouse.
func TestEndToEnd(t *testing.T) {
	e := startE2E(t)
	watched0 := e.metric("leadpipe_watch_files_total", `result="imported"`)
	requested0 := e.metric("leadpipe_requests_total", `result="queued"`)
	published0 := e.metric("leadpipe_sink_rows_total", `sink="kafka"`)
	analyzed0 := e.metric("leadpipe_sink_rows_total", `sink="clickhouse"`)
	upserted0 := e.metric("leadpipe_stage_rows_in_total", `stage="upsert"`)

	e.drop("dropped.csv", prospectsCSV("dropped", 250))
	e.request("requested.csv", prospectsCSV("requested", 180))
	dropped, requested := e.importOf("watch", "dropped.csv"), e.importOf("kafka", "requested.csv")
	for _, id := range []int64{dropped, requested} {
		e.waitFor(fmt.Sprintf("import %d completed and on kafka", id), func() bool { return e.delivered("kafka", id) })
		e.checkTopic(id)
		e.waitFor(fmt.Sprintf("import %d in clickhouse", id), func() bool { return e.delivered("clickhouse", id) })
		e.checkClickHouse(id)
	}
	// An undo of the requested import, asked of the daemon's API: its row outcomes go out as an
	// import's do, to the topic and to ClickHouse.
	undo := e.undo(requested)
	e.waitFor(fmt.Sprintf("undo %d completed and on kafka", undo), func() bool { return e.delivered("kafka", undo) })
	e.checkTopic(undo)
	e.waitFor(fmt.Sprintf("undo %d in clickhouse", undo), func() bool { return e.delivered("clickhouse", undo) })
	e.checkClickHouse(undo)
	if lines := e.postgresOutcomes(undo); !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, " deleted ") }) {
		t.Errorf("undo %d: no record deleted (%d outcomes, first %q)", undo, len(lines), lines[:min(1, len(lines))])
	}
	if s, _ := e.status(requested); s != "undone" {
		t.Errorf("import %d is %s after its undo, want undone", requested, s)
	}
	e.waitFor("the dropped file in processed/", func() bool {
		_, err := os.Stat(filepath.Join(e.watchDir, "processed", "dropped.csv"))
		return err == nil
	})
	for _, m := range []struct {
		name, label string
		at0, least  float64
	}{
		{"leadpipe_watch_files_total", `result="imported"`, watched0, 1},
		{"leadpipe_requests_total", `result="queued"`, requested0, 1},
		{"leadpipe_sink_rows_total", `sink="kafka"`, published0, 430},
		{"leadpipe_sink_rows_total", `sink="clickhouse"`, analyzed0, 430},
		{"leadpipe_stage_rows_in_total", `stage="upsert"`, upserted0, 430},
	} {
		if got := e.metric(m.name, m.label); got-m.at0 < m.least {
			t.Errorf("%s{%s} moved by %v, want at least %v", m.name, m.label, got-m.at0, m.least)
		}
	}

	// The broker stops and ClickHouse dies while an import runs; the import completes without them.
	e.drop("outage.csv", prospectsCSV("outage", 3000))
	outage := e.importOf("watch", "outage.csv")
	e.waitFor("the import under way", func() bool { _, done := e.status(outage); return done > 0 })
	e.kafka.Close()
	e.ch.Kill(t)
	e.waitFor("the import completed while the broker and ClickHouse are down", func() bool { s, _ := e.status(outage); return s == "completed" })
	if e.delivered("kafka", outage) || e.delivered("clickhouse", outage) {
		t.Fatal("every outcome delivered with the sinks down: the outage came too late to test anything")
	}
	e.ch.Start(t)
	b, err := broker.Start(e.kafka.Addr(), e.kafkaDir, broker.Retention{})
	if err != nil {
		t.Fatalf("restart the broker: %v", err)
	}
	t.Cleanup(b.Close)
	e.kafka = b
	e.waitFor("every outcome published after the broker came back", func() bool { return e.delivered("kafka", outage) })
	e.checkTopic(outage)
	e.checkTopic(dropped) // what was published before the outage is still there
	e.waitFor("every outcome in clickhouse after it came back", func() bool { return e.delivered("clickhouse", outage) })
	e.checkClickHouse(outage)
	e.checkClickHouse(dropped)
}

// TestTwoDaemonsImportEachDroppedFileOnce: two daemons watch one directory; each of 20 files
// dropped there is imported exactly once and moved to processed/.
func TestTwoDaemonsImportEachDroppedFileOnce(t *testing.T) {
	e := startE2E(t)
	first := e.httpAddr
	e.httpAddr = unusedAddr(t)
	second := e.startDaemon()
	e.httpAddr = first
	const files = 20
	for i := 1; i <= files; i++ {
		e.drop(fmt.Sprintf("f%02d.csv", i), prospectsCSV(fmt.Sprintf("twice%d", i), 30))
	}
	e.waitFor("every file imported and moved to processed/", func() bool {
		entries, err := os.ReadDir(filepath.Join(e.watchDir, "processed"))
		return err == nil && len(entries) >= files
	})
	rows, err := e.pool.Query(context.Background(), `SELECT i.file_name, count(*), min(i.status) FROM imports i
		JOIN accounts a ON a.id = i.account_id WHERE a.name = $1 GROUP BY i.file_name ORDER BY i.file_name`, e.account)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var name, status string
		var n int
		if err := rows.Scan(&name, &n, &status); err != nil {
			t.Fatal(err)
		}
		if n != 1 || status != "completed" {
			t.Errorf("%s: %d imports, status %s; want one, completed", name, n, status)
		}
		names = append(names, name)
	}
	if rows.Err() != nil || len(names) != files {
		t.Fatalf("imports of %d files (%v), want %d", len(names), rows.Err(), files)
	}
	entries, err := os.ReadDir(filepath.Join(e.watchDir, "processed"))
	if err != nil {
		t.Fatal(err)
	}
	var moved []string
	for _, en := range entries {
		moved = append(moved, en.Name())
	}
	if !slices.Equal(moved, names) {
		t.Errorf("processed/ holds %v, want %v", moved, names)
	}
	t.Logf("claimed: %d files by the first daemon, %d by the second",
		strings.Count(e.log.String(), "watch file claimed"), strings.Count(second.String(), "watch file claimed"))
}
