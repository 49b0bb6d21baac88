package main

// `leadpipe imports undo` and the other imports commands on undos (docs/undo.md).

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadpipe/leadpipe/api"
	"github.com/leadpipe/leadpipe/config"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/store"
	"github.com/leadpipe/leadpipe/store/storetest"
)

// undoAB imports, in the foreground, a file that creates two prospects, then one that changes
// the title of the first and creates a third, and returns the account and the two imports' ids.
func undoAB(t *testing.T, pool *pgxpool.Pool) (acct store.Account, a, b string) {
	t.Helper()
	acct = storetest.Account(t, pool, -1)
	fileA := writeTestFile(t, "a.csv", []byte("Email,First Name,Title\na@example.com,Ann,CEO\nb@example.com,Bob,CTO\n"))
	fileB := writeTestFile(t, "b.csv", []byte("Email,First Name,Title\na@example.com,Ann,Chair\nc@example.com,Cy,COO\n"))
	a = strconv.FormatInt(jsonInt(t, oneJSON(t, mustCLI(t, "import", fileA, "--account", acct.Name)), "import_id"), 10)
	b = strconv.FormatInt(jsonInt(t, oneJSON(t, mustCLI(t, "import", fileB, "--account", acct.Name)), "import_id"), 10)
	return acct, a, b
}

// TestImportsUndoRefused: `leadpipe imports undo` of what cannot be undone exits non-zero with
// one line saying why and what to do, and prints nothing on stdout; an undo queued by the API
// is shown, listed when asked and cancelled as an import is.
func TestImportsUndoRefused(t *testing.T) {
	pool := cliEnv(t)
	acct, _, b := undoAB(t, pool)
	other := storetest.Account(t, pool, -1)
	queued := strconv.FormatInt(jsonInt(t, oneJSON(t, mustCLI(t, "import", writeTestFile(t, "q.csv", []byte("Email\nq@example.com\n")),
		"--account", acct.Name, "--queue")), "import_id"), 10)

	for _, c := range []struct{ id, account, want string }{
		{b, other.Name, "import " + b + ": not found"},
		{queued, acct.Name, "import cannot be undone: import " + queued + " is queued; cancel it first (POST /v1/imports/" + queued +
			"/cancel, or leadpipe imports cancel " + queued + "), then undo it"},
	} {
		for _, dry := range []bool{false, true} {
			args := []string{"imports", "undo", c.id, "--account", c.account}
			if dry {
				args = append(args, "--dry-run")
			}
			stdout, _, err := cli(t, args...)
			if err == nil || !strings.Contains(err.Error(), c.want) || stdout != "" {
				t.Errorf("leadpipe %s: %v, stdout %q; want an error saying %q and no output", strings.Join(args, " "), err, stdout, c.want)
			}
		}
	}
	// As a process: the exit status and the one line on stderr.
	cmd, out := startCLI(t, "imports", "undo", queued, "--account", acct.Name)
	err := cmd.Wait()
	want := "leadpipe: import cannot be undone: import " + queued + " is queued; cancel it first"
	if err == nil || cmd.ProcessState.ExitCode() != 1 || strings.Count(out.String(), "\n") != 1 || !strings.HasPrefix(out.String(), want) {
		t.Errorf("leadpipe imports undo of a queued import: %v, wrote %q; want exit status 1 and one line %q…", err, out.String(), want)
	}

	// An undo queued for the daemons, as POST /v1/imports/{id}/undo queues it.
	undo := queueUndo(t, pool, acct, mustInt(t, b))
	undoID := strconv.FormatInt(undo.ID, 10)
	if _, _, err := cli(t, "imports", "undo", b, "--account", acct.Name); err == nil ||
		!strings.Contains(err.Error(), "import "+b+" is being undone already, by undo "+undoID+" (queued)") {
		t.Errorf("undo of an import being undone: %v", err)
	}
	if _, _, err := cli(t, "imports", "undo", undoID, "--account", acct.Name); err == nil ||
		!strings.Contains(err.Error(), "import "+undoID+" is the undo of import "+b+"; an undo cannot be undone") {
		t.Errorf("undo of an undo: %v", err)
	}
	var list api.ImportList
	decode(t, mustCLI(t, "imports", "list", "--account", acct.Name, "--undos", "only"), &list)
	if len(list.Imports) != 1 || list.Imports[0].ID != undo.ID || list.Imports[0].UndoOf != mustInt(t, b) {
		t.Errorf("imports list --undos only: %+v, want the undo %s of %s", list.Imports, undoID, b)
	}
	decode(t, mustCLI(t, "imports", "list", "--account", acct.Name), &list)
	if len(list.Imports) != 3 {
		t.Errorf("imports list: %d imports, want the 3 imports and not the undo", len(list.Imports))
	}
	if _, _, err := cli(t, "imports", "list", "--account", acct.Name, "--undos", "all"); err == nil ||
		!strings.Contains(err.Error(), `--undos "all": want one of exclude, include, only`) {
		t.Errorf("imports list --undos all: %v", err)
	}

	var cancelled api.ImportView
	decode(t, mustCLI(t, "imports", "cancel", undoID, "--account", acct.Name), &cancelled)
	if cancelled.ID != undo.ID || cancelled.UndoOf != mustInt(t, b) || cancelled.Status != store.StatusCancelled || cancelled.FinishedAt == nil {
		t.Errorf("imports cancel of a queued undo: %+v; want it cancelled and ended", cancelled)
	}
	var shown api.ImportView
	decode(t, mustCLI(t, "imports", "show", b, "--account", acct.Name), &shown)
	if shown.Status != store.StatusCompleted || shown.Undo == nil || shown.Undo.ID != undo.ID || shown.Undo.Status != store.StatusCancelled {
		t.Errorf("imports show of the import whose undo was cancelled: %+v, undo %+v", shown, shown.Undo)
	}
	mustCLI(t, "imports", "cancel", queued, "--account", acct.Name) // no later daemon of these tests runs it
}

// queueUndo queues an undo of the import id for the daemons, as POST /v1/imports/{id}/undo
// does, and returns it.
func queueUndo(t *testing.T, pool *pgxpool.Pool, acct store.Account, id int64) store.Import {
	t.Helper()
	im := &importer.Importer{Pool: pool, Config: config.Default, Log: slog.New(slog.DiscardHandler)}
	undo, err := im.SubmitUndo(context.Background(), importer.UndoRequest{Account: acct.Name, ImportID: id, Source: store.SourceUpload})
	if err != nil {
		t.Fatal(err)
	}
	return undo
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
