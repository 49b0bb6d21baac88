package watch_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/config"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/intake/watch"
	"github.com/leadpipe/leadpipe/store"
	"github.com/leadpipe/leadpipe/store/storetest"
)

// A file renamed into the directory is taken at once (the watcher's quiet period is an hour),
// imported once from the files store, where its original is kept, and moved to processed/.
func TestRenamedInFileIsImportedOnce(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	w := f.watcher(config.WatchDir{Dir: dir, Account: f.acct.Name})
	workers(t, f.pool, f.im, "renamed-in")
	imported := metric(t, "leadpipe_watch_files_total", "result", "imported")

	drop(t, dir, "prospects.csv", "email,first_name\na@example.com,A\nb@example.com,B\n")
	processed := filepath.Join(dir, "processed", "prospects.csv")
	f.scanUntil(w, "processed/prospects.csv exists", func() bool { return exists(processed) })
	for range 5 {
		w.Scan(f.ctx) // later scans take nothing more
	}

	imps := f.imports()
	if len(imps) != 1 {
		t.Fatalf("%d imports, want 1: %+v", len(imps), imps)
	}
	imp := imps[0]
	if imp.Source != store.SourceWatch || imp.FileName != "prospects.csv" || imp.Status != store.StatusCompleted ||
		imp.Counts.Created != 2 || imp.FilePath != f.stored(imp.ID) {
		t.Errorf("import = %+v; want a completed watch import of prospects.csv that created 2, at %s", imp, f.stored(imp.ID))
	}
	want := []claim{{ImportID: imp.ID, Name: "prospects.csv", Owner: "test", Result: "processed", MovedTo: "processed/prospects.csv", Finished: true}}
	if got := f.claims(dir); !slices.Equal(got, want) {
		t.Errorf("claims = %+v, want %+v", got, want)
	}
	if got := names(t, dir); !slices.Equal(got, []string{".leadpipe", "processed"}) {
		t.Errorf("directory holds %v, want only .leadpipe and processed", got)
	}
	if got := names(t, filepath.Join(dir, ".leadpipe")); len(got) != 0 {
		t.Errorf("work folder holds %v, want nothing", got)
	}
	if got := readFile(t, processed); !strings.HasPrefix(got, "email,first_name\n") {
		t.Errorf("processed/prospects.csv = %q", got)
	}
	if d := metric(t, "leadpipe_watch_files_total", "result", "imported") - imported; d != 1 {
		t.Errorf("leadpipe_watch_files_total{result=imported} moved by %v, want 1", d)
	}
}

