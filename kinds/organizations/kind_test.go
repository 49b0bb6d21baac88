package organizations

import (
	"slices"
	"testing"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/kind"
)

// The catalog holds the keys the organizations table's columns store, custom fields after them.
func TestCatalog(t *testing.T) {
	c := kind.NewCatalog(Kind{}, []crm.Field{{Key: "crm_id", Label: "CRM Id", Type: crm.Text}})
	if c.Noun != "organization" || c.Index("industry") != 9 || c.Index("crm_id") != 10 || !c.HasCustom() || c.AutoMap("Company Name") != 0 {
		t.Errorf("organization catalog: noun %q, industry %d, crm_id %d, custom %v, Company Name → %d",
			c.Noun, c.Index("industry"), c.Index("crm_id"), c.HasCustom(), c.AutoMap("Company Name"))
	}
}

// Options that only prospects use are refused, each by name; the others pass.
func TestCheckOptions(t *testing.T) {
	c := kind.NewCatalog(Kind{}, nil)
	got := Kind{}.CheckOptions(crm.Options{List: "L", Tags: []string{"t"}, Campaign: "C", LeadSource: "S", Owner: "o",
		MatchByName: true, SplitFullName: true, UniqueIdentifier: "phone", CreateNew: new(bool)}, c)
	want := []string{
		`list: does not apply to an import of kind "organizations"`,
		`tags: does not apply to an import of kind "organizations"`,
		`campaign: does not apply to an import of kind "organizations"`,
		`lead_source: does not apply to an import of kind "organizations"`,
		`owner: does not apply to an import of kind "organizations"`,
		`match_by_name: does not apply to an import of kind "organizations"`,
		`split_full_name: does not apply to an import of kind "organizations"`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("CheckOptions =\n%q\nwant\n%q", got, want)
	}
	if got := (Kind{}).CheckOptions(crm.Options{UniqueIdentifier: "domain", Mapping: map[string]string{"Co": "name"}}, c); got != nil {
		t.Errorf("CheckOptions(organization options) = %q, want none", got)
	}
}
