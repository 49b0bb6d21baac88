package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/internal/syncbuf"
	"github.com/leadpipe/leadpipe/store/storetest"
)

// serveProcess runs `leadpipe serve` as a process of its own (this test binary running main),
// with the test's environment plus env, at most nofile open files (0: no new limit), and waits
// until its /healthz answers. It returns the process, the base URL and the process's output.
// The process is killed at the end of the test if it still runs.
func serveProcess(t *testing.T, nofile int, env ...string) (*exec.Cmd, string, *syncbuf.Buffer) {
	t.Helper()
	addr := unusedAddr(t)
	cmd := exec.Command(os.Args[0], "serve")
	if nofile > 0 {
		cmd = exec.Command("sh", "-c", `ulimit -n `+strconv.Itoa(nofile)+` && exec "$0" serve`, os.Args[0])
	}
	cmd.Env = append(os.Environ(), asCLIVar+"=1", "LEADPIPE_POSTGRES_URL="+storetest.URL(), "LEADPIPE_CONFIG=",
		"LEADPIPE_CLICKHOUSE_ADDR=", "LEADPIPE_HTTP_ADDR="+addr, "LEADPIPE_FILES_DIR="+t.TempDir())
	cmd.Env = append(cmd.Env, env...)
	out := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill() //nolint:errcheck // it may have just exited
			cmd.Wait()         //nolint:errcheck // killed
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			return cmd, base, out
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not answer /healthz: %v; output:\n%s", err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSIGHUPStopsGracefully sends SIGHUP to a daemon in the middle of an import: it stops as
// on SIGTERM, exiting 0 with the import back in the queue at its checkpoint and its lease
// released, rather than dying with the import held until its lease lapses.
func TestSIGHUPStopsGracefully(t *testing.T) {
	pool := cliEnv(t)
	account := uniqueName(t)
	mustCLI(t, "account", "create", account)
	var csv strings.Builder
	csv.WriteString("Email,First Name\n")
	for i := range 60000 {
		fmt.Fprintf(&csv, "p%d@hup.example,First%d\n", i, i)
	}
	path := writeTestFile(t, "hup.csv", []byte(csv.String()))
	mustCLI(t, "import", path, "--account", account, "--queue")
	var id int64
	if err := pool.QueryRow(t.Context(), "SELECT i.id FROM imports i JOIN accounts a ON a.id = i.account_id WHERE a.name = $1", account).Scan(&id); err != nil {
		t.Fatal(err)
	}

	cmd, _, out := serveProcess(t, 0, "LEADPIPE_BATCH_SIZE=500", "LEADPIPE_WORKERS=1", "LEADPIPE_POLL_INTERVAL=50ms")
	var status string
	var checkpoint int
	var owner *string
	state := func() {
		t.Helper()
		if err := pool.QueryRow(t.Context(), "SELECT status, checkpoint_row, lease_owner FROM imports WHERE id = $1", id).Scan(&status, &checkpoint, &owner); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for state(); checkpoint < 2000; state() {
		if time.Now().After(deadline) {
			t.Fatalf("the import did not get going: %s at row %d; output:\n%s", status, checkpoint, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("serve ended with %v on SIGHUP, want exit status 0; output:\n%s", err, out.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("serve still runs 20s after SIGHUP; output:\n%s", out.String())
	}
	state()
	if status != "queued" || owner != nil || checkpoint < 2000 {
		t.Fatalf("after SIGHUP the import is %s at row %d held by %v, want queued at its checkpoint with no owner", status, checkpoint, owner)
	}
	if !strings.Contains(out.String(), "leadpipe stopped") {
		t.Errorf("serve did not log its stop; output:\n%s", out.String())
	}
}
