// Package validate is the validate stage: it applies the value rules of SPEC §4 and §9 to every
// mapped value, turning each into its canonical form or dropping it with a field warning, and
// skips rows whose email is invalid or that carry no identifier at all.
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

// Validator is the validate stage. It is safe for one goroutine.
type Validator struct {
	catalog                             *crm.Catalog
	owners                              *Owners
	defaultOwner                        string // user id of the owner option, or ""
	uniqueField                         int    // catalog index of the unique identifier, or -1
	splitName                           bool
	email, first, last, owner, fullName int
}

// New returns the validate stage for an account's catalog and users under the import options.
// It fails when the owner option names no user of the account.
func New(c *crm.Catalog, users []store.User, o crm.Options) (*Validator, error) {
	v := &Validator{
		catalog:     c,
		owners:      NewOwners(users),
		uniqueField: -1,
		splitName:   o.SplitFullName,
		email:       c.MustIndex(crm.FieldEmail),
		first:       c.MustIndex(crm.FieldFirstName),
		last:        c.MustIndex(crm.FieldLastName),
		owner:       c.MustIndex(crm.FieldLeadOwner),
		fullName:    c.MustIndex(crm.FieldFullName),
	}
	if o.UniqueIdentifier != "" {
		v.uniqueField = c.Index(o.UniqueIdentifier)
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
	vals := r.Values
	if e := vals[v.email]; e != "" && !crm.ValidEmail(e) {
		r.Skip(pipeline.ReasonInvalidEmail, fmt.Sprintf("%q is not a valid email address", e))
		return
	}
	if v.splitName && vals[v.fullName] != "" {
		first, last := crm.SplitFullName(vals[v.fullName])
		if vals[v.first] == "" {
			vals[v.first] = first
		}
		if vals[v.last] == "" {
			vals[v.last] = last
		}
	}
	vals[v.fullName] = ""
	ownerGiven := vals[v.owner] != ""
	for i, s := range vals {
		if s != "" && i != v.email {
			vals[i] = v.value(r, v.catalog.Fields[i], s)
		}
	}
	if !ownerGiven {
		vals[v.owner] = v.defaultOwner // an owner that did not resolve stays unchanged instead
	}
	if vals[v.email] == "" && vals[v.first] == "" && vals[v.last] == "" &&
		(v.uniqueField < 0 || vals[v.uniqueField] == "") {
		r.Skip(pipeline.ReasonMissingIdentifier, "the row has no email, no unique identifier and no first or last name")
	}
}

// value returns the canonical form of s for field f, or "" after recording a warning.
func (v *Validator) value(r *pipeline.Row, f crm.Field, s string) string {
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
	if f.MaxLength > 0 && crm.CharLen(s) > f.MaxLength {
		r.Warn(f.Key, pipeline.WarnValueTooLong, fmt.Sprintf("%d characters, at most %d", crm.CharLen(s), f.MaxLength))
		return ""
	}
	return s
}

// Owners resolves Lead Owner values to users of one account: by username, then email, then
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

// Resolve returns the user id (decimal) a Lead Owner value names.
func (o *Owners) Resolve(value string) (string, bool) {
	k := strings.ToLower(strings.TrimSpace(value))
	for _, m := range []map[string]string{o.byUsername, o.byEmail, o.byFullName} {
		if id, ok := m[k]; ok {
			return id, true
		}
	}
	return "", false
}
