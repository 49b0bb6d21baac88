package importer

import (
	"context"
	"strconv"

	"github.com/leadpipe/leadpipe/kind"
	"github.com/leadpipe/leadpipe/store"
)

// RecordPage is a page of the records an import created or touched, of the import's kind.
type RecordPage struct {
	Kind    string       `json:"kind"`
	Records []RecordView `json:"records"`
	// NextCursor fetches the next page; empty on the last one.
	NextCursor string `json:"next_cursor,omitempty"`
}

// RecordView is one record an import created or touched.
type RecordView struct {
	ID int64 `json:"id"`
	// Created says a row of the import created the record (else it updated or matched it).
	Created bool `json:"created"`
	// Values are the record's values now, by field key, an owner by username (see Preview); nil
	// when the record no longer exists.
	Values map[string]string `json:"values"`
}

// Records returns a page of the records imp created or touched, after the record id after, at
// most limit; with createdOnly, only those it created. imp must be an import of acct.
func (im *Importer) Records(ctx context.Context, acct store.Account, imp store.Import, after int64, createdOnly bool, limit int) (RecordPage, error) {
	k, err := KindOf(ctx, im.Pool, acct.ID, imp.Kind)
	if err != nil {
		return RecordPage{}, err
	}
	catalog, err := kind.Catalog(ctx, im.Pool, k, acct.ID)
	if err != nil {
		return RecordPage{}, err
	}
	users, err := store.Users(ctx, im.Pool, acct.ID)
	if err != nil {
		return RecordPage{}, err
	}
	touched, err := store.TouchedRecords(ctx, im.Pool, imp.ID, after, createdOnly, limit)
	if err != nil {
		return RecordPage{}, err
	}
	ids := make([]int64, len(touched))
	for i, t := range touched {
		ids[i] = t.ID
	}
	found, err := k.Records(ctx, im.Pool, &kind.Plan{Kind: k, Account: acct, Catalog: catalog, Users: users}, ids)
	if err != nil {
		return RecordPage{}, err
	}
	values := make(map[int64][]string, len(found))
	for _, r := range found {
		values[r.ID] = r.Values
	}
	page := RecordPage{Kind: k.Name(), Records: make([]RecordView, len(touched))}
	for i, t := range touched {
		page.Records[i] = RecordView{ID: t.ID, Created: t.Created, Values: fieldValues(catalog, users, values[t.ID])}
	}
	if len(touched) == limit && limit > 0 {
		page.NextCursor = strconv.FormatInt(touched[len(touched)-1].ID, 10)
	}
	return page, nil
}
