package api_test

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/store"
)

// TestRetention: the files store's Prune removes the stored files of imports that ended longer
// ago than the retention, leaves those of imports still queued, and GET /file then answers 410
// Gone with a JSON error; the import itself and its skipped rows stay.
func TestRetention(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	stop := h.startWorkers()
	a := h.account(-1)
	id := a.submit("flow.csv", fixture(t, "flow.csv"), "")
	a.waitFinished(id, store.StatusCompleted)
	stop()
	queued := a.submit("queued.csv", []byte("Email\nq@example.com\n"), "")
	stored := filepath.Join(h.files.Store.Dir, strconv.FormatInt(a.acct.ID, 10), strconv.FormatInt(id, 10))
	if _, err := os.Stat(stored); err != nil {
		t.Fatalf("stored file: %v", err)
	}

	// A retention longer than the import's age keeps it.
	if _, err := h.files.Store.Prune(h.ctx, h.pool, time.Hour); err != nil {
		t.Fatal(err)
	}
	if r := a.get(fmt.Sprintf("/v1/imports/%d/file", id)); r.Status != http.StatusOK {
		t.Fatalf("GET file within retention: %s", r)
	}

	time.Sleep(10 * time.Millisecond)
	n, err := h.files.Store.Prune(h.ctx, h.pool, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if n < 1 {
		t.Errorf("Prune pruned %d imports, want at least 1", n)
	}
	if _, err := os.Stat(stored); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stored file after Prune: %v, want it removed", err)
	}
	r := a.get(fmt.Sprintf("/v1/imports/%d/file", id))
	e := wantError(t, "GET file after Prune", r, http.StatusGone, "the original file is no longer stored")
	if s, _ := e.Detail.(string); s != "removed by the files_retention setting on "+time.Now().UTC().Format(time.DateOnly) &&
		s != "removed by the files_retention setting on "+time.Now().Format(time.DateOnly) {
		t.Errorf("detail %q", e.Detail)
	}
	var v importView
	a.getJSON(fmt.Sprintf("/v1/imports/%d", id), &v)
	if v.FilePrunedAt == nil || v.Status != "completed" {
		t.Errorf("import after Prune: status %s, file_pruned_at %v", v.Status, v.FilePrunedAt)
	}
	if r := a.get(fmt.Sprintf("/v1/imports/%d/skipped.csv", id)); r.Status != http.StatusOK || string(r.Body) != flowSkippedCSV {
		t.Errorf("skipped.csv after Prune: %s", r)
	}

	// The queued import has not ended: its file stays.
	if r := a.get(fmt.Sprintf("/v1/imports/%d/file", queued)); r.Status != http.StatusOK {
		t.Errorf("GET file of a queued import after Prune: %s", r)
	}

	// A stored file that disappeared or changed without Prune also answers 410.
	queuedPath := filepath.Join(h.files.Store.Dir, strconv.FormatInt(a.acct.ID, 10), strconv.FormatInt(queued, 10))
	if err := os.WriteFile(queuedPath, []byte("changed"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = a.get(fmt.Sprintf("/v1/imports/%d/file", queued))
	wantError(t, "GET a changed file", r, http.StatusGone, "the original file is no longer stored")
	if err := os.Remove(queuedPath); err != nil {
		t.Fatal(err)
	}
	r = a.get(fmt.Sprintf("/v1/imports/%d/file", queued))
	wantError(t, "GET a removed file", r, http.StatusGone, "the original file is no longer stored")
}
