package store

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// queuedChannel is what Postgres notifies each time an import is queued (migration 0020).
const queuedChannel = "leadpipe_imports_queued"

// ListenQueued calls queued each time an import is queued in the database, by this process or
// another, until ctx is done or the connection fails; it returns why it stopped. It listens on
// a connection of its own, opened with cfg (a pool's, pgxpool.Config.ConnConfig), so that it
// takes none of the pool's, which imports count. It calls queued once it listens, too: an
// import queued before that was not notified to it. queued must not block.
func ListenQueued(ctx context.Context, cfg *pgx.ConnConfig, queued func()) error {
	conn, err := pgx.ConnectConfig(ctx, cfg.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+queuedChannel); err != nil {
		return err
	}
	queued()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		queued()
	}
}
