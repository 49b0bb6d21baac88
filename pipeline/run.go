package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

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
	// Depth, when positive, is how many batches may wait for the stage, instead of Run's
	// depth: a stage that never runs far behind the one before (a writer's read-ahead) need
	// not hold more batches in memory.
	Depth int
}

// ErrPanic wraps a panic in the source or a stage, which Run turns into the run's error: a
// crafted file that makes a parser panic fails its import, not the process.
var ErrPanic = errors.New("panic")

// Run drives batches from src through the stages, each stage in its own goroutine, joined by
// channels that hold at most depth batches: a full channel is the backpressure. The first error
// cancels the run, every goroutine returns promptly, and Run returns that error, wrapped with the
// stage's name. Run returns nil when the source is drained and every batch went through every
// stage. A stage that is an io.Closer is closed once every goroutine has returned, whatever
// the run's outcome; an error closing it is the run's when the run had none.
func Run(ctx context.Context, src Source, depth int, stages ...Named) error {
	if depth < 1 {
		depth = 1
	}
	initStage("read")
	for _, s := range stages {
		initStage(s.Name)
	}
	g, ctx := errgroup.WithContext(ctx)
	firstDepth := depth
	if len(stages) > 0 && stages[0].Depth > 0 {
		firstDepth = stages[0].Depth
	}
	first := make(chan *Batch, firstDepth)
	g.Go(func() (err error) {
		defer close(first)
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
			if err := send(ctx, first, b); err != nil {
				return err
			}
		}
	})
	out := first
	for k, s := range stages {
		in := out
		next := make(chan *Batch, depth)
		if k+1 < len(stages) && stages[k+1].Depth > 0 {
			next = make(chan *Batch, stages[k+1].Depth)
		}
		out = next
		g.Go(func() (err error) {
			defer close(next)
			defer recoverInto(&err, s.Name)
			depthGauge := queueDepth.WithLabelValues(s.Name)
			defer depthGauge.Set(0)
			for b := range in {
				if err := ctx.Err(); err != nil {
					return err
				}
				depthGauge.Set(float64(len(in)))
				start := time.Now()
				n := len(b.Rows)
				if err := s.Stage.Process(ctx, b); err != nil {
					stageErrors.WithLabelValues(s.Name).Inc()
					return fmt.Errorf("%s: %w", s.Name, err)
				}
				observe(s.Name, start, n, len(b.Rows))
				if err := send(ctx, next, b); err != nil {
					return err
				}
			}
			return ctx.Err()
		})
	}
	// Drain what the last stage sends; nothing downstream reads it.
	g.Go(func() error {
		for range out {
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

func send(ctx context.Context, ch chan<- *Batch, b *Batch) error {
	select {
	case ch <- b:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
