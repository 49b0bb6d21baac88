package pipeline_test

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/leadpipe/leadpipe/pipeline"
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
