package importer_test

// Integration tests of the organizations kind (issue 11) through Importer.RunNow, with
// hand-written expected outcomes and organizations read back with SQL.

import (
	"fmt"
	"strings"
	"testing"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/store"
)

// runOrgs runs an organizations import of the file at path in the foreground.
func (e *tenv) runOrgs(path string, opts crm.Options, batch int, dryRun bool) (importer.Summary, error) {
	req := e.request(path, opts)
	req.Kind = "organizations"
	return e.importer(batch).RunNow(e.ctx, req, testOwner, dryRun)
}

// importOrgs imports csv as organizations with batch size batch and fails the test unless the
// import completes.
func (e *tenv) importOrgs(csv string, opts crm.Options, batch int) result {
	e.t.Helper()
	sum, err := e.runOrgs(writeFile(e.t, "organizations.csv", csv), opts, batch, false)
	if err != nil {
		e.t.Fatalf("import organizations: %v", err)
	}
	if sum.Status != store.StatusCompleted {
		e.t.Fatalf("import organizations: status %q (%s), want completed", sum.Status, sum.Error)
	}
	r := e.rowsOf(sum.ImportID)
	r.Sum = sum
	return r
}

// orgRecords returns the account's organizations, oldest first, each as column → value (every
// non-null column but ids, name_key and times; flatRecords), and their ids.
func (e *tenv) orgRecords() ([]map[string]string, []int64) {
	e.t.Helper()
	return e.flatRecords(`SELECT id, jsonb_strip_nulls(to_jsonb(o) - 'id' - 'account_id' - 'name_key'
			- 'created_at' - 'updated_at' - 'custom'), custom
		FROM organizations o WHERE account_id = $1 ORDER BY id`, e.acct.ID)
}

// checkOrgs compares every organization of the account, oldest first, and returns their ids.
func (e *tenv) checkOrgs(want []map[string]string) []int64 {
	e.t.Helper()
	got, ids := e.orgRecords()
	if g, w := formatList(got), formatList(want); g != w {
		e.t.Errorf("organizations:\n got: %s\nwant: %s", g, w)
	}
	return ids
}

// checkEntities compares the records the rows name (import_rows.entity_id) with the expected
// ones.
func checkEntities(t *testing.T, got map[int]int64, want map[int]int64) {
	t.Helper()
	if g, w := fmt.Sprint(got), fmt.Sprint(want); g != w {
		t.Errorf("row records:\n got: %s\nwant: %s", g, w)
	}
}

// Organizations match by normalised name (legal suffixes ignored), else by domain (the
// domain column, or the website's host, canonical; never a free-mail provider's); no match
// creates one, and another account's organizations are never matched.
func TestOrganizationsImportMatching(t *testing.T) {
	other := newEnv(t, -1)
	other.importOrgs("Name,Domain\nHooli,hooli.com\nAcme Inc,acme.com\n", crm.Options{}, 3)

	e := newEnv(t, -1)
	r := e.importOrgs("Name,Domain,Website,City\n"+
		"\"Acme, Inc.\",,https://www.acme.com/about,Springfield\n"+ // 2 domain from the website
		"Globex,globex.com,,\n"+
		"Initech,,,Austin\n", crm.Options{}, 3)
	checkOutcomes(t, r.Outcomes, map[int]string{2: "created", 3: "created", 4: "created"})
	checkCounts(t, r.Sum.Counts, "rows=3 created=3 updated=0 unchanged=0 skipped=0 orgs_created=0 orgs_linked=0")
	if k := e.getImport(r.Sum.ImportID).Kind; k != "organizations" {
		t.Errorf("imports.kind %q, want organizations", k)
	}
	ids := e.checkOrgs([]map[string]string{
		{"name": "Acme, Inc.", "domain": "acme.com", "website": "https://www.acme.com/about", "city": "Springfield"},
		{"name": "Globex", "domain": "globex.com"},
		{"name": "Initech", "city": "Austin"},
	})
	checkEntities(t, r.Prospects, map[int]int64{2: ids[0], 3: ids[1], 4: ids[2]})
	acme, globex, initech := ids[0], ids[1], ids[2]

	r = e.importOrgs("Name,Domain,Phone,Industry\n"+
		"\"ACME, LLC\",,555-0100,Anvils\n"+ // 2 legal-suffix variant: Acme; the stored name stays
		"acme,,555-0100,\n"+ // 3 the same again: unchanged
		"Globex Intl,https://www.Globex.com/x,,Energy\n"+ // 4 no such name; domain: Globex, renamed
		"Hooli,hooli.com,,\n"+ // 5 only another account has Hooli: created
		"Stark,gmail.com,,\n"+ // 6 created
		"Wayne,gmail.com,,\n"+ // 7 a free-mail domain matches nothing: created
		"\"Initech, Ltd.\",initech.com,,\n"+ // 8 name: Initech gets a domain
		"globex,,,\n", // 9 Globex was renamed in row 4 (an earlier batch): created
		crm.Options{}, 3)
	checkOutcomes(t, r.Outcomes, map[int]string{2: "updated", 3: "unchanged", 4: "updated", 5: "created",
		6: "created", 7: "created", 8: "updated", 9: "created"})
	checkCounts(t, r.Sum.Counts, "rows=8 created=4 updated=3 unchanged=1 skipped=0 orgs_created=0 orgs_linked=0")
	ids = e.checkOrgs([]map[string]string{
		{"name": "Acme, Inc.", "domain": "acme.com", "website": "https://www.acme.com/about", "city": "Springfield",
			"phone": "555-0100", "industry": "Anvils"},
		{"name": "Globex Intl", "domain": "globex.com", "industry": "Energy"},
		{"name": "Initech", "city": "Austin", "domain": "initech.com"},
		{"name": "Hooli", "domain": "hooli.com"},
		{"name": "Stark", "domain": "gmail.com"},
		{"name": "Wayne", "domain": "gmail.com"},
		{"name": "globex"},
	})
	checkEntities(t, r.Prospects, map[int]int64{2: acme, 3: acme, 4: globex, 5: ids[3], 6: ids[4], 7: ids[5], 8: initech, 9: ids[6]})
	other.checkOrgs([]map[string]string{{"name": "Hooli", "domain": "hooli.com"}, {"name": "Acme Inc", "domain": "acme.com"}})
}

