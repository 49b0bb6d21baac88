package importer_test

// Integration tests of the deals kind through the importer: prospect links by email and by
// name (never creating a prospect), matching by name within the organization, the account's
// stages, owners, options, tenant isolation and dry runs, each at several batch sizes.

import (
	"fmt"
	"strings"
	"testing"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/store"
)

// importDeals imports csv as deals with batch size batch and fails the test unless the import
// completes.
func (e *tenv) importDeals(csv string, opts crm.Options, batch int) result {
	e.t.Helper()
	sum, err := e.runDeals(csv, opts, batch, false)
	if err != nil {
		e.t.Fatalf("import deals: %v", err)
	}
	if sum.Status != store.StatusCompleted {
		e.t.Fatalf("import deals: status %q (%s), want completed", sum.Status, sum.Error)
	}
	r := e.rowsOf(sum.ImportID)
	r.Sum = sum
	return r
}

func (e *tenv) runDeals(csv string, opts crm.Options, batch int, dryRun bool) (importer.Summary, error) {
	req := e.request(writeFile(e.t, "deals.csv", csv), opts)
	req.Kind = "deals"
	return e.importer(batch).RunNow(e.ctx, req, testOwner, dryRun)
}

// deals returns the account's deals, oldest first, as
// "name|amount|stage|close_date|owner's username|organization's name|prospect's email or name".
func (e *tenv) deals() []string {
	e.t.Helper()
	return e.strings(`SELECT rtrim(concat_ws('|', d.name, coalesce(d.amount::text, ''), coalesce(d.stage, ''),
			coalesce(to_char(d.close_date, 'YYYY-MM-DD'), ''), coalesce(u.username, ''), coalesce(o.name, ''),
			coalesce(p.email, p.first_name || ' ' || p.last_name, '')), '|')
		FROM deals d LEFT JOIN users u ON u.id = d.owner_id LEFT JOIN organizations o ON o.id = d.organization_id
			LEFT JOIN prospects p ON p.id = d.prospect_id
		WHERE d.account_id = $1 ORDER BY d.id`)
}

func (e *tenv) nDeals() int { return e.count("SELECT count(*) FROM deals WHERE account_id = $1") }

// batchSizes are the batch sizes each deals test runs at: every outcome must be the same.
var batchSizes = []int{1, 2, 3, 1000}

func TestDealsLinkProspects(t *testing.T) {
	for _, batch := range batchSizes {
		t.Run(fmt.Sprint("batch ", batch), func(t *testing.T) {
			e := newEnv(t, -1)
			e.importCSV("Email,First Name,Last Name\nann@acme.com,Ann,Able\n,Bob,Baker\nbo@beta.io,Bob,Baker\n", crm.Options{})
			r := e.importDeals("Name,Amount,Stage,Close Date,Prospect Email,Prospect First Name,Prospect Last Name\n"+
				"Renewal,1200.50,proposal,12/31/2026,ANN@acme.com,,\n"+ // 2 by email, amount and date canonical
				"Upsell,0300,Won,2026-01-02,,bob,BAKER\n"+ // 3 by name: the older Bob Baker; Won is no stage
				"Expansion,,,,zed@nowhere.com,Ann,Able\n"+ // 4 email given, unknown: not by name
				"Pilot,,,,,Cy,Nobody\n"+ // 5 unknown name
				",100,,,ann@acme.com,,\n"+ // 6 no name
				"Extra,12abc,,13/45/2026,bad@,,\n", // 7 invalid values, no prospect
				crm.Options{}, batch)
			checkOutcomes(t, r.Outcomes, map[int]string{2: "created", 3: "created", 4: "created", 5: "created",
				6: "skipped:missing_identifier", 7: "created"})
			checkWarnings(t, r.Warnings, map[int][]string{3: {"stage:invalid_picklist_value"}, 4: {"prospect_email:prospect_not_found"},
				5: {"prospect_first_name:prospect_not_found"}, 7: {"amount:invalid_number", "close_date:invalid_date", "prospect_email:invalid_email"}})
			checkCounts(t, r.Sum.Counts, "rows=6 created=5 updated=0 unchanged=0 skipped=1 orgs_created=0 orgs_linked=0")
			equalStrings(t, "deals", e.deals(), []string{
				"Renewal|1200.5|Proposal|2026-12-31|||ann@acme.com",
				"Upsell|300||2026-01-02|||Bob Baker",
				"Expansion",
				"Pilot",
				"Extra",
			})
			if n := e.nProspects(); n != 3 {
				t.Errorf("%d prospects after the deal import, want the 3 of before", n)
			}
			var warning string
			if err := e.pool.QueryRow(e.ctx, `SELECT w->>'value' FROM import_rows, jsonb_array_elements(warnings) w
				WHERE import_id = $1 AND row_number = 5`, r.Sum.ImportID).Scan(&warning); err != nil || warning != "Cy Nobody" {
				t.Errorf("row 5's warning value %q (%v), want the name the row gave", warning, err)
			}
			// The name columns made the import build the index of prospects by name.
			if n := e.count(nameIndexes); n != 1 {
				t.Errorf("%d indexes of prospects by name, want 1", n)
			}
		})
	}
}

