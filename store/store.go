// Package store owns leadpipe's Postgres schema and the queries that pipeline, stages and the
// command line share: connecting, migrating, and the account, user and field catalogue.
package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrations embed.FS

// ErrNotFound is returned when a named account, user or import does not exist.
var ErrNotFound = errors.New("not found")

// minPoolConns is the least size of a pool, unless the URL's pool_max_conns says otherwise: a
// daemon's import workers hold a connection each for a whole import (and a second one to read
// ahead on while half the pool is free), and the API, the relays to Kafka and ClickHouse, the
// request consumer and the directory watcher need theirs beside.
const minPoolConns = 16

// Connect opens a pool on the database at url and checks that it answers.
//
// Its sessions run without JIT compilation (unless the URL sets jit): Postgres compiles a
// query whose estimated cost passes jit_above_cost, and a batch's lookups, 5,000 index probes
// estimated from statistics Postgres lacks for their expressions, pass it in a large account;
// compiling them took 0.2–1.4 s a statement, many times the lookup itself.
func Connect(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres url: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = max(cfg.MaxConns, minPoolConns)
	}
	if _, set := cfg.ConnConfig.RuntimeParams["jit"]; !set {
		cfg.ConnConfig.RuntimeParams["jit"] = "off"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to postgres at %s: %w", cfg.ConnConfig.Host, err)
	}
	return pool, nil
}

// Migrate applies the embedded migrations that the database has not seen, each in its own
// transaction, under an advisory lock so that daemons starting together migrate once. It
// returns the versions it applied.
func Migrate(ctx context.Context, pool *pgxpool.Pool) ([]int, error) {
	return migrateUpTo(ctx, pool, math.MaxInt)
}

// migrateUpTo is Migrate, applying the migrations up to version last only.
func migrateUpTo(ctx context.Context, pool *pgxpool.Pool, last int) ([]int, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	defer conn.Release()
	const lockKey = 7261530918 // any constant unique to leadpipe
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockKey); err != nil {
		return nil, fmt.Errorf("migrate: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", lockKey) //nolint:errcheck
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	files, err := MigrationFiles(migrations)
	if err != nil {
		return nil, err
	}
	var applied []int
	for _, f := range files {
		if f.Version > last {
			break
		}
		var done bool
		if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version=$1)", f.Version).Scan(&done); err != nil {
			return nil, fmt.Errorf("migrate: %w", err)
		}
		if done {
			continue
		}
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, f.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version) VALUES ($1)", f.Version)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", f.Name, err)
		}
		applied = append(applied, f.Version)
	}
	return applied, nil
}
