package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// ReserveRequest binds a Kafka import request, named by key (see the kafka_requests table), to
// an import id: the one an earlier delivery of the request was bound to, else one allocated
// now. queued reports whether that import exists already, in which case the request is a
// duplicate. The reservation commits on its own, before the import is created with that id
// (CreateImport with Import.ID set): a crash in between leaves a reservation that the next
// delivery reuses.
func ReserveRequest(ctx context.Context, q Querier, key, topic string, partition int, offset int64) (importID int64, queued bool, err error) {
	err = q.QueryRow(ctx, `INSERT INTO kafka_requests (request_key, import_id, topic, partition, "offset")
		VALUES ($1, nextval(pg_get_serial_sequence('imports', 'id')), $2, $3, $4)
		ON CONFLICT (request_key) DO UPDATE SET import_id = kafka_requests.import_id
		RETURNING import_id, EXISTS (SELECT 1 FROM imports WHERE id = kafka_requests.import_id)`,
		key, topic, partition, offset).Scan(&importID, &queued)
	if err != nil {
		return 0, false, fmt.Errorf("reserve request %s: %w", key, err)
	}
	return importID, queued, nil
}

// IsDuplicateImport reports whether err is CreateImport failing because an import with the
// requested id exists: another delivery of the same request queued it first.
func IsDuplicateImport(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "imports_pkey"
}

// pruneBatch is how many kafka_requests rows PruneRequests deletes per statement, so that no
// statement holds many row locks or runs long.
const pruneBatch = 10000

// PruneRequests deletes the reservations of Kafka requests first seen before cutoff, and
// returns how many it deleted. A request delivered or sent again (same request_id) after its
// reservation is deleted is no longer recognised: it queues a new import.
func PruneRequests(ctx context.Context, q Querier, cutoff time.Time) (int64, error) {
	var total int64
	for {
		tag, err := q.Exec(ctx, `DELETE FROM kafka_requests WHERE request_key IN (
			SELECT request_key FROM kafka_requests WHERE created_at < $1 LIMIT $2)`, cutoff, pruneBatch)
		if err != nil {
			return total, fmt.Errorf("prune kafka requests: %w", err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < pruneBatch {
			return total, nil
		}
	}
}
