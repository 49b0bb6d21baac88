package store_test

import (
	"context"
	"maps"
	"slices"
	"testing"

	"github.com/leadpipe/leadpipe/store"
	"github.com/leadpipe/leadpipe/store/storetest"
)

// TestEventCountersMigration: migration 0014 gives each import's latest event the import's
// counters, earlier events none; events recorded after it carry the counters they left.
func TestEventCountersMigration(t *testing.T) {
	pool := storetest.EmptyDatabase(t, "leadpipe_test_migrate_event_counters")
	ctx := context.Background()
	if _, err := store.MigrateUpTo(ctx, pool, 12); err != nil {
		t.Fatal(err)
	}
	var acct, id int64
	// Queued (event 1), then a batch (event 2): its counters are the import's.
	err := pool.QueryRow(ctx, `WITH a AS (INSERT INTO accounts (name) VALUES ('before') RETURNING id)
		INSERT INTO imports (account_id, source, file_name, file_path, file_size, file_sha256, status, counters)
		SELECT a.id, 'cli', 'f.csv', 'f.csv', 1, '', 'queued', '{"organizations_created": 0, "organizations_linked": 0}'
		FROM a RETURNING account_id, id`).Scan(&acct, &id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE imports SET checkpoint_row = 3, rows_done = 2, created = 2,
			counters = '{"organizations_created": 1, "organizations_linked": 2}' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if applied, err := store.Migrate(ctx, pool); err != nil || !slices.Contains(applied, 14) {
		t.Fatalf("migrations applied %v, %v; want 14 among them", applied, err)
	}
	if _, err := pool.Exec(ctx, `UPDATE imports SET checkpoint_row = 4, rows_done = 3, created = 3,
			counters = '{"organizations_created": 2, "organizations_linked": 2}' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}

	events, err := store.ImportEvents(ctx, pool, id, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []map[string]int{
		{},
		{"organizations_created": 1, "organizations_linked": 2},
		{"organizations_created": 2, "organizations_linked": 2},
	}
	if len(events) != len(want) {
		t.Fatalf("%d events, want %d: %+v", len(events), len(want), events)
	}
	for i, e := range events {
		if !maps.Equal(e.Counters, want[i]) {
			t.Errorf("event %d (%s) counters %v, want %v", e.Seq, e.Kind, e.Counters, want[i])
		}
	}
}