// With unique_identifier, a row matches by that field first, then by name, then by domain; a
// row with only the identifier updates what it matches and cannot create an organization.
func TestOrganizationsImportUniqueIdentifier(t *testing.T) {
	e := newEnv(t, -1)
	e.importOrgs("Name,Phone\nAcme,555-0100\nGlobex,555-0199\n", crm.Options{}, 3)
	r := e.importOrgs("Name,Phone,City\n"+
		",555-0100,Boston\n"+ // 2 the identifier alone: Acme
		"Initech,555-0199,Austin\n"+ // 3 the identifier wins over the name: Globex, renamed Initech
		"Acme,555-0123,\n"+ // 4 no such phone; the name: Acme takes the phone
		",555-0100,Paris\n"+ // 5 nobody has 555-0100 any more, and there is no name to create one by
		",,Rome\n", // 6 nothing to identify it by
		crm.Options{UniqueIdentifier: "phone"}, 2)
	checkOutcomes(t, r.Outcomes, map[int]string{2: "updated", 3: "updated", 4: "updated",
		5: "skipped:missing_identifier", 6: "skipped:missing_identifier"})
	e.checkOrgs([]map[string]string{
		{"name": "Acme", "phone": "555-0123", "city": "Boston"},
		{"name": "Initech", "phone": "555-0199", "city": "Austin"},
	})
	name, err := store.LookupIndexOf(e.ctx, e.pool, "organizations", "by_phone", e.acct.ID)
	var n int
	if err == nil {
		err = e.pool.QueryRow(e.ctx, `SELECT count(*) FROM pg_indexes WHERE indexname = $1`, name).Scan(&n)
	}
	if err != nil || n != 1 {
		t.Errorf("lookup index of the account's organizations by phone %q: %d (%v), want 1", name, n, err)
	}
}

