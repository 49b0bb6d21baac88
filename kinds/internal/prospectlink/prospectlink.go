// Package prospectlink links the rows of an import of a kind whose records refer to a prospect
// (custom object records; deals) to the account's existing prospects, by the prospect's email
// given in the row's crm.FieldProspectEmail, compared case aside as the store compares emails.
// It never creates a prospect: a row whose prospect the account does not have stays unlinked,
// with the field warning prospect_not_found.
package prospectlink

import (
	"context"
	"strconv"
	"strings"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
)

// WarnProspectNotFound is the field warning of a row whose prospect email names no prospect of
// the account.
const WarnProspectNotFound = "prospect_not_found"

// Linker links the rows of one import. It is safe for one goroutine.
type Linker struct {
	accountID int64
	email     int // catalog index of crm.FieldProspectEmail
	link      int // catalog index of crm.FieldProspect
}

// New returns the linker of an import into an account whose catalog has the fields
// crm.FieldProspect and crm.FieldProspectEmail.
func New(c *crm.Catalog, accountID int64) *Linker {
	return &Linker{accountID: accountID, email: c.MustIndex(crm.FieldProspectEmail), link: c.MustIndex(crm.FieldProspect)}
}

// Batch holds the prospects one batch's rows can link to, loaded at once.
type Batch struct {
	l       *Linker
	byEmail map[string]int64 // lowercased email -> oldest prospect with it
}

// Load loads, in one query, the prospects the unskipped rows name by email.
func (l *Linker) Load(ctx context.Context, q store.Querier, rows []pipeline.Row) (*Batch, error) {
	var emails []string
	for i := range rows {
		if r := &rows[i]; !r.Skipped() && r.Values[l.email] != "" {
			emails = append(emails, strings.ToLower(r.Values[l.email]))
		}
	}
	b := &Batch{l: l, byEmail: make(map[string]int64, len(emails))}
	if len(emails) == 0 {
		return b, nil
	}
	found, err := store.LoadProspectRefs(ctx, q, l.accountID, emails, nil, nil)
	if err != nil {
		return nil, err
	}
	for _, p := range found { // oldest first
		if e := strings.ToLower(p.Email); e != "" {
			if _, ok := b.byEmail[e]; !ok {
				b.byEmail[e] = p.ID
			}
		}
	}
	return b, nil
}

// Link sets the row's link to a prospect from its prospect email: the id (decimal) of the
// account's prospect with that email, else no link and the warning prospect_not_found. A value
// the file gave the link field itself is never kept: only an email links.
func (b *Batch) Link(r *pipeline.Row) {
	l := b.l
	r.Values[l.link] = ""
	e := r.Values[l.email]
	if e == "" {
		return
	}
	if id, ok := b.byEmail[strings.ToLower(e)]; ok {
		r.Values[l.link] = strconv.FormatInt(id, 10)
		return
	}
	r.Warn(crm.FieldProspectEmail, WarnProspectNotFound, e)
}
