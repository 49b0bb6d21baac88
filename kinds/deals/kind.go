// Package deals is the deals kind: an account's sales opportunities. A deal has a name, an
// amount, a stage among the account's deal stages, a close date, an owner (SPEC §9), an
// organization (linked or created, SPEC §7) and a prospect, which a deal import links by the
// prospect's email, else by first and last name, and never creates. A row matches a deal by the
// unique_identifier option's field, else by name within the row's organization.
package deals

import (
	"context"
	"fmt"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/kind"
	"github.com/leadpipe/leadpipe/kinds/internal/kindopts"
	"github.com/leadpipe/leadpipe/kinds/internal/orglink"
	"github.com/leadpipe/leadpipe/kinds/internal/prospectlink"
	"github.com/leadpipe/leadpipe/kinds/internal/undo"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/stages/validate"
	"github.com/leadpipe/leadpipe/store"
)

// WarnProspectNotFound is the field warning of a row whose prospect (by email, else by name)
// is none of the account's: the deal is imported without a prospect, and none is created.
const WarnProspectNotFound = prospectlink.WarnProspectNotFound

// Kind is the deals kind.
type Kind struct{}

var (
	_ kind.Kind           = Kind{}
	_ kind.AccountFielder = Kind{}
)

// Name implements kind.Kind.
func (Kind) Name() string { return "deals" }

// Noun implements kind.Kind.
func (Kind) Noun() string { return "deal" }

// StandardFields implements kind.Kind: the deal fields with the default stages.
func (Kind) StandardFields() []crm.Field { return Fields(crm.DefaultDealStages()) }

// AccountFields implements kind.AccountFielder: the deal fields with the account's stages.
func (Kind) AccountFields(ctx context.Context, q store.Querier, accountID int64) ([]crm.Field, error) {
	stages, err := store.DealStages(ctx, q, accountID)
	if err != nil {
		return nil, err
	}
	return Fields(stages), nil
}

// notIdentifying are the deal fields many deals share, which would merge unrelated deals if
// rows matched by them, and the prospect fields, which name the deal's prospect, not the deal.
var notIdentifying = map[string]string{
	crm.FieldAmount:            "many deals share an amount",
	crm.FieldCloseDate:         "many deals share a close date",
	crm.FieldStage:             "many deals share a stage",
	crm.FieldProspect:          "it names the deal's prospect, not the deal",
	crm.FieldProspectFirstName: "it names the deal's prospect, not the deal",
	crm.FieldProspectLastName:  "it names the deal's prospect, not the deal",
}

// notStored are the fields that name a deal's prospect; the prospect link holds what they
// resolve to, under its own policy.
var notStored = []string{crm.FieldProspectEmail, crm.FieldProspectFirstName, crm.FieldProspectLastName}

// CheckOptions implements kind.Kind: the prospect-only options are refused (a deal takes an
// owner), the unique identifier must identify a deal, and the fields that name the prospect
// take no policy.
func (k Kind) CheckOptions(o crm.Options, _ *crm.Catalog) []string {
	problems := kindopts.Refuse(o, k.Name(), takes...)
	if why, ok := notIdentifying[o.UniqueIdentifier]; ok {
		problems = append(problems, fmt.Sprintf("unique_identifier: field %q cannot identify a deal: %s", o.UniqueIdentifier, why))
	}
	for _, key := range notStored {
		if _, ok := o.FieldPolicies[key]; ok {
			problems = append(problems, fmt.Sprintf("field_policies: %q is not stored, it names the deal's prospect: set the policy of %q", key, crm.FieldProspect))
		}
	}
	return problems
}

// takes are the options only some kinds take that a deal import takes: its owner.
var takes = []string{"owner"}

// OptionNames implements kind.Kind.
func (Kind) OptionNames() []string { return kindopts.Applying(takes...) }

// Counters implements kind.Kind: the counters of organization linking (orglink.Counters).
func (Kind) Counters() []string { return orglink.Counters() }

// OverLimit implements kind.Kind: an account has no limit of deals.
func (Kind) OverLimit(store.Account, int) bool { return false }

// Prepare implements kind.Kind: it builds the lookup index of the account's deals by the unique
// identifier, and the index of its prospects by name when a column gives a prospect's name
// (store.EnsureLookupIndexes): only then, because every prospect the account writes afterwards
// pays for that index.
func (Kind) Prepare(ctx context.Context, db store.Querier, p *kind.Plan) error {
	c, o := p.Catalog, p.Options
	if k := o.UniqueIdentifier; k != "" {
		if err := store.EnsureDealLookupIndex(ctx, db, c, p.Account.ID, c.Index(k)); err != nil {
			return err
		}
	}
	if !linksByName(p) {
		return nil
	}
	return store.EnsureLookupIndexes(ctx, db, nil, p.Account.ID, -1, true)
}

// linksByName reports whether rows of the plan may link their prospect by name.
func linksByName(p *kind.Plan) bool {
	return p.Options.PolicyFor(crm.FieldProspect) != crm.Ignore && p.Mapped != nil &&
		(p.Mapped(crm.FieldProspectFirstName) || p.Mapped(crm.FieldProspectLastName))
}

// Rules implements kind.Kind.
func (Kind) Rules(p *kind.Plan) validate.Rules { return newRules(p.Catalog, p.Options) }

// Writer implements kind.Kind.
func (Kind) Writer(p *kind.Plan) pipeline.Writer { return newWriter(p) }

// Undoer implements kind.Kind: nothing links to a deal; the organizations a deal import
// created go when nothing links to them any more.
func (Kind) Undoer(p *kind.Plan) pipeline.Writer {
	return undo.NewWriter(p, undo.Kind{Table: store.DealUndoTable()})
}

// Records implements kind.Kind.
func (Kind) Records(ctx context.Context, q store.Querier, p *kind.Plan, ids []int64) ([]store.Record, error) {
	return store.DealsByID(ctx, q, p.Catalog, p.Account.ID, ids)
}
