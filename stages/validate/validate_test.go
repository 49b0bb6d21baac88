package validate_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/kind"
	"github.com/leadpipe/leadpipe/kinds/prospects"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/stages/validate"
	"github.com/leadpipe/leadpipe/store"
)

var cat = kind.NewCatalog(prospects.Kind{}, []crm.Field{
	{Key: "active", Label: "Active", Type: crm.Boolean},
	{Key: "tier", Label: "Tier", Type: crm.Picklist, Options: []string{"Gold", "Silver"}},
	{Key: "interests", Label: "Interests", Type: crm.MultiPicklist, Options: []string{"A", "B", "C"}},
	{Key: "renewal", Label: "Renewal", Type: crm.Date},
	{Key: "seats", Label: "Seats", Type: crm.Number},
	{Key: "code", Label: "Code", Type: crm.Text, MaxLength: 5},
	{Key: "alt_email", Label: "Alt Email", Type: crm.Email},
	{Key: "notes", Label: "Notes", Type: crm.Text}, // no limit
})

var users = []store.User{
	{ID: 11, Username: "jdoe", Email: "jane@corp.example", FullName: "Jane Doe"},
	{ID: 12, Username: "bsmith", Email: "bob@corp.example", FullName: "Bob Smith"},
	{ID: 13, Username: "Jane Doe", Email: "other@corp.example", FullName: "Someone Else"}, // username = 11's full name
	{ID: 14, Username: "sam1", Email: "sam1@corp.example", FullName: "Sam Lee"},
	{ID: 15, Username: "sam2", Email: "sam2@corp.example", FullName: "Sam Lee"}, // same full name, newer
}

// row returns an unskipped row with the given field values.
func row(vals map[string]string) pipeline.Row {
	r := pipeline.Row{Number: 2, Values: make([]string, len(cat.Fields))}
	for k, v := range vals {
		i := cat.Index(k)
		if i < 0 {
			panic("no field " + k)
		}
		r.Values[i] = v
	}
	return r
}

