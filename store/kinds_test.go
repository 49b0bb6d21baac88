package store_test

// Integration tests of the storage of the record kinds besides prospects (issue 11):
// organizations as full records, deals and their stages, custom object types and records, and
// the light prospect lookup a deal needs. Each test writes with the store's writers on fresh
// accounts, and reads back hand-written expected values.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/kind"
	"github.com/leadpipe/leadpipe/kinds/deals"
	"github.com/leadpipe/leadpipe/kinds/objects"
	"github.com/leadpipe/leadpipe/kinds/organizations"
	"github.com/leadpipe/leadpipe/kinds/prospects"
	"github.com/leadpipe/leadpipe/store"
	"github.com/leadpipe/leadpipe/store/storetest"
)

// kindFixture holds a pool, two accounts and a block of ids of one kind.
type kindFixture struct {
	t      *testing.T
	ctx    context.Context
	pool   *pgxpool.Pool
	acct   store.Account
	other  store.Account
	ids    []int64
	idKind string
}

func newKindFixture(t *testing.T, idKind string) *kindFixture {
	t.Helper()
	pool := storetest.Pool(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return &kindFixture{t: t, ctx: ctx, pool: pool, acct: storetest.Account(t, pool, -1),
		other: storetest.Account(t, pool, -1), idKind: idKind}
}

// record returns a record with the next id and values given as field key → value.
func (f *kindFixture) record(c *crm.Catalog, values map[string]string) store.Record {
	f.t.Helper()
	if len(f.ids) == 0 {
		ids, err := store.NextIDs(f.ctx, f.pool, f.idKind)
		if err != nil {
			f.t.Fatal(err)
		}
		f.ids = ids
	}
	r := store.Record{ID: f.ids[0], Values: values_(f.t, c, values)}
	f.ids = f.ids[1:]
	return r
}

// values_ returns the values of a catalog given as field key → value.
func values_(t *testing.T, c *crm.Catalog, values map[string]string) []string {
	t.Helper()
	out := make([]string, len(c.Fields))
	for k, v := range values {
		i := c.Index(k)
		if i < 0 {
			t.Fatalf("no field %q", k)
		}
		out[i] = v
	}
	return out
}

// inTx runs write in a transaction and commits it.
func (f *kindFixture) inTx(write func(tx pgx.Tx) error) {
	f.t.Helper()
	if err := pgx.BeginFunc(f.ctx, f.pool, write); err != nil {
		f.t.Fatal(err)
	}
}

// sameRecords fails the test unless got equals want, record by record.
func sameRecords(t *testing.T, what string, c *crm.Catalog, got, want []store.Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d records %v, want %d %v", what, len(got), got, len(want), want)
		return
	}
	for i := range got {
		if got[i].ID != want[i].ID {
			t.Errorf("%s: record %d has id %d, want %d", what, i, got[i].ID, want[i].ID)
		}
		for j, f := range c.Fields {
			if got[i].Values[j] != want[i].Values[j] {
				t.Errorf("%s: record %d: %s = %q, want %q", what, got[i].ID, f.Key, got[i].Values[j], want[i].Values[j])
			}
		}
	}
}

var orgCustom = []crm.Field{
	{Key: "crm_id", Label: "CRM Id", Type: crm.Text},
	{Key: "regions", Label: "Regions", Type: crm.MultiPicklist, Options: []string{"EMEA", "APAC", "AMER"}},
}

