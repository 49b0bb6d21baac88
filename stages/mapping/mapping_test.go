package mapping_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/kind"
	"github.com/leadpipe/leadpipe/kinds/prospects"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/stages/mapping"
)

func catalog() *crm.Catalog {
	return kind.NewCatalog(prospects.Kind{}, []crm.Field{
		{Key: "crm_id", Label: "CRM ID", Type: crm.Text, MaxLength: 40},
		{Key: "industry", Label: "Sector", Type: crm.Picklist, Options: []string{"Retail", "Tech"}, Aliases: []string{"Vertical"}},
	})
}

func TestNewColumns(t *testing.T) {
	const (
		auto     = "auto"
		explicit = "explicit"
		noField  = "no matching field"
		nothing  = "mapped to nothing"
		notSplit = "full name not split (set split_full_name)"
	)
	tests := []struct {
		name     string
		header   []string
		opts     crm.Options
		want     []mapping.Column
		unmapped []string
	}{
		{
			name:   "auto by key, label and alias, normalised",
			header: []string{"E-mail Address", "first name", "SURNAME", "Company Name", "Lead Owner", "job_title", "Favourite Colour", "crm id", "Vertical", "ZIP/Postal Code", "Email Opt-In"},
			want: []mapping.Column{
				{"E-mail Address", "email", auto}, {"first name", "first_name", auto}, {"SURNAME", "last_name", auto},
				{"Company Name", "organization", auto}, {"Lead Owner", "lead_owner", auto}, {"job_title", "title", auto},
				{"Favourite Colour", "", noField}, {"crm id", "crm_id", auto}, {"Vertical", "industry", auto},
				{"ZIP/Postal Code", "postal_code", auto}, {"Email Opt-In", "email_opt_in", auto},
			},
			unmapped: []string{"Favourite Colour"},
		},
		{
			name:   "custom field by label",
			header: []string{"Email", "sector"},
			want:   []mapping.Column{{"Email", "email", auto}, {"sector", "industry", auto}},
		},
		{
			name:   "explicit mapping overrides auto-mapping, empty key maps to nothing",
			header: []string{"Email", "Job Title", "Favourite Colour", "Owner"},
			opts:   crm.Options{Mapping: map[string]string{"Favourite Colour": "title", "Job Title": "", " Owner ": "crm_id"}},
			want: []mapping.Column{
				{"Email", "email", auto}, {"Job Title", "", nothing}, {"Favourite Colour", "title", explicit}, {"Owner", "crm_id", explicit},
			},
			unmapped: []string{"Job Title"},
		},
		{
			name:   "duplicate columns: the first one wins",
			header: []string{"Email", "email", "Company", "Organization", "E-mail"},
			want: []mapping.Column{
				{"Email", "email", auto}, {"email", "", "duplicate of column 1 (Email)"},
				{"Company", "organization", auto}, {"Organization", "", "duplicate of column 3 (Company)"},
				{"E-mail", "", "duplicate of column 1 (Email)"},
			},
			unmapped: []string{"email", "Organization", "E-mail"},
		},
		{
			name:     "an explicit column taken, a later auto column is the duplicate",
			header:   []string{"Work Email", "Email"},
			opts:     crm.Options{Mapping: map[string]string{"Work Email": "email"}},
			want:     []mapping.Column{{"Work Email", "email", explicit}, {"Email", "", "duplicate of column 1 (Work Email)"}},
			unmapped: []string{"Email"},
		},
		{
			name:     "full name is not split by default",
			header:   []string{"Full Name", "Phone"},
			want:     []mapping.Column{{"Full Name", "", notSplit}, {"Phone", "phone", auto}},
			unmapped: []string{"Full Name"},
		},
		{
			name:   "full name alone, split_full_name on",
			header: []string{"Name"},
			opts:   crm.Options{SplitFullName: true},
			want:   []mapping.Column{{"Name", "full_name", auto}},
		},
		{
			name:   "explicit full name, split on",
			header: []string{"Contact Person", "Email"},
			opts:   crm.Options{SplitFullName: true, Mapping: map[string]string{"Contact Person": "full_name"}},
			want:   []mapping.Column{{"Contact Person", "full_name", explicit}, {"Email", "email", auto}},
		},
		{
			name:     "explicit mapping to full name, split off",
			header:   []string{"Contact Person", "Email"},
			opts:     crm.Options{Mapping: map[string]string{"Contact Person": "full_name"}},
			want:     []mapping.Column{{"Contact Person", "", notSplit}, {"Email", "email", auto}},
			unmapped: []string{"Contact Person"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := mapping.New(catalog(), tt.header, tt.opts)
			if err != nil {
				t.Fatalf("New(%q) error: %v", tt.header, err)
			}
			if got := m.Columns(); !slices.Equal(got, tt.want) {
				t.Errorf("Columns() =\n  %+v\nwant\n  %+v", got, tt.want)
			}
			got := m.Unmapped()
			if len(got) != len(tt.unmapped) || (len(got) > 0 && !slices.Equal(got, tt.unmapped)) {
				t.Errorf("Unmapped() = %q, want %q", got, tt.unmapped)
			}
		})
	}
}

