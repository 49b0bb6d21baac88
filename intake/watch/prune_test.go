package watch_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/config"
	"github.com/leadpipe/leadpipe/store"
)

// Prune applies the retention settings: files that have been in processed/ or failed/ longer
// than their folder's retention are removed (a symbolic link there is removed, not followed; a
// subdirectory stays), newer ones stay, and so does everything with a retention of 0; claims
// that finished longer ago than theirs are deleted, open claims and newer ones stay.
func TestPrune(t *testing.T) {
	f := newFixture(t)
	dir, outside := t.TempDir(), t.TempDir()
	w := f.watcher(config.WatchDir{Dir: dir, Account: f.acct.Name})
	workers(t, f.pool, f.im, "prune")
	processed, failed := filepath.Join(dir, "processed"), filepath.Join(dir, "failed")

	drop(t, dir, "old.csv", "email\nold@example.com\n")
	drop(t, dir, "old-bad.csv", "colour\nred\n")
	f.scanUntil(w, "old.csv and old-bad.csv are moved out", func() bool {
		return exists(filepath.Join(processed, "old.csv")) && exists(filepath.Join(failed, "old-bad.csv"))
	})
	drop(t, outside, "target.csv", "email\nkept@example.com\n")
	if err := os.Symlink(filepath.Join(outside, "target.csv"), filepath.Join(failed, "link.csv")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(processed, "keep"), 0o755); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // what is there now is older than the retentions below
	drop(t, dir, "new.csv", "email\nnew@example.com\n")
	drop(t, dir, "new-bad.csv", "colour\nblue\n")
	f.scanUntil(w, "new.csv and new-bad.csv are moved out", func() bool {
		return exists(filepath.Join(processed, "new.csv")) && exists(filepath.Join(failed, "new-bad.csv"))
	})

	claims := f.claims(dir)
	if len(claims) != 4 {
		t.Fatalf("claims = %+v, want 4", claims)
	}
	if _, err := f.pool.Exec(f.ctx, `UPDATE watch_claims SET finished_at = now() - interval '2 hours'
		WHERE dir = $1 AND name IN ('old.csv', 'old-bad.csv')`, dir); err != nil {
		t.Fatal(err)
	}
	open, _, err := store.ClaimWatchedFile(f.ctx, f.pool, store.WatchClaim{Dir: dir, Name: "open.csv", SHA256: sha("open"), Size: 4, Owner: "other"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.pool.Exec(f.ctx, "UPDATE watch_claims SET claimed_at = now() - interval '1 day' WHERE import_id = $1", open.ImportID); err != nil {
		t.Fatal(err)
	}

	w.ClaimsRetention, w.ProcessedRetention, w.FailedRetention = time.Hour, time.Second, time.Second
	w.Prune(f.ctx)
	if got, want := names(t, processed), []string{"keep", "new.csv"}; !slices.Equal(got, want) {
		t.Errorf("processed/ holds %v after Prune, want %v", got, want)
	}
	if got, want := names(t, failed), []string{"new-bad.csv", "new-bad.csv.error.txt"}; !slices.Equal(got, want) {
		t.Errorf("failed/ holds %v after Prune, want %v", got, want)
	}
	if !exists(filepath.Join(outside, "target.csv")) {
		t.Error("Prune removed the target of a link in failed/")
	}
	var left []string
	for _, c := range f.claims(dir) {
		left = append(left, c.Name)
	}
	if want := []string{"new.csv", "new-bad.csv", "open.csv"}; !sameNames(left, want) {
		t.Errorf("claims left %v, want %v", left, want)
	}

	// A retention of 0 keeps everything.
	w.ClaimsRetention, w.ProcessedRetention, w.FailedRetention = 0, 0, 0
	time.Sleep(1100 * time.Millisecond)
	w.Prune(f.ctx)
	if len(names(t, processed)) != 2 || len(names(t, failed)) != 2 || len(f.claims(dir)) != 3 {
		t.Errorf("with no retention Prune removed something: processed/ %v, failed/ %v, claims %+v",
			names(t, processed), names(t, failed), f.claims(dir))
	}
}

// sameNames reports whether a and b hold the same names, in any order.
func sameNames(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
