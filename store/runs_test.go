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
	"github.com/leadpipe/leadpipe/store/storetest"
)

// runsFixture is an import whose outcomes were recorded batch by batch, as an import records
// them: created rows with nothing more to say, and updated ones with nothing more to say but
// their undo, go to runs, every other row to rows.
type runsFixture struct {
	*fixture
	importID int64
	outcomes []store.Outcome // every outcome, in row order
	batches  [][]store.Outcome
}

// newRunsFixture records 787 outcomes (rows 2 to 788) in batches of 1 to 200 rows: created rows
// (some with a warning, so not in a run), skipped, updated (most with an undo, some with a
// warning) and unchanged ones; the created ids rise from batch to batch but fall within one of
// them, updated rows name records created earlier, several rows the same one, one batch has no
// created row, the first four too few to make a run, and the last two enough updated rows.
func newRunsFixture(t *testing.T) *runsFixture {
	f := &runsFixture{fixture: newFixture(t)}
	f.minRunRecords(20)
	im, err := store.CreateImport(f.ctx, f.pool, store.Import{AccountID: f.acct.ID, Source: store.SourceCLI,
		FileName: "runs.csv", FilePath: "/nonexistent/runs.csv", FileSHA256: "x", Header: []string{"Email"}}, owner, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	f.importID = im.ID
	row, id := 2, int64(1000)
	for b, size := range []int{1, 2, 3, 40, 80, 1, 90, 100, 120, 150, 200} {
		var batch []store.Outcome
		for range size {
			o := store.Outcome{Row: row}
			switch k := row * 7 % 10; {
			case b == 5 || k == 6:
				o.Outcome, o.Reason, o.Cells = "skipped", "invalid_email", []string{"x"}
			case (k == 7 || b >= 9 && k >= 2 && k <= 4) && id > 1000:
				o.Outcome, o.EntityID = "updated", max(1001, id-int64(row%7))
				switch {
				case row%11 == 0:
					o.Warnings = []byte(`[{"field":"phone","kind":"value_too_long"}]`)
				case row%13 != 0:
					o.Undo = []byte(fmt.Sprintf(`{"c":[["title","t%d","T%d"]],"u":"2026-12-06T17:14:11Z"}`, row, row))
				}
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

// minRunRecords lets a run of updated rows name as few as n records, for the test.
func (f *runsFixture) minRunRecords(n int) {
	saved := *store.MinRunRecords
	*store.MinRunRecords = n
	f.t.Cleanup(func() { *store.MinRunRecords = saved })
}

// recordRuns records one batch of outcome rows (created or updated, with an undo) per list of
// record ids, a row per id, the rows numbered on from the last batch's.
func (f *runsFixture) recordRuns(outcome string, batches ...[]int64) {
	f.t.Helper()
	row := 2
	for _, ids := range batches {
		var batch []store.Outcome
		for _, id := range ids {
			o := store.Outcome{Row: row, Outcome: outcome, EntityID: id}
			if outcome == "updated" {
				o.Undo = []byte(`{"c":[]}`)
			}
			batch = append(batch, o)
			row++
		}
		f.record(f.importID, batch)
	}
}

// idRange returns the ids lo to hi, each repeat times in turn.
func idRange(lo, hi int64, repeat int) []int64 {
	var out []int64
	for range repeat {
		for id := lo; id <= hi; id++ {
			out = append(out, id)
		}
	}
	return out
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

// runOf returns the outcomes of a batch that its run of the outcome holds (created or
// updated): none when they are too few.
func runOf(batch []store.Outcome, outcome string) []store.Outcome {
	run := slices.DeleteFunc(slices.Clone(batch), func(o store.Outcome) bool { return o.Outcome != outcome || o.Warnings != nil })
	if len(run) < store.MinRunRows {
		return nil
	}
	return run
}

// outcomeLine is what the tests compare of an outcome.
func outcomeLine(row int, outcome string, entityID int64, reason string) string {
	return fmt.Sprintf("%d %s %d %s", row, outcome, entityID, reason)
}

// TestRowsAreStoredAsRuns checks where each outcome went — one run per batch and outcome with
// enough created or updated rows, the rest rows — and that the view import_rows shows every
// outcome as recorded, with its undo.
func TestRowsAreStoredAsRuns(t *testing.T) {
	f := newRunsFixture(t)
	inRuns := 0
	for _, c := range []struct{ outcome, table string }{{"created", "import_created_runs"}, {"updated", "import_updated_runs"}} {
		var runRows, batchesWithRuns int
		for _, b := range f.batches {
			n := len(runOf(b, c.outcome))
			runRows += n
			if n > 0 {
				batchesWithRuns++
			}
		}
		inRuns += runRows
		var runs, stored int
		if err := f.pool.QueryRow(f.ctx, `SELECT count(*), coalesce(sum(row_count), 0) FROM `+c.table+` WHERE import_id = $1`,
			f.importID).Scan(&runs, &stored); err != nil {
			t.Fatal(err)
		}
		if runs != batchesWithRuns || stored != runRows || runs < 2 || runs == len(f.batches)-1 {
			t.Errorf("%s: %d runs of %d rows; want %d runs of %d rows", c.table, runs, stored, batchesWithRuns, runRows)
		}
	}
	var rows int
	if err := f.pool.QueryRow(f.ctx, `SELECT count(*) FROM import_outcome_rows WHERE import_id = $1`, f.importID).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != len(f.outcomes)-inRuns {
		t.Errorf("%d rows, want %d", rows, len(f.outcomes)-inRuns)
	}
	q, err := f.pool.Query(f.ctx, `SELECT row_number, outcome, coalesce(entity_id, 0), coalesce(reason, ''), warnings IS NOT NULL,
			coalesce(undo::text, '')
		FROM import_rows WHERE import_id = $1 ORDER BY row_number`, f.importID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(q, func(r pgx.CollectableRow) (string, error) {
		var (
			row                   int
			outcome, reason, undo string
			entity                int64
			warned                bool
		)
		err := r.Scan(&row, &outcome, &entity, &reason, &warned, &undo)
		return fmt.Sprintf("%s %v %s", outcomeLine(row, outcome, entity, reason), warned, undo), err
	})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, o := range f.outcomes {
		want = append(want, fmt.Sprintf("%s %v %s", outcomeLine(o.Row, o.Outcome, o.EntityID, o.Reason), o.Warnings != nil, o.Undo))
	}
	if g, w := strings.Join(got, "\n"), strings.Join(want, "\n"); g != w {
		t.Errorf("import_rows:\n%s\nwant:\n%s", g, w)
	}
}

// TestRunsAnalyzedWithoutTheirArrays checks that ANALYZE, which autovacuum runs after nearly
// every large import, gathers no statistics of the runs' arrays (migration 0024: gathering them
// was nearly all of its time) and still those of the runs' bounds. It reads the columns'
// targets: setting one to 0 leaves in pg_stats what an earlier ANALYZE gathered.
func TestRunsAnalyzedWithoutTheirArrays(t *testing.T) {
	pool := storetest.Pool(t)
	q, err := pool.Query(t.Context(), `SELECT attrelid::regclass || '.' || attname || ' ' || (coalesce(attstattarget, -1) <> 0)
		FROM pg_attribute WHERE attrelid IN ('import_created_runs'::regclass, 'import_updated_runs'::regclass)
		AND attname IN ('first_row', 'row_numbers', 'entity_ids', 'undos') ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(q, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"import_created_runs.entity_ids false", "import_created_runs.first_row true", "import_created_runs.row_numbers false",
		"import_updated_runs.entity_ids false", "import_updated_runs.first_row true", "import_updated_runs.row_numbers false",
		"import_updated_runs.undos false"}
	if !slices.Equal(got, want) {
		t.Errorf("columns and whether ANALYZE gathers their statistics:\n%v\nwant\n%v", got, want)
	}
}

// TestOutcomesReadInPagesMergeRowsAndRuns reads the fixture's outcomes page by page, as the
// relays (RowOutcomes, first row first) and an undo (UndoRows, last row first, with what each
// row kept for it) do, with pages of 1 to 1,000 rows, and compares every page with the
// outcomes recorded.
func TestOutcomesReadInPagesMergeRowsAndRuns(t *testing.T) {
	f := newRunsFixture(t)
	var all, undoable []string
	for _, o := range f.outcomes {
		all = append(all, outcomeLine(o.Row, o.Outcome, o.EntityID, o.Reason))
		if o.Outcome != "skipped" {
			undoable = append(undoable, outcomeLine(o.Row, o.Outcome, o.EntityID, "")+" "+string(o.Undo))
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
				got = append(got, outcomeLine(u.Row, u.Outcome, u.EntityID, "")+" "+string(u.Undo))
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

// touched pages through the records the fixture's import touched (only those it created, with
// createdOnly), limit a page, and returns each as "id created".
func (f *runsFixture) touched(createdOnly bool, limit int) []string {
	f.t.Helper()
	var got []string
	for after := int64(0); ; {
		page, err := store.TouchedRecords(f.ctx, f.pool, f.importID, after, createdOnly, limit)
		if err != nil {
			f.t.Fatal(err)
		}
		for _, r := range page {
			got = append(got, fmt.Sprintf("%d %v", r.ID, r.Created))
		}
		if len(page) < limit {
			return got
		}
		after = page[len(page)-1].ID
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
			if g, w := strings.Join(f.touched(createdOnly, limit), "\n"), strings.Join(want, "\n"); g != w {
				t.Errorf("TouchedRecords (created only %v) in pages of %d:\n%s\nwant:\n%s", createdOnly, limit, g, w)
			}
		}
	}
}

// TestTouchedRecordsOfRunsNamingARecordTwice pages through an import's records whose updated
// rows name each record many times, in one run and in several: two runs of the same two
// records, then a run of two others. Counted by their rows, the first two runs would promise
// a page of three records that they cannot fill, and the third run, which holds the third,
// would not be read.
func TestTouchedRecordsOfRunsNamingARecordTwice(t *testing.T) {
	f := &runsFixture{fixture: newFixture(t)}
	f.importID = f.newImport()
	f.minRunRecords(2)
	n := store.MinRunRows/2 + 4
	f.recordRuns("updated", idRange(5001, 5002, n), idRange(5001, 5002, n), idRange(5003, 5004, n))
	f.checkTouched(t, 3, "5001 false, 5002 false, 5003 false, 5004 false")
}

// TestTouchedRecordsOfCreatedRunsOverlapping pages through an import's created records whose
// runs overlap by id (a batch decided again takes new ids after its successor's): the first
// run holds ids 100–150 and 300–308, the second 200–299. A page of 60 needs only the first
// run's count, but its records past 150 lie in the second run.
func TestTouchedRecordsOfCreatedRunsOverlapping(t *testing.T) {
	f := &runsFixture{fixture: newFixture(t)}
	f.importID = f.newImport()
	f.recordRuns("created", append(idRange(100, 150, 1), idRange(300, 308, 1)...), idRange(200, 299, 1))
	var want []string
	for _, id := range append(idRange(100, 150, 1), idRange(200, 308, 1)...) {
		want = append(want, fmt.Sprintf("%d true", id))
	}
	f.checkTouched(t, 2, strings.Join(want, ", "))
}

// checkTouched checks that the import's touched records, paged with pages of 1 to 100, are
// want, and that it has runs runs.
func (f *runsFixture) checkTouched(t *testing.T, runs int, want string) {
	t.Helper()
	var n int
	if err := f.pool.QueryRow(f.ctx, `SELECT (SELECT count(*) FROM import_created_runs WHERE import_id = $1)
			+ (SELECT count(*) FROM import_updated_runs WHERE import_id = $1)`, f.importID).Scan(&n); err != nil || n != runs {
		t.Fatalf("%d runs (%v); the test needs %d", n, err, runs)
	}
	for _, limit := range []int{1, 2, 3, 4, 5, 60, 100} {
		if g := strings.Join(f.touched(false, limit), ", "); g != want {
			t.Errorf("TouchedRecords in pages of %d:\n%s\nwant:\n%s", limit, g, want)
		}
	}
}

// TestUpdatedRunKeepsToADenseStretch records a batch of updated rows, most of them naming
// records 2000–2063 and a few far others: the run takes the former, the others stay rows.
func TestUpdatedRunKeepsToADenseStretch(t *testing.T) {
	f := &runsFixture{fixture: newFixture(t)}
	f.importID = f.newImport()
	f.minRunRecords(20)
	far := []int64{1, 9000, 9001, 50000}
	f.recordRuns("updated", append(append(idRange(2000, 2031, 1), far...), idRange(2032, 2063, 1)...))
	var runRows, first, last, rows int
	if err := f.pool.QueryRow(f.ctx, `SELECT (SELECT sum(row_count) FROM import_updated_runs WHERE import_id = $1),
			(SELECT min(first_entity) FROM import_updated_runs WHERE import_id = $1),
			(SELECT max(last_entity) FROM import_updated_runs WHERE import_id = $1),
			(SELECT count(*) FROM import_outcome_rows WHERE import_id = $1 AND entity_id IN (1, 9000, 9001, 50000))`,
		f.importID).Scan(&runRows, &first, &last, &rows); err != nil {
		t.Fatal(err)
	}
	if runRows != 64 || first != 2000 || last != 2063 || rows != len(far) {
		t.Errorf("run of %d rows naming %d–%d, %d far rows as rows; want 64 naming 2000–2063, %d", runRows, first, last, rows, len(far))
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
// commits the import's next batch, of skipped rows and runs, before the read's second
// statement, if it makes one: the read must hold all of that batch's rows or none, so that a
// relay's cursor never passes a row it did not deliver. A read of the rows and the runs in two
// statements (as RowOutcomes and UndoRows were first written) fails it; in one statement, the
// batch commits after the read. The same for an undo's read, and for a batch with a run of
// created rows (batch 4) and one with runs of both outcomes (batch 9).
func TestOutcomesReadSeeABatchWholeOrNot(t *testing.T) {
	f := newRunsFixture(t)
	for _, b := range []int{4, 9} {
		next := f.batches[b]
		skipped := len(slices.DeleteFunc(slices.Clone(next), func(o store.Outcome) bool { return o.Outcome != "skipped" }))
		if skipped == 0 || len(runOf(next, "created")) == 0 || b == 9 && len(runOf(next, "updated")) == 0 {
			t.Fatalf("batch %d has %d skipped rows and runs of %d created and %d updated ones; the test needs them",
				b, skipped, len(runOf(next, "created")), len(runOf(next, "updated")))
		}
		for _, read := range []string{"RowOutcomes", "UndoRows"} {
			id := f.newImport()
			for _, before := range f.batches[:b] {
				f.record(id, before)
			}
			q := &committingQuerier{Querier: f.pool, commit: func() { f.record(id, next) }}
			var rows []int
			switch read {
			case "RowOutcomes":
				page, err := store.RowOutcomes(f.ctx, q, id, f.batches[b-1][len(f.batches[b-1])-1].Row, 1000)
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
}
