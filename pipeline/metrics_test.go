package pipeline_test

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
)

// Every stage of a run exports its rows, errors and batch latency from the run's start, and
// every stage that reads a queue its depth, so that a dashboard or an alert on a stage's
// errors sees 0, not nothing, until the first error.
func TestRunExportsEveryStageFromItsStart(t *testing.T) {
	pass := stageFunc(func(context.Context, *pipeline.Batch) error { return nil })
	if err := pipeline.Run(context.Background(), &countingSource{limit: 1}, 1,
		pipeline.Named{Name: "metrics-a", Stage: pass}, pipeline.Named{Name: "metrics-b", Stage: pass}); err != nil {
		t.Fatal(err)
	}
	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	stages := map[string]map[string]bool{} // metric → stages
	for _, f := range families {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "stage" {
					if stages[f.GetName()] == nil {
						stages[f.GetName()] = map[string]bool{}
					}
					stages[f.GetName()][l.GetValue()] = true
				}
			}
		}
	}
	for _, metric := range []string{"leadpipe_stage_rows_in_total", "leadpipe_stage_rows_out_total",
		"leadpipe_stage_errors_total", "leadpipe_stage_batch_seconds", "leadpipe_stage_queue_depth"} {
		want := []string{"read", "metrics-a", "metrics-b"}
		if metric == "leadpipe_stage_queue_depth" {
			want = want[1:] // the source reads no queue
		}
		for _, stage := range want {
			if !stages[metric][stage] {
				t.Errorf("%s has no series for stage %q after a run without errors", metric, stage)
			}
		}
	}
}

// leadpipe_stage_queue_depth counts the batches waiting for a stage, those in its channel and
// the one a stage before it holds until the stage takes it (all of them under depth 0, where
// no channel holds any), summed over the runs going on, and a run that ends takes its own back.
func TestQueueDepthCountsBatchesHandedOn(t *testing.T) {
	for _, depth := range []int{0, 2} {
		t.Run(fmt.Sprintf("depth%d", depth), func(t *testing.T) {
			before, stuck := fmt.Sprintf("queue-before-%d", depth), fmt.Sprintf("queue-stuck-%d", depth)
			run := func(ctx context.Context) func() error {
				_, wait := runAsync(t, ctx, 3*time.Second, &countingSource{}, depth,
					pipeline.Named{Name: before, Stage: stageFunc(func(context.Context, *pipeline.Batch) error { return nil })},
					pipeline.Named{Name: stuck, Stage: stageFunc(func(ctx context.Context, _ *pipeline.Batch) error {
						<-ctx.Done()
						return ctx.Err()
					})})
				return wait
			}
			// Behind the stuck stage's batch, depth batches wait in each channel of a run and
			// one with each sender: the stage before and the source.
			perRun := float64(depth + 1)
			expect := func(want float64) {
				t.Helper()
				deadline := time.Now().Add(2 * time.Second)
				for (queueDepthOf(t, before) != want || queueDepthOf(t, stuck) != want) && time.Now().Before(deadline) {
					time.Sleep(5 * time.Millisecond)
				}
				time.Sleep(50 * time.Millisecond) // room to count one more, were there one
				for _, stage := range []string{before, stuck} {
					if got := queueDepthOf(t, stage); got != want {
						t.Errorf("%s: leadpipe_stage_queue_depth = %v, want %v", stage, got, want)
					}
				}
			}
			ctx1, cancel1 := context.WithCancel(context.Background())
			defer cancel1()
			wait1 := run(ctx1)
			expect(perRun)
			ctx2, cancel2 := context.WithCancel(context.Background())
			defer cancel2()
			wait2 := run(ctx2)
			expect(2 * perRun)
			cancel1()
			wait1() //nolint:errcheck // cancelled
			expect(perRun)
			cancel2()
			wait2() //nolint:errcheck // cancelled
			expect(0)
		})
	}
}

