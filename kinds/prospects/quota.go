package prospects

import (
	"context"
	"fmt"

	"github.com/leadpipe/leadpipe/store"
)

// The prospect limit (SPEC §10). Room is taken under the account row's lock, held until the
// batch's transaction ends, so that concurrent imports into one account queue for it and never
// overshoot the limit together.

// room is what is left of an account's prospect limit within one batch's transaction.
type room struct {
	store.Room // as the batch found it
	accountID  int64
	taken      int64
}

// reserveRoom reads the account's limit and prospect count. With lock it locks the account row
// until the transaction ends and counts the batch in the account's write_seq (a dry run reads
// without locking).
func reserveRoom(ctx context.Context, q store.Querier, accountID int64, lock bool) (*room, error) {
	r, err := store.ProspectRoom(ctx, q, accountID, lock)
	if err != nil {
		return nil, err
	}
	return &room{Room: r, accountID: accountID}, nil
}

// take claims room for one net-new prospect; false means the limit is reached.
func (r *room) take() bool {
	if r.Limit != nil && r.Count+r.taken >= *r.Limit {
		return false
	}
	r.taken++
	return true
}

// limitDetail is the skip detail of a row over the limit.
func (r *room) limitDetail() string {
	return fmt.Sprintf("the account's limit of %d prospects is reached", *r.Limit)
}

// commit adds the prospects taken to the account's count, in the same transaction.
func (r *room) commit(ctx context.Context, q store.Querier) error {
	if r.taken == 0 {
		return nil
	}
	return store.AddProspectCount(ctx, q, r.accountID, r.taken)
}

// overLimit reports the overage alert of SPEC §10: the account's current prospects plus every
// data row of the file exceed its limit, duplicates and existing prospects included.
func overLimit(a store.Account, dataRows int) bool {
	return a.ProspectLimit != nil && a.ProspectCount+int64(dataRows) > *a.ProspectLimit
}
