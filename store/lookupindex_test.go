package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/kind"
	"github.com/leadpipe/leadpipe/kinds/prospects"
	"github.com/leadpipe/leadpipe/store"
	"github.com/leadpipe/leadpipe/store/storetest"
)

// TestLookupIndexLeftInvalidIsRebuilt: a CREATE INDEX CONCURRENTLY cut short (the daemon
// stopped, a SIGKILL) leaves an invalid index under the lookup index's name. IF NOT EXISTS
// alone would take it as built, and the account's lookups would never have their index.
func TestLookupIndexLeftInvalidIsRebuilt(t *testing.T) {
	pool := storetest.Pool(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	acct := storetest.Account(t, pool, -1)
	name := fmt.Sprintf("prospects_a%d_by_phone", acct.ID)
	// An index build that fails part-way, as one cut short does, leaves it invalid: two
	// prospects with one phone make a unique build fail.
	// Ids come from the block sequence, as imports' do: max(id)+1 could be an id of a block
	// another test's import holds and has not written yet.
	ids, err := store.NextIDs(ctx, pool, "prospect")
	if err != nil {
		t.Fatal(err)
	}
	for i, email := range []string{"a@invalid-index.example", "b@invalid-index.example"} {
		if _, err := pool.Exec(ctx, `INSERT INTO prospects (id, account_id, email, phone) VALUES ($4, $1, $2, $3)`,
			acct.ID, email, "555-0100", ids[i]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, fmt.Sprintf("CREATE UNIQUE INDEX CONCURRENTLY %s ON prospects (phone) WHERE account_id = %d", name, acct.ID)); err == nil {
		t.Fatal("the unique build over a duplicate phone succeeded; the test needs it to fail")
	}
	if valid(t, pool, name) {
		t.Fatal("the failed build left a valid index; the test needs an invalid one")
	}

	c, err := kind.Catalog(ctx, pool, prospects.Kind{}, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureLookupIndexes(ctx, pool, c, acct.ID, c.MustIndex("phone"), false); err != nil {
		t.Fatalf("EnsureLookupIndexes: %v", err)
	}
	if !valid(t, pool, name) {
		t.Errorf("%s is still invalid after EnsureLookupIndexes", name)
	}
}

// valid reports whether the index name exists and is valid.
func valid(t *testing.T, pool store.Querier, name string) bool {
	t.Helper()
	var ok bool
	err := pool.QueryRow(context.Background(), `SELECT coalesce((SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass($1)), false)`, name).Scan(&ok)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}
