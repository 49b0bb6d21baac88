package main

import (
	"context"
	"errors"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/leadpipe/leadpipe/store/storetest"
)

// cmdTestDatabase is the database the command-line tests run in. `leadpipe serve` runs workers
// that claim any queued import of their database, so these tests get one of their own: their
// daemons must not run the imports other packages' tests queue, nor the other way round.
const cmdTestDatabase = "leadpipe_test_cmd"

func TestMain(m *testing.M) {
	useOwnTestDatabase(cmdTestDatabase)
	os.Exit(m.Run())
}

// useOwnTestDatabase creates the database name next to the shared test database (when it does
// not exist yet) and points storetest, and so these tests, at it. When that cannot be done — no
// Postgres, no right to create databases, a URL in keyword form — the shared database is used.
func useOwnTestDatabase(name string) {
	base := storetest.URL()
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if err != nil && !(errors.As(err, &pgErr) && (pgErr.Code == "42P04" || pgErr.Code == "23505")) { // exists
		return
	}
	u.Path = "/" + name
	os.Setenv("LEADPIPE_TEST_POSTGRES_URL", u.String())
}