// values returns the row's non-empty values by key.
func values(r pipeline.Row) map[string]string {
	m := map[string]string{}
	for i, v := range r.Values {
		if v != "" {
			m[cat.Fields[i].Key] = v
		}
	}
	return m
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func newValidator(t *testing.T, o crm.Options) *validate.Validator {
	t.Helper()
	v, err := validate.New(cat, users, o, rulesOf(cat, o))
	if err != nil {
		t.Fatalf("validate.New: %v", err)
	}
	return v
}

func process(t *testing.T, v *validate.Validator, rows ...pipeline.Row) []pipeline.Row {
	t.Helper()
	b := &pipeline.Batch{Rows: rows}
	if err := v.Process(context.Background(), b); err != nil {
		t.Fatalf("Process: %v", err)
	}
	return b.Rows
}

func TestValueRules(t *testing.T) {
	long129 := strings.Repeat("x", 129)
	tests := []struct {
		name     string
		in       map[string]string
		want     map[string]string
		warnings []pipeline.Warning
	}{
		{"email kept as imported", map[string]string{"email": "Ann.O'Neil+x@Sub.Example.COM"},
			map[string]string{"email": "Ann.O'Neil+x@Sub.Example.COM"}, nil},
		{"booleans", map[string]string{"email": "a@b.co", "email_opt_in": "YES", "active": "no"},
			map[string]string{"email": "a@b.co", "email_opt_in": "true", "active": "false"}, nil},
		{"boolean 1 and 0", map[string]string{"email": "a@b.co", "email_opt_in": "1", "active": "0"},
			map[string]string{"email": "a@b.co", "email_opt_in": "true"}, nil},
		{"boolean invalid", map[string]string{"email": "a@b.co", "active": "maybe"},
			map[string]string{"email": "a@b.co"}, []pipeline.Warning{{Field: "active", Kind: "invalid_boolean", Value: "maybe"}}},
		{"picklist canonical", map[string]string{"email": "a@b.co", "tier": "gOLD"},
			map[string]string{"email": "a@b.co", "tier": "Gold"}, nil},
		{"picklist invalid", map[string]string{"email": "a@b.co", "tier": "Bronze"},
			map[string]string{"email": "a@b.co"}, []pipeline.Warning{{Field: "tier", Kind: "invalid_picklist_value", Value: "Bronze"}}},
		{"multi-picklist drops invalid values", map[string]string{"email": "a@b.co", "interests": "c; a ;zz;A;;yy"},
			map[string]string{"email": "a@b.co", "interests": "C;A"}, []pipeline.Warning{
				{Field: "interests", Kind: "invalid_picklist_value", Value: "zz"},
				{Field: "interests", Kind: "invalid_picklist_value", Value: "yy"}}},
		{"multi-picklist all invalid", map[string]string{"email": "a@b.co", "interests": "x"},
			map[string]string{"email": "a@b.co"}, []pipeline.Warning{{Field: "interests", Kind: "invalid_picklist_value", Value: "x"}}},
		{"dates", map[string]string{"email": "a@b.co", "renewal": "3/7/2024"},
			map[string]string{"email": "a@b.co", "renewal": "2024-03-07"}, nil},
		{"date iso with time", map[string]string{"email": "a@b.co", "renewal": "2024-01-31T10:00:00Z"},
			map[string]string{"email": "a@b.co", "renewal": "2024-01-31"}, nil},
		{"date invalid", map[string]string{"email": "a@b.co", "renewal": "2023-02-29"},
			map[string]string{"email": "a@b.co"}, []pipeline.Warning{{Field: "renewal", Kind: "invalid_date", Value: "2023-02-29"}}},
		{"number canonical", map[string]string{"email": "a@b.co", "seats": "+007.50"},
			map[string]string{"email": "a@b.co", "seats": "7.5"}, nil},
		{"number invalid", map[string]string{"email": "a@b.co", "seats": "1,000"},
			map[string]string{"email": "a@b.co"}, []pipeline.Warning{{Field: "seats", Kind: "invalid_number", Value: "1,000"}}},
		{"text too long", map[string]string{"email": "a@b.co", "title": long129, "code": "ABCDEF"},
			map[string]string{"email": "a@b.co"}, []pipeline.Warning{
				{Field: "title", Kind: "value_too_long", Value: "129 characters, at most 128"},
				{Field: "code", Kind: "value_too_long", Value: "6 characters, at most 5"}}},
		{"length counts characters, not bytes", map[string]string{"email": "a@b.co", "code": "ééééé", "notes": strings.Repeat("n", 5000)},
			map[string]string{"email": "a@b.co", "code": "ééééé", "notes": strings.Repeat("n", 5000)}, nil},
		{"custom email field invalid is a warning, not a skip", map[string]string{"email": "a@b.co", "alt_email": "nope@", "first_name": "Al"},
			map[string]string{"email": "a@b.co", "first_name": "Al"}, []pipeline.Warning{{Field: "alt_email", Kind: "invalid_email", Value: "nope@"}}},
		{"custom email field valid", map[string]string{"last_name": "Li", "alt_email": "li@x.org"},
			map[string]string{"last_name": "Li", "alt_email": "li@x.org"}, nil},
	}
	v := newValidator(t, crm.Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := process(t, v, row(tt.in))[0]
			if r.Skipped() {
				t.Fatalf("row skipped: %s (%s)", r.SkipReason, r.SkipDetail)
			}
			if got := values(r); !equalMaps(got, tt.want) {
				t.Errorf("values = %q, want %q", got, tt.want)
			}
			if !slices.Equal(r.Warnings, tt.warnings) {
				t.Errorf("warnings = %+v, want %+v", r.Warnings, tt.warnings)
			}
		})
	}
}

