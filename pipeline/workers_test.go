package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadpipe/leadpipe/config"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
	"github.com/leadpipe/leadpipe/store/storetest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// setup returns the test database, with nothing left queued or running by an earlier run of
// these tests, a fresh account and an importer with small batches.
func setup(t *testing.T) (*pgxpool.Pool, store.Account, *importer.Importer) {
	t.Helper()
	pool := storetest.Pool(t)
	if _, err := pool.Exec(context.Background(), `UPDATE imports SET status = 'failed', error = 'abandoned by an earlier test run',
		lease_owner = NULL, lease_expires_at = NULL WHERE status IN ('queued', 'running')`); err != nil {
		t.Fatalf("clear the queue: %v", err)
	}
	acct := storetest.Account(t, pool, -1)
	cfg := config.Default
	cfg.BatchSize = 2
	cfg.QueueDepth = 1
	return pool, acct, &importer.Importer{Pool: pool, Config: cfg, Log: quiet}
}

func writeCSV(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// ran records which owner ran which import.
type ran struct {
	mu     sync.Mutex
	owners map[int64][]string
}

func (r *ran) add(id int64, owner string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.owners == nil {
		r.owners = map[int64][]string{}
	}
	r.owners[id] = append(r.owners[id], owner)
}

func (r *ran) get(id int64) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.owners[id])
}

// serveWorkers runs w until the returned stop is called; stop fails the test when Serve does
// not return promptly.
func serveWorkers(t *testing.T, w *pipeline.Workers) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Serve(ctx); close(done) }()
	stopped := false
	stop = func() {
		t.Helper()
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("Workers.Serve did not return within 10s of cancel")
		}
	}
	t.Cleanup(stop)
	return stop
}

// waitStatus polls the import until it has status want.
func waitStatus(t *testing.T, pool *pgxpool.Pool, acct store.Account, id int64, want string) store.Import {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second) // under -race beside the other packages' tests, 20 s proved too short
	for {
		im, err := store.GetImport(context.Background(), pool, acct.ID, id)
		if err != nil {
			t.Fatalf("get import %d: %v", id, err)
		}
		if im.Status == want {
			return im
		}
		if time.Now().After(deadline) || (im.Status == store.StatusFailed && want != store.StatusFailed) {
			t.Fatalf("import %d: status %q (error %q), want %q", id, im.Status, im.Error, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func prospectEmails(t *testing.T, pool *pgxpool.Pool, accountID int64) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), "SELECT email FROM prospects WHERE account_id = $1 ORDER BY email", accountID)
	if err != nil {
		t.Fatal(err)
	}
	emails, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return emails
}

