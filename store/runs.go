package store

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// A batch's created rows with nothing more to say are stored as one run of
// import_created_runs (migration 0021), and its updated rows with nothing more to say but
// their undo as one run of import_updated_runs (migration 0023); every other outcome as a row
// of import_outcome_rows. The view import_rows joins them back, for reads that take all of an
// import's outcomes; the reads of a few outcomes of a large import take the runs they need
// themselves, with the conditions below, and merge them with the rows in Go.

// minRunRows is the fewest rows of one outcome a batch stores as a run; fewer are stored as
// rows. A run costs a row and its arrays however few rows it holds, and the reads take runs
// one by one: a batch of a handful of rows (batch_size can be 1) gains nothing from one, and
// an import of many such runs would make each read walk many.
const minRunRows = 32

// minRunRecords is the fewest distinct records a run of updated rows names: as many as the
// largest page of the records an import touched asks for (the API's most, 1,000), so that a
// page finds its records in the first run past its cursor (coveringAfter). A batch of fewer
// stores its updated rows as rows. A variable for the tests.
var minRunRecords = 1000

// runTable is a table of runs, each one batch's rows of one outcome.
type runTable struct {
	name    string
	outcome string // of every row its runs hold
	// undos says that its runs keep what each row kept for an undo (import_rows.undo), and
	// that a record may be named by several of its rows: updated by two rows of a file, in
	// one batch or two. Its runs then count their distinct records (entity_count).
	undos bool
}

var (
	createdRuns = runTable{name: "import_created_runs", outcome: "created"}
	updatedRuns = runTable{name: "import_updated_runs", outcome: "updated", undos: true}
	// runTables are the tables of runs, in the order a batch's runs are stored.
	runTables = []runTable{createdRuns, updatedRuns}
)

// holds is true of an outcome a run of t can hold: a row of t's outcome with a record and
// nothing more to say, but for its undo when t keeps undos.
func (t runTable) holds(o *Outcome) bool {
	return o.Outcome == t.outcome && o.EntityID != 0 && o.Reason == "" && o.Detail == "" &&
		o.Warnings == nil && o.Cells == nil && o.SourceRow == 0 && (t.undos || o.Undo == nil)
}

// outcomeRun is one run of a table: its rows' numbers, rising, their records, and what each
// kept for an undo when the table keeps undos.
type outcomeRun struct {
	table    runTable
	lo, hi   int64 // the records of the rows it takes lie within
	records  int   // the distinct records they name, for a table that counts them (undos)
	rows     []int32
	entities []int64
	undos    [][]byte // nil: none kept
}

// newRun returns the run of t that a batch's outcomes make, if they make one: of every outcome
// t holds, when there are minRunRows of them at least; for updated rows, of those whose
// records lie in the densest stretch of ids (denseStretch), when they name minRunRecords
// records at least. Updated rows may name records from anywhere in the account (a re-import's
// file in another order than the records were made in): a run of them would span every page
// of the records the import touched, and each such page would read all of it. Kept to a
// stretch, a run spans about as many ids as it holds, as created runs do, and the rows outside
// stay rows.
func (t runTable) newRun(outcomes []Outcome) (outcomeRun, bool) {
	var ids []int64
	for i := range outcomes {
		if t.holds(&outcomes[i]) {
			ids = append(ids, outcomes[i].EntityID)
		}
	}
	run := outcomeRun{table: t, lo: math.MinInt64, hi: math.MaxInt64}
	n := len(ids)
	if t.undos && n >= minRunRows {
		run.lo, run.hi, n, run.records = denseStretch(ids)
		if run.records < minRunRecords {
			return outcomeRun{}, false
		}
	}
	if n < minRunRows {
		return outcomeRun{}, false
	}
	run.rows, run.entities = make([]int32, 0, n), make([]int64, 0, n)
	return run, true
}

// denseStretch returns the stretch lo..hi of record ids, less than twice as long as ids has
// elements, that holds the most of them (n, of which records distinct).
func denseStretch(ids []int64) (lo, hi int64, n, records int) {
	sorted := slices.Sorted(slices.Values(ids))
	span := 2 * int64(len(sorted))
	best, bestI := 0, 0
	for i, j := 0, 0; j < len(sorted); j++ {
		for sorted[j]-sorted[i] >= span {
			i++
		}
		if j-i+1 > best {
			best, bestI = j-i+1, i
		}
	}
	stretch := sorted[bestI : bestI+best]
	return stretch[0], stretch[len(stretch)-1], best, len(slices.Compact(slices.Clone(stretch)))
}

