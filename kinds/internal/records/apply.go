package records

import (
	"context"
	"fmt"
	"strings"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
)

// Applier applies the rows of a kind's batches to the records they match. It is safe for one
// goroutine.
type Applier struct {
	// Noun names one record in skip details: "prospect".
	Noun    string
	Options crm.Options
	// Policies are the field policies (SPEC §5), one per catalog field.
	Policies []crm.Policy
	// IDs gives the ids of new records.
	IDs *store.IDPool
	// Admit, when set, is asked before a row that matches no record creates one (create_new
	// allowing): it returns "" to let it, else the reason and detail to skip the row with.
	Admit func(r *pipeline.Row) (reason, detail string)
	// Resolve, when set, turns a row's value of field i, once its policy lets the field change,
	// into the value to store (a link's id); "" leaves the field as it is.
	Resolve func(ctx context.Context, q store.Querier, i int, values []string) (string, error)
	// Same, when set, says whether two values of field i are the same (an email's case).
	Same func(i int, a, b string) bool
	// OnChange, when set, is told of each change a row makes to a field i of a record.
	OnChange func(i int)
	// Completed, when set, completes a record a row created, before later rows can match it.
	Completed func(r *Record)
}

// Apply applies the unskipped rows in file order to the records of x they match (Index.Match),
// creating a record for a row that matches none, and sets each row's outcome and record id, or
// skips it (new_not_allowed, existing_not_updated, or Admit's reason). It returns the records
// the rows created and the existing records they changed, each once, in the order of the first
// row that did.
func (a *Applier) Apply(ctx context.Context, q store.Querier, x *Index, rows []pipeline.Row) (created, changed []*Record, err error) {
	for i := range rows {
		r := &rows[i]
		if r.Skipped() {
			continue
		}
		rec := x.Match(r.Values)
		switch {
		case rec == nil && !a.Options.AllowCreate():
			r.Skip(pipeline.ReasonNewNotAllowed, fmt.Sprintf("no %s matches the row and create_new is off", a.Noun))
			continue
		case rec == nil:
			if a.Admit != nil {
				if reason, detail := a.Admit(r); reason != "" {
					r.Skip(reason, detail)
					continue
				}
			}
			id, err := a.IDs.Next(ctx, q)
			if err != nil {
				return nil, nil, err
			}
			rec = &Record{Record: store.Record{ID: id, Values: make([]string, len(r.Values))}, Created: true}
			if err := a.apply(ctx, q, x, rec, r.Values); err != nil {
				return nil, nil, err
			}
			if a.Completed != nil {
				a.Completed(rec)
			}
			x.Add(rec)
			created = append(created, rec)
			r.Outcome = pipeline.Created
		case !a.Options.AllowUpdate():
			r.Skip(pipeline.ReasonExistingNotUpdated, fmt.Sprintf("the row matches %s %d and update_existing is off", a.Noun, rec.ID))
			continue
		default:
			before := rec.Edits
			if err := a.apply(ctx, q, x, rec, r.Values); err != nil {
				return nil, nil, err
			}
			r.Outcome = pipeline.Unchanged
			if rec.Edits != before {
				r.Outcome = pipeline.Updated
				if !rec.Created && !rec.Changed {
					rec.Changed = true
					changed = append(changed, rec)
				}
			}
		}
		r.EntityID = rec.ID
	}
	return created, changed, nil
}

// apply sets a row's values on rec under the field policies (SPEC §5) and counts each real
// change in rec.Edits.
func (a *Applier) apply(ctx context.Context, q store.Querier, x *Index, rec *Record, values []string) error {
	for i, v := range values {
		if v == "" {
			continue
		}
		policy := a.Policies[i]
		cur := rec.Values[i]
		if policy == crm.Ignore || (policy == crm.UpdateIfEmpty && cur != "") {
			continue
		}
		if a.Resolve != nil {
			var err error
			if v, err = a.Resolve(ctx, q, i, values); err != nil {
				return err
			}
			if v == "" {
				continue
			}
		}
		if policy == crm.Merge && cur != "" {
			v = strings.Join(crm.MergeMulti(strings.Split(cur, ";"), strings.Split(v, ";")), ";")
		}
		if cur == v || (a.Same != nil && a.Same(i, cur, v)) {
			continue
		}
		x.Set(rec, i, v)
		rec.Edits++
		if a.OnChange != nil {
			a.OnChange(i)
		}
	}
	return nil
}

// Plain returns the stored form of records.
func Plain(rs []*Record) []store.Record {
	out := make([]store.Record, len(rs))
	for i, r := range rs {
		out[i] = r.Record
	}
	return out
}

// Policies returns the policy of each field of the catalog under the options.
func Policies(c *crm.Catalog, o crm.Options) []crm.Policy {
	out := make([]crm.Policy, len(c.Fields))
	for i, f := range c.Fields {
		out[i] = o.PolicyFor(f.Key)
	}
	return out
}
