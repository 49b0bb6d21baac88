package watch_test

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/config"
	"github.com/leadpipe/leadpipe/filestore"
	"github.com/leadpipe/leadpipe/store"
)

// Every file the watcher takes ends in processed/ or failed/, with its reason, even where a
// step on the way fails for a reason of the file's own: a name of 243 to 255 bytes (its
// options file's name, and its error file's, would pass the name limit), an options file
// holding \u0000 (which Postgres refuses to store), a name that is not UTF-8 (Postgres refuses
// its claim). None is left in the work folder, or in the directory, to be taken over again and
// again.
func TestEveryTakenFileEndsInProcessedOrFailed(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	var logs logBuffer
	w := f.watcher(config.WatchDir{Dir: dir, Account: f.acct.Name})
	w.Log = slog.New(slog.NewTextHandler(&logs, nil))
	w.StaleAfter = time.Millisecond // a claim left unqueued is taken over at the next scan
	workers(t, f.pool, f.im, "stranded")

	longGood := strings.Repeat("g", 246) + ".csv" // 250 bytes
	longBad := strings.Repeat("b", 246) + ".csv"
	const notUTF8 = "bad\xff.csv"
	drop(t, dir, longGood, "email\nlong@example.com\n")
	drop(t, dir, longBad, "colour\nred\n")
	drop(t, dir, "nul.csv.options.json", `{"tags": ["a\u0000b"]}`)
	drop(t, dir, "nul.csv", "email\nnul@example.com\n")
	drop(t, dir, notUTF8, "email\nbad@example.com\n")

	settled := func() bool {
		return slices.Equal(names(t, dir), []string{".leadpipe", "failed", "processed"}) &&
			len(names(t, filepath.Join(dir, ".leadpipe"))) == 0 && len(names(t, filepath.Join(dir, "processed"))) == 1
	}
	f.scanUntil(w, "every file is in processed/ or failed/", settled)
	for range 5 {
		w.Scan(f.ctx)
	}

	if got := names(t, filepath.Join(dir, "processed")); !slices.Equal(got, []string{longGood}) {
		t.Errorf("processed/ holds %q, want the 250-byte name", got)
	}
	failed := names(t, filepath.Join(dir, "failed"))
	for _, tt := range []struct{ name, why string }{
		{longBad, "no column of the header maps to a prospect field"},
		{"nul.csv", "contains a NUL character"},
		{notUTF8, "its name cannot be recorded"},
	} {
		// A name too long for its error file's is cut short before its extension.
		kept := tt.name
		if len(kept) > 245 {
			kept = kept[:241] + ".csv"
		}
		if !slices.Contains(failed, kept) || !slices.Contains(failed, kept+".error.txt") {
			t.Errorf("failed/ holds %q; want %q and its error file", failed, kept)
			continue
		}
		text := readFile(t, filepath.Join(dir, "failed", kept+".error.txt"))
		if !strings.Contains(text, tt.why) || !strings.Contains(text, "file: "+tt.name+"\n") {
			t.Errorf("failed/%s.error.txt does not say %q about file %q:\n%s", kept, tt.why, tt.name, text)
		}
	}
	if !slices.Contains(failed, "nul.csv.options.json") {
		t.Errorf("nul.csv's options file did not follow it to failed/: %q", failed)
	}
	for _, c := range f.claims(dir) {
		if !c.Finished || c.Result == "" || (c.Result == "failed") == (c.Error == "") {
			t.Errorf("claim %+v, want finished, with its reason when it failed", c)
		}
	}
	if n := strings.Count(logs.String(), "watch claim taken over"); n != 0 {
		t.Errorf("claims taken over %d times, want none:\n%s", n, logs.String())
	}
}

// A claim that cannot be queued for a reason that is not the file's (here files_dir cannot be
// written) stays open and is tried again at each scan once stale: taken over from the daemon
// that left it, logged once, and queued as soon as files_dir can be written again.
func TestClaimRetriedUntilItCanBeQueued(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	var logs logBuffer
	w := f.watcher(config.WatchDir{Dir: dir, Account: f.acct.Name})
	w.Log = slog.New(slog.NewTextHandler(&logs, nil))
	w.StaleAfter = time.Millisecond
	filesDir := f.files.Dir
	notADir := filepath.Join(t.TempDir(), "files")
	if err := os.WriteFile(notADir, nil, 0o644); err != nil { // nothing can be stored under it
		t.Fatal(err)
	}
	w.Files = &filestore.Store{Dir: notADir}
	const content = "email\nretry@example.com\n"
	drop(t, dir, ".waiting", content) // hidden: the dead daemon's claim is all the watcher sees
	dead, _, err := store.ClaimWatchedFile(f.ctx, f.pool, store.WatchClaim{Dir: dir, Name: "retry.csv", SHA256: sha(content), Size: int64(len(content)), Owner: "dead"})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, ".waiting"), filepath.Join(dir, "retry.csv")); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		w.Scan(f.ctx)
		time.Sleep(5 * time.Millisecond)
	}
	claims := f.claims(dir)
	if len(claims) != 1 || claims[0].Finished || claims[0].Owner != "test" || len(f.imports()) != 0 {
		t.Fatalf("claims %+v, imports %+v; want the claim open, taken over, nothing queued", claims, f.imports())
	}
	if n := strings.Count(logs.String(), "watch claim taken over"); n != 1 {
		t.Errorf("claim taken over %d times, want once:\n%s", n, logs.String())
	}
	if !exists(filepath.Join(dir, ".leadpipe", fmt.Sprint(dead.ImportID))) {
		t.Errorf("retry.csv is not waiting in the work folder: %v", names(t, dir))
	}

	w.Files.Dir = filesDir
	f.scanUntil(w, "retry.csv is queued", func() bool { return len(f.imports()) == 1 })
	if imp := f.imports()[0]; imp.ID != dead.ImportID || imp.FilePath != f.stored(dead.ImportID) {
		t.Errorf("import %+v, want id %d from the files store", imp, dead.ImportID)
	}
}
