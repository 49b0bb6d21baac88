package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadpipe/leadpipe/api"
	"github.com/leadpipe/leadpipe/internal/syncbuf"
	"github.com/leadpipe/leadpipe/store"
	"github.com/leadpipe/leadpipe/store/storetest"
)

// startCLI runs `leadpipe args…` in a process of its own, with the test's settings, and returns
// it with what it writes. The process is killed, if still running, when the test ends.
func startCLI(t *testing.T, args ...string) (*exec.Cmd, *syncbuf.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), asCLIVar+"=1")
	out := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start leadpipe %s: %v", strings.Join(args, " "), err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill() //nolint:errcheck // it may have exited
		cmd.Wait()         //nolint:errcheck // killed
	})
	return cmd, out
}

// importState is what the tests here read of an import.
type importState struct {
	status         string
	checkpoint     int
	ended          bool // finished_at is set
	leaseOwner     *string
	cancelledEvent int // its `cancelled` events
}

func readImport(t *testing.T, pool *pgxpool.Pool, id int64) importState {
	t.Helper()
	var s importState
	err := pool.QueryRow(context.Background(), `SELECT status, checkpoint_row, finished_at IS NOT NULL, lease_owner,
			(SELECT count(*) FROM import_events WHERE import_id = $1 AND kind = 'cancelled')
		FROM imports WHERE id = $1`, id).Scan(&s.status, &s.checkpoint, &s.ended, &s.leaseOwner, &s.cancelledEvent)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// cancelWhile cancels an import in a transaction that holds the import's row until do has
// returned: the import's holder cannot record a batch in between, so do's stop lands on a
// cancel that its holder has not seen.
func cancelWhile(t *testing.T, pool *pgxpool.Pool, acct store.Account, id int64, do func()) {
	t.Helper()
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // committed below
	if _, err := store.CancelImport(ctx, tx, acct.ID, id); err != nil {
		t.Fatal(err)
	}
	do()
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// wantEndedCancelled checks that an import ended cancelled, let go and with one cancelled
// event, and that the rows it recorded are those its checkpoint says.
func wantEndedCancelled(t *testing.T, pool *pgxpool.Pool, id int64) {
	t.Helper()
	s := readImport(t, pool, id)
	if s.status != store.StatusCancelled || !s.ended || s.leaseOwner != nil || s.cancelledEvent != 1 {
		t.Errorf("import %d: status %s, ended %v, lease owner %v, %d cancelled events; want cancelled, ended, no owner, 1 event",
			id, s.status, s.ended, s.leaseOwner, s.cancelledEvent)
	}
	if n := count(t, pool, "SELECT count(*) FROM import_rows WHERE import_id = $1", id); n != max(s.checkpoint-1, 0) { // row 1 is the header
		t.Errorf("import %d: %d row outcomes, checkpoint at row %d", id, n, s.checkpoint)
	}
}

// bigImportEnv sets what the tests here share: the test database, small batches, one worker
// polling often, and an HTTP address of its own for serve.
func bigImportEnv(t *testing.T) (*pgxpool.Pool, store.Account, string) {
	t.Helper()
	pool := cliEnv(t)
	t.Setenv("LEADPIPE_BATCH_SIZE", "500")
	t.Setenv("LEADPIPE_WORKERS", "1")
	t.Setenv("LEADPIPE_POLL_INTERVAL", "50ms")
	t.Setenv("LEADPIPE_HTTP_ADDR", unusedAddr(t))
	return pool, storetest.Account(t, pool, -1), writeBigCSV(t, 60000)
}

// A daemon stopped (SIGTERM) right after its running import was cancelled ends the import as
// cancelled, with its event, instead of putting it back in the queue.
func TestServeStoppedRightAfterCancelEndsTheImport(t *testing.T) {
	pool, acct, path := bigImportEnv(t)
	out := mustCLI(t, "import", path, "--account", acct.Name, "--queue")
	id := jsonInt(t, oneJSON(t, out), "import_id")

	ctx, sigterm := context.WithCancel(context.Background()) // as SIGTERM does
	defer sigterm()
	log := &syncbuf.Buffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, io.Discard, log) }()
	waitUntil(t, log, "a few batches", func() bool { return readImport(t, pool, id).checkpoint >= 2000 })
	cancelWhile(t, pool, acct, id, func() {
		sigterm() // serve then waits for its worker, which waits for the cancel to commit
		waitLog(t, log, "leadpipe stopping")
		time.Sleep(200 * time.Millisecond)
	})
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("serve did not stop within 15s; log:\n%s", log.String())
	}
	wantEndedCancelled(t, pool, id)
	if l := log.String(); strings.Contains(l, "resumes from its checkpoint") || !strings.Contains(l, "import cancelled") {
		t.Errorf("the log does not say the import was cancelled:\n%s", l)
	}
}

