package requests

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// A failed attempt at queueing a request is one of three kinds (docs/requests.md, Failures):
//
//   - the message's fault (a *Rejection, or refusedByPostgres): dead-lettered at once, since
//     the same message would be refused again;
//   - transient: the connection to Postgres failed, or the server is shutting down, starting or
//     out of resources, or the transaction lost a serialization conflict or a deadlock, or the
//     files store cannot be written (storeUnusable). Every message would fail alike until it
//     passes, so it is retried without bound: dead-lettering it would turn an outage into a
//     topic of dead letters;
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

// transient reports whether err is a failure that is not the message's and passes once its
// cause is fixed: connection-level trouble with Postgres, a conflict with another transaction,
// or a files store that cannot be written.
func transient(err error) bool {
	var connErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case storeUnusable(err):
		return true
	case errors.As(err, &netErr) && !isErrno(netErr):
		// A bare syscall.Errno has the methods of a net.Error: without this check any failed
		// system call (writing the files store, say) passed for connection trouble.
		return true
	case errors.As(err, &connErr), pgconn.SafeToRetry(err), pgconn.Timeout(err),
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

// storeUnusable reports whether err is the files store refusing to be written for a reason of
// its own, which every request would meet alike: it is full (ENOSPC, EDQUOT, or EFBIG past a
// file size limit), read-only (EROFS), not writable by the daemon (EACCES, EPERM), or files_dir
// or a folder in it is not a directory (ENOTDIR).
func storeUnusable(err error) bool {
	var se *storeError
	if !errors.As(err, &se) {
		return false
	}
	for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT, syscall.EFBIG, syscall.EROFS,
		syscall.EACCES, syscall.EPERM, syscall.ENOTDIR} {
		if errors.Is(err, errno) {
			return true
		}
	}
	return false
}

func isErrno(err error) bool {
	_, ok := err.(syscall.Errno)
	return ok
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