// A row with neither a name nor a domain (nor the unique identifier) is skipped
// missing_identifier, and so is a row whose domain matches nothing, since a new organization
// needs a name; the skipped-rows CSV says why.
func TestOrganizationsImportMissingIdentifier(t *testing.T) {
	e := newEnv(t, -1)
	e.importOrgs("Name,Domain\nAcme,acme.com\n", crm.Options{}, 3)
	r := e.importOrgs("Name,Domain,City\n"+
		",,Paris\n"+ // 2 nothing
		",ACME.com,Rome\n"+ // 3 the domain alone: Acme
		",newco.com,Oslo\n"+ // 4 the domain matches nothing: no name to create by
		",gmail.com,Oslo\n"+ // 5 a free-mail domain identifies nobody
		"!!!,,Oslo\n"+ // 6 a name without a letter or digit is no name
		"Beta,not a domain,\n", // 7 created; the domain is not imported
		crm.Options{}, 3)
	checkOutcomes(t, r.Outcomes, map[int]string{2: "skipped:missing_identifier", 3: "updated", 4: "skipped:missing_identifier",
		5: "skipped:missing_identifier", 6: "skipped:missing_identifier", 7: "created"})
	checkWarnings(t, r.Warnings, map[int][]string{6: {"name:invalid_name"}, 7: {"domain:invalid_domain"}})
	e.checkOrgs([]map[string]string{{"name": "Acme", "domain": "acme.com", "city": "Rome"}, {"name": "Beta"}})
	want := "Name,Domain,City,row_number,skip_reason,skip_detail\n" +
		",,Paris,2,missing_identifier,\"the row has no organization name, no domain and no unique identifier\"\n" +
		",newco.com,Oslo,4,missing_identifier,\"no organization matches the row, and a new organization needs a name\"\n" +
		",gmail.com,Oslo,5,missing_identifier,\"the row has no organization name, no domain and no unique identifier\"\n" +
		"!!!,,Oslo,6,missing_identifier,\"the row has no organization name, no domain and no unique identifier\"\n"
	if got := e.skippedCSV(r.Sum.ImportID); got != want {
		t.Errorf("skipped rows CSV:\n got:\n%s\nwant:\n%s", got, want)
	}
}

// SPEC §5: per-field policies, create_new and update_existing, as for prospects.
func TestOrganizationsImportPoliciesAndOptions(t *testing.T) {
	before := "Name,Phone,City\nAcme,555,Paris\n"
	file := "Name,Phone,City,Industry\n" +
		"Acme Inc,666,Rome,Anvils\n" +
		"Beta,777,Oslo,\n"
	cases := []struct {
		name     string
		opts     crm.Options
		outcomes map[int]string
		orgs     []map[string]string
	}{
		{
			name:     "overwrite",
			outcomes: map[int]string{2: "updated", 3: "created"},
			orgs: []map[string]string{
				{"name": "Acme", "phone": "666", "city": "Rome", "industry": "Anvils"},
				{"name": "Beta", "phone": "777", "city": "Oslo"},
			},
		},
		{
			name: "ignore and update_if_empty",
			opts: crm.Options{FieldPolicies: map[string]crm.Policy{"phone": crm.Ignore, "city": crm.UpdateIfEmpty,
				"industry": crm.UpdateIfEmpty, "name": crm.Overwrite}},
			outcomes: map[int]string{2: "updated", 3: "created"},
			orgs: []map[string]string{
				{"name": "Acme", "phone": "555", "city": "Paris", "industry": "Anvils"},
				{"name": "Beta", "city": "Oslo"},
			},
		},
		{
			name:     "create_new off",
			opts:     crm.Options{CreateNew: ptr(false)},
			outcomes: map[int]string{2: "updated", 3: "skipped:new_not_allowed"},
			orgs:     []map[string]string{{"name": "Acme", "phone": "666", "city": "Rome", "industry": "Anvils"}},
		},
		{
			name:     "update_existing off",
			opts:     crm.Options{UpdateExisting: ptr(false)},
			outcomes: map[int]string{2: "skipped:existing_not_updated", 3: "created"},
			orgs: []map[string]string{
				{"name": "Acme", "phone": "555", "city": "Paris"},
				{"name": "Beta", "phone": "777", "city": "Oslo"},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, -1)
			e.importOrgs(before, crm.Options{}, 3)
			r := e.importOrgs(file, tc.opts, 3)
			checkOutcomes(t, r.Outcomes, tc.outcomes)
			e.checkOrgs(tc.orgs)
			// The same file again changes nothing more.
			again := e.importOrgs(file, tc.opts, 3)
			for n, o := range again.Outcomes {
				if o != "unchanged" && !strings.HasPrefix(o, "skipped:") {
					t.Errorf("row %d imported again: %s, want unchanged or skipped", n, o)
				}
			}
		})
	}
}

