package prospects

import (
	"testing"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
)

// lookupCount reads leadpipe_lookup_identities_total: read and skipped.
func lookupCount() (read, skipped float64) {
	c := counterByResult("leadpipe_lookup_identities_total")
	return c["read"], c["skipped"]
}

// lookups runs f and returns the identities it looked up and left out.
func lookups(f func()) (read, skipped float64) {
	r0, s0 := lookupCount()
	f()
	r1, s1 := lookupCount()
	return r1 - r0, s1 - s0
}

// prospectID is the id of the account's prospect with email.
func (d *batchDriver) prospectID(email string) int64 {
	d.t.Helper()
	var id int64
	if err := d.pool.QueryRow(d.ctx, "SELECT id FROM prospects WHERE account_id = $1 AND lower(email) = $2", d.acct.ID, email).Scan(&id); err != nil {
		d.t.Fatalf("prospect %s: %v", email, err)
	}
	return id
}

// An import into an empty account looks up only the emails it wrote itself: the first batch
// none, a later one those of earlier batches, which it then matches. A batch read ahead before
// the one before it committed matches what that one created too: whether its email was left out
// of the read depends on which came first, the batch before's write or the read, and the batch
// before's writes are laid over the read either way.
func TestImportIntoAnEmptyAccountLooksUpOnlyWhatItWrote(t *testing.T) {
	d := newBatchDriver(t)
	b1 := d.batch("ann@acme.com", "Acme", "bob@beta.io", "Beta")
	b2 := d.batch("ann@acme.com", "Acme", "cat@gamma.org", "Gamma")
	b3 := d.batch("bob@beta.io", "Beta", "cat@gamma.org", "Gamma", "dan@delta.net", "Delta")
	b4 := d.batch("dan@delta.net", "Delta", "eve@epsilon.io", "Epsilon")
	if read, skipped := lookups(func() { d.prepare(b1); d.write(b1) }); read != 0 || skipped != 2 {
		t.Errorf("first batch: %v emails looked up, %v left out; want 0 and 2", read, skipped)
	}
	if read, skipped := lookups(func() { d.prepare(b2); d.write(b2) }); read != 1 || skipped != 1 {
		t.Errorf("second batch: %v emails looked up, %v left out; want 1 (ann) and 1", read, skipped)
	}
	if read, skipped := lookups(func() { d.prepare(b3) }); read != 2 || skipped != 1 {
		t.Errorf("third batch: %v emails looked up, %v left out; want 2 (bob, cat) and 1", read, skipped)
	}
	prepared := d.prepareAhead(b4) // before b3 commits: b4's snapshot lacks dan
	d.write(b3)
	if err := prepared(); err != nil {
		t.Fatal(err)
	}
	d.write(b4)
	want := []struct {
		row     pipeline.Row
		outcome pipeline.Outcome
		email   string
	}{
		{b2.Rows[0], pipeline.Unchanged, "ann@acme.com"}, {b2.Rows[1], pipeline.Created, "cat@gamma.org"},
		{b3.Rows[0], pipeline.Unchanged, "bob@beta.io"}, {b3.Rows[1], pipeline.Unchanged, "cat@gamma.org"},
		{b3.Rows[2], pipeline.Created, "dan@delta.net"},
		{b4.Rows[0], pipeline.Unchanged, "dan@delta.net"}, {b4.Rows[1], pipeline.Created, "eve@epsilon.io"},
	}
	for _, w := range want {
		if w.row.Outcome != w.outcome || w.row.EntityID != d.prospectID(w.email) {
			t.Errorf("%s: %s, prospect %d; want %s, prospect %d", w.email, w.row.Outcome, w.row.EntityID, w.outcome, d.prospectID(w.email))
		}
	}
}

// With match_by_name the names are identities too: a later batch looks up, and matches, only a
// name an earlier batch wrote, however it is cased.
func TestImportIntoAnEmptyAccountLooksUpOnlyNamesItWrote(t *testing.T) {
	d := newBatchDriver(t)
	d.w.plan.Options = crm.Options{MatchByName: true}
	d.w = newWriter(d.w.plan)
	b1 := &pipeline.Batch{Rows: []pipeline.Row{d.row(2, "first_name", "Cat", "last_name", "Kit")}}
	b2 := &pipeline.Batch{Rows: []pipeline.Row{
		d.row(3, "first_name", "CAT", "last_name", "kit", "title", "CTO"),
		d.row(4, "first_name", "Dan", "last_name", "Doe"),
	}}
	d.prepare(b1)
	d.write(b1)
	if read, skipped := lookups(func() { d.prepare(b2); d.write(b2) }); read != 1 || skipped != 1 {
		t.Errorf("second batch: %v names looked up, %v left out; want 1 (Cat Kit) and 1", read, skipped)
	}
	if r := b2.Rows[0]; r.Outcome != pipeline.Updated || r.EntityID != b1.Rows[0].EntityID {
		t.Errorf("CAT kit: %s, prospect %d; want updated, prospect %d", r.Outcome, r.EntityID, b1.Rows[0].EntityID)
	}
	if r := b2.Rows[1]; r.Outcome != pipeline.Created {
		t.Errorf("Dan Doe: %s, want created", r.Outcome)
	}
}

