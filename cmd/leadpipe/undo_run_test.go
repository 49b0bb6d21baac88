package main

// Undos run to their end: by `leadpipe imports undo` in the foreground, and by a daemon killed
// (SIGKILL) in the middle of one and started again (docs/undo.md).

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadpipe/leadpipe/api"
	"github.com/leadpipe/leadpipe/store"
	"github.com/leadpipe/leadpipe/store/storetest"
)

// TestImportsUndo: `leadpipe imports undo --dry-run` reports what the undo would do, row by row,
// and changes nothing; `leadpipe imports undo` takes the import back and prints one JSON
// object with its counts and its own id; the import is then undone, and cannot be undone again.
func TestImportsUndo(t *testing.T) {
	pool := cliEnv(t)
	acct, a, b := undoAB(t, pool)
	people := `SELECT email || ' ' || coalesce(first_name, '') || ' ' || coalesce(title, '') FROM prospects WHERE account_id = $1 ORDER BY email`
	afterA := []string{"a@example.com Ann CEO", "b@example.com Bob CTO"}
	afterB := []string{"a@example.com Ann Chair", "b@example.com Bob CTO", "c@example.com Cy COO"}

	dry := oneJSON(t, mustCLI(t, "imports", "undo", b, "--account", acct.Name, "--dry-run"))
	results, _ := dry["row_results"].([]any)
	var rows []string
	for _, r := range results {
		m := r.(map[string]any)
		rows = append(rows, fmt.Sprint(m["row_number"], " ", m["outcome"]))
	}
	if dry["undo_id"] != nil || fmt.Sprint(dry["import_id"]) != b || dry["dry_run"] != true || dry["status"] != store.StatusCompleted ||
		jsonInt(t, dry, "rows") != 2 || jsonInt(t, dry, "deleted") != 1 || jsonInt(t, dry, "restored") != 1 ||
		jsonInt(t, dry, "kept_changed_since") != 0 || jsonInt(t, dry, "fields_kept") != 0 || !reflect.DeepEqual(rows, []string{"3 deleted", "2 restored"}) {
		t.Errorf("imports undo --dry-run: %v; want import %s's rows 3 deleted and 2 restored, nothing recorded", dry, b)
	}
	if got := textRows(t, pool, people, acct.ID); !reflect.DeepEqual(got, afterB) {
		t.Errorf("prospects after the dry run: %q, want them as after b %q", got, afterB)
	}

	sum := oneJSON(t, mustCLI(t, "imports", "undo", b, "--account", acct.Name))
	undoID := jsonInt(t, sum, "undo_id")
	if undoID == 0 || fmt.Sprint(sum["import_id"]) != b || sum["status"] != store.StatusCompleted || sum["dry_run"] != nil ||
		jsonInt(t, sum, "rows") != 2 || jsonInt(t, sum, "deleted") != 1 || jsonInt(t, sum, "restored") != 1 ||
		jsonInt(t, sum, "kept_changed_since") != 0 || jsonInt(t, sum, "fields_kept") != 0 || sum["row_results"] != nil {
		t.Errorf("imports undo: %v; want undo of %s completed, 1 deleted, 1 restored", sum, b)
	}
	if got := textRows(t, pool, people, acct.ID); !reflect.DeepEqual(got, afterA) {
		t.Errorf("prospects after the undo: %q, want them as after a %q", got, afterA)
	}
	var shown api.ImportView
	decode(t, mustCLI(t, "imports", "show", b, "--account", acct.Name), &shown)
	if shown.Status != store.StatusUndone || shown.UndoneBy != undoID || shown.UndoneAt == nil || shown.Undo == nil ||
		shown.Undo.ID != undoID || shown.Undo.Source != store.SourceCLI || shown.Undo.Counters["deleted"] != 1 {
		t.Errorf("imports show of the undone import: %+v, undo %+v", shown, shown.Undo)
	}
	id := strconv.FormatInt(undoID, 10)
	for _, c := range []struct{ id, want string }{
		{b, "import " + b + " was undone already, by undo " + id + " at "},
		{id, "import " + id + " is the undo of import " + b + "; an undo cannot be undone"},
	} {
		if stdout, _, err := cli(t, "imports", "undo", c.id, "--account", acct.Name); err == nil || !strings.Contains(err.Error(), c.want) || stdout != "" {
			t.Errorf("imports undo %s: %v, stdout %q; want an error saying %q", c.id, err, stdout, c.want)
		}
	}
	// Undoing a, now: the account is as before it.
	mustCLI(t, "imports", "undo", a, "--account", acct.Name)
	if got := textRows(t, pool, people, acct.ID); len(got) != 0 {
		t.Errorf("prospects after undoing a too: %q, want none", got)
	}
}