func TestWorkersRunQueuedImports(t *testing.T) {
	pool, acct, im := setup(t)
	ctx := context.Background()
	a := writeCSV(t, "a.csv", "Email,First Name,Last Name\nann@a.example,Ann,Able\nbob@a.example,Bob,Best\n\ncy@a.example,Cy,Coe\n")
	b := writeCSV(t, "b.csv", "email;last_name\ndee@b.example;Dunn\nnot-an-email;Evans\n")
	impA, checkedA, err := im.Submit(ctx, importer.Request{Account: acct.Name, Path: a, Source: store.SourceCLI})
	if err != nil {
		t.Fatalf("submit a: %v", err)
	}
	impB, _, err := im.Submit(ctx, importer.Request{Account: acct.Name, Path: b, FileName: "bee.csv", Source: store.SourceUpload})
	if err != nil {
		t.Fatalf("submit b: %v", err)
	}
	if impA.Status != store.StatusQueued || impB.Status != store.StatusQueued {
		t.Fatalf("submitted imports have status %q and %q, want queued", impA.Status, impB.Status)
	}
	if checkedA.Rows != 3 || impA.RowsTotal != 3 || impB.RowsTotal != 2 {
		t.Fatalf("rows total: a %d (checked %d), b %d; want 3, 3, 2", impA.RowsTotal, checkedA.Rows, impB.RowsTotal)
	}

	var r ran
	w := &pipeline.Workers{
		Querier: pool, Count: 2, Owner: "workers-test", Lease: 30 * time.Second, Poll: 20 * time.Millisecond, Log: quiet,
		Run: func(ctx context.Context, imp store.Import, owner string) error {
			r.add(imp.ID, owner)
			_, err := im.Run(ctx, imp, owner)
			return err
		},
	}
	stop := serveWorkers(t, w)
	doneA := waitStatus(t, pool, acct, impA.ID, store.StatusCompleted)
	doneB := waitStatus(t, pool, acct, impB.ID, store.StatusCompleted)
	stop()

	noOrgs := map[string]int{"organizations_created": 0, "organizations_linked": 0}
	for _, tc := range []struct {
		im   store.Import
		want store.Counts
	}{
		{doneA, store.Counts{Rows: 3, Created: 3, SkippedByReason: map[string]int{}, WarningsByKind: map[string]int{}, Counters: noOrgs}},
		{doneB, store.Counts{Rows: 2, Created: 1, Skipped: 1, SkippedByReason: map[string]int{"invalid_email": 1}, WarningsByKind: map[string]int{},
			Counters: noOrgs}},
	} {
		if got := fmt.Sprintf("%+v", tc.im.Counts); got != fmt.Sprintf("%+v", tc.want) {
			t.Errorf("import %d counts = %s, want %+v", tc.im.ID, got, tc.want)
		}
		if tc.im.FinishedAt == nil || tc.im.StartedAt == nil {
			t.Errorf("import %d: started %v, finished %v; want both set", tc.im.ID, tc.im.StartedAt, tc.im.FinishedAt)
		}
		owners := r.get(tc.im.ID)
		if len(owners) != 1 || (owners[0] != "workers-test/1" && owners[0] != "workers-test/2") {
			t.Errorf("import %d was run by %v, want exactly one of workers-test/1, workers-test/2", tc.im.ID, owners)
		}
	}
	if doneA.CheckpointRow != 5 { // header row 1, three data rows and one blank row
		t.Errorf("import a checkpoint row = %d, want 5", doneA.CheckpointRow)
	}
	var leaseOwner *string
	if err := pool.QueryRow(ctx, "SELECT lease_owner FROM imports WHERE id = $1", impA.ID).Scan(&leaseOwner); err != nil || leaseOwner != nil {
		t.Errorf("completed import still leased to %v (err %v)", leaseOwner, err)
	}
	want := []string{"ann@a.example", "bob@a.example", "cy@a.example", "dee@b.example"}
	if got := prospectEmails(t, pool, acct.ID); !slices.Equal(got, want) {
		t.Errorf("prospects = %v, want %v", got, want)
	}
	var outcomes []string
	rows, _ := pool.Query(ctx, "SELECT row_number || ':' || outcome || ':' || coalesce(reason, '') FROM import_rows WHERE import_id = $1 ORDER BY row_number", impB.ID)
	outcomes, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || !slices.Equal(outcomes, []string{"2:created:", "3:skipped:invalid_email"}) {
		t.Errorf("import b row outcomes = %v (err %v), want [2:created: 3:skipped:invalid_email]", outcomes, err)
	}
}

