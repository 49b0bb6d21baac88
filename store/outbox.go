package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// RowOutcome is one row's committed outcome as sinks deliver it.
type RowOutcome struct {
	ImportID int64           `json:"import_id"`
	Row      int             `json:"row_number"`
	Outcome  string          `json:"outcome"`
	Reason   string          `json:"reason,omitempty"`
	Detail   string          `json:"detail,omitempty"`
	EntityID int64           `json:"entity_id,omitempty"` // the record of the import's kind the row created or matched
	Warnings json.RawMessage `json:"warnings,omitempty"`
	// SourceRow is, on an undo's row, the row of the undone import it took back; 0 otherwise.
	SourceRow int `json:"source_row,omitempty"`
}

// ImportEvent is one change of an import's lifecycle (queued, started, progress, completed,
// failed, cancelled; undone when an undo of it completed) with the import's state as the change
// left it. Seq numbers an import's events from 1 in commit order.
type ImportEvent struct {
	ImportID  int64     `json:"import_id"`
	Seq       int       `json:"seq"`
	Kind      string    `json:"event"`
	At        time.Time `json:"at"`
	Status    string    `json:"status"`
	RowsDone  int       `json:"rows_done"`
	RowsTotal int       `json:"rows_total,omitempty"`
	Created   int       `json:"created"`
	Updated   int       `json:"updated"`
	Unchanged int       `json:"unchanged"`
	Skipped   int       `json:"skipped"`
	// Counters are the import's named counters (Counts.Counters) as the event left them; empty
	// for most events recorded before they were kept (migration 0014).
	Counters map[string]int `json:"counters"`
	Error    string         `json:"error,omitempty"`
}

// SinkCursor is how far a sink has delivered one import: its row outcomes up to Row and its
// events up to EventSeq.
type SinkCursor struct {
	Row      int
	EventSeq int
}

// Undelivered is an import with outcomes or events that a sink has not delivered yet.
type Undelivered struct {
	Import  Import
	Account string
	Cursor  SinkCursor
}

// RegisterSink makes the triggers mark imports pending for sink from now on and, the first
// time, marks pending every import with outcomes or events past sink's cursors: a new sink
// starts at the beginning. A relay calls it before its first poll.
func RegisterSink(ctx context.Context, q Querier, sink string) error {
	if _, err := q.Exec(ctx, "SELECT sink_register($1)", sink); err != nil {
		return fmt.Errorf("register sink %s: %w", sink, err)
	}
	return nil
}

// UndeliveredImports returns up to limit imports pending for sink (sink_pending), oldest
// first: those with row outcomes or events committed past its cursor, and some it has since
// delivered, which AdvanceSinkCursor then clears. It reads only the pending imports.
func UndeliveredImports(ctx context.Context, q Querier, sink string, limit int) ([]Undelivered, error) {
	rows, err := q.Query(ctx, `SELECT `+importColumns+`, account_name, cursor_row, cursor_seq FROM (
			SELECT i.*, a.name AS account_name, coalesce(c.row_number, 0) AS cursor_row,
				coalesce(c.event_seq, 0) AS cursor_seq
			FROM sink_pending p
			JOIN imports i ON i.id = p.import_id
			JOIN accounts a ON a.id = i.account_id
			LEFT JOIN sink_cursors c ON c.sink = p.sink AND c.import_id = p.import_id
			WHERE p.sink = $1
			ORDER BY p.import_id LIMIT $2) pending ORDER BY id`, sink, limit)
	if err != nil {
		return nil, fmt.Errorf("undelivered imports for %s: %w", sink, err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Undelivered, error) {
		var u Undelivered
		var err error
		u.Import, err = scanImport(r, &u.Account, &u.Cursor.Row, &u.Cursor.EventSeq)
		return u, err
	})
	if err != nil {
		return nil, fmt.Errorf("undelivered imports for %s: %w", sink, err)
	}
	return list, nil
}

// UndeliveredCount returns how many committed row outcomes and events sink has not delivered:
// its backlog. It reads only the imports pending for sink.
func UndeliveredCount(ctx context.Context, q Querier, sink string) (rows, events int64, err error) {
	err = q.QueryRow(ctx, `SELECT coalesce(sum(greatest(i.checkpoint_row - coalesce(c.row_number, 0), 0)), 0),
			coalesce(sum(greatest(i.event_seq - coalesce(c.event_seq, 0), 0)), 0)
		FROM sink_pending p
		JOIN imports i ON i.id = p.import_id
		LEFT JOIN sink_cursors c ON c.sink = p.sink AND c.import_id = p.import_id
		WHERE p.sink = $1`, sink).
		Scan(&rows, &events)
	if err != nil {
		return 0, 0, fmt.Errorf("backlog of %s: %w", sink, err)
	}
	return rows, events, nil
}