func TestSkips(t *testing.T) {
	tests := []struct {
		name   string
		opts   crm.Options
		in     map[string]string
		reason string // "" = not skipped
		detail string
	}{
		{"invalid email", crm.Options{}, map[string]string{"email": "ann@example", "first_name": "Ann", "phone": "555"},
			"invalid_email", `"ann@example" is not a valid email address`},
		{"invalid email despite a unique identifier", crm.Options{UniqueIdentifier: "phone"}, map[string]string{"email": "a b@example.com", "phone": "555"},
			"invalid_email", `"a b@example.com" is not a valid email address`},
		{"two @", crm.Options{}, map[string]string{"email": "a@b@c.com"}, "invalid_email", `"a@b@c.com" is not a valid email address`},
		{"one-letter TLD", crm.Options{}, map[string]string{"email": "a@b.c"}, "invalid_email", `"a@b.c" is not a valid email address`},
		{"nothing that identifies", crm.Options{}, map[string]string{"title": "CEO", "phone": "555"},
			"missing_identifier", "the row has no email, no unique identifier and no first or last name"},
		{"phone is no identifier unless it is the unique identifier", crm.Options{UniqueIdentifier: "code"}, map[string]string{"phone": "555"},
			"missing_identifier", "the row has no email, no unique identifier and no first or last name"},
		{"unique identifier", crm.Options{UniqueIdentifier: "phone"}, map[string]string{"phone": "555"}, "", ""},
		{"custom unique identifier", crm.Options{UniqueIdentifier: "code"}, map[string]string{"code": "C1"}, "", ""},
		{"first name only", crm.Options{}, map[string]string{"first_name": "Ann"}, "", ""},
		{"last name only", crm.Options{}, map[string]string{"last_name": "Able"}, "", ""},
		{"email only", crm.Options{}, map[string]string{"email": "x@y.io"}, "", ""},
		{"a name too long to import identifies nothing", crm.Options{}, map[string]string{"first_name": strings.Repeat("a", 101)},
			"missing_identifier", "the row has no email, no unique identifier and no first or last name"},
		{"an invalid unique identifier value identifies nothing", crm.Options{UniqueIdentifier: "seats"}, map[string]string{"seats": "many"},
			"missing_identifier", "the row has no email, no unique identifier and no first or last name"},
		{"full name without split_full_name", crm.Options{}, map[string]string{"full_name": "Ada Lovelace"},
			"missing_identifier", "the row has no email, no unique identifier and no first or last name"},
		{"full name with split_full_name", crm.Options{SplitFullName: true}, map[string]string{"full_name": "Ada"}, "", ""},
		{"empty row", crm.Options{}, map[string]string{}, "missing_identifier", "the row has no email, no unique identifier and no first or last name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := process(t, newValidator(t, tt.opts), row(tt.in))[0]
			if r.SkipReason != tt.reason || r.SkipDetail != tt.detail {
				t.Fatalf("skip = %q / %q, want %q / %q", r.SkipReason, r.SkipDetail, tt.reason, tt.detail)
			}
			if tt.reason != "" && r.Outcome != pipeline.Skipped {
				t.Errorf("skipped row has outcome %q, want skipped", r.Outcome)
			}
			if tt.reason == "" && r.Outcome != "" {
				t.Errorf("kept row has outcome %q, want none yet", r.Outcome)
			}
		})
	}
}

func TestProcessLeavesSkippedRowsAlone(t *testing.T) {
	v := newValidator(t, crm.Options{Owner: "jdoe"})
	skipped := row(map[string]string{"email": "not an email", "active": "maybe"})
	skipped.Skip(pipeline.ReasonMalformedRow, "too many cells")
	rows := process(t, v, skipped, row(map[string]string{"email": "ok@ok.io", "active": "maybe"}))
	if rows[0].SkipReason != pipeline.ReasonMalformedRow || rows[0].SkipDetail != "too many cells" || len(rows[0].Warnings) != 0 {
		t.Errorf("skipped row changed: %+v", rows[0])
	}
	if got := values(rows[0]); !equalMaps(got, map[string]string{"email": "not an email", "active": "maybe"}) {
		t.Errorf("skipped row's values changed: %q", got)
	}
	if rows[1].Skipped() || len(rows[1].Warnings) != 1 || values(rows[1])["lead_owner"] != "11" {
		t.Errorf("second row = %+v, want validated with one warning and the default owner", rows[1])
	}
}

func TestOwnerResolution(t *testing.T) {
	tests := []struct {
		value string
		want  string // user id; "" = not found
	}{
		{"jdoe", "11"},
		{"  JDOE ", "11"},
		{"Bob@Corp.Example", "12"},
		{"bob smith", "12"},
		{"Jane Doe", "13"},          // a username wins over another user's full name
		{"jane@corp.example", "11"}, // by email
		{"Sam Lee", "14"},           // the older of two users with that full name
		{"bsmit", ""},               // exact, not a prefix
		{"Bob", ""},
	}
	o := validate.NewOwners(users)
	v := newValidator(t, crm.Options{})
	for _, tt := range tests {
		id, ok := o.Resolve(tt.value)
		if id != tt.want || ok != (tt.want != "") {
			t.Errorf("Resolve(%q) = %q, %v; want %q, %v", tt.value, id, ok, tt.want, tt.want != "")
		}
		r := process(t, v, row(map[string]string{"email": "x@y.io", "lead_owner": tt.value}))[0]
		if got := r.Values[cat.Index("lead_owner")]; got != tt.want {
			t.Errorf("row with Lead Owner %q: owner %q, want %q", tt.value, got, tt.want)
		}
		var warn []pipeline.Warning
		if tt.want == "" {
			warn = []pipeline.Warning{{Field: "lead_owner", Kind: "owner_not_found", Value: tt.value}}
		}
		if !slices.Equal(r.Warnings, warn) {
			t.Errorf("row with Lead Owner %q: warnings %+v, want %+v", tt.value, r.Warnings, warn)
		}
	}
}

