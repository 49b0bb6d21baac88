package chsink

import (
	"context"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// MigrateUpTo is migrateUpTo, for the tests of a migration: they write data as it was before
// it, then migrate.
func MigrateUpTo(ctx context.Context, conn driver.Conn, last int) ([]int, error) {
	return migrateUpTo(ctx, conn, last)
}