// nameIndexes counts the indexes of prospects by name that cover the test's account.
const nameIndexes = `SELECT count(*) FROM lookup_indexes l JOIN pg_indexes i ON i.indexname = l.index_name
	WHERE l.table_name = 'prospects' AND l.lookup = 'name' AND $1 = ANY (l.account_ids)`

// An import that names prospects by email only builds no index of prospects by name.
func TestDealsByEmailBuildNoNameIndex(t *testing.T) {
	e := newEnv(t, -1)
	e.importDeals("Name,Prospect Email\nRenewal,ann@acme.com\n", crm.Options{}, 3)
	if n := e.count(nameIndexes); n != 0 {
		t.Errorf("%d indexes of prospects by name, want none", n)
	}
}

func TestDealsMatchWithinOrganization(t *testing.T) {
	for _, batch := range batchSizes {
		t.Run(fmt.Sprint("batch ", batch), func(t *testing.T) {
			e := newEnv(t, -1)
			r := e.importDeals("Name,Organization,Amount,Prospect Email\n"+
				"Renewal,\"Acme, Inc.\",100,ann@acme.com\n"+ // 2 creates Acme (acme.com) and the deal
				"Renewal,Globex,200,\n"+ // 3 the same name in another organization: another deal
				"RENEWAL ,acme llc,150,\n"+ // 4 Acme's Renewal, made by row 2: renamed, new amount
				"Renewal,,50,\n"+ // 5 no organization: a group of its own
				"Renewal,,50,\n"+ // 6 the same again
				"Renewal,Acme Holdings,75,bo@acme.com\n", // 7 Acme by the prospect email's domain
				crm.Options{}, batch)
			checkOutcomes(t, r.Outcomes, map[int]string{2: "created", 3: "created", 4: "updated", 5: "created", 6: "unchanged", 7: "updated"})
			checkCounts(t, r.Sum.Counts, "rows=6 created=3 updated=2 unchanged=1 skipped=0 orgs_created=2 orgs_linked=2")
			equalStrings(t, "organizations", e.organizations(), []string{"Acme, Inc.|acme.com", "Globex|"})
			equalStrings(t, "deals", e.deals(), []string{"Renewal|75||||Acme, Inc.", "Renewal|200||||Globex", "Renewal|50"})
			if r.Prospects[2] != r.Prospects[4] || r.Prospects[5] != r.Prospects[6] || r.Prospects[2] == r.Prospects[3] {
				t.Errorf("deal ids by row %v: rows 2 and 4, 5 and 6 are one deal each, 3 another", r.Prospects)
			}

			// A later import: policies, create_new and update_existing.
			r = e.importDeals("Name,Organization,Amount,Stage\n"+
				"Renewal,Acme,999,Closed Won\n"+ // amount set, update_if_empty: only the stage
				"New Logo,Initech,10,\n"+ // new: not allowed, and creates no organization
				"Renewal,Globex,200,Lead\n", // unchanged: the stage is no stage of the account
				crm.Options{CreateNew: ptr(false), FieldPolicies: map[string]crm.Policy{"amount": crm.UpdateIfEmpty}}, batch)
			checkOutcomes(t, r.Outcomes, map[int]string{2: "updated", 3: "skipped:new_not_allowed", 4: "unchanged"})
			checkWarnings(t, r.Warnings, map[int][]string{4: {"stage:invalid_picklist_value"}})
			equalStrings(t, "organizations", e.organizations(), []string{"Acme, Inc.|acme.com", "Globex|"})
			r = e.importDeals("Name,Organization,Amount\nRenewal,Globex,1\nOther,,2\n", crm.Options{UpdateExisting: ptr(false)}, batch)
			checkOutcomes(t, r.Outcomes, map[int]string{2: "skipped:existing_not_updated", 3: "created"})
			equalStrings(t, "deals", e.deals(), []string{"Renewal|75|Closed Won|||Acme, Inc.", "Renewal|200||||Globex", "Renewal|50", "Other|2"})
		})
	}
}

