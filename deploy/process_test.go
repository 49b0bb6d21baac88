package deploy_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/internal/freeport"
	"github.com/leadpipe/leadpipe/internal/syncbuf"
	"github.com/leadpipe/leadpipe/store/storetest"
)

// freeAddr returns a loopback address no one listens on now.
func freeAddr(t *testing.T) string { return freeport.Addr(t) }

// start starts a long-running program whose output goes to the returned buffer. At the end
// of the test it gets SIGTERM, then SIGKILL if it has not exited 15 seconds later, and the
// test waits for it.
func start(t *testing.T, env []string, name string, args ...string) *syncbuf.Buffer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 15 * time.Second
	out := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		cancel()
		if err := cmd.Wait(); err != nil && cmd.ProcessState.ExitCode() != 0 && !strings.Contains(err.Error(), "signal: terminated") {
			t.Errorf("%s exited with %v; output:\n%s", filepath.Base(name), err, out.String())
		}
	})
	return out
}

// waitHTTP waits until GET url answers 200, failing with the program's output when it does
// not within a minute.
func waitHTTP(t *testing.T, url string, out *syncbuf.Buffer) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer 200 (last: %v); output:\n%s", url, err, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// daemon is a `leadpipe serve` process run by a test, with an account and its API token.
type daemon struct {
	bin, base, account, token string
	watched                   string // the account's watched directory
	env                       []string
	log                       *syncbuf.Buffer
}

// buildLeadpipe builds the leadpipe command into a temporary directory.
func buildLeadpipe(t *testing.T) string {
	t.Helper()
	goBin := tool(t, "go", "the Go toolchain")
	bin := filepath.Join(t.TempDir(), "leadpipe")
	cmd := exec.Command(goBin, "build", "-o", bin, "github.com/leadpipe/leadpipe/cmd/leadpipe")
	cmd.Dir = repoPath()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/leadpipe: %v\n%s", err, out)
	}
	return bin
}

// startDaemon builds leadpipe and runs `leadpipe serve` on a port of its own, against the
// test database, with an account (which also owns a watched directory) and an API token.
// Every setting comes from the environment it is given here, not from the test's.
func startDaemon(t *testing.T) *daemon {
	t.Helper()
	storetest.Pool(t) // migrated and reachable, or skip (fail in CI)
	b := make([]byte, 4)
	rand.Read(b) //nolint:errcheck // crypto/rand does not fail
	dir := t.TempDir()
	d := &daemon{bin: buildLeadpipe(t), account: "deploy-test-" + hex.EncodeToString(b), watched: filepath.Join(dir, "watched")}
	if err := os.MkdirAll(d.watched, 0o755); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	d.base = "http://" + addr
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LEADPIPE_") {
			d.env = append(d.env, kv)
		}
	}
	d.env = append(d.env,
		"LEADPIPE_POSTGRES_URL="+storetest.URL(),
		"LEADPIPE_HTTP_ADDR="+addr,
		"LEADPIPE_WORKERS=2",
		"LEADPIPE_POLL_INTERVAL=100ms",
		"LEADPIPE_FILES_DIR="+filepath.Join(dir, "files"),
		"LEADPIPE_FILE_ROOT="+filepath.Join(dir, "inbox"),
		"LEADPIPE_KAFKA_EMBEDDED_ADDR="+freeAddr(t),
		"LEADPIPE_KAFKA_DATA_DIR="+filepath.Join(dir, "kafka"),
		"LEADPIPE_WATCH="+d.watched+"="+d.account,
		"LEADPIPE_WATCH_QUIET=200ms",
		"LEADPIPE_WATCH_INTERVAL=100ms",
	)
	d.cli(t, "account", "create", d.account)
	d.token = strings.TrimSpace(d.cli(t, "token", "create", "--account", d.account))
	d.log = start(t, d.env, d.bin, "serve")
	waitHTTP(t, d.base+"/readyz", d.log)
	return d
}

// cli runs a leadpipe command with the daemon's settings and returns its standard output.
func (d *daemon) cli(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, d.bin, args...)
	cmd.Env = d.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("leadpipe %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}
