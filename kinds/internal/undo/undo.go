// Package undo takes an import's rows back, for every kind (kind.Kind.Undoer): it deletes the
// records a row created, puts back the fields a row changed where nobody changed them since,
// removes the memberships the import added, and the organizations it created on the side that
// nothing links to any more. What differs between kinds — the table, what links to its
// records, memberships and the prospect count, values unique in the account — is a Kind.
// docs/kinds.md, "Undoing an import", has the contract; SPLIT13.md's design the rules.
package undo

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/kind"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
)

// CounterOrganizationsDeleted counts the organizations an undo deleted because its import had
// created them on the side (pipeline.Undo.Made) and nothing links to them any more.
const CounterOrganizationsDeleted = "organizations_deleted"

// Kind is what an undo of a kind's import needs to know of the kind.
type Kind struct {
	Table store.UndoTable
	// LinkedBy are the links of other records to the kind's: a record one of them links to is
	// kept, not deleted.
	LinkedBy []store.Link
	// Prospects is set for prospects: a prospect in a grouping by another import is kept,
	// the memberships the import added are removed, and deleting lowers the prospect count.
	Prospects bool
	// Unique, when set, is the field whose values no two of the account's records share.
	Unique *Unique
	// Lock, when set, takes a lock besides the account's, in a run that is not a dry run (an
	// object type's, which its imports take).
	Lock func(ctx context.Context, tx pgx.Tx) error
}

// Unique is a field whose values no two of the account's records share (a prospect's email):
// a restore of a value another record holds now keeps the field.
type Unique struct {
	Field string // catalog key
	// Key is the value as values compare (lowercased).
	Key func(string) string
	// Holders returns which record holds each of the keys; a key nobody holds is left out.
	Holders func(ctx context.Context, q store.Querier, accountID int64, keys []string) (map[string]int64, error)
	// Free empties the field of records whose value the batch moves, before the restores.
	Free func(ctx context.Context, tx pgx.Tx, accountID int64, ids []int64) error
}

// NewWriter returns the writer of the batches of an undo of the plan's import (kind.Kind.Undoer).
func NewWriter(p *kind.Plan, k Kind) pipeline.Writer {
	w := &writer{plan: p, k: k, unique: -1}
	if k.Unique != nil {
		w.unique = p.Catalog.Index(k.Unique.Field)
	}
	return w
}

// Failing returns the writer of an undo that cannot run, whose every batch fails with err.
func Failing(err error) pipeline.Writer { return failing{err} }

type failing struct{ err error }

func (f failing) Write(context.Context, pgx.Tx, *pipeline.Batch) error { return f.err }

// writer takes the batches of one undo back. It is safe for one goroutine.
type writer struct {
	plan   *kind.Plan
	k      Kind
	unique int // catalog index of k.Unique's field, or -1
	// ended is when the import ended (read with the first batch): a record updated after it
	// changed since.
	ended time.Time
}

// record is a record of the batch: as stored, and as the batch's rows leave it.
type record struct {
	store.StampedRecord
	stored          []string
	storedUpdatedAt time.Time
	deleted         bool
	// linkedBy says what links to it ("deal 12"), if anything does.
	linkedBy string
	// ownMembers: the import added memberships of it, which no row has removed yet;
	// dropMembers: a row removes them. otherMember names a membership another import added
	// ("" for none).
	ownMembers, dropMembers bool
	otherMember             string
}

// batch is what one batch's rows are taken back against.
type batch struct {
	records map[int64]*record
	// gone are the records the rows' links pointed to before them that no longer exist, by
	// the link field's type (crm.Organization, crm.Prospect) and id.
	gone map[crm.FieldType]map[string]bool
	// holders are the records that hold the unique values the rows may restore, by key.
	holders map[string]int64
}

