package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/internal/syncbuf"
	"github.com/leadpipe/leadpipe/store/storetest"
)

// writeBigCSV writes a CSV of rows prospects in which every 10th row repeats the email of the
// row before it (an update, not a prospect), and returns its path.
func writeBigCSV(t *testing.T, rows int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "big.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "Email,First Name,Last Name,Company")
	for i := 0; i < rows; i++ {
		n := i
		if i%10 == 9 {
			n = i - 1
		}
		fmt.Fprintf(w, "p%d@resume.example.com,First%d,Last%d,Company %d\n", n, i, i, i%50)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestServeStopsAndResumes stops a daemon in the middle of an import, as SIGTERM does (the
// signal cancels run's context), and checks that the import went back to the queue at a
// checkpoint, that a second daemon finishes it, and that every row was applied exactly once.
func TestServeStopsAndResumes(t *testing.T) {
	pool := storetest.Pool(t)
	acct := storetest.Account(t, pool, -1)
	const rows = 60000
	path := writeBigCSV(t, rows)

	t.Setenv("LEADPIPE_POSTGRES_URL", storetest.URL())
	t.Setenv("LEADPIPE_BATCH_SIZE", "500")
	t.Setenv("LEADPIPE_WORKERS", "1")
	t.Setenv("LEADPIPE_POLL_INTERVAL", "50ms")
	ctx := t.Context()
	var out, errOut syncbuf.Buffer
	if err := run(ctx, []string{"import", path, "--account", acct.Name, "--queue"}, &out, &errOut); err != nil {
		t.Fatalf("queue: %v (%s)", err, errOut.String())
	}
	var id int64
	if err := pool.QueryRow(ctx, "SELECT id FROM imports WHERE account_id = $1", acct.ID).Scan(&id); err != nil {
		t.Fatal(err)
	}

	serveUntil := func(stop func() bool) {
		t.Helper()
		t.Setenv("LEADPIPE_HTTP_ADDR", unusedAddr(t))
		sctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- run(sctx, []string{"serve"}, io.Discard, &errOut) }()
		deadline := time.Now().Add(60 * time.Second)
		for !stop() {
			if time.Now().After(deadline) {
				cancel()
				t.Fatalf("daemon did not get there in time; log:\n%s", errOut.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("serve returned %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("serve did not stop within 15s of its context being cancelled")
		}
	}
	state := func() (status string, checkpoint int) {
		t.Helper()
		if err := pool.QueryRow(ctx, "SELECT status, checkpoint_row FROM imports WHERE id = $1", id).Scan(&status, &checkpoint); err != nil {
			t.Fatal(err)
		}
		return status, checkpoint
	}

	// First daemon: stop it once a few batches have committed.
	serveUntil(func() bool { _, cp := state(); return cp >= 2000 })
	status, cp := state()
	if status != "queued" || cp < 2000 || cp > rows {
		t.Fatalf("after stop: status %q checkpoint %d, want queued with a checkpoint in the file", status, cp)
	}
	var recorded int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM import_rows WHERE import_id = $1", id).Scan(&recorded); err != nil {
		t.Fatal(err)
	}
	if recorded != cp-1 { // the header is row 1
		t.Fatalf("after stop: %d row outcomes recorded, checkpoint says %d", recorded, cp-1)
	}

	// Second daemon: it resumes the import and completes it.
	serveUntil(func() bool { s, _ := state(); return s == "completed" || s == "failed" })
	if status, _ := state(); status != "completed" {
		t.Fatalf("status %q, want completed; log:\n%s", status, errOut.String())
	}
	var outcomes, distinct, created, updated, prospects int
	err := pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT row_number),
		count(*) FILTER (WHERE outcome = 'created'), count(*) FILTER (WHERE outcome = 'updated')
		FROM import_rows WHERE import_id = $1`, id).Scan(&outcomes, &distinct, &created, &updated)
	if err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM prospects WHERE account_id = $1", acct.ID).Scan(&prospects); err != nil {
		t.Fatal(err)
	}
	want := map[string][2]int{
		"row outcomes":  {outcomes, rows},
		"distinct rows": {distinct, rows},
		"created":       {created, rows - rows/10},
		"updated":       {updated, rows / 10},
		"prospects":     {prospects, rows - rows/10},
	}
	for what, got := range want {
		if got[0] != got[1] {
			t.Errorf("%s: got %d, want %d", what, got[0], got[1])
		}
	}
}
