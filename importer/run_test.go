package importer_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/store"
)

// SPEC §11: a dry run computes every row's outcome and writes nothing.
func TestDryRun(t *testing.T) {
	e := newEnv(t, 2)
	e.importCSV("Email,Title\nann@acme.com,CEO\n", crm.Options{})
	file := writeFile(t, "dry.csv", "Email,Title,Company\n"+
		"ann@acme.com,CEO,Acme\n"+ // updated: links Acme
		"bob@beta.io,CTO,Beta\n"+ // created (2 of 2)
		"bad,x,\n"+ // invalid_email
		"bob@beta.io,CTO,Beta\n"+ // unchanged
		"cat@gamma.org,VP,\n") // over_limit
	opts := crm.Options{List: "L", Tags: []string{"t"}, Campaign: "C"}
	const counts = "rows=5 created=1 updated=1 unchanged=1 skipped=2 orgs_created=2 orgs_linked=2"

	sum, err := e.runNow(file, opts, 2, true)
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, sum.Counts, counts)
	if !sum.DryRun || sum.ImportID != 0 || sum.Status != store.StatusCompleted || !sum.OverLimitWarning {
		t.Errorf("dry-run summary: DryRun %v ImportID %d Status %q OverLimitWarning %v; want true 0 completed true",
			sum.DryRun, sum.ImportID, sum.Status, sum.OverLimitWarning)
	}
	if got := sum.SkippedByReason; got["invalid_email"] != 1 || got["over_limit"] != 1 {
		t.Errorf("dry-run skips by reason %v, want invalid_email 1 and over_limit 1", got)
	}
	if n := e.nImports(); n != 1 {
		t.Errorf("%d imports after the dry run, want 1 (the earlier real one)", n)
	}
	if n := e.nImportRows(); n != 1 {
		t.Errorf("%d import rows after the dry run, want 1", n)
	}
	e.checkProspects([]map[string]string{{"email": "ann@acme.com", "title": "CEO"}})
	if n, g, c := e.nOrganizations(), e.nGroupings(), e.prospectCount(); n != 0 || g != 0 || c != 1 {
		t.Errorf("after the dry run: %d organizations, %d groupings, prospect_count %d; want 0, 0, 1", n, g, c)
	}

	// The real run does what the dry run said.
	r := e.importPath(file, opts, 2)
	checkCounts(t, r.Sum.Counts, counts)
	checkOutcomes(t, r.Outcomes, map[int]string{2: "updated", 3: "created", 4: "skipped:invalid_email", 5: "unchanged", 6: "skipped:over_limit"})
	e.checkProspects([]map[string]string{
		{"email": "ann@acme.com", "title": "CEO", "organization": "Acme"},
		{"email": "bob@beta.io", "title": "CTO", "organization": "Beta"},
	})
}

