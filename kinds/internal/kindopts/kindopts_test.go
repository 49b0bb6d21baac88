package kindopts

import (
	"slices"
	"testing"

	"github.com/leadpipe/leadpipe/crm"
)

// Each option set that the kind does not take is refused, in a fixed order; the ones it takes
// and the ones every kind takes pass.
func TestRefuse(t *testing.T) {
	all := crm.Options{List: "L", Tags: []string{"t"}, Campaign: "C", LeadSource: "S", Owner: "o",
		MatchByName: true, SplitFullName: true, UniqueIdentifier: "x", CreateNew: new(bool), Sheet: "s"}
	got := Refuse(all, "deals", "owner")
	want := []string{
		`list: does not apply to an import of kind "deals"`,
		`tags: does not apply to an import of kind "deals"`,
		`campaign: does not apply to an import of kind "deals"`,
		`lead_source: does not apply to an import of kind "deals"`,
		`match_by_name: does not apply to an import of kind "deals"`,
		`split_full_name: does not apply to an import of kind "deals"`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("Refuse =\n%q\nwant\n%q", got, want)
	}
	if got := Refuse(crm.Options{Owner: "o"}, "organizations"); !slices.Equal(got, []string{`owner: does not apply to an import of kind "organizations"`}) {
		t.Errorf("Refuse(owner) = %q", got)
	}
	if got := Refuse(crm.Options{UniqueIdentifier: "x", Sheet: "s", CreateNew: new(bool)}, "organizations"); got != nil {
		t.Errorf("Refuse(options every kind takes) = %q, want none", got)
	}
}

// Applying lists crm.Options' members in their order: those every kind takes, and of the
// optional ones only those taken; never kinds.
func TestApplying(t *testing.T) {
	for _, c := range []struct {
		takes []string
		want  []string
	}{
		{nil, []string{"mapping", "unique_identifier", "field_policies", "create_new", "update_existing", "sheet", "saved_mapping"}},
		{[]string{"owner"}, []string{"mapping", "unique_identifier", "field_policies", "owner", "create_new", "update_existing", "sheet", "saved_mapping"}},
		{Optional(), []string{"mapping", "unique_identifier", "field_policies", "list", "tags", "owner", "campaign", "lead_source",
			"match_by_name", "create_new", "update_existing", "split_full_name", "sheet", "saved_mapping"}},
	} {
		if got := Applying(c.takes...); !slices.Equal(got, c.want) {
			t.Errorf("Applying(%q) =\n%q\nwant\n%q", c.takes, got, c.want)
		}
	}
}
