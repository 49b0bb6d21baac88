package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/api"
	"github.com/leadpipe/leadpipe/store"
)

// putMapping sends PUT /v1/mappings/{kind}/{name} with body.
func (c *client) putMapping(kind, name, body string) response {
	c.h.t.Helper()
	return c.h.do(c, http.MethodPut, "/v1/mappings/"+url.PathEscape(kind)+"/"+url.PathEscape(name), strings.NewReader(body), "application/json")
}

// mappingNames lists the client's saved mappings (of kind, or all) as "kind/name".
func (c *client) mappingNames(kind string) []string {
	c.h.t.Helper()
	var list api.MappingList
	c.getJSON("/v1/mappings?kind="+url.QueryEscape(kind), &list)
	out := []string{}
	for _, m := range list.Mappings {
		out = append(out, m.Kind+"/"+m.Name)
	}
	return out
}

// TestMappingsCRUD: PUT creates and then replaces a saved mapping and answers it as stored;
// GET lists them by name, of one kind or all; DELETE removes one (204, then 404). Another
// account sees none of them and cannot replace or delete them: its PUT makes its own.
func TestMappingsCRUD(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	a, other := h.account(-1), h.account(-1)

	r := a.putMapping("prospects", "Trade show / 2026", `{"columns": ["E-mail", "Firma"], "options": {"mapping": {"Firma": "organization"}, "tags": ["show"]}}`)
	var m store.SavedMapping
	if r.Status != http.StatusOK {
		t.Fatalf("PUT: %s, want 200", r)
	}
	decode(t, r, &m)
	if m.Kind != "prospects" || m.Name != "Trade show / 2026" || strings.Join(m.Columns, ",") != "E-mail,Firma" ||
		string(m.Options) != `{"tags":["show"],"mapping":{"Firma":"organization"}}` || m.CreatedAt.IsZero() || !m.UpdatedAt.Equal(m.CreatedAt) {
		t.Errorf("PUT answered %s", r.Body)
	}
	if r := a.putMapping("organizations", "Orgs", `{"columns": [], "options": {}}`); r.Status != http.StatusOK {
		t.Fatalf("PUT organizations: %s", r)
	}
	if r := a.putMapping("prospects", "Admin", `{"options": {"list": "Admins"}}`); r.Status != http.StatusOK {
		t.Fatalf("PUT without columns: %s", r)
	}
	r = a.putMapping("prospects", "Trade show / 2026", `{"columns": ["Email"], "options": {"list": "Show"}}`)
	var replaced store.SavedMapping
	decode(t, r, &replaced)
	if string(replaced.Options) != `{"list":"Show"}` || !replaced.CreatedAt.Equal(m.CreatedAt) || !replaced.UpdatedAt.After(m.UpdatedAt) {
		t.Errorf("PUT again answered %s; want the new options, created_at kept and updated_at later", r.Body)
	}

	equalNames := func(what string, got []string, want ...string) {
		t.Helper()
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%s: %q, want %q", what, got, want)
		}
	}
	equalNames("prospects", a.mappingNames("prospects"), "prospects/Admin", "prospects/Trade show / 2026")
	equalNames("all", a.mappingNames(""), "prospects/Admin", "organizations/Orgs", "prospects/Trade show / 2026")
	equalNames("other's", other.mappingNames(""))
	if r := a.get("/v1/mappings"); r.Status != http.StatusOK || !strings.HasPrefix(string(r.Body), `{"mappings":[{"kind":"prospects","name":"Admin","columns":[],"options":{"list":"Admins"},"created_at":`) {
		t.Errorf("GET /v1/mappings: %s", r)
	}

	// Another account: not found, and its PUT makes a mapping of its own.
	wantError(t, "DELETE of another account's", other.h.do(other, http.MethodDelete, "/v1/mappings/prospects/Admin", nil, ""), http.StatusNotFound, "not found")
	if r := other.putMapping("prospects", "Admin", `{"options": {"list": "Theirs"}}`); r.Status != http.StatusOK {
		t.Fatalf("other's PUT: %s", r)
	}
	if got := a.get("/v1/mappings?kind=prospects"); !strings.Contains(string(got.Body), `"options":{"list":"Admins"}`) {
		t.Errorf("after another account's PUT of the same name: %s, want the first account's kept", got.Body)
	}

	if r := a.h.do(a, http.MethodDelete, "/v1/mappings/prospects/"+url.PathEscape("Trade show / 2026"), nil, ""); r.Status != http.StatusNoContent || len(r.Body) != 0 {
		t.Errorf("DELETE: %s, want 204 without a body", r)
	}
	wantError(t, "DELETE again", a.h.do(a, http.MethodDelete, "/v1/mappings/prospects/"+url.PathEscape("Trade show / 2026"), nil, ""), http.StatusNotFound, "not found")
	equalNames("after DELETE", a.mappingNames(""), "prospects/Admin", "organizations/Orgs")
	equalNames("other's after DELETE", other.mappingNames(""), "prospects/Admin")
}