// The owner option is the default owner for rows without a Lead Owner value only; a row whose
// owner does not resolve keeps no owner (unchanged) and gets a warning.
func TestDefaultOwner(t *testing.T) {
	v := newValidator(t, crm.Options{Owner: "Bob Smith"})
	rows := process(t, v,
		row(map[string]string{"email": "a@x.io"}),
		row(map[string]string{"email": "b@x.io", "lead_owner": "jdoe"}),
		row(map[string]string{"email": "c@x.io", "lead_owner": "ghost"}),
		row(map[string]string{"title": "nobody"}), // skipped: missing identifier
	)
	owner := cat.Index("lead_owner")
	for i, want := range []string{"12", "11", ""} {
		if got := rows[i].Values[owner]; got != want {
			t.Errorf("row %d owner = %q, want %q", i, got, want)
		}
	}
	if w := []pipeline.Warning{{Field: "lead_owner", Kind: "owner_not_found", Value: "ghost"}}; !slices.Equal(rows[2].Warnings, w) {
		t.Errorf("unknown owner warnings = %+v, want %+v", rows[2].Warnings, w)
	}
	if len(rows[0].Warnings)+len(rows[1].Warnings) != 0 {
		t.Errorf("unexpected warnings: %+v %+v", rows[0].Warnings, rows[1].Warnings)
	}
	if rows[3].SkipReason != pipeline.ReasonMissingIdentifier {
		t.Errorf("row without identifier: skip %q, want missing_identifier", rows[3].SkipReason)
	}

	// Without the option, a row without owner has none.
	r := process(t, newValidator(t, crm.Options{}), row(map[string]string{"email": "a@x.io"}))[0]
	if got := r.Values[owner]; got != "" {
		t.Errorf("owner without default = %q, want empty", got)
	}
}

func TestNewUnknownDefaultOwner(t *testing.T) {
	_, err := validate.New(cat, users, crm.Options{Owner: "nobody@corp.example"}, rulesOf(cat, crm.Options{}))
	if !errors.Is(err, crm.ErrInvalidOptions) {
		t.Fatalf("New with unknown owner = %v, want ErrInvalidOptions", err)
	}
	if !strings.Contains(err.Error(), `"nobody@corp.example"`) {
		t.Errorf("error %q does not name the owner", err)
	}
	if _, err := validate.New(cat, nil, crm.Options{Owner: "jdoe"}, rulesOf(cat, crm.Options{})); !errors.Is(err, crm.ErrInvalidOptions) {
		t.Errorf("New with no users and an owner = %v, want ErrInvalidOptions", err)
	}
}

func TestSplitFullName(t *testing.T) {
	tests := []struct {
		in   map[string]string
		want map[string]string
	}{
		{map[string]string{"full_name": "Ada  Lovelace"}, map[string]string{"first_name": "Ada", "last_name": "Lovelace"}},
		{map[string]string{"full_name": "Lovelace, Ada"}, map[string]string{"first_name": "Ada", "last_name": "Lovelace"}},
		{map[string]string{"full_name": "John Smith, Jr."}, map[string]string{"first_name": "John", "last_name": "Smith, Jr."}},
		{map[string]string{"full_name": "Cher"}, map[string]string{"first_name": "Cher"}},
		{map[string]string{"full_name": "Mary Ann Evans"}, map[string]string{"first_name": "Mary", "last_name": "Ann Evans"}},
		// Separate name columns win over the split full name.
		{map[string]string{"full_name": "Ada Lovelace", "first_name": "Augusta"}, map[string]string{"first_name": "Augusta", "last_name": "Lovelace"}},
		{map[string]string{"full_name": "Ada Lovelace", "last_name": "King"}, map[string]string{"first_name": "Ada", "last_name": "King"}},
	}
	v := newValidator(t, crm.Options{SplitFullName: true})
	for _, tt := range tests {
		r := process(t, v, row(tt.in))[0]
		if r.Skipped() {
			t.Errorf("%q: skipped %s", tt.in, r.SkipReason)
			continue
		}
		if got := values(r); !equalMaps(got, tt.want) { // full_name itself is never stored
			t.Errorf("%q: values = %q, want %q", tt.in, got, tt.want)
		}
	}
	// Without the option the full name is dropped and names stay as given.
	r := process(t, newValidator(t, crm.Options{}), row(map[string]string{"full_name": "Ada Lovelace", "email": "ada@x.io"}))[0]
	if got, want := values(r), map[string]string{"email": "ada@x.io"}; !equalMaps(got, want) {
		t.Errorf("without split_full_name: values = %q, want %q", got, want)
	}
}

