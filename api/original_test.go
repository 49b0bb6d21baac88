package api_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/store"
)

// TestOriginalOutsideTheFilesStore: an original kept outside files_dir (a command-line
// import's own file, or a watched file recorded in processed/ by an earlier version) is served
// only while it is the very file imported. Swapped for a symbolic link to another file of the
// same size (another account's upload), for a FIFO or for other content of the same size, it
// answers 410 Gone at once, never what is now at its path.
func TestOriginalOutsideTheFilesStore(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	ctx, cancel := context.WithTimeout(h.ctx, 20*time.Second) // a download blocked on a FIFO fails the test
	defer cancel()
	h.ctx = ctx
	h.startWorkers()
	victim, writer := h.account(-1), h.account(-1)
	const secret, mine = "Email\nsecret@victim.example\n", "Email\nmine00@writer.example\n" // the same size
	secretID := victim.submit("secret.csv", []byte(secret), "")
	victim.waitFinished(secretID, store.StatusCompleted)
	upload := filepath.Join(h.files.Store.Dir, fmt.Sprint(victim.acct.ID), fmt.Sprint(secretID))
	id := writer.submit("mine.csv", []byte(mine), "")
	writer.waitFinished(id, store.StatusCompleted)

	processed := filepath.Join(t.TempDir(), "processed", "mine.csv")
	if err := os.MkdirAll(filepath.Dir(processed), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(processed, []byte(mine), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := h.pool.Exec(h.ctx, "UPDATE imports SET source = 'watch', file_path = $2 WHERE id = $1", id, processed); err != nil {
		t.Fatal(err)
	}
	file := fmt.Sprintf("/v1/imports/%d/file", id)
	if r := writer.get(file); r.Status != http.StatusOK || string(r.Body) != mine {
		t.Fatalf("GET the intact original: %s, want 200 and the file", r)
	}

	swaps := []struct {
		what string
		swap func() error
	}{
		{"a symbolic link to another account's upload", func() error { return os.Symlink(upload, processed) }},
		{"a FIFO", func() error { return syscall.Mkfifo(processed, 0o644) }},
		{"other content of the same size", func() error { return os.WriteFile(processed, []byte(secret), 0o644) }},
	}
	t.Cleanup(func() { releaseFIFO(processed) })
	for _, s := range swaps {
		if err := os.Remove(processed); err != nil {
			t.Fatal(err)
		}
		if err := s.swap(); err != nil {
			t.Fatal(err)
		}
		r := writer.get(file)
		wantError(t, "GET the original swapped for "+s.what, r, http.StatusGone, "the original file is no longer stored")
	}
}

// releaseFIFO opens path for writing without blocking, which releases a reader blocked on it
// when it is a FIFO (a download that should never have opened it), and closes it.
func releaseFIFO(path string) {
	if w, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
		w.Close()
	}
}
