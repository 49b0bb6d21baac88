package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/leadpipe/leadpipe/store"
)

var (
	importsRunning = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "leadpipe_imports_running",
		Help: "Imports this process is running now.",
	})
	importsFinished = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "leadpipe_imports_finished_total",
		Help: "Imports this process stopped working on, by how: completed, failed, paused or lost (lease taken over).",
	}, []string{"status"})
)

// How a worker stopped working on an import, besides completed and failed.
const (
	finishedPaused = "paused" // the process is stopping; the import goes back to the queue
	finishedLost   = "lost"   // another worker took the lease over
)

// Workers claim queued imports from Postgres and run them, Count at a time. Several processes
// may run Workers on one database: each import is claimed by one of them, and an import whose
// worker died is claimed again once its lease lapses, to resume from its checkpoint. Idle
// workers look for imports every Poll, and at once when woken (Wake). Every Poll they also end
// the cancelled imports whose holder died before it could end them.
type Workers struct {
	Querier store.Querier
	Count   int
	// Owner names this process in leases; each worker adds its number.
	Owner string
	Lease time.Duration
	Poll  time.Duration
	// Run runs one claimed import leased to owner to its end. When ctx is cancelled it must
	// stop at a batch boundary and leave the import resumable.
	Run func(ctx context.Context, imp store.Import, owner string) error
	Log *slog.Logger

	queued Signal // woken by Wake: the idle workers look again
}

// Wake makes the idle workers look for queued imports now rather than at their next Poll; it
// never blocks. The daemon calls it when Postgres says an import was queued
// (store.ListenQueued).
func (w *Workers) Wake() { w.queued.Wake() }

// Serve runs the workers until ctx is cancelled, then waits for the imports in flight to stop.
func (w *Workers) Serve(ctx context.Context) {
	for _, status := range []string{store.StatusCompleted, store.StatusFailed, finishedPaused, finishedLost} {
		importsFinished.WithLabelValues(status) // at zero until the first such import
	}
	// An undo's outcomes too, so that their rate is 0 rather than absent before the first undo.
	for _, outcome := range []Outcome{Deleted, Restored, KeptChangedSince} {
		rowOutcomes.WithLabelValues(string(outcome), "")
	}
	var wg sync.WaitGroup
	for i := 1; i <= w.Count; i++ {
		owner := fmt.Sprintf("%s/%d", w.Owner, i)
		wg.Go(func() { w.loop(ctx, owner) })
	}
	wg.Go(func() { w.sweep(ctx) })
	wg.Wait()
}

// sweep ends, every Poll until ctx is done, the cancelled imports whose holder is gone.
func (w *Workers) sweep(ctx context.Context) {
	for {
		ids, err := store.EndAbandonedCancels(ctx, w.Querier)
		switch {
		case err != nil && ctx.Err() == nil:
			w.Log.Error("end abandoned cancelled imports", "error", err)
		case len(ids) > 0:
			w.Log.Info("cancelled imports ended: their holder died before it let go", "import_ids", ids)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(w.Poll):
		}
	}
}

func (w *Workers) loop(ctx context.Context, owner string) {
	for ctx.Err() == nil {
		woken := w.queued.Next() // before the claim: an import queued during it wakes the wait below
		imp, err := store.ClaimImport(ctx, w.Querier, owner, w.Lease)
		if err != nil {
			if !errors.Is(err, store.ErrNotFound) && ctx.Err() == nil {
				w.Log.Error("claim import", "worker", owner, "error", err)
			}
			select {
			case <-ctx.Done():
			case <-woken:
			case <-time.After(w.Poll):
			}
			continue
		}
		importsRunning.Inc()
		err = w.runSafely(ctx, imp, owner)
		importsRunning.Dec()
		importsFinished.WithLabelValues(finishStatus(ctx, err)).Inc()
	}
}

// runSafely runs an import, turning a panic outside the pipeline's own goroutines into an
// error, so that one import cannot take the daemon down.
func (w *Workers) runSafely(ctx context.Context, imp store.Import, owner string) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("import %d: %w: %v", imp.ID, ErrPanic, p)
			w.Log.Error("import panicked", "import_id", imp.ID, "panic", p)
		}
	}()
	return w.Run(ctx, imp, owner)
}

func finishStatus(ctx context.Context, err error) string {
	switch {
	case err == nil:
		return store.StatusCompleted
	case errors.Is(err, store.ErrLeaseLost):
		return finishedLost
	case ctx.Err() != nil:
		return finishedPaused
	}
	return store.StatusFailed
}
