// Package quota keeps an account within its prospect limit (SPEC §10). Room is taken under the
// account row's lock, held until the batch's transaction ends, so that concurrent imports into
// one account queue for it and never overshoot the limit together.
package quota

import (
	"context"
	"fmt"

	"github.com/leadpipe/leadpipe/store"
)

// Room is what is left of an account's prospect limit within one batch's transaction.
type Room struct {
	accountID int64
	limit     *int64
	count     int64 // prospects before the batch
	taken     int64
}

// Reserve reads the account's limit and prospect count. With lock it locks the account row
// until the transaction ends (a dry run reads without locking).
func Reserve(ctx context.Context, q store.Querier, accountID int64, lock bool) (*Room, error) {
	sql := "SELECT prospect_limit, prospect_count FROM accounts WHERE id = $1"
	if lock {
		sql += " FOR UPDATE"
	}
	r := &Room{accountID: accountID}
	if err := q.QueryRow(ctx, sql, accountID).Scan(&r.limit, &r.count); err != nil {
		return nil, fmt.Errorf("read prospect limit: %w", err)
	}
	return r, nil
}

// Take claims room for one net-new prospect; false means the limit is reached.
func (r *Room) Take() bool {
	if r.limit != nil && r.count+r.taken >= *r.limit {
		return false
	}
	r.taken++
	return true
}

// Limit returns the account's limit, or -1 when it has none.
func (r *Room) Limit() int64 {
	if r.limit == nil {
		return -1
	}
	return *r.limit
}

// Commit adds the prospects taken to the account's count, in the same transaction.
func (r *Room) Commit(ctx context.Context, q store.Querier) error {
	if r.taken == 0 {
		return nil
	}
	_, err := q.Exec(ctx, "UPDATE accounts SET prospect_count = prospect_count + $2 WHERE id = $1", r.accountID, r.taken)
	if err != nil {
		return fmt.Errorf("count new prospects: %w", err)
	}
	return nil
}

// OverLimitWarning reports the overage alert of SPEC §10: the account's current prospects plus
// every data row of the file exceed its limit, duplicates and existing prospects included.
func OverLimitWarning(a store.Account, dataRows int) bool {
	return a.ProspectLimit != nil && a.ProspectCount+int64(dataRows) > *a.ProspectLimit
}
