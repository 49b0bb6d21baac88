package requests

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// A failed attempt at queueing a request is one of three kinds (docs/requests.md, Failures):
//
//   - the message's fault (a *Rejection, or refusedByPostgres): dead-lettered at once, since
//     the same message would be refused again;
//   - transient: the connection to Postgres failed, or the server is shutting down, starting or
//     out of resources, or the transaction lost a serialization conflict or a deadlock. Every
//     message would fail alike until it passes, so it is retried without bound: dead-lettering
//     it would turn an outage into a topic of dead letters;
//   - anything else, unexpected: retried up to kafka_request_max_attempts, then dead-lettered
//     with ReasonFailed, so that an error that keeps coming back for one message does not
//     block its partition.

// refusedByPostgres returns the rejection for an error by which Postgres refused what the
// request asked it to store: a data exception (class 22, such as a NUL character, 22021, or a
// value out of range), an integrity constraint violation (class 23) or a program limit (class
// 54, such as a value too large for an index). The same values would be refused again. A
// unique violation on a system catalog is the exception: it is two sessions creating the same
// lookup index at once, and passes. nil when err is not such a refusal.
func refusedByPostgres(err error) *Rejection {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || len(pgErr.Code) != 5 {
		return nil
	}
	switch pgErr.Code[:2] {
	case "22", "54":
	case "23":
		if strings.HasPrefix(pgErr.ConstraintName, "pg_") {
			return nil
		}
	default:
		return nil
	}
	return &Rejection{Reason: ReasonRefused, Detail: fmt.Sprintf(
		"Postgres refused a value of the request: %s (SQLSTATE %s); fix the request", pgErr.Message, pgErr.Code)}
}

// transient reports whether err is a failure that passes by itself and is not the message's:
// connection-level trouble with Postgres, or a conflict with another transaction.
func transient(err error) bool {
	var connErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.As(err, &connErr), errors.As(err, &netErr), pgconn.SafeToRetry(err), pgconn.Timeout(err),
		errors.Is(err, net.ErrClosed), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		// pgx reports a connection closed in the middle of a query as (unexpected) EOF; errors
		// reading the request's file never get here, since they are rejections (ErrBadFile).
		return true
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch {
	case strings.HasPrefix(pgErr.Code, "08"), // connection exception
		strings.HasPrefix(pgErr.Code, "53"),  // insufficient resources: disk full, out of memory, too many connections
		strings.HasPrefix(pgErr.Code, "57P"), // admin or crash shutdown, cannot connect now
		pgErr.Code == "40001",                // serialization failure
		pgErr.Code == "40P01":                // deadlock detected
		return true
	case pgErr.Code == "23505": // a catalog's unique violation: a concurrent CREATE INDEX (refusedByPostgres)
		return strings.HasPrefix(pgErr.ConstraintName, "pg_")
	}
	return false
}

// describe says what went wrong in err for a dead letter's detail, without the server's paths:
// Postgres's message and code, or a file operation and its error.
func describe(err error) string {
	var pgErr *pgconn.PgError
	var pathErr *fs.PathError
	switch {
	case errors.As(err, &pgErr):
		return fmt.Sprintf("Postgres: %s (SQLSTATE %s)", pgErr.Message, pgErr.Code)
	case errors.As(err, &pathErr):
		return fmt.Sprintf("files: %s: %v", pathErr.Op, pathErr.Err)
	}
	return err.Error()
}
