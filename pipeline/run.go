package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"
)

// Source produces the batches of an import in file order. Next returns io.EOF after the last
// batch. It is called from one goroutine only.
type Source interface {
	Next(ctx context.Context) (*Batch, error)
}

// Stage is one step of the pipeline. Process is called once per batch, in file order, from a
// single goroutine owned by the engine; it changes the batch in place (values, warnings, skips,
// outcomes) and may block, for example on the database. An error stops the whole run.
type Stage interface {
	Process(ctx context.Context, b *Batch) error
}

// Named pairs a stage with the name its metrics and errors carry.
type Named struct {
	Name  string
	Stage Stage
	// Depth, when positive and less than Run's depth, is how many batches may wait for the
	// stage instead: a stage that never runs far behind the one before (a writer's
	// read-ahead) need not hold more batches in memory.
	Depth int
}

// ErrPanic wraps a panic in the source or a stage, which Run turns into the run's error: a
// crafted file that makes a parser panic fails its import, not the process.
var ErrPanic = errors.New("panic")

// Run drives batches from src through the stages, each stage in its own goroutine, joined by
// channels that hold at most depth batches: a full channel is the backpressure. With depth 0
// a stage hands each batch straight to the next, waiting until that one takes it, so that
// each batch read and not yet through every stage is held by a stage: the fewest batches in
// memory that keep the slowest stage busy. The first error cancels the run, every goroutine
// returns promptly, and Run returns that error, wrapped with the stage's name. Run returns nil
// when the source is drained and every batch went through every stage. A stage that is an
// io.Closer is closed once every goroutine has returned, whatever the run's outcome; an error
// closing it is the run's when the run had none.
func Run(ctx context.Context, src Source, depth int, stages ...Named) error {
	depth = max(depth, 0)
	initStage("read")
	ins := make([]*link, len(stages)) // ins[k] takes batches to stages[k]
	for k, s := range stages {
		initStage(s.Name)
		d := depth
		if s.Depth > 0 {
			d = min(d, s.Depth)
		}
		ins[k] = newLink(d, queueDepth.WithLabelValues(s.Name))
	}
	defer func() {
		for _, l := range ins {
			l.forget()
		}
	}()
	g, ctx := errgroup.WithContext(ctx)
	var first *link
	if len(stages) > 0 {
		first = ins[0]
	} else {
		first = newLink(depth, nil) // to the drain below
	}
	g.Go(func() (err error) {
		defer close(first.ch)
		defer recoverInto(&err, "read")
		for {
			start := time.Now()
			b, err := src.Next(ctx)
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				stageErrors.WithLabelValues("read").Inc()
				return fmt.Errorf("read: %w", err)
			}
			observe("read", start, len(b.Rows), len(b.Rows))
			if err := first.send(ctx, b); err != nil {
				return err
			}
		}
	})
	out := first
	for k, s := range stages {
		in := out
		var next *link
		if k+1 < len(stages) {
			next = ins[k+1]
		} else {
			next = newLink(depth, nil) // to the drain below
		}
		out = next
		g.Go(func() (err error) {
			defer close(next.ch)
			defer recoverInto(&err, s.Name)
			for b := range in.ch {
				in.took()
				if err := ctx.Err(); err != nil {
					return err
				}
				start := time.Now()
				n := len(b.Rows)
				if err := s.Stage.Process(ctx, b); err != nil {
					stageErrors.WithLabelValues(s.Name).Inc()
					return fmt.Errorf("%s: %w", s.Name, err)
				}
				observe(s.Name, start, n, len(b.Rows))
				if err := next.send(ctx, b); err != nil {
					return err
				}
			}
			return ctx.Err()
		})
	}
	// Drain what the last stage sends; nothing downstream reads it.
	g.Go(func() error {
		for range out.ch {
		}
		return nil
	})
	err := g.Wait()
	for _, s := range stages {
		if c, ok := s.Stage.(io.Closer); ok {
			if cerr := c.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("%s: %w", s.Name, cerr)
			}
		}
	}
	return err
}

// recoverInto turns a panic of the calling goroutine into *err.
func recoverInto(err *error, stage string) {
	if p := recover(); p != nil {
		stageErrors.WithLabelValues(stage).Inc()
		*err = fmt.Errorf("%s: %w: %v", stage, ErrPanic, p)
	}
}

// link carries batches to a stage, and counts in leadpipe_stage_queue_depth the batches
// waiting for it: handed on by the stage before and not yet taken, whether they sit in the
// channel or with a sender that waits for the stage (depth 0, or a full channel). The gauge
// is shared by every run, so each run adds and takes back its own count only.
type link struct {
	ch      chan *Batch
	gauge   prometheus.Gauge // nil: nothing counts the batches (no stage takes them)
	waiting atomic.Int64
}

func newLink(depth int, gauge prometheus.Gauge) *link {
	return &link{ch: make(chan *Batch, depth), gauge: gauge}
}

// send hands b on, waiting until the channel has room or the stage takes it, or until ctx
// ends.
func (l *link) send(ctx context.Context, b *Batch) error {
	l.add(1)
	select {
	case l.ch <- b:
		return nil
	case <-ctx.Done():
		l.add(-1)
		return ctx.Err()
	}
}

// took counts a batch the stage took.
func (l *link) took() { l.add(-1) }

// forget takes back from the gauge what a run that ended still counts: batches handed on to a
// stage that stopped before it took them.
func (l *link) forget() { l.add(-l.waiting.Load()) }

func (l *link) add(n int64) {
	l.waiting.Add(n)
	if l.gauge != nil {
		l.gauge.Add(float64(n))
	}
}