// The stage picklist holds the account's stages once it sets its own.
func TestDealsAccountStages(t *testing.T) {
	e := newEnv(t, -1)
	if err := store.SetDealStages(e.ctx, e.pool, e.acct.ID, []string{"Lead", "Won"}); err != nil {
		t.Fatal(err)
	}
	r := e.importDeals("Name,Stage\nA,won\nB,Proposal\n", crm.Options{}, 3)
	checkOutcomes(t, r.Outcomes, map[int]string{2: "created", 3: "created"})
	checkWarnings(t, r.Warnings, map[int][]string{3: {"stage:invalid_picklist_value"}})
	equalStrings(t, "deals", e.deals(), []string{"A||Won", "B"})
}

// SPEC §9 for a deal's Owner, and the owner option as the default owner.
func TestDealsOwner(t *testing.T) {
	e := newEnv(t, -1)
	e.addUser("jdoe", "jane@example.com", "Jane Doe")
	e.addUser("rroe", "rick@example.com", "Rick Roe")
	r := e.importDeals("Name,Deal Owner\nA,jane doe\nB,nobody\nC,\nD,RICK@example.com\n", crm.Options{Owner: "rroe"}, 2)
	checkOutcomes(t, r.Outcomes, map[int]string{2: "created", 3: "created", 4: "created", 5: "created"})
	checkWarnings(t, r.Warnings, map[int][]string{3: {"owner:owner_not_found"}})
	equalStrings(t, "deals", e.deals(), []string{"A||||jdoe", "B", "C||||rroe", "D||||rroe"})
}

// Options that speak of prospects only, and identifiers that identify no deal, are refused
// before anything is written; so is a column mapped to the prospect link.
func TestDealsOptions(t *testing.T) {
	e := newEnv(t, -1)
	csv := "Name,Amount,Prospect\nA,1,ann@acme.com\n"
	for _, tc := range []struct {
		opts crm.Options
		want string
	}{
		{crm.Options{List: "L"}, `list: does not apply to an import of kind "deals"`},
		{crm.Options{Tags: []string{"t"}, Campaign: "C", LeadSource: "web"}, `tags: does not apply to an import of kind "deals"; campaign: does not apply to an import of kind "deals"; lead_source: does not apply to an import of kind "deals"`},
		{crm.Options{MatchByName: true, SplitFullName: true}, `match_by_name: does not apply to an import of kind "deals"; split_full_name: does not apply to an import of kind "deals"`},
		{crm.Options{UniqueIdentifier: "amount"}, `unique_identifier: field "amount" cannot identify a deal: many deals share an amount`},
		{crm.Options{UniqueIdentifier: "close_date"}, `unique_identifier: field "close_date" cannot identify a deal: many deals share a close date`},
		{crm.Options{UniqueIdentifier: "prospect_email"}, `unique_identifier: field "prospect_email" cannot identify a deal`},
		{crm.Options{FieldPolicies: map[string]crm.Policy{"prospect_email": crm.Ignore}}, `field_policies: "prospect_email" is not stored, it names the deal's prospect: set the policy of "prospect"`},
		{crm.Options{Owner: "nobody"}, `owner: no user "nobody" in the account`},
		{crm.Options{Mapping: map[string]string{"Prospect": "prospect"}}, `mapping: column "Prospect" cannot feed "prospect"`},
	} {
		_, err := e.runDeals(csv, tc.opts, 3, false)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("options %+v: error %v, want one saying %q", tc.opts, err, tc.want)
		}
	}
	if n := e.nImports() + e.nDeals(); n != 0 {
		t.Errorf("%d imports and deals written by refused imports", n)
	}
	// Auto-mapping leaves a "Prospect" column unmapped rather than feed the link with it.
	r := e.importDeals(csv, crm.Options{}, 3)
	equalStrings(t, "unmapped", r.Sum.Unmapped, []string{"Prospect"})
	equalStrings(t, "deals", e.deals(), []string{"A|1"})
}

// The name as unique identifier matches a deal in any organization.
func TestDealsUniqueIdentifierName(t *testing.T) {
	e := newEnv(t, -1)
	e.importDeals("Name,Organization\nRenewal,Acme\n", crm.Options{}, 3)
	r := e.importDeals("Name,Organization,Amount\nRenewal,Globex,5\n", crm.Options{UniqueIdentifier: "name"}, 3)
	checkOutcomes(t, r.Outcomes, map[int]string{2: "updated"})
	equalStrings(t, "deals", e.deals(), []string{"Renewal|5||||Globex"})
}

