package store_test

// The queries a batch runs must stay index probes however large an account grows and whatever
// the planner's statistics say (issue 10 item 13: at 4.2M prospects of one account the email
// lookup flipped to a sequential scan of the whole table for every batch). This test builds an
// account of several million prospects in a database of its own, ANALYZEs it, and EXPLAINs the
// exact statements the store runs, both as the custom and as the generic plan of a prepared
// statement (pgx prepares every statement; Postgres may switch to the generic plan after five
// runs). It fails on the earlier shape, lower(email) = ANY($2): at 3M prospects the custom
// plans of the email, identifier, name and organization lookups read the whole table. A second
// account grows after the statistics were taken, as one does during its first import: with
// lookup indexes any lookup of the account could use, its probes read another index whole.
//
// Building the accounts takes most of the test, hence narrow rows: 29–43 s in all on 2 shared
// cores, 110 s when they were very busy (load average 13).

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
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

const (
	largeProspects     = 3_000_000
	largeOrganizations = 300_000
	lookupBatch        = 5_000 // the default batch size
)

func TestBatchQueriesProbeIndexesInALargeAccount(t *testing.T) {
	pool := storetest.FreshDatabase(t, "leadpipe_test_lookup_plans")
	// Loading the rows takes minutes on a loaded machine: the test may use the time go test
	// gives it (-timeout), less a margin to fail with an error rather than a panic.
	deadline := time.Now().Add(15 * time.Minute)
	if d, ok := t.Deadline(); ok {
		deadline = d.Add(-30 * time.Second)
	}
	ctx, cancel := context.WithDeadline(t.Context(), deadline)
	defer cancel()
	acct, c := accountMatchingByCRMID(t, ctx, pool, "large")

	// The rows are loaded and indexed on one connection with room to sort in memory, into
	// tables that skip the write-ahead log: neither changes what the planner sees.
	load, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer load.Release()
	// Autovacuum is off, so that the statistics are the ones the test takes, however stale.
	for _, sql := range []string{"SET maintenance_work_mem = '256MB'", "ALTER TABLE prospects SET UNLOGGED",
		"ALTER TABLE organizations SET UNLOGGED", "ALTER TABLE deals SET UNLOGGED", "ALTER TABLE object_records SET UNLOGGED",
		"ALTER TABLE prospects SET (autovacuum_enabled = false)"} {
		if _, err := load.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	// A second account gets its lookup indexes while it is empty, as an import's first batch
	// finds it; it grows only after the statistics are taken (below).
	growing, gc := accountMatchingByCRMID(t, ctx, pool, "growing")
	ensureLookupIndexes(t, ctx, load, gc, growing.ID)

	start := time.Now()
	// Narrow rows: every prospect has an email; one in ten has names, a phone and a crm_id.
	bulkLoad(t, ctx, load, "prospects", `INSERT INTO prospects (id, account_id, email, first_name, last_name, phone, custom)
		SELECT g, $1, 'p' || g || '@example.com',
			CASE WHEN g % 10 = 0 THEN 'first' || g % 5000 END, CASE WHEN g % 10 = 0 THEN 'last' || g % 7001 END,
			CASE WHEN g % 10 = 0 THEN '+1555' || g END,
			CASE WHEN g % 10 = 0 THEN jsonb_build_object('crm_id', 'crm' || g) ELSE '{}' END
		FROM generate_series(1, $2::int) g`, acct.ID, largeProspects)
	bulkLoad(t, ctx, load, "organizations", `INSERT INTO organizations (id, account_id, name, name_key, domain, custom)
		SELECT g, $1, 'Org ' || g, 'org ' || g, CASE WHEN g % 2 = 0 THEN 'org' || g || '.example' END,
			CASE WHEN g % 10 = 0 THEN jsonb_build_object('crm_id', 'org' || g) ELSE '{}' END
		FROM generate_series(1, $2::int) g`, acct.ID, largeOrganizations)
	// As many deals, one in ten without an organization and one in ten with a deal_ref, and as
	// many records of one object type.
	bulkLoad(t, ctx, load, "deals", `INSERT INTO deals (id, account_id, name, name_key, organization_id, custom)
		SELECT g, $1, 'Deal ' || g % 1000, 'deal ' || g % 1000, nullif(g % 10, 0) * 1000 + g / 1000,
			CASE WHEN g % 10 = 0 THEN jsonb_build_object('deal_ref', 'd' || g) ELSE '{}' END
		FROM generate_series(1, $2::int) g`, acct.ID, largeOrganizations)
	objectType, err := store.CreateObjectType(ctx, pool, acct.ID, "subscription", "Subscription", "serial")
	if err != nil {
		t.Fatal(err)
	}
	bulkLoad(t, ctx, load, "object_records", `INSERT INTO object_records (id, account_id, object_type_id, identifier_value, custom)
		SELECT g, $1, $3, 'sn' || g, jsonb_build_object('serial', 'sn' || g)
		FROM generate_series(1, $2::int) g`, acct.ID, largeOrganizations, objectType.ID)
	loaded := time.Now()
	ensureLookupIndexes(t, ctx, load, c, acct.ID)
	orgCatalog := kind.NewCatalog(organizations.Kind{}, []crm.Field{{Key: "crm_id", Label: "CRM id", Type: crm.Text}})
	if err := store.EnsureOrganizationLookupIndex(ctx, load, orgCatalog, acct.ID, orgCatalog.MustIndex("crm_id")); err != nil {
		t.Fatal(err)
	}
	dealCatalog := crm.NewCatalog("deal", deals.Fields(crm.DefaultDealStages()), []crm.Field{{Key: "deal_ref", Label: "Deal ref", Type: crm.Text}})
	if err := store.EnsureDealLookupIndex(ctx, load, dealCatalog, acct.ID, dealCatalog.MustIndex("deal_ref")); err != nil {
		t.Fatal(err)
	}
	indexed := time.Now()
	if _, err := load.Exec(ctx, "ANALYZE prospects, organizations, deals, object_records"); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d prospects and %d organizations, deals and object records loaded in %v, lookup indexes built in %v, analyzed in %v",
		largeProspects, largeOrganizations, loaded.Sub(start).Round(time.Millisecond),
		indexed.Sub(loaded).Round(time.Millisecond), time.Since(indexed).Round(time.Millisecond))

	// One batch's values, spread over the account.
	var names, domains, orgIDs, dealNames, dealRefs, serials []string
	var ids, dealOrgs []int64
	for i := 1; i <= lookupBatch; i++ {
		g := i * (largeOrganizations / lookupBatch)
		names = append(names, fmt.Sprintf("org %d", g))
		domains = append(domains, fmt.Sprintf("org%d.example", 2*i*(largeOrganizations/lookupBatch/2)))
		orgIDs = append(orgIDs, fmt.Sprintf("org%d", g))
		dealNames, dealOrgs = append(dealNames, fmt.Sprintf("deal %d", (g+i)%1000)), append(dealOrgs, int64((g+i)%10*1000+(g+i)/1000))
		dealRefs, serials = append(dealRefs, fmt.Sprintf("d%d", g)), append(serials, fmt.Sprintf("sn%d", g))
		ids = append(ids, int64(i*(largeProspects/lookupBatch)))
	}
	orgLookups := store.OrganizationLookups(orgCatalog, acct.ID, store.OrganizationKeys{NameKeys: names, Domains: domains,
		UniqueField: orgCatalog.MustIndex("crm_id"), UniqueValues: orgIDs})
	dealLookups := store.DealLookups(dealCatalog, acct.ID, store.DealKeys{OrganizationIDs: dealOrgs, NameKeys: dealNames,
		UniqueField: dealCatalog.MustIndex("deal_ref"), UniqueValues: dealRefs})
	objectCatalog := crm.NewCatalog("record", objects.StandardFields(), []crm.Field{{Key: "serial", Label: "Serial", Type: crm.Text}})
	objectLookup, err := store.ObjectRecordLookup(objectType, objectCatalog, acct.ID, serials)
	if err != nil {
		t.Fatal(err)
	}
	if len(orgLookups) != 3 || len(dealLookups) != 2 {
		t.Fatalf("%d organization and %d deal lookups, want 3 and 2", len(orgLookups), len(dealLookups))
	}
	changed := make([]store.Prospect, lookupBatch)
	for i, id := range ids {
		changed[i] = store.Prospect{ID: id, Values: make([]string, len(c.Fields))}
		changed[i].Values[c.MustIndex(crm.FieldEmail)] = fmt.Sprintf("new%d@example.com", id)
	}
	withAddrs(t, ctx, pool, changed)
	update, err := store.UpdateProspectsStatement(c, acct.ID, changed, nil)
	if err != nil {
		t.Fatal(err)
	}
	titleOnly := make([]bool, len(c.Fields))
	titleOnly[c.MustIndex("title")] = true
	updateTitle, err := store.UpdateProspectsStatement(c, acct.ID, changed, titleOnly)
	if err != nil {
		t.Fatal(err)
	}
	checkPlans(t, ctx, pool, "large", append(prospectLookups(t, pool, c, acct.ID, ids),
		planCase{"organizations by name or domain", store.OrganizationLookup(acct.ID, names, domains), "organizations",
			[]string{"organizations_domain", "organizations_name"}, false},
		planCase{"organization records by name", orgLookups[0], "organizations", []string{"organizations_name"}, false},
		planCase{"organization records by domain", orgLookups[1], "organizations", []string{"organizations_domain"}, false},
		planCase{"organization records by unique identifier", orgLookups[2], "organizations",
			[]string{lookupIndexOf(t, pool, "organizations", "by_crm_id", acct.ID)}, false},
		planCase{"deals by name within their organization", dealLookups[0], "deals", []string{"deals_name"}, false},
		planCase{"deals by unique identifier", dealLookups[1], "deals", []string{lookupIndexOf(t, pool, "deals", "by_deal_ref", acct.ID)}, false},
		planCase{"object records by identifier", objectLookup, "object_records", []string{"object_records_identifier_value_object_type_id_key"}, false},
		planCase{"clearing moved emails", store.ClearEmailsStatement(acct.ID, ids), "prospects", []string{"prospects_pkey"}, false},
		planCase{"updating changed prospects", update, "prospects", []string{"prospects_pkey"}, false},
		planCase{"updating one changed field", updateTitle, "prospects", []string{"prospects_pkey"}, false},
		planCase{"members of every grouping", store.MembersOfAllStatement([]int64{1, 2}, ids), "grouping_members",
			[]string{"grouping_members_pkey"}, true}))
	updateAtAddress, err := store.UpdateProspectsAtAddressStatement(c, acct.ID, changed, titleOnly)
	if err != nil {
		t.Fatal(err)
	}
	checkPlans(t, ctx, pool, "large", []planCase{{"updating early at the rows' addresses", updateAtAddress, "prospects", nil, false}},
		store.AtAddressPlan()...)

	// The growing account gains 50,000 prospects that the statistics do not know of: they still
	// say it is empty, and its lookup indexes too. The planner then finds any of its indexes as
	// cheap as another, and one read whole per value would make a batch take minutes.
	if _, err := load.Exec(ctx, `INSERT INTO prospects (id, account_id, email, first_name, last_name, phone, custom)
		SELECT g, $1, 'p' || g || '@example.com', 'first' || g % 5000, 'last' || g % 7001, '+1555' || g,
			jsonb_build_object('crm_id', 'crm' || g)
		FROM generate_series($2::int + 1, $2::int + 50000) g`, growing.ID, largeProspects); err != nil {
		t.Fatal(err)
	}
	var grown []int64
	for i := int64(1); i <= lookupBatch; i++ {
		grown = append(grown, largeProspects+i*10)
	}
	checkPlans(t, ctx, pool, "growing", prospectLookups(t, pool, gc, growing.ID, grown))

	// Writing memberships only inserts: its conflicts are checked in the primary key.
	members := explain(t, ctx, pool, "force_custom_plan", store.AddMembersStatement([]int64{1, 2}, ids, 1))
	members.walk(func(n *planNode) {
		if n.Relation != "" && n.NodeType != "ModifyTable" {
			t.Errorf("adding members reads %s with a %s", n.Relation, n.NodeType)
		}
	})
}

