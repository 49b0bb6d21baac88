package undo_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/kinds/deals"
	"github.com/leadpipe/leadpipe/kinds/internal/undo"
	"github.com/leadpipe/leadpipe/kinds/objects"
	"github.com/leadpipe/leadpipe/kinds/organizations"
	"github.com/leadpipe/leadpipe/kinds/prospects"
	"github.com/leadpipe/leadpipe/pipeline"
)

// An organization the import created is deleted unless a prospect of another import links
// to it; one it updated gets its fields back, its name key following its name.
func TestOrganizations(t *testing.T) {
	e := newEnv(t)
	alone, linked := e.addOrg("Alone", t1, t1), e.addOrg("Linked", t1, t1)
	p := e.addProspect("p@x.com", "", linked, t2, t2)
	renamed := e.addOrg("Acme Corp", t0, t1)
	e.exec("UPDATE organizations SET industry = 'Retail' WHERE id = $1", renamed)

	b := e.undo(e.plan(organizations.Kind{}, crm.Options{}),
		updated(renamed, at(t0), change("name", "ACME, Inc.", "Acme Corp"), change("industry", "", "Retail")),
		created(linked), created(alone))

	e.checkResults(b,
		got{pipeline.Restored, renamed, nil, ""},
		got{pipeline.KeptChangedSince, linked, nil, "prospect " + id(p) + " links to it"},
		got{pipeline.Deleted, alone, nil, ""})
	e.check("organizations", "ACME, Inc. acme - 2026-12-01 10:00:00+00; Linked linked - 2026-12-02 10:00:00+00",
		"SELECT string_agg(concat_ws(' ', name, name_key, coalesce(industry, '-'), "+stamp+"), '; ' ORDER BY name) FROM organizations WHERE account_id = $1",
		e.acct.ID)
}

// A deal the import created is deleted, with the organization it created on the side; one it
// updated gets back its stage, amount, prospect and organization.
func TestDeals(t *testing.T) {
	e := newEnv(t)
	p1, p2 := e.addProspect("p1@x.com", "", nil, t0, t0), e.addProspect("p2@x.com", "", nil, t0, t0)
	o1, o2, made := e.addOrg("One", t0, t0), e.addOrg("Two", t0, t0), e.addOrg("Made", t1, t1)
	fresh, changed := e.id("deal"), e.id("deal")
	e.exec(`INSERT INTO deals (id, account_id, name, name_key, stage, prospect_id, organization_id, created_at, updated_at)
		VALUES ($1, $2, 'New', 'new', 'Proposal', $3, $4, $5, $5)`, fresh, e.acct.ID, p1, made, t1)
	e.exec(`INSERT INTO deals (id, account_id, name, name_key, amount, stage, prospect_id, organization_id, created_at, updated_at)
		VALUES ($1, $2, 'Big', 'big', 250, 'Negotiation', $3, $4, $5, $6)`, changed, e.acct.ID, p2, o2, t0, t1)

	b := e.undo(e.plan(deals.Kind{}, crm.Options{}),
		updated(changed, at(t0), change("amount", "100", "250"), change("stage", "Proposal", "Negotiation"),
			change("organization", id(o1), id(o2)), change("prospect", id(p1), id(p2))),
		created(fresh, made))

	e.checkResults(b, got{pipeline.Restored, changed, nil, ""}, got{pipeline.Deleted, fresh, nil, ""})
	if g := b.Counters[undo.CounterOrganizationsDeleted]; g != 1 {
		t.Errorf("organizations_deleted = %d, want 1", g)
	}
	e.check("deals", "Big 100 Proposal "+id(p1)+" "+id(o1)+" 2026-12-01 10:00:00+00",
		"SELECT string_agg(concat_ws(' ', name, amount, stage, prospect_id, organization_id, "+stamp+"), '; ') FROM deals WHERE account_id = $1",
		e.acct.ID)
	e.check("organizations", "One, Two", "SELECT string_agg(name, ', ' ORDER BY name) FROM organizations WHERE account_id = $1", e.acct.ID)
}

