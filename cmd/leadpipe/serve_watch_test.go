package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
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
