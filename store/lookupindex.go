package store

import (
	"context"
	"fmt"
	"hash/crc32"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// # Lookup indexes by group of accounts
//
// A lookup by a unique identifier or by name needs an index of the account's records that have
// that value (EnsureLookupIndexes). One index per account costs every other account's inserts
// a check of its predicate (about 25 ns per index and row: 2.5 µs a row with a hundred such
// accounts). So one index serves a group of up to LookupIndexGroupSize accounts, its predicate
// listing them (`account_id IN (…) AND phone IS NOT NULL`): inserting 300,000 rows of another
// account took 1.70–1.78 s beside 100 per-account indexes, 1.33–1.64 s beside one index of the
// same 100 accounts, 1.08–1.20 s with neither. The table lookup_indexes records each group's
// accounts and index.
//
// An account joins a group by rebuilding its index: CREATE INDEX CONCURRENTLY of the longer
// list under a new name, then the registry row, then DROP INDEX CONCURRENTLY of the old one,
// all under an advisory lock per table, held by one connection outside any
// transaction (a transaction would make the build wait for it). So two imports joining at
// once cannot lose each other's account. One cut short leaves an index the registry does not
// name (the new one, or the old), which the next join drops first; group numbers come from a
// sequence, so a name is never used twice.

// LookupIndexGroupSize is how many accounts one lookup index serves, at most 100: Postgres
// proves that a lookup's `account_id = 7` implies an index predicate's list of accounts only up
// to 100 elements. storetest sets it to 1, so that a test account's index is its own to drop.
var LookupIndexGroupSize = 100

// lookupIndex is a lookup index a kind's lookups need: of table, for the lookup named lookup
// (by_<field key>, or nameLookup), on columns then account_id, of the rows where cond holds.
type lookupIndex struct{ table, lookup, columns, cond string }

// nameLookup names the lookup of prospects by name: no field's lookup can be named so, as
// each is by_<field key> (a custom field may be keyed name).
const nameLookup = "name"

// lookupGroup is a row of lookup_indexes.
type lookupGroup struct {
	grp      int
	index    string
	accounts []int64
	capacity int
}

// ensureIndexes makes sure each of indexes covers the account: the account is in a group of
// it whose index is built.
func ensureIndexes(ctx context.Context, q Querier, accountID int64, indexes []lookupIndex) error {
	for _, ix := range indexes {
		covered, err := ix.covers(ctx, q, accountID)
		if err != nil {
			return err
		}
		if !covered {
			if err := ix.join(ctx, q, accountID, LookupIndexGroupSize); err != nil {
				return err
			}
		}
	}
	return nil
}

// covers reports whether the account is in a group of ix whose index is valid.
func (ix lookupIndex) covers(ctx context.Context, q Querier, accountID int64) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM lookup_indexes l JOIN pg_index i ON i.indexrelid = to_regclass(quote_ident(l.index_name))
		WHERE l.table_name = $1 AND l.lookup = $2 AND $3 = ANY (l.account_ids) AND i.indisvalid)`, ix.table, ix.lookup, accountID).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("lookup index %s %s: %w", ix.table, ix.lookup, err)
	}
	return ok, nil
}

// join puts the account in a group of ix of at most size accounts (a new one when every
// group is full) and builds the group's index again (see above).
func (ix lookupIndex) join(ctx context.Context, q Querier, accountID int64, size int) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("lookup index %s %s: %w", ix.table, ix.lookup, err)
		}
	}()
	conn, release, err := session(ctx, q)
	if err != nil {
		return err
	}
	defer release()
	// One lock per table, not per lookup: two concurrent builds (or drops) on one table can end
	// in a deadlock, the second waiting for the table while the first waits for its snapshot.
	key := "lookup index " + ix.table
	if err := advisoryLock(ctx, conn, key); err != nil {
		return err
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(hashtext($1))", key) //nolint:errcheck // the session's end releases it too
	if covered, err := ix.covers(ctx, conn, accountID); err != nil || covered {
		return err // another import joined it meanwhile
	}
	if err := ix.dropOrphans(ctx, conn); err != nil {
		return err
	}
	rows, err := conn.Query(ctx, `SELECT grp, index_name, account_ids, capacity FROM lookup_indexes
		WHERE table_name = $1 AND lookup = $2 ORDER BY grp`, ix.table, ix.lookup)
	if err != nil {
		return err
	}
	groups, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (g lookupGroup, err error) {
		return g, r.Scan(&g.grp, &g.index, &g.accounts, &g.capacity)
	})
	if err != nil {
		return err
	}
	g, old := pickGroup(groups, accountID, size)
	if g.grp == 0 {
		if err := conn.QueryRow(ctx, "SELECT nextval('lookup_index_groups')").Scan(&g.grp); err != nil {
			return err
		}
	}
	name := ix.indexName(g.grp, len(g.accounts))
	// A build cut short leaves an invalid index under its name; nobody else builds this one.
	if _, err := conn.Exec(ctx, "DROP INDEX CONCURRENTLY IF EXISTS "+pgx.Identifier{name}.Sanitize()); err != nil {
		return err
	}
	list := make([]string, len(g.accounts))
	for i, a := range g.accounts {
		list[i] = strconv.FormatInt(a, 10)
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE INDEX CONCURRENTLY %s ON %s (%s, account_id) WHERE account_id IN (%s) AND %s",
		pgx.Identifier{name}.Sanitize(), ix.table, ix.columns, strings.Join(list, ", "), ix.cond)); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, `INSERT INTO lookup_indexes (table_name, lookup, grp, index_name, account_ids, capacity)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (table_name, lookup, grp) DO UPDATE SET index_name = EXCLUDED.index_name, account_ids = EXCLUDED.account_ids`,
		ix.table, ix.lookup, g.grp, name, g.accounts, g.capacity); err != nil {
		return err
	}
	if old != "" && old != name {
		// The account is covered now: an old index this fails to drop is an orphan, which the
		// next join drops.
		_, _ = conn.Exec(ctx, "DROP INDEX CONCURRENTLY IF EXISTS "+pgx.Identifier{old}.Sanitize())
	}
	return nil
}

// advisoryLock takes the session's advisory lock of key, trying again every 100 ms rather
// than waiting in pg_advisory_lock: a session waiting in a statement holds a snapshot, which
// the holder's CREATE INDEX CONCURRENTLY waits for, and Postgres would end the two in a
// deadlock.
func advisoryLock(ctx context.Context, conn Querier, key string) error {
	for {
		var ok bool
		if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock(hashtext($1))", key).Scan(&ok); err != nil || ok {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// dropOrphans drops the indexes of ix's groups that the registry does not name: an old one a
// join was cut short before dropping, or a new one cut short before the registry named it.
// The caller holds the lookup's lock, so none of them is being built.
func (ix lookupIndex) dropOrphans(ctx context.Context, conn Querier) error {
	rows, err := conn.Query(ctx, `SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1
		AND indexname ~ ('^' || $2 || 'g[0-9]+_[0-9]+$')
		AND indexname NOT IN (SELECT index_name FROM lookup_indexes WHERE table_name = $1 AND lookup = $3)`,
		ix.table, ix.namePrefix(), ix.lookup)
	if err != nil {
		return err
	}
	orphans, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, name := range orphans {
		if _, err := conn.Exec(ctx, "DROP INDEX CONCURRENTLY IF EXISTS "+pgx.Identifier{name}.Sanitize()); err != nil {
			return err
		}
	}
	return nil
}

// pickGroup returns the group the account joins, with the account in it, and the index the
// group had: the group that lists it already (its index lost to a build cut short), else the
// first of capacity size with room, else a new one (grp 0: its number is still to take).
func pickGroup(groups []lookupGroup, accountID int64, size int) (lookupGroup, string) {
	for _, g := range groups {
		if slices.Contains(g.accounts, accountID) {
			return g, g.index
		}
	}
	for _, g := range groups {
		if g.capacity == size && len(g.accounts) < size {
			old := g.index
			g.accounts = append(slices.Clip(g.accounts), accountID)
			return g, old
		}
	}
	return lookupGroup{accounts: []int64{accountID}, capacity: size}, ""
}

// indexName names the index of group grp of ix when it holds n accounts: a new name for each
// list, so that the old index serves until the new one is built.
func (ix lookupIndex) indexName(grp, n int) string {
	return fmt.Sprintf("%sg%d_%d", ix.namePrefix(), grp, n)
}

// namePrefix is what the names of ix's indexes start with: table_lookup_, or for a long field
// key, a hash of it (Postgres's names end at 63 bytes; a group number and a count follow).
func (ix lookupIndex) namePrefix() string {
	if p := ix.table + "_" + ix.lookup + "_"; len(p) <= 40 {
		return p
	}
	return fmt.Sprintf("%s_lookup%08x_", ix.table, crc32.ChecksumIEEE([]byte(ix.lookup)))
}

// session returns one connection of q's, for statements that must share a session (an advisory
// lock, then statements outside any transaction), and how to give it back.
func session(ctx context.Context, q Querier) (Querier, func(), error) {
	switch x := q.(type) {
	case *pgxpool.Pool:
		c, err := x.Acquire(ctx)
		if err != nil {
			return nil, nil, err
		}
		return c, c.Release, nil
	case *pgxpool.Conn, *pgx.Conn:
		return q, func() {}, nil
	}
	return nil, nil, fmt.Errorf("a %T holds no session", q)
}

// LookupIndexOf returns the name of the index of table that serves the account's lookup
// (by_<field key>, or name for prospects by name), or "" when none does.
func LookupIndexOf(ctx context.Context, q Querier, table, lookup string, accountID int64) (string, error) {
	var name string
	err := q.QueryRow(ctx, `SELECT index_name FROM lookup_indexes WHERE table_name = $1 AND lookup = $2 AND $3 = ANY (account_ids)`,
		table, lookup, accountID).Scan(&name)
	if err == pgx.ErrNoRows {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("lookup index %s %s: %w", table, lookup, err)
	}
	return name, nil
}