func TestOrganizationRecords(t *testing.T) {
	f := newKindFixture(t, "organization")
	c := kind.NewCatalog(organizations.Kind{}, orgCustom)
	acme := f.record(c, map[string]string{"name": "Acme, Inc.", "domain": "acme.com", "website": "https://www.acme.com",
		"phone": "+1 555 0100", "street": "1 Main St", "city": "Springfield", "state": "IL", "postal_code": "62701",
		"country": "US", "industry": "Anvils", "crm_id": "ORG-1", "regions": "EMEA;APAC"})
	globex := f.record(c, map[string]string{"name": "Globex", "crm_id": "ORG-2"})
	otherAcme := f.record(c, map[string]string{"name": "Acme Inc", "domain": "acme.com", "crm_id": "ORG-1"})
	f.inTx(func(tx pgx.Tx) error {
		if err := store.InsertOrganizationRecords(f.ctx, tx, c, f.acct.ID, []store.Record{acme, globex}); err != nil {
			return err
		}
		return store.InsertOrganizationRecords(f.ctx, tx, c, f.other.ID, []store.Record{otherAcme})
	})
	crmID := c.MustIndex("crm_id")
	if err := store.EnsureOrganizationLookupIndex(f.ctx, f.pool, c, f.acct.ID, crmID); err != nil {
		t.Fatal(err)
	}
	if !valid(t, f.pool, lookupIndexOf(t, f.pool, "organizations", "by_crm_id", f.acct.ID)) {
		t.Error("no valid lookup index of the account's organizations by crm_id")
	}
	load := func(k store.OrganizationKeys) []store.Record {
		t.Helper()
		got, err := store.LoadOrganizationRecords(f.ctx, f.pool, c, f.acct.ID, k)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	none := -1
	sameRecords(t, "by name key", c, load(store.OrganizationKeys{NameKeys: []string{"acme"}, UniqueField: none}), []store.Record{acme})
	sameRecords(t, "by domain", c, load(store.OrganizationKeys{Domains: []string{"acme.com", "globex.com"}, UniqueField: none}), []store.Record{acme})
	sameRecords(t, "by crm_id", c, load(store.OrganizationKeys{UniqueField: crmID, UniqueValues: []string{"ORG-2", "ORG-9"}}), []store.Record{globex})
	sameRecords(t, "by all three, each once, oldest first", c, load(store.OrganizationKeys{NameKeys: []string{"globex", "acme"},
		Domains: []string{"acme.com"}, UniqueField: crmID, UniqueValues: []string{"ORG-1", "ORG-2"}}), []store.Record{acme, globex})

	// Prospect linking reads the same rows.
	light, err := store.LoadOrganizations(f.ctx, f.pool, f.acct.ID, []string{"acme"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []store.Organization{{ID: acme.ID, Name: "Acme, Inc.", NameKey: "acme", Domain: "acme.com"}}; !slices.Equal(light, want) {
		t.Errorf("LoadOrganizations = %+v, want %+v", light, want)
	}

	// An update rewrites the row, its name key with its name; a stale update under another
	// account touches nothing.
	renamed := store.Record{ID: globex.ID, Values: values_(t, c, map[string]string{"name": "Initech LLC", "domain": "initech.com",
		"industry": "Software", "crm_id": "ORG-2", "regions": "AMER"})}
	f.inTx(func(tx pgx.Tx) error {
		if err := store.UpdateOrganizationRecords(f.ctx, tx, c, f.acct.ID, []store.Record{renamed}); err != nil {
			return err
		}
		hijack := store.Record{ID: otherAcme.ID, Values: values_(t, c, map[string]string{"name": "Hijacked"})}
		return store.UpdateOrganizationRecords(f.ctx, tx, c, f.acct.ID, []store.Record{hijack})
	})
	sameRecords(t, "renamed, by its new name key", c, load(store.OrganizationKeys{NameKeys: []string{"initech"}, UniqueField: none}), []store.Record{renamed})
	sameRecords(t, "renamed, by its old name key", c, load(store.OrganizationKeys{NameKeys: []string{"globex"}, UniqueField: none}), nil)
	got, err := store.LoadOrganizationRecords(f.ctx, f.pool, c, f.other.ID, store.OrganizationKeys{Domains: []string{"acme.com", "initech.com"}, UniqueField: none})
	if err != nil {
		t.Fatal(err)
	}
	sameRecords(t, "the other account's", c, got, []store.Record{otherAcme})

	// An organization that prospect linking created has the new fields empty.
	ids, err := store.NextIDs(f.ctx, f.pool, "organization")
	if err != nil {
		t.Fatal(err)
	}
	f.inTx(func(tx pgx.Tx) error {
		return store.InsertOrganizations(f.ctx, tx, f.acct.ID, []store.Organization{{ID: ids[0], Name: "Hooli", NameKey: "hooli", Domain: "hooli.xyz"}})
	})
	sameRecords(t, "linked by a prospect", c, load(store.OrganizationKeys{NameKeys: []string{"hooli"}, UniqueField: none}),
		[]store.Record{{ID: ids[0], Values: values_(t, c, map[string]string{"name": "Hooli", "domain": "hooli.xyz"})}})
}

func TestDeals(t *testing.T) {
	f := newKindFixture(t, "deal")
	c := crm.NewCatalog("deal", deals.Fields(crm.DefaultDealStages()), []crm.Field{{Key: "deal_ref", Label: "Deal Ref", Type: crm.Text}})
	const orgX, orgY = 7001, 7002
	renewalX := f.record(c, map[string]string{"name": "Renewal 2026", "amount": "1200.5", "stage": "Proposal",
		"close_date": "2026-12-31", "owner": "31", "organization": fmt.Sprint(orgX), "prospect": "41", "deal_ref": "D-1"})
	renewalNone := f.record(c, map[string]string{"name": "renewal  2026", "amount": "-0.25", "deal_ref": "D-2"})
	newLogoX := f.record(c, map[string]string{"name": "  New   Logo ", "organization": fmt.Sprint(orgX), "close_date": "0042-01-02"})
	otherRenewalX := f.record(c, map[string]string{"name": "Renewal 2026", "organization": fmt.Sprint(orgX), "deal_ref": "D-1"})
	f.inTx(func(tx pgx.Tx) error {
		if err := store.InsertDeals(f.ctx, tx, c, f.acct.ID, []store.Record{renewalX, renewalNone, newLogoX}); err != nil {
			return err
		}
		return store.InsertDeals(f.ctx, tx, c, f.other.ID, []store.Record{otherRenewalX})
	})
	ref := c.MustIndex("deal_ref")
	if err := store.EnsureDealLookupIndex(f.ctx, f.pool, c, f.acct.ID, ref); err != nil {
		t.Fatal(err)
	}
	load := func(k store.DealKeys) []store.Record {
		t.Helper()
		got, err := store.LoadDeals(f.ctx, f.pool, c, f.acct.ID, k)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	byName := func(orgs []int64, names ...string) store.DealKeys {
		return store.DealKeys{OrganizationIDs: orgs, NameKeys: names, UniqueField: -1}
	}
	sameRecords(t, "by name within organization X", c, load(byName([]int64{orgX}, "renewal 2026")), []store.Record{renewalX})
	sameRecords(t, "by name without organization", c, load(byName([]int64{0}, "renewal 2026")), []store.Record{renewalNone})
	sameRecords(t, "by name within organization Y", c, load(byName([]int64{orgY}, "renewal 2026")), nil)
	sameRecords(t, "by a folded name", c, load(byName([]int64{orgX, orgX}, crm.DealNameKey("NEW LOGO"), "renewal 2026")), []store.Record{renewalX, newLogoX})
	sameRecords(t, "by deal_ref", c, load(store.DealKeys{UniqueField: ref, UniqueValues: []string{"D-2", "D-1"}}), []store.Record{renewalX, renewalNone})

	moved := store.Record{ID: renewalNone.ID, Values: values_(t, c, map[string]string{"name": "Renewal 2026", "amount": "99999999999999999999.01",
		"stage": "Closed Won", "organization": fmt.Sprint(orgY), "owner": "32", "deal_ref": "D-2"})}
	f.inTx(func(tx pgx.Tx) error {
		if err := store.UpdateDeals(f.ctx, tx, c, f.acct.ID, []store.Record{moved}); err != nil {
			return err
		}
		hijack := store.Record{ID: otherRenewalX.ID, Values: values_(t, c, map[string]string{"name": "Hijacked"})}
		return store.UpdateDeals(f.ctx, tx, c, f.acct.ID, []store.Record{hijack})
	})
	sameRecords(t, "updated, in its new organization", c, load(byName([]int64{orgY}, "renewal 2026")), []store.Record{moved})
	sameRecords(t, "updated, in none", c, load(byName([]int64{0}, "renewal 2026")), nil)
	got, err := store.LoadDeals(f.ctx, f.pool, c, f.other.ID, byName([]int64{orgX, orgY}, "renewal 2026", "renewal 2026"))
	if err != nil {
		t.Fatal(err)
	}
	sameRecords(t, "the other account's", c, got, []store.Record{otherRenewalX})
}

func TestDealStages(t *testing.T) {
	f := newKindFixture(t, "deal")
	stages := func(acct store.Account) []string {
		t.Helper()
		s, err := store.DealStages(f.ctx, f.pool, acct.ID)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	defaults := []string{"Prospecting", "Qualification", "Proposal", "Negotiation", "Closed Won", "Closed Lost"}
	if got := stages(f.acct); !slices.Equal(got, defaults) {
		t.Errorf("stages of a new account %q, want %q", got, defaults)
	}
	if err := store.SetDealStages(f.ctx, f.pool, f.acct.ID, []string{" Lead ", "Won"}); err != nil {
		t.Fatal(err)
	}
	if got, want := stages(f.acct), []string{"Lead", "Won"}; !slices.Equal(got, want) {
		t.Errorf("stages %q, want %q", got, want)
	}
	// Set again: the same names at other positions replace the old ones.
	if err := store.SetDealStages(f.ctx, f.pool, f.acct.ID, []string{"Won", "Lead", "Lost"}); err != nil {
		t.Fatal(err)
	}
	if got, want := stages(f.acct), []string{"Won", "Lead", "Lost"}; !slices.Equal(got, want) {
		t.Errorf("stages %q, want %q", got, want)
	}
	if got := stages(f.other); !slices.Equal(got, defaults) {
		t.Errorf("stages of the other account %q, want the defaults", got)
	}
	for _, bad := range []struct {
		stages []string
		want   string
	}{
		{nil, "give at least one stage"},
		{[]string{"Won", " "}, `deal stage " " is empty`},
		{[]string{"Won", "A;B"}, `deal stage "A;B" is empty or contains ';'`},
		{[]string{"Won", "won "}, `deal stage "won" is given twice`},
		{[]string{"Won", "Lost\x00"}, `deal stage "Lost\x00" contains a control character or is not UTF-8`},
		{[]string{"Won", "L\xffst"}, `deal stage "L\xffst" contains a control character or is not UTF-8`},
	} {
		err := store.SetDealStages(f.ctx, f.pool, f.acct.ID, bad.stages)
		if !errors.Is(err, store.ErrInvalidDealStages) || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("SetDealStages(%q) = %v, want ErrInvalidDealStages saying %q", bad.stages, err, bad.want)
		}
	}
	if got, want := stages(f.acct), []string{"Won", "Lead", "Lost"}; !slices.Equal(got, want) {
		t.Errorf("stages after refused changes %q, want %q", got, want)
	}
}

func TestProspectRefs(t *testing.T) {
	f := newKindFixture(t, "prospect")
	c, err := kind.Catalog(f.ctx, f.pool, prospects.Kind{}, f.acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	ann := f.record(c, map[string]string{"email": "Ann@Example.com", "first_name": "Ann", "last_name": "Able", "title": "CEO"})
	annToo := f.record(c, map[string]string{"first_name": "ANN", "last_name": "able"})
	bo := f.record(c, map[string]string{"email": "bo@example.com", "first_name": "Bo"})
	otherAnn := f.record(c, map[string]string{"email": "ann@example.com", "first_name": "Ann", "last_name": "Able"})
	f.inTx(func(tx pgx.Tx) error {
		if err := store.InsertProspects(f.ctx, tx, c, f.acct.ID, []store.Prospect{ann, annToo, bo}); err != nil {
			return err
		}
		return store.InsertProspects(f.ctx, tx, c, f.other.ID, []store.Prospect{otherAnn})
	})
	if err := store.EnsureLookupIndexes(f.ctx, f.pool, c, f.acct.ID, -1, true); err != nil {
		t.Fatal(err)
	}
	refs := func(emails, first, last []string) []store.ProspectRef {
		t.Helper()
		got, err := store.LoadProspectRefs(f.ctx, f.pool, f.acct.ID, emails, first, last)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	annRef := store.ProspectRef{ID: ann.ID, Email: "Ann@Example.com", FirstName: "Ann", LastName: "Able"}
	annTooRef := store.ProspectRef{ID: annToo.ID, FirstName: "ANN", LastName: "able"}
	boRef := store.ProspectRef{ID: bo.ID, Email: "bo@example.com", FirstName: "Bo"}
	for _, tc := range []struct {
		name                string
		emails, first, last []string
		want                []store.ProspectRef
	}{
		{"by email", []string{"ann@example.com", "nobody@example.com"}, nil, nil, []store.ProspectRef{annRef}},
		{"by name, oldest first", nil, []string{"ann", "no"}, []string{"able", "body"}, []store.ProspectRef{annRef, annTooRef}},
		{"by first name alone", nil, []string{"bo"}, []string{""}, []store.ProspectRef{boRef}},
		{"by both, each once", []string{"bo@example.com", "ann@example.com"}, []string{"ann"}, []string{"able"}, []store.ProspectRef{annRef, annTooRef, boRef}},
		{"nobody", []string{"zed@example.com"}, []string{"zed"}, []string{""}, nil},
	} {
		if got := refs(tc.emails, tc.first, tc.last); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
	got, err := store.LoadProspectRefs(f.ctx, f.pool, f.other.ID, []string{"ann@example.com"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []store.ProspectRef{{ID: otherAnn.ID, Email: "ann@example.com", FirstName: "Ann", LastName: "Able"}}; !slices.Equal(got, want) {
		t.Errorf("the other account's: %+v, want %+v", got, want)
	}
}

func TestObjectTypes(t *testing.T) {
	f := newKindFixture(t, "object_record")
	sub, err := store.CreateObjectType(f.ctx, f.pool, f.acct.ID, "subscription", " Subscription ", "serial")
	if err != nil {
		t.Fatal(err)
	}
	if sub.ID == 0 || sub.Key != "subscription" || sub.Label != "Subscription" || sub.Identifier != "serial" {
		t.Errorf("created %+v", sub)
	}
	asset, err := store.CreateObjectType(f.ctx, f.pool, f.acct.ID, "asset_2", "Asset", "tag_no")
	if err != nil {
		t.Fatal(err)
	}
	// Another account may use the same key and label.
	if _, err := store.CreateObjectType(f.ctx, f.pool, f.other.ID, "subscription", "Subscription", "code"); err != nil {
		t.Fatal(err)
	}
	types, err := store.ObjectTypes(f.ctx, f.pool, f.acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(types) != 2 || types[0] != sub || types[1] != asset {
		t.Errorf("ObjectTypes = %+v, want %+v and %+v", types, sub, asset)
	}
	if got, err := store.ObjectTypeByKey(f.ctx, f.pool, f.acct.ID, "asset_2"); err != nil || got != asset {
		t.Errorf("ObjectTypeByKey(asset_2) = %+v, %v; want %+v", got, err, asset)
	}
	if _, err := store.ObjectTypeByKey(f.ctx, f.pool, f.acct.ID, "vehicle"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ObjectTypeByKey(vehicle) = %v, want ErrNotFound", err)
	}
	for _, bad := range []struct{ key, label, identifier, want string }{
		{"Subscription", "S", "serial", `object key "Subscription": use lowercase letters, digits and '_', starting with a letter, at most 40 characters`},
		{"1st", "S", "serial", `object key "1st": use lowercase letters`},
		{strings.Repeat("k", 41), "S", "serial", `at most 40 characters`},
		{"deals", "My Deals", "serial", `object key "deals" is a built-in kind: choose another key`},
		{"workbook", "W", "serial", `object key "workbook" is a built-in kind`},
		{"orgs", " organizations", "serial", `object "orgs": label "organizations" is the name of a built-in kind: choose another label`},
		{"car", "  ", "serial", `object "car": label is empty`},
		{"car", "Car", "Serial-No", `object "car": identifier "Serial-No" is not a field key`},
		{"car", "Car", "prospect_email", `object "car": identifier "prospect_email" is the prospect link, not a field of the object`},
	} {
		_, err := store.CreateObjectType(f.ctx, f.pool, f.acct.ID, bad.key, bad.label, bad.identifier)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("CreateObjectType(%q, %q, %q) = %v, want an error saying %q", bad.key, bad.label, bad.identifier, err, bad.want)
		}
	}
	for _, dup := range []struct{ key, label, want string }{
		{"subscription", "Plans", `object type "subscription": already exists`},
		{"plan", "SUBSCRIPTION", `object type labelled "SUBSCRIPTION": already exists`},
	} {
		_, err := store.CreateObjectType(f.ctx, f.pool, f.acct.ID, dup.key, dup.label, "x")
		if !errors.Is(err, store.ErrExists) || err.Error() != dup.want {
			t.Errorf("CreateObjectType(%q, %q) = %v, want %q", dup.key, dup.label, err, dup.want)
		}
	}
	if types, err := store.ObjectTypes(f.ctx, f.pool, f.acct.ID); err != nil || len(types) != 2 {
		t.Errorf("after refused types: %+v, %v; want the two", types, err)
	}
}

func TestObjectRecords(t *testing.T) {
	f := newKindFixture(t, "object_record")
	sub, err := store.CreateObjectType(f.ctx, f.pool, f.acct.ID, "subscription", "Subscription", "serial")
	if err != nil {
		t.Fatal(err)
	}
	licence, err := store.CreateObjectType(f.ctx, f.pool, f.acct.ID, "licence", "Licence", "serial")
	if err != nil {
		t.Fatal(err)
	}
	otherSub, err := store.CreateObjectType(f.ctx, f.pool, f.other.ID, "subscription", "Subscription", "serial")
	if err != nil {
		t.Fatal(err)
	}
	c := crm.NewCatalog("record", objects.StandardFields(), []crm.Field{
		{Key: "serial", Label: "Serial", Type: crm.Text},
		{Key: "plan", Label: "Plan", Type: crm.Picklist, Options: []string{"Basic", "Pro"}},
		{Key: "seats", Label: "Seats", Type: crm.Number},
	})
	sn1 := f.record(c, map[string]string{"serial": "SN-1", "plan": "Pro", "seats": "12", "prospect": "4242"})
	sn2 := f.record(c, map[string]string{"serial": "SN-2"})
	licenceSN1 := f.record(c, map[string]string{"serial": "SN-1", "plan": "Basic"})
	otherSN1 := f.record(c, map[string]string{"serial": "SN-1", "seats": "1"})
	f.inTx(func(tx pgx.Tx) error {
		for _, w := range []struct {
			t     store.ObjectType
			acct  int64
			recss []store.Record
		}{{sub, f.acct.ID, []store.Record{sn1, sn2}}, {licence, f.acct.ID, []store.Record{licenceSN1}}, {otherSub, f.other.ID, []store.Record{otherSN1}}} {
			if err := store.InsertObjectRecords(f.ctx, tx, w.t, c, w.acct, w.recss); err != nil {
				return err
			}
		}
		return nil
	})
	load := func(ty store.ObjectType, acct int64, ids ...string) []store.Record {
		t.Helper()
		got, err := store.LoadObjectRecords(f.ctx, f.pool, ty, c, acct, ids)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	sameRecords(t, "subscriptions by serial", c, load(sub, f.acct.ID, "SN-2", "SN-1", "SN-3", "sn-1"), []store.Record{sn1, sn2})
	sameRecords(t, "licences by serial", c, load(licence, f.acct.ID, "SN-1", "SN-2"), []store.Record{licenceSN1})
	sameRecords(t, "another account's type", c, load(otherSub, f.acct.ID, "SN-1"), nil)
	sameRecords(t, "the other account's", c, load(otherSub, f.other.ID, "SN-1"), []store.Record{otherSN1})

	// The identifying value is unique within a type.
	dup := f.record(c, map[string]string{"serial": "SN-2"})
	err = pgx.BeginFunc(f.ctx, f.pool, func(tx pgx.Tx) error {
		return store.InsertObjectRecords(f.ctx, tx, sub, c, f.acct.ID, []store.Record{dup})
	})
	if err == nil || !strings.Contains(err.Error(), "object_records_identifier_value_object_type_id_key") {
		t.Errorf("a second subscription SN-2: %v, want a unique violation", err)
	}

	changed := store.Record{ID: sn1.ID, Values: values_(t, c, map[string]string{"serial": "SN-1", "plan": "Basic", "seats": "12"})}
	f.inTx(func(tx pgx.Tx) error {
		if err := store.UpdateObjectRecords(f.ctx, tx, sub, c, f.acct.ID, []store.Record{changed}); err != nil {
			return err
		}
		hijack := store.Record{ID: otherSN1.ID, Values: values_(t, c, map[string]string{"serial": "SN-1", "plan": "Pro"})}
		return store.UpdateObjectRecords(f.ctx, tx, sub, c, f.acct.ID, []store.Record{hijack})
	})
	sameRecords(t, "updated", c, load(sub, f.acct.ID, "SN-1"), []store.Record{changed})
	sameRecords(t, "the other account's, after an update under another account", c, load(otherSub, f.other.ID, "SN-1"), []store.Record{otherSN1})

	// An email identifier compares case-insensitively and keeps its spelling.
	member, err := store.CreateObjectType(f.ctx, f.pool, f.acct.ID, "member", "Member", "member_email")
	if err != nil {
		t.Fatal(err)
	}
	mc := crm.NewCatalog("record", objects.StandardFields(), []crm.Field{{Key: "member_email", Label: "Member Email", Type: crm.Email}})
	bob := f.record(mc, map[string]string{"member_email": "Bob@Example.com"})
	f.inTx(func(tx pgx.Tx) error {
		return store.InsertObjectRecords(f.ctx, tx, member, mc, f.acct.ID, []store.Record{bob})
	})
	got, err := store.LoadObjectRecords(f.ctx, f.pool, member, mc, f.acct.ID, []string{"bob@EXAMPLE.com"})
	if err != nil {
		t.Fatal(err)
	}
	sameRecords(t, "members by email", mc, got, []store.Record{bob})

	// A type whose identifying field does not exist yet can hold no records.
	_, err = store.LoadObjectRecords(f.ctx, f.pool, member, c, f.acct.ID, []string{"x"})
	if want := `object "member": its identifier field "member_email" does not exist yet: add it to the object's fields`; err == nil || err.Error() != want {
		t.Errorf("records of a type without its identifier field: %v, want %q", err, want)
	}
}

// TestRecordKindsMigrationKeepsOrganizations: migration 0012 adds the organization fields;
// the organizations that existed keep their rows, names and domains, with the new fields empty.
func TestRecordKindsMigrationKeepsOrganizations(t *testing.T) {
	pool := storetest.EmptyDatabase(t, "leadpipe_test_migrate_record_kinds")
	ctx := context.Background()
	if _, err := store.MigrateUpTo(ctx, pool, 10); err != nil {
		t.Fatal(err)
	}
	var acct int64
	err := pool.QueryRow(ctx, `WITH a AS (INSERT INTO accounts (name) VALUES ('before') RETURNING id),
			o AS (INSERT INTO organizations (id, account_id, name, name_key, domain, created_at)
				SELECT v.id, a.id, v.name, v.key, v.domain, '2026-01-02T03:04:05Z' FROM a,
				(VALUES (1, 'Acme, Inc.', 'acme', 'acme.com'), (2, 'Globex', 'globex', NULL)) AS v(id, name, key, domain))
		SELECT id FROM a`).Scan(&acct)
	if err != nil {
		t.Fatal(err)
	}
	if applied, err := store.Migrate(ctx, pool); err != nil || !slices.Contains(applied, 12) {
		t.Fatalf("migrations applied %v, %v; want 12 among them", applied, err)
	}
	rows, err := pool.Query(ctx, `SELECT format('%s %s %s %s %s %s', id, name, name_key, coalesce(domain, '-'), custom,
			updated_at = '2026-01-02T03:04:05Z') FROM organizations ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"1 Acme, Inc. acme acme.com {} t", "2 Globex globex - {} t"}; !slices.Equal(got, want) {
		t.Errorf("organizations after the migration %q, want %q", got, want)
	}
	c := kind.NewCatalog(organizations.Kind{}, nil)
	recs, err := store.LoadOrganizationRecords(ctx, pool, c, acct, store.OrganizationKeys{NameKeys: []string{"acme"}, UniqueField: -1})
	if err != nil {
		t.Fatal(err)
	}
	sameRecords(t, "acme after the migration", c, recs,
		[]store.Record{{ID: 1, Values: values_(t, c, map[string]string{"name": "Acme, Inc.", "domain": "acme.com"})}})
}

// annAndBob stores two prospects, ann@example.com (title CEO) and bob@example.com (CFO), for the
// tests of an update of the title: it returns their catalog, the title's field index, the
// fields changed (the title alone), and a load of one prospect by email, with its row's
// address, through q.
func annAndBob(t *testing.T) (f *kindFixture, c *crm.Catalog, title int, changed []bool, load func(q store.Querier, email string) store.Prospect) {
	t.Helper()
	f = newKindFixture(t, "prospect")
	c, err := kind.Catalog(f.ctx, f.pool, prospects.Kind{}, f.acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	ann := f.record(c, map[string]string{"email": "ann@example.com", "title": "CEO"})
	bob := f.record(c, map[string]string{"email": "bob@example.com", "title": "CFO"})
	f.inTx(func(tx pgx.Tx) error {
		return store.InsertProspects(f.ctx, tx, c, f.acct.ID, []store.Prospect{ann, bob})
	})
	title = c.MustIndex("title")
	changed = make([]bool, len(c.Fields))
	changed[title] = true
	load = func(q store.Querier, email string) store.Prospect {
		t.Helper()
		got, err := store.LoadProspects(f.ctx, q, c, f.acct.ID, store.ProspectLookup{Emails: []string{email}, UniqueField: -1})
		if err != nil || len(got) != 1 || !got[0].Addr.Valid {
			t.Fatalf("load %s: %v, %v", email, got, err)
		}
		return got[0]
	}
	return f, c, title, changed, load
}

// retitled is p with its title (the catalog field title) set to to, its values copied.
func retitled(p store.Prospect, title int, to string) store.Prospect {
	p.Values = slices.Clone(p.Values)
	p.Values[title] = to
	return p
}

// scansWhile returns how many scans tx made of the relations (tables or indexes) while run
// ran in it.
func (f *kindFixture) scansWhile(tx pgx.Tx, relations []string, run func()) int64 {
	f.t.Helper()
	terms := make([]string, len(relations))
	for i, r := range relations {
		terms[i] = fmt.Sprintf("pg_stat_get_xact_numscans('%s'::regclass)", r)
	}
	count := "SELECT " + strings.Join(terms, " + ")
	var before, after int64
	if err := tx.QueryRow(f.ctx, count).Scan(&before); err != nil {
		f.t.Fatal(err)
	}
	run()
	if err := tx.QueryRow(f.ctx, count).Scan(&after); err != nil {
		f.t.Fatal(err)
	}
	return after - before
}

// The update finds each prospect at its row's address as loaded, without a probe of the
// primary key; a prospect whose row moved since (updated again, here in the same transaction
// and in an earlier one), or whose address is another prospect's, is found by its id instead,
// and the other prospect is left alone.
func TestUpdateProspectsByAddress(t *testing.T) {
	f, c, title, changed, loadIn := annAndBob(t)
	load := func(email string) store.Prospect { t.Helper(); return loadIn(f.pool, email) }
	// update sets p's title in tx and reports how many probes of the primary key it took.
	update := func(tx pgx.Tx, p store.Prospect, to string) (probes int64) {
		t.Helper()
		u, err := store.EncodeProspectUpdate(tx.Conn().TypeMap(), c, f.acct.ID, []store.Prospect{retitled(p, title, to)}, changed)
		if err != nil {
			t.Fatal(err)
		}
		return f.scansWhile(tx, []string{"prospects_pkey"}, func() {
			if err := u.Exec(f.ctx, tx); err != nil {
				t.Fatal(err)
			}
		})
	}
	titleOf := func(email string) string { return load(email).Values[title] }

	a := load("ann@example.com")
	f.inTx(func(tx pgx.Tx) error {
		if n := update(tx, a, "CTO"); n != 0 {
			t.Errorf("found at its address: %d probes of the primary key, want 0", n)
		}
		if n := update(tx, a, "COO"); n == 0 { // the row moved with the update before
			t.Error("a row moved in the transaction was looked for at its old address only")
		}
		return nil
	})
	if got := titleOf("ann@example.com"); got != "COO" {
		t.Errorf("after two updates in one transaction: title %q, want COO", got)
	}
	f.inTx(func(tx pgx.Tx) error { update(tx, a, "CMO"); return nil }) // a's address is a version gone since
	if got := titleOf("ann@example.com"); got != "CMO" {
		t.Errorf("after an update by an address since moved: title %q, want CMO", got)
	}
	wrong := load("ann@example.com")
	wrong.Addr = load("bob@example.com").Addr
	f.inTx(func(tx pgx.Tx) error { update(tx, wrong, "CIO"); return nil })
	if got, bob := titleOf("ann@example.com"), titleOf("bob@example.com"); got != "CIO" || bob != "CFO" {
		t.Errorf("ann updated by bob's address: ann's title %q, bob's %q; want CIO and CFO", got, bob)
	}
}

// EncodeProspectUpdateAtAddress's update, the early one's, writes a prospect only at its row's
// address, reading the table no other way, and leaves one whose row moved, or whose address is
// another prospect's row, as it is: the count of rows it wrote tells the caller. Its plan is
// pinned (store.AtAddressPlan) even in a transaction that turned TID scans off, where a plan
// made without those settings reads the table whole.
func TestUpdateProspectsAtAddressOnly(t *testing.T) {
	f, c, title, changed, load := annAndBob(t)
	// update sets p's title in tx at p's address and reports the rows it wrote and the scans
	// of the table and its indexes it took.
	update := func(tx pgx.Tx, p store.Prospect, to string) (wrote, scans int64) {
		t.Helper()
		u, err := store.EncodeProspectUpdateAtAddress(tx.Conn().TypeMap(), c, f.acct.ID, []store.Prospect{retitled(p, title, to)}, changed)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(f.ctx, "SET LOCAL enable_tidscan = off"); err != nil {
			t.Fatal(err)
		}
		scans = f.scansWhile(tx, []string{"prospects", "prospects_pkey", "prospects_email"}, func() {
			if wrote, err = u.ExecCount(f.ctx, tx); err != nil {
				t.Fatal(err)
			}
		})
		return wrote, scans
	}

	a := load(f.pool, "ann@example.com")
	f.inTx(func(tx pgx.Tx) error {
		if wrote, scans := update(tx, a, "CTO"); wrote != 1 || scans != 0 {
			t.Errorf("at its address: %d rows written, %d scans of the table or its indexes; want 1 and 0", wrote, scans)
		}
		if wrote, scans := update(tx, a, "COO"); wrote != 0 || scans != 0 { // the row moved with the update before
			t.Errorf("a row moved in the transaction: %d rows written, %d scans; want 0 and 0", wrote, scans)
		}
		wrong := load(tx, "ann@example.com")
		wrong.Addr = load(tx, "bob@example.com").Addr
		if wrote, scans := update(tx, wrong, "CIO"); wrote != 0 || scans != 0 {
			t.Errorf("ann at bob's address: %d rows written, %d scans; want 0 and 0", wrote, scans)
		}
		return nil
	})
	if got, b := load(f.pool, "ann@example.com").Values[title], load(f.pool, "bob@example.com").Values[title]; got != "CTO" || b != "CFO" {
		t.Errorf("ann's title %q, bob's %q; want CTO and CFO", got, b)
	}
}

// EncodeProspectUpdate's update sets only the columns of the fields it is told changed (custom
// when a custom field is among them) and updated_at; nil sets every column. A stored value the
// record holds differently elsewhere stays as stored.
func TestUpdateProspectsSetsTheFieldsThatChanged(t *testing.T) {
	f := newKindFixture(t, "prospect")
	if err := store.AddField(f.ctx, f.pool, f.acct.ID, "prospects", crm.Field{Key: "tier", Label: "Tier", Type: crm.Text}); err != nil {
		t.Fatal(err)
	}
	c, err := kind.Catalog(f.ctx, f.pool, prospects.Kind{}, f.acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]string{"email": "ann@example.com", "first_name": "Ann", "title": "CEO", "city": "Oslo", "tier": "gold"}
	ann := f.record(c, stored)
	f.inTx(func(tx pgx.Tx) error { return store.InsertProspects(f.ctx, tx, c, f.acct.ID, []store.Prospect{ann}) })
	load := func() store.Prospect {
		t.Helper()
		got, err := store.LoadProspects(f.ctx, f.pool, c, f.acct.ID, store.ProspectLookup{Emails: []string{"ann@example.com"}, UniqueField: -1})
		if err != nil || len(got) != 1 {
			t.Fatalf("load: %v, %v", got, err)
		}
		return got[0]
	}
	update := func(values map[string]string, changed []string) {
		t.Helper()
		var fields []bool
		if changed != nil {
			fields = make([]bool, len(c.Fields))
			for _, k := range changed {
				fields[c.MustIndex(k)] = true
			}
		}
		p := store.Prospect{ID: ann.ID, Values: values_(t, c, values)}
		f.inTx(func(tx pgx.Tx) error {
			e, err := store.EncodeProspectUpdate(tx.Conn().TypeMap(), c, f.acct.ID, []store.Prospect{p}, fields)
			if err != nil {
				return err
			}
			return e.Exec(f.ctx, tx)
		})
	}

	// The record in memory differs in first_name, city and tier, but only title changed.
	update(map[string]string{"email": "ann@example.com", "first_name": "X", "title": "CTO", "city": "X", "tier": "X"}, []string{"title"})
	want := f.record(c, map[string]string{"email": "ann@example.com", "first_name": "Ann", "title": "CTO", "city": "Oslo", "tier": "gold"})
	want.ID = ann.ID
	sameRecords(t, "after title changed", c, []store.Record{load()}, []store.Record{want})

	// A custom field rewrites custom; the city is still as stored.
	update(map[string]string{"email": "ann@example.com", "first_name": "X", "title": "CTO", "city": "X", "tier": "silver"}, []string{"tier"})
	want.Values[c.MustIndex("tier")] = "silver"
	sameRecords(t, "after tier changed", c, []store.Record{load()}, []store.Record{want})

	// nil: the whole row.
	update(map[string]string{"email": "ann@example.com", "first_name": "Bo", "title": "CTO", "city": "Rome", "tier": "silver"}, nil)
	want.Values[c.MustIndex("first_name")], want.Values[c.MustIndex("city")] = "Bo", "Rome"
	sameRecords(t, "after the whole row", c, []store.Record{load()}, []store.Record{want})
}

// A lookup returns each record once, oldest first, however often its keys name it: ids given
// again come back once.
func TestLoadsEachRecordOnceOldestFirst(t *testing.T) {
	f, c, _, _, load := annAndBob(t)
	ann, bob := load(f.pool, "ann@example.com"), load(f.pool, "bob@example.com")
	got, err := store.ProspectsByID(f.ctx, f.pool, c, f.acct.ID, []int64{bob.ID, ann.ID, bob.ID, bob.ID, ann.ID})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, r := range got {
		ids = append(ids, r.ID)
	}
	if want := []int64{min(ann.ID, bob.ID), max(ann.ID, bob.ID)}; !slices.Equal(ids, want) {
		t.Errorf("got ids %v, want %v", ids, want)
	}
}
