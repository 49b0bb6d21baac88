package organizations

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/kind"
	"github.com/leadpipe/leadpipe/kinds/internal/apply"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
)

// The writer of organization batches. Each batch, in the transaction the engine opened for it,
// takes the account's lock (store.LockAccount: no unique index keeps two concurrent imports
// from creating the same organization), loads the organizations its rows can match (one query
// per identity), applies the rows one at a time in file order in memory (SPEC §5, §6), then
// writes the new organizations with COPY and the changed ones with one UPDATE; the engine then
// records the batch's outcomes and checkpoint and commits them together. A later row — of the
// batch or of a later one — matches an organization an earlier row created, renamed or gave a
// domain.

// writer writes the batches of one import. It is safe for one goroutine.
type writer struct {
	plan         *kind.Plan
	name, domain int // catalog indexes
	unique       int // catalog index of the unique identifier, or -1
	policies     apply.Policies
	ids          *store.IDPool
	keep         *apply.Keeper
}

// newWriter returns the writer of a plan's batches.
func newWriter(p *kind.Plan) *writer {
	c := p.Catalog
	w := &writer{
		plan:     p,
		name:     c.MustIndex(crm.FieldName),
		domain:   c.MustIndex(crm.FieldDomain),
		unique:   -1,
		policies: apply.NewPolicies(c, p.Options),
		ids:      store.NewIDPool("organization"),
		keep:     apply.NewKeeper(c, store.StoredOrganizationFields(c)),
	}
	if k := p.Options.UniqueIdentifier; k != "" {
		w.unique = c.Index(k)
	}
	return w
}

// organization is an organization the batch may match, with what the batch did to it.
type organization struct {
	store.Record
	apply.Tracked
}

func orgID(o *organization) int64 { return o.ID }

// index finds the organization a row matches: the oldest with the row's unique identifier
// value, else with its normalised name, else with its domain. It follows every change the
// batch makes to those keys.
type index struct {
	w                          *writer
	byUnique, byName, byDomain *apply.Index[string, *organization]
}

// keys are the match keys of values: the unique identifier's value, the normalised name, and
// the domain unless a free-mail provider's; "" for none.
func (w *writer) keys(values []string) (unique, name, domain string) {
	if w.unique >= 0 {
		unique = values[w.unique]
	}
	return unique, crm.NormalizeOrgName(values[w.name]), matchDomain(values[w.domain])
}

func (x *index) match(values []string) *organization {
	u, n, d := x.w.keys(values)
	for _, k := range []struct {
		by  *apply.Index[string, *organization]
		key string
	}{{x.byUnique, u}, {x.byName, n}, {x.byDomain, d}} {
		if k.key == "" {
			continue
		}
		if o, ok := k.by.First(k.key); ok {
			return o
		}
	}
	return nil
}

// add indexes o under its keys; remove takes it out, before one of them changes.
func (x *index) add(o *organization) { x.each(o, (*apply.Index[string, *organization]).Add) }

func (x *index) remove(o *organization) {
	x.each(o, (*apply.Index[string, *organization]).Remove)
}

func (x *index) each(o *organization, f func(*apply.Index[string, *organization], string, *organization)) {
	u, n, d := x.w.keys(o.Values)
	for _, k := range []struct {
		by  *apply.Index[string, *organization]
		key string
	}{{x.byUnique, u}, {x.byName, n}, {x.byDomain, d}} {
		if k.key != "" {
			f(k.by, k.key, o)
		}
	}
}

// Write applies and writes one batch in tx.
func (w *writer) Write(ctx context.Context, tx pgx.Tx, b *pipeline.Batch) error {
	c, account, o := w.plan.Catalog, w.plan.Account.ID, w.plan.Options
	if !w.plan.DryRun {
		if err := store.LockAccount(ctx, tx, account); err != nil {
			return err
		}
	}
	keys := store.OrganizationKeys{UniqueField: w.unique}
	for i := range b.Rows {
		if r := &b.Rows[i]; !r.Skipped() {
			u, n, d := w.keys(r.Values)
			keys.UniqueValues, keys.NameKeys, keys.Domains = appendKey(keys.UniqueValues, u), appendKey(keys.NameKeys, n), appendKey(keys.Domains, d)
		}
	}
	found, err := store.LoadOrganizationRecords(ctx, tx, c, account, keys)
	if err != nil {
		return err
	}
	x := &index{w: w, byUnique: apply.NewIndex[string](orgID), byName: apply.NewIndex[string](orgID), byDomain: apply.NewIndex[string](orgID)}
	for _, r := range found {
		x.add(&organization{Record: r})
	}
	var created, changed []store.Record // sharing their Values with the organizations of x
	for i := range b.Rows {
		r := &b.Rows[i]
		if r.Skipped() {
			continue
		}
		org := x.match(r.Values)
		var matched int64
		if org != nil {
			matched = org.ID
		}
		if reason, detail := apply.Skip(o, w.plan.Kind.Noun(), matched); reason != "" {
			r.Skip(reason, detail)
			continue
		}
		switch {
		case org == nil && r.Values[w.name] == "":
			r.Skip(pipeline.ReasonMissingIdentifier, "no organization matches the row, and a new organization needs a name")
			continue
		case org == nil:
			id, err := w.ids.Next(ctx, tx)
			if err != nil {
				return err
			}
			org = &organization{Record: store.Record{ID: id, Values: make([]string, len(c.Fields))}, Tracked: apply.Tracked{Created: true}}
			w.set(org, r.Values)
			x.add(org)
			created = append(created, org.Record)
			r.Outcome = pipeline.Created
		default:
			before := org.Edits
			w.keep.Before(org.Values)
			x.remove(org) // its name or domain may change
			w.set(org, r.Values)
			x.add(org)
			var first bool
			if r.Outcome, first = org.Outcome(before); first {
				changed = append(changed, org.Record)
			}
			w.keep.Keep(r, first, &org.Record)
		}
		r.EntityID = org.ID
	}
	if err := store.UpdateOrganizationRecords(ctx, tx, c, account, changed); err != nil {
		return err
	}
	return store.InsertOrganizationRecords(ctx, tx, c, account, created)
}

// set sets a row's values on org under the field policies (SPEC §5) and counts each real
// change in org.Edits. A name with the same normalised name as the stored one is no change:
// the stored spelling stays.
func (w *writer) set(org *organization, values []string) {
	for i, v := range values {
		cur := org.Values[i]
		if !w.policies.Takes(i, cur, v) {
			continue
		}
		v = w.policies.Value(i, cur, v)
		if cur == v || (i == w.name && crm.NormalizeOrgName(cur) == crm.NormalizeOrgName(v)) {
			continue
		}
		org.Values[i] = v
		org.Edits++
	}
}

// appendKey appends a key to look up, unless it is none.
func appendKey(keys []string, k string) []string {
	if k == "" {
		return keys
	}
	return append(keys, k)
}
