// Package organizations is the organizations kind: the companies of an account, imported as
// records of their own (issue 11). It holds what an organization import knows beyond the
// engine — the organization fields, the options that apply, the row rules (a canonical domain,
// an identifier), matching by unique identifier, normalised name or domain (SPEC §7), and the
// batch writer. docs/kinds.md walks through it as the worked example of a kind.
package organizations

import (
	"context"
	"slices"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/kind"
	"github.com/leadpipe/leadpipe/kinds/internal/kindopts"
	"github.com/leadpipe/leadpipe/kinds/internal/postal"
	"github.com/leadpipe/leadpipe/kinds/internal/undo"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/stages/validate"
	"github.com/leadpipe/leadpipe/store"
)

// Kind is the organizations kind.
type Kind struct{}

var _ kind.Kind = Kind{}

// Name implements kind.Kind.
func (Kind) Name() string { return "organizations" }

// Noun implements kind.Kind.
func (Kind) Noun() string { return "organization" }

// StandardFields implements kind.Kind: the columns of the organizations table.
func (Kind) StandardFields() []crm.Field { return standardFields() }

// standardFields are the organization fields every account has, in the order of the
// organizations table's columns. Domain is a match key (SPEC §7), stored canonical: the host
// crm.WebsiteDomain gives.
func standardFields() []crm.Field {
	return slices.Concat([]crm.Field{
		{Key: crm.FieldName, Label: "Name", Type: crm.Text, MaxLength: 255, Aliases: []string{"Organization", "Organization Name", "Organisation", "Company", "Company Name", "Account Name"}, Example: "Example Inc"},
		{Key: crm.FieldDomain, Label: "Domain", Type: crm.Text, MaxLength: 255, Aliases: []string{"Company Domain", "Domain Name"}, Example: "example.com"},
		{Key: crm.FieldWebsite, Label: "Website", Type: crm.Text, MaxLength: 255, Aliases: []string{"Web Site", "URL", "Web", "Company Website"}, Example: "https://www.example.com"},
		{Key: "phone", Label: "Phone", Type: crm.Phone, MaxLength: 40, Aliases: []string{"Phone Number", "Telephone", "Tel", "Main Phone"}},
	}, postal.Fields(), []crm.Field{
		{Key: "industry", Label: "Industry", Type: crm.Text, MaxLength: 100, Aliases: []string{"Sector"}, Example: "Software"},
	})
}

// CheckOptions implements kind.Kind: the options about prospects' groupings, owner and names
// do not apply to organizations, and are refused rather than ignored.
func (k Kind) CheckOptions(o crm.Options, _ *crm.Catalog) []string {
	return kindopts.Refuse(o, k.Name(), takes...)
}

// takes are the options only some kinds take that an organization import takes: none.
var takes []string

// OptionNames implements kind.Kind.
func (Kind) OptionNames() []string { return kindopts.Applying(takes...) }

// Counters implements kind.Kind: an organization import counts nothing but its rows.
func (Kind) Counters() []string { return nil }

// OverLimit implements kind.Kind: the prospect limit does not bound organizations.
func (Kind) OverLimit(store.Account, int) bool { return false }

// Prepare implements kind.Kind: matching by a unique identifier needs the account in its lookup
// index (store.EnsureOrganizationLookupIndex); names and domains have theirs in the schema.
func (Kind) Prepare(ctx context.Context, db store.Querier, p *kind.Plan) error {
	if p.Options.UniqueIdentifier == "" {
		return nil
	}
	return store.EnsureOrganizationLookupIndex(ctx, db, p.Catalog, p.Account.ID, p.Catalog.Index(p.Options.UniqueIdentifier))
}

// Rules implements kind.Kind.
func (Kind) Rules(p *kind.Plan) validate.Rules { return newRules(p.Catalog, p.Options) }

// Writer implements kind.Kind.
func (Kind) Writer(p *kind.Plan) pipeline.Writer { return newWriter(p) }

// Undoer implements kind.Kind: an organization is kept while a prospect or a deal links to it.
func (Kind) Undoer(p *kind.Plan) pipeline.Writer {
	return undo.NewWriter(p, undo.Kind{Table: store.OrganizationUndoTable(), LinkedBy: store.LinksToOrganizations})
}

// Records implements kind.Kind.
func (Kind) Records(ctx context.Context, q store.Querier, p *kind.Plan, ids []int64) ([]store.Record, error) {
	return store.OrganizationsByID(ctx, q, p.Catalog, p.Account.ID, ids)
}