// Write takes one batch's rows back in tx, in their order (the import's last row first).
func (w *writer) Write(ctx context.Context, tx pgx.Tx, b *pipeline.Batch) error {
	acct := w.plan.Account.ID
	if !w.plan.DryRun {
		if err := store.LockAccount(ctx, tx, acct); err != nil {
			return err
		}
		if w.k.Lock != nil {
			if err := w.k.Lock(ctx, tx); err != nil {
				return err
			}
		}
	}
	if w.ended.IsZero() {
		imp, err := store.GetImport(ctx, tx, acct, w.plan.ImportID)
		if err != nil {
			return err
		}
		if imp.FinishedAt == nil {
			return fmt.Errorf("import %d has not ended: it cannot be undone", imp.ID)
		}
		w.ended = *imp.FinishedAt
	}
	s, err := w.load(ctx, tx, b.Rows)
	if err != nil {
		return err
	}
	var orgs []int64
	for i := range b.Rows {
		r := &b.Rows[i]
		u := r.Undoing
		r.EntityID = u.EntityID
		rec := s.records[u.EntityID]
		switch u.Outcome {
		case pipeline.Created:
			r.Outcome = w.created(s, rec, u)
		case pipeline.Updated:
			r.Outcome = w.updated(s, rec, u)
		default:
			r.Outcome = pipeline.Unchanged
			if w.removeMembers(rec) {
				r.Outcome = pipeline.Restored
			}
		}
		if u.Undo != nil {
			for _, m := range u.Undo.Made {
				if m.Kind == "organizations" {
					orgs = append(orgs, m.ID)
				}
			}
		}
	}
	return w.write(ctx, tx, b, s, orgs)
}

// linkTables are the tables of the records a link field of each type points to: a link is
// not put back to a record that no longer exists.
var linkTables = map[crm.FieldType]func() store.UndoTable{
	crm.Organization: store.OrganizationUndoTable,
	crm.Prospect:     store.ProspectUndoTable,
}

