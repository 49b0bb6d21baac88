// Package chsink keeps import analytics in ClickHouse: its schema and migrations, a
// pipeline.Sink that writes every row outcome and a summary of every finished import there, and
// the runner of the analytics queries (dashboards/*.sql).
//
// It speaks ClickHouse's native protocol and keeps to what ClickHouse 18.16 (Debian's package)
// and current releases both accept; see docs/analytics.md.
package chsink

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"math"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/leadpipe/leadpipe/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Codes of ClickHouse exceptions that callers explain to users.
const (
	codeUnknownTable    = 60
	codeUnknownDatabase = 81
)

// codeIllegalColumn is the code of, among others, "Cannot add column x: column with this name
// already exists".
const codeIllegalColumn = 44

var databaseName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Open connects to database at addr (host:port of the native protocol) and checks that it
// answers.
func Open(ctx context.Context, addr, database string) (driver.Conn, error) {
	if !databaseName.MatchString(database) {
		return nil, fmt.Errorf("clickhouse database %q: want letters, digits and '_', not starting with a digit", database)
	}
	return open(ctx, addr, database, nil)
}

// dialTimeout bounds connecting to ClickHouse.
const dialTimeout = 5 * time.Second

// open connects to database at addr, through dial when it is not nil.
func open(ctx context.Context, addr, database string, dial func(context.Context, string) (net.Conn, error)) (driver.Conn, error) {
	conn, err := clickhouse.Open(&clickhouse.Options{
		Addr:        []string{addr},
		Auth:        clickhouse.Auth{Database: database},
		DialTimeout: dialTimeout,
		DialContext: dial,
		ReadTimeout: time.Minute,
	})
	if err != nil {
		return nil, fmt.Errorf("clickhouse at %s: %w", addr, err)
	}
	if err := conn.Ping(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("clickhouse at %s: %w", addr, explain(err))
	}
	return conn, nil
}

// explain adds to an error what a user can do about it, when that is clear.
func explain(err error) error {
	var ex *clickhouse.Exception
	switch {
	case errors.As(err, &ex) && (ex.Code == codeUnknownTable || ex.Code == codeUnknownDatabase):
		return fmt.Errorf("%w (the analytics tables do not exist yet: run leadpipe migrate)", err)
	case errors.As(err, &ex):
		return err
	default:
		return fmt.Errorf("%w (is ClickHouse running? deploy/services.sh up starts one)", err)
	}
}

// Migrate creates database at addr when it does not exist and applies the embedded
// migrations it has not seen. It returns the versions it applied. ClickHouse has neither
// transactions nor locks, so every migration is written to be applied twice without harm
// (IF NOT EXISTS): daemons starting together may both apply it.
func Migrate(ctx context.Context, addr, database string) ([]int, error) {
	if !databaseName.MatchString(database) {
		return nil, fmt.Errorf("clickhouse database %q: want letters, digits and '_', not starting with a digit", database)
	}
	server, err := open(ctx, addr, "", nil)
	if err != nil {
		return nil, err
	}
	err = server.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+database)
	server.Close()
	if err != nil {
		return nil, fmt.Errorf("clickhouse: create database %s: %w", database, err)
	}
	conn, err := open(ctx, addr, database, nil)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return migrateUpTo(ctx, conn, math.MaxInt)
}

// migrateUpTo applies the migrations not applied yet, up to version last.
func migrateUpTo(ctx context.Context, conn driver.Conn, last int) ([]int, error) {
	if err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, applied_at DateTime)
		ENGINE = ReplacingMergeTree() ORDER BY version`); err != nil {
		return nil, fmt.Errorf("clickhouse migrate: %w", err)
	}
	seen := map[int]bool{}
	rows, err := conn.Query(ctx, "SELECT DISTINCT version FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("clickhouse migrate: %w", err)
	}
	for rows.Next() {
		var v uint32
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return nil, fmt.Errorf("clickhouse migrate: %w", err)
		}
		seen[int(v)] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("clickhouse migrate: %w", err)
	}
	files, err := store.MigrationFiles(migrations)
	if err != nil {
		return nil, fmt.Errorf("clickhouse %w", err)
	}
	var applied []int
	for _, f := range files {
		if seen[f.Version] || f.Version > last {
			continue
		}
		for _, stmt := range statements(f.SQL) {
			if err := conn.Exec(ctx, stmt); err != nil && !alreadyApplied(err) {
				return nil, fmt.Errorf("clickhouse migration %s: %w", f.Name, err)
			}
		}
		// An INSERT must go as a batch: ClickHouse 18.16 does not take inline VALUES over the
		// native protocol.
		batch, err := conn.PrepareBatch(ctx, "INSERT INTO schema_migrations (version, applied_at)")
		if err == nil {
			err = batch.Append(uint32(f.Version), time.Now())
		}
		if err == nil {
			err = batch.Send()
		}
		if err != nil {
			return nil, fmt.Errorf("clickhouse migration %s: record it: %w", f.Name, err)
		}
		applied = append(applied, f.Version)
	}
	return applied, nil
}

// alreadyApplied reports whether a migration statement failed because what it makes is there
// already: a column that exists, added by another daemon applying the same migration (ClickHouse
// 18.16 has no ADD COLUMN IF NOT EXISTS).
func alreadyApplied(err error) bool {
	var ex *clickhouse.Exception
	return errors.As(err, &ex) && ex.Code == codeIllegalColumn && strings.Contains(ex.Message, "already exists")
}

// statements splits a migration into its statements, which the native protocol takes one at
// a time. A statement ends with ';' at the end of a line.
func statements(sql string) []string {
	var out []string
	for _, s := range strings.Split(sql+"\n", ";\n") {
		if s = strings.TrimSpace(s); s != "" && !onlyComments(s) {
			out = append(out, s)
		}
	}
	return out
}

func onlyComments(s string) bool {
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "--") {
			return false
		}
	}
	return true
}
