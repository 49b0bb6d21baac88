package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/pipeline"
)

// countingSource hands out batches numbered 1, 2, … (LastRow is the number) and counts the
// calls to Next. It stops after limit batches (0: never; negative: no batch at all), returns
// failErr instead of batch failAt (0: never), and ignores its context unless waitCtx is set,
// in which case it blocks on the context once the limit is reached instead of returning io.EOF.
type countingSource struct {
	limit   int
	failAt  int
	failErr error
	waitCtx bool
	calls   atomic.Int64
}

func (s *countingSource) Next(ctx context.Context) (*pipeline.Batch, error) {
	n := int(s.calls.Add(1))
	if s.failAt > 0 && n == s.failAt {
		return nil, s.failErr
	}
	if s.limit < 0 || s.limit > 0 && n > s.limit {
		if s.waitCtx {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return nil, io.EOF
	}
	return &pipeline.Batch{LastRow: n, Rows: []pipeline.Row{{Number: n}}}, nil
}

// stageFunc adapts a function to pipeline.Stage.
type stageFunc func(ctx context.Context, b *pipeline.Batch) error

func (f stageFunc) Process(ctx context.Context, b *pipeline.Batch) error { return f(ctx, b) }

// runAsync runs pipeline.Run in a goroutine and returns its result, failing the test when Run
// does not return within limit.
func runAsync(t *testing.T, ctx context.Context, limit time.Duration, src pipeline.Source, depth int, stages ...pipeline.Named) (<-chan error, func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- pipeline.Run(ctx, src, depth, stages...) }()
	wait := func() error {
		t.Helper()
		select {
		case err := <-done:
			return err
		case <-time.After(limit):
			t.Fatalf("pipeline.Run did not return within %s", limit)
			return nil
		}
	}
	return done, wait
}

// settleGoroutines waits until the number of goroutines is back to at most before.
func settleGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= before {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines still running, %d before Run:\n%s", n, before, buf)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRunPassesEveryBatchThroughStagesInOrder(t *testing.T) {
	before := runtime.NumGoroutine()
	const batches = 50
	var mu sync.Mutex
	seen := map[string][]int{} // stage → batch numbers in the order it saw them
	var trails [][]string      // per batch (as the last stage sees it): the stages it went through
	mark := func(name string) pipeline.Named {
		return pipeline.Named{Name: name, Stage: stageFunc(func(_ context.Context, b *pipeline.Batch) error {
			mu.Lock()
			defer mu.Unlock()
			seen[name] = append(seen[name], b.LastRow)
			b.Rows[0].Cells = append(b.Rows[0].Cells, name)
			if name == "c" {
				trails = append(trails, slices.Clone(b.Rows[0].Cells))
			}
			return nil
		})}
	}
	src := &countingSource{limit: batches}
	_, wait := runAsync(t, context.Background(), 5*time.Second, src, 2, mark("a"), mark("b"), mark("c"))
	if err := wait(); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	want := make([]int, batches)
	for i := range want {
		want[i] = i + 1
	}
	for _, name := range []string{"a", "b", "c"} {
		if !slices.Equal(seen[name], want) {
			t.Errorf("stage %s saw batches %v, want 1..%d in order", name, seen[name], batches)
		}
	}
	if len(trails) != batches {
		t.Fatalf("last stage saw %d batches, want %d", len(trails), batches)
	}
	for i, tr := range trails {
		if !slices.Equal(tr, []string{"a", "b", "c"}) {
			t.Fatalf("batch %d went through %v, want [a b c]", i+1, tr)
		}
	}
	if got := src.calls.Load(); got != batches+1 {
		t.Errorf("source Next called %d times, want %d (every batch, then io.EOF)", got, batches+1)
	}
	settleGoroutines(t, before)
}

