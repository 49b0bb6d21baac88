package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/internal/syncbuf"
)

// TestServeWatch checks that `leadpipe serve` watches the directories of LEADPIPE_WATCH: a
// file renamed into one is imported by the daemon's workers into the directory's account and
// moved to processed/, where its import's original file is found.
func TestServeWatch(t *testing.T) {
	cliEnv(t)
	account := uniqueName(t)
	mustCLI(t, "account", "create", account)
	dir := t.TempDir()
	t.Setenv("LEADPIPE_WATCH", dir+"="+account)
	t.Setenv("LEADPIPE_WATCH_INTERVAL", "20ms")
	t.Setenv("LEADPIPE_HTTP_ADDR", unusedAddr(t))
	t.Setenv("LEADPIPE_FILES_DIR", t.TempDir())
	t.Setenv("LEADPIPE_POLL_INTERVAL", "50ms")

	errOut := serveInBackground(t)

	content := "Email,First Name\nada@watch.example,Ada\n"
	tmp := filepath.Join(dir, ".drop.csv.part")
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "drop.csv")); err != nil {
		t.Fatal(err)
	}
	processed := filepath.Join(dir, "processed", "drop.csv")
	deadline := time.Now().Add(30 * time.Second)
	for _, err := os.Stat(processed); err != nil; _, err = os.Stat(processed) {
		if time.Now().After(deadline) {
			t.Fatalf("drop.csv was not processed; log:\n%s", errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	var list struct {
		Imports []struct {
			ID       int64  `json:"id"`
			Source   string `json:"source"`
			FileName string `json:"file_name"`
			Status   string `json:"status"`
			Created  int    `json:"created"`
		} `json:"imports"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, "imports", "list", "--account", account)), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Imports) != 1 {
		t.Fatalf("imports: %+v, want 1", list.Imports)
	}
	if imp := list.Imports[0]; imp.Source != "watch" || imp.FileName != "drop.csv" || imp.Status != "completed" || imp.Created != 1 {
		t.Fatalf("import %+v, want a completed watch import of drop.csv that created 1", imp)
	}
	id := strconv.FormatInt(list.Imports[0].ID, 10)
	if got := mustCLI(t, "imports", "file", id, "--account", account); got != content {
		t.Fatalf("imports file %s = %q, want the file from processed/", id, got)
	}
}

// A watched directory that does not exist stops `leadpipe serve` at once, naming it.
func TestServeWatchMissingDirectory(t *testing.T) {
	cliEnv(t)
	missing := filepath.Join(t.TempDir(), "missing")
	t.Setenv("LEADPIPE_WATCH", missing+"=acme")
	t.Setenv("LEADPIPE_HTTP_ADDR", unusedAddr(t))
	_, _, err := cli(t, "serve")
	if err == nil || !strings.Contains(err.Error(), "watch "+missing) || !strings.Contains(err.Error(), "create the directory or fix the watch setting") {
		t.Fatalf("serve: %v; want an error naming %s", err, missing)
	}
}

// TestServeWatchOriginalCannotBeSwapped is the attack on GET /v1/imports/{id}/file through a
// watched directory: its writer, who has a token of the directory's account, swaps their file
// in processed/ for a symbolic link to another account's upload of the same size, then for a
// FIFO, and downloads their import's original. They get their own file back each time, at
// once: the original is the copy the daemon keeps under files_dir.
func TestServeWatchOriginalCannotBeSwapped(t *testing.T) {
	dir := t.TempDir()
	attacker := uniqueName(t) + "-writer"
	t.Setenv("LEADPIPE_WATCH", dir+"="+attacker)
	t.Setenv("LEADPIPE_WATCH_INTERVAL", "20ms")
	victim := startDaemon(t)
	pool := cliEnv(t)
	mustCLI(t, "account", "create", attacker)
	writer := *victim
	writer.token = strings.TrimSpace(mustCLI(t, "token", "create", "--account", attacker))
	ctx, cancel := context.WithTimeout(victim.ctx, 10*time.Second) // a download blocked on a FIFO fails the test
	defer cancel()
	writer.ctx = ctx

	const secret, mine = "Email\nsecret@victim.example\n", "Email\nmine00@writer.example\n" // the same size
	status, b := victim.upload("secret.csv", []byte(secret))
	var queued struct {
		ImportID int64 `json:"import_id"`
	}
	if status != http.StatusAccepted || json.Unmarshal(b, &queued) != nil {
		t.Fatalf("POST /v1/imports: %d %s", status, b)
	}
	victim.waitImport(queued.ImportID)
	upload := filepath.Join(os.Getenv("LEADPIPE_FILES_DIR"), strconv.FormatInt(accountID(t, pool, victim.account), 10),
		strconv.FormatInt(queued.ImportID, 10))
	if _, err := os.Stat(upload); err != nil {
		t.Fatalf("the victim's upload: %v", err)
	}

	if err := os.WriteFile(filepath.Join(dir, ".mine.csv.part"), []byte(mine), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, ".mine.csv.part"), filepath.Join(dir, "mine.csv")); err != nil {
		t.Fatal(err)
	}
	processed := filepath.Join(dir, "processed", "mine.csv")
	deadline := time.Now().Add(30 * time.Second)
	for _, err := os.Stat(processed); err != nil; _, err = os.Stat(processed) {
		if time.Now().After(deadline) {
			t.Fatalf("mine.csv was not processed; log:\n%s", victim.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	var list struct {
		Imports []struct {
			ID int64 `json:"id"`
		} `json:"imports"`
	}
	if status, b := writer.call("GET", "/v1/imports", "", nil); status != http.StatusOK || json.Unmarshal(b, &list) != nil || len(list.Imports) != 1 {
		t.Fatalf("the writer's imports: %d %s", status, b)
	}
	file := "/v1/imports/" + strconv.FormatInt(list.Imports[0].ID, 10) + "/file"
	if status, b := writer.call("GET", file, "", nil); status != http.StatusOK || string(b) != mine {
		t.Fatalf("GET %s: %d %q, want the writer's own file", file, status, b)
	}

	swaps := []struct {
		what string
		swap func() error
	}{
		{"a symbolic link to another account's upload", func() error { return os.Symlink(upload, processed) }},
		{"a FIFO", func() error { return syscall.Mkfifo(processed, 0o644) }},
	}
	t.Cleanup(func() { releaseFIFO(processed) })
	for _, s := range swaps {
		if err := os.Remove(processed); err != nil {
			t.Fatal(err)
		}
		if err := s.swap(); err != nil {
			t.Fatal(err)
		}
		status, b := writer.call("GET", file, "", nil)
		if status != http.StatusOK || string(b) != mine {
			t.Errorf("processed/mine.csv swapped for %s: GET %s = %d %q, want 200 and the writer's own file", s.what, file, status, b)
		}
	}
}

// releaseFIFO opens path for writing without blocking, which releases a reader blocked on it
// when it is a FIFO (a download that should never have opened it), and closes it.
func releaseFIFO(path string) {
	if w, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
		w.Close()
	}
}

// TestServeWatchRetention checks that `leadpipe serve` applies the watch retention settings
// as it starts: with watch_processed_retention and watch_failed_retention at 1s, what its
// first run moved to processed/ and failed/ is gone once a second run has started, and so are
// the claims that finished longer ago than watch_claims_retention (30 days by default).
func TestServeWatchRetention(t *testing.T) {
	pool := cliEnv(t)
	account := uniqueName(t)
	mustCLI(t, "account", "create", account)
	dir := t.TempDir()
	t.Setenv("LEADPIPE_WATCH", dir+"="+account)
	t.Setenv("LEADPIPE_WATCH_INTERVAL", "20ms")
	t.Setenv("LEADPIPE_HTTP_ADDR", unusedAddr(t))
	t.Setenv("LEADPIPE_FILES_DIR", t.TempDir())
	t.Setenv("LEADPIPE_POLL_INTERVAL", "50ms")
	t.Setenv("LEADPIPE_WATCH_PROCESSED_RETENTION", "1s")
	t.Setenv("LEADPIPE_WATCH_FAILED_RETENTION", "1s")
	processed, failed := filepath.Join(dir, "processed"), filepath.Join(dir, "failed")
	entries := func(folder string) int {
		names, _ := os.ReadDir(folder)
		return len(names)
	}
	claims := func() int { return count(t, pool, "SELECT count(*) FROM watch_claims WHERE dir = $1", dir) }

	for name, content := range map[string]string{"good.csv": "Email\nkept@retention.example\n", "bad.csv": "Colour\nred\n"} {
		if err := os.WriteFile(filepath.Join(dir, "."+name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(dir, "."+name), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	serveUntil(t, "good.csv is processed and bad.csv failed", func() bool {
		return entries(processed) == 1 && entries(failed) == 2 && claims() == 2
	})
	if _, err := pool.Exec(context.Background(), "UPDATE watch_claims SET finished_at = now() - interval '31 days' WHERE dir = $1", dir); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	serveUntil(t, "processed/, failed/ and the claims are pruned", func() bool {
		return entries(processed) == 0 && entries(failed) == 0 && claims() == 0
	})
}

// serveUntil runs `leadpipe serve` until cond holds, then stops it; the test fails if cond
// does not hold within 30 seconds.
func serveUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	log := &syncbuf.Buffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, io.Discard, log) }()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	held := cond()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
	if !held {
		t.Fatalf("timed out waiting until %s; log:\n%s", what, log.String())
	}
}