// SPEC §3: an explicit mapping overrides auto-mapping. Mapping a later column to a field an
// earlier column auto-maps to must move the field to the explicit column, not fail the import
// as if the user had mapped two columns to one field.
func TestNewExplicitMappingBeatsEarlierAutoMappedColumn(t *testing.T) {
	for _, header := range [][]string{{"Email", "Work Email"}, {"Phone Number", "Mobile", "Tel"}} {
		target, field := header[len(header)-1], "email"
		if header[0] == "Phone Number" {
			field = "phone"
		}
		opts := crm.Options{Mapping: map[string]string{target: field}}
		m, err := mapping.New(catalog(), header, opts)
		if err != nil {
			t.Errorf("New(%q, mapping %v) error: %v; want the explicit column to win", header, opts.Mapping, err)
			continue
		}
		cols := m.Columns()
		if last := cols[len(cols)-1]; last.Field != field || last.How != "explicit" {
			t.Errorf("New(%q): explicit column = %+v, want field %q explicit", header, last, field)
		}
		if cols[0].Field != "" {
			t.Errorf("New(%q): auto column %+v still maps to %q", header, cols[0], cols[0].Field)
		}
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name   string
		header []string
		opts   crm.Options
		want   []string // substrings of the error
	}{
		{"explicit mapping names a missing column", []string{"Email", "First Name"},
			crm.Options{Mapping: map[string]string{"Emial": "email"}},
			[]string{`no column "Emial"`, "Email, First Name"}},
		{"explicit header match is exact", []string{"Email"},
			crm.Options{Mapping: map[string]string{"email": "email"}},
			[]string{`no column "email"`}},
		{"two explicit columns to one field", []string{"A", "B"},
			crm.Options{Mapping: map[string]string{"A": "title", "B": "title"}},
			[]string{`columns "A" and "B" both map to field "title"`}},
		{"no column maps", []string{"Foo", "Bar Baz"}, crm.Options{},
			[]string{"no column of the header maps to a prospect field", "Foo, Bar Baz"}},
		{"every column mapped to nothing", []string{"Email"}, crm.Options{Mapping: map[string]string{"Email": ""}},
			[]string{"no column of the header maps"}},
		{"full name only, not split", []string{"Full Name"}, crm.Options{},
			[]string{"no column of the header maps"}},
		{"empty header", nil, crm.Options{}, []string{"no column of the header maps"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := mapping.New(catalog(), tt.header, tt.opts)
			if err == nil {
				t.Fatalf("New(%q) = %+v, want an error", tt.header, m.Columns())
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// The error names the kind's record with its article: "an organization field".
func TestNoColumnNamesTheKind(t *testing.T) {
	c := crm.NewCatalog("organization", []crm.Field{{Key: "name", Label: "Name", Type: crm.Text}}, nil)
	_, err := mapping.New(c, []string{"Foo"}, crm.Options{})
	if err == nil || !strings.Contains(err.Error(), "no column of the header maps to an organization field (columns: Foo)") {
		t.Errorf("error %v, want it to name an organization field", err)
	}
}

func TestProcess(t *testing.T) {
	c := catalog()
	header := []string{"Email", "Notes", "First Name", "crm id"}
	m, err := mapping.New(c, header, crm.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := &pipeline.Batch{Rows: []pipeline.Row{
		{Number: 2, Cells: []string{"  ann@example.com\t", "ignored", " Ann ", " X-1 "}},
		{Number: 3, Cells: []string{"bad row", "", "", "", "extra"}},
		{Number: 5, Cells: []string{"cy@example.com"}}, // short row: missing cells are empty
		{Number: 6, Cells: []string{"", "", "", ""}},
	}}
	b.Rows[1].Skip(pipeline.ReasonMalformedRow, "5 cells, header has 4")
	if err := m.Process(context.Background(), b); err != nil {
		t.Fatalf("Process: %v", err)
	}
	email, first, crmID := c.Index("email"), c.Index("first_name"), c.Index("crm_id")
	want := func(vals map[int]string) []string {
		v := make([]string, len(c.Fields))
		for i, s := range vals {
			v[i] = s
		}
		return v
	}
	if got, w := b.Rows[0].Values, want(map[int]string{email: "ann@example.com", first: "Ann", crmID: "X-1"}); !slices.Equal(got, w) {
		t.Errorf("row 2 values = %q, want %q", got, w)
	}
	if b.Rows[1].Values != nil {
		t.Errorf("skipped row got values %q; it must be left alone", b.Rows[1].Values)
	}
	if b.Rows[1].SkipReason != pipeline.ReasonMalformedRow || b.Rows[1].Outcome != pipeline.Skipped {
		t.Errorf("skipped row changed: %+v", b.Rows[1])
	}
	if got, w := b.Rows[2].Values, want(map[int]string{email: "cy@example.com"}); !slices.Equal(got, w) {
		t.Errorf("short row values = %q, want %q", got, w)
	}
	if got, w := b.Rows[3].Values, want(nil); !slices.Equal(got, w) {
		t.Errorf("empty row values = %q, want all empty", got)
	}
	// Cells are kept as read, for the skipped-rows report.
	if b.Rows[0].Cells[0] != "  ann@example.com\t" {
		t.Errorf("cells changed: %q", b.Rows[0].Cells)
	}
	// Rows share one backing array; appending to one row's values must not write into the next.
	before := slices.Clone(b.Rows[2].Values)
	_ = append(b.Rows[0].Values, "spill")
	if !slices.Equal(b.Rows[2].Values, before) {
		t.Errorf("appending to row 2's values changed row 5's values")
	}
	for i, r := range b.Rows {
		if r.Values != nil && len(r.Values) != len(c.Fields) {
			t.Errorf("row %d has %d values, want %d", i, len(r.Values), len(c.Fields))
		}
	}
}

func TestProcessSplitFullNameColumn(t *testing.T) {
	c := catalog()
	m, err := mapping.New(c, []string{"Name", "Vertical"}, crm.Options{SplitFullName: true})
	if err != nil {
		t.Fatal(err)
	}
	b := &pipeline.Batch{Rows: []pipeline.Row{{Number: 2, Cells: []string{" Ada  Lovelace ", " tech "}}}}
	if err := m.Process(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	// The map stage only copies; validate splits the name and canonicalises the picklist.
	if got := b.Rows[0].Values[c.Index("full_name")]; got != "Ada  Lovelace" {
		t.Errorf("full_name = %q, want %q", got, "Ada  Lovelace")
	}
	if got := b.Rows[0].Values[c.Index("industry")]; got != "tech" {
		t.Errorf("industry = %q, want %q", got, "tech")
	}
}

// A spreadsheet number cell feeds a number field its typed value and every other field what
// the user saw; a text cell (no typed value) feeds both as it is.
func TestProcessTypedValues(t *testing.T) {
	c := kind.NewCatalog(prospects.Kind{}, []crm.Field{
		{Key: "score", Label: "Score", Type: crm.Number},
		{Key: "shown", Label: "Shown", Type: crm.Text, MaxLength: 40},
	})
	m, err := mapping.New(c, []string{"Email", "Score", "Shown"}, crm.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := &pipeline.Batch{Rows: []pipeline.Row{
		{Number: 2, Cells: []string{"a@example.com", "25.00%", "$1,200.00"}, Typed: []string{"", "0.25", "1200"}},
		{Number: 3, Cells: []string{"b@example.com", "1,5", "1.23E+04"}}, // text cells, as typed
		{Number: 4, Cells: []string{"c@example.com", "7", "02134"}, Typed: []string{"", "", "2134"}},
	}}
	if err := m.Process(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	score, shown := c.Index("score"), c.Index("shown")
	for i, want := range [][2]string{{"0.25", "$1,200.00"}, {"1,5", "1.23E+04"}, {"7", "02134"}} {
		if got := [2]string{b.Rows[i].Values[score], b.Rows[i].Values[shown]}; got != want {
			t.Errorf("row %d: score, shown = %q, want %q", b.Rows[i].Number, got, want)
		}
	}
}