func TestRunEmptySourceAndNoStages(t *testing.T) {
	before := runtime.NumGoroutine()
	var calls atomic.Int64
	count := pipeline.Named{Name: "count", Stage: stageFunc(func(context.Context, *pipeline.Batch) error {
		calls.Add(1)
		return nil
	})}
	_, wait := runAsync(t, context.Background(), 5*time.Second, &countingSource{limit: -1}, 1, count)
	// limit -1: Next returns io.EOF at once.
	if err := wait(); err != nil {
		t.Fatalf("Run(empty source) = %v, want nil", err)
	}
	if calls.Load() != 0 {
		t.Fatalf("stage called %d times on an empty source", calls.Load())
	}
	// No stages at all: the source is drained.
	src := &countingSource{limit: 10}
	_, wait = runAsync(t, context.Background(), 5*time.Second, src, 0)
	if err := wait(); err != nil {
		t.Fatalf("Run(no stages, depth 0) = %v, want nil", err)
	}
	if src.calls.Load() != 11 {
		t.Fatalf("source Next called %d times, want 11", src.calls.Load())
	}
	settleGoroutines(t, before)
}

// A stage error stops the run: Run returns it wrapped with the stage's name, and a stage that
// would otherwise block forever returns because the run's context is cancelled.
func TestRunStageErrorCancelsTheRun(t *testing.T) {
	before := runtime.NumGoroutine()
	errBoom := errors.New("kaboom")
	var explodeSaw []int
	blocked := make(chan struct{})
	explode := pipeline.Named{Name: "explode", Stage: stageFunc(func(_ context.Context, b *pipeline.Batch) error {
		explodeSaw = append(explodeSaw, b.LastRow)
		if b.LastRow == 3 {
			select { // fail only once the next stage is stuck
			case <-blocked:
			case <-time.After(5 * time.Second):
			}
			return errBoom
		}
		return nil
	})}
	var blockerCalls atomic.Int64
	var blockerReturned atomic.Bool
	blocker := pipeline.Named{Name: "blocker", Stage: stageFunc(func(ctx context.Context, b *pipeline.Batch) error {
		if blockerCalls.Add(1) == 1 {
			close(blocked)
		}
		<-ctx.Done() // would block forever without the cancellation
		blockerReturned.Store(true)
		return ctx.Err()
	})}
	var afterCalls atomic.Int64
	after := pipeline.Named{Name: "after", Stage: stageFunc(func(context.Context, *pipeline.Batch) error {
		afterCalls.Add(1)
		return nil
	})}
	src := &countingSource{} // endless, ignores ctx
	_, wait := runAsync(t, context.Background(), 5*time.Second, src, 2, explode, blocker, after)
	err := wait()
	if !errors.Is(err, errBoom) {
		t.Fatalf("Run = %v, want an error wrapping %v", err, errBoom)
	}
	if got, want := err.Error(), "explode: kaboom"; got != want {
		t.Fatalf("Run error = %q, want %q", got, want)
	}
	if !slices.Equal(explodeSaw, []int{1, 2, 3}) {
		t.Errorf("failing stage saw batches %v, want [1 2 3]", explodeSaw)
	}
	if n := afterCalls.Load(); n != 0 {
		t.Errorf("stage after the blocked one processed %d batches, want 0", n)
	}
	if !blockerReturned.Load() {
		t.Errorf("the blocking stage never saw its context cancelled")
	}
	if n := src.calls.Load(); n > 12 {
		t.Errorf("source read %d batches; backpressure should have held it to a few", n)
	}
	settleGoroutines(t, before)
}

// The source's error is returned, wrapped as a read error, and stops the stages.
func TestRunSourceError(t *testing.T) {
	before := runtime.NumGoroutine()
	errDisk := errors.New("disk on fire")
	var calls atomic.Int64
	count := pipeline.Named{Name: "count", Stage: stageFunc(func(ctx context.Context, b *pipeline.Batch) error {
		calls.Add(1)
		return nil
	})}
	src := &countingSource{failAt: 4, failErr: errDisk}
	_, wait := runAsync(t, context.Background(), 5*time.Second, src, 3, count)
	err := wait()
	if !errors.Is(err, errDisk) {
		t.Fatalf("Run = %v, want an error wrapping %v", err, errDisk)
	}
	if got, want := err.Error(), "read: disk on fire"; got != want {
		t.Fatalf("Run error = %q, want %q", got, want)
	}
	if n := src.calls.Load(); n != 4 {
		t.Errorf("source Next called %d times after failing, want 4", n)
	}
	if n := calls.Load(); n > 3 {
		t.Errorf("stage processed %d batches, but the source produced only 3", n)
	}
	settleGoroutines(t, before)
}

