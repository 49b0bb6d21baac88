package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/leadpipe/leadpipe/kind"
	"github.com/leadpipe/leadpipe/kinds/prospects"
	"github.com/leadpipe/leadpipe/store"
	"github.com/leadpipe/leadpipe/store/storetest"
)

// TestLookupIndexLeftInvalidIsRebuilt: a CREATE INDEX CONCURRENTLY cut short (the daemon
// stopped, a SIGKILL) leaves an invalid index under the name of the group's next index; or
// the group's index may be gone. IF NOT EXISTS alone would take an invalid one as built, and
// the account's lookups would never have their index.
func TestLookupIndexLeftInvalidIsRebuilt(t *testing.T) {
	pool := storetest.Pool(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	acct := storetest.Account(t, pool, -1)
	c, err := kind.Catalog(ctx, pool, prospects.Kind{}, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureLookupIndexes(ctx, pool, c, acct.ID, c.MustIndex("phone"), false); err != nil {
		t.Fatalf("EnsureLookupIndexes: %v", err)
	}
	name := lookupIndexOf(t, pool, "prospects", "by_phone", acct.ID)
	if !valid(t, pool, name) {
		t.Fatalf("%s is not valid after EnsureLookupIndexes", name)
	}
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
	if _, err := pool.Exec(ctx, "DROP INDEX CONCURRENTLY "+name); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, fmt.Sprintf("CREATE UNIQUE INDEX CONCURRENTLY %s ON prospects (phone) WHERE account_id = %d", name, acct.ID)); err == nil {
		t.Fatal("the unique build over a duplicate phone succeeded; the test needs it to fail")
	}
	if valid(t, pool, name) {
		t.Fatal("the failed build left a valid index; the test needs an invalid one")
	}
	if err := store.EnsureLookupIndexes(ctx, pool, c, acct.ID, c.MustIndex("phone"), false); err != nil {
		t.Fatalf("EnsureLookupIndexes: %v", err)
	}
	if !valid(t, pool, lookupIndexOf(t, pool, "prospects", "by_phone", acct.ID)) {
		t.Errorf("%s is still invalid after EnsureLookupIndexes", name)
	}
}

// TestLookupIndexGroups: accounts share a lookup index up to the group size, each joining
// rebuilds it under a new name and drops the old, the next account starts a group, and a
// lookup of each account probes its group's index.
func TestLookupIndexGroups(t *testing.T) {
	pool := storetest.Pool(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	saved := store.LookupIndexGroupSize
	store.LookupIndexGroupSize = 3
	defer func() { store.LookupIndexGroupSize = saved }()
	var names []string
	var accounts []int64
	t.Cleanup(func() {
		rows, err := pool.Query(context.Background(), "DELETE FROM lookup_indexes WHERE account_ids && $1 RETURNING index_name", accounts)
		if err != nil {
			t.Error(err)
			return
		}
		gone, _ := pgx.CollectRows(rows, pgx.RowTo[string])
		for _, name := range gone {
			pool.Exec(context.Background(), "DROP INDEX CONCURRENTLY IF EXISTS "+name) //nolint:errcheck
		}
	})
	for range 4 {
		acct := storetest.Account(t, pool, -1)
		c, err := kind.Catalog(ctx, pool, prospects.Kind{}, acct.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := store.EnsureLookupIndexes(ctx, pool, c, acct.ID, c.MustIndex("phone"), false); err != nil {
			t.Fatal(err)
		}
		accounts = append(accounts, acct.ID)
		names = append(names, lookupIndexOf(t, pool, "prospects", "by_phone", acct.ID))
		st := store.ProspectLookups(c, acct.ID, store.ProspectLookup{UniqueField: c.MustIndex("phone"), UniqueValues: []string{"555-0100"}})
		for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
			if plan := explain(t, ctx, pool, mode, st[0]).String(); !strings.Contains(plan, names[len(names)-1]) {
				t.Errorf("account %d's lookup by phone (%s) does not probe %s:\n%s", acct.ID, mode, names[len(names)-1], plan)
			}
		}
	}
	var now []string // each account's index once all four joined
	for _, a := range accounts {
		now = append(now, lookupIndexOf(t, pool, "prospects", "by_phone", a))
	}
	if now[0] != names[2] || now[1] != names[2] || now[2] != names[2] || now[3] == names[2] {
		t.Errorf("the accounts' indexes %q; want the third's index (%s) for the first three and another for the fourth", now, names[2])
	}
	for _, old := range names[:2] {
		if old == names[2] || valid(t, pool, old) {
			t.Errorf("the group's index %s, left behind as it grew (to %s)", old, names[2])
		}
	}
	var accountsOf []int64
	if err := pool.QueryRow(ctx, "SELECT account_ids FROM lookup_indexes WHERE index_name = $1", names[2]).Scan(&accountsOf); err != nil ||
		!slices.Equal(accountsOf, accounts[:3]) {
		t.Errorf("the group of %s: %v (%v), want %v", names[2], accountsOf, err, accounts[:3])
	}
}

// lookupIndexOf returns the name of the index that serves the account's lookup of table.
func lookupIndexOf(t *testing.T, q store.Querier, table, lookup string, accountID int64) string {
	t.Helper()
	name, err := store.LookupIndexOf(context.Background(), q, table, lookup, accountID)
	if err != nil || name == "" {
		t.Fatalf("the lookup index %s %s of account %d: %q, %v", table, lookup, accountID, name, err)
	}
	return name
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

// TestLookupIndexJoinsAtOnce: accounts joining one lookup at once all end covered. (With
// pg_advisory_lock, a join waiting for the lock held a snapshot that the holder's concurrent
// build waited for, and Postgres ended one of them in a deadlock.)
func TestLookupIndexJoinsAtOnce(t *testing.T) {
	pool := storetest.Pool(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const n = 4
	errs := make(chan error, n)
	var accounts []int64
	for range n {
		acct := storetest.Account(t, pool, -1)
		accounts = append(accounts, acct.ID)
		c, err := kind.Catalog(ctx, pool, prospects.Kind{}, acct.ID)
		if err != nil {
			t.Fatal(err)
		}
		go func() { errs <- store.EnsureLookupIndexes(ctx, pool, c, acct.ID, c.MustIndex("phone"), true) }()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("EnsureLookupIndexes: %v", err)
		}
	}
	for _, a := range accounts {
		for _, lookup := range []string{"by_phone", "name"} {
			if name := lookupIndexOf(t, pool, "prospects", lookup, a); !valid(t, pool, name) {
				t.Errorf("account %d: %s is not valid", a, name)
			}
		}
	}
}

// TestLookupIndexOrphansDropped: an index of a lookup's groups that the registry does not
// name (a join cut short after its build, or before dropping the old index) is dropped by the
// next join, as it would cost every insert its predicate for nothing.
func TestLookupIndexOrphansDropped(t *testing.T) {
	pool := storetest.Pool(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	orphan := "prospects_by_mobile_g999999999_7"
	if _, err := pool.Exec(ctx, "CREATE INDEX CONCURRENTLY "+orphan+" ON prospects (mobile) WHERE account_id = 0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Exec(context.Background(), "DROP INDEX CONCURRENTLY IF EXISTS "+orphan) }) //nolint:errcheck
	acct := storetest.Account(t, pool, -1)
	c, err := kind.Catalog(ctx, pool, prospects.Kind{}, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureLookupIndexes(ctx, pool, c, acct.ID, c.MustIndex("mobile"), false); err != nil {
		t.Fatal(err)
	}
	var left bool
	if err := pool.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", orphan).Scan(&left); err != nil || left {
		t.Errorf("the orphan %s is left (%v)", orphan, err)
	}
	if !valid(t, pool, lookupIndexOf(t, pool, "prospects", "by_mobile", acct.ID)) {
		t.Error("the account's index by mobile is not valid")
	}
}
