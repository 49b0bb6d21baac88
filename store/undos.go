package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ErrNotUndoable is returned when an import cannot be undone now: it is still running, it is
// an undo itself, or it is undone or being undone. The error's message says which, and what to
// do.
var ErrNotUndoable = errors.New("import cannot be undone")

// Beginner starts a transaction: a pool, a connection, or a transaction (whose nested ones
// are savepoints).
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// CreateUndo records an undo of the import undo.UndoOf of the account undo.AccountID, started
// by undo.Source, counting undo.Counts.Counters from 0. The undo is of the import's kind, names
// the import's file (never read), and has as rows_total the rows it will take back (those the
// import created, updated or left unchanged). With leaseOwner set it starts running, leased to
// that owner (an undo run in the foreground); otherwise it is queued for the workers. It
// returns ErrNotFound when the account has no such import, and ErrNotUndoable when the import
// cannot be undone now.
//
// The import's row is locked while the undo is recorded, and the unique index imports_undo_of
// keeps a second undo from being queued beside one queued, running or completed.
func CreateUndo(ctx context.Context, db Beginner, undo Import, leaseOwner string, lease time.Duration) (Import, error) {
	var created Import
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		im, err := scanImport(tx.QueryRow(ctx, "SELECT "+importColumns+" FROM imports WHERE id = $1 AND account_id = $2 FOR UPDATE",
			undo.UndoOf, undo.AccountID))
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("import %d: %w", undo.UndoOf, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("undo import %d: %w", undo.UndoOf, err)
		}
		if err := undoable(ctx, tx, im); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM import_outcome_rows
				WHERE import_id = $1 AND outcome IN ('created', 'updated', 'unchanged'))
			+ (SELECT coalesce(sum(row_count), 0) FROM import_created_runs WHERE import_id = $1)
			+ (SELECT coalesce(sum(row_count), 0) FROM import_updated_runs WHERE import_id = $1)`, im.ID).Scan(&undo.RowsTotal); err != nil {
			return fmt.Errorf("undo import %d: %w", im.ID, err)
		}
		undo.Kind, undo.FileName, undo.FilePath, undo.FileSize, undo.FileSHA256, undo.Header =
			im.Kind, im.FileName, im.FilePath, im.FileSize, im.FileSHA256, im.Header
		created, err = CreateImport(ctx, tx, undo, leaseOwner, lease)
		return err
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.ConstraintName == "imports_undo_of" { // a concurrent undo won
		return Import{}, fmt.Errorf("%w: import %d is being undone already", ErrNotUndoable, undo.UndoOf)
	}
	return created, err
}

// undoable returns why the import im, locked by tx, cannot be undone now, or nil.
func undoable(ctx context.Context, tx pgx.Tx, im Import) error {
	switch {
	case im.UndoOf != 0:
		return fmt.Errorf("%w: import %d is the undo of import %d; an undo cannot be undone (import the file again instead)",
			ErrNotUndoable, im.ID, im.UndoOf)
	case im.Status == StatusUndone:
		return fmt.Errorf("%w: import %d was undone already, by undo %d at %s",
			ErrNotUndoable, im.ID, im.UndoneBy, im.UndoneAt.UTC().Format(time.RFC3339))
	case im.FinishedAt == nil && im.Status == StatusCancelled:
		return fmt.Errorf("%w: import %d is being cancelled; undo it once it has stopped (its status says when it has ended)",
			ErrNotUndoable, im.ID)
	case im.FinishedAt == nil:
		return fmt.Errorf("%w: import %d is %s; cancel it first (POST /v1/imports/%d/cancel, or leadpipe imports cancel %d), then undo it",
			ErrNotUndoable, im.ID, im.Status, im.ID, im.ID)
	}
	var id int64
	var status string
	err := tx.QueryRow(ctx, `SELECT id, status FROM imports WHERE undo_of = $1 AND status IN ('queued', 'running', 'completed')`,
		im.ID).Scan(&id, &status)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("undo import %d: %w", im.ID, err)
	}
	return fmt.Errorf("%w: import %d is being undone already, by undo %d (%s)", ErrNotUndoable, im.ID, id, status)
}

// UndoRow is a row of an import as an undo takes it back: what the import recorded of it.
type UndoRow struct {
	Row      int
	Outcome  string
	EntityID int64
	Undo     []byte // import_rows.undo, or nil
}

// UndoRows returns up to limit rows of an import that an undo takes back — those the import
// created, updated or left unchanged — numbered below the row before (0: from the last), last
// row first: its outcome rows merged with its runs, read in one statement.
func UndoRows(ctx context.Context, q Querier, importID int64, before, limit int) ([]UndoRow, error) {
	if before <= 0 {
		before = int(^uint32(0) >> 1)
	}
	rows, err := q.Query(ctx, `(SELECT row_number, outcome, coalesce(entity_id, 0), undo, NULL::int[], NULL::bigint[], NULL::json[]
		FROM import_outcome_rows
		WHERE import_id = $1 AND row_number < $2 AND outcome IN ('created', 'updated', 'unchanged')
		ORDER BY row_number DESC LIMIT $3)`+
		runsBefore(func(t runTable) string {
			undos := "NULL::json[]"
			if t.undos {
				undos = "undos"
			}
			return "first_row, '" + t.outcome + "', 0, NULL, row_numbers, entity_ids, " + undos
		}, "$1", "$2", "$3"),
		importID, before, limit)
	if err != nil {
		return nil, fmt.Errorf("rows of import %d to undo: %w", importID, err)
	}
	defer rows.Close()
	var (
		u    UndoRow
		run  outcomeRun
		runs readRuns
		list = make([]UndoRow, 0, limit)
	)
	for rows.Next() {
		u, run = UndoRow{}, outcomeRun{}
		if err := rows.Scan(&u.Row, &u.Outcome, &u.EntityID, &u.Undo, &run.rows, &run.entities, &run.undos); err != nil {
			return nil, fmt.Errorf("rows of import %d to undo: %w", importID, err)
		}
		if run.rows != nil {
			if run.table, err = tableOf([]byte(u.Outcome)); err != nil {
				return nil, fmt.Errorf("rows of import %d to undo: %w", importID, err)
			}
			runs = append(runs, run)
			continue
		}
		list = append(list, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("rows of import %d to undo: %w", importID, err)
	}
	slices.SortFunc(list, func(a, b UndoRow) int { return b.Row - a.Row }) // UNION ALL promises no order
	return mergeRuns(list, func(u *UndoRow) int { return u.Row }, runs.rowsBefore(before),
		func(r runRow) UndoRow {
			return UndoRow{Row: r.row, Outcome: r.outcome, EntityID: r.entityID, Undo: r.undo}
		}, func(a, b int) bool { return a > b }, limit), nil
}

// LatestUndos returns the latest undo (queued, running or ended) of each of the account's
// imports ids that has one, by the id of the import it undoes.
func LatestUndos(ctx context.Context, q Querier, accountID int64, ids []int64) (map[int64]Import, error) {
	out := map[int64]Import{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := q.Query(ctx, "SELECT DISTINCT ON (undo_of) "+importColumns+` FROM imports
		WHERE account_id = $1 AND undo_of = ANY($2) ORDER BY undo_of, id DESC`, accountID, ids)
	if err != nil {
		return nil, fmt.Errorf("undos of imports: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Import, error) { return scanImport(r) })
	if err != nil {
		return nil, fmt.Errorf("undos of imports: %w", err)
	}
	for _, undo := range list {
		out[undo.UndoOf] = undo
	}
	return out, nil
}