// SPEC §6 sequential semantics: a later row matches an organization an earlier row created,
// renamed or gave a domain, in the same batch or a later one; the batch size changes nothing.
func TestOrganizationsImportSequential(t *testing.T) {
	file := "Name,Domain,City\n" +
		"Acme Inc.,acme.com,Paris\n" + // 2 created
		"ACME LLC,,Rome\n" + // 3 name: row 2's
		"Acme Holdings,acme.com,\n" + // 4 no such name; domain: row 2's, renamed
		"acme holdings gmbh,,Berlin\n" + // 5 the new name
		"\"Acme, Inc.\",,\n" + // 6 the old name matches nothing any more: created
		"acme,acme.com,Madrid\n" + // 7 name before domain: row 6's, which takes the domain
		"Beta,beta.io,\n" + // 8 created
		",beta.io,Lima\n" // 9 domain: row 8's
	outcomes := map[int]string{2: "created", 3: "updated", 4: "updated", 5: "updated", 6: "created",
		7: "updated", 8: "created", 9: "updated"}
	for _, batch := range []int{1, 2, 3, 1000} {
		t.Run(fmt.Sprintf("batch %d", batch), func(t *testing.T) {
			e := newEnv(t, -1)
			r := e.importOrgs(file, crm.Options{}, batch)
			checkOutcomes(t, r.Outcomes, outcomes)
			ids := e.checkOrgs([]map[string]string{
				{"name": "Acme Holdings", "domain": "acme.com", "city": "Berlin"},
				{"name": "Acme, Inc.", "domain": "acme.com", "city": "Madrid"},
				{"name": "Beta", "domain": "beta.io", "city": "Lima"},
			})
			checkEntities(t, r.Prospects, map[int]int64{2: ids[0], 3: ids[0], 4: ids[0], 5: ids[0], 6: ids[1], 7: ids[1], 8: ids[2], 9: ids[2]})

			// A later import: the name, else the oldest with the domain.
			r = e.importOrgs("Name,Domain\nacme,\n,acme.com\n", crm.Options{}, batch)
			checkOutcomes(t, r.Outcomes, map[int]string{2: "unchanged", 3: "unchanged"})
			checkEntities(t, r.Prospects, map[int]int64{2: ids[1], 3: ids[0]})
		})
	}
}