// load loads the batch's records, what links to those the rows created, their memberships,
// and who holds the unique values the rows may restore.
func (w *writer) load(ctx context.Context, tx pgx.Tx, rows []pipeline.Row) (*batch, error) {
	acct, c := w.plan.Account.ID, w.plan.Catalog
	var ids, created []int64
	var keys []string
	linked := map[crm.FieldType][]int64{}
	for i := range rows {
		u := rows[i].Undoing
		ids = append(ids, u.EntityID)
		if u.Outcome == pipeline.Created {
			created = append(created, u.EntityID)
		}
		if u.Undo != nil {
			for _, ch := range u.Undo.Changes {
				if f := c.Index(ch.Field); f >= 0 && linkTables[c.Fields[f].Type] != nil && ch.Old != "" {
					if id, err := strconv.ParseInt(ch.Old, 10, 64); err == nil {
						linked[c.Fields[f].Type] = append(linked[c.Fields[f].Type], id)
					}
				}
			}
		}
		if w.unique >= 0 && u.Undo != nil {
			for _, ch := range u.Undo.Changes {
				if ch.Field == w.k.Unique.Field && ch.Old != "" {
					keys = append(keys, w.k.Unique.Key(ch.Old))
				}
			}
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	found, err := w.k.Table.Load(ctx, tx, c, acct, ids)
	if err != nil {
		return nil, err
	}
	s := &batch{records: make(map[int64]*record, len(found)), holders: map[string]int64{}, gone: map[crm.FieldType]map[string]bool{}}
	for typ, ids := range linked {
		exist, err := linkTables[typ]().Existing(ctx, tx, acct, ids)
		if err != nil {
			return nil, err
		}
		s.gone[typ] = map[string]bool{}
		for _, id := range ids {
			if !exist[id] {
				s.gone[typ][strconv.FormatInt(id, 10)] = true
			}
		}
	}
	for _, f := range found {
		s.records[f.ID] = &record{StampedRecord: f, stored: slices.Clone(f.Values), storedUpdatedAt: f.UpdatedAt}
	}
	if len(w.k.LinkedBy) > 0 && len(created) > 0 {
		linked, err := store.LinkedBy(ctx, tx, acct, w.k.LinkedBy, created)
		if err != nil {
			return nil, err
		}
		for id, by := range linked {
			s.records[id].linkedBy = by
		}
	}
	if w.k.Prospects {
		members, err := store.Memberships(ctx, tx, acct, ids)
		if err != nil {
			return nil, err
		}
		for _, m := range members {
			rec := s.records[m.ProspectID]
			switch {
			case rec == nil:
			case m.ImportID == w.plan.ImportID:
				rec.ownMembers = true
			case rec.otherMember == "" && m.ImportID != 0:
				rec.otherMember = fmt.Sprintf("import %d added it to the %s %q", m.ImportID, m.Kind, m.Name)
			case rec.otherMember == "":
				rec.otherMember = fmt.Sprintf("it is in the %s %q", m.Kind, m.Name)
			}
		}
	}
	if len(keys) > 0 {
		if s.holders, err = w.k.Unique.Holders(ctx, tx, acct, keys); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// created takes back a row that created rec: it deletes it unless it is gone already, or it
// changed since, or something links to it.
func (w *writer) created(s *batch, rec *record, u *pipeline.Undoing) pipeline.Outcome {
	switch {
	case rec == nil || rec.deleted:
		return pipeline.Unchanged
	case !rec.UpdatedAt.Equal(rec.CreatedAt):
		u.Why = fmt.Sprintf("the %s changed after the import (updated %s)", w.plan.Kind.Noun(), rec.UpdatedAt.UTC().Format("2006-01-02 15:04:05 MST"))
	case rec.linkedBy != "":
		u.Why = rec.linkedBy + " links to it"
	case rec.otherMember != "":
		u.Why = rec.otherMember
	default:
		w.release(s, rec)
		rec.deleted = true
		return pipeline.Deleted
	}
	w.removeMembers(rec) // a kept record leaves the lists the import put it in all the same
	return pipeline.KeptChangedSince
}

// updated takes back a row that changed rec: each field it changed gets its value before the
// row back where it still holds the value the row wrote; the others are kept and named.
func (w *writer) updated(s *batch, rec *record, u *pipeline.Undoing) pipeline.Outcome {
	if rec == nil || rec.deleted {
		return pipeline.Unchanged
	}
	c := w.plan.Catalog
	restored, exact := false, true
	var why []string
	keep := func(field, reason string) {
		u.FieldsKept = append(u.FieldsKept, field)
		why = append(why, reason)
		exact = false
	}
	var saved pipeline.Undo // what the import saved of the row
	if u.Undo != nil {
		saved = *u.Undo
	}
	for _, ch := range saved.Changes {
		i := c.Index(ch.Field)
		if i < 0 {
			keep(ch.Field, ch.Field+" is no field any more")
			continue
		}
		cur := rec.Values[i]
		switch {
		case cur == ch.Old:
		case cur == ch.New && i == w.unique && ch.Old != "" && w.heldByOther(s, rec, ch.Old):
			keep(ch.Field, fmt.Sprintf("%s %s now belongs to %s %d", ch.Field, ch.Old, w.plan.Kind.Noun(), s.holders[w.k.Unique.Key(ch.Old)]))
		case cur == ch.New && s.gone[c.Fields[i].Type][ch.Old]:
			keep(ch.Field, fmt.Sprintf("%s %s no longer exists", c.Fields[i].Type, ch.Old))
		case cur == ch.New:
			w.set(s, rec, i, ch.Old)
			restored = true
		case c.Fields[i].Type == crm.MultiPicklist && merged(ch) && removeAdded(rec, i, ch):
			restored, exact = true, false
		default:
			keep(ch.Field, ch.Field+" changed after the import")
		}
	}
	u.Why = strings.Join(why, "; ")
	// updated_at goes back only when the record is as the row found it and nothing wrote it
	// after the import ended: a later write's time is the sign a created record changed since.
	if restored && exact && !saved.UpdatedAt.IsZero() && !rec.UpdatedAt.After(w.ended) {
		rec.UpdatedAt = saved.UpdatedAt
	}
	if w.removeMembers(rec) {
		restored = true
	}
	switch {
	case restored:
		return pipeline.Restored
	case len(u.FieldsKept) > 0:
		return pipeline.KeptChangedSince
	}
	return pipeline.Unchanged
}

// heldByOther reports whether a record other than rec holds the unique value v now.
func (w *writer) heldByOther(s *batch, rec *record, v string) bool {
	id, ok := s.holders[w.k.Unique.Key(v)]
	return ok && id != rec.ID
}

// set sets field i of rec to v, following who holds the unique values.
func (w *writer) set(s *batch, rec *record, i int, v string) {
	if i == w.unique {
		w.release(s, rec)
		if v != "" {
			s.holders[w.k.Unique.Key(v)] = rec.ID
		}
	}
	rec.Values[i] = v
}

// release lets go of rec's unique value: it is deleted, or takes another.
func (w *writer) release(s *batch, rec *record) {
	if w.unique < 0 {
		return
	}
	if k := w.k.Unique.Key(rec.Values[w.unique]); s.holders[k] == rec.ID {
		delete(s.holders, k)
	}
}

// merged reports whether a multi-picklist change added values to the old ones (a merge: Old's
// values are all in New, case aside) rather than replaced them.
func merged(ch pipeline.Change) bool {
	added := strings.Split(ch.New, ";")
	for _, v := range strings.Split(ch.Old, ";") {
		if v != "" && !containsFold(added, v) {
			return false
		}
	}
	return true
}

// removeAdded removes from rec's multi-picklist field i the values the change added (New
// less Old, case aside) and reports whether it held any of them.
func removeAdded(rec *record, i int, ch pipeline.Change) bool {
	old, added := strings.Split(ch.Old, ";"), strings.Split(ch.New, ";")
	var kept []string
	removed := false
	for _, v := range strings.Split(rec.Values[i], ";") {
		if containsFold(added, v) && !containsFold(old, v) {
			removed = true
			continue
		}
		kept = append(kept, v)
	}
	if removed {
		rec.Values[i] = strings.Join(kept, ";")
	}
	return removed
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(v string) bool { return strings.EqualFold(v, s) })
}

// removeMembers marks the memberships the import added for rec to be removed, and reports
// whether there were any.
func (w *writer) removeMembers(rec *record) bool {
	if rec == nil || rec.deleted || !rec.ownMembers {
		return false
	}
	rec.ownMembers, rec.dropMembers = false, true
	return true
}

// write writes what the batch's rows did: deletes, freed unique values, restores, removed
// memberships, the prospect count, then the organizations made on the side that nothing links
// to any more (now that the restores are written).
func (w *writer) write(ctx context.Context, tx pgx.Tx, b *pipeline.Batch, s *batch, orgs []int64) error {
	acct, c := w.plan.Account.ID, w.plan.Catalog
	var deleted, moved, members []int64
	var restored []store.StampedRecord
	for _, id := range slices.Sorted(maps.Keys(s.records)) {
		rec := s.records[id]
		switch {
		case rec.deleted:
			deleted = append(deleted, id)
			members = append(members, id)
			continue
		case rec.dropMembers:
			members = append(members, id)
		}
		if w.unique >= 0 && rec.Values[w.unique] != rec.stored[w.unique] {
			moved = append(moved, id)
		}
		if !slices.Equal(rec.Values, rec.stored) || !rec.UpdatedAt.Equal(rec.storedUpdatedAt) {
			restored = append(restored, rec.StampedRecord)
		}
	}
	gone, err := w.k.Table.Delete(ctx, tx, acct, deleted)
	if err != nil {
		return err
	}
	if len(moved) > 0 {
		if err := w.k.Unique.Free(ctx, tx, acct, moved); err != nil {
			return err
		}
	}
	if err := w.k.Table.Restore(ctx, tx, c, acct, restored); err != nil {
		return err
	}
	if w.k.Prospects {
		if err := store.DeleteMemberships(ctx, tx, acct, w.plan.ImportID, members); err != nil {
			return err
		}
		// A dry run leaves the count, which it would have to lock, as it is: it is rolled back.
		if gone > 0 && !w.plan.DryRun {
			if err := store.LowerProspectCount(ctx, tx, acct, gone); err != nil {
				return err
			}
		}
	}
	n, err := store.DeleteUnlinkedOrganizations(ctx, tx, acct, orgs)
	if n > 0 {
		b.Count(CounterOrganizationsDeleted, n)
	}
	return err
}