// The email rule of SPEC §4 as the validate stage applies it: an invalid email skips the row.
func TestEmailRule(t *testing.T) {
	valid := []string{"a@b.co", "first.last+tag@sub.example.org", "O'Neil@example.IE", "ü@example.com",
		"x@a-b.example", "1@2.io", "a@xn--bcher-kva.example"}
	invalid := []string{"a@b", "@b.co", "a b@c.co", "a@b.c", "a@b..co", "a@-b.co", "a@b-.co", "a@b.co.",
		"a@b_c.co", "a@b.c0", "a@@b.co", "a@b@c.co", "a@bü.com", "a\u00a0b@c.co", ".@", "a@.co",
		strings.Repeat("a", 250) + "@b.co"}
	v := newValidator(t, crm.Options{})
	for _, e := range valid {
		if r := process(t, v, row(map[string]string{"email": e}))[0]; r.Skipped() || r.Values[cat.Index("email")] != e {
			t.Errorf("%q: skipped %q, value %q; want valid and kept as is", e, r.SkipReason, r.Values[cat.Index("email")])
		}
	}
	for _, e := range invalid {
		if r := process(t, v, row(map[string]string{"email": e, "first_name": "F"}))[0]; r.SkipReason != pipeline.ReasonInvalidEmail {
			t.Errorf("%q: skip %q, want invalid_email", e, r.SkipReason)
		}
	}
}

// rulesOf returns the prospects kind's row rules for a catalog and options.
func rulesOf(c *crm.Catalog, o crm.Options) validate.Rules {
	return prospects.Kind{}.Rules(&kind.Plan{Catalog: c, Options: o})
}

// BenchmarkValidate validates batches of 1,000 rows shaped like the bench file's: the 14
// columns of cmd/leadpipe-bench's generated prospects, one email in a hundred invalid.
func BenchmarkValidate(b *testing.B) {
	header := []string{"Email", "First Name", "Last Name", "Title", "Phone", "Mobile", "Company", "Website",
		"Street", "City", "State", "Postal Code", "Country", "Lead Source"}
	sample := []string{"sarah.allen1@ironretail.co.uk", "Sarah", "Allen", "VP Sales", "+1 712 129 2373", "+1 978 925 3901",
		"Bright Retail", "www.brightretail.com", "9473 Highland Ave", "San Francisco", "CA", "94141", "United States", "Web Form"}
	template := make([]pipeline.Row, 1000)
	for i := range template {
		vals := map[string]string{}
		for col, h := range header {
			if f := cat.AutoMap(h); f >= 0 {
				vals[cat.Fields[f].Key] = sample[col]
			}
		}
		if i%100 == 0 {
			vals["email"] = "not-an-email"
		}
		template[i] = row(vals)
	}
	v, err := validate.New(cat, users, crm.Options{}, rulesOf(cat, crm.Options{}))
	if err != nil {
		b.Fatal(err)
	}
	rows := make([]pipeline.Row, len(template))
	values := make([]string, len(template)*len(cat.Fields))
	b.ReportAllocs()
	for b.Loop() {
		for i, r := range template {
			vals := values[i*len(cat.Fields) : (i+1)*len(cat.Fields)]
			copy(vals, r.Values)
			rows[i] = pipeline.Row{Number: r.Number, Values: vals}
		}
		if err := v.Process(context.Background(), &pipeline.Batch{Rows: rows}); err != nil {
			b.Fatal(err)
		}
	}
}