// takes is true of an outcome the run holds: one its table holds, of a record within lo..hi.
func (run *outcomeRun) takes(o *Outcome) bool {
	return run.table.holds(o) && o.EntityID >= run.lo && o.EntityID <= run.hi
}

// add adds the outcome o, which the run takes and past the run's rows, to the run.
func (run *outcomeRun) add(o *Outcome) {
	run.rows, run.entities = append(run.rows, int32(o.Row)), append(run.entities, o.EntityID)
	if run.table.undos {
		run.undos = append(run.undos, o.Undo)
	}
}

// record stores the run, of at least one row, as rows of import importID. Its rows must rise,
// as a batch's do: the reads put runs in order by their bounds. The run goes as one row of a
// binary COPY, written by hand: as the arguments of an INSERT, pgx encoded the undos through
// reflection and copied the statement into a buffer grown anew for each run, 0.8 GB of
// allocations over a 1M-row re-import (docs/architecture.md, "Runs copied, not bound").
func (run *outcomeRun) record(ctx context.Context, tx pgx.Tx, importID int64) error {
	t := run.table
	if !slices.IsSorted(run.rows) {
		return fmt.Errorf("record %s rows of import %d: rows %d to %d are not in order", t.outcome, importID, run.rows[0], run.rows[len(run.rows)-1])
	}
	cols := []string{"import_id", "first_row", "last_row", "first_entity", "last_entity", "row_count", "row_numbers", "entity_ids"}
	if t.undos {
		cols = append(cols, "entity_count", "undos")
	}
	// The row's bytes: its field count, six numbers, and the arrays of rows and records, each
	// a length, a header and 8 and 12 bytes an element; then the count and the undos.
	size := 2 + 12 + 8 + 8 + 12 + 12 + 8 + 2*(4+20) + len(run.rows)*(8+12)
	if t.undos {
		size += 8 + 4 + 20
		for _, u := range run.undos {
			size += 4 + len(u)
		}
	}
	data := newBinaryCopy(1, size)
	data.row(len(cols))
	data.int8(importID)
	data.int4(int(run.rows[0]))
	data.int4(int(run.rows[len(run.rows)-1]))
	data.int8(slices.Min(run.entities))
	data.int8(slices.Max(run.entities))
	data.int4(len(run.rows))
	data.field(func() {
		data.arrayHeader(pgtype.Int4OID, len(run.rows), false)
		for _, r := range run.rows {
			data.int4(int(r))
		}
	})
	data.field(func() {
		data.arrayHeader(pgtype.Int8OID, len(run.entities), false)
		for _, e := range run.entities {
			data.int8(e)
		}
	})
	if t.undos {
		data.int4(run.records)
		data.field(func() {
			data.arrayHeader(pgtype.JSONOID, len(run.undos), slices.ContainsFunc(run.undos, func(u []byte) bool { return u == nil }))
			for _, u := range run.undos {
				if u == nil {
					data.null()
					continue
				}
				data.bytesText(u)
			}
		})
	}
	if _, err := data.copyTo(ctx, tx, t.name, cols); err != nil {
		return fmt.Errorf("record %s rows: %w", t.outcome, err)
	}
	return nil
}

// runSpan names the columns that bound runs in one order, and whether an import's runs of one
// table lie apart in it: by rows they do (a run is a batch's, and batches hold rows apart); by
// record ids almost always (a batch's new ids follow its predecessor's), but nothing makes them.
type runSpan struct {
	first, last string
	apart       bool
}

var (
	rowSpan    = runSpan{"first_row", "last_row", true}
	entitySpan = runSpan{"first_entity", "last_entity", false}
)