// TestWorkersWokenWhenQueued: with an hour between polls, an import queued once the workers
// are idle starts at once, because Postgres says it was queued (migration 0020's trigger,
// store.ListenQueued) and that wakes them.
func TestWorkersWokenWhenQueued(t *testing.T) {
	pool, acct, im := setup(t)
	ctx := context.Background()
	w := &pipeline.Workers{
		Querier: pool, Count: 2, Owner: "wake-test", Lease: 30 * time.Second, Poll: time.Hour, Log: quiet,
		Run: func(ctx context.Context, imp store.Import, owner string) error {
			_, err := im.Run(ctx, imp, owner)
			return err
		},
	}
	listenCtx, stopListening := context.WithCancel(ctx)
	listening := make(chan struct{}, 1)
	listened := make(chan error, 1)
	go func() {
		listened <- store.ListenQueued(listenCtx, pool.Config().ConnConfig, func() {
			w.Wake()
			select {
			case listening <- struct{}{}:
			default:
			}
		})
	}()
	t.Cleanup(func() {
		stopListening()
		if err := <-listened; !errors.Is(err, context.Canceled) {
			t.Errorf("ListenQueued stopped with %v, want context.Canceled", err)
		}
	})
	select {
	case <-listening:
	case err := <-listened:
		t.Fatalf("ListenQueued: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("ListenQueued did not listen within 10 s")
	}
	serveWorkers(t, w)
	time.Sleep(300 * time.Millisecond) // the workers' first look finds nothing; they wait an hour, or for a wake

	p := writeCSV(t, "woken.csv", "email\nann@woken.example\n")
	imp, _, err := im.Submit(ctx, importer.Request{Account: acct.Name, Path: p, Source: store.SourceUpload})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	waitStatus(t, pool, acct, imp.ID, store.StatusCompleted)
	t.Logf("queued to completed in %s", time.Since(start).Round(time.Millisecond))
}

// Workers stop promptly when idle, and an import whose worker died (its lease lapsed) is
// claimed again by another owner and completed.
func TestWorkersReclaimLapsedLease(t *testing.T) {
	pool, acct, im := setup(t)
	ctx := context.Background()
	p := writeCSV(t, "lapsed.csv", "email\nx1@l.example\nx2@l.example\nx3@l.example\n")
	imp, _, err := im.Submit(ctx, importer.Request{Account: acct.Name, Path: p, Source: store.SourceCLI})
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	// A worker that will die claims it.
	claimed, err := store.ClaimImport(ctx, pool, "dead-worker", time.Minute)
	if err != nil || claimed.ID != imp.ID || claimed.Status != store.StatusRunning {
		t.Fatalf("ClaimImport = import %d status %q, %v; want import %d running", claimed.ID, claimed.Status, err, imp.ID)
	}
	// While its lease holds, nobody else gets it.
	if other, err := store.ClaimImport(ctx, pool, "other", time.Minute); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second ClaimImport under a live lease = import %d, %v; want ErrNotFound", other.ID, err)
	}
	// It commits its first batch (rows 2 and 3: the checkpoint is after row 3) and dies.
	head := "email\nx1@l.example\nx2@l.example\n"
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		return store.RecordBatch(ctx, tx, imp.ID, "dead-worker", time.Minute,
			[]store.Outcome{{Row: 2, Outcome: "created"}, {Row: 3, Outcome: "created"}},
			store.Counts{Rows: 2, Created: 2, SkippedByReason: map[string]int{}, WarningsByKind: map[string]int{}}, 3, int64(len(head)))
	})
	if err != nil {
		t.Fatalf("dead worker's first batch: %v", err)
	}
	if _, err := pool.Exec(ctx, "UPDATE imports SET lease_expires_at = now() - interval '1 second' WHERE id = $1", imp.ID); err != nil {
		t.Fatal(err)
	}

	var r ran
	w := &pipeline.Workers{
		Querier: pool, Count: 1, Owner: "rescuer", Lease: 30 * time.Second, Poll: 20 * time.Millisecond, Log: quiet,
		Run: func(ctx context.Context, imp store.Import, owner string) error {
			r.add(imp.ID, owner)
			_, err := im.Run(ctx, imp, owner)
			return err
		},
	}
	stop := serveWorkers(t, w)
	done := waitStatus(t, pool, acct, imp.ID, store.StatusCompleted)
	stop()
	if got := r.get(imp.ID); !slices.Equal(got, []string{"rescuer/1"}) {
		t.Errorf("lapsed import run by %v, want [rescuer/1]", got)
	}
	// It resumed from the checkpoint: only row 4 was read, and the counts went on.
	if done.Counts.Rows != 3 || done.Counts.Created != 3 || done.CheckpointRow != 4 {
		t.Errorf("counts = %+v, checkpoint row %d; want 3 rows created, checkpoint row 4", done.Counts, done.CheckpointRow)
	}
	if got := prospectEmails(t, pool, acct.ID); !slices.Equal(got, []string{"x3@l.example"}) {
		t.Errorf("prospects = %v, want [x3@l.example] (rows 2 and 3 were the dead worker's)", got)
	}
	// The dead worker's late write is refused.
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		return store.RecordBatch(ctx, tx, imp.ID, "dead-worker", time.Minute, nil, store.Counts{}, 2, 10)
	})
	if !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("RecordBatch by the dead worker = %v, want ErrLeaseLost", err)
	}
}

