// Package prospects is the prospects kind: the people an account markets to. It holds what a
// prospect import knows beyond the engine — the prospect fields, the row rules, matching by
// email, unique identifier or name (SPEC §6), the prospect limit (SPEC §10), organization
// linking (SPEC §7), lists, tags and campaigns (SPEC §8), and the batch writer.
package prospects

import (
	"context"
	"strings"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/kind"
	"github.com/leadpipe/leadpipe/kinds/internal/kindopts"
	"github.com/leadpipe/leadpipe/kinds/internal/orglink"
	"github.com/leadpipe/leadpipe/kinds/internal/undo"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/stages/validate"
	"github.com/leadpipe/leadpipe/store"
)

// Kind is the prospects kind.
type Kind struct{}

var _ kind.Kind = Kind{}

// Name implements kind.Kind.
func (Kind) Name() string { return "prospects" }

// Noun implements kind.Kind.
func (Kind) Noun() string { return "prospect" }

// StandardFields implements kind.Kind.
func (Kind) StandardFields() []crm.Field { return standardFields() }

// CheckOptions implements kind.Kind: every option applies to prospects.
func (Kind) CheckOptions(crm.Options, *crm.Catalog) []string { return nil }

// OptionNames implements kind.Kind: every option applies to prospects.
func (Kind) OptionNames() []string { return kindopts.Applying(kindopts.Optional()...) }

// Counters implements kind.Kind: the counters of organization linking (orglink.Counters).
func (Kind) Counters() []string { return orglink.Counters() }

// OverLimit implements kind.Kind.
func (Kind) OverLimit(a store.Account, dataRows int) bool { return overLimit(a, dataRows) }

// Prepare implements kind.Kind: it builds the lookup index that matching by the unique
// identifier or by name needs (store.EnsureLookupIndexes).
func (Kind) Prepare(ctx context.Context, db store.Querier, p *kind.Plan) error {
	o := p.Options
	if o.UniqueIdentifier == "" && !o.MatchByName {
		return nil
	}
	return store.EnsureLookupIndexes(ctx, db, p.Catalog, p.Account.ID, p.Catalog.Index(o.UniqueIdentifier), o.MatchByName)
}

// Rules implements kind.Kind.
func (Kind) Rules(p *kind.Plan) validate.Rules { return newRules(p.Catalog, p.Options) }

// Writer implements kind.Kind.
func (Kind) Writer(p *kind.Plan) pipeline.Writer { return newWriter(p) }

// Undoer implements kind.Kind: a prospect is kept while a deal or an object record links to
// it, or another import put it in a list, tag or campaign; the import's memberships go, the
// prospect count goes down, and an old email another prospect holds now is kept.
func (Kind) Undoer(p *kind.Plan) pipeline.Writer {
	return undo.NewWriter(p, undo.Kind{Table: store.ProspectUndoTable(), LinkedBy: store.LinksToProspects, Prospects: true,
		Unique: &undo.Unique{Field: crm.FieldEmail, Key: strings.ToLower, Holders: store.EmailHolders, Free: store.ClearEmails}})
}

// Records implements kind.Kind.
func (Kind) Records(ctx context.Context, q store.Querier, p *kind.Plan, ids []int64) ([]store.Record, error) {
	return store.ProspectsByID(ctx, q, p.Catalog, p.Account.ID, ids)
}
