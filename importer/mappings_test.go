package importer_test

// Saved mappings (issue 14): an import that names one (saved_mapping) gets its options under
// its own, records the options so resolved, and fails naming the saved mappings there are when
// the name is unknown; saving one checks its options as an import's.

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/store"
)

// saveMapping saves a mapping of the test's account and fails the test on an error.
func (e *tenv) saveMapping(kind, name string, columns []string, options string) store.SavedMapping {
	e.t.Helper()
	m, err := e.importer(3).SaveMapping(e.ctx, importer.MappingToSave{Account: e.acct.Name, Kind: kind, Name: name,
		Columns: columns, Options: []byte(options)})
	if err != nil {
		e.t.Fatalf("save mapping %q: %v", name, err)
	}
	return m
}

// TestSavedMappingResolved: the saved options go under the request's: the request's members
// win (tags), the saved ones fill in (list, lead_source, update_existing), and the mappings
// merge column by column (the request's "Firma" entry wins; the saved "E-mail Address" entry
// applies to the file's "e-mail address", spelled as auto-mapping folds it; the saved entry of
// a column the file lacks is left out). The import records those options, still naming the
// saved mapping, and a queued import runs with them even after the saved mapping changed.
func TestSavedMappingResolved(t *testing.T) {
	e := newEnv(t, -1)
	e.saveMapping("", "Trade show", []string{"E-mail Address", "Firma", "Badge"}, `{
		"mapping": {"E-mail Address": "email", "Firma": "title", "Badge": "phone"},
		"list": "Show leads", "tags": ["saved"], "lead_source": "Booth", "update_existing": false}`)
	csv := "e-mail address,Firma,First\nann@example.com,Acme,Ann\nbob@example.com,Bcorp,Bob\n"
	opts := crm.Options{SavedMapping: "Trade show", Mapping: map[string]string{"Firma": "organization"}, Tags: []string{"mine"}}

	imp, checked, err := e.importer(3).Submit(e.ctx, e.request(writeFile(t, "show.csv", csv), opts))
	if err != nil {
		t.Fatal(err)
	}
	var recorded map[string]any
	if err := json.Unmarshal(imp.Options, &recorded); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"saved_mapping": "Trade show",
		"mapping":       map[string]any{"e-mail address": "email", "Firma": "organization"},
		"list":          "Show leads", "tags": []any{"mine"}, "lead_source": "Booth", "update_existing": false,
	}
	if g, w := mustJSON(t, recorded), mustJSON(t, want); g != w {
		t.Errorf("recorded options:\n got: %s\nwant: %s", g, w)
	}
	equalStrings(t, "unmapped", checked.Unmapped, []string{})

	// A change of the saved mapping does not change the import queued with it.
	e.saveMapping("prospects", "Trade show", nil, `{"list": "Changed", "mapping": {"Firma": "title"}}`)
	sum, err := e.importer(3).Run(e.ctx, e.claim(imp.ID, "worker-1"), "worker-1")
	if err != nil || sum.Status != store.StatusCompleted {
		t.Fatalf("run: %+v, %v", sum, err)
	}
	e.checkProspect("ann@example.com", map[string]string{"email": "ann@example.com", "first_name": "Ann", "lead_source": "Booth", "organization": "Acme"})
	equalStrings(t, "groupings", e.groupings(), []string{
		"list:Show leads=ann@example.com bob@example.com", "tag:mine=ann@example.com bob@example.com"})

	// A later import naming it gets it as changed.
	r := e.importCSV("e-mail address,Firma\nann@example.com,CEO\n", crm.Options{SavedMapping: "Trade show"})
	checkCounts(t, r.Sum.Counts, "rows=1 created=0 updated=1 unchanged=0 skipped=0 orgs_created=0 orgs_linked=0")
	if got := e.prospect("ann@example.com")["title"]; got != "CEO" {
		t.Errorf("title %q, want CEO (Firma mapped to title by the changed mapping)", got)
	}
	equalStrings(t, "groupings", e.groupings(), []string{"list:Changed=ann@example.com",
		"list:Show leads=ann@example.com bob@example.com", "tag:mine=ann@example.com bob@example.com"})
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSavedMappingUnknown: a request naming no saved mapping of its kind fails as invalid
// options, naming the kind's saved mappings (or saying there are none), before anything is
// written; a mapping of another kind or account does not count.
func TestSavedMappingUnknown(t *testing.T) {
	e := newEnv(t, -1)
	other := newEnv(t, -1)
	other.saveMapping("", "Theirs", nil, `{}`)
	path := writeFile(t, "p.csv", "Email\nann@example.com\n")
	check := func(want string) {
		t.Helper()
		_, err := e.importer(3).Check(e.ctx, e.request(path, crm.Options{SavedMapping: "Teh show"}))
		if !errors.Is(err, crm.ErrInvalidOptions) || err.Error() != want {
			t.Errorf("Check: %v\nwant: %s", err, want)
		}
	}
	check(`invalid import options: saved_mapping: no saved mapping "Teh show" for prospects; none saved yet`)
	e.saveMapping("prospects", "The show", nil, `{}`)
	e.saveMapping("prospects", "Admin", nil, `{}`)
	e.saveMapping("organizations", "Orgs", nil, `{}`)
	check(`invalid import options: saved_mapping: no saved mapping "Teh show" for prospects; saved: Admin, The show`)
	if _, err := e.runNow(path, crm.Options{SavedMapping: "Teh show"}, 3, false); !errors.Is(err, crm.ErrInvalidOptions) {
		t.Errorf("RunNow: %v, want invalid options", err)
	}
	e.checkNothingWritten()
}

