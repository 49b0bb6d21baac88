package prospects

// Matching rows to prospects (SPEC §6): by email, then by the unique identifier, then — only
// with match_by_name — by first and last name. A matchIndex holds the prospects a batch can
// match, loaded from Postgres, and follows every change the batch makes to them, so that a
// later row matches a prospect an earlier row created or re-identified: the outcome is the one
// of applying the rows one at a time in file order.

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/kinds/internal/apply"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
)

// prospect is a prospect the batch may match, with what the batch did to it.
type prospect struct {
	store.Prospect
	apply.Tracked
	// StoredEmail is the email the prospect had when loaded.
	StoredEmail string
	// lowerEmail caches its email in lowercase, the key the index holds it under; read it
	// through emailKey, or emailKeyNow where another goroutine may read the prospect.
	lowerEmail lowered
}

// lowered is a string's lowercase form, kept until the string changes: a prospect's email is
// lowercased once for all the index's uses, not once for each (a quarter of the bench's
// emails have capitals, and each ToLower of one allocates).
type lowered struct{ of, lower string }

// get returns s in lowercase, and keeps it for s.
func (l *lowered) get(s string) string {
	if s != l.of {
		l.of, l.lower = s, strings.ToLower(s)
	}
	return l.lower
}

// peek returns s in lowercase, keeping nothing.
func (l *lowered) peek(s string) string {
	if s == l.of {
		return l.lower
	}
	return strings.ToLower(s)
}

// emailKey is the prospect's email in lowercase, the key the index holds it under.
func (p *prospect) emailKey(emailField int) string {
	return p.lowerEmail.get(p.Values[emailField])
}

// emailKeyNow is emailKey without writing to the prospect, for a reader that runs beside
// another (ownWrites.wrote, beside the next batch's overlay reading the same prospects).
func (p *prospect) emailKeyNow(emailField int) string {
	return p.lowerEmail.peek(p.Values[emailField])
}

// emailMoved reports whether the batch changed the email of a stored prospect.
func (p *prospect) emailMoved(emailField int) bool {
	return !p.Created && p.StoredEmail != "" && !strings.EqualFold(p.StoredEmail, p.Values[emailField])
}

// matchIndex finds the prospect a row matches. It is not safe for concurrent use.
type matchIndex struct {
	email, unique, first, last int // catalog indexes; unique is -1 when unset
	byName                     bool
	loaded                     []*prospect // the prospects read from the database
	byEmail                    map[string]*prospect
	rowEmails                  []string // per row of the batch the index was loaded for: its email in lowercase, "" when it has none or was skipped then
	byUnique                   *apply.Index[string, *prospect]
	byFullName                 *apply.Index[[2]string, *prospect]
}

func prospectID(p *prospect) int64 { return p.ID }

// matchConfig says how rows match.
type matchConfig struct {
	Catalog     *crm.Catalog
	AccountID   int64
	UniqueField int // catalog index, or -1
	MatchByName bool
}

// loadIndex builds the index for a batch: it loads, in one query per kind of identity, every
// prospect of the account that one of the batch's unskipped rows could match, less what
// leaveOut takes out of the lookup (nil: nothing; ownWrites.asOf). It keeps each row's email in
// lowercase (rowEmails) for match and overlay, which take the same rows.
func loadIndex(ctx context.Context, q store.Querier, cfg matchConfig, rows []pipeline.Row, leaveOut func(*store.ProspectLookup) int) (*matchIndex, error) {
	x := &matchIndex{
		email:      cfg.Catalog.MustIndex(crm.FieldEmail),
		unique:     cfg.UniqueField,
		first:      cfg.Catalog.MustIndex(crm.FieldFirstName),
		last:       cfg.Catalog.MustIndex(crm.FieldLastName),
		byName:     cfg.MatchByName,
		byEmail:    make(map[string]*prospect, len(rows)),
		rowEmails:  make([]string, len(rows)),
		byUnique:   apply.NewIndex[string](prospectID),
		byFullName: apply.NewIndex[[2]string](prospectID),
	}
	l := store.ProspectLookup{UniqueField: cfg.UniqueField}
	for i := range rows {
		r := &rows[i]
		if r.Skipped() {
			continue
		}
		if e := r.Values[x.email]; e != "" {
			x.rowEmails[i] = strings.ToLower(e)
			l.Emails = append(l.Emails, x.rowEmails[i])
		}
		if x.unique >= 0 && r.Values[x.unique] != "" {
			l.UniqueValues = append(l.UniqueValues, r.Values[x.unique])
		}
		if k, ok := x.nameKey(r.Values); ok {
			l.FirstNames = append(l.FirstNames, k[0])
			l.LastNames = append(l.LastNames, k[1])
		}
	}
	skipped := 0
	if leaveOut != nil {
		skipped = leaveOut(&l)
	}
	pipeline.CountLookups(len(l.Emails)+len(l.UniqueValues)+len(l.FirstNames), skipped)
	found, err := store.LoadProspects(ctx, q, cfg.Catalog, cfg.AccountID, l)
	if err != nil {
		return nil, err
	}
	x.loaded = make([]*prospect, len(found))
	for i, p := range found {
		x.loaded[i] = &prospect{Prospect: p, StoredEmail: p.Values[x.email]}
		x.add(x.loaded[i])
	}
	return x, nil
}