// An import that found the account empty looks up every email once another writer wrote into
// the account, whether that writer ran before a batch's read-ahead or between it and the
// batch's write: here it created dan and eve, whom later batches must match, not create again.
func TestImportIntoAnEmptyAccountAfterAnotherWriter(t *testing.T) {
	for _, between := range []bool{false, true} {
		d := newBatchDriver(t)
		other := &batchDriver{t: t, ctx: d.ctx, pool: d.pool, acct: d.acct, w: newWriter(d.w.plan)}
		b1 := d.batch("ann@acme.com", "Acme")
		d.prepare(b1)
		d.write(b1)
		b2, b3 := d.batch("dan@delta.net", "Delta"), d.batch("eve@epsilon.io", "Epsilon", "fay@phi.org", "Phi")
		if !between {
			other.write(other.batch("dan@delta.net", "Delta", "eve@epsilon.io", "Epsilon"))
		}
		d.prepare(b2)
		if between {
			other.write(other.batch("dan@delta.net", "Delta", "eve@epsilon.io", "Epsilon"))
		}
		d.write(b2)
		read, skipped := lookups(func() { d.prepare(b3); d.write(b3) })
		if read != 2 || skipped != 0 {
			t.Errorf("between=%v: third batch: %v emails looked up, %v left out; want 2 and 0", between, read, skipped)
		}
		for _, r := range []pipeline.Row{b2.Rows[0], b3.Rows[0]} {
			email := r.Values[d.w.email]
			if r.Outcome != pipeline.Unchanged || r.EntityID != d.prospectID(email) {
				t.Errorf("between=%v: %s: %s, prospect %d; want unchanged, the other writer's %d", between, email, r.Outcome, r.EntityID, d.prospectID(email))
			}
		}
	}
}

// What ownWrites leaves out of a lookup, without a database: nothing in a snapshot past the
// import's last committed batch, nothing once the import wrote an identity outside ASCII or
// found another writer's count, nothing when the account was not empty, and never a unique
// identifier.
func TestOwnWritesLeavesOutOnlyWhatItKnows(t *testing.T) {
	c := crm.NewCatalog("prospect", standardFields(), nil)
	x := &matchIndex{email: c.MustIndex(crm.FieldEmail), unique: c.MustIndex("phone"),
		first: c.MustIndex(crm.FieldFirstName), last: c.MustIndex(crm.FieldLastName), byName: true}
	written := func(email, first string) *prospect {
		v := make([]string, len(c.Fields))
		v[x.email], v[x.first] = email, first
		return &prospect{Prospect: store.Prospect{Values: v}}
	}
	lookup := func() *store.ProspectLookup {
		return &store.ProspectLookup{Emails: []string{"ann@acme.com", "bob@beta.io"}, UniqueField: x.unique,
			UniqueValues: []string{"555-0100"}, FirstNames: []string{"ann", "cat"}, LastNames: []string{"", ""}}
	}
	started := func(seq int64, wrote ...*prospect) *ownWrites {
		var o ownWrites
		o.start(seq, 0)
		o.lockedAt(seq)
		o.wrote(x, wrote)
		o.committed(seq + 1)
		return &o
	}

	o := started(7, written("Ann@Acme.com", "Ann"))
	l := lookup()
	if n := o.asOf(8)(l); n != 2 || len(l.Emails) != 1 || l.Emails[0] != "ann@acme.com" || len(l.FirstNames) != 1 ||
		l.FirstNames[0] != "ann" || len(l.UniqueValues) != 1 {
		t.Errorf("in step: %d left out, lookup %+v; want bob and cat out, ann and the phone in", n, l)
	}
	for name, c := range map[string]struct {
		o   *ownWrites
		seq int64 // of the lookup's snapshot
	}{
		"a snapshot past the last batch": {o, 9},
		"an identity outside ASCII":      {started(7, written("ann@acme.com", "Ann"), written("zoë@acme.com", "Zoë")), 8},
		"an email outside ASCII":         {started(7, written("ann@acme.com", "Ann"), written("zoë@acme.com", "Zoe")), 8},
		"a name Go lowercases to ASCII":  {started(7, written("ann@acme.com", "Ann"), written("ilker@acme.com", "İlker")), 8},
		"another writer's count":         {func() *ownWrites { o := started(7); o.lockedAt(9); return o }(), 8},
		"an account not empty":           {func() *ownWrites { var o ownWrites; o.start(7, 1); return &o }(), 7},
	} {
		o, seq := c.o, c.seq
		l := lookup()
		if n := o.asOf(seq)(l); n != 0 || len(l.Emails) != 2 || len(l.FirstNames) != 2 {
			t.Errorf("after %s: %d left out, lookup %+v; want nothing left out", name, n, l)
		}
	}
}