// TestSaveMappingChecks: a saved mapping's options are checked as an import's, against the
// kind's catalog in the account; its name and columns too. Each refusal says what to fix.
func TestSaveMappingChecks(t *testing.T) {
	e := newEnv(t, -1)
	e.addUser("jo", "jo@example.com", "Jo Doe")
	for _, tc := range []struct {
		kind, name, options string
		columns             []string
		want                string
	}{
		{"", "a", `{"mapping": {"Mail": "e_mail"}}`, nil, `mapping: column "Mail" maps to unknown field "e_mail"`},
		{"organizations", "a", `{"mapping": {"Mail": "email"}}`, nil, `mapping: column "Mail" maps to unknown field "email"`},
		{"", "a", `{"unique_identifier": "email"}`, nil, `unique_identifier: field "email" cannot identify a prospect`},
		{"", "a", `{"owner": "nobody"}`, nil, `owner: no user "nobody" in the account`},
		{"", "a", `{"lists": "x"}`, nil, `unknown field "lists"`},
		{"", "a", `{"saved_mapping": "b"}`, nil, `saved_mapping: a saved mapping cannot name another`},
		{"", "a", `{"kinds": {"prospects": {}}}`, nil, `kinds: a saved mapping is of one kind (prospects)`},
		{"", " ", `{}`, nil, `name: give the saved mapping a name`},
		{"", "a\tb", `{}`, nil, `name: "a\tb" contains a control character`},
		{"", strings.Repeat("é", 201), `{}`, nil, `is 201 characters long, more than the limit of 200`},
		{"", "a", `{}`, []string{"ok", "bad\x00"}, `columns: "bad\x00" contains a NUL character`},
		{"workbook", "a", `{}`, nil, `unknown kind "workbook"`},
	} {
		_, err := e.importer(3).SaveMapping(e.ctx, importer.MappingToSave{Account: e.acct.Name, Kind: tc.kind, Name: tc.name,
			Columns: tc.columns, Options: []byte(tc.options)})
		if !errors.Is(err, crm.ErrInvalidOptions) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("save %s %q with %s: %v\nwant invalid options with: %s", tc.kind, tc.name, tc.options, err, tc.want)
		}
	}
	if got := e.count("SELECT count(*) FROM saved_mappings WHERE account_id = $1"); got != 0 {
		t.Errorf("%d saved mappings, want none", got)
	}
	m := e.saveMapping("", "Owned", []string{"Email"}, `{"owner": "jo@example.com", "field_policies": {"title": "ignore"}}`)
	if m.Kind != "prospects" || string(m.Options) != `{"owner": "jo@example.com", "field_policies": {"title": "ignore"}}` {
		t.Errorf("saved %+v with options %s", m, m.Options)
	}
}