// claim leases the import to owner as a worker does, with store.ClaimImport. ClaimImport takes
// the oldest claimable import of the whole database; when some other (older) import is
// claimable, the test leases its own import with the same UPDATE restricted to its id.
func (e *tenv) claim(id int64, owner string) store.Import {
	e.t.Helper()
	var older int
	if err := e.pool.QueryRow(e.ctx, `SELECT count(*) FROM imports WHERE id < $1
		AND (status = 'queued' OR (status = 'running' AND lease_expires_at < now()))`, id).Scan(&older); err != nil {
		e.t.Fatal(err)
	}
	if older == 0 {
		imp, err := store.ClaimImport(e.ctx, e.pool, owner, time.Minute)
		if err != nil {
			e.t.Fatalf("ClaimImport: %v", err)
		}
		if imp.ID != id {
			e.t.Fatalf("ClaimImport claimed import %d, want %d", imp.ID, id)
		}
		return imp
	}
	tag, err := e.pool.Exec(e.ctx, `UPDATE imports SET status = 'running', lease_owner = $2,
			lease_expires_at = now() + interval '1 minute', started_at = coalesce(started_at, now())
		WHERE id = $1 AND status = 'queued'`, id, owner)
	if err != nil || tag.RowsAffected() != 1 {
		e.t.Fatalf("lease import %d: %v (%d rows)", id, err, tag.RowsAffected())
	}
	imp, err := store.GetImport(e.ctx, e.pool, e.acct.ID, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return imp
}

// SPEC §11: an import stopped between batches resumes from its checkpoint; the result equals an
// uninterrupted run and no row is processed twice. The fixtures run in batches of 2 rows; the
// row of lock@x.com is in the fourth batch, which the test holds up and cancels.
func TestResume(t *testing.T) {
	const before = "Email,First Name\nlock@x.com,Lock\n"
	opts := crm.Options{UniqueIdentifier: "phone", List: "R"}
	const wantCounts = "rows=11 created=4 updated=4 unchanged=2 skipped=1 orgs_created=0 orgs_linked=0"
	cases := []struct {
		fixture string
		rows    int // data rows
		// checkpoint is the last row of the third batch; rowsDone the data rows up to it.
		checkpoint, rowsDone, lastRow int
		outcomes                      map[int]string
		prospects                     []map[string]string
	}{
		{
			fixture: "testdata/resume.csv", // batches: rows 2-3, 4-5, 6-7, 8-9, 10-11, 12
			rows:    11, checkpoint: 7, rowsDone: 6, lastRow: 12,
			outcomes: map[int]string{
				2: "created", 3: "created", 4: "updated", 5: "created", 6: "updated", 7: "skipped:invalid_email",
				8: "updated", 9: "updated", 10: "unchanged", 11: "created", 12: "unchanged",
			},
			prospects: []map[string]string{
				{"email": "lock@x.com", "first_name": "Lock", "title": "Locked"},
				{"email": "a@x.com", "first_name": "Ann", "phone": "555-0001", "title": "CTO"},
				{"email": "b@x.com", "first_name": "Bobby"},
				{"email": "c@x.com", "first_name": "Cat"},
				{"email": "e@x.com", "first_name": "Eve"},
			},
		},
		{
			// BOM, CRLF, blank rows 3 and 9, a quoted line break in row 5, Windows-1252 bytes.
			// Batches: rows 2-4, 5-6, 7-8, 9-11, 12-13, 14.
			fixture: "testdata/resume_bom_cp1252.csv",
			rows:    11, checkpoint: 8, rowsDone: 6, lastRow: 14,
			outcomes: map[int]string{
				2: "created", 4: "created", 5: "updated", 6: "created", 7: "updated", 8: "skipped:invalid_email",
				10: "updated", 11: "updated", 12: "unchanged", 13: "created", 14: "unchanged",
			},
			prospects: []map[string]string{
				{"email": "lock@x.com", "first_name": "Lock", "title": "Locked"},
				{"email": "a@x.com", "first_name": "Ann", "phone": "555-0001", "title": "CTO"},
				{"email": "b@x.com", "first_name": "Bobby"},
				{"email": "c@x.com", "first_name": "Cat"},
				{"email": "e@x.com", "first_name": "Éve"},
			},
		},
	}
	wantList := []string{"list:R=a@x.com b@x.com c@x.com e@x.com lock@x.com"}
	for _, tc := range cases {
		t.Run(filepath.Base(tc.fixture), func(t *testing.T) {
			t.Run("uninterrupted", func(t *testing.T) {
				e := newEnv(t, -1)
				e.importCSV(before, crm.Options{})
				r := e.importPath(tc.fixture, opts, 2)
				checkOutcomes(t, r.Outcomes, tc.outcomes)
				checkCounts(t, r.Sum.Counts, wantCounts)
				e.checkProspects(tc.prospects)
				equalStrings(t, "groupings", e.groupings(), wantList)
			})
			t.Run("interrupted", func(t *testing.T) {
				e := newEnv(t, -1)
				// This import builds the phone lookup index; the run would otherwise build it
				// first, and building an index waits for the transaction that holds lock@x.com.
				e.importCSV(before, crm.Options{UniqueIdentifier: opts.UniqueIdentifier})
				testResume(t, e, tc.fixture, opts, tc.rows, tc.checkpoint, tc.rowsDone)
				imp := e.lastImport()
				checkCounts(t, imp.Counts, wantCounts)
				checkOutcomes(t, e.rowsOf(imp.ID).Outcomes, tc.outcomes)
				if n := e.count("SELECT count(*) FROM import_rows WHERE import_id = (SELECT max(id) FROM imports WHERE account_id = $1)"); n != tc.rows {
					t.Errorf("%d import rows recorded for the import, want %d (each row once)", n, tc.rows)
				}
				if imp.Status != store.StatusCompleted || imp.CheckpointRow != tc.lastRow {
					t.Errorf("final import: status %q checkpoint row %d, want completed %d", imp.Status, imp.CheckpointRow, tc.lastRow)
				}
				e.checkProspects(tc.prospects)
				equalStrings(t, "groupings", e.groupings(), wantList)
				if got := e.prospectCount(); got != 5 {
					t.Errorf("accounts.prospect_count = %d, want 5", got)
				}
			})
		})
	}
}

// lastImport returns the account's newest import.
func (e *tenv) lastImport() store.Import {
	e.t.Helper()
	var id int64
	if err := e.pool.QueryRow(e.ctx, "SELECT max(id) FROM imports WHERE account_id = $1", e.acct.ID).Scan(&id); err != nil {
		e.t.Fatal(err)
	}
	imp, err := store.GetImport(e.ctx, e.pool, e.acct.ID, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return imp
}

// testResume submits the fixture, runs it as worker-1 in batches of 2 until the fourth batch,
// which blocks on a lock the test holds on lock@x.com's row, cancels the run there, checks that
// the import went back to the queue at the third batch's checkpoint, and runs it to its end as
// worker-2.
func testResume(t *testing.T, e *tenv, fixture string, opts crm.Options, rows, checkpoint, rowsDone int) {
	t.Helper()
	lockID := e.prospectID("lock@x.com")
	im := e.importer(2)
	imp, _, err := im.Submit(e.ctx, e.request(fixture, opts))
	if err != nil {
		t.Fatal(err)
	}
	if imp.Status != store.StatusQueued || imp.RowsTotal != rows {
		t.Fatalf("submitted import: status %q rows_total %d, want queued %d", imp.Status, imp.RowsTotal, rows)
	}
	claimed := e.claim(imp.ID, "worker-1")

	lockTx, err := e.pool.Begin(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lockTx.Rollback(context.WithoutCancel(e.ctx)) //nolint:errcheck
	if _, err := lockTx.Exec(e.ctx, "SELECT id FROM prospects WHERE id = $1 FOR UPDATE", lockID); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	type ran struct {
		sum importer.Summary
		err error
	}
	done := make(chan ran, 1)
	go func() {
		sum, err := im.Run(runCtx, claimed, "worker-1")
		done <- ran{sum, err}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case r := <-done:
			t.Fatalf("run ended before it was interrupted: status %q error %v", r.sum.Status, r.err)
		default:
		}
		var cp int
		if err := e.pool.QueryRow(e.ctx, "SELECT checkpoint_row FROM imports WHERE id = $1", imp.ID).Scan(&cp); err != nil {
			t.Fatal(err)
		}
		if cp >= checkpoint {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("checkpoint still at row %d", cp)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // let the fourth batch reach the lock
	cancel()
	first := <-done
	if err := lockTx.Rollback(e.ctx); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(first.err, context.Canceled) || first.sum.Status != store.StatusQueued {
		t.Fatalf("interrupted run: status %q error %v; want queued and context.Canceled", first.sum.Status, first.err)
	}
	paused, err := store.GetImport(e.ctx, e.pool, e.acct.ID, imp.ID)
	if err != nil {
		t.Fatal(err)
	}
	if paused.Status != store.StatusQueued || paused.CheckpointRow != checkpoint || paused.Counts.Rows != rowsDone {
		t.Fatalf("paused import: status %q checkpoint row %d rows done %d; want queued %d %d",
			paused.Status, paused.CheckpointRow, paused.Counts.Rows, checkpoint, rowsDone)
	}
	if n := len(e.rowsOf(imp.ID).Outcomes); n != rowsDone {
		t.Errorf("%d rows recorded at the pause, want %d", n, rowsDone)
	}
	e.checkProspect("lock@x.com", map[string]string{"email": "lock@x.com", "first_name": "Lock"})

	resumed := e.claim(imp.ID, "worker-2")
	if resumed.CheckpointRow != checkpoint || resumed.CheckpointOffset == 0 {
		t.Fatalf("claimed again at checkpoint row %d offset %d, want row %d", resumed.CheckpointRow, resumed.CheckpointOffset, checkpoint)
	}
	sum, err := e.importer(2).Run(e.ctx, resumed, "worker-2")
	if err != nil || sum.Status != store.StatusCompleted {
		t.Fatalf("resumed run: status %q error %v", sum.Status, err)
	}
}

// TestFileChangedAfterQueueing fails an import whose file changed between submission and run,
// instead of reading a different file from a checkpoint computed on the old one.
func TestFileChangedAfterQueueing(t *testing.T) {
	e := newEnv(t, -1)
	path := filepath.Join(t.TempDir(), "changes.csv")
	if err := os.WriteFile(path, []byte("Email\na@x.com\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	im := e.importer(100)
	imp, _, err := im.Submit(e.ctx, e.request(path, crm.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("Email\na@x.com\nb@x.com\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := im.Run(e.ctx, e.claim(imp.ID, "worker-1"), "worker-1")
	if !errors.Is(err, importer.ErrBadFile) || sum.Status != store.StatusFailed {
		t.Fatalf("run: status %q error %v, want failed with ErrBadFile", sum.Status, err)
	}
	if got := e.lastImport(); got.Status != store.StatusFailed || !strings.Contains(got.Error, "changed after the import was queued") {
		t.Fatalf("import: status %q error %q", got.Status, got.Error)
	}
	if n := e.count("SELECT count(*) FROM prospects WHERE account_id = $1"); n != 0 {
		t.Fatalf("%d prospects written, want 0", n)
	}
}