// A custom object's record the import created is deleted; one it updated gets its fields and
// its prospect back, its identifier as it is. The prospect it links to is kept.
func TestObjects(t *testing.T) {
	e := newEnv(t)
	typ, err := objects.Create(e.ctx, e.pool, e.acct.ID, "machine", "Machine", "serial")
	if err != nil {
		t.Fatal(err)
	}
	e.exec(`INSERT INTO fields (account_id, entity, key, label, type) VALUES ($1, 'machine', 'model', 'Model', 'text')`, e.acct.ID)
	p1, p2 := e.addProspect("p1@x.com", "", nil, t0, t0), e.addProspect("p2@x.com", "", nil, t0, t0)
	fresh, changed := e.id("object_record"), e.id("object_record")
	e.exec(`INSERT INTO object_records (id, account_id, object_type_id, identifier_value, custom, created_at, updated_at)
		VALUES ($1, $2, $3, 'S-1', '{"serial": "S-1"}', $4, $4)`, fresh, e.acct.ID, typ.ID, t1)
	e.exec(`INSERT INTO object_records (id, account_id, object_type_id, identifier_value, prospect_id, custom, created_at, updated_at)
		VALUES ($1, $2, $3, 'S-2', $4, '{"serial": "S-2", "model": "Y"}', $5, $6)`, changed, e.acct.ID, typ.ID, p2, t0, t1)

	b := e.undo(e.plan(objects.Kind{Type: typ}, crm.Options{}),
		updated(changed, at(t0), change("prospect", id(p1), id(p2)), change("model", "X", "Y")), created(fresh))

	e.checkResults(b, got{pipeline.Restored, changed, nil, ""}, got{pipeline.Deleted, fresh, nil, ""})
	e.check("object records", `S-2 `+id(p1)+` {"model": "X", "serial": "S-2"} 2026-12-01 10:00:00+00`,
		"SELECT string_agg(concat_ws(' ', identifier_value, prospect_id, custom, "+stamp+"), '; ') FROM object_records WHERE account_id = $1",
		e.acct.ID)

	// A prospect an object record links to is kept by an undo of the prospects' import.
	e.checkResults(e.undo(e.plan(prospects.Kind{}, crm.Options{}), created(p1)),
		got{pipeline.KeptChangedSince, p1, nil, "machine " + id(changed) + " links to it"})
}

// A dry run does what a run does, in a transaction that is rolled back, without the account's
// lock: it goes on while another transaction holds it.
func TestDryRun(t *testing.T) {
	e := newEnv(t)
	p := e.addProspect("a@x.com", "CTO", nil, t0, t1)
	gone := e.addProspect("b@x.com", "", nil, t1, t1)
	rows := []pipeline.Undoing{created(gone), updated(p, at(t0), change("title", "Dev", "CTO"))}
	want := []got{{pipeline.Deleted, gone, nil, ""}, {pipeline.Restored, p, nil, ""}}

	lock, err := e.pool.Begin(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback(context.Background()) //nolint:errcheck // released below
	if _, err := lock.Exec(e.ctx, "SELECT FROM accounts WHERE id = $1 FOR UPDATE", e.acct.ID); err != nil {
		t.Fatal(err)
	}
	plan := e.plan(prospects.Kind{}, crm.Options{})
	plan.DryRun = true
	ctx, cancel := context.WithTimeout(e.ctx, 5*time.Second)
	defer cancel()
	b := batchOf(t, rows)
	rolledBack := errors.New("dry run")
	err = pgx.BeginFunc(ctx, e.pool, func(tx pgx.Tx) error {
		if err := plan.Kind.Undoer(plan).Write(ctx, tx, b); err != nil {
			return err
		}
		return rolledBack
	})
	if !errors.Is(err, rolledBack) {
		t.Fatalf("dry run while the account is locked: %v", err)
	}
	e.checkResults(b, want...)
	if g := e.prospect(gone); g != "b@x.com | - | - | - | - | {} | 2026-12-02 10:00:00+00" {
		t.Errorf("after the dry run, prospect = %q", g)
	}
	if err := lock.Rollback(e.ctx); err != nil {
		t.Fatal(err)
	}

	plan.DryRun = false
	e.checkResults(e.undo(plan, rows...), want...)
	if g := e.prospect(gone); g != "gone" {
		t.Errorf("after the run, prospect = %q", g)
	}
}
