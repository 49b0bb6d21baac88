package undo_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/config"
	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
)

// An import into an empty account, undone by the engine (importer.UndoNow) with the prospects'
// undoer, batch by batch: the account is as before the import — no prospect, a count of 0,
// no member in the list the import filled. A prospect that a later row of the import updated
// is deleted too: that row, taken back first, puts its updated_at back.
func TestUndoAnImport(t *testing.T) {
	e := newEnv(t)
	path := filepath.Join(t.TempDir(), "list.csv")
	if err := os.WriteFile(path, []byte("Email,Title\na@x.com,CEO\nb@x.com,CTO\nc@x.com,\na@x.com,Boss\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default
	cfg.BatchSize = 2
	im := &importer.Importer{Pool: e.pool, Config: cfg, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	sum, err := im.RunNow(e.ctx, importer.Request{Account: e.acct.Name, Path: path, Options: crm.Options{List: "Fair"}, Source: store.SourceCLI}, "test", false)
	if err != nil || sum.Status != store.StatusCompleted || sum.Created != 3 || sum.Updated != 1 {
		t.Fatalf("import: %+v, %v", sum, err)
	}

	// Row 5 (the file's 4th data row) updated, in the import's second batch, what row 2
	// created in its first: what the import keeps of it (import_rows.undo) is the title it
	// overwrote and the prospect's updated_at before.
	var before time.Time
	if err := e.pool.QueryRow(e.ctx, "SELECT created_at FROM prospects WHERE account_id = $1 AND email = 'a@x.com'", e.acct.ID).Scan(&before); err != nil {
		t.Fatal(err)
	}
	kept, err := json.Marshal(pipeline.Undo{Changes: []pipeline.Change{{Field: "title", Old: "CEO", New: "Boss"}}, UpdatedAt: before})
	if err != nil {
		t.Fatal(err)
	}
	e.exec("UPDATE import_outcome_rows SET undo = $2 WHERE import_id = $1 AND row_number = 5", sum.ImportID, string(kept))

	undone, err := im.UndoNow(e.ctx, importer.UndoRequest{Account: e.acct.Name, ImportID: sum.ImportID, Source: store.SourceCLI}, "test", false)
	if err != nil || undone.Status != store.StatusCompleted {
		t.Fatalf("undo: %+v, %v", undone, err)
	}
	if c := undone.Counts; c.Rows != 4 || c.Counters["deleted"] != 3 || c.Counters["restored"] != 1 || c.Counters["kept_changed_since"] != 0 {
		t.Errorf("undo's counts: %+v, want 4 rows, 3 deleted, 1 restored", undone.Counts)
	}
	e.check("prospects", "0", "SELECT count(*)::text FROM prospects WHERE account_id = $1", e.acct.ID)
	e.check("prospect_count", "0", "SELECT prospect_count::text FROM accounts WHERE id = $1", e.acct.ID)
	e.check("memberships", "0", "SELECT count(*)::text FROM grouping_members m JOIN groupings g ON g.id = m.grouping_id WHERE g.account_id = $1", e.acct.ID)
	e.check("import's status", "undone", "SELECT status FROM imports WHERE id = $1", sum.ImportID)
}
