package deals

// Matching rows to deals: by the unique identifier when the row has a value of it, else by name
// (crm.DealNameKey) within the organization the row links to. A dealIndex holds the deals a
// batch can match, loaded from Postgres, and follows every change the batch makes to them — a
// new deal, a renamed one, one moved to another organization — so that a later row matches
// what an earlier row made, as if the rows were applied one at a time in file order.

import (
	"context"
	"strconv"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/kinds/internal/apply"
	"github.com/leadpipe/leadpipe/kinds/internal/orglink"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
)

// deal is a deal the batch may match, with what the batch did to it.
type deal struct {
	store.Record
	apply.Tracked
}

func dealID(d *deal) int64 { return d.ID }

// groupKey is a deal's name key within its organization (its id in decimal; "" for none).
type groupKey struct{ org, name string }

// dealIndex finds the deal a row matches. It is not safe for concurrent use.
type dealIndex struct {
	name, org, unique int // catalog indexes; unique is -1 when unset
	byName            *apply.Index[groupKey, *deal]
	byUnique          *apply.Index[string, *deal]
}

// loadDeals builds the index for a batch: it loads every deal of the account that one of the
// batch's unskipped rows could match, the organizations of the batch (orgs) being loaded.
func loadDeals(ctx context.Context, q store.Querier, c *crm.Catalog, accountID int64, unique int, orgs *orglink.Batch, rows []pipeline.Row) (*dealIndex, error) {
	x := &dealIndex{name: c.MustIndex(crm.FieldName), org: c.MustIndex(crm.FieldOrganization), unique: unique,
		byName: apply.NewIndex[groupKey](dealID), byUnique: apply.NewIndex[string](dealID)}
	k := store.DealKeys{UniqueField: unique}
	for i := range rows {
		r := &rows[i]
		if r.Skipped() {
			continue
		}
		if x.byIdentifier(r.Values) {
			k.UniqueValues = append(k.UniqueValues, r.Values[unique])
			continue
		}
		org, isNew := orgs.Find(r.Values)
		if isNew { // a new organization has no deals yet
			continue
		}
		id, _ := strconv.ParseInt(org, 10, 64) // "" is 0: no organization
		k.OrganizationIDs = append(k.OrganizationIDs, id)
		k.NameKeys = append(k.NameKeys, crm.DealNameKey(r.Values[x.name]))
	}
	found, err := store.LoadDeals(ctx, q, c, accountID, k)
	if err != nil {
		return nil, err
	}
	for _, d := range found {
		x.add(&deal{Record: d})
	}
	return x, nil
}

// byIdentifier reports whether a row matches by the unique identifier: it has a value of it.
func (x *dealIndex) byIdentifier(values []string) bool {
	return x.unique >= 0 && values[x.unique] != ""
}

// match returns the deal a row with these values matches, or nil; orgs finds the organization
// the row links to.
func (x *dealIndex) match(values []string, orgs *orglink.Batch) *deal {
	if x.byIdentifier(values) {
		d, _ := x.byUnique.First(values[x.unique])
		return d
	}
	org, isNew := orgs.Find(values)
	if isNew {
		return nil
	}
	d, _ := x.byName.First(groupKey{org, crm.DealNameKey(values[x.name])})
	return d
}

// add indexes a deal. Deals must be added oldest (lowest id) first.
func (x *dealIndex) add(d *deal) {
	x.byName.Add(x.groupOf(d), d)
	if x.unique >= 0 && d.Values[x.unique] != "" {
		x.byUnique.Add(d.Values[x.unique], d)
	}
}

func (x *dealIndex) groupOf(d *deal) groupKey {
	return groupKey{d.Values[x.org], crm.DealNameKey(d.Values[x.name])}
}

// set changes field i of d to v, keeping the index in step when i is an identity.
func (x *dealIndex) set(d *deal, i int, v string) {
	if i != x.name && i != x.org && i != x.unique {
		d.Values[i] = v
		return
	}
	x.byName.Remove(x.groupOf(d), d)
	if x.unique >= 0 && d.Values[x.unique] != "" {
		x.byUnique.Remove(d.Values[x.unique], d)
	}
	d.Values[i] = v
	x.add(d)
}
