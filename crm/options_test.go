package crm_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/kind"
	"github.com/leadpipe/leadpipe/kinds/prospects"
)

// TestParseOptionsCaps checks the caps every source's options go through: the document's
// size, the number of tags, the length of names, and characters Postgres cannot store. Each
// refusal wraps ErrInvalidOptions and names the option and the limit.
func TestParseOptionsCaps(t *testing.T) {
	tagList := func(n int) string {
		names := make([]string, n)
		for i := range names {
			names[i] = fmt.Sprintf(`"t%d"`, i)
		}
		return "[" + strings.Join(names, ",") + "]"
	}
	tags := func(n int) string { return `{"tags": ` + tagList(n) + `}` }
	long := strings.Repeat("é", crm.MaxNameChars+1)
	cases := []struct{ name, doc, want string }{
		{"18,000 tags", tags(18000), "more than the limit of 64 KiB"},
		{"one tag too many", tags(crm.MaxTags + 1), "tags: 21 tags, more than the limit of 20"},
		{"long list", `{"list": "` + long + `"}`, "list: \"" + strings.Repeat("é", 40) + "…\" is 201 characters long, more than the limit of 200"},
		{"long tag", `{"tags": ["` + long + `"]}`, "tags: "},
		{"long campaign", `{"campaign": "` + long + `"}`, "campaign: "},
		{"long lead source", `{"lead_source": "` + long + `"}`, "lead_source: "},
		{"long sheet", `{"sheet": "` + long + `"}`, "sheet: "},
		{"NUL in list", `{"list": "a\u0000b"}`, `list: "a\x00b" contains a NUL character`},
		{"NUL in a tag", `{"tags": ["ok", "\u0000"]}`, "tags: "},
		{"NUL in campaign", `{"campaign": "\u0000"}`, "campaign: "},
		{"NUL in lead source", `{"lead_source": "\u0000"}`, "lead_source: "},
		{"NUL in sheet", `{"sheet": "\u0000"}`, "sheet: "},
		{"NUL in owner", `{"owner": "\u0000"}`, "owner: "},
		{"NUL in a mapped header", `{"mapping": {"E\u0000": "email"}}`, "mapping: "},
		{"NUL in unique_identifier", `{"unique_identifier": "a\u0000"}`, "unique_identifier: "},
		{"control character in a tag", `{"tags": ["a\u001bb"]}`, "contains a control character"},
	}
	for _, c := range cases {
		_, err := crm.ParseOptions([]byte(c.doc))
		if !errors.Is(err, crm.ErrInvalidOptions) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one wrapping ErrInvalidOptions saying %q", c.name, err, c.want)
		}
	}

	atCaps := fmt.Sprintf(`{"list": %q, "tags": %s, "sheet": "Sheet 1"}`, strings.Repeat("é", crm.MaxNameChars), tagList(crm.MaxTags))
	o, err := crm.ParseOptions([]byte(atCaps))
	if err != nil || len(o.Tags) != crm.MaxTags {
		t.Errorf("options at the caps: %v (%d tags), want them accepted", err, len(o.Tags))
	}
}

// TestCheckAppliesTheCaps checks that options built in Go, which no document carried, meet
// the same caps when they are checked against an account's fields, and that one error lists
// at most ten problems.
func TestCheckAppliesTheCaps(t *testing.T) {
	catalog := kind.NewCatalog(prospects.Kind{}, nil)
	o := crm.Options{List: "bad\xff", Tags: make([]string, 30)}
	for i := range o.Tags {
		o.Tags[i] = "\x00"
	}
	err := o.Check(catalog)
	for _, want := range []string{`list: "bad\xff" is not valid UTF-8`, "tags: 30 tags", "and 22 more"} {
		if !errors.Is(err, crm.ErrInvalidOptions) || !strings.Contains(err.Error(), want) {
			t.Errorf("Check: %v, want it to say %q", err, want)
		}
	}
}

func TestForKind(t *testing.T) {
	o, err := crm.ParseOptions([]byte(`{"create_new": false, "owner": "ann", "tags": ["q4"],
		"kinds": {"prospects": {"list": "Fair", "tags": ["fair", "2026"]}, "organizations": {"create_new": true}}}`))
	if err != nil {
		t.Fatal(err)
	}
	enc := func(o crm.Options) string {
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for kind, want := range map[string]string{
		"prospects":     `{"list":"Fair","tags":["fair","2026"],"owner":"ann","create_new":false}`,
		"organizations": `{"tags":["q4"],"owner":"ann","create_new":true}`,
		"deals":         `{"tags":["q4"],"owner":"ann","create_new":false}`,
	} {
		got, err := o.ForKind(kind)
		if err != nil || enc(got) != want {
			t.Errorf("ForKind(%s) = %s, %v; want %s", kind, enc(got), err, want)
		}
	}
	if err := o.Check(crm.NewCatalog("prospect", nil, nil)); err == nil || !strings.Contains(err.Error(), "kinds: options by kind apply to a workbook only (kind workbook)") {
		t.Errorf("Check of options with kinds: %v", err)
	}
	if _, err := crm.ParseOptions([]byte(`{"kinds": {"deals": {"list": "a\u0000b"}}}`)); err == nil || !strings.Contains(err.Error(), `kinds: deals: list: "a\x00b" contains a NUL character`) {
		t.Errorf("a NUL in a kind's options: %v", err)
	}
}

// TestOver: options over a saved mapping's keep their own members, take the saved ones they
// leave out, and merge the mappings column by column, their own entry winning; a saved
// mapping's name meets the caps of a name.
func TestOver(t *testing.T) {
	saved, err := crm.ParseOptions([]byte(`{"mapping": {"Mail": "email", "Firma": "title"}, "list": "Show", "tags": ["saved"],
		"update_existing": false, "field_policies": {"title": "ignore"}}`))
	if err != nil {
		t.Fatal(err)
	}
	own, err := crm.ParseOptions([]byte(`{"saved_mapping": "Show", "mapping": {"Firma": "organization", "Zip": ""}, "tags": ["mine"], "create_new": false}`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := own.Over(saved)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(got)
	want := `{"mapping":{"Firma":"organization","Mail":"email","Zip":""},"field_policies":{"title":"ignore"},"list":"Show","tags":["mine"],"create_new":false,"update_existing":false,"saved_mapping":"Show"}`
	if string(b) != want {
		t.Errorf("Over:\n got: %s\nwant: %s", b, want)
	}
	if b, _ := json.Marshal(own.Mapping); string(b) != `{"Firma":"organization","Zip":""}` {
		t.Errorf("Over changed the request's own mapping: %s", b)
	}
	if _, err := crm.ParseOptions([]byte(`{"saved_mapping": "a\u0007"}`)); err == nil || !strings.Contains(err.Error(), `saved_mapping: "a\a" contains a control character`) {
		t.Errorf("a control character in saved_mapping: %v", err)
	}
}