// after is the condition on the runs r of t that may hold one of the first limit values past
// after, in s's order, of import importID (each argument an SQL expression). It takes the
// first limit runs that start past after (each holds a value at least), in order, until they
// hold limit values, and every run that starts no further than the last value of those: the
// first limit values past after lie in them. A run that starts at or before after and ends
// past it is taken too; when runs lie apart, only the last one that starts at or before after
// can, so the runs before it are not read. The runs are counted by row_count, without reading
// their arrays. By records, a table whose runs may name a record twice counts otherwise
// (coveringAfter).
func (s runSpan) after(t runTable, r, importID, after, limit string) string {
	if s == entitySpan && t.undos {
		return t.coveringAfter(r, importID, after, limit)
	}
	cond := fmt.Sprintf(`%[1]s.import_id = %[2]s AND %[1]s.%[5]s > %[3]s AND %[1]s.%[4]s <= coalesce((
			SELECT max(w.%[5]s) FROM (
				SELECT %[5]s, sum(row_count) OVER (ORDER BY %[4]s ROWS UNBOUNDED PRECEDING) - row_count AS before
				FROM (SELECT %[4]s, %[5]s, row_count FROM %[7]s
					WHERE import_id = %[2]s AND %[4]s > %[3]s ORDER BY %[4]s LIMIT %[6]s) n) w
			WHERE w.before < %[6]s), %[3]s)`, r, importID, after, s.first, s.last, limit, t.name)
	if s.apart {
		cond += fmt.Sprintf(` AND %[1]s.%[4]s >= coalesce((
			SELECT max(%[4]s) FROM %[5]s WHERE import_id = %[2]s AND %[4]s <= %[3]s), %[3]s)`,
			r, importID, after, s.first, t.name)
	}
	return cond
}

// coveringAfter is entitySpan.after for a table whose runs may name a record more than once,
// in one run or in several: their counts of rows, or of distinct records, added up, could
// promise values that are the same ones, and stop short. One run that starts past after and
// holds limit distinct records (entity_count) has the first limit values past after at or
// before its last: every run that starts no further than the least such last is taken. Each
// run names minRunRecords records at least, over a stretch about as long (newRun), so a page
// of up to that many reads the runs about its cursor. When no run holds limit records (a
// larger page), every run that ends past after is read.
func (t runTable) coveringAfter(r, importID, after, limit string) string {
	return fmt.Sprintf(`%[1]s.import_id = %[2]s AND %[1]s.last_entity > %[3]s AND %[1]s.first_entity <= coalesce((
			SELECT min(last_entity) FROM %[5]s
			WHERE import_id = %[2]s AND first_entity > %[3]s AND entity_count >= %[4]s), %[1]s.first_entity)`,
		r, importID, after, limit, t.name)
}

// rowsBeforeCond is rowSpan.after the other way: the condition on the runs r of t that may hold
// one of the last limit rows before row before. It counts on runs lying apart by rows: those
// that end before before are then in the order of their first rows.
func (t runTable) rowsBeforeCond(r, importID, before, limit string) string {
	return fmt.Sprintf(`%[1]s.import_id = %[2]s AND %[1]s.first_row < %[3]s AND %[1]s.last_row >= coalesce((
			SELECT min(w.first_row) FROM (
				SELECT first_row, sum(row_count) OVER (ORDER BY first_row DESC ROWS UNBOUNDED PRECEDING) - row_count AS beyond
				FROM (SELECT first_row, row_count FROM %[5]s
					WHERE import_id = %[2]s AND first_row < %[3]s AND last_row < %[3]s ORDER BY first_row DESC LIMIT %[4]s) n) w
			WHERE w.beyond < %[4]s), %[3]s)
		AND %[1]s.last_row <= coalesce((
			SELECT min(last_row) FROM %[5]s WHERE import_id = %[2]s AND last_row >= %[3]s), %[3]s)`,
		r, importID, before, limit, t.name)
}

// runsAfter is the part of a read of outcomes that reads the runs of import importID that may
// hold one of its first limit outcomes after row after: for each table, " UNION ALL (SELECT
// columns(table) …)"; runsBefore, of its last limit outcomes before row before (each argument
// an SQL expression). A read of an import's outcomes joins it to its read of outcome rows:
// one statement, so that it sees a batch that commits meanwhile whole or not at all.
func runsAfter(columns func(runTable) string, importID, after, limit string) string {
	var b strings.Builder
	for _, t := range runTables {
		b.WriteString(" UNION ALL (SELECT " + columns(t) + " FROM " + t.name + " r WHERE " + rowSpan.after(t, "r", importID, after, limit) + ")")
	}
	return b.String()
}

