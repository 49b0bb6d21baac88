package watch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/leadpipe/leadpipe/store"
)

// pruneInterval is how often Run applies the retention settings.
const pruneInterval = time.Hour

// Prune applies the retention settings, and logs what it did and what went wrong: it deletes
// the claims (of every directory) that finished longer than ClaimsRetention ago, and removes
// what has been in a watched directory's processed/ or failed/ folder for longer than
// ProcessedRetention or FailedRetention. A retention of 0 keeps everything.
func (w *Watcher) Prune(ctx context.Context) {
	if w.ClaimsRetention > 0 {
		n, err := store.PruneWatchClaims(ctx, w.DB, time.Now().Add(-w.ClaimsRetention))
		switch {
		case err != nil && ctx.Err() == nil:
			w.Log.Error("prune watch claims", "error", err)
		case n > 0:
			w.Log.Info("pruned watch claims", "claims", n, "retention", w.ClaimsRetention.String())
		}
	}
	for _, d := range w.dirs {
		for _, r := range []struct {
			folder    string
			retention time.Duration
		}{{processedDir, w.ProcessedRetention}, {failedDir, w.FailedRetention}} {
			if r.retention <= 0 {
				continue
			}
			n, err := d.prune(r.folder, time.Now().Add(-r.retention))
			if n > 0 {
				w.Log.Info("pruned watched files", "dir", d.path, "folder", r.folder, "files", n, "retention", r.retention.String())
			}
			if err != nil {
				w.Log.Error("prune watched files", "dir", d.path, "folder", r.folder, "error", err)
			}
		}
	}
}

// prune removes the entries of folder (processed/ or failed/) that arrived there before
// cutoff, and returns how many. An entry arrived when its inode last changed (a rename into
// the folder changes it), or when it was last written where that is unknown. Subdirectories
// are left alone, and a symbolic link is removed, never followed. A folder that is not a
// directory of its own (a link put in its place) is not entered.
func (d *dir) prune(folder string, cutoff time.Time) (int, error) {
	fi, err := d.root.Lstat(folder)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if !fi.IsDir() {
		return 0, fmt.Errorf("%s is not a directory; it is left alone", folder)
	}
	sub, err := d.root.OpenRoot(folder)
	if err != nil {
		return 0, err
	}
	defer sub.Close()
	if opened, err := sub.Stat("."); err != nil || !os.SameFile(fi, opened) {
		return 0, fmt.Errorf("%s was replaced while it was being opened; it is left alone", folder)
	}
	f, err := sub.Open(".")
	if err != nil {
		return 0, err
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, name := range names {
		fi, err := sub.Lstat(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if fi.IsDir() || !arrived(fi).Before(cutoff) {
			continue
		}
		if err := sub.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// arrived is when an entry came where it is: its inode's change time, or its modification
// time where that is unknown.
func arrived(fi fs.FileInfo) time.Time {
	if _, ctime := inode(fi); !ctime.IsZero() {
		return ctime
	}
	return fi.ModTime()
}
