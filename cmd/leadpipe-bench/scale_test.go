package main

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/store"
	"github.com/leadpipe/leadpipe/store/storetest"
)

// TestSeedProspects seeds two accounts of 1,000 prospects each and checks what the scale step
// relies on: ids taken from leadpipe's sequences (so that no import collides with them),
// prospect_count equal to the prospects, emails valid and unique in the account yet none of a
// bench file's, organizations keyed as leadpipe keys them, a third of the prospects linked to
// one of their own account, every column of the bench file filled, and statistics gathered.
func TestSeedProspects(t *testing.T) {
	p := storetest.FreshDatabase(t, "bench_seed")
	ctx := context.Background()
	var accounts []int64
	for _, name := range []string{"seed-a", "seed-b"} {
		a, err := store.CreateAccount(ctx, p, name, nil)
		if err != nil {
			t.Fatal(err)
		}
		accounts = append(accounts, a.ID)
	}
	prospectsBefore, err := store.NextIDs(ctx, p, "prospect")
	if err != nil {
		t.Fatal(err)
	}
	const n = 1000
	if err := seedProspects(ctx, p, accounts, n); err != nil {
		t.Fatal(err)
	}
	prospectsAfter, err := store.NextIDs(ctx, p, "prospect")
	if err != nil {
		t.Fatal(err)
	}
	orgsAfter, err := store.NextIDs(ctx, p, "organization")
	if err != nil {
		t.Fatal(err)
	}

	var count, minID, maxID, orgCount, maxOrg int64
	if err := p.QueryRow(ctx, "SELECT count(*), min(id), max(id) FROM prospects").Scan(&count, &minID, &maxID); err != nil {
		t.Fatal(err)
	}
	if count != 2*n || minID <= prospectsBefore[len(prospectsBefore)-1] || maxID >= prospectsAfter[0] {
		t.Errorf("%d prospects, ids %d … %d; want 2,000 between the ids taken before (up to %d) and after (from %d)",
			count, minID, maxID, prospectsBefore[len(prospectsBefore)-1], prospectsAfter[0])
	}
	if err := p.QueryRow(ctx, "SELECT count(*), max(id) FROM organizations").Scan(&orgCount, &maxOrg); err != nil {
		t.Fatal(err)
	}
	if orgCount != 2*20 || maxOrg >= orgsAfter[0] {
		t.Errorf("%d organizations, the last id %d; want 40 (20 an account), before %d", orgCount, maxOrg, orgsAfter[0])
	}

	for _, id := range accounts {
		var counted, rows, emails, linked, ownLinked, filled, mobiles int64
		if err := p.QueryRow(ctx, `SELECT a.prospect_count, count(p.id), count(DISTINCT lower(p.email)),
			count(p.organization_id), count(o.id) FILTER (WHERE o.account_id = p.account_id),
			count(*) FILTER (WHERE num_nulls(p.first_name, p.last_name, p.title, p.phone, p.street, p.city, p.state,
				p.postal_code, p.country, p.lead_source) = 0),
			count(p.mobile)
			FROM accounts a JOIN prospects p ON p.account_id = a.id LEFT JOIN organizations o ON o.id = p.organization_id
			WHERE a.id = $1 GROUP BY a.prospect_count`, id).Scan(&counted, &rows, &emails, &linked, &ownLinked, &filled, &mobiles); err != nil {
			t.Fatal(err)
		}
		if counted != n || rows != n || emails != n || linked != 334 || ownLinked != 334 || filled != n || mobiles != 500 {
			t.Errorf("account %d: prospect_count %d, prospects %d, distinct emails %d, linked %d (to their own account's %d), filled %d, mobiles %d; want 1,000, 1,000, 1,000, 334 (334), 1,000, 500",
				id, counted, rows, emails, linked, ownLinked, filled, mobiles)
		}
	}

	path, _, _, err := ensureFile(t.TempDir(), 5000, 1)
	if err != nil {
		t.Fatal(err)
	}
	recs := readCSV(t, path)
	fileEmails := map[string]bool{}
	for _, r := range recs[1:] {
		fileEmails[strings.ToLower(strings.TrimSpace(r[0]))] = true
	}
	rows, err := p.Query(ctx, "SELECT email FROM prospects")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var email string
		if err := rows.Scan(&email); err != nil {
			t.Fatal(err)
		}
		if !validEmail(email) || fileEmails[strings.ToLower(email)] {
			t.Errorf("seeded email %q: valid %v, in the bench file %v; want valid and not in it", email, validEmail(email), fileEmails[strings.ToLower(email)])
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}

	orgs, err := p.Query(ctx, "SELECT name, name_key, domain, website FROM organizations")
	if err != nil {
		t.Fatal(err)
	}
	for orgs.Next() {
		var name, key, domain, website string
		if err := orgs.Scan(&name, &key, &domain, &website); err != nil {
			t.Fatal(err)
		}
		if key != crm.NormalizeOrgName(name) || domain != crm.WebsiteDomain(website) {
			t.Errorf("organization %q: name_key %q, domain %q; leadpipe keys it %q, %q", name, key, domain, crm.NormalizeOrgName(name), crm.WebsiteDomain(website))
		}
		if !strings.HasPrefix(key, "stored works ") {
			t.Errorf("organization %q: name_key %q; want stored works <n>", name, key)
		}
	}
	if err := orgs.Err(); err != nil {
		t.Fatal(err)
	}

	var analyzed bool
	if err := p.QueryRow(ctx, "SELECT last_vacuum IS NOT NULL AND last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'prospects'").Scan(&analyzed); err != nil {
		t.Fatal(err)
	}
	if !analyzed {
		t.Error("prospects were not vacuumed and analyzed after the seed")
	}
}

// TestMeasureScale runs the scale step at a small size, two rounds: every import creates the
// file's prospects whatever its account holds (measureScale checks the counts and the
// accounts' prospect_count after each) and reports what it read, the database that held 8
// accounts, 3 of them with a lookup index by phone, was seeded, and every database the step
// made is gone afterwards.
func TestMeasureScale(t *testing.T) {
	storetest.Pool(t) // Postgres is there, or the test fails in CI
	bin := buildLeadpipe(t)
	path, gen, _, err := ensureFile(t.TempDir(), 500, 7)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cases, err := measureScale(ctx, bin, storetest.URL(), path, gen,
		scaleSizes{prospects: 3000, accounts: 8, accountProspects: 200, indexed: 3, rounds: 2})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cases {
		names = append(names, c.name)
		if len(c.runs) != 2 {
			t.Errorf("%s: %d runs, want 2", c.name, len(c.runs))
		}
		for _, r := range c.runs {
			if r.res.Created != int64(gen.Created()) || r.wall <= 0 {
				t.Errorf("%s: created %d in %v, want %d", c.name, r.res.Created, r.wall, gen.Created())
			}
			if len(r.io) != 4 || r.io[0].read+r.io[0].hit == 0 {
				t.Errorf("%s: the relations read most %v; want 4, the first read", c.name, r.io)
			}
		}
	}
	if got := strings.Join(names, ", "); got != "empty, 3k account, 8 accounts" {
		t.Errorf("cases %s, want empty, 3k account, 8 accounts", got)
	}
	u, err := url.Parse(storetest.URL())
	if err != nil {
		t.Fatal(err)
	}
	var left int
	if err := storetest.Pool(t).QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE starts_with(datname, $1)",
		strings.TrimPrefix(u.Path, "/")+"_scale_").Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("%d of the step's databases left behind", left)
	}
}
