// Package validate is the validate stage: it applies the value rules of SPEC §4 and §9 to every
// mapped value, turning each into its canonical form or dropping it with a field warning, and
// runs the row rules of the import's kind around them (which rows to skip, what a row must
// identify itself with).
package validate

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
)

// Rules are a kind's row rules. Both methods see one unskipped row at a time, in file order,
// and may skip it or change its values.
type Rules interface {
	// Before runs before the value rules, on the values as mapped.
	Before(r *pipeline.Row)
	// After runs after them, on canonical values, if Before did not skip the row.
	After(r *pipeline.Row)
}

// Validator is the validate stage. It is safe for one goroutine.
type Validator struct {
	catalog      *crm.Catalog
	rules        Rules
	owners       *Owners
	owner        int    // catalog index of the owner field (type crm.User), or -1
	defaultOwner string // user id of the owner option, or ""
}

// New returns the validate stage for an account's catalog and users under the import options,
// with a kind's row rules. The owner option fills the catalog's owner field (its field of type
// crm.User) on rows that give none; New fails when it names no user of the account.
func New(c *crm.Catalog, users []store.User, o crm.Options, rules Rules) (*Validator, error) {
	v := &Validator{catalog: c, rules: rules, owners: NewOwners(users), owner: -1}
	for i, f := range c.Fields {
		if f.Type == crm.User {
			v.owner = i
			break
		}
	}
	if o.Owner != "" {
		id, ok := v.owners.Resolve(o.Owner)
		if !ok {
			return nil, fmt.Errorf("%w: owner: no user %q in the account (by username, email or full name)", crm.ErrInvalidOptions, o.Owner)
		}
		v.defaultOwner = id
	}
	return v, nil
}

// Process validates every unskipped row of the batch.
func (v *Validator) Process(_ context.Context, b *pipeline.Batch) error {
	for i := range b.Rows {
		if r := &b.Rows[i]; !r.Skipped() {
			v.row(r)
		}
	}
	return nil
}

func (v *Validator) row(r *pipeline.Row) {
	if v.rules.Before(r); r.Skipped() {
		return
	}
	vals := r.Values
	ownerGiven := v.owner >= 0 && vals[v.owner] != ""
	for i, s := range vals {
		if s != "" {
			vals[i] = v.value(r, &v.catalog.Fields[i], s)
		}
	}
	if v.owner >= 0 && !ownerGiven {
		vals[v.owner] = v.defaultOwner // an owner that did not resolve stays unchanged instead
	}
	v.rules.After(r)
}

// value returns the canonical form of s for field f, or "" after recording a warning.
func (v *Validator) value(r *pipeline.Row, f *crm.Field, s string) string {
	switch f.Type {
	case crm.Email:
		if !crm.ValidEmail(s) {
			r.Warn(f.Key, pipeline.WarnInvalidEmail, s)
			return ""
		}
	case crm.Boolean:
		b, ok := crm.ParseBoolean(s)
		if !ok {
			r.Warn(f.Key, pipeline.WarnInvalidBoolean, s)
		}
		return b
	case crm.Picklist:
		opt, ok := crm.MatchOption(f.Options, s)
		if !ok {
			r.Warn(f.Key, pipeline.WarnInvalidPicklist, s)
		}
		return opt
	case crm.MultiPicklist:
		valid, invalid := crm.ParseMultiPicklist(f.Options, s)
		for _, bad := range invalid {
			r.Warn(f.Key, pipeline.WarnInvalidPicklist, bad)
		}
		return strings.Join(valid, ";")
	case crm.Date:
		d, ok := crm.ParseDate(s)
		if !ok {
			r.Warn(f.Key, pipeline.WarnInvalidDate, s)
		}
		return d
	case crm.Number:
		n, ok := crm.ParseNumber(s)
		if !ok {
			r.Warn(f.Key, pipeline.WarnInvalidNumber, s)
		}
		return n
	case crm.User:
		id, ok := v.owners.Resolve(s)
		if !ok {
			r.Warn(f.Key, pipeline.WarnOwnerNotFound, s)
		}
		return id
	}
	// A value has no more characters than bytes: only a longer one needs counting.
	if f.MaxLength > 0 && len(s) > f.MaxLength && crm.CharLen(s) > f.MaxLength {
		r.Warn(f.Key, pipeline.WarnValueTooLong, fmt.Sprintf("%d characters, at most %d", crm.CharLen(s), f.MaxLength))
		return ""
	}
	return s
}

// Owners resolves owner values (Lead Owner, a deal's Owner) to users of one account: by username, then email, then
// full name, case-insensitive and exact (SPEC §9).
type Owners struct {
	byUsername, byEmail, byFullName map[string]string
}

// NewOwners indexes an account's users; where two users share a name the older one wins.
func NewOwners(users []store.User) *Owners {
	o := &Owners{byUsername: map[string]string{}, byEmail: map[string]string{}, byFullName: map[string]string{}}
	for _, u := range users {
		id := strconv.FormatInt(u.ID, 10)
		for m, key := range map[*map[string]string]string{&o.byUsername: u.Username, &o.byEmail: u.Email, &o.byFullName: u.FullName} {
			k := strings.ToLower(strings.TrimSpace(key))
			if _, taken := (*m)[k]; k != "" && !taken {
				(*m)[k] = id
			}
		}
	}
	return o
}

// Resolve returns the user id (decimal) an owner value names.
func (o *Owners) Resolve(value string) (string, bool) {
	k := strings.ToLower(strings.TrimSpace(value))
	for _, m := range []map[string]string{o.byUsername, o.byEmail, o.byFullName} {
		if id, ok := m[k]; ok {
			return id, true
		}
	}
	return "", false
}