// A dry run gives every row's outcome and writes nothing; options that apply to prospects
// only are refused, each by name.
func TestOrganizationsImportDryRunAndOptions(t *testing.T) {
	e := newEnv(t, -1)
	e.importOrgs("Name\nAcme\n", crm.Options{}, 3)
	file := writeFile(t, "dry.csv", "Name,City\nAcme,Paris\nBeta,\n,Rome\n")
	sum, err := e.runOrgs(file, crm.Options{}, 2, true)
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, sum.Counts, "rows=3 created=1 updated=1 unchanged=0 skipped=1 orgs_created=0 orgs_linked=0")
	if !sum.DryRun || sum.ImportID != 0 || sum.OverLimitWarning || sum.SkippedByReason["missing_identifier"] != 1 {
		t.Errorf("dry run: DryRun %v ImportID %d OverLimitWarning %v skips %v", sum.DryRun, sum.ImportID, sum.OverLimitWarning, sum.SkippedByReason)
	}
	e.checkOrgs([]map[string]string{{"name": "Acme"}})
	if n := e.nImports(); n != 1 {
		t.Errorf("%d imports after the dry run, want 1", n)
	}

	_, err = e.runOrgs(file, crm.Options{List: "L", Tags: []string{"t"}, Owner: "x", MatchByName: true}, 2, false)
	for _, want := range []string{`list: does not apply to an import of kind "organizations"`, `tags: does not apply to an import of kind "organizations"`,
		`owner: does not apply to an import of kind "organizations"`, `match_by_name: does not apply to an import of kind "organizations"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("import with prospect options: error %v, want it to say %q", err, want)
		}
	}
	_, err = e.runOrgs(file, crm.Options{UniqueIdentifier: "nope"}, 2, false)
	if err == nil || !strings.Contains(err.Error(), `unique_identifier: unknown field "nope"`) {
		t.Errorf("unknown unique identifier: error %v", err)
	}
	if err := store.AddField(e.ctx, e.pool, e.acct.ID, "organizations", crm.Field{Key: "regions", Label: "Regions",
		Type: crm.MultiPicklist, Options: []string{"EMEA"}}); err != nil {
		t.Fatal(err)
	}
	_, err = e.runOrgs(file, crm.Options{UniqueIdentifier: "regions"}, 2, false)
	if err == nil || !strings.Contains(err.Error(), `unique_identifier: field "regions" cannot identify an organization`) {
		t.Errorf("a multi-picklist as the unique identifier: error %v", err)
	}
	if n := e.nImports(); n != 1 {
		t.Errorf("%d imports after refused ones, want 1", n)
	}
}

// Custom organization fields (fields.entity = organizations): one serves as the unique
// identifier, a multi-picklist merges; a prospect field of the same key is not an
// organization's.
func TestOrganizationsImportCustomFields(t *testing.T) {
	e := newEnv(t, -1)
	for _, f := range []crm.Field{
		{Key: "crm_id", Label: "CRM Id", Type: crm.Text},
		{Key: "regions", Label: "Regions", Type: crm.MultiPicklist, Options: []string{"EMEA", "APAC", "AMER"}},
	} {
		if err := store.AddField(e.ctx, e.pool, e.acct.ID, "organizations", f); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.AddField(e.ctx, e.pool, e.acct.ID, "prospects", crm.Field{Key: "score", Label: "Score", Type: crm.Number}); err != nil {
		t.Fatal(err)
	}
	r := e.importOrgs("Name,CRM Id,Regions,Score\n"+
		"Acme,ORG-1,emea,\n"+
		"Globex,ORG-2,APAC;Mars,\n", crm.Options{}, 3)
	checkOutcomes(t, r.Outcomes, map[int]string{2: "created", 3: "created"})
	checkWarnings(t, r.Warnings, map[int][]string{3: {"regions:invalid_picklist_value"}})
	if want := []string{"Score"}; fmt.Sprint(r.Sum.Unmapped) != fmt.Sprint(want) {
		t.Errorf("unmapped %q, want %q (a prospect field)", r.Sum.Unmapped, want)
	}

	r = e.importOrgs("Name,CRM Id,Regions\n"+
		"Acme Renamed,ORG-1,APAC\n"+ // 2 the identifier: Acme, renamed; regions merged
		",ORG-2,apac\n"+ // 3 already there: unchanged
		"Hooli,ORG-3,AMER\n", // 4 created
		crm.Options{UniqueIdentifier: "crm_id", FieldPolicies: map[string]crm.Policy{"regions": crm.Merge}}, 3)
	checkOutcomes(t, r.Outcomes, map[int]string{2: "updated", 3: "unchanged", 4: "created"})
	e.checkOrgs([]map[string]string{
		{"name": "Acme Renamed", "custom.crm_id": "ORG-1", "custom.regions": "EMEA;APAC"},
		{"name": "Globex", "custom.crm_id": "ORG-2", "custom.regions": "APAC"},
		{"name": "Hooli", "custom.crm_id": "ORG-3", "custom.regions": "AMER"},
	})
}

// Two imports of the same organizations into one account at once create each organization
// once: their batches take the account's lock in turn, and each sees what the other wrote.
func TestOrganizationsImportConcurrent(t *testing.T) {
	e := newEnv(t, -1)
	var csv strings.Builder
	csv.WriteString("Name,Domain\n")
	const n = 200
	for i := range n {
		fmt.Fprintf(&csv, "Company %d,c%d.example.com\n", i, i)
	}
	path := writeFile(t, "orgs.csv", csv.String())
	sums := make([]importer.Summary, 2)
	errs := make([]error, 2)
	done, start := make(chan int), make(chan struct{})
	for i := range sums {
		go func() {
			<-start
			sums[i], errs[i] = e.runOrgs(path, crm.Options{}, 1, false)
			done <- i
		}()
	}
	close(start)
	<-done
	<-done
	for i := range sums {
		if errs[i] != nil || sums[i].Status != store.StatusCompleted {
			t.Fatalf("import %d: %v, status %q (%s)", i, errs[i], sums[i].Status, sums[i].Error)
		}
	}
	created, unchanged := sums[0].Created+sums[1].Created, sums[0].Unchanged+sums[1].Unchanged
	if created != n || unchanged != n {
		t.Errorf("the two imports created %d and left %d unchanged, want %d and %d", created, unchanged, n, n)
	}
	if got := e.nOrganizations(); got != n {
		t.Errorf("%d organizations, want %d", got, n)
	}
}

// A preview of an organizations file says what each row would do, with its values after the
// rules (a canonical domain), and writes nothing.
func TestOrganizationsPreview(t *testing.T) {
	e := newEnv(t, -1)
	r := e.importOrgs("Name\nAcme\n", crm.Options{}, 3)
	acme := r.Prospects[2]
	req := e.request(writeFile(t, "p.csv", "Company,Website\nACME Inc,http://www.acme.com/\nBeta,\n,intranet\n"), crm.Options{})
	req.Kind = "organizations"
	p, err := e.importer(3).Preview(e.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, row := range p.Rows {
		if row.ProspectID != 0 {
			t.Errorf("preview row %d: prospect_id %d in an organizations import", row.Row, row.ProspectID)
		}
		got = append(got, fmt.Sprintf("%d %s%s id=%v %v", row.Row, row.Outcome, row.Reason, row.EntityID == acme, row.Values))
	}
	equalStrings(t, "preview rows", got, []string{
		"2 updated id=true map[domain:acme.com name:ACME Inc website:http://www.acme.com/]",
		"3 created id=false map[name:Beta]",
		"4 skippedmissing_identifier id=false map[website:intranet]",
	})
	e.checkOrgs([]map[string]string{{"name": "Acme"}})
}
