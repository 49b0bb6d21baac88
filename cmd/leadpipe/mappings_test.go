package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestCLIMappings: `leadpipe mappings save` saves an options file under a name (its columns
// from --columns, else its mapping's), `list` prints them as GET /v1/mappings answers,
// `import --mapping` and `preview --mapping` use one under the options file's own, and
// `delete` removes it; an unknown name fails the import naming the saved ones.
func TestCLIMappings(t *testing.T) {
	pool := cliEnv(t)
	name := uniqueName(t)
	mustCLI(t, "account", "create", name)
	saved := writeTestFile(t, "saved.json", []byte(`{"mapping": {"Mail": "email", "Firma": "title"}, "list": "Fair", "tags": ["saved"]}`))
	out := mustCLI(t, "mappings", "save", "Fair", "--account", name, "--options", saved)
	var m struct {
		Kind    string          `json:"kind"`
		Name    string          `json:"name"`
		Columns []string        `json:"columns"`
		Options json.RawMessage `json:"options"`
	}
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("save printed %q: %v", out, err)
	}
	if m.Kind != "prospects" || m.Name != "Fair" || strings.Join(m.Columns, ";") != "Firma;Mail" ||
		string(m.Options) != `{"list":"Fair","tags":["saved"],"mapping":{"Mail":"email","Firma":"title"}}` {
		t.Errorf("save printed %s", out)
	}
	mustCLI(t, "mappings", "save", "Orgs", "--account", name, "--kind", "organizations", "--options", writeTestFile(t, "o.json", []byte(`{}`)),
		"--columns", "Name; Domain")
	out = mustCLI(t, "mappings", "list", "--account", name)
	if !strings.HasPrefix(out, `{"mappings":[{"kind":"prospects","name":"Fair","columns":["Firma","Mail"],`) ||
		!strings.Contains(out, `{"kind":"organizations","name":"Orgs","columns":["Name","Domain"],"options":{},`) {
		t.Errorf("list printed %s", out)
	}
	if out := mustCLI(t, "mappings", "list", "--account", name, "--kind", "organizations"); strings.Contains(out, `"Fair"`) {
		t.Errorf("list --kind organizations printed %s", out)
	}

	file := writeTestFile(t, "fair.csv", []byte("Mail,Firma\nann@example.com,CEO\n"))
	own := writeTestFile(t, "own.json", []byte(`{"tags": ["mine"]}`))
	out = mustCLI(t, "preview", file, "--account", name, "--mapping", "Fair")
	if !strings.Contains(out, `{"header":"Firma","field":"title","how":"explicit"}`) || !strings.Contains(out, `"suggested_mapping":null`) {
		t.Errorf("preview --mapping printed %s", out)
	}
	out = mustCLI(t, "import", file, "--account", name, "--options", own, "--mapping", "Fair")
	if created := jsonInt(t, oneJSON(t, out), "created"); created != 1 {
		t.Errorf("import --mapping: %d created, want 1 (%s)", created, out)
	}
	var options, groupings string
	acct := accountID(t, pool, name)
	if err := pool.QueryRow(t.Context(), `SELECT options::text FROM imports WHERE account_id = $1`, acct).Scan(&options); err != nil {
		t.Fatal(err)
	}
	if want := `{"list": "Fair", "tags": ["mine"], "mapping": {"Mail": "email", "Firma": "title"}, "saved_mapping": "Fair"}`; options != want {
		t.Errorf("recorded options %s\nwant %s", options, want)
	}
	if err := pool.QueryRow(t.Context(), `SELECT string_agg(g.kind || ':' || g.name || '=' || p.email || '/' || p.title, ',' ORDER BY g.kind)
		FROM groupings g JOIN grouping_members gm ON gm.grouping_id = g.id JOIN prospects p ON p.id = gm.prospect_id
		WHERE g.account_id = $1`, acct).Scan(&groupings); err != nil {
		t.Fatal(err)
	}
	if groupings != "list:Fair=ann@example.com/CEO,tag:mine=ann@example.com/CEO" {
		t.Errorf("groupings %q, want the saved list and the options file's tag", groupings)
	}

	_, _, err := cli(t, "import", file, "--account", name, "--mapping", "Fiar")
	if err == nil || !strings.Contains(err.Error(), `saved_mapping: no saved mapping "Fiar" for prospects; saved: Fair`) {
		t.Errorf("import --mapping Fiar: %v", err)
	}
	if out := mustCLI(t, "mappings", "delete", "Fair", "--account", name); out != `deleted saved mapping "Fair" for prospects of account "`+name+`"`+"\n" {
		t.Errorf("delete printed %q", out)
	}
	_, _, err = cli(t, "mappings", "delete", "Fair", "--account", name)
	if err == nil || !strings.Contains(err.Error(), `no saved mapping "Fair" for prospects in account`) {
		t.Errorf("delete again: %v", err)
	}
	_, _, err = cli(t, "mappings", "save", "Bad", "--account", name, "--options", writeTestFile(t, "bad.json", []byte(`{"mapping": {"Mail": "e_mail"}}`)))
	if err == nil || !strings.Contains(err.Error(), `mapping: column "Mail" maps to unknown field "e_mail"`) {
		t.Errorf("save with a field the kind lacks: %v", err)
	}
}
