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

// SetBlockRows sets the most row outcomes in one block of an INSERT, until the function it
// returns restores it.
func SetBlockRows(n int) (restore func()) {
	old := blockRows
	blockRows = n
	return func() { blockRows = old }
}