// Cancelling the context stops a run promptly even when the last stage is slow and ignores
// the context, and the channels between stages are bounded: the source never runs more than
// a few batches per stage ahead of the slow stage.
func TestRunCancelWithSlowStageAndBoundedReadAhead(t *testing.T) {
	for _, tc := range []struct{ depth, fast int }{{0, 1}, {0, 3}, {1, 1}, {2, 2}, {4, 3}} {
		t.Run(fmt.Sprintf("depth%d_stages%d", tc.depth, tc.fast+1), func(t *testing.T) {
			before := runtime.NumGoroutine()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			src := &countingSource{} // endless, ignores ctx: only backpressure holds it
			stages := make([]pipeline.Named, 0, tc.fast+1)
			for i := range tc.fast {
				stages = append(stages, pipeline.Named{Name: fmt.Sprintf("fast%d", i), Stage: stageFunc(func(context.Context, *pipeline.Batch) error { return nil })})
			}
			nStages := len(stages) + 1
			// Read but not yet through the slow stage: one batch held by the source goroutine
			// and by each fast stage, depth in each channel before the slow stage, and the
			// slow stage's own batch.
			bound := int64((tc.depth+1)*nStages + 1)
			var processed atomic.Int64
			var maxAhead atomic.Int64
			slow := pipeline.Named{Name: "slow", Stage: stageFunc(func(context.Context, *pipeline.Batch) error {
				time.Sleep(10 * time.Millisecond) // slow, and deaf to ctx
				if ahead := src.calls.Load() - processed.Load(); ahead > maxAhead.Load() {
					maxAhead.Store(ahead)
				}
				if processed.Add(1) == 5 {
					cancel()
				}
				return nil
			})}
			stages = append(stages, slow)
			_, wait := runAsync(t, ctx, 3*time.Second, src, tc.depth, stages...)
			start := time.Now()
			err := wait()
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Run = %v, want context.Canceled", err)
			}
			if elapsed := time.Since(start); elapsed > 2*time.Second {
				t.Errorf("Run took %s to return after cancel", elapsed)
			}
			if got := maxAhead.Load(); got > bound {
				t.Errorf("source ran %d batches ahead of the slow stage, want at most %d (depth %d, %d stages)", got, bound, tc.depth, nStages)
			}
			if got := src.calls.Load() - processed.Load(); got > bound+1 {
				t.Errorf("at the end the source had read %d batches the slow stage never finished, want at most %d", got, bound+1)
			}
			if p := processed.Load(); p < 5 {
				t.Errorf("slow stage processed %d batches, want at least 5", p)
			}
			settleGoroutines(t, before)
		})
	}
}

