package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/leadpipe/leadpipe/api"
	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/kinds/objects"
	"github.com/leadpipe/leadpipe/store"
)

// field adds a custom field of kind (checked against the kind as field add does) to the
// client's account.
func (c *client) field(kind string, f crm.Field) {
	c.h.t.Helper()
	k, err := importer.KindOf(c.h.ctx, c.h.pool, c.acct.ID, kind)
	if err != nil {
		c.h.t.Fatal(err)
	}
	if err := importer.CheckField(k, f); err != nil {
		c.h.t.Fatal(err)
	}
	if err := store.AddField(c.h.ctx, c.h.pool, c.acct.ID, kind, f); err != nil {
		c.h.t.Fatal(err)
	}
}

// objectType creates an object type of the client's account (with its identifying field).
func (c *client) objectType(key, label, identifier string) {
	c.h.t.Helper()
	if _, err := objects.Create(c.h.ctx, c.h.pool, c.acct.ID, key, label, identifier); err != nil {
		c.h.t.Fatal(err)
	}
}

// user adds a user to the client's account.
func (c *client) user(username, email, fullName string) {
	c.h.t.Helper()
	if _, err := store.AddUser(c.h.ctx, c.h.pool, c.acct.ID, store.User{Username: username, Email: email, FullName: fullName}); err != nil {
		c.h.t.Fatal(err)
	}
}

// customized gives the client's account a custom field of every type on prospects, a custom
// organization and deal field, and the object type vehicle (identified by vin) with fields of
// its own; it returns the keys of the custom fields by kind.
func (c *client) customized() map[string][]string {
	c.h.t.Helper()
	c.field("prospects", crm.Field{Key: "tier", Label: "Tier", Type: crm.Picklist, Options: []string{"Gold", "Silver"}, Aliases: []string{"Level"}})
	c.field("prospects", crm.Field{Key: "interests", Label: "Interests", Type: crm.MultiPicklist, Options: []string{"Golf", "Chess"}})
	c.field("prospects", crm.Field{Key: "score", Label: "Score", Type: crm.Number})
	c.field("prospects", crm.Field{Key: "birthday", Label: "Birthday", Type: crm.Date})
	c.field("prospects", crm.Field{Key: "vip", Label: "VIP", Type: crm.Boolean})
	c.field("prospects", crm.Field{Key: "assistant_email", Label: "Assistant Email", Type: crm.Email})
	c.field("prospects", crm.Field{Key: "fax", Label: "Fax", Type: crm.Phone})
	c.field("prospects", crm.Field{Key: "nickname", Label: "Nickname", Type: crm.Text, MaxLength: 5})
	c.field("organizations", crm.Field{Key: "segment", Label: "Segment", Type: crm.Picklist, Options: []string{"SMB", "Enterprise"}})
	c.field("deals", crm.Field{Key: "probability", Label: "Probability", Type: crm.Number})
	c.objectType("vehicle", "Vehicle", "vin")
	c.field("vehicle", crm.Field{Key: "model", Label: "Model", Type: crm.Text})
	c.field("vehicle", crm.Field{Key: "registered", Label: "Registered", Type: crm.Date})
	c.field("vehicle", crm.Field{Key: "fuel", Label: "Fuel", Type: crm.Picklist, Options: []string{"Petrol", "Electric"}})
	return map[string][]string{
		"prospects":     {"tier", "interests", "score", "birthday", "vip", "assistant_email", "fax", "nickname"},
		"organizations": {"segment"},
		"deals":         {"probability"},
		"vehicle":       {"vin", "model", "registered", "fuel"},
	}
}