// TestMappingsRefused: PUT refuses, with 400 and a detail saying what to fix, a body that is
// not the mapping's JSON, options an import would refuse (a field the kind does not have, an
// option the kind does not take), options naming a saved mapping or giving options by kind,
// a bad name, and a kind the account cannot import; nothing is saved. GET with an unknown
// kind answers 400 too.
func TestMappingsRefused(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	a := h.account(-1)
	for _, tc := range []struct {
		kind, name, body, msg, detail string
	}{
		{"prospects", "a", `{"options": {"mapping": {"Mail": "e_mail"}}}`, "invalid import options", `mapping: column \"Mail\" maps to unknown field \"e_mail\"`},
		{"organizations", "a", `{"options": {"mapping": {"Mail": "email"}, "tags": ["x"]}}`, "invalid import options", `unknown field \"email\"`},
		{"prospects", "a", `{"options": {"saved_mapping": "b"}}`, "invalid import options", "saved_mapping: a saved mapping cannot name another"},
		{"prospects", "a", `{"options": {"kinds": {"deals": {}}}}`, "invalid import options", "kinds: a saved mapping is of one kind"},
		{"prospects", "a", `{"options": {"lists": "x"}}`, "invalid import options", `unknown field \"lists\"`},
		{"prospects", "a", `{"options": {"tags": ["` + strings.Repeat("t", 201) + `"]}}`, "invalid import options", "more than the limit of 200"},
		{"prospects", "a\u0007", `{"options": {}}`, "invalid import options", `name: \"a\\a\" contains a control character`},
		{"prospects", strings.Repeat("n", 201), `{"options": {}}`, "invalid import options", "name: "},
		{"invoices", "a", `{"options": {}}`, "invalid import options", `unknown kind \"invoices\"`},
		{"prospects", "a", `{"columns": "Email"}`, "invalid saved mapping", `the body is not {\"columns\": [\"…\", …], \"options\": {…}}`},
		{"prospects", "a", `{"options": {}, "extra": 1}`, "invalid saved mapping", `unknown field \"extra\"`},
		{"prospects", "a", ``, "invalid saved mapping", `send {\"columns\"`},
	} {
		r := a.putMapping(tc.kind, tc.name, tc.body)
		wantError(t, "PUT "+tc.kind+" "+tc.body, r, http.StatusBadRequest, tc.msg)
		if !strings.Contains(string(r.Body), tc.detail) {
			t.Errorf("PUT %s %q %s: %s\nwant the detail to contain %s", tc.kind, tc.name, tc.body, r.Body, tc.detail)
		}
	}
	if n := h.count("SELECT count(*) FROM saved_mappings WHERE account_id = $1", a.acct.ID); n != 0 {
		t.Errorf("%d mappings saved, want none", n)
	}
	wantError(t, "GET ?kind=invoices", a.get("/v1/mappings?kind=invoices"), http.StatusBadRequest, "invalid query parameters")
}

