package watch_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/leadpipe/leadpipe/config"
	"github.com/leadpipe/leadpipe/filestore"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/intake/watch"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
	"github.com/leadpipe/leadpipe/store/storetest"
)

// TestMain gives these tests a database of their own: their workers claim any queued import
// of their database.
func TestMain(m *testing.M) {
	storetest.UseOwnDatabase("leadpipe_test_watch")
	os.Exit(m.Run())
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fixture is one test's database, account and importer.
type fixture struct {
	t    *testing.T
	ctx  context.Context
	pool *pgxpool.Pool
	acct store.Account
	im   *importer.Importer
	// files is where the watchers keep the originals of the files they queue.
	files *filestore.Store
}

// newFixture returns the test database, with nothing left queued or running by an earlier
// run of these tests, and a fresh account.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	pool := storetest.Pool(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	if _, err := pool.Exec(ctx, `UPDATE imports SET status = 'failed', error = 'abandoned by an earlier test run',
		lease_owner = NULL, lease_expires_at = NULL WHERE status IN ('queued', 'running')`); err != nil {
		t.Fatalf("clear the queue: %v", err)
	}
	return &fixture{t: t, ctx: ctx, pool: pool, acct: storetest.Account(t, pool, -1), im: newImporter(pool),
		files: &filestore.Store{Dir: t.TempDir()}}
}

func newImporter(pool *pgxpool.Pool) *importer.Importer {
	cfg := config.Default
	cfg.BatchSize = 2
	return &importer.Importer{Pool: pool, Config: cfg, Log: quiet}
}

// watcher returns an open Watcher of dirs on the fixture's database that takes only files
// renamed in (its quiet period is an hour) and never takes a claim over.
func (f *fixture) watcher(dirs ...config.WatchDir) *watch.Watcher {
	f.t.Helper()
	w := &watch.Watcher{Dirs: dirs, DB: f.pool, Importer: f.im, Files: f.files, Owner: "test", Interval: 20 * time.Millisecond,
		Quiet: time.Hour, StaleAfter: time.Hour, Log: quiet}
	if err := w.Open(); err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { w.Close() })
	return w
}

// workers runs two import workers on pool until the test ends.
func workers(t *testing.T, pool *pgxpool.Pool, im *importer.Importer, owner string) {
	ctx, cancel := context.WithCancel(context.Background())
	w := &pipeline.Workers{Querier: pool, Count: 2, Owner: owner, Lease: time.Minute, Poll: 10 * time.Millisecond, Log: quiet,
		Run: func(ctx context.Context, imp store.Import, owner string) error {
			_, err := im.Run(ctx, imp, owner)
			return err
		}}
	done := make(chan struct{})
	go func() { w.Serve(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// drop puts a file in dir the way a program should: written under a hidden temporary name,
// its mtime a minute back (as a download or cp -p leaves it), then renamed in.
func drop(t *testing.T, dir, name, content string) {
	t.Helper()
	tmp := filepath.Join(dir, ".drop.part") // short: name may be near the limit
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Minute)
	if err := os.Chtimes(tmp, past, past); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

// scanUntil scans with w until cond holds; the test fails if it does not within a minute.
func (f *fixture) scanUntil(w *watch.Watcher, what string, cond func() bool) {
	f.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			f.t.Fatalf("timed out waiting until %s", what)
		}
		w.Scan(f.ctx)
		time.Sleep(10 * time.Millisecond)
	}
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// names returns the names in dir, sorted.
func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// stored is where the fixture's files store keeps the original of import id.
func (f *fixture) stored(id int64) string {
	return filepath.Join(f.files.Dir, fmt.Sprint(f.acct.ID), fmt.Sprint(id))
}

// imports returns the account's imports, oldest first.
func (f *fixture) imports() []store.Import {
	f.t.Helper()
	list, err := store.ListImports(f.ctx, f.pool, f.acct.ID, store.ImportFilter{Limit: 1000})
	if err != nil {
		f.t.Fatal(err)
	}
	slices.Reverse(list)
	return list
}

// claim is a row of watch_claims.
type claim struct {
	ImportID      int64
	Name, Owner   string
	Result, Error string
	MovedTo       string
	Finished      bool
}

// claims returns the claims of dir, oldest first.
func (f *fixture) claims(dir string) []claim {
	f.t.Helper()
	rows, err := f.pool.Query(f.ctx, `SELECT import_id, name, owner, coalesce(result, ''), coalesce(error, ''),
		coalesce(moved_to, ''), finished_at IS NOT NULL FROM watch_claims WHERE dir = $1 ORDER BY import_id`, dir)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	var out []claim
	for rows.Next() {
		var c claim
		if err := rows.Scan(&c.ImportID, &c.Name, &c.Owner, &c.Result, &c.Error, &c.MovedTo, &c.Finished); err != nil {
			f.t.Fatal(err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		f.t.Fatal(err)
	}
	return out
}

func sha(content string) string {
	s := sha256.Sum256([]byte(content))
	return hex.EncodeToString(s[:])
}

// metric returns the value of the gauge or counter name with the label label=value.
func metric(t *testing.T, name, label, value string) float64 {
	t.Helper()
	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range families {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					if m.GetGauge() != nil {
						return m.GetGauge().GetValue()
					}
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// logBuffer is a log that tests read.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
