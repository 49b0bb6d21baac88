package pipeline_test

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
)

// TestJobRecordsCounters: a job reports its kind's counters from 0, adds each batch's counters
// to them (a counter it did not name too), and records them with the batch; the next job of the
// import, resumed, goes on from them.
func TestJobRecordsCounters(t *testing.T) {
	pool, acct, _ := setup(t)
	ctx := context.Background()
	im, err := store.CreateImport(ctx, pool, store.Import{AccountID: acct.ID, Source: store.SourceCLI, FileName: "c.csv",
		FilePath: "/nowhere/c.csv"}, "counters-test", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.FinishImport(ctx, pool, im.ID, "counters-test", store.StatusCancelled, "") }) //nolint:errcheck // best effort
	record := func(job *pipeline.Job, lastRow int, count func(b *pipeline.Batch)) {
		t.Helper()
		b := &pipeline.Batch{LastRow: lastRow, Rows: []pipeline.Row{{Number: lastRow, Outcome: pipeline.Created, EntityID: 41}}}
		count(b)
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := job.Record(ctx, tx, b); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	counters := []string{"things_created", "things_linked"}
	job := pipeline.NewJob(im, "counters-test", time.Minute, false, counters)
	if want := map[string]int{"things_created": 0, "things_linked": 0}; !maps.Equal(job.Counts.Counters, want) {
		t.Errorf("a new job's counters %v, want %v", job.Counts.Counters, want)
	}
	record(job, 2, func(b *pipeline.Batch) {
		b.Count("things_created", 2)
		b.Count("things_created", 1)
		b.Count("other", 1)
	})
	want := map[string]int{"things_created": 3, "things_linked": 0, "other": 1}
	if !maps.Equal(job.Counts.Counters, want) {
		t.Errorf("counters after a batch %v, want %v", job.Counts.Counters, want)
	}
	stored, err := store.GetImport(ctx, pool, acct.ID, im.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(stored.Counts.Counters, want) {
		t.Errorf("counters recorded %v, want %v", stored.Counts.Counters, want)
	}
	resumed := pipeline.NewJob(stored, "counters-test", time.Minute, false, counters)
	record(resumed, 3, func(b *pipeline.Batch) { b.Count("things_linked", 5) })
	if want := map[string]int{"things_created": 3, "things_linked": 5, "other": 1}; !maps.Equal(resumed.Counts.Counters, want) {
		t.Errorf("counters of the resumed job %v, want %v", resumed.Counts.Counters, want)
	}
	outcomes, err := store.RowOutcomes(ctx, pool, im.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(outcomes) != 2 || outcomes[0].EntityID != 41 || outcomes[1].EntityID != 41 {
		t.Errorf("row outcomes %+v, want rows 2 and 3 of entity 41", outcomes)
	}
}
