package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/leadpipe/leadpipe/store"
	"github.com/leadpipe/leadpipe/store/storetest"
)

// TestPendingMigrationMovesExistingData: migration 0008 registers the sinks that delivered
// before it, and marks pending for each the imports it had not delivered whole, and only those.
func TestPendingMigrationMovesExistingData(t *testing.T) {
	pool := storetest.EmptyDatabase(t, "leadpipe_test_migrate_pending")
	ctx := context.Background()
	if _, err := store.MigrateUpTo(ctx, pool, 7); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	err := pool.QueryRow(ctx, `WITH a AS (INSERT INTO accounts (name) VALUES ('before') RETURNING id),
			i AS (INSERT INTO imports (account_id, source, file_name, file_path, file_size, file_sha256, status, checkpoint_row)
				SELECT a.id, 'cli', 'f.csv', 'f.csv', 1, '', 'completed', 10 FROM a, generate_series(1, 4) RETURNING id)
		SELECT array_agg(id ORDER BY id) FROM i`).Scan(&ids)
	if err != nil {
		t.Fatal(err)
	}
	// Each import has one event (its insert's). kafka delivered the first whole, the second's
	// rows in part, the third's rows but not its event, and nothing of the fourth; clickhouse
	// delivered everything.
	_, err = pool.Exec(ctx, `INSERT INTO sink_cursors (sink, import_id, row_number, event_seq) VALUES
			('kafka', $1, 10, 1), ('kafka', $2, 5, 1), ('kafka', $3, 10, 0),
			('clickhouse', $1, 10, 1), ('clickhouse', $2, 10, 1), ('clickhouse', $3, 10, 1), ('clickhouse', $4, 10, 1)`,
		ids[0], ids[1], ids[2], ids[3])
	if err != nil {
		t.Fatal(err)
	}
	if applied, err := store.Migrate(ctx, pool); err != nil || !slices.Contains(applied, 8) {
		t.Fatalf("migrations applied %v, %v; want 8 among them", applied, err)
	}

	rows, err := pool.Query(ctx, "SELECT name FROM sinks ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	if sinks, err := pgx.CollectRows(rows, pgx.RowTo[string]); err != nil || !slices.Equal(sinks, []string{"clickhouse", "kafka"}) {
		t.Errorf("sinks %v, %v; want clickhouse and kafka", sinks, err)
	}
	rows, err = pool.Query(ctx, "SELECT format('%s %s %s %s', sink, import_id, row_number, event_seq) FROM sink_pending ORDER BY sink, import_id")
	if err != nil {
		t.Fatal(err)
	}
	pending, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, id := range ids[1:] {
		want = append(want, fmt.Sprintf("kafka %d 10 1", id))
	}
	if !slices.Equal(pending, want) {
		t.Errorf("pending after the migration %q, want %q", pending, want)
	}
}

// RowOutcomes reads every column of each row as it was recorded: entity, reason and detail
// (non-ASCII and empty ones too), warnings, an undo's source row; NULLs as zero values.
func TestRowOutcomesReadsEveryColumn(t *testing.T) {
	pool := storetest.Pool(t)
	ctx := context.Background()
	acct := storetest.Account(t, pool, -1)
	var id int64
	if err := pool.QueryRow(ctx, `INSERT INTO imports (account_id, source, file_name, file_path, file_size, file_sha256, status)
		VALUES ($1, 'cli', 'f.csv', 'f.csv', 1, '', 'completed') RETURNING id`, acct.ID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO import_outcome_rows (import_id, row_number, outcome, reason, detail, entity_id, warnings, source_row) VALUES
			($1, 2, 'created', NULL, NULL, 1001, NULL, NULL),
			($1, 3, 'skipped', 'invalid_email', '"ann@" is not an email — ligne 3', NULL, NULL, NULL),
			($1, 4, 'updated', '', '', 1002, '[{"field": "phone", "kind": "value_too_long"}]', NULL),
			($1, 5, 'restored', NULL, NULL, 1003, '[]', 14)`, id); err != nil {
		t.Fatal(err)
	}
	got, err := store.RowOutcomes(ctx, pool, id, 2, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`{3 skipped invalid_email "ann@" is not an email — ligne 3 0  0}`,
		`{4 updated   1002 [{"kind": "value_too_long", "field": "phone"}] 0}`, // as jsonb orders keys
		`{5 restored   1003 [] 14}`,
	}
	if len(got) != len(want) {
		t.Fatalf("%d row outcomes after row 2, want %d: %+v", len(got), len(want), got)
	}
	for i, o := range got {
		if o.ImportID != id {
			t.Errorf("row %d: import %d, want %d", o.Row, o.ImportID, id)
		}
		if s := fmt.Sprintf("{%d %s %s %s %d %s %d}", o.Row, o.Outcome, o.Reason, o.Detail, o.EntityID, o.Warnings, o.SourceRow); s != want[i] {
			t.Errorf("row outcome %s, want %s", s, want[i])
		}
	}
}