// killUndoFiles writes the files of TestUndoKilledResumes: the first creates 3000 prospects;
// the second, imported into a list and with a tag, changes the title of every third of them,
// leaves the others as they are and creates 1000 more.
func killUndoFiles(t *testing.T) (first, second, options string) {
	t.Helper()
	dir := t.TempDir()
	write := func(name string, rows int, title func(i int) string) string {
		var b strings.Builder
		b.WriteString("Email,First Name,Title\n")
		for i := range rows {
			fmt.Fprintf(&b, "p%d@undo.example.com,F%d,%s\n", i, i, title(i))
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	first = write("first.csv", 3000, func(i int) string { return fmt.Sprintf("T%d", i) })
	second = write("second.csv", 4000, func(i int) string {
		if i%3 == 0 {
			return fmt.Sprintf("N%d", i)
		}
		return fmt.Sprintf("T%d", i)
	})
	options = filepath.Join(dir, "options.json")
	if err := os.WriteFile(options, []byte(`{"list": "Spring fair", "tags": ["fair"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return first, second, options
}

// undoScene imports the two files of killUndoFiles into a new account, the first into the list
// Winter, and then, as someone
// would in the CRM, edits a few records: three the second import updated and ten it created.
// It returns the account and the second import's id.
func undoScene(t *testing.T, pool *pgxpool.Pool, first, second, options string) (store.Account, int64) {
	t.Helper()
	acct := storetest.Account(t, pool, -1)
	winter := filepath.Join(t.TempDir(), "winter.json")
	if err := os.WriteFile(winter, []byte(`{"list": "Winter"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	mustCLI(t, "import", first, "--account", acct.Name, "--options", winter)
	id := jsonInt(t, oneJSON(t, mustCLI(t, "import", second, "--account", acct.Name, "--options", options)), "import_id")
	if _, err := pool.Exec(context.Background(), `UPDATE prospects SET title = 'Edited', updated_at = clock_timestamp() + interval '1 second'
		WHERE account_id = $1 AND (email IN ('p0@undo.example.com', 'p3@undo.example.com', 'p6@undo.example.com')
			OR email ~ '^p300[0-9]@')`, acct.ID); err != nil {
		t.Fatal(err)
	}
	return acct, id
}

// TestUndoKilledResumes kills a daemon (SIGKILL) in the middle of an undo, once some of its
// batches have committed, and starts another: the undo resumes from its checkpoint, and the
// account's prospects and memberships, the undo's counts and its row outcomes are exactly those
// of the same undo run uninterrupted on an account where the same was done.
func TestUndoKilledResumes(t *testing.T) {
	pool := cliEnv(t)
	t.Setenv("LEADPIPE_BATCH_SIZE", "100")
	t.Setenv("LEADPIPE_WORKERS", "1")
	t.Setenv("LEADPIPE_POLL_INTERVAL", "50ms")
	t.Setenv("LEADPIPE_LEASE", "1s")
	first, second, options := killUndoFiles(t)

	twin, twinImport := undoScene(t, pool, first, second, options)
	acct, imported := undoScene(t, pool, first, second, options)

	// Both undos take 400 batches, so that the daemon can be killed between two.
	t.Setenv("LEADPIPE_BATCH_SIZE", "10")
	// The undo run uninterrupted, in the foreground.
	whole := oneJSON(t, mustCLI(t, "imports", "undo", strconv.FormatInt(twinImport, 10), "--account", twin.Name))
	twinUndo := jsonInt(t, whole, "undo_id")

	// The same undo, by a daemon killed mid-way.
	undo := queueUndo(t, pool, acct, imported).ID
	progress := func() (status string, done int) {
		t.Helper()
		if err := pool.QueryRow(context.Background(), "SELECT status, checkpoint_row FROM imports WHERE id = $1", undo).Scan(&status, &done); err != nil {
			t.Fatal(err)
		}
		return status, done
	}
	t.Setenv("LEADPIPE_HTTP_ADDR", unusedAddr(t))
	cmd, out := startCLI(t, "serve")
	waitUntil(t, out, "a few batches of the undo", func() bool { _, done := progress(); return done >= 400 })
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait() //nolint:errcheck // killed
	status, done := progress()
	t.Logf("killed after %d of 4000 rows", done)
	if status != store.StatusRunning || done >= 4000 {
		t.Fatalf("undo after the kill: %s with %d rows done; want it interrupted mid-way (a smaller batch size?)", status, done)
	}
	if n := count(t, pool, "SELECT count(*) FROM import_rows WHERE import_id = $1", undo); n != done {
		t.Fatalf("undo after the kill: %d row outcomes, its checkpoint says %d", n, done)
	}

	t.Setenv("LEADPIPE_HTTP_ADDR", unusedAddr(t))
	_, out = startCLI(t, "serve")
	waitUntil(t, out, "the undo to end", func() bool { s, _ := progress(); return s != store.StatusRunning && s != store.StatusQueued })
	if status, _ := progress(); status != store.StatusCompleted {
		t.Fatalf("resumed undo ended %s; log:\n%s", status, out.String())
	}

	// Hand-written: the first import's prospects, with the edits made after the second, and the
	// ten the second created that were edited since, kept.
	var want []string
	for i := range 3000 {
		title := fmt.Sprintf("T%d", i)
		if i == 0 || i == 3 || i == 6 {
			title = "Edited"
		}
		want = append(want, fmt.Sprintf("p%d@undo.example.com F%d %s", i, i, title))
	}
	for i := 3000; i < 3010; i++ {
		want = append(want, fmt.Sprintf("p%d@undo.example.com F%d Edited", i, i))
	}
	people := `SELECT email || ' ' || coalesce(first_name, '') || ' ' || coalesce(title, '') FROM prospects WHERE account_id = $1`
	for _, a := range []store.Account{twin, acct} {
		got := textRows(t, pool, people+" ORDER BY id", a.ID)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("account %s: %d prospects after the undo, want %d: first %q", a.Name, len(got), len(want), got[:min(3, len(got))])
		}
		// Every prospect stays in the first import's list; nobody is left in the second's, whose
		// list and tag are gone (the ten it created and that were edited since are kept, but
		// leave them).
		lists := textRows(t, pool, `SELECT g.kind || ' ' || g.name || ' ' || count(*) FROM grouping_members m
			JOIN groupings g ON g.id = m.grouping_id WHERE g.account_id = $1 GROUP BY g.kind, g.name ORDER BY 1`, a.ID)
		if want := []string{"list Winter 3000"}; !reflect.DeepEqual(lists, want) {
			t.Errorf("account %s: memberships %q, want %q", a.Name, lists, want)
		}
	}
	if jsonInt(t, whole, "rows") != 4000 || jsonInt(t, whole, "deleted") != 990 || jsonInt(t, whole, "fields_kept") != 3 {
		t.Errorf("uninterrupted undo: %v; want 4000 rows taken back, 990 deleted, 3 fields kept", whole)
	}

	query := map[string]string{
		"prospects": people + " ORDER BY 1",
		"memberships": `SELECT p.email || ' ' || g.kind || ' ' || g.name FROM grouping_members m JOIN groupings g ON g.id = m.grouping_id
			JOIN prospects p ON p.id = m.prospect_id WHERE p.account_id = $1 ORDER BY 1`,
		"groupings":      `SELECT kind || ' ' || name FROM groupings WHERE account_id = $1 ORDER BY 1`,
		"prospect count": `SELECT prospect_count::text FROM accounts WHERE id = $1`,
	}
	for what, sql := range query {
		got, want := textRows(t, pool, sql, acct.ID), textRows(t, pool, sql, twin.ID)
		if !reflect.DeepEqual(got, want) || len(want) == 0 {
			t.Errorf("%s after the killed undo differ from the uninterrupted one's (%d and %d rows)", what, len(got), len(want))
		}
	}
	ofUndo := map[string]string{
		"outcomes": `SELECT r.row_number || ' ' || r.source_row || ' ' || r.outcome || ' ' || coalesce(r.reason, '')
			FROM import_rows r WHERE r.import_id = $1 ORDER BY r.row_number`,
		"undo": `SELECT status || ' ' || rows_total || ' ' || rows_done || ' ' || unchanged || ' ' || counters::text || ' ' ||
			(lease_owner IS NULL) || ' ' || (finished_at IS NOT NULL) FROM imports WHERE id = $1`,
		"undone": `SELECT i.status || ' ' || (i.undone_by = u.id) || ' ' || (i.undone_at = u.finished_at)
			FROM imports u JOIN imports i ON i.id = u.undo_of WHERE u.id = $1`,
	}
	for what, sql := range ofUndo {
		got, want := textRows(t, pool, sql, undo), textRows(t, pool, sql, twinUndo)
		if !reflect.DeepEqual(got, want) || len(want) == 0 {
			t.Errorf("%s of the killed undo differ from the uninterrupted one's:\n got %.300q\nwant %.300q", what, got, want)
		}
	}
	if got := textRows(t, pool, ofUndo["undone"], undo); !reflect.DeepEqual(got, []string{"undone true true"}) {
		t.Errorf("the import of the killed undo: %q, want undone by it when it completed", got)
	}
}
