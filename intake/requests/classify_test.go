package requests

import (
	"context"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/leadpipe/leadpipe/filestore"
	"github.com/leadpipe/leadpipe/internal/freeport"
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
	u, err := url.Parse(storetest.URL())
	if err != nil {
		t.Fatal(err)
	}
	u.Host = freeport.Addr(t) // nothing listens there
	_, refused := pgx.Connect(ctx, u.String())
	for _, err := range []error{terminated, refused} {
		if err == nil || !transient(err) || refusedByPostgres(err) != nil {
			t.Errorf("%v is not classified as transient", err)
		}
	}
}

// TestFilesStoreErrorsAreClassified checks that the files store refusing writes is transient
// (every request would meet it: retried without bound), while a failure of one request's copy
// is unexpected (bounded by kafka_request_max_attempts), and that a failed system call
// elsewhere is not taken for connection trouble.
func TestFilesStoreErrorsAreClassified(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "inbox")
	if err := os.MkdirAll(root, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "leads.csv"), []byte("email\na@example.com\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	store := func(filesDir string) error {
		t.Helper()
		src, err := openSource(root, "", 1<<20, time.Minute, &filestore.Store{Dir: filesDir})
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		_, err = src.store(context.Background(), "leads.csv", 1, 7)
		if err == nil {
			t.Fatal("the files store took the file")
		}
		return err
	}
	// files_dir is a regular file: no write into the store can succeed (ENOTDIR, as root too).
	notDir := filepath.Join(dir, "files-is-a-file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// Where import 7 of account 1 keeps its file stands a folder: this request's copy alone fails (EEXIST).
	taken := filepath.Join(dir, "files")
	if err := os.MkdirAll(filepath.Join(taken, "1", "7", "x"), 0o750); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		err       error
		transient bool
	}{
		{"files_dir not a directory", store(notDir), true},
		{"disk full", &storeError{&fs.PathError{Op: "write", Path: "f", Err: syscall.ENOSPC}}, true},
		{"quota", &storeError{&fs.PathError{Op: "write", Path: "f", Err: syscall.EDQUOT}}, true},
		{"file size limit", &storeError{&fs.PathError{Op: "write", Path: "f", Err: syscall.EFBIG}}, true},
		{"read-only", &storeError{&fs.PathError{Op: "open", Path: "f", Err: syscall.EROFS}}, true},
		{"permission", &storeError{&fs.PathError{Op: "mkdir", Path: "f", Err: syscall.EACCES}}, true},
		{"this request's copy", store(taken), false},
		{"disk full, not the files store", fmt.Errorf("x: %w", &fs.PathError{Op: "write", Path: "f", Err: syscall.ENOSPC}), false},
	} {
		if got := transient(c.err); got != c.transient {
			t.Errorf("%s: %v classified transient %v, want %v", c.name, c.err, got, c.transient)
		}
	}
}