// queueDepthOf is leadpipe_stage_queue_depth{stage}, 0 when it has no such series.
func queueDepthOf(t *testing.T, stage string) float64 {
	t.Helper()
	m, _ := series(t, "leadpipe_stage_queue_depth", map[string]string{"stage": stage})
	return m.GetGauge().GetValue()
}

// rowsCounted is leadpipe_rows_total{outcome, reason}, 0 when it has no such series.
func rowsCounted(t *testing.T, outcome, reason string) float64 {
	t.Helper()
	n, _ := rowsSeries(t, outcome, reason)
	return n
}

// rowsSeries is leadpipe_rows_total{outcome, reason}, and whether it has such a series.
func rowsSeries(t *testing.T, outcome, reason string) (float64, bool) {
	t.Helper()
	m, ok := series(t, "leadpipe_rows_total", map[string]string{"outcome": outcome, "reason": reason})
	return m.GetCounter().GetValue(), ok
}

// series is the series of the metric family name whose labels are labels, and whether there
// is one (nil and false when not).
func series(t *testing.T, name string, labels map[string]string) (*dto.Metric, bool) {
	t.Helper()
	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			if maps.Equal(got, labels) {
				return m, true
			}
		}
	}
	return nil, false
}

// Workers count an undo's outcomes from zero, so that a dashboard's rate of them is 0 rather
// than absent before the first undo.
func TestUndoOutcomesCountedFromZero(t *testing.T) {
	pool, _, _ := setup(t)
	stop := serveWorkers(t, &pipeline.Workers{Querier: pool, Owner: "undo-metrics", Lease: time.Minute,
		Poll: 20 * time.Millisecond, Log: quiet})
	stop()
	for _, outcome := range []pipeline.Outcome{pipeline.Deleted, pipeline.Restored, pipeline.KeptChangedSince} {
		if _, ok := rowsSeries(t, string(outcome), ""); !ok {
			t.Errorf("leadpipe_rows_total has no series for outcome %q once workers serve", outcome)
		}
	}
}

// leadpipe_rows_total counts the rows of committed batches only: a batch recorded in a
// transaction that rolls back (a paused import) is counted when it commits on resume, once;
// a dry run's rows never are.
func TestRowsCountedOnCommitOnly(t *testing.T) {
	pool, acct, _ := setup(t)
	ctx := context.Background()
	im, err := store.CreateImport(ctx, pool, store.Import{AccountID: acct.ID, Source: store.SourceCLI, FileName: "m.csv",
		FilePath: "/nowhere/m.csv"}, "metrics-test", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.FinishImport(ctx, pool, im.ID, "metrics-test", store.StatusCancelled, "") }) //nolint:errcheck // best effort
	b := &pipeline.Batch{LastRow: 3, Rows: []pipeline.Row{{Number: 2}, {Number: 3}}}
	b.Rows[0].Outcome = pipeline.Created
	b.Rows[1].Skip("invalid_email", "no @")
	created0, skipped0 := rowsCounted(t, "created", ""), rowsCounted(t, "skipped", "invalid_email")

	job := pipeline.NewJob(im, "metrics-test", time.Minute, false, nil)
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := job.Record(ctx, tx, b); err != nil {
		t.Fatal(err)
	}
	tx.Rollback(ctx) //nolint:errcheck // the batch is rolled back on purpose
	if c, s := rowsCounted(t, "created", ""), rowsCounted(t, "skipped", "invalid_email"); c != created0 || s != skipped0 {
		t.Fatalf("a rolled-back batch counted: created %v→%v, skipped %v→%v", created0, c, skipped0, s)
	}
	job.Committed(b)
	if c, s := rowsCounted(t, "created", ""), rowsCounted(t, "skipped", "invalid_email"); c != created0+1 || s != skipped0+1 {
		t.Fatalf("a committed batch: created %v→%v, skipped %v→%v; want one more each", created0, c, skipped0, s)
	}
	pipeline.NewJob(im, "metrics-test", time.Minute, true, nil).Committed(b)
	if c := rowsCounted(t, "created", ""); c != created0+1 {
		t.Fatalf("a dry run's batch counted: created %v→%v", created0+1, c)
	}
}
