// Package watch imports the files dropped in watched directories. It scans each directory,
// waits until a file is complete, claims it in Postgres so that of several daemons watching
// the directory one takes it, moves it into the directory's work folder, copies it into the
// files store (files_dir, out of the directory's writers' reach: the import reads that copy
// and the API serves it) and queues its import; once the import has ended it moves the file to
// processed/ or failed/ (with NAME.error.txt saying why). Symbolic links, FIFOs, devices and
// directories are refused, never opened. docs/watch.md describes it for users.
//
// It is an intake driver, beside the HTTP API: it calls the importer and the files store, and
// nothing under the engine calls it.
package watch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/leadpipe/leadpipe/config"
	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/filestore"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/stages/read"
	"github.com/leadpipe/leadpipe/store"
)

var (
	filesPending = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "leadpipe_watch_files_pending",
		Help: "Files in a watched directory that are not claimed yet: still being written, or waiting for their quiet period.",
	}, []string{"dir"})
	filesTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "leadpipe_watch_files_total",
		Help: "Files of watched directories this process is done with: imported (moved to processed/), failed (moved to failed/) or refused (not a regular file; counted once per name).",
	}, []string{"result"})
)

// The results of leadpipe_watch_files_total.
const (
	resultImported = "imported"
	resultFailed   = "failed"
	resultRefused  = "refused"
)

// DB is what a Watcher needs of the database (a *pgxpool.Pool).
type DB interface {
	store.Querier
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Watcher watches directories, each bound to an account, and queues an import for each file
// dropped in them. Several Watchers (in one daemon or in several) may watch one directory:
// each file is imported once. Open it, then Run it (or call Scan); Close it after.
type Watcher struct {
	Dirs []config.WatchDir
	// DB holds the claims; Importer queues the imports, which the daemon's workers run.
	DB       DB
	Importer *importer.Importer
	// Files keeps the original of each file queued: the import reads it there, and it is what
	// GET /v1/imports/{id}/file serves, out of reach of the directory's writers.
	Files *filestore.Store
	// Owner names this daemon in the claims it makes.
	Owner string
	// Interval is how often each directory is scanned; Quiet how long a file written in
	// place must keep its size and mtime before it is taken.
	Interval, Quiet time.Duration
	// StaleAfter is how long a claim may go without its import being queued before another
	// daemon takes it over (the daemon that claimed it died or lost the database).
	StaleAfter time.Duration
	// ClaimsRetention, ProcessedRetention and FailedRetention are how long finished claims,
	// and the files in processed/ and failed/, are kept (0: for ever); see Prune.
	ClaimsRetention, ProcessedRetention, FailedRetention time.Duration

	Log *slog.Logger
	// Now is the clock that times quiet periods; time.Now when nil.
	Now func() time.Time

	dirs []*dir
}

// Open opens the watched directories and creates their work folders.
func (w *Watcher) Open() error {
	for _, wd := range w.Dirs {
		d, err := openDir(wd)
		if err != nil {
			w.Close()
			return err
		}
		w.dirs = append(w.dirs, d)
	}
	for _, r := range []string{resultImported, resultFailed, resultRefused} {
		filesTotal.WithLabelValues(r)
	}
	return nil
}

// Close releases the directories.
func (w *Watcher) Close() error {
	var errs []error
	for _, d := range w.dirs {
		errs = append(errs, d.root.Close())
	}
	w.dirs = nil
	return errors.Join(errs...)
}

// Run scans the directories every Interval, and at once when a file is created in or renamed
// into one of them, until ctx is done. Errors are logged, and the next scan tries again. It
// prunes (see Prune) as it starts and then every hour.
func (w *Watcher) Run(ctx context.Context) {
	for _, d := range w.dirs {
		w.Log.Info("watching directory", "dir", d.path, "account", d.account, "quiet", w.Quiet.String(), "interval", w.Interval.String())
	}
	wake, stop := w.notify()
	defer stop()
	tick := time.NewTicker(w.Interval)
	defer tick.Stop()
	var pruned time.Time
	for {
		if time.Since(pruned) >= pruneInterval {
			w.Prune(ctx)
			pruned = time.Now()
		}
		w.Scan(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-wake:
		}
	}
}

// notify returns a channel that receives when an entry is created in (or renamed into) a
// watched directory, so that it is scanned at once, and a function that stops it. Without
// change notifications the channel never receives; the scans every Interval find every file
// anyway.
func (w *Watcher) notify() (<-chan struct{}, func()) {
	wake := make(chan struct{}, 1)
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		w.Log.Warn("no change notifications; directories are scanned every interval", "error", err)
		return wake, func() {}
	}
	for _, d := range w.dirs {
		if err := fw.Add(d.path); err != nil {
			w.Log.Warn("no change notifications; the directory is scanned every interval", "dir", d.path, "error", err)
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case ev, ok := <-fw.Events:
				if !ok {
					return
				}
				if ev.Has(fsnotify.Create) {
					select {
					case wake <- struct{}{}:
					default:
					}
				}
			case err, ok := <-fw.Errors:
				if !ok {
					return
				}
				w.Log.Warn("change notifications", "error", err)
			}
		}
	})
	return wake, func() { fw.Close(); wg.Wait() }
}