// accountMatchingByCRMID creates an account with a custom field crm_id, and returns its catalog.
func accountMatchingByCRMID(t *testing.T, ctx context.Context, pool *pgxpool.Pool, name string) (store.Account, *crm.Catalog) {
	t.Helper()
	acct, err := store.CreateAccount(ctx, pool, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.AddField(ctx, pool, acct.ID, "prospects", crm.Field{Key: "crm_id", Label: "CRM id", Type: crm.Text}); err != nil {
		t.Fatal(err)
	}
	c, err := kind.Catalog(ctx, pool, prospects.Kind{}, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	return acct, c
}

// ensureLookupIndexes builds the account's lookup indexes for matching by crm_id, by phone and
// by name, as imports with those options do.
func ensureLookupIndexes(t *testing.T, ctx context.Context, q store.Querier, c *crm.Catalog, accountID int64) {
	t.Helper()
	for _, unique := range []string{"crm_id", "phone"} {
		if err := store.EnsureLookupIndexes(ctx, q, c, accountID, c.MustIndex(unique), unique == "crm_id"); err != nil {
			t.Fatal(err)
		}
	}
}

// prospectLookups returns the lookups of a batch of the account's prospects with the given ids,
// by email, crm_id, name and phone, with the index each must probe.
func prospectLookups(t *testing.T, pool store.Querier, c *crm.Catalog, accountID int64, ids []int64) []planCase {
	t.Helper()
	var l store.ProspectLookup
	var phones, crmIDs []string
	for _, g := range ids {
		l.Emails = append(l.Emails, fmt.Sprintf("p%d@example.com", g))
		phones = append(phones, fmt.Sprintf("+1555%d", g))
		crmIDs = append(crmIDs, fmt.Sprintf("crm%d", g))
		l.FirstNames = append(l.FirstNames, fmt.Sprintf("first%d", g%5000))
		l.LastNames = append(l.LastNames, fmt.Sprintf("last%d", g%7001))
	}
	l.UniqueField, l.UniqueValues = c.MustIndex("crm_id"), crmIDs
	lookups := store.ProspectLookups(c, accountID, l)
	if len(lookups) != 3 {
		t.Fatalf("%d prospect lookups, want one each by email, unique identifier and name", len(lookups))
	}
	byPhone := store.ProspectLookups(c, accountID, store.ProspectLookup{UniqueField: c.MustIndex("phone"), UniqueValues: phones})
	return []planCase{
		// Both the account and the email are the index's conditions: with the account alone,
		// the probe would read the account's part of the index whole (migration 0022).
		{"prospects by email", lookups[0], "prospects", []string{"prospects_email"}, true},
		{"prospects by custom unique identifier", lookups[1], "prospects", []string{lookupIndexOf(t, pool, "prospects", "by_crm_id", accountID)}, false},
		{"prospects by name", lookups[2], "prospects", []string{lookupIndexOf(t, pool, "prospects", "name", accountID)}, false},
		{"prospects by phone", byPhone[0], "prospects", []string{lookupIndexOf(t, pool, "prospects", "by_phone", accountID)}, false},
	}
}

// planCase is a statement and what its plans must look like.
type planCase struct {
	name    string
	st      store.Statement
	table   string
	indexes []string // every index the plan must probe the table with, and no other way
	// probed says every condition on the table must be the index's: none may filter what
	// the index returned.
	probed bool
}

// checkPlans checks the custom and the generic plan of each case, planned with settings: no
// sequential scan of its table, no join that hashes or merges the values against it, only its
// indexes, and no JIT.
func checkPlans(t *testing.T, ctx context.Context, pool *pgxpool.Pool, account string, cases []planCase, settings ...store.Setting) {
	for _, tc := range cases {
		for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
			t.Run(account+"/"+tc.name+"/"+mode, func(t *testing.T) {
				plan := explain(t, ctx, pool, mode, tc.st, settings...)
				var used []string
				plan.walk(func(n *planNode) {
					if n.Relation == tc.table && n.NodeType == "Seq Scan" {
						t.Errorf("sequential scan of %s", tc.table)
					}
					if tc.probed && n.Relation == tc.table && n.Filter != "" {
						t.Errorf("%s filters what %s returned: %s", n.NodeType, n.IndexName, n.Filter)
					}
					if n.IndexName != "" && !slices.Contains(used, n.IndexName) {
						used = append(used, n.IndexName)
					}
					if n.NodeType == "Hash Join" || n.NodeType == "Merge Join" {
						t.Errorf("%s: the values are not probed one by one", n.NodeType)
					}
				})
				slices.Sort(used)
				if !slices.Equal(used, tc.indexes) {
					t.Errorf("indexes used: %v, want %v", used, tc.indexes)
				}
				if plan.JIT {
					t.Errorf("the plan would be JIT-compiled (estimated cost %.0f)", plan.Plan.TotalCost)
				}
				if t.Failed() {
					t.Logf("plan:\n%s", plan)
				}
			})
		}
	}
}

// bulkLoad runs insert with the table's secondary indexes dropped, and builds them again from
// their own definitions after: building an index once is several times faster than growing it
// row by row.
func bulkLoad(t *testing.T, ctx context.Context, pool store.Querier, table, insert string, args ...any) {
	t.Helper()
	rows, err := pool.Query(ctx, `SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
		WHERE i.indrelid = $1::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)`, table)
	if err != nil {
		t.Fatal(err)
	}
	var names, defs []string
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			t.Fatal(err)
		}
		names, defs = append(names, name), append(defs, def)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if _, err := pool.Exec(ctx, "DROP INDEX "+name); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	if _, err := pool.Exec(ctx, insert, args...); err != nil {
		t.Fatalf("load %s: %v", table, err)
	}
	inserted := time.Now()
	for _, def := range defs {
		if _, err := pool.Exec(ctx, def); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%s: inserted in %v, %d indexes built in %v", table, inserted.Sub(start).Round(time.Millisecond), len(defs), time.Since(inserted).Round(time.Millisecond))
}

// planNode is a node of EXPLAIN (FORMAT JSON).
type planNode struct {
	NodeType  string      `json:"Node Type"`
	Relation  string      `json:"Relation Name"`
	IndexName string      `json:"Index Name"`
	Filter    string      `json:"Filter"`
	TotalCost float64     `json:"Total Cost"`
	Plans     []*planNode `json:"Plans"`
}

type explained struct {
	Plan *planNode
	JIT  bool // Postgres would JIT-compile it
}

// String draws the plan as a tree of node types, tables and indexes (the arguments of 5,000
// values are left out).
func (e *explained) String() string {
	var b strings.Builder
	var draw func(n *planNode, depth int)
	draw = func(n *planNode, depth int) {
		fmt.Fprintf(&b, "%s%s %s %s (cost %.0f)\n", strings.Repeat("  ", depth), n.NodeType, n.Relation, n.IndexName, n.TotalCost)
		for _, c := range n.Plans {
			draw(c, depth+1)
		}
	}
	draw(e.Plan, 0)
	return b.String()
}

func (e *explained) walk(f func(*planNode)) {
	var visit func(*planNode)
	visit = func(n *planNode) {
		f(n)
		for _, c := range n.Plans {
			visit(c)
		}
	}
	visit(e.Plan)
}

// explain returns the plan Postgres makes for st as a prepared statement, under plan_cache_mode
// mode. EXPLAIN EXECUTE takes no bound parameters, so the arguments are written as literals
// of the statement's parameter types.
func explain(t *testing.T, ctx context.Context, pool *pgxpool.Pool, mode string, st store.Statement, settings ...store.Setting) *explained {
	t.Helper()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SET plan_cache_mode = "+mode); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(ctx, "RESET plan_cache_mode") //nolint:errcheck
	for _, s := range settings {
		if _, err := conn.Exec(ctx, "SELECT set_config($1, $2, false)", s.Name, s.Value); err != nil {
			t.Fatal(err)
		}
		defer conn.Exec(ctx, "RESET "+s.Name) //nolint:errcheck
	}
	if _, err := conn.Exec(ctx, "PREPARE batch_query AS "+st.SQL); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(ctx, "DEALLOCATE batch_query") //nolint:errcheck
	var types []string
	if err := conn.QueryRow(ctx, "SELECT parameter_types::text[] FROM pg_prepared_statements WHERE name = 'batch_query'").Scan(&types); err != nil {
		t.Fatal(err)
	}
	if len(types) != len(st.Args) {
		t.Fatalf("the statement takes %d parameters, and is given %d arguments", len(types), len(st.Args))
	}
	literals := make([]string, len(st.Args))
	for i, typ := range types {
		if err := conn.QueryRow(ctx, "SELECT quote_literal($1::"+typ+"::text) || '::"+typ+"'", st.Args[i]).Scan(&literals[i]); err != nil {
			t.Fatal(err)
		}
	}
	var raw string
	if err := conn.QueryRow(ctx, "EXPLAIN (FORMAT JSON) EXECUTE batch_query("+strings.Join(literals, ", ")+")").Scan(&raw); err != nil {
		t.Fatal(err)
	}
	var out []struct {
		Plan *planNode       `json:"Plan"`
		JIT  json.RawMessage `json:"JIT"`
	}
	if err := json.Unmarshal([]byte(raw), &out); err != nil || len(out) != 1 {
		t.Fatalf("EXPLAIN output: %v", err)
	}
	return &explained{Plan: out[0].Plan, JIT: out[0].JIT != nil}
}

// The writes of a batch address prospects by id, whatever the statistics say of the account
// (issue 15): an account imported after the table was analyzed has, to the planner, no rows.
// Filtering the update by account then looked like one row to read, and the planner read the
// whole account once per changed prospect (a nested loop over a sequential scan, rescanning
// the batch's arrays for each row): a 50,000-row re-import into such an account had done 15,000
// rows after two minutes. Two accounts of 50,000 prospects each, the second unknown to the
// statistics.
func TestBatchWritesProbeByIDInAnAccountPastItsStatistics(t *testing.T) {
	pool := storetest.FreshDatabase(t, "leadpipe_test_write_plans")
	ctx := t.Context()
	known, c := accountMatchingByCRMID(t, ctx, pool, "known")
	unknown, _ := accountMatchingByCRMID(t, ctx, pool, "unknown")
	const n = 50_000
	if _, err := pool.Exec(ctx, "ALTER TABLE prospects SET (autovacuum_enabled = false)"); err != nil {
		t.Fatal(err)
	}
	insert := `INSERT INTO prospects (id, account_id, email, first_name, custom)
		SELECT g, $1, 'p' || g || '@example.com', 'first' || g, '{}' FROM generate_series($2::int, $3::int) g`
	if _, err := pool.Exec(ctx, insert, known.ID, 1, n); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "ANALYZE prospects"); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, insert, unknown.ID, n+1, 2*n); err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, lookupBatch)
	changed := make([]store.Prospect, lookupBatch)
	for i := range ids {
		ids[i] = int64(n + 1 + i*(n/lookupBatch))
		changed[i] = store.Prospect{ID: ids[i], Values: make([]string, len(c.Fields))}
		changed[i].Values[c.MustIndex(crm.FieldEmail)] = fmt.Sprintf("new%d@example.com", ids[i])
	}
	withAddrs(t, ctx, pool, changed)
	update, err := store.UpdateProspectsStatement(c, unknown.ID, changed, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkPlans(t, ctx, pool, "unknown", []planCase{
		{"updating changed prospects", update, "prospects", []string{"prospects_pkey"}, false},
		{"clearing moved emails", store.ClearEmailsStatement(unknown.ID, ids), "prospects", []string{"prospects_pkey"}, false},
	})
	updateAtAddress, err := store.UpdateProspectsAtAddressStatement(c, unknown.ID, changed, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkPlans(t, ctx, pool, "unknown", []planCase{{"updating early at the rows' addresses", updateAtAddress, "prospects", nil, false}},
		store.AtAddressPlan()...)
}

// withAddrs gives every prospect of ps but the first its row's address, as a lookup would
// have read it, so that an update's plan is checked with both ways of finding a row.
func withAddrs(t *testing.T, ctx context.Context, pool *pgxpool.Pool, ps []store.Prospect) {
	t.Helper()
	ids := make([]int64, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	rows, err := pool.Query(ctx, "SELECT id, ctid FROM prospects WHERE id = ANY($1)", ids)
	if err != nil {
		t.Fatal(err)
	}
	addrs := map[int64]pgtype.TID{}
	var id int64
	var addr pgtype.TID
	if _, err := pgx.ForEachRow(rows, []any{&id, &addr}, func() error { addrs[id] = addr; return nil }); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(ps); i++ {
		if ps[i].Addr = addrs[ps[i].ID]; !ps[i].Addr.Valid {
			t.Fatalf("prospect %d has no row", ps[i].ID)
		}
	}
}
