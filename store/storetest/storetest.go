// Package storetest gives integration tests a real, migrated Postgres and a fresh account per
// test, so tests never share rows. The database is LEADPIPE_TEST_POSTGRES_URL, else
// LEADPIPE_POSTGRES_URL, else leadpipe_test on the Postgres deploy/services.sh starts (see URL).
// When it cannot be reached a test is skipped — unless CI is set, where it fails.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadpipe/leadpipe/config"
	"github.com/leadpipe/leadpipe/store"
)

var (
	once    sync.Once
	pool    *pgxpool.Pool
	openErr error
)

// URL returns the database tests use: LEADPIPE_TEST_POSTGRES_URL, else LEADPIPE_POSTGRES_URL,
// else leadpipe_test beside the database deploy/services.sh starts, created when missing. Not
// that database itself: the workers of the daemon `make run` starts claim any queued import
// of their database, and would meet the imports tests leave queued.
func URL() string {
	for _, k := range []string{"LEADPIPE_TEST_POSTGRES_URL", "LEADPIPE_POSTGRES_URL"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	defaultOnce.Do(func() { defaultURL = sibling(config.Default.PostgresURL, "leadpipe_test") })
	return defaultURL
}

var (
	defaultOnce sync.Once
	defaultURL  string
)

// UseOwnDatabase points the tests of one package at a database of their own, named name,
// created next to the shared test database when it does not exist yet. Packages whose tests
// run workers need it: workers claim any queued import of their database, so they must not
// meet the imports other packages' tests queue. Call it from TestMain, before Pool. When the
// database cannot be made (no Postgres, no right to create databases, a URL in keyword form),
// the shared one is used. LEADPIPE_TEST_DB_SUFFIX, when set, is appended to name, so that two
// checkouts can run their tests on one Postgres at once.
func UseOwnDatabase(name string) {
	os.Setenv("LEADPIPE_TEST_POSTGRES_URL", sibling(URL(), name+os.Getenv("LEADPIPE_TEST_DB_SUFFIX")))
}

// sibling returns the URL of the database name on the server of base, which it creates when it
// does not exist yet; base itself when it cannot (no Postgres, no right to create databases, a
// URL in keyword form).
func sibling(base, name string) string {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return base
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return base
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if err != nil && !(errors.As(err, &pgErr) && (pgErr.Code == "42P04" || pgErr.Code == "23505")) { // exists
		return base
	}
	u.Path = "/" + name
	return u.String()
}

// EmptyDatabase gives a test a database of its own, named name (plus
// LEADPIPE_TEST_DB_SUFFIX), created empty next to the test database and dropped when the test
// ends: for a test of migrations, or one whose volume of data would slow down the tests that
// share a database.
func EmptyDatabase(t testing.TB, name string) *pgxpool.Pool {
	t.Helper()
	name += os.Getenv("LEADPIPE_TEST_DB_SUFFIX")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fail := func(err error) {
		t.Helper()
		if os.Getenv("CI") != "" {
			t.Fatalf("database %s for a test: %v", name, err)
		}
		t.Skipf("database %s for a test: %v", name, err)
	}
	u, err := url.Parse(URL())
	if err != nil {
		fail(err)
	}
	admin, err := pgx.Connect(ctx, u.String())
	if err != nil {
		fail(err)
	}
	defer admin.Close(context.Background())
	ident := pgx.Identifier{name}.Sanitize()
	if err := dropDatabase(ctx, admin, ident); err != nil {
		fail(err)
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		fail(err)
	}
	u.Path = "/" + name
	p, err := store.Connect(ctx, u.String())
	if err != nil {
		fail(err)
	}
	t.Cleanup(func() {
		p.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		conn, err := pgx.Connect(ctx, URL())
		if err == nil {
			err = dropDatabase(ctx, conn, ident)
			conn.Close(ctx)
		}
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	return p
}

// dropDatabase drops the database ident if it exists. A plain DROP DATABASE ends the
// autovacuum workers in it by itself, where WITH (FORCE) fails on them ("must be a member of
// the role whose process is being terminated": they run as the superuser); it fails while a
// connection of the tests' own lingers, so it is tried for a few seconds before FORCE ends
// those.
func dropDatabase(ctx context.Context, conn *pgx.Conn, ident string) error {
	var err error
	for range 50 {
		if _, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, ferr := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); ferr != nil {
		return errors.Join(err, ferr)
	}
	return nil
}

// FreshDatabase is EmptyDatabase, migrated: for a test that fills tables with millions of rows
// or depends on their statistics, which other tests must neither see nor disturb.
func FreshDatabase(t testing.TB, name string) *pgxpool.Pool {
	t.Helper()
	p := EmptyDatabase(t, name)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := store.Migrate(ctx, p); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("migrate database %s for a test: %v", name, err)
		}
		t.Skipf("migrate database %s for a test: %v", name, err)
	}
	return p
}

// Pool returns a pool on the migrated test database, shared by the tests of a package.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	once.Do(func() {
		store.LookupIndexGroupSize = 1 // each test account's lookup index its own, to drop (dropLookupIndexes)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		pool, openErr = store.Connect(ctx, URL())
		if openErr == nil {
			_, openErr = store.Migrate(ctx, pool)
		}
	})
	if openErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("postgres for tests: %v (run deploy/services.sh up)", openErr)
		}
		t.Skipf("postgres for tests not reachable: %v (run deploy/services.sh up)", openErr)
	}
	return pool
}

// Account creates an account with a unique name derived from the test's name. limit < 0 means
// unlimited.
func Account(t testing.TB, p *pgxpool.Pool, limit int64) store.Account {
	t.Helper()
	var lim *int64
	if limit >= 0 {
		lim = &limit
	}
	b := make([]byte, 4)
	rand.Read(b) //nolint:errcheck // crypto/rand does not fail
	name := strings.NewReplacer("/", "-", " ", "_").Replace(t.Name()) + "-" + hex.EncodeToString(b)
	a, err := store.CreateAccount(context.Background(), p, name, lim)
	if err != nil {
		t.Fatalf("create account: %v", err)
	}
	t.Cleanup(func() { dropLookupIndexes(t, p, a.ID) })
	return a
}

// dropLookupIndexes drops the lookup indexes of an account's imports (groups of one account in
// tests: store.LookupIndexGroupSize), so that test runs do not pile them up on a developer's
// database. It drops them CONCURRENTLY, as the daemon builds them: a plain DROP INDEX waits for
// the table's exclusive lock, and the writers of other tests that queue behind it then
// deadlocked with it (seen when the importer's and the store's tests ran in parallel).
func dropLookupIndexes(t testing.TB, p *pgxpool.Pool, accountID int64) {
	ctx := context.Background()
	rows, err := p.Query(ctx, "DELETE FROM lookup_indexes WHERE account_ids = ARRAY[$1::bigint] RETURNING index_name", accountID)
	if err != nil {
		t.Errorf("list lookup indexes: %v", err)
		return
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Errorf("list lookup indexes: %v", err)
		return
	}
	for _, name := range names {
		if _, err := p.Exec(ctx, "DROP INDEX CONCURRENTLY IF EXISTS "+pgx.Identifier{name}.Sanitize()); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	}
}
