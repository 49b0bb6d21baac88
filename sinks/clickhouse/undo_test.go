package chsink_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	chsink "github.com/leadpipe/leadpipe/sinks/clickhouse"
	"github.com/leadpipe/leadpipe/sinks/sinkstest"
)

// An undo's rows arrive under its own id, each naming the import it takes back and that
// import's row; its summary names the import and carries the undo's counters; the import's
// summary becomes undone, by the undo, when it completed; the undos query breaks them down. A
// replayed delivery changes none of it.
func TestUndoInClickHouse(t *testing.T) {
	f, ch := newFixture(t)
	im := sinkstest.Organizations(t, f.pool, f.acct)
	f.drain(t) // the import is analysed before its undo exists, as in a daemon
	undo, undone := sinkstest.OrganizationsUndo(t, f.pool, f.acct, im)
	f.drain(t)

	const rowsQuery = `SELECT concat(toString(row_number), ' ', toString(undo_of), ' ', toString(source_row), ' ', outcome,
		' ', reason, ' ', toString(entity_id)) FROM row_outcomes FINAL WHERE import_id = @id ORDER BY row_number`
	const summaryQuery = `SELECT concat(kind, ' ', status, ' ', toString(undo_of), ' ', toString(rows_done), ' ',
		toString(unchanged), ' ', arrayStringConcat(arrayMap((n, v) -> concat(n, '=', toString(v)), counters.name,
		counters.value), ','), ' ', toString(undone_by), ' ', if(undone_by = 0, '-', toString(undone_at, 'UTC')))
		FROM import_summaries FINAL WHERE import_id = @id`
	undoneAt := undone.UndoneAt.UTC().Format(time.DateTime)
	check := func(when string) {
		t.Helper()
		for _, c := range []struct {
			query string
			id    int64
			want  []string
		}{
			{rowsQuery, undo.ID, []string{
				fmt.Sprintf("1 %d 5 unchanged  9001", im.ID),
				fmt.Sprintf("2 %d 3 restored field_changed_since 9002", im.ID),
				fmt.Sprintf("3 %d 2 deleted  9001", im.ID),
			}},
			{rowsQuery, im.ID, []string{
				"2 0 0 created  9001",
				"3 0 0 updated  9002",
				"4 0 0 skipped missing_identifier 0",
				"5 0 0 unchanged  9001",
			}},
			{summaryQuery, undo.ID, []string{fmt.Sprintf(
				"organizations completed %d 3 1 deleted=1,fields_kept=1,kept_changed_since=0,restored=1 0 -", im.ID)}},
			{summaryQuery, im.ID, []string{fmt.Sprintf("organizations undone 0 4 1  %d %s", undo.ID, undoneAt)}},
		} {
			if got := importLines(t, ch, c.query, c.id); !slices.Equal(got, c.want) {
				t.Errorf("%s: import %d:\n%s\nwant:\n%s", when, c.id, strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		}
		since := time.Now().Add(-24 * time.Hour)
		checkQuery(t, ch, "undos", f.acct.Name, since, []string{"kind", "undos", "completed_undos", "rows", "deleted",
			"restored", "kept_changed_since", "unchanged", "fields_kept"},
			"organizations 1 1 3 1 1 0 1 1")
		// The undone import, without its undo, which is no import.
		checkQuery(t, ch, "imports_by_status", f.acct.Name, since, []string{"kind", "status", "imports", "total_rows"},
			"organizations undone 1 4")
	}
	check("delivered")

	// A crash after ClickHouse took the rows, before the cursors moved: all of it again.
	ctx := context.Background()
	for _, stmt := range []string{
		"DELETE FROM sink_cursors WHERE sink = $1 AND import_id = ANY($2)",
		`INSERT INTO sink_pending (sink, import_id, row_number, event_seq)
			SELECT $1, id, checkpoint_row, event_seq FROM imports WHERE id = ANY($2) ON CONFLICT DO NOTHING`,
	} {
		if _, err := f.pool.Exec(ctx, stmt, f.sink.Name(), []int64{im.ID, undo.ID}); err != nil {
			t.Fatal(err)
		}
	}
	f.drain(t)
	// The relay moves a cursor only once the sink took the delivery: the undo went again.
	var row, seq int
	if err := f.pool.QueryRow(ctx, "SELECT row_number, event_seq FROM sink_cursors WHERE sink = $1 AND import_id = $2",
		f.sink.Name(), undo.ID).Scan(&row, &seq); err != nil || row != 3 || seq != 3 {
		t.Fatalf("replay: the undo's cursor is at row %d, event %d (%v); want 3, 3", row, seq, err)
	}
	check("replayed")
}

// Rows written before undo existed read, after migration 3, as those of imports neither undos
// nor undone; the undos query finds none of them, the other queries read them as before.
// Applying the migration again changes nothing.
func TestUndoMigrationKeepsOldRowsReadable(t *testing.T) {
	ctx := context.Background()
	conn := oldSchema(t, 2)
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	insertRows(t, conn, "row_outcomes", "account, import_id, kind, row_number, outcome, reason, entity_id, warnings, source, file_name, at",
		[]any{"acme", uint64(7), "deals", uint32(2), "created", "", uint64(31), "", "cli", "old.csv", at})
	insertRows(t, conn, "import_summaries", `account, import_id, version, kind, source, file_name, status, rows_total,
		rows_done, created, counters.name, counters.value, created_at, started_at, finished_at, run_ms`,
		[]any{"acme", uint64(7), uint32(3), "deals", "cli", "old.csv", "completed", uint32(1), uint32(1), uint32(1),
			[]string{}, []uint64{}, at, at, at.Add(time.Second), uint64(1000)})

	check := func(when string) {
		t.Helper()
		if got, want := importLines(t, conn, `SELECT concat(toString(row_number), ' ', toString(undo_of), ' ', toString(source_row), ' ', outcome)
			FROM row_outcomes FINAL WHERE import_id = @id`, 7), []string{"2 0 0 created"}; !slices.Equal(got, want) {
			t.Errorf("%s: old rows read %q, want %q", when, got, want)
		}
		if got, want := importLines(t, conn, `SELECT concat(status, ' ', toString(undo_of), ' ', toString(undone_by), ' ',
			toString(toUnixTimestamp(undone_at))) FROM import_summaries FINAL WHERE import_id = @id`, 7),
			[]string{"completed 0 0 0"}; !slices.Equal(got, want) {
			t.Errorf("%s: old summary reads %q, want %q", when, got, want)
		}
		since := at.Add(-time.Hour)
		checkQuery(t, conn, "undos", "acme", since, []string{"day", "undos"})
		checkQuery(t, conn, "imports_by_status", "acme", since, []string{"kind", "status", "imports", "total_rows"}, "deals completed 1 1")
		checkQuery(t, conn, "outcomes_by_day", "acme", since, []string{"day", "kind", "total_rows", "created_rows"}, "2026-03-02 deals 1 1")
	}
	if applied, err := chsink.MigrateUpTo(ctx, conn, math.MaxInt); err != nil || !slices.Equal(applied, []int{3}) {
		t.Fatalf("migrating applied %v, %v; want 3", applied, err)
	}
	check("after the migration")
	if err := conn.Exec(ctx, "DROP TABLE schema_migrations"); err != nil {
		t.Fatal(err)
	}
	if applied, err := chsink.MigrateUpTo(ctx, conn, math.MaxInt); err != nil || !slices.Equal(applied, []int{1, 2, 3}) {
		t.Fatalf("migrating again applied %v, %v; want 1, 2 and 3", applied, err)
	}
	check("after the migration applied twice")
}
