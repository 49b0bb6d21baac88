package undo_test

import (
	"testing"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/kinds/internal/undo"
	"github.com/leadpipe/leadpipe/kinds/prospects"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
)

// A prospect the import created is deleted with the memberships the import added, and the
// account's count goes down — unless it changed since, a deal links to it, or another import
// put it in a tag: then it is kept and the undo says why. One gone already is unchanged.
func TestProspectsCreated(t *testing.T) {
	e := newEnv(t)
	e.exec("UPDATE accounts SET prospect_count = 10 WHERE id = $1", e.acct.ID)
	list, tag := e.grouping(store.KindList, "Fair"), e.grouping(store.KindTag, "vip")
	gone := e.addProspect("gone@x.com", "", nil, t1, t1)
	e.member(list, gone, e.imp)
	e.member(tag, gone, e.imp)
	changed := e.addProspect("changed@x.com", "", nil, t1, "2026-12-05 10:00:00+00")
	e.member(list, changed, e.imp)
	linked := e.addProspect("linked@x.com", "", nil, t1, t1)
	deal := e.id("deal")
	e.exec("INSERT INTO deals (id, account_id, name, name_key, prospect_id) VALUES ($1, $2, 'Big', 'big', $3)", deal, e.acct.ID, linked)
	tagged := e.addProspect("tagged@x.com", "", nil, t1, t1)
	e.member(list, tagged, e.imp)
	e.member(tag, tagged, otherImport)
	never := e.id("prospect")

	b := e.undo(e.plan(prospects.Kind{}, crm.Options{}), created(tagged), created(linked), created(changed), created(gone), created(never))

	e.checkResults(b,
		got{pipeline.KeptChangedSince, tagged, nil, `import 9000002 added it to the tag "vip"`},
		got{pipeline.KeptChangedSince, linked, nil, "deal " + id(deal) + " links to it"},
		got{pipeline.KeptChangedSince, changed, nil, "the prospect changed after the import (updated 2026-12-05 10:00:00 UTC)"},
		got{pipeline.Deleted, gone, nil, ""},
		got{pipeline.Unchanged, never, nil, ""})
	if g := e.prospect(gone); g != "gone" {
		t.Errorf("deleted prospect = %q", g)
	}
	if g := e.members(gone); g != "" {
		t.Errorf("memberships of the deleted prospect: %q", g)
	}
	for p, want := range map[int64]string{
		changed: "changed@x.com | - | - | - | - | {} | 2026-12-05 10:00:00+00",
		linked:  "linked@x.com | - | - | - | - | {} | 2026-12-02 10:00:00+00",
		tagged:  "tagged@x.com | - | - | - | - | {} | 2026-12-02 10:00:00+00",
	} {
		if g := e.prospect(p); g != want {
			t.Errorf("kept prospect %d = %q, want %q", p, g, want)
		}
	}
	if g := e.members(tagged); g != "tag vip by 9000002" {
		t.Errorf("memberships of a kept prospect: %q", g)
	}
	if g := e.prospectCount(); g != "9" {
		t.Errorf("prospect_count = %s, want 9", g)
	}
}

