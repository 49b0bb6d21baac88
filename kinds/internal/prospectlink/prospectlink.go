// Package prospectlink links the rows of an import of a kind whose records refer to a prospect
// (custom object records; deals) to the account's existing prospects: by the prospect's email
// given in the row's crm.FieldProspectEmail, compared case aside as the store compares emails,
// else — for a kind whose catalog has crm.FieldProspectFirstName and crm.FieldProspectLastName
// — by first and last name together, case aside. It never creates a prospect: a row whose
// prospect the account does not have stays unlinked, with the field warning prospect_not_found.
package prospectlink

import (
	"context"
	"strconv"
	"strings"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
)

// WarnProspectNotFound is the field warning of a row whose prospect email, or name, names no
// prospect of the account.
const WarnProspectNotFound = "prospect_not_found"

// Linker links the rows of one import. It is safe for one goroutine.
type Linker struct {
	accountID int64
	email     int // catalog index of crm.FieldProspectEmail
	link      int // catalog index of crm.FieldProspect
	// first and last are the catalog indexes of the prospect's name fields; -1 when the kind
	// links by email only.
	first, last int
}

// New returns the linker of an import into an account whose catalog has the fields
// crm.FieldProspect and crm.FieldProspectEmail, and may have the prospect's name fields.
func New(c *crm.Catalog, accountID int64) *Linker {
	l := &Linker{accountID: accountID, email: c.MustIndex(crm.FieldProspectEmail), link: c.MustIndex(crm.FieldProspect),
		first: c.Index(crm.FieldProspectFirstName), last: c.Index(crm.FieldProspectLastName)}
	if l.first < 0 || l.last < 0 {
		l.first, l.last = -1, -1
	}
	return l
}

// name returns the lowercased first and last name a row gives its prospect; ok is false when
// it gives none (or the kind links by email only).
func (l *Linker) name(values []string) (name [2]string, ok bool) {
	if l.first < 0 {
		return name, false
	}
	name = [2]string{strings.ToLower(values[l.first]), strings.ToLower(values[l.last])}
	return name, name != [2]string{}
}

// Batch holds the prospects one batch's rows can link to, loaded at once.
type Batch struct {
	l       *Linker
	byEmail map[string]int64    // lowercased email -> oldest prospect with it
	byName  map[[2]string]int64 // lowercased first and last name -> oldest prospect with them
}

// Load loads, in one query per kind of identity, the prospects the unskipped rows name: by
// email, or by name when they give no email.
func (l *Linker) Load(ctx context.Context, q store.Querier, rows []pipeline.Row) (*Batch, error) {
	var emails, firsts, lasts []string
	for i := range rows {
		r := &rows[i]
		if r.Skipped() {
			continue
		}
		if e := r.Values[l.email]; e != "" {
			emails = append(emails, strings.ToLower(e))
		} else if name, ok := l.name(r.Values); ok {
			firsts, lasts = append(firsts, name[0]), append(lasts, name[1])
		}
	}
	b := &Batch{l: l, byEmail: make(map[string]int64, len(emails)), byName: make(map[[2]string]int64, len(firsts))}
	if len(emails) == 0 && len(firsts) == 0 {
		return b, nil
	}
	found, err := store.LoadProspectRefs(ctx, q, l.accountID, emails, firsts, lasts)
	if err != nil {
		return nil, err
	}
	for _, p := range found { // oldest first: the first of each key stays
		if e := strings.ToLower(p.Email); e != "" {
			if _, ok := b.byEmail[e]; !ok {
				b.byEmail[e] = p.ID
			}
		}
		k := [2]string{strings.ToLower(p.FirstName), strings.ToLower(p.LastName)}
		if _, ok := b.byName[k]; !ok && k != [2]string{} {
			b.byName[k] = p.ID
		}
	}
	return b, nil
}

// Link sets the row's link to a prospect from its prospect email: the id (decimal) of the
// account's prospect with that email, else no link and the warning prospect_not_found on the
// email. A row without an email links by name the same way, the warning on the first name
// field (the last name's when it gives only that) with the name it gave. A value the file gave
// the link field itself is never kept.
func (b *Batch) Link(r *pipeline.Row) {
	l := b.l
	r.Values[l.link] = ""
	if e := r.Values[l.email]; e != "" {
		linkTo(r, l.link, b.byEmail, strings.ToLower(e), crm.FieldProspectEmail, e)
		return
	}
	name, ok := l.name(r.Values)
	if !ok {
		return
	}
	field := crm.FieldProspectFirstName
	if r.Values[l.first] == "" {
		field = crm.FieldProspectLastName
	}
	linkTo(r, l.link, b.byName, name, field, strings.TrimSpace(r.Values[l.first]+" "+r.Values[l.last]))
}

// linkTo sets the row's link (catalog index link) to the prospect ids[key], or warns
// prospect_not_found on field with the value the row gave.
func linkTo[K comparable](r *pipeline.Row, link int, ids map[K]int64, key K, field, given string) {
	if id, ok := ids[key]; ok {
		r.Values[link] = strconv.FormatInt(id, 10)
		return
	}
	r.Warn(field, WarnProspectNotFound, given)
}
