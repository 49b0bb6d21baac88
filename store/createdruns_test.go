package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/leadpipe/leadpipe/store"
)

// runsFixture is an import whose outcomes were recorded batch by batch, as an import records
// them: created rows with nothing more to say go to runs, every other row to rows.
type runsFixture struct {
	*fixture
	importID int64
	outcomes []store.Outcome // every outcome, in row order
	batches  [][]store.Outcome
}

// newRunsFixture records 437 outcomes (rows 2 to 438) in batches of 1 to 120 rows: created rows
// (some with a warning, so not in a run), skipped, updated and unchanged ones; the created ids
// rise from batch to batch but fall within one of them, updated rows match records created
// earlier, one batch has no created row, and the first four too few to make a run.
func newRunsFixture(t *testing.T) *runsFixture {
	f := &runsFixture{fixture: newFixture(t)}
	im, err := store.CreateImport(f.ctx, f.pool, store.Import{AccountID: f.acct.ID, Source: store.SourceCLI,
		FileName: "runs.csv", FilePath: "/nonexistent/runs.csv", FileSHA256: "x", Header: []string{"Email"}}, owner, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	f.importID = im.ID
	row, id := 2, int64(1000)
	for b, size := range []int{1, 2, 3, 40, 80, 1, 90, 100, 120} {
		var batch []store.Outcome
		for range size {
			o := store.Outcome{Row: row}
			switch k := row * 7 % 10; {
			case b == 5 || k == 6:
				o.Outcome, o.Reason, o.Cells = "skipped", "invalid_email", []string{"x"}
			case k == 7 && id > 1000:
				o.Outcome, o.EntityID = "updated", id-1
			case k == 8 && id > 1000:
				o.Outcome, o.EntityID = "unchanged", id-3
			default:
				id++
				o.Outcome, o.EntityID = "created", id
				if k == 9 {
					o.Warnings = []byte(`[{"field":"phone","kind":"value_too_long"}]`)
				}
			}
			batch = append(batch, o)
			row++
		}
		if b == 3 { // its created ids fall as its rows rise
			var ids []int64
			for _, o := range batch {
				if o.Outcome == "created" {
					ids = append(ids, o.EntityID)
				}
			}
			slices.Reverse(ids)
			for i := range batch {
				if batch[i].Outcome == "created" {
					batch[i].EntityID, ids = ids[0], ids[1:]
				}
			}
		}
		f.record(f.importID, batch)
		f.batches = append(f.batches, batch)
		f.outcomes = append(f.outcomes, batch...)
	}
	return f
}

// record stores a batch's outcomes as import importID's, in a transaction of its own.
func (f *runsFixture) record(importID int64, batch []store.Outcome) {
	f.t.Helper()
	if err := pgx.BeginFunc(f.ctx, f.pool, func(tx pgx.Tx) error {
		return store.RecordOutcomes(f.ctx, tx, importID, batch)
	}); err != nil {
		f.t.Fatal(err)
	}
}

// newImport creates another import of the fixture's account, with no outcomes.
func (f *runsFixture) newImport() int64 {
	f.t.Helper()
	im, err := store.CreateImport(f.ctx, f.pool, store.Import{AccountID: f.acct.ID, Source: store.SourceCLI,
		FileName: "more.csv", FilePath: "/nonexistent/more.csv", FileSHA256: "x", Header: []string{"Email"}}, owner, time.Hour)
	if err != nil {
		f.t.Fatal(err)
	}
	return im.ID
}

// plainCreated is true of an outcome a run can hold.
func plainCreated(o store.Outcome) bool { return o.Outcome == "created" && o.Warnings == nil }

// runOf returns the outcomes of a batch that its run holds: none when they are too few.
func runOf(batch []store.Outcome) []store.Outcome {
	run := slices.DeleteFunc(slices.Clone(batch), func(o store.Outcome) bool { return !plainCreated(o) })
	if len(run) < store.MinRunRows {
		return nil
	}
	return run
}

// outcomeLine is what the tests compare of an outcome.
func outcomeLine(row int, outcome string, entityID int64, reason string) string {
	return fmt.Sprintf("%d %s %d %s", row, outcome, entityID, reason)
}

// TestCreatedRowsAreStoredAsRuns checks where each outcome went — one run per batch with enough
// created rows, the rest rows — and that the view import_rows shows every outcome as recorded.
func TestCreatedRowsAreStoredAsRuns(t *testing.T) {
	f := newRunsFixture(t)
	var inRuns, batchesWithRuns int
	for _, b := range f.batches {
		n := len(runOf(b))
		inRuns += n
		if n > 0 {
			batchesWithRuns++
		}
	}
	var runs, runRows, rows int
	if err := f.pool.QueryRow(f.ctx, `SELECT (SELECT count(*) FROM import_created_runs WHERE import_id = $1),
			(SELECT coalesce(sum(row_count), 0) FROM import_created_runs WHERE import_id = $1),
			(SELECT count(*) FROM import_outcome_rows WHERE import_id = $1)`, f.importID).Scan(&runs, &runRows, &rows); err != nil {
		t.Fatal(err)
	}
	if runs != batchesWithRuns || runRows != inRuns || rows != len(f.outcomes)-inRuns || runs < 4 || runs == len(f.batches)-1 {
		t.Errorf("%d runs of %d rows and %d rows; want %d runs of %d rows and %d rows", runs, runRows, rows,
			batchesWithRuns, inRuns, len(f.outcomes)-inRuns)
	}
	q, err := f.pool.Query(f.ctx, `SELECT row_number, outcome, coalesce(entity_id, 0), coalesce(reason, ''), warnings IS NOT NULL
		FROM import_rows WHERE import_id = $1 ORDER BY row_number`, f.importID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(q, func(r pgx.CollectableRow) (string, error) {
		var (
			row             int
			outcome, reason string
			entity          int64
			warned          bool
		)
		err := r.Scan(&row, &outcome, &entity, &reason, &warned)
		return fmt.Sprintf("%s %v", outcomeLine(row, outcome, entity, reason), warned), err
	})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, o := range f.outcomes {
		want = append(want, fmt.Sprintf("%s %v", outcomeLine(o.Row, o.Outcome, o.EntityID, o.Reason), o.Warnings != nil))
	}
	if g, w := strings.Join(got, "\n"), strings.Join(want, "\n"); g != w {
		t.Errorf("import_rows:\n%s\nwant:\n%s", g, w)
	}
}

// TestOutcomesReadInPagesMergeRowsAndRuns reads the fixture's outcomes page by page, as the
// relays (RowOutcomes, first row first) and an undo (UndoRows, last row first) do, with pages
// of 1 to 1,000 rows, and compares every page with the outcomes recorded.
func TestOutcomesReadInPagesMergeRowsAndRuns(t *testing.T) {
	f := newRunsFixture(t)
	var all, undoable []string
	for _, o := range f.outcomes {
		all = append(all, outcomeLine(o.Row, o.Outcome, o.EntityID, o.Reason))
		if o.Outcome != "skipped" {
			undoable = append(undoable, outcomeLine(o.Row, o.Outcome, o.EntityID, ""))
		}
	}
	slices.Reverse(undoable)
	for _, limit := range []int{1, 2, 3, 7, 64, 1000} {
		var got []string
		for after := 0; ; {
			page, err := store.RowOutcomes(f.ctx, f.pool, f.importID, after, limit)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range page {
				got = append(got, outcomeLine(o.Row, o.Outcome, o.EntityID, o.Reason))
			}
			if len(page) < limit {
				break
			}
			after = page[len(page)-1].Row
		}
		if g, w := strings.Join(got, "\n"), strings.Join(all, "\n"); g != w {
			t.Errorf("RowOutcomes in pages of %d:\n%s\nwant:\n%s", limit, g, w)
		}
		got = nil
		for before := 0; ; {
			page, err := store.UndoRows(f.ctx, f.pool, f.importID, before, limit)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range page {
				got = append(got, outcomeLine(u.Row, u.Outcome, u.EntityID, ""))
			}
			if len(page) < limit {
				break
			}
			before = page[len(page)-1].Row
		}
		if g, w := strings.Join(got, "\n"), strings.Join(undoable, "\n"); g != w {
			t.Errorf("UndoRows in pages of %d:\n%s\nwant:\n%s", limit, g, w)
		}
	}
}

// TestTouchedRecordsMergeRowsAndRuns pages through the records the fixture's import touched,
// all of them and only those it created, and compares them with its outcomes: each record
// once, created when one of its rows created it, whether that row is in a run or not.
func TestTouchedRecordsMergeRowsAndRuns(t *testing.T) {
	f := newRunsFixture(t)
	created := map[int64]bool{}
	for _, o := range f.outcomes {
		if o.EntityID != 0 {
			created[o.EntityID] = created[o.EntityID] || o.Outcome == "created"
		}
	}
	for _, createdOnly := range []bool{false, true} {
		var want []string
		for _, id := range slices.Sorted(func(yield func(int64) bool) {
			for id := range created {
				if !yield(id) {
					return
				}
			}
		}) {
			if created[id] || !createdOnly {
				want = append(want, fmt.Sprintf("%d %v", id, created[id]))
			}
		}
		for _, limit := range []int{1, 2, 3, 50, 1000} {
			var got []string
			for after := int64(0); ; {
				page, err := store.TouchedRecords(f.ctx, f.pool, f.importID, after, createdOnly, limit)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range page {
					got = append(got, fmt.Sprintf("%d %v", r.ID, r.Created))
				}
				if len(page) < limit {
					break
				}
				after = page[len(page)-1].ID
			}
			if g, w := strings.Join(got, "\n"), strings.Join(want, "\n"); g != w {
				t.Errorf("TouchedRecords (created only %v) in pages of %d:\n%s\nwant:\n%s", createdOnly, limit, g, w)
			}
		}
	}
}

// TestDeleteOutcomesTakesABatchsRun deletes one batch's outcomes, rows and run, and leaves the
// others; a range that cuts a run in two is refused, deleting nothing.
func TestDeleteOutcomesTakesABatchsRun(t *testing.T) {
	f := newRunsFixture(t)
	batch := f.batches[4]
	first, last := batch[0].Row, batch[len(batch)-1].Row
	run := runOf(batch)
	runFirst, runLast := run[0].Row, run[len(run)-1].Row
	del := func(first, last int) error {
		return pgx.BeginFunc(f.ctx, f.pool, func(tx pgx.Tx) error {
			return store.DeleteOutcomes(f.ctx, tx, f.importID, first, last)
		})
	}
	count := func() int {
		var n int
		if err := f.pool.QueryRow(f.ctx, "SELECT count(*) FROM import_rows WHERE import_id = $1", f.importID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	err := del(runFirst+1, last)
	if want := fmt.Sprintf("delete created rows %d to %d of import %d: the run of rows %d to %d is only partly within them",
		runFirst+1, last, f.importID, runFirst, runLast); err == nil || err.Error() != want {
		t.Errorf("deleting part of a run: %v, want %s", err, want)
	}
	if n := count(); n != len(f.outcomes) {
		t.Errorf("%d outcomes after a refused delete, want %d", n, len(f.outcomes))
	}
	if err := del(first, last); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != len(f.outcomes)-len(batch) {
		t.Errorf("%d outcomes after deleting a batch of %d, want %d", n, len(batch), len(f.outcomes)-len(batch))
	}
	f.record(f.importID, batch) // as a batch decided again stores them anew
	if n := count(); n != len(f.outcomes) {
		t.Errorf("%d outcomes after storing the batch again, want %d", n, len(f.outcomes))
	}
}

// committingQuerier commits a batch, once, before the second query it is asked to run: what
// a reader of several statements meets when an import's batch commits between them.
type committingQuerier struct {
	store.Querier
	queries int
	commit  func()
}

func (q *committingQuerier) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if q.queries++; q.queries == 2 {
		q.commit()
	}
	return q.Querier.Query(ctx, sql, args...)
}

// TestOutcomesReadSeeABatchWholeOrNot reads an import's outcomes through a querier that
// commits the import's next batch, of skipped rows and a run of created ones, before the
// read's second statement, if it makes one: the read must hold all of that batch's rows or
// none, so that a relay's cursor never passes a row it did not deliver. A read of the rows and
// the runs in two statements (as RowOutcomes and UndoRows were first written) fails it; in one
// statement, the batch commits after the read. The same for an undo's read.
func TestOutcomesReadSeeABatchWholeOrNot(t *testing.T) {
	f := newRunsFixture(t)
	next := f.batches[4]
	skipped := len(slices.DeleteFunc(slices.Clone(next), func(o store.Outcome) bool { return o.Outcome != "skipped" }))
	if skipped == 0 || len(runOf(next)) == 0 {
		t.Fatalf("batch 4 has %d skipped rows and a run of %d; the test needs both", skipped, len(runOf(next)))
	}
	for _, read := range []string{"RowOutcomes", "UndoRows"} {
		id := f.newImport()
		for _, b := range f.batches[:4] {
			f.record(id, b)
		}
		q := &committingQuerier{Querier: f.pool, commit: func() { f.record(id, next) }}
		var rows []int
		switch read {
		case "RowOutcomes":
			page, err := store.RowOutcomes(f.ctx, q, id, f.batches[3][len(f.batches[3])-1].Row, 1000)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range page {
				rows = append(rows, o.Row)
			}
		case "UndoRows":
			page, err := store.UndoRows(f.ctx, q, id, 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range page {
				if u.Row >= next[0].Row {
					rows = append(rows, u.Row)
				}
			}
		}
		want := 0
		for _, o := range next {
			if read == "RowOutcomes" || o.Outcome != "skipped" {
				want++
			}
		}
		if len(rows) != 0 && len(rows) != want {
			t.Errorf("%s read %d of the %d rows of a batch that committed during the read: %v", read, len(rows), want, rows)
		}
	}
}