// A prospect the import updated gets back, field by field, what it had, with its owner and
// organization, and its updated_at before the import; the memberships the import added go,
// older ones stay. A second run finds everything as before and does nothing.
func TestProspectsUpdatedRestored(t *testing.T) {
	e := newEnv(t)
	if err := store.AddField(e.ctx, e.pool, e.acct.ID, "prospects", crm.Field{Key: "interests", Label: "Interests", Type: crm.MultiPicklist,
		Options: []string{"a", "b", "c"}, Custom: true}); err != nil {
		t.Fatal(err)
	}
	u1, err := store.AddUser(e.ctx, e.pool, e.acct.ID, store.User{Username: "ann"})
	if err != nil {
		t.Fatal(err)
	}
	u2, err := store.AddUser(e.ctx, e.pool, e.acct.ID, store.User{Username: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	o1, o2 := e.addOrg("Old Co", t0, t0), e.addOrg("New Co", t0, t0)
	p := e.addProspect("new@x.com", "CTO", o2, t0, t1)
	e.exec(`UPDATE prospects SET lead_owner_id = $2, custom = '{"interests": ["a", "b"]}' WHERE id = $1`, p, u2.ID)
	list, tag := e.grouping(store.KindList, "Fair"), e.grouping(store.KindTag, "old")
	e.member(list, p, e.imp)
	e.member(tag, p, otherImport)
	row := updated(p, at(t0),
		change("email", "old@x.com", "new@x.com"),
		change("title", "", "CTO"),
		change("lead_owner", id(u1.ID), id(u2.ID)),
		change("organization", id(o1), id(o2)),
		change("interests", "a", "a;b"))
	plan := e.plan(prospects.Kind{}, crm.Options{})

	b := e.undo(plan, row)

	e.checkResults(b, got{pipeline.Restored, p, nil, ""})
	want := "old@x.com | - | - | " + id(u1.ID) + " | " + id(o1) + ` | {"interests": ["a"]} | 2026-12-01 10:00:00+00`
	if g := e.prospect(p); g != want {
		t.Errorf("restored prospect = %q\nwant %q", g, want)
	}
	if g := e.members(p); g != "tag old by 9000002" {
		t.Errorf("memberships = %q, want the older one only", g)
	}

	again := e.undo(plan, row)
	e.checkResults(again, got{pipeline.Unchanged, p, nil, ""})
	if g := e.prospect(p); g != want {
		t.Errorf("after a second run = %q\nwant %q", g, want)
	}
}

// A field changed since the import is kept and named while the others are restored, and
// updated_at stays; a multi-picklist loses the values the import added and keeps one added
// since, unless the import replaced its values rather than merged (then it is kept as it is); an old email another prospect holds now is kept, the undo saying who holds it.
func TestProspectsFieldsChangedSince(t *testing.T) {
	e := newEnv(t)
	if err := store.AddField(e.ctx, e.pool, e.acct.ID, "prospects", crm.Field{Key: "interests", Label: "Interests", Type: crm.MultiPicklist,
		Options: []string{"a", "b", "c"}, Custom: true}); err != nil {
		t.Fatal(err)
	}
	titled := e.addProspect("t@x.com", "Boss", nil, t0, t2)
	e.exec("UPDATE prospects SET phone = '+1 555 0100' WHERE id = $1", titled)
	merged := e.addProspect("m@x.com", "", nil, t0, t2)
	e.exec(`UPDATE prospects SET custom = '{"interests": ["a", "b", "c"]}' WHERE id = $1`, merged)
	replaced := e.addProspect("r@x.com", "", nil, t0, t2)
	e.exec(`UPDATE prospects SET custom = '{"interests": ["c", "b"]}' WHERE id = $1`, replaced)
	moved := e.addProspect("new@x.com", "CEO", nil, t0, t1)
	holder := e.addProspect("OLD@x.com", "", nil, t2, t2)
	plan := e.plan(prospects.Kind{}, crm.Options{})

	b := e.undo(plan,
		updated(titled, at(t0), change("title", "Intern", "CTO"), change("phone", "", "+1 555 0100")),
		updated(merged, at(t0), change("interests", "a", "a;b")),
		updated(replaced, at(t0), change("interests", "a", "c")), // replaced, not merged: c;b is someone's since
		updated(moved, at(t0), change("email", "old@x.com", "new@x.com"), change("title", "", "CEO")))

	e.checkResults(b,
		got{pipeline.Restored, titled, []string{"title"}, "title changed after the import"},
		got{pipeline.Restored, merged, nil, ""},
		got{pipeline.KeptChangedSince, replaced, []string{"interests"}, "interests changed after the import"},
		got{pipeline.Restored, moved, []string{"email"}, "email old@x.com now belongs to prospect " + id(holder)})
	for p, want := range map[int64]string{
		titled:   "t@x.com | Boss | - | - | - | {} | 2026-12-03 10:00:00+00",
		merged:   `m@x.com | - | - | - | - | {"interests": ["a", "c"]} | 2026-12-03 10:00:00+00`,
		replaced: `r@x.com | - | - | - | - | {"interests": ["c", "b"]} | 2026-12-03 10:00:00+00`,
		moved:    "new@x.com | - | - | - | - | {} | 2026-12-02 10:00:00+00",
		holder:   "OLD@x.com | - | - | - | - | {} | 2026-12-03 10:00:00+00",
	} {
		if g := e.prospect(p); g != want {
			t.Errorf("prospect %d = %q\nwant %q", p, g, want)
		}
	}

	// Every field changed since: the row keeps them all.
	e.exec("UPDATE prospects SET title = 'Chief' WHERE id = $1", moved)
	b = e.undo(plan, updated(moved, at(t0), change("title", "", "CEO")))
	e.checkResults(b, got{pipeline.KeptChangedSince, moved, []string{"title"}, "title changed after the import"})
}

// A prospect created at one row of the import and updated at a later one is deleted: the
// later row, taken back first, puts back the values and updated_at of the earlier, whether
// both rows are in one batch of the undo or in two.
func TestProspectsCreatedThenUpdated(t *testing.T) {
	for _, split := range []bool{false, true} {
		t.Run(map[bool]string{false: "one batch", true: "two batches"}[split], func(t *testing.T) {
			e := newEnv(t)
			p := e.addProspect("a@x.com", "CTO", nil, t0, t1)
			e.exec("UPDATE accounts SET prospect_count = 1 WHERE id = $1", e.acct.ID)
			plan := e.plan(prospects.Kind{}, crm.Options{})
			row7, row3 := updated(p, at(t0), change("title", "Dev", "CTO")), created(p)
			row7.Row, row3.Row = 7, 3
			var g []got
			if split {
				g = append(results(e.undo(plan, row7)), results(e.undo(plan, row3))...)
			} else {
				g = results(e.undo(plan, row7, row3))
			}
			want := []got{{pipeline.Restored, p, nil, ""}, {pipeline.Deleted, p, nil, ""}}
			if len(g) != 2 || g[0].Outcome != want[0].Outcome || g[1].Outcome != want[1].Outcome || g[1].Why != "" {
				t.Errorf("undo's rows = %+v, want %+v", g, want)
			}
			if g := e.prospect(p); g != "gone" {
				t.Errorf("prospect = %q, want it gone", g)
			}
			if g := e.prospectCount(); g != "0" {
				t.Errorf("prospect_count = %s, want 0", g)
			}
		})
	}
}

// The organizations a row created on the side go when nothing links to them any more — the
// prospect deleted, or its link restored — and stay while another prospect links to one.
func TestProspectsMadeOrganizations(t *testing.T) {
	e := newEnv(t)
	alone, shared, replaced := e.addOrg("Alone", t1, t1), e.addOrg("Shared", t1, t1), e.addOrg("Replaced", t1, t1)
	old := e.addOrg("Old", t0, t0)
	p1 := e.addProspect("p1@x.com", "", alone, t1, t1)
	p2 := e.addProspect("p2@x.com", "", shared, t1, t1)
	other := e.addProspect("other@x.com", "", shared, t2, t2)
	p3 := e.addProspect("p3@x.com", "", replaced, t0, t1)
	row3 := updated(p3, at(t0), change("organization", id(old), id(replaced)))
	row3.Undo.Made = refs([]int64{replaced})

	b := e.undo(e.plan(prospects.Kind{}, crm.Options{}), row3, created(p2, shared), created(p1, alone))

	e.checkResults(b, got{pipeline.Restored, p3, nil, ""}, got{pipeline.Deleted, p2, nil, ""}, got{pipeline.Deleted, p1, nil, ""})
	if g := b.Counters[undo.CounterOrganizationsDeleted]; g != 2 {
		t.Errorf("organizations_deleted = %d, want 2", g)
	}
	e.check("organizations left", "Old, Shared", "SELECT string_agg(name, ', ' ORDER BY name) FROM organizations WHERE account_id = $1", e.acct.ID)
	if g := e.prospect(other); g != "other@x.com | - | - | - | "+id(shared)+" | {} | 2026-12-03 10:00:00+00" {
		t.Errorf("the other prospect = %q", g)
	}
	if g := e.prospect(p3); g != "p3@x.com | - | - | - | "+id(old)+" | {} | 2026-12-01 10:00:00+00" {
		t.Errorf("restored prospect = %q", g)
	}
}

// A row the import left unchanged loses the memberships the import added and keeps older
// ones; so does an updated row the import kept nothing of. Run again, they are unchanged.
func TestProspectsUnchangedMemberships(t *testing.T) {
	e := newEnv(t)
	p := e.addProspect("a@x.com", "", nil, t0, t0)
	q := e.addProspect("b@x.com", "", nil, t0, t1)
	list, tag, campaign := e.grouping(store.KindList, "Fair"), e.grouping(store.KindTag, "old"), e.grouping(store.KindCampaign, "Spring")
	for _, id := range []int64{p, q} {
		e.member(list, id, e.imp)
		e.member(campaign, id, e.imp)
		e.member(tag, id, otherImport)
	}
	plan := e.plan(prospects.Kind{}, crm.Options{})
	rows := []pipeline.Undoing{{Outcome: pipeline.Unchanged, EntityID: p}, {Outcome: pipeline.Updated, EntityID: q}}

	e.checkResults(e.undo(plan, rows...), got{pipeline.Restored, p, nil, ""}, got{pipeline.Restored, q, nil, ""})
	for _, id := range []int64{p, q} {
		if g := e.members(id); g != "tag old by 9000002" {
			t.Errorf("memberships of %d = %q, want the older one only", id, g)
		}
	}
	e.checkResults(e.undo(plan, rows...), got{pipeline.Unchanged, p, nil, ""}, got{pipeline.Unchanged, q, nil, ""})
	if g := e.prospect(p); g != "a@x.com | - | - | - | - | {} | 2026-12-01 10:00:00+00" {
		t.Errorf("prospect = %q", g)
	}
	if g := e.prospect(q); g != "b@x.com | - | - | - | - | {} | 2026-12-02 10:00:00+00" {
		t.Errorf("prospect = %q", g)
	}
}