// Nothing of one account is seen by another's deal import.
func TestDealsTenantIsolation(t *testing.T) {
	a, b := newEnv(t, -1), newEnv(t, -1)
	a.importCSV("Email,First Name,Last Name\nann@acme.com,Ann,Able\n", crm.Options{})
	a.importDeals("Name,Organization\nRenewal,Acme\n", crm.Options{}, 3)
	r := b.importDeals("Name,Organization,Prospect Email\nRenewal,Acme,ann@acme.com\n", crm.Options{}, 3)
	checkOutcomes(t, r.Outcomes, map[int]string{2: "created"})
	checkWarnings(t, r.Warnings, map[int][]string{2: {"prospect_email:prospect_not_found"}})
	checkCounts(t, r.Sum.Counts, "rows=1 created=1 updated=0 unchanged=0 skipped=0 orgs_created=1 orgs_linked=1")
	equalStrings(t, "account A's deals", a.deals(), []string{"Renewal|||||Acme"})
	equalStrings(t, "account B's deals", b.deals(), []string{"Renewal|||||Acme"})
}

// A dry run gives every row's outcome and writes nothing.
func TestDealsDryRun(t *testing.T) {
	e := newEnv(t, -1)
	sum, err := e.runDeals("Name,Organization\nRenewal,Acme\nRenewal,acme inc\n,Acme\n", crm.Options{}, 1, true)
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, sum.Counts, "rows=3 created=1 updated=0 unchanged=1 skipped=1 orgs_created=1 orgs_linked=1")
	if got := fmt.Sprintf("imports=%d deals=%d organizations=%d", e.nImports(), e.nDeals(), e.nOrganizations()); got != "imports=0 deals=0 organizations=0" {
		t.Errorf("written by a dry run: %s", got)
	}
}

// A custom deal field (fields.entity = "deals") is imported, and as the unique identifier a
// row with a value of it matches by it alone: two deals of one name in one organization.
func TestDealsCustomIdentifier(t *testing.T) {
	e := newEnv(t, -1)
	if err := store.AddField(e.ctx, e.pool, e.acct.ID, "deals", crm.Field{Key: "crm_id", Label: "CRM Id", Type: crm.Text}); err != nil {
		t.Fatal(err)
	}
	opts := crm.Options{UniqueIdentifier: "crm_id"}
	r := e.importDeals("Name,Organization,CRM Id,Amount\n"+
		"Renewal,Acme,D-1,1\n"+ // 2 created
		"Renewal,Acme,D-2,2\n"+ // 3 another deal: another identifier
		"Renewal,Acme,,3\n"+ // 4 no identifier: by name within Acme, the oldest (row 2's)
		",Globex,D-2,4\n"+ // 5 by identifier, whatever the organization: moves D-2 to Globex
		",,D-9,5\n", // 6 matches nothing and has no name to create a deal with
		opts, 2)
	checkOutcomes(t, r.Outcomes, map[int]string{2: "created", 3: "created", 4: "updated", 5: "updated", 6: "skipped:missing_identifier"})
	equalStrings(t, "deals", e.deals(), []string{"Renewal|3||||Acme", "Renewal|4||||Globex"})
	equalStrings(t, "crm ids", e.strings("SELECT custom->>'crm_id' FROM deals WHERE account_id = $1 ORDER BY id"), []string{"D-1", "D-2"})
	// The prospects of the account have no such field.
	if _, err := e.runNow(writeFile(t, "p.csv", "Email,CRM Id\nann@acme.com,X\n"), crm.Options{UniqueIdentifier: "crm_id"}, 3, false); err == nil ||
		!strings.Contains(err.Error(), `unique_identifier: unknown field "crm_id"`) {
		t.Errorf("a prospect import by the deal field crm_id: %v, want unknown field", err)
	}
}

// Concurrent deal imports into one account create each organization and each deal once: their
// batches take the account's lock in turn, and each sees what the other committed.
func TestDealsConcurrentImports(t *testing.T) {
	e := newEnv(t, -1)
	var csv strings.Builder
	csv.WriteString("Name,Organization\n")
	for i := range 200 {
		fmt.Fprintf(&csv, "Deal %d,Org %d\n", i%50, i%40)
	}
	path := writeFile(t, "deals.csv", csv.String())
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			req := e.request(path, crm.Options{})
			req.Kind = "deals"
			_, err := e.importer(10).RunNow(e.ctx, req, testOwner, false)
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	// Deal i%50 in Org i%40: 200 distinct pairs (lcm 200), 40 organizations.
	if got := fmt.Sprintf("deals=%d organizations=%d", e.nDeals(), e.nOrganizations()); got != "deals=200 organizations=40" {
		t.Errorf("%s, want deals=200 organizations=40", got)
	}
}

