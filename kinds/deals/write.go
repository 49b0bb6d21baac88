package deals

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/kind"
	"github.com/leadpipe/leadpipe/kinds/internal/apply"
	"github.com/leadpipe/leadpipe/kinds/internal/orglink"
	"github.com/leadpipe/leadpipe/kinds/internal/prospectlink"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
)

// The writer of deal batches. Each batch, in the transaction the engine opened for it, takes the
// account's lock, loads the prospects its rows name, the organizations and the deals they can
// match, applies the rows one at a time in file order in memory, then writes new organizations,
// new deals (COPY) and changed deals (one UPDATE); the engine then records the batch's outcomes
// and checkpoint and commits them together.

// writer writes the batches of one import. It is safe for one goroutine.
type writer struct {
	plan      *kind.Plan
	policies  apply.Policies
	orgs      *orglink.Linker
	prospects *prospectlink.Linker
	// linkOff is set when the prospect link's policy is ignore: rows link no prospect.
	linkOff bool
	unique  int // catalog index of the unique identifier, or -1
	// catalog indexes of the deal's name and organization, and of the fields that name its
	// prospect, which are not stored
	name, org, email, first, last int
	dealIDs                       *store.IDPool
	keep                          *apply.Keeper
}

// newWriter returns the writer of a plan's batches.
func newWriter(p *kind.Plan) *writer {
	c := p.Catalog
	w := &writer{
		plan:      p,
		policies:  apply.NewPolicies(c, p.Options),
		prospects: prospectlink.New(c, p.Account.ID),
		linkOff:   p.Options.PolicyFor(crm.FieldProspect) == crm.Ignore,
		unique:    -1,
		name:      c.MustIndex(crm.FieldName),
		org:       c.MustIndex(crm.FieldOrganization),
		email:     c.MustIndex(crm.FieldProspectEmail),
		first:     c.MustIndex(crm.FieldProspectFirstName),
		last:      c.MustIndex(crm.FieldProspectLastName),
		dealIDs:   store.NewIDPool("deal"),
		keep:      apply.NewKeeper(c, store.StoredDealFields(c)),
	}
	// A deal's organization matches by the domain of its prospect's email (SPEC §7).
	w.orgs = orglink.New(c, p.Account.ID, func(v []string) string { return crm.OrgDomain("", v[w.email]) })
	if k := p.Options.UniqueIdentifier; k != "" {
		w.unique = c.Index(k)
	}
	return w
}

// Write applies and writes one batch in tx.
func (s *writer) Write(ctx context.Context, tx pgx.Tx, b *pipeline.Batch) error {
	// Deals and organizations have no unique index to guard them: concurrent imports into the
	// account (of deals, prospects or organizations) write one batch after another. A dry run
	// writes nothing to guard.
	if !s.plan.DryRun {
		if err := store.LockAccount(ctx, tx, s.plan.Account.ID); err != nil {
			return err
		}
	}
	var prospects *prospectlink.Batch
	if !s.linkOff {
		var err error
		if prospects, err = s.prospects.Load(ctx, tx, b.Rows); err != nil {
			return err
		}
	}
	orgs, err := s.orgs.Load(ctx, tx, b.Rows)
	if err != nil {
		return err
	}
	idx, err := loadDeals(ctx, tx, s.plan.Catalog, s.plan.Account.ID, s.unique, orgs, b.Rows)
	if err != nil {
		return err
	}
	var created, changed []*deal
	for i := range b.Rows {
		r := &b.Rows[i]
		if r.Skipped() {
			continue
		}
		d := idx.match(r.Values, orgs)
		var matched int64
		if d != nil {
			matched = d.ID
		}
		if reason, detail := apply.Skip(s.plan.Options, s.plan.Kind.Noun(), matched); reason != "" {
			r.Skip(reason, detail)
			continue
		}
		if d == nil && r.Values[s.name] == "" {
			r.Skip(pipeline.ReasonMissingIdentifier, fmt.Sprintf("no deal has %s %q, and the row has no name to create one with",
				s.plan.Options.UniqueIdentifier, r.Values[s.unique]))
			continue
		}
		// A skipped row links no prospect, and so warns of none.
		if prospects != nil {
			prospects.Link(r)
		}
		if d == nil {
			id, err := s.dealIDs.Next(ctx, tx)
			if err != nil {
				return err
			}
			d = &deal{Record: store.Record{ID: id, Values: make([]string, len(r.Values))}, Tracked: apply.Tracked{Created: true}}
			if err := s.apply(ctx, tx, idx, orgs, b, d, r, true); err != nil {
				return err
			}
			idx.add(d)
			created = append(created, d)
			r.Outcome = pipeline.Created
		} else {
			before := d.Edits
			s.keep.Before(d.Values)
			if err := s.apply(ctx, tx, idx, orgs, b, d, r, false); err != nil {
				return err
			}
			var first bool
			if r.Outcome, first = d.Outcome(before); first {
				changed = append(changed, d)
			}
			s.keep.Keep(r, first, &d.Record)
		}
		r.EntityID = d.ID
	}
	orgsCreated, err := orgs.Write(ctx, tx)
	if err != nil {
		return err
	}
	b.Count(orglink.CounterCreated, orgsCreated)
	if err := store.UpdateDeals(ctx, tx, s.plan.Catalog, s.plan.Account.ID, plain(changed)); err != nil {
		return err
	}
	return store.InsertDeals(ctx, tx, s.plan.Catalog, s.plan.Account.ID, plain(created))
}

// apply sets the row's values on d under the field policies (SPEC §5) and counts each real
// change in d.Edits. isNew says d is being created by this row, not yet indexed. The fields
// that name the prospect are not stored: the prospect link holds what they resolved to.
func (s *writer) apply(ctx context.Context, tx pgx.Tx, idx *dealIndex, orgs *orglink.Batch, b *pipeline.Batch, d *deal, r *pipeline.Row, isNew bool) error {
	for i, v := range r.Values {
		cur := d.Values[i]
		if i == s.email || i == s.first || i == s.last || !s.policies.Takes(i, cur, v) {
			continue
		}
		if i == s.org {
			id, err := orgs.Resolve(ctx, tx, r)
			if err != nil {
				return err
			}
			if v = id; v == "" {
				continue
			}
		}
		if v = s.policies.Value(i, cur, v); cur == v {
			continue
		}
		if isNew {
			d.Values[i] = v
		} else {
			idx.set(d, i, v)
		}
		d.Edits++
		if i == s.org {
			b.Count(orglink.CounterLinked, 1)
		}
	}
	return nil
}

func plain(ds []*deal) []store.Record {
	out := make([]store.Record, len(ds))
	for i, d := range ds {
		out[i] = d.Record
	}
	return out
}
