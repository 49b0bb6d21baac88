package store

import (
	"context"
	"fmt"
	"hash/crc32"
	"slices"
	"strconv"
	"strings"

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
// all under an advisory lock per table and lookup, held by one connection outside any
// transaction (a transaction would make the build wait for it). So two imports joining at
// once cannot lose each other's account; one cut short leaves the old index in the registry,
// and its next join first drops whatever the cut-short build left under the new name.

// LookupIndexGroupSize is how many accounts one lookup index serves, at most 100: Postgres
// proves that a lookup's `account_id = 7` implies an index predicate's list of accounts only up
// to 100 elements. storetest sets it to 1, so that a test account's index is its own to drop.
var LookupIndexGroupSize = 100

// lookupIndex is a lookup index a kind's lookups need: of table, for the lookup named lookup
// (by_<field key>, by_name), on columns then account_id, of the rows where cond holds.
type lookupIndex struct{ table, lookup, columns, cond string }

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
	key := "lookup index " + ix.table + " " + ix.lookup
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(hashtext($1))", key); err != nil {
		return err
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(hashtext($1))", key) //nolint:errcheck // the session's end releases it too
	if covered, err := ix.covers(ctx, conn, accountID); err != nil || covered {
		return err // another import joined it meanwhile
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
		if _, err := conn.Exec(ctx, "DROP INDEX CONCURRENTLY IF EXISTS "+pgx.Identifier{old}.Sanitize()); err != nil {
			return err
		}
	}
	return nil
}

// pickGroup returns the group the account joins, with the account in it, and the index the
// group had: the group that lists it already (its index lost to a build cut short), else the
// first with room under its capacity, else a new one of capacity size.
func pickGroup(groups []lookupGroup, accountID int64, size int) (lookupGroup, string) {
	for _, g := range groups {
		if slices.Contains(g.accounts, accountID) {
			return g, g.index
		}
	}
	for _, g := range groups {
		if len(g.accounts) < g.capacity {
			old := g.index
			g.accounts = append(slices.Clip(g.accounts), accountID)
			return g, old
		}
	}
	next := 1
	if n := len(groups); n > 0 {
		next = groups[n-1].grp + 1
	}
	return lookupGroup{grp: next, accounts: []int64{accountID}, capacity: size}, ""
}

// indexName names the index of group grp of ix when it holds n accounts: a new name for each
// list, so that the old index serves until the new one is built.
func (ix lookupIndex) indexName(grp, n int) string {
	name := fmt.Sprintf("%s_%s_g%d_%d", ix.table, ix.lookup, grp, n)
	if len(name) > 63 { // Postgres's longest name: a long field key is hashed
		name = fmt.Sprintf("%s_lookup%08x_g%d_%d", ix.table, crc32.ChecksumIEEE([]byte(ix.lookup)), grp, n)
	}
	return name
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
// (by_<field key>, by_name), or "" when none does.
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
