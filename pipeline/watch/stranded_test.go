package watch_test

import (
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/config"
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
		{"nul.csv", "u0000"},
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