func TestRecordBatchLease(t *testing.T) {
	pool, acct, im := setup(t)
	ctx := context.Background()
	p := writeCSV(t, "lease.csv", "email\na@lease.example\n")
	imp, _, err := im.Submit(ctx, importer.Request{Account: acct.Name, Path: p, Source: store.SourceCLI})
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	// Queued, not yet claimed: nobody holds the lease.
	record := func(owner string, c store.Counts, outcomes []store.Outcome) error {
		return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			return store.RecordBatch(ctx, tx, imp.ID, owner, time.Minute, outcomes, c, 2, 20)
		})
	}
	if err := record("owner-a", store.Counts{}, nil); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("RecordBatch on a queued import = %v, want ErrLeaseLost", err)
	}
	if _, err := store.ClaimImport(ctx, pool, "owner-a", time.Minute); err != nil {
		t.Fatalf("claim: %v", err)
	}
	if err := record("owner-b", store.Counts{Rows: 1}, nil); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("RecordBatch by the wrong owner = %v, want ErrLeaseLost", err)
	}
	c := store.Counts{Rows: 1, Created: 1, SkippedByReason: map[string]int{}, WarningsByKind: map[string]int{"x": 2}}
	if err := record("owner-a", c, []store.Outcome{{Row: 2, Outcome: "created"}}); err != nil {
		t.Fatalf("RecordBatch by the owner = %v, want nil", err)
	}
	got, err := store.GetImport(ctx, pool, acct.ID, imp.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Counts.Rows != 1 || got.Counts.Created != 1 || got.Counts.WarningsByKind["x"] != 2 || got.CheckpointRow != 2 || got.CheckpointOffset != 20 {
		t.Fatalf("after RecordBatch: counts %+v checkpoint %d/%d; want rows 1, created 1, x 2, checkpoint 2/20",
			got.Counts, got.CheckpointRow, got.CheckpointOffset)
	}
	// The wrong owner's attempt wrote nothing.
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM import_rows WHERE import_id = $1", imp.ID).Scan(&n); err != nil || n != 1 {
		t.Fatalf("import_rows = %d (err %v), want 1", n, err)
	}
	if err := store.FinishImport(ctx, pool, imp.ID, "owner-b", store.StatusCompleted, ""); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("FinishImport by the wrong owner = %v, want ErrLeaseLost", err)
	}
	if err := store.FinishImport(ctx, pool, imp.ID, "owner-a", store.StatusCompleted, ""); err != nil {
		t.Fatalf("FinishImport by the owner = %v", err)
	}
	if err := record("owner-a", store.Counts{}, nil); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("RecordBatch after the import finished = %v, want ErrLeaseLost", err)
	}
}

// An import that fails (its file vanished) is recorded as failed with the reason, and the
// worker goes on to the next import.
func TestWorkersFailedImportDoesNotStopWorker(t *testing.T) {
	pool, acct, im := setup(t)
	ctx := context.Background()
	gone := writeCSV(t, "gone.csv", "email\ng@gone.example\n")
	ok := writeCSV(t, "ok.csv", "email\nk@ok.example\n")
	impGone, _, err := im.Submit(ctx, importer.Request{Account: acct.Name, Path: gone, Source: store.SourceCLI})
	if err != nil {
		t.Fatal(err)
	}
	impOK, _, err := im.Submit(ctx, importer.Request{Account: acct.Name, Path: ok, Source: store.SourceCLI})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(gone); err != nil {
		t.Fatal(err)
	}
	w := &pipeline.Workers{
		Querier: pool, Count: 1, Owner: "one", Lease: 30 * time.Second, Poll: 20 * time.Millisecond, Log: quiet,
		Run: func(ctx context.Context, imp store.Import, owner string) error {
			_, err := im.Run(ctx, imp, owner)
			return err
		},
	}
	stop := serveWorkers(t, w)
	failed := waitStatus(t, pool, acct, impGone.ID, store.StatusFailed)
	waitStatus(t, pool, acct, impOK.ID, store.StatusCompleted)
	stop()
	if !strings.Contains(failed.Error, "gone.csv") {
		t.Errorf("failed import's error %q does not name the file", failed.Error)
	}
	if got := prospectEmails(t, pool, acct.ID); !slices.Equal(got, []string{"k@ok.example"}) {
		t.Errorf("prospects = %v, want [k@ok.example]", got)
	}
}