// A foreground import killed (SIGKILL) right after it was cancelled is ended, with its event,
// by the sweep of any daemon on the database once its lease has lapsed.
func TestForegroundImportKilledAfterCancelEnds(t *testing.T) {
	pool, acct, path := bigImportEnv(t)
	t.Setenv("LEADPIPE_LEASE", "1s")
	cmd, out := startCLI(t, "import", path, "--account", acct.Name)
	var id int64
	waitUntil(t, out, "a few batches", func() bool {
		return pool.QueryRow(context.Background(), "SELECT id FROM imports WHERE account_id = $1 AND checkpoint_row >= 2000",
			acct.ID).Scan(&id) == nil
	})
	cancelWhile(t, pool, acct, id, func() {
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		cmd.Wait() //nolint:errcheck // killed
	})
	if s := readImport(t, pool, id); s.ended {
		t.Fatalf("import %d ended with its holder killed: %+v", id, s)
	}

	log := serveInBackground(t)
	waitUntil(t, log, "the import's end", func() bool { return readImport(t, pool, id).ended })
	wantEndedCancelled(t, pool, id)
	waitLog(t, log, "cancelled imports ended", "import_ids")
}

// Cancelling an import whose holder died ends it at once, with its event: no holder is left
// to end it. A cancel its holder has not seen yet is not an end: cancelling again answers the
// import as it is, and ends it once the holder is gone.
func TestCancelWithTheHolderGone(t *testing.T) {
	pool := cliEnv(t)
	acct := storetest.Account(t, pool, -1)
	path := writeTestFile(t, "few.csv", []byte("email\na@gone.example\nb@gone.example\n"))
	hold := func(lapsed bool) int64 {
		t.Helper()
		id := jsonInt(t, oneJSON(t, mustCLI(t, "import", path, "--account", acct.Name, "--queue")), "import_id")
		expires := "now() + interval '1 hour'"
		if lapsed {
			expires = "now() - interval '1 second'"
		}
		if _, err := pool.Exec(context.Background(), `UPDATE imports SET status = 'running', lease_owner = 'cli:gone:1',
			lease_expires_at = `+expires+` WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	cancel := func(id int64) map[string]any {
		t.Helper()
		return oneJSON(t, mustCLI(t, "imports", "cancel", strconv.FormatInt(id, 10), "--account", acct.Name))
	}

	interrupted := hold(true)
	if v := cancel(interrupted); v["status"] != "cancelled" || v["finished_at"] == nil {
		t.Errorf("cancel of an interrupted import answered %v, want it cancelled and ended", v)
	}
	wantEndedCancelled(t, pool, interrupted)

	held := hold(false)
	for range 2 {
		if v := cancel(held); v["status"] != "cancelled" || v["finished_at"] != nil {
			t.Errorf("cancel of a held import answered %v, want it cancelled, not ended", v)
		}
	}
	if s := readImport(t, pool, held); s.ended || s.cancelledEvent != 0 {
		t.Errorf("held import after cancel: %+v, want it not ended, no event", s)
	}
	if _, err := pool.Exec(context.Background(), "UPDATE imports SET lease_expires_at = now() - interval '1 second' WHERE id = $1", held); err != nil {
		t.Fatal(err)
	}
	if v := cancel(held); v["finished_at"] == nil {
		t.Errorf("cancel once the holder is gone answered %v, want it ended", v)
	}
	wantEndedCancelled(t, pool, held)
}

// A foreground import killed (SIGKILL) mid-way shows as interrupted, with its dead holder, and
// `leadpipe imports resume` runs it to its end from its checkpoint: the prospects, row outcomes
// and counts are those of an uninterrupted import of the same file.
func TestResumeKilledForegroundImport(t *testing.T) {
	pool, acct, path := bigImportEnv(t)
	t.Setenv("LEADPIPE_LEASE", "1s")
	cmd, out := startCLI(t, "import", path, "--account", acct.Name)
	var id int64
	waitUntil(t, out, "a few batches", func() bool {
		return pool.QueryRow(context.Background(), "SELECT id FROM imports WHERE account_id = $1 AND checkpoint_row >= 2000",
			acct.ID).Scan(&id) == nil
	})
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait() //nolint:errcheck // killed
	idArg := strconv.FormatInt(id, 10)

	// Shown as interrupted, held by the killed process, once its lease lapsed.
	var shown api.ImportView
	waitUntil(t, out, "the lease to lapse", func() bool {
		decode(t, mustCLI(t, "imports", "show", idArg, "--account", acct.Name), &shown)
		return shown.State == api.StateInterrupted
	})
	h := shown.Holder
	if shown.Status != store.StatusRunning || h == nil || h.Kind != store.HolderCLI || h.PID != cmd.Process.Pid || h.Alive {
		t.Errorf("interrupted import shown as %+v, holder %+v; want running, held by the dead cli process %d", shown, h, cmd.Process.Pid)
	}
	var list api.ImportList
	decode(t, mustCLI(t, "imports", "list", "--account", acct.Name), &list)
	if len(list.Imports) != 1 || list.Imports[0].State != api.StateInterrupted {
		t.Errorf("imports list shows %+v, want the import interrupted", list.Imports)
	}

	stdout, stderr, err := cli(t, "imports", "resume", idArg, "--account", acct.Name)
	if err != nil || !strings.Contains(stderr, "import resumed") {
		t.Fatalf("imports resume: %v, log:\n%s", err, stderr)
	}
	resumed := oneJSON(t, stdout)
	other := storetest.Account(t, pool, -1)
	whole := oneJSON(t, mustCLI(t, "import", path, "--account", other.Name))
	for _, k := range []string{"kind", "status", "rows", "created", "updated", "unchanged", "skipped", "organizations_created",
		"organizations_linked", "skipped_by_reason", "warnings_by_kind", "unmapped_columns", "over_limit_warning"} {
		if fmt.Sprint(resumed[k]) != fmt.Sprint(whole[k]) {
			t.Errorf("%s: resumed %v, uninterrupted %v", k, resumed[k], whole[k])
		}
	}
	if resumed["kind"] != "prospects" || resumed["status"] != store.StatusCompleted || jsonInt(t, resumed, "rows") != 60000 {
		t.Errorf("resume answered %v, want completed with 60000 rows", resumed)
	}
	wholeID := jsonInt(t, whole, "import_id")
	query := map[string]string{
		"prospects": `SELECT coalesce(p.email, '') || ',' || coalesce(p.first_name, '') || ',' || coalesce(p.last_name, '') || ',' ||
			coalesce(o.name, '') FROM prospects p LEFT JOIN organizations o ON o.id = p.organization_id
			WHERE p.account_id = (SELECT account_id FROM imports WHERE id = $1) ORDER BY 1`,
		"outcomes": `SELECT r.row_number || ',' || r.outcome || ',' || coalesce(r.reason, '') || ',' || coalesce(p.email, '')
			FROM import_rows r LEFT JOIN prospects p ON p.id = r.entity_id WHERE r.import_id = $1 ORDER BY r.row_number`,
		"import": `SELECT status || ',' || rows_total || ',' || rows_done || ',' || created || ',' || updated || ',' || skipped || ',' ||
			(lease_owner IS NULL) || ',' || (finished_at IS NOT NULL) FROM imports WHERE id = $1`,
	}
	for what, sql := range query {
		got, want := strings.Join(textRows(t, pool, sql, id), "\n"), strings.Join(textRows(t, pool, sql, wholeID), "\n")
		if got != want || got == "" {
			t.Errorf("%s of the resumed import differ from the uninterrupted one's (%d and %d bytes)", what, len(got), len(want))
		}
	}

	// What cannot be resumed says why.
	live := jsonInt(t, oneJSON(t, mustCLI(t, "import", path, "--account", other.Name, "--queue")), "import_id")
	if _, err := pool.Exec(context.Background(), `UPDATE imports SET status = 'running', lease_owner = 'cli:elsewhere:7',
		lease_expires_at = now() + interval '1 hour' WHERE id = $1`, live); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ id, account, want string }{
		{idArg, acct.Name, "import " + idArg + " is completed: import has already ended"},
		{idArg, other.Name, "not found"},
		{strconv.FormatInt(live, 10), other.Name, "import is held by a live process (cli:elsewhere:7"},
	} {
		if _, _, err := cli(t, "imports", "resume", c.id, "--account", c.account); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("resume %s of %s: %v, want an error with %q", c.id, c.account, err, c.want)
		}
	}
	// An import whose file this process cannot read is left as it is, not failed.
	gone := writeTestFile(t, "gone.csv", []byte("email\na@gone.example\n"))
	goneID := jsonInt(t, oneJSON(t, mustCLI(t, "import", gone, "--account", other.Name, "--queue")), "import_id")
	if err := os.Remove(gone); err != nil {
		t.Fatal(err)
	}
	_, _, err = cli(t, "imports", "resume", strconv.FormatInt(goneID, 10), "--account", other.Name)
	if err == nil || !strings.Contains(err.Error(), "gone.csv) cannot be read here: no such file") || strings.Contains(err.Error(), gone) {
		t.Errorf("resume of an import whose file is gone: %v, want it cannot be read here, without the path", err)
	}
	if s := readImport(t, pool, goneID); s.status != store.StatusQueued {
		t.Errorf("import whose file is gone is %s after resume, want it left queued", s.status)
	}
	// One that ended says so, whatever became of its file.
	if _, err := pool.Exec(context.Background(), `UPDATE imports SET status = 'completed', finished_at = now() WHERE id = $1`, goneID); err != nil {
		t.Fatal(err)
	}
	_, _, err = cli(t, "imports", "resume", strconv.FormatInt(goneID, 10), "--account", other.Name)
	if err == nil || !strings.Contains(err.Error(), "has already ended") {
		t.Errorf("resume of an ended import whose file is gone: %v, want it has already ended", err)
	}
}

// textRows returns the one text column of a query's rows.
func textRows(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), sql, args...)
	if err != nil {
		t.Fatal(err)
	}
	list, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return list
}
