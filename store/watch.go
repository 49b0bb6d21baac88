package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Results of a watched file's claim: where the file went.
const (
	WatchProcessed = "processed"
	WatchFailed    = "failed"
)

// WatchClaim is a file a daemon took from a watched directory (docs/watch.md).
type WatchClaim struct {
	// ImportID is allocated with the claim; the file's import gets it once queued.
	ImportID int64
	Dir      string // the watched directory, absolute
	Name     string // the file's name in it
	SHA256   string
	Size     int64
	Owner    string // the daemon that claimed it
	// Queued says whether the import exists; ImportStatus and ImportError are its status and
	// error then. For a workbook, whose sheets are imports of one request (the claim's import
	// is its first), they are those of the sheet that decides how the file ended: a sheet that
	// has not ended, else the first sheet that did not complete, else the first one.
	Queued       bool
	ImportStatus string
	ImportError  string
}

const watchClaimColumns = `c.import_id, c.dir, c.name, c.sha256, c.size, c.owner,
	i.id IS NOT NULL, coalesce(i.status, ''), coalesce(i.error, '')`

const watchClaimFrom = ` FROM watch_claims c LEFT JOIN LATERAL (SELECT r.id, r.status, r.error FROM imports r
		WHERE r.id = c.import_id OR r.request_id = c.import_id
		ORDER BY r.status IN ('queued', 'running') DESC, r.status = 'completed', r.request_step, r.id
		LIMIT 1) i ON true`

func scanWatchClaim(row pgx.Row) (WatchClaim, error) {
	var c WatchClaim
	err := row.Scan(&c.ImportID, &c.Dir, &c.Name, &c.SHA256, &c.Size, &c.Owner, &c.Queued, &c.ImportStatus, &c.ImportError)
	return c, err
}

func collectWatchClaims(rows pgx.Rows, err error, op string) ([]WatchClaim, error) {
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (WatchClaim, error) { return scanWatchClaim(r) })
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return list, nil
}

// ClaimWatchedFile records c (without its ImportID) as claimed by c.Owner and returns it with
// the import id allocated for it. ok is false when an open claim of the same directory, name
// and content exists: another daemon took the file. Of daemons claiming at once, one wins.
func ClaimWatchedFile(ctx context.Context, q Querier, c WatchClaim) (claimed WatchClaim, ok bool, err error) {
	err = q.QueryRow(ctx, `INSERT INTO watch_claims (dir, name, sha256, size, owner) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT DO NOTHING RETURNING import_id`, c.Dir, c.Name, c.SHA256, c.Size, c.Owner).Scan(&c.ImportID)
	if errors.Is(err, pgx.ErrNoRows) {
		return WatchClaim{}, false, nil
	}
	if err != nil {
		return WatchClaim{}, false, fmt.Errorf("claim watched file %s: %w", c.Name, err)
	}
	return c, true, nil
}

// LockWatchClaim locks an open claim until tx ends, so that no other daemon works on it
// meanwhile, and returns it as it is now. ok is false when the claim has finished, is gone or
// another daemon holds it.
func LockWatchClaim(ctx context.Context, tx pgx.Tx, importID int64) (c WatchClaim, ok bool, err error) {
	c, err = scanWatchClaim(tx.QueryRow(ctx, `SELECT `+watchClaimColumns+watchClaimFrom+`
		WHERE c.import_id = $1 AND c.finished_at IS NULL FOR UPDATE OF c SKIP LOCKED`, importID))
	if errors.Is(err, pgx.ErrNoRows) {
		return WatchClaim{}, false, nil
	}
	if err != nil {
		return WatchClaim{}, false, fmt.Errorf("lock watch claim %d: %w", importID, err)
	}
	return c, true, nil
}