// The records a deals import created or touched are its deals, with their values now.
func TestDealsRecords(t *testing.T) {
	e := newEnv(t, -1)
	e.addUser("jdoe", "jane@example.com", "Jane Doe")
	e.importDeals("Name,Amount\nRenewal,1\n", crm.Options{}, 3)
	r := e.importDeals("Name,Amount,Stage,Owner\nNew Logo,2.50,closed won,jdoe\nRenewal,1,,\n,3,,\n", crm.Options{}, 3)
	imp, err := store.GetImport(e.ctx, e.pool, e.acct.ID, r.Sum.ImportID)
	if err != nil {
		t.Fatal(err)
	}
	page, err := e.importer(3).Records(e.ctx, e.acct, imp, 0, false, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, rec := range page.Records {
		got = append(got, fmt.Sprintf("%v %s", rec.Created, formatMap(rec.Values)))
	}
	if page.Kind != "deals" {
		t.Errorf("records of kind %q, want deals", page.Kind)
	}
	equalStrings(t, "records", got, []string{
		`false {amount="1" name="Renewal"}`,
		`true {amount="2.5" name="New Logo" owner="jdoe" stage="Closed Won"}`,
	})
}

// The policy of the prospect link applies to it; a name of a last name alone warns on it.
func TestDealsProspectPolicy(t *testing.T) {
	e := newEnv(t, -1)
	e.importCSV("Email,Last Name\nann@acme.com,Able\n", crm.Options{})
	r := e.importDeals("Name,Prospect Email\nA,ann@acme.com\nB,zed@acme.com\n", crm.Options{FieldPolicies: map[string]crm.Policy{"prospect": crm.Ignore}}, 3)
	checkOutcomes(t, r.Outcomes, map[int]string{2: "created", 3: "created"})
	checkWarnings(t, r.Warnings, map[int][]string{})
	r = e.importDeals("Name,Prospect Last Name\nA,able\nB,Nobody\n", crm.Options{}, 3)
	checkOutcomes(t, r.Outcomes, map[int]string{2: "updated", 3: "unchanged"})
	checkWarnings(t, r.Warnings, map[int][]string{3: {"prospect_last_name:prospect_not_found"}})
	equalStrings(t, "deals", e.deals(), []string{"A||||||ann@acme.com", "B"})
}

// A row the writer skips links no prospect, so it warns of no unknown one: neither a row that
// create_new or update_existing skips nor one with no deal to match or create.
func TestDealsSkippedRowsLinkNoProspect(t *testing.T) {
	e := newEnv(t, -1)
	if err := store.AddField(e.ctx, e.pool, e.acct.ID, "deals", crm.Field{Key: "crm_id", Label: "CRM Id", Type: crm.Text}); err != nil {
		t.Fatal(err)
	}
	e.importDeals("Name,CRM Id\nRenewal,D-1\n", crm.Options{}, 3)
	no := false
	const file = "Name,CRM Id,Prospect Email\n" +
		"Renewal,D-1,zed@acme.com\n" + // 2 the existing deal
		"Upsell,D-2,zed@acme.com\n" // 3 a new deal
	r := e.importDeals(file, crm.Options{UniqueIdentifier: "crm_id", CreateNew: &no}, 3)
	checkOutcomes(t, r.Outcomes, map[int]string{2: "unchanged", 3: "skipped:new_not_allowed"})
	checkWarnings(t, r.Warnings, map[int][]string{2: {"prospect_email:prospect_not_found"}})
	if got := fmt.Sprint(r.Sum.WarningsByKind); got != "map[prospect_not_found:1]" {
		t.Errorf("warnings by kind %s, want the applied row's only", got)
	}
	r = e.importDeals(file, crm.Options{UniqueIdentifier: "crm_id", UpdateExisting: &no}, 3)
	checkOutcomes(t, r.Outcomes, map[int]string{2: "skipped:existing_not_updated", 3: "created"})
	checkWarnings(t, r.Warnings, map[int][]string{3: {"prospect_email:prospect_not_found"}})
	r = e.importDeals("Name,CRM Id,Prospect Email\n,D-9,zed@acme.com\n", crm.Options{UniqueIdentifier: "crm_id"}, 3)
	checkOutcomes(t, r.Outcomes, map[int]string{2: "skipped:missing_identifier"})
	checkWarnings(t, r.Warnings, map[int][]string{})
	if got := fmt.Sprint(r.Sum.WarningsByKind); got != "map[]" {
		t.Errorf("warnings by kind %s, want none", got)
	}
}
