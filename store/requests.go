package store

import (
	"context"
	"errors"
	"fmt"

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