// TestWorkbookSavedMapping: a workbook names a saved mapping for a kind's sheet in that kind's
// options (kinds.<kind>.saved_mapping), and the sheet's import records it resolved; named at
// the top, for every sheet of whatever kind, it is refused.
func TestWorkbookSavedMapping(t *testing.T) {
	e := newEnv(t, -1)
	e.saveMapping("prospects", "Fair", []string{"Email"}, `{"list": "Fair 2026", "mapping": {"Last Name": ""}}`)
	path := writeWorkbook(t, "book.xlsx", prospectSheet)
	sum, err := e.importer(e.Batch).RunNow(e.ctx, e.workbookRequest(path, crm.Options{Tags: []string{"fair"},
		Kinds: map[string]crm.Options{"prospects": {SavedMapping: "Fair"}}}), testOwner, false)
	if err != nil || len(sum.Sheets) != 1 {
		t.Fatalf("workbook: %+v, %v", sum, err)
	}
	equalStrings(t, "groupings", e.groupings(), []string{"list:Fair 2026=ann@acme.example bob@acme.example", "tag:fair=ann@acme.example bob@acme.example"})
	equalStrings(t, "unmapped", sum.Sheets[0].Unmapped, []string{"Last Name"})
	imp := e.lastImport()
	if want := `{"list": "Fair 2026", "tags": ["fair"], "sheet": "Prospects", "mapping": {"Last Name": ""}, "saved_mapping": "Fair"}`; string(imp.Options) != want {
		t.Errorf("sheet's import options %s\nwant %s", imp.Options, want)
	}
	_, err = e.importer(e.Batch).RunNow(e.ctx, e.workbookRequest(path, crm.Options{SavedMapping: "Fair"}), testOwner, false)
	if want := "invalid import options: saved_mapping: a saved mapping is of one kind; name it in the options of its kind's sheet (kinds.<kind>.saved_mapping)"; err == nil || err.Error() != want {
		t.Errorf("workbook naming a saved mapping at the top: %v\nwant: %s", err, want)
	}
}

// TestSavedMappingSpelledColumnWins: of two saved entries that name one column of the file, the
// one spelled as the file spells it wins over the one that only folds to it, whatever their
// order.
func TestSavedMappingSpelledColumnWins(t *testing.T) {
	e := newEnv(t, -1)
	e.saveMapping("", "Both", nil, `{"mapping": {"E MAIL": "title", "E-Mail": "email", "Phone": "mobile"}}`)
	c, err := e.importer(3).Check(e.ctx, e.request(writeFile(t, "p.csv", "E-Mail,phone\nann@example.com,1\n"), crm.Options{SavedMapping: "Both"}))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := mustJSON(t, c.Columns), `[{"header":"E-Mail","field":"email","how":"explicit"},{"header":"phone","field":"mobile","how":"explicit"}]`; got != want {
		t.Errorf("columns %s\nwant %s", got, want)
	}
}

// TestSavedMappingFieldMoved: a request that maps another column to a field the saved mapping
// fills moves the field there (this month's file names its email column differently): the
// saved entry for that field is left out, rather than both columns claiming it.
func TestSavedMappingFieldMoved(t *testing.T) {
	e := newEnv(t, -1)
	e.saveMapping("", "Monthly", nil, `{"mapping": {"E-mail": "email", "Name": "first_name"}}`)
	c, err := e.importer(3).Check(e.ctx, e.request(writeFile(t, "p.csv", "E-mail,Work Email,Name\nold@example.com,ann@example.com,Ann\n"),
		crm.Options{SavedMapping: "Monthly", Mapping: map[string]string{"Work Email": "email"}}))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := mustJSON(t, c.Columns), `[{"header":"E-mail","how":"duplicate of column 2 (Work Email)"},{"header":"Work Email","field":"email","how":"explicit"},{"header":"Name","field":"first_name","how":"explicit"}]`; got != want {
		t.Errorf("columns %s\nwant %s", got, want)
	}
}
