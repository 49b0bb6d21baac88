package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadpipe/leadpipe/config"
	"github.com/leadpipe/leadpipe/filestore"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/intake/watch"
)

// openWatcher opens the directories the watch setting names (docs/watch.md), or returns nil
// when it names none. The files it queues are imported by serve's workers, and kept in serve's
// files store.
func openWatcher(e *env, pool *pgxpool.Pool, im *importer.Importer, files *filestore.Store) (*watch.Watcher, error) {
	dirs, err := config.ParseWatch(e.cfg.Watch)
	if err != nil || len(dirs) == 0 {
		return nil, err
	}
	host, _ := os.Hostname()
	w := &watch.Watcher{
		Dirs:               dirs,
		DB:                 pool,
		Importer:           im,
		Files:              files,
		Owner:              fmt.Sprintf("%s:%d", host, os.Getpid()),
		Interval:           time.Duration(e.cfg.WatchInterval),
		Quiet:              time.Duration(e.cfg.WatchQuiet),
		StaleAfter:         time.Duration(e.cfg.Lease),
		ClaimsRetention:    time.Duration(e.cfg.WatchClaimsRetention),
		ProcessedRetention: time.Duration(e.cfg.WatchProcessedRetention),
		FailedRetention:    time.Duration(e.cfg.WatchFailedRetention),
		Log:                e.log,
	}
	if err := w.Open(); err != nil {
		return nil, err
	}
	return w, nil
}

// runWatcher runs w (when not nil) until ctx is done, then closes it; the channel it returns
// is closed once w has stopped.
func runWatcher(ctx context.Context, w *watch.Watcher) <-chan struct{} {
	done := make(chan struct{})
	if w == nil {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		w.Run(ctx)
		w.Close()
	}()
	return done
}
