package watch_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/config"
	"github.com/leadpipe/leadpipe/filestore"
	"github.com/leadpipe/leadpipe/store"
)

// A watched file's original is the copy the watcher keeps in the files store, not the file in
// processed/: whoever may write to the watched directory can swap processed/NAME for a
// symbolic link to another file of the same size (another account's upload, say) or for a
// FIFO, and the original served is still the file imported, byte for byte, at once.
func TestWatchedOriginalIsOutOfTheWritersReach(t *testing.T) {
	f := newFixture(t)
	dir, elsewhere := t.TempDir(), t.TempDir()
	w := f.watcher(config.WatchDir{Dir: dir, Account: f.acct.Name})
	workers(t, f.pool, f.im, "original")

	const mine, secret = "email\nmine@example.com\n", "email\nsecr@example.com\n" // the same size
	drop(t, dir, "mine.csv", mine)
	drop(t, elsewhere, "secret.csv", secret)
	processed := filepath.Join(dir, "processed", "mine.csv")
	f.scanUntil(w, "processed/mine.csv exists", func() bool { return exists(processed) })
	imps := f.imports()
	if len(imps) != 1 || imps[0].Status != store.StatusCompleted {
		t.Fatalf("imports = %+v, want one completed", imps)
	}
	imp := imps[0]
	if got := openOriginal(t, imp); got != mine {
		t.Fatalf("original before any swap = %q, want %q", got, mine)
	}

	if err := os.Remove(processed); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(elsewhere, "secret.csv"), processed); err != nil {
		t.Fatal(err)
	}
	if got := openOriginal(t, imp); got != mine {
		t.Errorf("original with processed/mine.csv a link to another file = %q, want %q", got, mine)
	}

	if err := os.Remove(processed); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(processed, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := openOriginal(t, imp); got != mine {
		t.Errorf("original with processed/mine.csv a FIFO = %q, want %q", got, mine)
	}

	// files_retention prunes it like an upload.
	time.Sleep(10 * time.Millisecond)
	if _, err := f.files.Prune(f.ctx, f.pool, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if exists(f.stored(imp.ID)) {
		t.Error("files_retention left the watched file's original")
	}
}

// The import reads the copy in the files store, taken as the file was queued: a writer who
// keeps a link to the file (or has it open) and rewrites it once it is in the work folder
// changes nothing of what is imported.
func TestWatchedFileIsImportedFromTheFilesStore(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	w := f.watcher(config.WatchDir{Dir: dir, Account: f.acct.Name})
	const content, rewritten = "email\nkept@example.com\n", "email\nevil@example.com\n" // the same size
	drop(t, dir, "list.csv", content)
	link := filepath.Join(t.TempDir(), "writers-link.csv")
	if err := os.Link(filepath.Join(dir, "list.csv"), link); err != nil {
		t.Fatal(err)
	}
	w.Scan(f.ctx) // queued; no workers yet
	if len(f.imports()) != 1 {
		t.Fatalf("imports = %+v, want list.csv's queued", f.imports())
	}
	if err := os.WriteFile(link, []byte(rewritten), 0o644); err != nil { // the work folder's file, through the link
		t.Fatal(err)
	}

	workers(t, f.pool, f.im, "from-store")
	f.scanUntil(w, "processed/list.csv exists", func() bool { return exists(filepath.Join(dir, "processed", "list.csv")) })
	imp := f.imports()[0]
	if imp.Status != store.StatusCompleted || imp.Counts.Created != 1 {
		t.Fatalf("import = %+v, want completed, 1 created", imp)
	}
	var email string
	if err := f.pool.QueryRow(f.ctx, "SELECT email FROM prospects WHERE account_id = $1", f.acct.ID).Scan(&email); err != nil {
		t.Fatal(err)
	}
	if email != "kept@example.com" {
		t.Errorf("imported %s, want kept@example.com (the file as it was queued)", email)
	}
	if got := openOriginal(t, imp); got != content {
		t.Errorf("original = %q, want %q", got, content)
	}
}

// openOriginal returns what filestore.OpenOriginal serves of imp; the test fails if it errs or does
// not answer within 10 seconds (it blocked on a FIFO).
func openOriginal(t *testing.T, imp store.Import) string {
	t.Helper()
	type result struct {
		content string
		err     error
	}
	got := make(chan result, 1)
	go func() {
		f, err := filestore.OpenOriginal(imp)
		if err != nil {
			got <- result{err: err}
			return
		}
		defer f.Close()
		b, err := io.ReadAll(f)
		got <- result{string(b), err}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	select {
	case r := <-got:
		if r.err != nil {
			t.Fatalf("OpenOriginal: %v", r.err)
		}
		return r.content
	case <-ctx.Done():
		t.Fatal("OpenOriginal did not answer within 10 seconds")
		return ""
	}
}

// An import queued by an earlier version read its file from the work folder: it still does,
// and its recorded path follows the file to processed/, where its original is served while it
// is intact.
func TestImportQueuedByAnEarlierVersion(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	w := f.watcher(config.WatchDir{Dir: dir, Account: f.acct.Name})
	const content = "email\nlegacy@example.com\n"
	drop(t, dir, "legacy.csv", content)
	w.Scan(f.ctx) // queued; no workers yet
	imps := f.imports()
	if len(imps) != 1 {
		t.Fatalf("imports = %+v, want legacy.csv's queued", imps)
	}
	work := filepath.Join(dir, ".leadpipe", fmt.Sprint(imps[0].ID))
	if _, err := f.pool.Exec(f.ctx, "UPDATE imports SET file_path = $2 WHERE id = $1", imps[0].ID, work); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(f.stored(imps[0].ID)); err != nil { // an earlier version kept no copy
		t.Fatal(err)
	}

	workers(t, f.pool, f.im, "legacy")
	processed := filepath.Join(dir, "processed", "legacy.csv")
	f.scanUntil(w, "processed/legacy.csv exists", func() bool { return exists(processed) })
	imp := f.imports()[0]
	if imp.Status != store.StatusCompleted || imp.FilePath != processed {
		t.Fatalf("import = %+v, want completed, its path following its file to %s", imp, processed)
	}
	if got := openOriginal(t, imp); got != content {
		t.Errorf("original = %q, want %q", got, content)
	}
}
