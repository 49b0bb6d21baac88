package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadpipe/leadpipe/api"
	"github.com/leadpipe/leadpipe/filestore"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
	"github.com/leadpipe/leadpipe/web"
)

// serve runs the daemon until SIGTERM, SIGINT or SIGHUP: it migrates the schema, serves
// /metrics, /healthz and /readyz, runs the import workers and watches the directories of the
// watch setting. On a signal it stops claiming imports and files, rolls back the batch in flight,
// puts running imports back in the queue and exits.
func serve(ctx context.Context, e *env, args []string) error {
	if _, err := e.parse(e.flags(), args); err != nil {
		return err
	}
	pool, err := e.connect(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := store.Migrate(ctx, pool); err != nil {
		return err
	}
	// The relays wake each time an import of this daemon commits something for the sinks.
	committed := &pipeline.Signal{}
	kafka, err := startKafka(ctx, e, pool, committed)
	if err != nil {
		return err
	}
	defer kafka.close(e)
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metricsHandler(e, pool))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", readyz(e, pool))
	im := e.importer(pool)
	im.Committed = committed.Wake
	files := &filestore.Store{Dir: e.cfg.FilesDir}
	watcher, err := openWatcher(e, pool, im, files)
	if err != nil {
		return err
	}
	mux.Handle("GET /", web.Handler())
	(&api.Server{Pool: pool, Importer: im, Files: &api.Files{Store: files, MaxUpload: e.cfg.MaxUploadBytes}, Log: e.log,
		SessionTTL: time.Duration(e.cfg.SessionTTL)}).Register(mux)
	srv, httpErr, err := listenHTTP(e, mux)
	if err != nil {
		return fmt.Errorf("http %s: %w", e.cfg.HTTPAddr, err)
	}
	defer srv.Close() // when a later step fails; after Shutdown it does nothing
	workCtx, stopWork := context.WithCancel(ctx)
	defer stopWork()
	waitRequests, err := serveRequests(workCtx, e, im, files, kafka.brokers)
	if err != nil {
		return err
	}
	e.log.Info("leadpipe serving", "http", e.cfg.HTTPAddr, "api", "/v1", "workers", e.cfg.Workers, "files", e.cfg.FilesDir)

	workers := &pipeline.Workers{
		Querier: pool,
		Count:   e.cfg.Workers,
		Owner:   thisProcess(store.HolderServe).String(),
		Lease:   time.Duration(e.cfg.Lease),
		Poll:    time.Duration(e.cfg.PollInterval),
		Run: func(ctx context.Context, imp store.Import, owner string) error {
			_, err := im.Run(ctx, imp, owner)
			return err
		},
		Log: e.log,
	}
	done := make(chan struct{})
	go func() { workers.Serve(workCtx); close(done) }()
	woke := make(chan struct{})
	go func() { wakeOnQueued(workCtx, e, pool, workers.Wake); close(woke) }()
	pruned := make(chan struct{})
	go func() { pruneFiles(workCtx, e, pool, files); close(pruned) }()
	watched := runWatcher(workCtx, watcher)
	analyzed := make(chan struct{})
	go func() { serveAnalytics(workCtx, e, pool, committed); close(analyzed) }()

	select {
	case <-ctx.Done():
		e.log.Info("leadpipe stopping: no new imports; the batch in flight is rolled back")
	case err = <-httpErr:
		err = fmt.Errorf("http %s: %w", e.cfg.HTTPAddr, err)
	}
	stopWork()
	<-done
	<-woke
	<-pruned
	waitRequests()
	<-watched
	<-analyzed
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if serr := srv.Shutdown(shutdownCtx); serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	e.log.Info("leadpipe stopped")
	return err
}

// wakeOnQueued wakes the workers each time Postgres says an import was queued
// (store.ListenQueued, on one connection beside the pool), until ctx is done, so that an upload
// starts as soon as it is stored. While it cannot listen, the workers find imports by polling,
// as they always do; it says so once and tries again after poll_interval, then twice as long
// after each failure in a row, up to maxListenBackoff.
func wakeOnQueued(ctx context.Context, e *env, pool *pgxpool.Pool, wake func()) {
	poll := time.Duration(e.cfg.PollInterval)
	wait, failing := poll, false
	for {
		err := store.ListenQueued(ctx, pool.Config().ConnConfig, func() {
			if failing {
				e.log.Info("listening for queued imports again")
			}
			wait, failing = poll, false
			wake()
		})
		if ctx.Err() != nil {
			return
		}
		if !failing {
			e.log.Warn("cannot listen for queued imports; workers find them every poll_interval meanwhile", "error", err)
			failing = true
		} else {
			wait = min(2*wait, max(maxListenBackoff, poll))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// maxListenBackoff is the longest wait between attempts to listen for queued imports: a
// connection refused every second would fill Postgres's log.
const maxListenBackoff = time.Minute

// pruneInterval is how often the daemon applies each retention setting.
const pruneInterval = time.Hour

// pruneEvery applies one retention setting, named setting, at start and then every
// pruneInterval until ctx is done: prune removes what is older than retention and says how many
// of what it removed, which is logged. With no retention it does nothing.
func pruneEvery(ctx context.Context, e *env, setting string, retention time.Duration, what string, prune func(context.Context, time.Duration) (int64, error)) {
	if retention <= 0 {
		return
	}
	for {
		n, err := prune(ctx, retention)
		switch {
		case err != nil && ctx.Err() == nil:
			e.log.Error("prune "+what, "setting", setting, "error", err)
		case n > 0:
			e.log.Info("pruned "+what, "count", n, "setting", setting, "retention", retention.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pruneInterval):
		}
	}
}

// pruneFiles removes stored original files older than files_retention (pruneEvery).
func pruneFiles(ctx context.Context, e *env, pool store.Querier, files *filestore.Store) {
	pruneEvery(ctx, e, "files_retention", time.Duration(e.cfg.FilesRetention), "original files",
		func(ctx context.Context, retention time.Duration) (int64, error) {
			n, err := files.Prune(ctx, pool, retention)
			return int64(n), err
		})
}
