package objects

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/kind"
	"github.com/leadpipe/leadpipe/kinds/internal/apply"
	"github.com/leadpipe/leadpipe/kinds/internal/prospectlink"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
)

// writer writes the batches of one import into an object type. Each batch, in the transaction
// the engine opened for it, locks the type (a dry run reads without locking), loads the records
// its rows identify and the prospects they link
// to, applies the rows one at a time in file order in memory, then writes new records with
// COPY and changed ones with one UPDATE. It is safe for one goroutine.
type writer struct {
	plan       *kind.Plan
	t          store.ObjectType
	identifier int                 // catalog index of the identifying field
	email      int                 // catalog index of the prospect email, which only links
	canon      func(string) string // identifying values as they compare (store.ObjectIdentifierKey)
	policies   apply.Policies
	prospects  *prospectlink.Linker
	// linkOff is set when the prospect link's policy is ignore: rows link no prospect.
	linkOff bool
	ids     *store.IDPool
	keep    *apply.Keeper
}

// record is a record the batch may match, with what the batch did to it.
type record struct {
	store.Record
	apply.Tracked
}

func newWriter(t store.ObjectType, p *kind.Plan) *writer {
	c := p.Catalog
	w := &writer{
		plan:       p,
		t:          t,
		identifier: c.MustIndex(t.Identifier),
		email:      c.MustIndex(crm.FieldProspectEmail),
		canon:      store.ObjectIdentifierKey(t, c),
		policies:   apply.NewPolicies(c, p.Options),
		prospects:  prospectlink.New(c, p.Account.ID),
		linkOff:    p.Options.PolicyFor(crm.FieldProspect) == crm.Ignore,
		ids:        store.NewIDPool("object_record"),
		keep:       apply.NewKeeper(c, store.StoredObjectFields(t, c)),
	}
	return w
}

// Write applies and writes one batch in tx.
func (w *writer) Write(ctx context.Context, tx pgx.Tx, b *pipeline.Batch) error {
	c, acct, o := w.plan.Catalog, w.plan.Account.ID, w.plan.Options
	if !w.plan.DryRun {
		// The account's lock first, as every writer and undo takes it: an undo deleting a
		// prospect waits for, or is waited for by, a batch linking a record to it.
		if err := store.LockAccount(ctx, tx, acct); err != nil {
			return err
		}
		if err := store.LockObjectType(ctx, tx, w.t); err != nil {
			return err
		}
	}
	var keys []string
	for i := range b.Rows {
		if r := &b.Rows[i]; !r.Skipped() {
			keys = append(keys, r.Values[w.identifier])
		}
	}
	found, err := store.LoadObjectRecords(ctx, tx, w.t, c, acct, keys)
	if err != nil {
		return err
	}
	byKey := make(map[string]*record, len(keys))
	for _, r := range found {
		byKey[w.canon(r.Values[w.identifier])] = &record{Record: r}
	}
	var links *prospectlink.Batch
	if !w.linkOff {
		if links, err = w.prospects.Load(ctx, tx, b.Rows); err != nil {
			return err
		}
	}
	var created, changed []store.Record // sharing their Values with the records of byKey
	for i := range b.Rows {
		r := &b.Rows[i]
		if r.Skipped() {
			continue
		}
		key := w.canon(r.Values[w.identifier])
		rec := byKey[key]
		var matched int64
		if rec != nil {
			matched = rec.ID
		}
		if reason, detail := apply.Skip(o, w.plan.Kind.Noun(), matched); reason != "" {
			r.Skip(reason, detail)
			continue
		}
		if links != nil {
			links.Link(r)
		}
		if rec == nil {
			id, err := w.ids.Next(ctx, tx)
			if err != nil {
				return err
			}
			rec = &record{Record: store.Record{ID: id, Values: make([]string, len(c.Fields))}, Tracked: apply.Tracked{Created: true}}
			rec.Values[w.identifier] = r.Values[w.identifier]
			w.set(rec, r)
			byKey[key] = rec
			created = append(created, rec.Record)
			r.Outcome = pipeline.Created
		} else {
			before := rec.Edits
			w.keep.Before(rec.Values)
			w.set(rec, r)
			var first bool
			if r.Outcome, first = rec.Outcome(before); first {
				changed = append(changed, rec.Record)
			}
			w.keep.Keep(r, first, &rec.Record)
		}
		r.EntityID = rec.ID
	}
	if err := store.UpdateObjectRecords(ctx, tx, w.t, c, acct, changed); err != nil {
		return err
	}
	return store.InsertObjectRecords(ctx, tx, w.t, c, acct, created)
}

// set sets the row's values on rec under the field policies (SPEC §5) and counts each real
// change in rec.Edits. The identifying value, which the row matched by, stays as stored; the prospect
// email is not stored, the link it resolved to is.
func (w *writer) set(rec *record, r *pipeline.Row) {
	for i, v := range r.Values {
		cur := rec.Values[i]
		if i == w.identifier || i == w.email || !w.policies.Takes(i, cur, v) {
			continue
		}
		if v = w.policies.Value(i, cur, v); cur != v {
			rec.Values[i] = v
			rec.Edits++
		}
	}
}