// TestPreviewSuggestsMapping: a preview suggests the saved mapping of the request's kind whose
// columns share the most with the file's header, headers compared as auto-mapping folds them;
// among equals the one saved last; none when no saved mapping shares a column, or when the
// request names a saved mapping (it is then applied: its mapping shows as explicit).
func TestPreviewSuggestsMapping(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	a, other := h.account(-1), h.account(-1)
	save := func(c *client, kind, name, body string) {
		t.Helper()
		if r := c.putMapping(kind, name, body); r.Status != http.StatusOK {
			t.Fatalf("PUT %s: %s", name, r)
		}
		time.Sleep(2 * time.Millisecond) // updated_at orders the ties
	}
	const file = "E-Mail,Given name,Firma,Badge\nann@example.com,Ann,Acme,7\n"
	preview := func(options string) string {
		t.Helper()
		r := a.upload("/v1/previews", "show.csv", []byte(file), options)
		if r.Status != http.StatusOK {
			t.Fatalf("preview: %s", r)
		}
		body := string(r.Body)
		return body[strings.Index(body, `"suggested_mapping":`):]
	}
	if got := preview(""); got != "\"suggested_mapping\":null}\n" {
		t.Errorf("with no saved mapping: %s, want null", got)
	}
	save(a, "prospects", "Unrelated", `{"columns": ["Phone", "Zip"], "options": {}}`)
	save(other, "prospects", "Other account's", `{"columns": ["E-Mail", "Given name", "Firma", "Badge"], "options": {}}`)
	save(a, "organizations", "Other kind", `{"columns": ["E-Mail", "Given name", "Firma", "Badge"], "options": {}}`)
	if got := preview(""); got != "\"suggested_mapping\":null}\n" {
		t.Errorf("with no saved mapping sharing a column: %s, want null", got)
	}
	save(a, "prospects", "Two", `{"columns": ["email", "Firma", "Extra"], "options": {"mapping": {"Firma": "title"}}}`)
	save(a, "prospects", "One", `{"columns": ["Badge"], "options": {}}`)
	if got, want := preview(""), `"suggested_mapping":{"name":"Two","matched_columns":2,"columns":["email","Firma","Extra"]}}`+"\n"; got != want {
		t.Errorf("suggestion: %s\nwant: %s", got, want)
	}
	save(a, "prospects", "Two too", `{"columns": ["given_name", "badge"], "options": {}}`)
	if got, want := preview(""), `"suggested_mapping":{"name":"Two too","matched_columns":2,"columns":["given_name","badge"]}}`+"\n"; got != want {
		t.Errorf("suggestion among equals: %s\nwant: %s (saved last)", got, want)
	}
	save(a, "prospects", "Two", `{"columns": ["email", "Firma", "Extra"], "options": {"mapping": {"Firma": "title"}}}`)
	if got := preview(""); !strings.HasPrefix(got, `"suggested_mapping":{"name":"Two",`) {
		t.Errorf("suggestion after Two was saved again: %s, want Two (updated last)", got)
	}

	r := a.upload("/v1/previews", "show.csv", []byte(file), `{"saved_mapping": "Two"}`)
	if !strings.Contains(string(r.Body), `{"header":"Firma","field":"title","how":"explicit"}`) || !strings.HasSuffix(string(r.Body), "\"suggested_mapping\":null}\n") {
		t.Errorf("preview naming Two: %s, want Firma mapped to title explicitly and no suggestion", r)
	}
	wantError(t, "preview naming an unknown mapping", a.upload("/v1/previews", "show.csv", []byte(file), `{"saved_mapping": "Three"}`),
		http.StatusBadRequest, "invalid import options")
}

// TestUploadWithSavedMapping: an upload naming a saved mapping imports with its options, the
// request's own over them, and the import's options show them resolved, still naming it.
func TestUploadWithSavedMapping(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.startWorkers()
	a := h.account(-1)
	if r := a.putMapping("prospects", "Show", `{"columns": ["Mail", "Firma"], "options": {"mapping": {"Mail": "email", "Firma": "title"}, "list": "Show leads", "tags": ["saved"]}}`); r.Status != http.StatusOK {
		t.Fatalf("PUT: %s", r)
	}
	id := a.submit("show.csv", []byte("Mail,Firma\nann@example.com,CEO\n"), `{"saved_mapping": "Show", "tags": ["mine"]}`)
	v := a.waitFinished(id, store.StatusCompleted)
	if v.Created != 1 {
		t.Errorf("import: %d created, want 1", v.Created)
	}
	if got, want := string(v.Options), `{"list":"Show leads","tags":["mine"],"mapping":{"Mail":"email","Firma":"title"},"saved_mapping":"Show"}`; got != want {
		t.Errorf("options %s\nwant %s", got, want)
	}
	var got string
	if err := h.pool.QueryRow(h.ctx, `SELECT p.email || ' ' || p.title || ' ' || string_agg(g.kind || ':' || g.name, ',' ORDER BY g.kind)
		FROM prospects p JOIN grouping_members m ON m.prospect_id = p.id JOIN groupings g ON g.id = m.grouping_id
		WHERE p.account_id = $1 GROUP BY p.id`, a.acct.ID).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != "ann@example.com CEO list:Show leads,tag:mine" {
		t.Errorf("prospect %q, want ann@example.com CEO in the saved list and the request's tag", got)
	}
}