// Scan makes one pass over every directory: it moves the files whose import ended to
// processed/ or failed/, takes over stale claims, and claims and queues the files that are
// complete. It logs what goes wrong (an error once until it changes). Scan must not run
// while Run does.
func (w *Watcher) Scan(ctx context.Context) {
	for _, d := range w.dirs {
		err := errors.Join(w.finishEnded(ctx, d), w.takeOverStale(ctx, d), w.scan(ctx, d))
		switch {
		case err == nil || ctx.Err() != nil:
			d.lastErr = ""
		case err.Error() != d.lastErr:
			d.lastErr = err.Error()
			w.Log.Error("watch scan", "dir", d.path, "error", err)
		}
	}
}

func (w *Watcher) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

// scan claims the complete files of a directory, refuses what is not a regular file and
// counts the files pending.
func (w *Watcher) scan(ctx context.Context, d *dir) error {
	names, err := d.list()
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	now := w.now()
	present := make(map[string]bool, len(names))
	pending := 0
	var errs []error
	for _, name := range names {
		if ctx.Err() != nil {
			return nil
		}
		fi, err := d.root.Lstat(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		present[name] = true
		switch k, why := classify(name, fi.Mode()); k {
		case ignored:
			continue
		case refused:
			w.refuse(d, name, why)
			continue
		}
		if !d.ready(name, fi, now, w.Quiet) {
			pending++
			continue
		}
		taken, err := w.take(ctx, d, name, fi)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
		if !taken {
			pending++
		}
	}
	d.forget(present)
	filesPending.WithLabelValues(d.path).Set(float64(pending))
	return errors.Join(errs...)
}

// refuse logs an entry that is not a regular file, once per name and reason.
func (w *Watcher) refuse(d *dir, name, why string) {
	if d.refused[name] == why {
		return
	}
	d.refused[name] = why
	filesTotal.WithLabelValues(resultRefused).Inc()
	w.Log.Warn("watch entry refused; it is left alone, never opened", "dir", d.path, "name", name, "reason", why)
}

// take claims a complete file and queues it. It returns false when the file is not taken: it
// changed since it was seen, it is not a regular file after all, or another daemon claimed it.
// A file that the daemon may not read, or whose claim Postgres refuses (its name is not valid
// UTF-8), goes to failed/ at once, unclaimed.
func (w *Watcher) take(ctx context.Context, d *dir, name string, seen fs.FileInfo) (bool, error) {
	f, fi, err := openRegular(d.root, name)
	switch {
	case errors.Is(err, read.ErrNotRegular):
		w.refuse(d, name, err.Error())
		return false, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case errors.Is(err, fs.ErrPermission):
		return true, w.failUnclaimed(d, name, "the daemon's user may not read it (permission denied): make it readable and drop it again")
	case err != nil:
		return false, err
	}
	sum, err := hashFile(f)
	after, serr := f.Stat()
	f.Close()
	if err = errors.Join(err, serr); err != nil {
		return false, err
	}
	if signatureOf(fi) != signatureOf(seen) || signatureOf(after) != signatureOf(seen) {
		delete(d.seen, name) // it is being written: its quiet period starts again
		return false, nil
	}
	c, ok, err := store.ClaimWatchedFile(ctx, w.DB, store.WatchClaim{Dir: d.path, Name: name, SHA256: sum, Size: fi.Size(), Owner: w.Owner})
	if reason, refused := refusedByPostgres(err); refused {
		return true, w.failUnclaimed(d, name, "its name cannot be recorded: "+reason+"; rename it (in UTF-8) and drop it again")
	}
	if err != nil || !ok {
		return false, err
	}
	delete(d.seen, name)
	w.Log.Info("watch file claimed", "dir", d.path, "file", name, "import_id", c.ImportID, "size", c.Size, "sha256", sum)
	return true, w.work(ctx, d, c.ImportID, false)
}

// takeOverStale works on the claims of a directory that their daemon left before queuing
// their import.
func (w *Watcher) takeOverStale(ctx context.Context, d *dir) error {
	stale, err := store.StaleWatchClaims(ctx, w.DB, d.path, w.StaleAfter)
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range stale {
		errs = append(errs, w.work(ctx, d, c.ImportID, true))
	}
	return errors.Join(errs...)
}

// work moves a claimed file into the work folder (unless it is there already) and queues its
// import, or moves it to failed/ with the reason when it cannot be queued; all under the
// claim's lock. A claim whose import is queued already is left to finishEnded. An error that
// is not the file's fault (the database is unreachable) leaves the claim open, to be taken
// over once it is stale.
func (w *Watcher) work(ctx context.Context, d *dir, importID int64, takeover bool) error {
	tx, err := w.DB.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // after Commit it does nothing
	c, ok, err := store.LockWatchClaim(ctx, tx, importID)
	if err != nil || !ok || c.Queued {
		return err
	}
	log := w.Log.With("dir", d.path, "file", c.Name, "import_id", c.ImportID)
	if takeover && c.Owner != w.Owner {
		// Logged once: the claim is this daemon's from now on, even if this attempt fails too.
		if err := store.TakeOverWatchClaim(ctx, tx, c.ImportID, w.Owner); err != nil {
			return err
		}
		log.Info("watch claim taken over", "claimed_by", c.Owner)
	}
	if err := d.takeIn(c); errors.Is(err, errGone) {
		if err := store.DropWatchClaim(ctx, tx, c.ImportID); err != nil {
			return err
		}
		log.Info("watch file gone before it was taken; claim dropped")
		return tx.Commit(ctx)
	} else if err != nil {
		// Committing keeps the claim open, and this daemon's if it took it over.
		return errors.Join(fmt.Errorf("move %s into %s: %w", c.Name, workDir, err), tx.Commit(ctx))
	}
	err = w.queue(ctx, d, c)
	switch {
	case err == nil:
		log.Info("watch file queued")
		return tx.Commit(ctx)
	case queuedMeanwhile(err):
		return nil // queued by a daemon that took the claim over meanwhile
	}
	reason, fault := w.fileFault(d, err)
	if !fault {
		return errors.Join(fmt.Errorf("queue %s: %w", c.Name, err), tx.Commit(ctx))
	}
	if err := w.fail(ctx, tx, d, c, reason); err != nil {
		return errors.Join(err, tx.Commit(ctx)) // failed/ cannot be written: kept open, like above
	}
	return tx.Commit(ctx)
}

// queue stores a claimed file's original in the files store and queues its import from there.
func (w *Watcher) queue(ctx context.Context, d *dir, c store.WatchClaim) error {
	req, err := d.request(c)
	if err != nil {
		return err
	}
	if req.Path, err = w.keep(ctx, d, c); err != nil {
		return err
	}
	if _, _, err = w.Importer.Submit(ctx, req); err != nil && !queuedMeanwhile(err) {
		os.Remove(req.Path) // no import reads it
	}
	return err
}

// keep copies a claimed file from the work folder to where its import keeps its original
// file (under files_dir, like an upload's), and returns that path. Only the daemon writes
// there: whoever may write to the watched directory (and so to processed/ and failed/, or to
// the file itself through a link of their own) cannot change or replace what is imported and
// served.
func (w *Watcher) keep(ctx context.Context, d *dir, c store.WatchClaim) (string, error) {
	acct, err := store.AccountByName(ctx, w.DB, d.account)
	if err != nil {
		return "", err
	}
	f, _, err := openRegular(d.root, workPath(c.ImportID))
	if err != nil {
		return "", fmt.Errorf("%w %s: %w", importer.ErrBadFile, c.Name, err)
	}
	defer f.Close()
	return w.Files.Copy(f, acct.ID, c.ImportID)
}

// fileFault tells whether a file failed to be queued for a reason of its own, that trying
// again cannot mend, and says why: the file goes to failed/ with that reason. Other errors (the
// database or the disk failing) leave its claim to be tried again.
func (w *Watcher) fileFault(d *dir, err error) (reason string, fault bool) {
	if reason, refused := refusedByPostgres(err); refused {
		return "the database refused the import's data: " + reason + "; remove it from the file's options or content", true
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fmt.Sprintf("account %q does not exist: create it (leadpipe account create %q) or bind %s to another account in the watch setting",
			d.account, d.account, d.path), true
	case errors.Is(err, importer.ErrBadFile), errors.Is(err, crm.ErrInvalidOptions), errors.Is(err, read.ErrNotRegular):
		return err.Error(), true
	}
	return "", false
}

// refusedByPostgres tells whether err is Postgres refusing a value (a data exception: text
// that is not valid UTF-8, a \u0000 in JSON …), and says what it refused. Such a value comes
// from the file, and storing it again would fail again.
func refusedByPostgres(err error) (string, bool) {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || !strings.HasPrefix(pgErr.Code, "22") {
		return "", false
	}
	if pgErr.Detail != "" {
		return pgErr.Message + " (" + pgErr.Detail + ")", true
	}
	return pgErr.Message, true
}

// queuedMeanwhile reports whether queuing failed because the import exists: a daemon that
// took the claim over queued it meanwhile.
func queuedMeanwhile(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.TableName == "imports"
}

// finishEnded moves the files of a directory whose import ended to processed/ or failed/.
func (w *Watcher) finishEnded(ctx context.Context, d *dir) error {
	ended, err := store.EndedWatchClaims(ctx, w.DB, d.path)
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range ended {
		errs = append(errs, w.finish(ctx, d, c.ImportID))
	}
	return errors.Join(errs...)
}

// finish moves the file of a claim whose import ended, under the claim's lock: of daemons
// finishing it at once, one does.
func (w *Watcher) finish(ctx context.Context, d *dir, importID int64) error {
	tx, err := w.DB.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // after Commit it does nothing
	c, ok, err := store.LockWatchClaim(ctx, tx, importID)
	if err != nil || !ok {
		return err
	}
	switch c.ImportStatus {
	case store.StatusCompleted, store.StatusUndone: // it completed; an undo since does not unmake the file
		to, err := w.moveOut(d, workPath(c.ImportID), c.Name, processedDir, "")
		if err != nil {
			return err
		}
		if err := store.FinishWatchClaim(ctx, tx, c.ImportID, store.WatchProcessed, "", to); err != nil {
			return err
		}
		filesTotal.WithLabelValues(resultImported).Inc()
		w.Log.Info("watch file processed", "dir", d.path, "file", c.Name, "import_id", c.ImportID, "moved_to", to)
	case store.StatusCancelled:
		err = w.fail(ctx, tx, d, c, "the import was cancelled")
	default:
		err = w.fail(ctx, tx, d, c, "the import failed: "+c.ImportError)
	}
	if err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// fail moves a claimed file to failed/ with NAME.error.txt saying why, and ends its claim.
func (w *Watcher) fail(ctx context.Context, tx pgx.Tx, d *dir, c store.WatchClaim, reason string) error {
	to, err := w.moveOut(d, workPath(c.ImportID), c.Name, failedDir, errorText(reason, c, d.account, w.now()))
	if err != nil {
		return err
	}
	if err := store.FinishWatchClaim(ctx, tx, c.ImportID, store.WatchFailed, reason, to); err != nil {
		return err
	}
	filesTotal.WithLabelValues(resultFailed).Inc()
	w.Log.Warn("watch file failed", "dir", d.path, "file", c.Name, "import_id", c.ImportID, "moved_to", to, "reason", reason)
	return nil
}

// failUnclaimed moves a file of the directory that could not be claimed to failed/, with its
// options file and NAME.error.txt saying why. Of daemons doing so at once, one moves it.
func (w *Watcher) failUnclaimed(d *dir, name, reason string) error {
	c := store.WatchClaim{Dir: d.path, Name: name}
	to, err := w.moveOut(d, name, name, failedDir, errorText(reason, c, d.account, w.now()))
	if err != nil || to == "" {
		return err
	}
	filesTotal.WithLabelValues(resultFailed).Inc()
	w.Log.Warn("watch file failed", "dir", d.path, "file", name, "moved_to", to, "reason", reason)
	return nil
}

// moveOut moves the file from, known as name, to folder (see dir.moveOut) and returns where it
// went: empty when another daemon (or one that died) had moved it already. A file moved
// without its options or error file is logged, not an error.
func (w *Watcher) moveOut(d *dir, from, name, folder, text string) (string, error) {
	to, err := d.moveOut(from, name, folder, text)
	switch {
	case errors.Is(err, errGone):
		w.Log.Warn("watch file already moved", "dir", d.path, "file", name, "from", from)
		return "", nil
	case err != nil && to == "":
		return "", fmt.Errorf("move %s to %s/: %w", name, folder, err)
	case err != nil:
		w.Log.Error("watch file moved without its options or error file", "dir", d.path, "file", name, "moved_to", to, "error", err)
	}
	return to, nil
}