// nameKey is the lowercased first and last name of values, when matching by name and at least
// one of them is given.
func (x *matchIndex) nameKey(values []string) ([2]string, bool) {
	if !x.byName || (values[x.first] == "" && values[x.last] == "") {
		return [2]string{}, false
	}
	return [2]string{strings.ToLower(values[x.first]), strings.ToLower(values[x.last])}, true
}

// match returns the prospect a row's values identify, or nil for a new prospect; email is the
// row's email in lowercase (rowEmails).
func (x *matchIndex) match(email string, values []string) *prospect {
	if email != "" {
		if p := x.byEmail[email]; p != nil {
			return p
		}
	}
	if x.unique >= 0 && values[x.unique] != "" {
		if p, ok := x.byUnique.First(values[x.unique]); ok {
			return p
		}
	}
	if k, ok := x.nameKey(values); ok {
		if p, ok := x.byFullName.First(k); ok {
			return p
		}
	}
	return nil
}

// created is a new prospect for row i of the batch, its email in lowercase known from the row
// for when the row's email is what it gets.
func (x *matchIndex) created(id int64, i int, row []string) *prospect {
	return &prospect{Prospect: store.Prospect{ID: id, Values: make([]string, len(row))}, Tracked: apply.Tracked{Created: true},
		lowerEmail: lowered{of: row[x.email], lower: x.rowEmails[i]}}
}

// add indexes a prospect.
func (x *matchIndex) add(p *prospect) {
	if p.Values[x.email] != "" {
		x.byEmail[p.emailKey(x.email)] = p
	}
	if x.unique >= 0 && p.Values[x.unique] != "" {
		x.byUnique.Add(p.Values[x.unique], p)
	}
	if k, ok := x.nameKey(p.Values); ok {
		x.byFullName.Add(k, p)
	}
}

// remove takes a prospect out of the index, before one of its identities changes.
func (x *matchIndex) remove(p *prospect) {
	if p.Values[x.email] != "" {
		if e := p.emailKey(x.email); x.byEmail[e] == p {
			delete(x.byEmail, e)
		}
	}
	if x.unique >= 0 && p.Values[x.unique] != "" {
		x.byUnique.Remove(p.Values[x.unique], p)
	}
	if k, ok := x.nameKey(p.Values); ok {
		x.byFullName.Remove(k, p)
	}
}

// set changes field i of p to v, keeping the index in step when i is an identity.
func (x *matchIndex) set(p *prospect, i int, v string) {
	if i != x.email && i != x.unique && i != x.first && i != x.last {
		p.Values[i] = v
		return
	}
	x.remove(p)
	p.Values[i] = v
	x.add(p)
}

// overlay brings the index, read before the batch before (prev) committed, up to date with
// what prev wrote, for the batch's rows: each prospect read that prev changed is replaced by
// prev's version, under its new identities, and each prospect prev's index holds under an
// identity of the rows (one prev created, or changed to have it) is added when missing. at is
// prev's transaction time, the updated_at of what it wrote. The index then finds for each row
// what reading it again would have found.
func (x *matchIndex) overlay(prev *matchIndex, changed map[int64]*prospect, at time.Time, rows []pipeline.Row) {
	have := make(map[int64]bool, len(x.loaded))
	for _, p := range x.loaded {
		have[p.ID] = true
		if q := changed[p.ID]; q != nil {
			x.remove(p)
			x.add(q.settled(x.email, at))
		}
	}
	take := func(q *prospect) {
		if !have[q.ID] {
			have[q.ID] = true
			x.add(q.settled(x.email, at))
		}
	}
	for i := range rows {
		r := &rows[i]
		if r.Skipped() {
			continue
		}
		if e := x.rowEmails[i]; e != "" {
			if q := prev.byEmail[e]; q != nil {
				take(q)
			}
		}
		if x.unique >= 0 && r.Values[x.unique] != "" {
			for _, q := range prev.byUnique.All(r.Values[x.unique]) {
				take(q)
			}
		}
		if k, ok := x.nameKey(r.Values); ok {
			for _, q := range prev.byFullName.All(k) {
				take(q)
			}
		}
	}
}

// settled is a copy of p as the batch that wrote it left it in the database, for a later
// batch to match: written at at when that batch created or changed it.
func (p *prospect) settled(emailField int, at time.Time) *prospect {
	updated := p.UpdatedAt
	if p.Created || p.Edits > 0 {
		updated = at
	}
	return &prospect{
		Prospect:    store.Prospect{ID: p.ID, Values: slices.Clone(p.Values), UpdatedAt: updated},
		StoredEmail: p.Values[emailField],
		lowerEmail:  p.lowerEmail,
	}
}
