package organizations

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/kind"
	"github.com/leadpipe/leadpipe/kinds/internal/records"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
)

// The writer of organization batches. Each batch, in the transaction the engine opened for it,
// takes the account's lock (store.LockAccount: no unique index keeps two concurrent imports
// from creating the same organization), loads the organizations its rows can match (one query per identity), applies the rows one at
// a time in file order in memory (records.Applier: SPEC §5, §6), then writes the new
// organizations with COPY and the changed ones with one UPDATE; the engine then records the
// batch's outcomes and checkpoint and commits them together. A later row — of the batch or of
// a later one — matches an organization an earlier row created, renamed or re-domained.

// writer writes the batches of one import. It is safe for one goroutine.
type writer struct {
	plan                 *kind.Plan
	uniqueField          int // catalog index, or -1
	unique, name, domain records.Key
	rows                 records.Applier
}

// newWriter returns the writer of a plan's batches.
func newWriter(p *kind.Plan) *writer {
	c, o := p.Catalog, p.Options
	name, domain := c.MustIndex(crm.FieldName), c.MustIndex(crm.FieldDomain)
	none := func([]string) string { return "" }
	w := &writer{
		plan:        p,
		uniqueField: -1,
		unique:      records.Key{Of: none},
		name:        records.Key{Fields: []int{name}, Of: func(v []string) string { return crm.NormalizeOrgName(v[name]) }},
		domain:      records.Key{Fields: []int{domain}, Of: func(v []string) string { return matchDomain(v[domain]) }},
		rows: records.Applier{
			Noun:     "organization",
			Options:  o,
			Policies: records.Policies(c, o),
			IDs:      store.NewIDPool("organization"),
			// A name with the same normalised key is the same name: the stored spelling stays.
			Same: func(i int, a, b string) bool {
				return i == name && crm.NormalizeOrgName(a) == crm.NormalizeOrgName(b)
			},
			Admit: func(r *pipeline.Row) (string, string) {
				if r.Values[name] == "" {
					return pipeline.ReasonMissingIdentifier, "no organization matches the row, and a new organization needs a name"
				}
				return "", ""
			},
		},
	}
	if k := o.UniqueIdentifier; k != "" {
		u := c.Index(k)
		w.uniqueField = u
		w.unique = records.Key{Fields: []int{u}, Of: func(v []string) string { return v[u] }}
	}
	return w
}

// Write applies and writes one batch in tx.
func (w *writer) Write(ctx context.Context, tx pgx.Tx, b *pipeline.Batch) error {
	c, account := w.plan.Catalog, w.plan.Account.ID
	if !w.plan.DryRun {
		if err := store.LockAccount(ctx, tx, account); err != nil {
			return err
		}
	}
	found, err := store.LoadOrganizationRecords(ctx, tx, c, account, store.OrganizationKeys{
		NameKeys:     records.Keys(b.Rows, w.name),
		Domains:      records.Keys(b.Rows, w.domain),
		UniqueField:  w.uniqueField,
		UniqueValues: records.Keys(b.Rows, w.unique),
	})
	if err != nil {
		return err
	}
	x := records.NewIndex(w.unique, w.name, w.domain)
	x.AddLoaded(found)
	created, changed, err := w.rows.Apply(ctx, tx, x, b.Rows)
	if err != nil {
		return err
	}
	if err := store.UpdateOrganizationRecords(ctx, tx, c, account, records.Plain(changed)); err != nil {
		return err
	}
	return store.InsertOrganizationRecords(ctx, tx, c, account, records.Plain(created))
}