// GET /v1/kinds lists the built-in kinds then the account's object types, each with its
// catalog in the account (custom fields last, marked custom, with picklist options) and the
// options that apply to it; another account's custom fields and object types never show.
func TestKinds(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	a, b := h.account(-1), h.account(-1)
	custom := a.customized()
	b.field("prospects", crm.Field{Key: "b_secret", Label: "B Secret", Type: crm.Text})
	b.objectType("b_gadget", "B Gadget", "serial")

	var list api.KindList
	a.getJSON("/v1/kinds", &list)
	var names []string
	for _, k := range list.Kinds {
		names = append(names, k.Name)
		var customKeys []string
		for _, f := range k.Fields {
			if f.Custom {
				customKeys = append(customKeys, f.Key)
			}
		}
		if !slices.Equal(customKeys, custom[k.Name]) {
			t.Errorf("kind %s: custom fields %q, want %q", k.Name, customKeys, custom[k.Name])
		}
	}
	if want := []string{"prospects", "organizations", "deals", "vehicle"}; !slices.Equal(names, want) {
		t.Errorf("kinds %q, want %q", names, want)
	}
	vehicle := list.Kinds[3]
	if vehicle.Noun != "vehicle" || !slices.Equal(vehicle.Options, []string{"mapping", "unique_identifier", "field_policies", "create_new", "update_existing", "sheet", "saved_mapping"}) {
		t.Errorf("vehicle: noun %q, options %q", vehicle.Noun, vehicle.Options)
	}
	if f := vehicle.Fields[len(vehicle.Fields)-1]; f.Key != "fuel" || f.Type != crm.Picklist || !slices.Equal(f.Options, []string{"Petrol", "Electric"}) {
		t.Errorf("vehicle's last field %+v, want the fuel picklist", f)
	}
	if !strings.Contains(string(a.get("/v1/kinds").Body), `"key":"tier","label":"Tier","type":"picklist","options":["Gold","Silver"],"max_length":0,"custom":true,"aliases":["Level"]`) {
		t.Errorf("the tier field is not shown whole: %s", a.get("/v1/kinds").Body)
	}

	// B sees its own, and nothing of A's; A nothing of B's.
	rb := b.get("/v1/kinds")
	for _, leak := range []string{"vehicle", "tier", "segment", "probability"} {
		if strings.Contains(string(rb.Body), `"`+leak+`"`) {
			t.Errorf("B's kinds show A's %s", leak)
		}
	}
	if !strings.Contains(string(rb.Body), `"b_gadget"`) || !strings.Contains(string(rb.Body), `"b_secret"`) {
		t.Errorf("B's kinds lack its own object type or field: %s", rb.Body)
	}
	if ra := a.get("/v1/kinds"); strings.Contains(string(ra.Body), "b_") {
		t.Errorf("A's kinds show B's: %s", ra.Body)
	}
	wantError(t, "GET /v1/kinds without a token", h.do(nil, http.MethodGet, "/v1/kinds", nil, ""), http.StatusUnauthorized, "missing bearer token")
}

// GET /v1/users lists the account's users, oldest first, and no other account's.
func TestUsers(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	a, b := h.account(-1), h.account(-1)
	var list api.UserList
	a.getJSON("/v1/users", &list)
	if list.Users == nil || len(list.Users) != 0 {
		t.Errorf("no users: %+v, want an empty list", list)
	}
	if r := a.get("/v1/users"); strings.TrimSpace(string(r.Body)) != `{"users":[]}` {
		t.Errorf("no users: body %s, want {\"users\":[]}", r.Body)
	}
	a.user("jdoe", "jane@example.com", "Jane Doe")
	a.user("bsmith", "bob@example.com", "Bob Smith")
	b.user("eve", "eve@example.com", "Eve Other")
	a.getJSON("/v1/users", &list)
	want := []api.User{{Username: "jdoe", FullName: "Jane Doe", Email: "jane@example.com"}, {Username: "bsmith", FullName: "Bob Smith", Email: "bob@example.com"}}
	if !slices.Equal(list.Users, want) {
		t.Errorf("users %+v, want %+v", list.Users, want)
	}
	b.getJSON("/v1/users", &list)
	if want := []api.User{{Username: "eve", FullName: "Eve Other", Email: "eve@example.com"}}; !slices.Equal(list.Users, want) {
		t.Errorf("B's users %+v, want %+v", list.Users, want)
	}
	if r := a.get("/v1/users"); !strings.Contains(string(r.Body), `{"username":"jdoe","full_name":"Jane Doe","email":"jane@example.com"}`) {
		t.Errorf("body %s", r.Body)
	}
}
