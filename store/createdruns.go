package store

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
)

// A batch's created rows with nothing more to say are stored as one run of
// import_created_runs (migration 0021); every other outcome as a row of import_outcome_rows.
// The view import_rows joins them back, for reads that take all of an import's outcomes; the
// reads of a few outcomes of a large import take the runs they need themselves, with the
// conditions below, and merge them with the rows in Go.

// minRunRows is the fewest created rows a batch stores as a run; fewer are stored as rows. A
// run costs a row and its arrays however few rows it holds, and the reads take runs one by
// one: a batch of a handful of rows (batch_size can be 1) gains nothing from one, and an
// import of many such runs would make each read walk many.
const minRunRows = 32

// plainCreated is true of an outcome a run can hold: a created row with nothing more to say.
func plainCreated(o *Outcome) bool {
	return o.Outcome == "created" && o.EntityID != 0 && o.Reason == "" && o.Detail == "" &&
		o.Warnings == nil && o.Cells == nil && o.Undo == nil && o.SourceRow == 0
}

// createdRun is one run of created rows: their row numbers, rising, and their records.
type createdRun struct {
	rows     []int32
	entities []int64
}

// add adds the outcome o, plainCreated and past the run's rows, to the run.
func (run *createdRun) add(o *Outcome) {
	run.rows, run.entities = append(run.rows, int32(o.Row)), append(run.entities, o.EntityID)
}

