package importer_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/kind"
	"github.com/leadpipe/leadpipe/store"
)

// Describe lists the built-in kinds then the account's object types, each with its catalog in
// the account (custom fields after the standard ones, a picklist's options, the account's deal
// stages) and the options that apply to it; nothing of another account shows.
func TestDescribe(t *testing.T) {
	e := newEnv(t, -1)
	e.addField(crm.Field{Key: "tier", Label: "Tier", Type: crm.Picklist, Options: []string{"Gold", "Silver"}, Aliases: []string{"Level"}})
	e.newObjectType()
	if err := store.SetDealStages(e.ctx, e.pool, e.acct.ID, []string{"New", "Won"}); err != nil {
		t.Fatal(err)
	}
	other := newEnv(t, -1)
	other.addField(crm.Field{Key: "secret_score", Label: "Secret Score", Type: crm.Number})
	if _, err := store.CreateObjectType(e.ctx, e.pool, other.acct.ID, "hidden_thing", "Hidden Thing", "code"); err != nil {
		t.Fatal(err)
	}

	got, err := importer.Describe(e.ctx, e.pool, e.acct)
	if err != nil {
		t.Fatal(err)
	}
	var names, nouns []string
	byName := map[string]importer.KindInfo{}
	for _, k := range got {
		names, nouns = append(names, k.Name), append(nouns, k.Noun)
		byName[k.Name] = k
	}
	equalStrings(t, "kinds", names, []string{"prospects", "organizations", "deals", "subscription"})
	equalStrings(t, "nouns", nouns, []string{"prospect", "organization", "deal", "subscription"})

	every := []string{"mapping", "unique_identifier", "field_policies", "create_new", "update_existing", "sheet", "saved_mapping"}
	for name, want := range map[string][]string{
		"prospects": {"mapping", "unique_identifier", "field_policies", "list", "tags", "owner", "campaign", "lead_source",
			"match_by_name", "create_new", "update_existing", "split_full_name", "sheet", "saved_mapping"},
		"organizations": every,
		"deals":         {"mapping", "unique_identifier", "field_policies", "owner", "create_new", "update_existing", "sheet", "saved_mapping"},
		"subscription":  every,
	} {
		equalStrings(t, name+" options", byName[name].Options, want)
	}

	keys := func(k importer.KindInfo) []string {
		var out []string
		for _, f := range k.Fields {
			out = append(out, f.Key)
		}
		return out
	}
	equalStrings(t, "subscription fields", keys(byName["subscription"]), []string{"prospect", "prospect_email", "serial", "plan", "seats"})
	equalStrings(t, "deal fields", keys(byName["deals"]), []string{"name", "amount", "stage", "close_date", "owner", "organization",
		"prospect", "prospect_email", "prospect_first_name", "prospect_last_name"})
	p := byName["prospects"].Fields
	last, _ := json.Marshal(p[len(p)-1])
	if want := `{"key":"tier","label":"Tier","type":"picklist","options":["Gold","Silver"],"max_length":0,"custom":true,"aliases":["Level"]}`; string(last) != want {
		t.Errorf("prospects' last field = %s, want %s", last, want)
	}
	first, _ := json.Marshal(p[0])
	if want := `{"key":"email","label":"Email","type":"email","options":[],"max_length":254,"custom":false,` +
		`"aliases":["E-mail","E-mail Address","Email Address","Mail","Business Email","Work Email"]}`; string(first) != want {
		t.Errorf("prospects' first field = %s, want %s", first, want)
	}
	stage := byName["deals"].Fields[2]
	equalStrings(t, "deal stage options", stage.Options, []string{"New", "Won"})

	all, _ := json.Marshal(got)
	for _, leak := range []string{"secret_score", "hidden_thing"} {
		if strings.Contains(string(all), leak) {
			t.Errorf("Describe shows another account's %s", leak)
		}
	}
}

// A kind's OptionNames are exactly the options its CheckOptions takes: each option only some
// kinds take is refused when set, for being of another kind, unless the kind lists it.
func TestOptionNamesAgreeWithCheckOptions(t *testing.T) {
	e := newEnv(t, -1)
	e.newObjectType()
	infos, err := importer.Describe(e.ctx, e.pool, e.acct)
	if err != nil {
		t.Fatal(err)
	}
	optional := map[string]string{"list": `"L"`, "tags": `["t"]`, "campaign": `"C"`, "lead_source": `"S"`, "owner": `"o"`,
		"match_by_name": "true", "split_full_name": "true"}
	for _, info := range infos {
		k, err := importer.KindOf(e.ctx, e.pool, e.acct.ID, info.Name)
		if err != nil {
			t.Fatal(err)
		}
		c, err := kind.Catalog(e.ctx, e.pool, k, e.acct.ID)
		if err != nil {
			t.Fatal(err)
		}
		for name, value := range optional {
			o, err := crm.ParseOptions(fmt.Appendf(nil, `{%q: %s}`, name, value))
			if err != nil {
				t.Fatal(err)
			}
			refused := slices.ContainsFunc(k.CheckOptions(o, c), func(p string) bool { return strings.HasPrefix(p, name+": does not apply") })
			if listed := slices.Contains(info.Options, name); listed == refused {
				t.Errorf("kind %s: option %s listed %v, refused %v", info.Name, name, listed, refused)
			}
		}
	}
}
