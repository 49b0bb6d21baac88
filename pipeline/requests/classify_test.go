package requests

import (
	"context"
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/leadpipe/leadpipe/store/storetest"
)

// TestPostgresErrorsAreClassified checks the classification on errors of the real Postgres:
// values it refuses are the message's fault, connection trouble is transient, and an error of
// neither kind is unexpected (retried up to kafka_request_max_attempts).
func TestPostgresErrorsAreClassified(t *testing.T) {
	ctx := context.Background()
	pool := storetest.Pool(t)
	queryErr := func(sql string, args ...any) error {
		t.Helper()
		var v any
		err := pool.QueryRow(ctx, sql, args...).Scan(&v)
		if err == nil {
			t.Fatalf("%s: no error", sql)
		}
		return err
	}
	for _, c := range []struct {
		name, sql string
		args      []any
		code      string
	}{
		{"NUL in text", "SELECT $1::text", []any{"crm-\x00"}, "22021"},
		{"NUL in jsonb", "SELECT $1::jsonb", []any{`{"tags": ["\u0000"]}`}, "22P05"},
		{"out of range", "SELECT $1::int", []any{"99999999999"}, "22003"},
		{"program limit", "SELECT array_fill(1, ARRAY[$1::int])", []any{200000000}, "54000"},
	} {
		err := queryErr(c.sql, c.args...)
		rej := refusedByPostgres(err)
		if rej == nil || rej.Reason != ReasonRefused || !strings.Contains(rej.Detail, c.code) || transient(err) {
			t.Errorf("%s: %v classified as rejection %+v, transient %v; want the message's fault (%s)", c.name, err, rej, transient(err), c.code)
		}
	}

	unexpected := queryErr("SELECT * FROM no_such_table")
	if refusedByPostgres(unexpected) != nil || transient(unexpected) {
		t.Errorf("%v is classified as the message's fault or transient; want unexpected", unexpected)
	}

	// A connection the server ends under the query, and one that cannot be made.
	conn, err := pgx.Connect(ctx, storetest.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var pid int
	if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "SELECT pg_terminate_backend($1)", pid); err != nil {
		t.Fatal(err)
	}
	_, terminated := conn.Exec(ctx, "SELECT 1")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	u, err := url.Parse(storetest.URL())
	if err != nil {
		t.Fatal(err)
	}
	u.Host = addr
	_, refused := pgx.Connect(ctx, u.String())
	for _, err := range []error{terminated, refused} {
		if err == nil || !transient(err) || refusedByPostgres(err) != nil {
			t.Errorf("%v is not classified as transient", err)
		}
	}
}