// A source that blocks waiting for input (a queue, a socket) returns on cancellation, and so
// does Run.
func TestRunCancelWhileSourceBlocks(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	var seen atomic.Int64
	stage := pipeline.Named{Name: "s", Stage: stageFunc(func(context.Context, *pipeline.Batch) error {
		if seen.Add(1) == 3 {
			cancel()
		}
		return nil
	})}
	_, wait := runAsync(t, ctx, 3*time.Second, &countingSource{limit: 3, waitCtx: true}, 2, stage)
	if err := wait(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	if seen.Load() != 3 {
		t.Fatalf("stage saw %d batches, want 3", seen.Load())
	}
	settleGoroutines(t, before)
}

// A context already cancelled stops the run without running forever, even with an endless
// source.
func TestRunAlreadyCancelled(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	src := &countingSource{}
	_, wait := runAsync(t, ctx, 3*time.Second, src, 1, pipeline.Named{Name: "s", Stage: stageFunc(func(context.Context, *pipeline.Batch) error { return nil })})
	if err := wait(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	if n := src.calls.Load(); n > 4 {
		t.Errorf("source read %d batches under a cancelled context", n)
	}
	settleGoroutines(t, before)
}

// Once the run's context is cancelled, no stage starts on another batch: a slow stage that does
// not watch its context must not be handed the batches still queued in its input channel,
// or "return promptly" costs one slow batch per queued batch. The scenario is repeated because
// the engine's choice between a ready send and a done context is random.
func TestRunNoProcessAfterCancel(t *testing.T) {
	const rounds = 20
	late := 0
	for range rounds {
		ctx, cancel := context.WithCancel(context.Background())
		var processed, lateCalls atomic.Int64
		slow := pipeline.Named{Name: "slow", Stage: stageFunc(func(c context.Context, b *pipeline.Batch) error {
			if c.Err() != nil {
				lateCalls.Add(1)
			}
			time.Sleep(2 * time.Millisecond)
			if processed.Add(1) == 3 {
				cancel()
			}
			return nil
		})}
		_, wait := runAsync(t, ctx, 3*time.Second, &countingSource{}, 4, slow)
		if err := wait(); !errors.Is(err, context.Canceled) {
			t.Fatalf("Run = %v, want context.Canceled", err)
		}
		cancel()
		if lateCalls.Load() > 0 {
			late++
		}
	}
	if late > 0 {
		t.Errorf("in %d of %d runs a stage's Process was called after the run's context was cancelled", late, rounds)
	}
}

// TestRunTurnsPanicsIntoErrors checks that a panicking stage fails the run with ErrPanic and
// the stage's name instead of crashing the process, and that every goroutine returns.
func TestRunTurnsPanicsIntoErrors(t *testing.T) {
	before := runtime.NumGoroutine()
	panics := stageFunc(func(context.Context, *pipeline.Batch) error { panic("index out of range [-1]") })
	err := pipeline.Run(context.Background(), &countingSource{limit: 5}, 2, pipeline.Named{Name: "parse", Stage: panics})
	if !errors.Is(err, pipeline.ErrPanic) || !strings.Contains(err.Error(), "parse") || !strings.Contains(err.Error(), "index out of range") {
		t.Fatalf("Run = %v, want an ErrPanic naming the stage and the panic", err)
	}
	settleGoroutines(t, before)
}

// A stage's Depth bounds the batches waiting for it below Run's depth: behind a stage that
// never returns, a stage of Depth 1 has one batch waiting and the stage before holds one it
// cannot pass on, so that stage took three batches; under Run's depth of 4 it takes six. A
// Depth above Run's depth does not raise it, and under Run's depth of 0 no batch waits but the
// one the stage before holds: it took two.
func TestRunStageDepth(t *testing.T) {
	for _, tc := range []struct{ runDepth, depth, want int64 }{{4, 0, 6}, {4, 1, 3}, {1, 4, 3}, {0, 1, 2}, {0, 0, 2}} {
		t.Run(fmt.Sprintf("run%d_stage%d", tc.runDepth, tc.depth), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var before atomic.Int64
			first := pipeline.Named{Name: "before", Stage: stageFunc(func(context.Context, *pipeline.Batch) error {
				before.Add(1)
				return nil
			})}
			stuck := pipeline.Named{Name: "stuck", Depth: int(tc.depth), Stage: stageFunc(func(ctx context.Context, _ *pipeline.Batch) error {
				<-ctx.Done()
				return ctx.Err()
			})}
			_, wait := runAsync(t, ctx, 3*time.Second, &countingSource{}, int(tc.runDepth), first, stuck)
			deadline := time.Now().Add(2 * time.Second)
			for before.Load() < tc.want && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			time.Sleep(50 * time.Millisecond) // room to take one more, were there room for it
			if got := before.Load(); got != tc.want {
				t.Errorf("the stage before took %d batches, want %d", got, tc.want)
			}
			cancel()
			wait() //nolint:errcheck // cancelled
		})
	}
}