// A file written in place, a row at a time, is not claimed while it changes, nor until its
// size and mtime have stayed the same for the quiet period (an hour, on the watcher's clock).
func TestFileWrittenInPlaceWaitsUntilQuiet(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	w := f.watcher(config.WatchDir{Dir: dir, Account: f.acct.Name})
	clock := time.Now()
	w.Now = func() time.Time { return clock }
	path := filepath.Join(dir, "slow.csv")
	if err := os.WriteFile(path, []byte("email,first_name\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	notTaken := func(when string) {
		t.Helper()
		if !exists(path) || len(f.claims(dir)) != 0 {
			t.Fatalf("%s: slow.csv was claimed (claims %+v)", when, f.claims(dir))
		}
		if n := metric(t, "leadpipe_watch_files_pending", "dir", dir); n != 1 {
			t.Fatalf("%s: leadpipe_watch_files_pending = %v, want 1", when, n)
		}
	}
	const rows = 6
	for i := range rows {
		a, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(a, "row%d@example.com,Row %d\n", i, i)
		a.Close()
		w.Scan(f.ctx)
		notTaken(fmt.Sprintf("after row %d", i))
		clock = clock.Add(40 * time.Minute) // less than the quiet period between two writes
	}
	w.Scan(f.ctx) // unchanged for 40 minutes
	notTaken("40 minutes after the last write")
	clock = clock.Add(20 * time.Minute)
	w.Scan(f.ctx) // unchanged for an hour: taken
	if exists(path) || len(f.claims(dir)) != 1 {
		t.Fatalf("an hour after the last write slow.csv was not claimed (claims %+v)", f.claims(dir))
	}
	workers(t, f.pool, f.im, "in-place")
	f.scanUntil(w, "processed/slow.csv exists", func() bool { return exists(filepath.Join(dir, "processed", "slow.csv")) })
	if imps := f.imports(); len(imps) != 1 || imps[0].Status != store.StatusCompleted || imps[0].Counts.Created != rows {
		t.Fatalf("imports = %+v, want one completed that created %d", imps, rows)
	}
	if n := metric(t, "leadpipe_watch_files_pending", "dir", dir); n != 0 {
		t.Errorf("leadpipe_watch_files_pending = %v, want 0", n)
	}
}

// Files that cannot be imported go to failed/ beside NAME.error.txt saying why: a file that
// cannot be queued (a bad file, options the account's fields refuse, an unknown account) at
// once, an import that failed once it has.
func TestFilesThatCannotBeImportedGoToFailed(t *testing.T) {
	f := newFixture(t)
	dir, orphan := t.TempDir(), t.TempDir()
	nobody := "no-such-account-" + f.acct.Name
	w := f.watcher(config.WatchDir{Dir: dir, Account: f.acct.Name}, config.WatchDir{Dir: orphan, Account: nobody})
	failed := metric(t, "leadpipe_watch_files_total", "result", "failed")

	drop(t, dir, "nomatch.csv", "colour,size\nred,9\n")
	drop(t, dir, "binary.csv", strings.Repeat("\x00\x01\x02\xff", 256))
	drop(t, dir, "badmapping.csv.options.json", `{"mapping": {"email": "e_mail"}}`)
	drop(t, dir, "badmapping.csv", "email\na@example.com\n")
	drop(t, orphan, "good.csv", "email\na@example.com\n")
	drop(t, dir, "changed.csv", "email\nc@example.com\n")
	w.Scan(f.ctx) // no workers yet: changed.csv is queued, the rest fail at once

	var changed claim
	for _, c := range f.claims(dir) {
		if c.Name == "changed.csv" {
			changed = c
		}
	}
	if changed.ImportID == 0 || changed.Finished {
		t.Fatalf("changed.csv was not queued: claims %+v", f.claims(dir))
	}
	// The queued file changes under the import, which then fails.
	if err := os.WriteFile(f.stored(changed.ImportID), []byte("email\nc@example.com\nd@example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	workers(t, f.pool, f.im, "failures")
	f.scanUntil(w, "failed/changed.csv exists", func() bool { return exists(filepath.Join(dir, "failed", "changed.csv")) })

	tests := []struct {
		dir, name string
		why       []string
	}{
		{dir, "nomatch.csv", []string{"cannot import file: no column of the header maps to a prospect field (columns: colour, size)"}},
		{dir, "binary.csv", []string{"cannot import file binary.csv", "binary"}},
		{dir, "badmapping.csv", []string{"invalid import options", `column "email" maps to unknown field "e_mail"`}},
		{orphan, "good.csv", []string{fmt.Sprintf("account %q does not exist: create it (leadpipe account create %q)", nobody, nobody)}},
		{dir, "changed.csv", []string{"the import failed: cannot import file changed.csv: the file changed after the import was queued",
			fmt.Sprintf("import: %d (failed)", changed.ImportID)}},
	}
	for _, tt := range tests {
		if !exists(filepath.Join(tt.dir, "failed", tt.name)) {
			t.Errorf("failed/%s is missing", tt.name)
		}
		text := readFile(t, filepath.Join(tt.dir, "failed", tt.name+".error.txt"))
		for _, want := range append(tt.why, "file: "+tt.name, "directory: "+tt.dir) {
			if !strings.Contains(text, want) {
				t.Errorf("failed/%s.error.txt does not say %q:\n%s", tt.name, want, text)
			}
		}
	}
	if !exists(filepath.Join(dir, "failed", "badmapping.csv.options.json")) {
		t.Error("badmapping.csv's options file did not follow it to failed/")
	}
	for _, d := range []string{dir, orphan} {
		if got := names(t, d); !slices.Equal(got, []string{".leadpipe", "failed"}) {
			t.Errorf("%s holds %v, want only .leadpipe and failed", d, got)
		}
		for _, c := range f.claims(d) {
			if !c.Finished || c.Result != "failed" || c.Error == "" || c.MovedTo != "failed/"+c.Name {
				t.Errorf("claim %+v, want finished as failed with its reason", c)
			}
		}
	}
	// Only changed.csv was queued.
	if imps := f.imports(); len(imps) != 1 || imps[0].ID != changed.ImportID || imps[0].Status != store.StatusFailed {
		t.Errorf("imports = %+v, want only changed.csv's, failed", imps)
	}
	// Only changed.csv's original was kept: the files that could not be queued left nothing.
	if got := names(t, filepath.Dir(f.stored(changed.ImportID))); !slices.Equal(got, []string{fmt.Sprint(changed.ImportID)}) {
		t.Errorf("the files store holds %v, want only changed.csv's original", got)
	}
	if d := metric(t, "leadpipe_watch_files_total", "result", "failed") - failed; d != 5 {
		t.Errorf("leadpipe_watch_files_total{result=failed} moved by %v, want 5", d)
	}
}

// A file's own NAME.options.json applies to it, else the directory's .options.json; both
// follow their file. A bad options file (or one over the caps) fails its file, naming the
// options file.
func TestOptionsFiles(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	w := f.watcher(config.WatchDir{Dir: dir, Account: f.acct.Name})
	workers(t, f.pool, f.im, "options")
	if err := os.WriteFile(filepath.Join(dir, ".options.json"), []byte(`{"tags": ["dir-default"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	drop(t, dir, "french.csv.options.json", `{"mapping": {"Courriel": "email", "Prénom": "first_name"}, "tags": ["from-sidecar"]}`)
	drop(t, dir, "french.csv", "Courriel,Prénom\nmarie@example.com,Marie\n")
	drop(t, dir, "plain.csv", "email\nplain@example.com\n")
	drop(t, dir, "typo.csv.options.json", `{"tagz": ["x"]}`)
	drop(t, dir, "typo.csv", "email\ntypo@example.com\n")
	drop(t, dir, "tags.csv.options.json", `{"tags": ["t"`+strings.Repeat(`, "t"`, 20)+`]}`)
	drop(t, dir, "tags.csv", "email\ntags@example.com\n")
	f.scanUntil(w, "french.csv and plain.csv are processed", func() bool {
		return exists(filepath.Join(dir, "processed", "french.csv")) && exists(filepath.Join(dir, "processed", "plain.csv"))
	})

	opts := map[string]string{}
	for _, imp := range f.imports() {
		if imp.Status != store.StatusCompleted || imp.Counts.Created != 1 {
			t.Errorf("import of %s: %+v, want completed, 1 created", imp.FileName, imp)
		}
		opts[imp.FileName] = string(imp.Options)
	}
	if len(opts) != 2 || !strings.Contains(opts["french.csv"], "from-sidecar") || strings.Contains(opts["french.csv"], "dir-default") ||
		!strings.Contains(opts["plain.csv"], "dir-default") {
		t.Errorf("imports' options = %v; want french.csv's from its options file, plain.csv's the directory's", opts)
	}
	if !exists(filepath.Join(dir, "processed", "french.csv.options.json")) {
		t.Error("french.csv's options file did not follow it to processed/")
	}
	text := readFile(t, filepath.Join(dir, "failed", "typo.csv.error.txt"))
	if want := `options file typo.csv.options.json: invalid import options: json: unknown field "tagz"`; !strings.Contains(text, want) {
		t.Errorf("failed/typo.csv.error.txt does not say %q:\n%s", want, text)
	}
	text = readFile(t, filepath.Join(dir, "failed", "tags.csv.error.txt"))
	if want := `options file tags.csv.options.json: invalid import options: tags: 21 tags, more than the limit of 20`; !strings.Contains(text, want) {
		t.Errorf("failed/tags.csv.error.txt does not say %q:\n%s", want, text)
	}
	if !exists(filepath.Join(dir, ".options.json")) {
		t.Error("the directory's .options.json was moved")
	}
}

// kindFiles are, for each kind of record, a file of that kind holding one record (the rows are
// the kind's: a kind registered later adds its file here).
var kindFiles = []struct{ kind, csv string }{
	{"prospects", "email\nkind@example.com\n"},
}

// An options file may name the kind of record its files hold beside the import options: a
// file's own options file, or the directory's .options.json. The import is of that kind, and
// its options are the rest. A kind that is none of the kinds, or not a string, fails its file
// naming the options file and the kinds; the options beside a kind are as strict as ever.
func TestOptionsFileKind(t *testing.T) {
	f := newFixture(t)
	dir, byDir := t.TempDir(), t.TempDir()
	w := f.watcher(config.WatchDir{Dir: dir, Account: f.acct.Name}, config.WatchDir{Dir: byDir, Account: f.acct.Name})
	workers(t, f.pool, f.im, "kinds")
	want := map[string]string{} // file → kind
	for _, tc := range kindFiles {
		name := tc.kind + ".csv"
		drop(t, dir, name+".options.json", fmt.Sprintf(`{"kind": %q, "tags": ["own"]}`, tc.kind))
		drop(t, dir, name, tc.csv)
		want[name] = tc.kind
	}
	kind := kindFiles[len(kindFiles)-1]
	if err := os.WriteFile(filepath.Join(byDir, ".options.json"), []byte(fmt.Sprintf(`{"tags": ["dir"], "kind": %q}`, kind.kind)), 0o644); err != nil {
		t.Fatal(err)
	}
	drop(t, byDir, "bydir.csv", kind.csv)
	want["bydir.csv"] = kind.kind
	failing := map[string]string{
		"unknown.csv": `{"kind": "bogus"}`,
		"nul.csv":     `{"kind": "prospects\u0000"}`,
		"number.csv":  `{"kind": 7, "tags": ["x"]}`,
		"typo.csv":    `{"kind": "prospects", "tagz": ["x"]}`,
	}
	for name, opts := range failing {
		drop(t, dir, name+".options.json", opts)
		drop(t, dir, name, kindFiles[0].csv)
	}
	f.scanUntil(w, "every file is processed or failed", func() bool {
		for name := range want {
			d := dir
			if name == "bydir.csv" {
				d = byDir
			}
			if !exists(filepath.Join(d, "processed", name)) {
				return false
			}
		}
		for name := range failing {
			if !exists(filepath.Join(dir, "failed", name+".error.txt")) {
				return false
			}
		}
		return true
	})

	imps := f.imports()
	for _, imp := range imps {
		if imp.Kind != want[imp.FileName] || imp.Status != store.StatusCompleted || bytes.Contains(imp.Options, []byte("kind")) ||
			!bytes.Contains(imp.Options, []byte(`"tags"`)) {
			t.Errorf("import of %s: kind %q, %s, options %s; want kind %q, completed, the tags and no kind in the options",
				imp.FileName, imp.Kind, imp.Status, imp.Options, want[imp.FileName])
		}
	}
	if len(imps) != len(want) {
		t.Errorf("%d imports, want %d: %+v", len(imps), len(want), imps)
	}
	kinds := strings.Join(importer.Kinds(), ", ")
	for name, why := range map[string]string{
		"unknown.csv": `unknown kind "bogus" (want ` + kinds + `)`,
		"nul.csv":     `unknown kind "prospects\x00" (want ` + kinds + `)`,
		"number.csv":  `options file number.csv.options.json: invalid import options: kind: 7 is not a string; name one of the kinds: ` + kinds + `, or one of the account's object type keys`,
		"typo.csv":    `options file typo.csv.options.json: invalid import options: json: unknown field "tagz"`,
	} {
		if text := readFile(t, filepath.Join(dir, "failed", name+".error.txt")); !strings.Contains(text, why) {
			t.Errorf("failed/%s.error.txt does not say %q:\n%s", name, why, text)
		}
	}
}

// A symbolic link (to a FIFO, or to a good file outside), a FIFO and a subdirectory are
// refused, logged once each, left alone and never opened, even with no quiet period: a writer
// blocked on each FIFO until a reader opens it stays blocked.
func TestRefusedEntriesAreNeverOpened(t *testing.T) {
	f := newFixture(t)
	dir, outside := t.TempDir(), t.TempDir()
	var logs logBuffer
	w := f.watcher(config.WatchDir{Dir: dir, Account: f.acct.Name})
	w.Log = slog.New(slog.NewTextHandler(&logs, nil))
	w.Quiet = 0 // every entry is due at once
	workers(t, f.pool, f.im, "refused")
	refusedBefore := metric(t, "leadpipe_watch_files_total", "result", "refused")

	trap, pipe := filepath.Join(outside, "trap.fifo"), filepath.Join(dir, "pipe.csv")
	for _, fifo := range []string{trap, pipe} {
		if err := syscall.Mkfifo(fifo, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	drop(t, outside, "secret.csv", "email\nsecret@example.com\n")
	for link, target := range map[string]string{"link.csv": trap, "secret.csv": filepath.Join(outside, "secret.csv")} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	drop(t, filepath.Join(dir, "sub"), "inner.csv", "email\ninner@example.com\n")

	opened := map[string]chan struct{}{}
	for _, fifo := range []string{trap, pipe} {
		ch := make(chan struct{})
		opened[fifo] = ch
		go func() {
			if wr, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
				wr.Close()
			}
			close(ch)
		}()
	}
	defer func() { // release the writers
		for fifo, ch := range opened {
			if r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
				<-ch
				r.Close()
			}
		}
	}()

	drop(t, dir, "real.csv", "email\nreal@example.com\n")
	f.scanUntil(w, "real.csv is processed", func() bool { return exists(filepath.Join(dir, "processed", "real.csv")) })
	for range 5 {
		w.Scan(f.ctx)
	}

	for fifo, ch := range opened {
		select {
		case <-ch:
			t.Errorf("%s was opened", fifo)
		default:
		}
	}
	for _, name := range []string{"link.csv", "pipe.csv", "secret.csv", "sub"} {
		if n := strings.Count(logs.String(), "name="+name+" "); n != 1 {
			t.Errorf("%s refused in %d log lines, want 1:\n%s", name, n, logs.String())
		}
		if !exists(filepath.Join(dir, name)) {
			t.Errorf("%s was moved", name)
		}
	}
	if !strings.Contains(logs.String(), `reason="it is a FIFO, not a regular file"`) {
		t.Errorf("the log does not say why pipe.csv was refused:\n%s", logs.String())
	}
	if imps := f.imports(); len(imps) != 1 || imps[0].FileName != "real.csv" {
		t.Errorf("imports = %+v, want real.csv's only", imps)
	}
	if d := metric(t, "leadpipe_watch_files_total", "result", "refused") - refusedBefore; d != 4 {
		t.Errorf("leadpipe_watch_files_total{result=refused} moved by %v, want 4", d)
	}
	if n := metric(t, "leadpipe_watch_files_pending", "dir", dir); n != 0 {
		t.Errorf("leadpipe_watch_files_pending = %v, want 0", n)
	}
}

// A claim whose daemon died before it moved the file is taken over once stale; a fresh claim
// of another daemon is left alone. A file dropped again after its first drop was processed is
// imported again, and kept beside the first under a numbered name.
func TestStaleClaimsAndDropsAgain(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	w := f.watcher(config.WatchDir{Dir: dir, Account: f.acct.Name})
	w.StaleAfter = time.Minute
	workers(t, f.pool, f.im, "stale")

	const again, held = "email\nagain@example.com\n", "email\nheld@example.com\n"
	drop(t, dir, "again.csv", again)
	drop(t, dir, "held.csv", held)
	dead, _, err := store.ClaimWatchedFile(f.ctx, f.pool, store.WatchClaim{Dir: dir, Name: "again.csv", SHA256: sha(again), Size: int64(len(again)), Owner: "dead"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.pool.Exec(f.ctx, "UPDATE watch_claims SET claimed_at = now() - interval '1 hour' WHERE import_id = $1", dead.ImportID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.ClaimWatchedFile(f.ctx, f.pool, store.WatchClaim{Dir: dir, Name: "held.csv", SHA256: sha(held), Size: int64(len(held)), Owner: "alive"}); err != nil {
		t.Fatal(err)
	}

	f.scanUntil(w, "again.csv is processed", func() bool { return exists(filepath.Join(dir, "processed", "again.csv")) })
	imps := f.imports()
	if len(imps) != 1 || imps[0].ID != dead.ImportID {
		t.Fatalf("imports = %+v, want one with the dead daemon's claim's id %d", imps, dead.ImportID)
	}
	if !exists(filepath.Join(dir, "held.csv")) || metric(t, "leadpipe_watch_files_pending", "dir", dir) != 1 {
		t.Error("held.csv, claimed by a live daemon, was taken or not counted as pending")
	}

	drop(t, dir, "again.csv", again)
	f.scanUntil(w, "again.csv is processed again", func() bool { return exists(filepath.Join(dir, "processed", "again-2.csv")) })
	if imps := f.imports(); len(imps) != 2 || imps[1].FilePath != f.stored(imps[1].ID) {
		t.Errorf("imports = %+v, want a second one of again.csv, its original in the files store", imps)
	}
	if got := names(t, filepath.Join(dir, "processed")); !slices.Equal(got, []string{"again-2.csv", "again.csv"}) {
		t.Errorf("processed/ holds %v", got)
	}
}

// Two watchers (two daemons: each its own database pool, importer and workers) watching one
// directory import each of 20 dropped files exactly once.
func TestTwoWatchersImportEachFileOnce(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(f.ctx)
	var running []chan struct{}
	for i := range 2 {
		pool, err := store.Connect(f.ctx, storetest.URL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		im := newImporter(pool)
		owner := fmt.Sprintf("daemon-%d", i)
		workers(t, pool, im, owner)
		w := &watch.Watcher{Dirs: []config.WatchDir{{Dir: dir, Account: f.acct.Name}}, DB: pool, Importer: im, Files: f.files, Owner: owner,
			Interval: 5 * time.Millisecond, Quiet: 50 * time.Millisecond, StaleAfter: time.Minute, Log: quiet}
		if err := w.Open(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		running = append(running, done)
		go func() { defer close(done); w.Run(ctx); w.Close() }()
	}
	t.Cleanup(func() {
		cancel()
		for _, done := range running {
			<-done
		}
	})

	var want []string
	for i := range 20 {
		name := fmt.Sprintf("list-%02d.csv", i)
		want = append(want, name)
		drop(t, dir, name, fmt.Sprintf("email,first_name\np%02d@example.com,P%d\n", i, i))
	}
	// A file is moved to processed/ before its claim is marked finished: wait for both.
	allFinished := func() bool {
		claims := f.claims(dir)
		for _, c := range claims {
			if !c.Finished {
				return false
			}
		}
		return len(claims) >= len(want)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for !slices.Equal(processedNames(t, dir), want) || !allFinished() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out: processed/ holds %v, claims %+v", processedNames(t, dir), f.claims(dir))
		}
		time.Sleep(20 * time.Millisecond)
	}

	var got []string
	for _, imp := range f.imports() {
		if imp.Status != store.StatusCompleted || imp.Counts.Created != 1 {
			t.Errorf("import of %s: %+v, want completed, 1 created", imp.FileName, imp)
		}
		got = append(got, imp.FileName)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("imported %v, want each of %v once", got, want)
	}
	owners := map[string]int{}
	for _, c := range f.claims(dir) {
		owners[c.Owner]++
		if !c.Finished || c.Result != "processed" {
			t.Errorf("claim %+v, want processed", c)
		}
	}
	if owners["daemon-0"]+owners["daemon-1"] != 20 {
		t.Errorf("claims by owner %v, want 20 in all", owners)
	}
	t.Logf("files claimed by each daemon: %v", owners)
	if got := names(t, dir); !slices.Equal(got, []string{".leadpipe", "processed"}) {
		t.Errorf("directory holds %v, want only .leadpipe and processed", got)
	}
	if got := names(t, filepath.Join(dir, ".leadpipe")); len(got) != 0 {
		t.Errorf("work folder holds %v, want nothing", got)
	}
}

// processedNames returns the names in dir's processed/ folder (none before it exists).
func processedNames(t *testing.T, dir string) []string {
	if !exists(filepath.Join(dir, "processed")) {
		return nil
	}
	return names(t, filepath.Join(dir, "processed"))
}