// runsBefore is runsAfter the other way.
func runsBefore(columns func(runTable) string, importID, before, limit string) string {
	var b strings.Builder
	for _, t := range runTables {
		b.WriteString(" UNION ALL (SELECT " + columns(t) + " FROM " + t.name + " r WHERE " + t.rowsBeforeCond("r", importID, before, limit) + ")")
	}
	return b.String()
}

// runRow is a row a run holds.
type runRow struct {
	row      int
	outcome  string
	entityID int64
	undo     []byte
}

// readRuns are runs, of any table, as a read of outcomes met them.
type readRuns []outcomeRun

// rowsAfter returns the runs' rows after row after, in row order.
func (rs readRuns) rowsAfter(after int) []runRow {
	return rs.rows(func(row int32) bool { return int(row) > after })
}

// rowsBefore returns the runs' rows before row before, last row first.
func (rs readRuns) rowsBefore(before int) []runRow {
	rows := rs.rows(func(row int32) bool { return int(row) < before })
	slices.Reverse(rows)
	return rows
}

// rows returns the runs' rows that keep takes, in row order: the runs of one table hold rows
// apart, those of two tables interleave (a batch's created and updated rows).
func (rs readRuns) rows(keep func(int32) bool) []runRow {
	n := 0
	for _, run := range rs {
		n += len(run.rows)
	}
	out := make([]runRow, 0, n)
	for _, run := range rs {
		for i, row := range run.rows {
			if keep(row) {
				r := runRow{row: int(row), outcome: run.table.outcome, entityID: run.entities[i]}
				if run.undos != nil {
					r.undo = run.undos[i]
				}
				out = append(out, r)
			}
		}
	}
	slices.SortFunc(out, func(a, b runRow) int { return cmp.Compare(a.row, b.row) })
	return out
}

// tableOf returns the table whose runs a read's row came from, by the outcome it selected.
func tableOf(outcome []byte) (runTable, error) {
	for _, t := range runTables {
		if string(outcome) == t.outcome {
			return t, nil
		}
	}
	return runTable{}, fmt.Errorf("a run of %q rows: no table of runs holds them", outcome)
}

// mergeRuns merges list, in an order of rows, with the rows of runs, in the same order, and
// returns the first limit: fromRun makes the element of a run's row, and precedes says whether
// row a comes before row b in the order.
func mergeRuns[T any](list []T, rowOf func(*T) int, runs []runRow, fromRun func(runRow) T,
	precedes func(a, b int) bool, limit int) []T {
	if len(runs) == 0 {
		return list
	}
	merged := make([]T, 0, min(len(list)+len(runs), limit))
	for len(merged) < limit && (len(list) > 0 || len(runs) > 0) {
		if len(runs) == 0 || len(list) > 0 && precedes(rowOf(&list[0]), runs[0].row) {
			merged, list = append(merged, list[0]), list[1:]
			continue
		}
		merged, runs = append(merged, fromRun(runs[0])), runs[1:]
	}
	return merged
}

// recordsAfter is the SQL of the records the runs of t of import importID name past after, in
// id order, each once, at most limit (each argument an SQL expression): the runs' part of a
// page of the records an import touched.
func (t runTable) recordsAfter(importID, after, limit string) string {
	return `SELECT DISTINCT e.id FROM ` + t.name + ` c, unnest(c.entity_ids) AS e(id)
		WHERE ` + entitySpan.after(t, "c", importID, after, limit) + ` AND e.id > ` + after + `
		ORDER BY e.id LIMIT ` + limit
}

// recordsAfterEach is, for each table of runs, " UNION ALL (SELECT columns(table) FROM … WHERE
// where(table))": the records its runs of import importID name past after (recordsAfter), read
// as e; where may be nil, and may return "" (no condition).
func recordsAfterEach(columns, where func(runTable) string, importID, after, limit string) string {
	var b strings.Builder
	for _, t := range runTables {
		b.WriteString(" UNION ALL (SELECT " + columns(t) + " FROM (" + t.recordsAfter(importID, after, limit) + ") e")
		if where != nil && where(t) != "" {
			b.WriteString(" WHERE " + where(t))
		}
		b.WriteString(")")
	}
	return b.String()
}