// record stores the run, of at least one row, as created rows of import importID. Its rows
// must rise, as a batch's do: the reads put runs in order by their bounds.
func (run *createdRun) record(ctx context.Context, tx pgx.Tx, importID int64) error {
	if !slices.IsSorted(run.rows) {
		return fmt.Errorf("record created rows of import %d: rows %d to %d are not in order", importID, run.rows[0], run.rows[len(run.rows)-1])
	}
	_, err := tx.Exec(ctx, `INSERT INTO import_created_runs
			(import_id, first_row, last_row, first_entity, last_entity, row_count, row_numbers, entity_ids)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		importID, run.rows[0], run.rows[len(run.rows)-1], slices.Min(run.entities), slices.Max(run.entities),
		len(run.rows), run.rows, run.entities)
	if err != nil {
		return fmt.Errorf("record created rows: %w", err)
	}
	return nil
}

// runSpan names the columns that bound runs in one order, and whether an import's runs lie
// apart in it: by rows they do (a run is a batch's, and batches hold rows apart); by record
// ids almost always (a batch's new ids follow its predecessor's), but nothing makes them.
type runSpan struct {
	first, last string
	apart       bool
}

var (
	rowSpan    = runSpan{"first_row", "last_row", true}
	entitySpan = runSpan{"first_entity", "last_entity", false}
)

// after is the condition on the runs r of import_created_runs that may hold one of the first
// limit values past after, in s's order, of import importID (each argument an SQL expression).
// It takes the first limit runs that start past after (each holds a value at least), in
// order, until they hold limit values, and every run that starts no further than the last
// value of those: the first limit values past after lie in them. A run that starts at or
// before after and ends past it is taken too; when runs lie apart, only the last one that
// starts at or before after can, so the runs before it are not read. The runs are counted by
// row_count, without reading their arrays.
func (s runSpan) after(r, importID, after, limit string) string {
	cond := fmt.Sprintf(`%[1]s.import_id = %[2]s AND %[1]s.%[5]s > %[3]s AND %[1]s.%[4]s <= coalesce((
			SELECT max(w.%[5]s) FROM (
				SELECT %[5]s, sum(row_count) OVER (ORDER BY %[4]s ROWS UNBOUNDED PRECEDING) - row_count AS before
				FROM (SELECT %[4]s, %[5]s, row_count FROM import_created_runs
					WHERE import_id = %[2]s AND %[4]s > %[3]s ORDER BY %[4]s LIMIT %[6]s) n) w
			WHERE w.before < %[6]s), %[3]s)`, r, importID, after, s.first, s.last, limit)
	if s.apart {
		cond += fmt.Sprintf(` AND %[1]s.%[4]s >= coalesce((
			SELECT max(%[4]s) FROM import_created_runs WHERE import_id = %[2]s AND %[4]s <= %[3]s), %[3]s)`,
			r, importID, after, s.first)
	}
	return cond
}

// rowsBefore is rowSpan.after the other way: the condition on the runs r that may hold one of
// the last limit rows before row before. It counts on runs lying apart by rows: those that end
// before before are then in the order of their first rows.
func rowsBefore(r, importID, before, limit string) string {
	return fmt.Sprintf(`%[1]s.import_id = %[2]s AND %[1]s.first_row < %[3]s AND %[1]s.last_row >= coalesce((
			SELECT min(w.first_row) FROM (
				SELECT first_row, sum(row_count) OVER (ORDER BY first_row DESC ROWS UNBOUNDED PRECEDING) - row_count AS beyond
				FROM (SELECT first_row, row_count FROM import_created_runs
					WHERE import_id = %[2]s AND first_row < %[3]s AND last_row < %[3]s ORDER BY first_row DESC LIMIT %[4]s) n) w
			WHERE w.beyond < %[4]s), %[3]s)
		AND %[1]s.last_row <= coalesce((
			SELECT min(last_row) FROM import_created_runs WHERE import_id = %[2]s AND last_row >= %[3]s), %[3]s)`,
		r, importID, before, limit)
}

// runsAfter is the SELECT of columns of the runs of import importID that may hold one of its
// first limit outcomes after row after; runsBefore, of its last limit outcomes before row
// before (each argument an SQL expression). A read of an import's outcomes joins it to its
// read of outcome rows with UNION ALL: one statement, so that it sees a batch that commits
// meanwhile whole or not at all.
func runsAfter(columns, importID, after, limit string) string {
	return "SELECT " + columns + " FROM import_created_runs r WHERE " + rowSpan.after("r", importID, after, limit)
}

// runsBefore is runsAfter the other way.
func runsBefore(columns, importID, before, limit string) string {
	return "SELECT " + columns + " FROM import_created_runs r WHERE " + rowsBefore("r", importID, before, limit)
}

// readRuns are runs of created rows, as a read of outcomes met them.
type readRuns []createdRun

// rowsAfter returns the runs' rows after row after, in row order, and their records.
func (rs readRuns) rowsAfter(after int) ([]int32, []int64) {
	return rs.rows(func(row int32) bool { return int(row) > after })
}

// rowsBefore returns the runs' rows before row before, last row first, and their records.
func (rs readRuns) rowsBefore(before int) ([]int32, []int64) {
	rows, entityIDs := rs.rows(func(row int32) bool { return int(row) < before })
	slices.Reverse(rows)
	slices.Reverse(entityIDs)
	return rows, entityIDs
}

// rows returns the runs' rows that keep takes, in row order, and their records. Runs of one
// import hold rows apart, so they are put in order by their first rows.
func (rs readRuns) rows(keep func(int32) bool) ([]int32, []int64) {
	slices.SortFunc(rs, func(a, b createdRun) int { return int(a.rows[0] - b.rows[0]) })
	var (
		rows      []int32
		entityIDs []int64
	)
	for _, run := range rs {
		for i, row := range run.rows {
			if keep(row) {
				rows, entityIDs = append(rows, row), append(entityIDs, run.entities[i])
			}
		}
	}
	return rows, entityIDs
}

// mergeCreated merges list, in an order of rows, with the created rows and their records,
// in the same order, and returns the first limit: created makes the element of a created row,
// and precedes says whether row a comes before row b in the order.
func mergeCreated[T any](list []T, rowOf func(*T) int, rows []int32, entityIDs []int64,
	created func(row int, entityID int64) T, precedes func(a, b int) bool, limit int) []T {
	if len(rows) == 0 {
		return list
	}
	merged := make([]T, 0, min(len(list)+len(rows), limit))
	for len(merged) < limit && (len(list) > 0 || len(rows) > 0) {
		if len(rows) == 0 || len(list) > 0 && precedes(rowOf(&list[0]), int(rows[0])) {
			merged, list = append(merged, list[0]), list[1:]
			continue
		}
		merged = append(merged, created(int(rows[0]), entityIDs[0]))
		rows, entityIDs = rows[1:], entityIDs[1:]
	}
	return merged
}

// createdRecordsAfter is the SQL of the records the runs of import importID created past
// after, in id order, at most limit (each argument an SQL expression): the runs' part of a
// page of the records an import touched.
func createdRecordsAfter(importID, after, limit string) string {
	return `SELECT e.id FROM import_created_runs c, unnest(c.entity_ids) AS e(id)
		WHERE ` + entitySpan.after("c", importID, after, limit) + ` AND e.id > ` + after + `
		ORDER BY e.id LIMIT ` + limit
}

// deleteRuns deletes the runs of import importID within rows first to last. A run only partly
// within them is an error: it would take rows outside with it.
func deleteRuns(ctx context.Context, tx pgx.Tx, importID int64, first, last int) error {
	rs, err := tx.Query(ctx, `DELETE FROM import_created_runs
		WHERE import_id = $1 AND first_row <= $3 AND last_row >= $2 RETURNING first_row, last_row`, importID, first, last)
	if err != nil {
		return fmt.Errorf("delete created rows: %w", err)
	}
	defer rs.Close()
	var runFirst, runLast int
	for rs.Next() {
		if err := rs.Scan(&runFirst, &runLast); err != nil {
			return fmt.Errorf("delete created rows: %w", err)
		}
		if runFirst < first || runLast > last {
			return fmt.Errorf("delete created rows %d to %d of import %d: the run of rows %d to %d is only partly within them",
				first, last, importID, runFirst, runLast)
		}
	}
	if err := rs.Err(); err != nil {
		return fmt.Errorf("delete created rows: %w", err)
	}
	return nil
}
