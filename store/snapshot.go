package store

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// TxBeginner starts a transaction with options: a pool or a connection.
type TxBeginner interface {
	BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error)
}

// InSnapshot runs f in a read-only REPEATABLE READ transaction on db: every read f makes sees
// the database at one moment, as a view read in several statements must.
func InSnapshot(ctx context.Context, db TxBeginner, f func(q Querier) error) error {
	return pgx.BeginTxFunc(ctx, db, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error { return f(tx) })
}