// TakeOverWatchClaim makes owner the daemon of a claim it has locked (see LockWatchClaim),
// whose daemon left it unqueued.
func TakeOverWatchClaim(ctx context.Context, tx pgx.Tx, importID int64, owner string) error {
	if _, err := tx.Exec(ctx, "UPDATE watch_claims SET owner = $2 WHERE import_id = $1", importID, owner); err != nil {
		return fmt.Errorf("take over watch claim %d: %w", importID, err)
	}
	return nil
}

// EndedWatchClaims returns up to 100 open claims of a directory whose import has ended
// (completed — and maybe undone since —, failed or cancelled), oldest first: their files are
// due in processed/ or failed/.
func EndedWatchClaims(ctx context.Context, q Querier, dir string) ([]WatchClaim, error) {
	rows, err := q.Query(ctx, `SELECT `+watchClaimColumns+watchClaimFrom+`
		WHERE c.dir = $1 AND c.finished_at IS NULL AND i.status IN ('completed', 'undone', 'failed', 'cancelled')
		ORDER BY c.import_id LIMIT 100`, dir)
	return collectWatchClaims(rows, err, "ended watch claims")
}

// StaleWatchClaims returns up to 100 open claims of a directory made longer than age ago whose
// import was never queued, oldest first: the daemon that claimed them died, or could not reach
// the database, before queuing them. (A claim its daemon still works on is locked; see
// LockWatchClaim.)
func StaleWatchClaims(ctx context.Context, q Querier, dir string, age time.Duration) ([]WatchClaim, error) {
	rows, err := q.Query(ctx, `SELECT `+watchClaimColumns+watchClaimFrom+`
		WHERE c.dir = $1 AND c.finished_at IS NULL AND i.id IS NULL AND c.claimed_at < now() - $2::interval
		ORDER BY c.import_id LIMIT 100`, dir, age)
	return collectWatchClaims(rows, err, "stale watch claims")
}

// FinishWatchClaim ends a claim: its file went to movedTo (a path relative to the directory;
// empty when unknown) with result WatchProcessed or WatchFailed and, for a failure, why.
//
// An import keeps its original under files_dir. One queued by an earlier version read its
// file from the directory's work folder, .leadpipe/<import id>: its file path follows the
// file to processed/ or failed/, where its original can still be fetched while it passes the
// checks of filestore.OpenOriginal.
func FinishWatchClaim(ctx context.Context, q Querier, importID int64, result, reason, movedTo string) error {
	_, err := q.Exec(ctx, `WITH c AS (
			UPDATE watch_claims SET result = $2, error = nullif($3, ''), moved_to = nullif($4, ''), finished_at = now()
			WHERE import_id = $1 AND finished_at IS NULL RETURNING import_id, dir, moved_to)
		UPDATE imports i SET file_path = c.dir || '/' || c.moved_to FROM c
		WHERE i.id = c.import_id AND c.moved_to IS NOT NULL AND i.file_path = c.dir || '/.leadpipe/' || c.import_id`,
		importID, result, reason, movedTo)
	if err != nil {
		return fmt.Errorf("finish watch claim %d: %w", importID, err)
	}
	return nil
}

// PruneWatchClaims deletes the claims, of every directory, that finished before cutoff, and
// returns how many. Open claims stay whatever their age.
func PruneWatchClaims(ctx context.Context, q Querier, cutoff time.Time) (int64, error) {
	tag, err := q.Exec(ctx, "DELETE FROM watch_claims WHERE finished_at < $1", cutoff)
	if err != nil {
		return 0, fmt.Errorf("prune watch claims: %w", err)
	}
	return tag.RowsAffected(), nil
}

// DropWatchClaim deletes a claim whose file was gone before it was moved out of the
// directory: nothing was taken.
func DropWatchClaim(ctx context.Context, q Querier, importID int64) error {
	if _, err := q.Exec(ctx, "DELETE FROM watch_claims WHERE import_id = $1", importID); err != nil {
		return fmt.Errorf("drop watch claim %d: %w", importID, err)
	}
	return nil
}