// RowOutcomes returns up to limit row outcomes of an import after row number after, in row
// order: its outcome rows merged with its runs, read in one statement. A row's text columns
// share one allocation (copyText): the relays read every outcome of every import, each for its
// sink.
func RowOutcomes(ctx context.Context, q Querier, importID int64, after, limit int) ([]RowOutcome, error) {
	rows, err := q.Query(ctx, `(SELECT row_number, coalesce(entity_id, 0), warnings, coalesce(source_row, 0),
			NULL::int[], NULL::bigint[], outcome, coalesce(reason, ''), coalesce(detail, '')
		FROM import_outcome_rows WHERE import_id = $1 AND row_number > $2 ORDER BY row_number LIMIT $3)`+
		runsAfter(func(t runTable) string {
			return "first_row, 0, NULL, 0, row_numbers, entity_ids, '" + t.outcome + "', '', ''"
		}, "$1", "$2", "$3"),
		importID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("row outcomes of import %d: %w", importID, err)
	}
	defer rows.Close()
	const firstText = 6 // outcome, reason, detail
	var (
		o        = RowOutcome{ImportID: importID}
		warnings []byte
		run      outcomeRun
		runs     readRuns
		text     [3]string
		dest     = []any{&o.Row, &o.EntityID, &warnings, &o.SourceRow, &run.rows, &run.entities, nil, nil, nil}
		list     []RowOutcome // the outcomes read as rows; those of runs are merged in after
		checked  bool
	)
	for rows.Next() {
		if !checked {
			for _, fd := range rows.FieldDescriptions()[firstText:] {
				if fd.DataTypeOID != pgtype.TextOID {
					return nil, fmt.Errorf("row outcomes of import %d: column %s is of type %d, not text", importID, fd.Name, fd.DataTypeOID)
				}
			}
			checked = true
		}
		warnings, run = nil, outcomeRun{}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("row outcomes of import %d: %w", importID, err)
		}
		if run.rows != nil {
			if run.table, err = tableOf(rows.RawValues()[firstText]); err != nil {
				return nil, fmt.Errorf("row outcomes of import %d: %w", importID, err)
			}
			runs = append(runs, run)
			continue
		}
		copyText(text[:], rows.RawValues()[firstText:])
		o.Outcome, o.Reason, o.Detail, o.Warnings = text[0], text[1], text[2], nil
		if len(warnings) > 0 {
			o.Warnings = warnings
		}
		list = append(list, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("row outcomes of import %d: %w", importID, err)
	}
	slices.SortFunc(list, func(a, b RowOutcome) int { return a.Row - b.Row }) // UNION ALL promises no order
	return mergeRuns(list, func(o *RowOutcome) int { return o.Row }, runs.rowsAfter(after),
		func(r runRow) RowOutcome {
			return RowOutcome{ImportID: importID, Row: r.row, Outcome: r.outcome, EntityID: r.entityID}
		}, func(a, b int) bool { return a < b }, limit), nil
}

// ImportEvents returns an import's events after seq after, in order.
func ImportEvents(ctx context.Context, q Querier, importID int64, after int) ([]ImportEvent, error) {
	rows, err := q.Query(ctx, `SELECT import_id, seq, kind, at, status, rows_done, coalesce(rows_total, 0),
			created, updated, unchanged, skipped, counters, coalesce(error, '')
		FROM import_events WHERE import_id = $1 AND seq > $2 ORDER BY seq`, importID, after)
	if err != nil {
		return nil, fmt.Errorf("events of import %d: %w", importID, err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ImportEvent, error) {
		var e ImportEvent
		err := r.Scan(&e.ImportID, &e.Seq, &e.Kind, &e.At, &e.Status, &e.RowsDone, &e.RowsTotal,
			&e.Created, &e.Updated, &e.Unchanged, &e.Skipped, &e.Counters, &e.Error)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("events of import %d: %w", importID, err)
	}
	return list, nil
}

// AdvanceSinkCursor records that sink has delivered an import up to c, and, in the same
// statement, clears the import's pending row if the cursor covers what it says was committed.
// A cursor never moves back.
func AdvanceSinkCursor(ctx context.Context, q Querier, sink string, importID int64, c SinkCursor) error {
	_, err := q.Exec(ctx, `WITH cursor AS (
			INSERT INTO sink_cursors (sink, import_id, row_number, event_seq) VALUES ($1, $2, $3, $4)
			ON CONFLICT (sink, import_id) DO UPDATE SET
				row_number = greatest(sink_cursors.row_number, excluded.row_number),
				event_seq = greatest(sink_cursors.event_seq, excluded.event_seq)
			RETURNING row_number, event_seq)
		DELETE FROM sink_pending p USING cursor c
		WHERE p.sink = $1 AND p.import_id = $2 AND p.row_number <= c.row_number AND p.event_seq <= c.event_seq`,
		sink, importID, c.Row, c.EventSeq)
	if err != nil {
		return fmt.Errorf("advance %s cursor of import %d: %w", sink, importID, err)
	}
	return nil
}
