package importer

import (
	"context"
	"fmt"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/kind"
	"github.com/leadpipe/leadpipe/kinds/deals"
	"github.com/leadpipe/leadpipe/kinds/objects"
	"github.com/leadpipe/leadpipe/kinds/organizations"
	"github.com/leadpipe/leadpipe/kinds/prospects"
	"github.com/leadpipe/leadpipe/stages/mapping"
	"github.com/leadpipe/leadpipe/stages/validate"
	"github.com/leadpipe/leadpipe/store"
)

// kinds are the kinds of record leadpipe imports; the first is the default. A new kind is
// registered here, and nowhere else. Each account's custom object types are kinds of that
// account's imports too, named by their keys.
var kinds = kind.NewRegistry(prospects.Kind{}, organizations.Kind{}, deals.Kind{}).Defining(objects.Kinds)

// Kinds lists the kinds every account's imports may be of.
func Kinds() []string { return kinds.Names() }

// ErrUnknownKind is the error of a request that names a kind no import of its account may be
// of (with crm.ErrInvalidOptions).
var ErrUnknownKind = kind.ErrUnknown

// KindOf returns the kind named name ("" is the default kind) for an account's imports: a
// built-in kind or one of the account's object types.
func KindOf(ctx context.Context, q store.Querier, accountID int64, name string) (kind.Kind, error) {
	return kinds.Lookup(ctx, q, accountID, name)
}

// CheckField checks the definition of a new custom field of kind k against the kind's
// standard fields (crm.CheckCustomField).
func CheckField(k kind.Kind, f crm.Field) error {
	return crm.CheckCustomField(f, k.StandardFields())
}

// plan is one import's plan: what its kind works from (kind.Plan), the stages built from it,
// and the file when the check that made the plan left it open.
type plan struct {
	kind.Plan
	mapper    *mapping.Mapper
	validator *validate.Validator
	// prepared is set once the kind has prepared the database for the import.
	prepared bool
	// in is the file as the check opened it, its reader standing at the first data row not yet
	// read; nil, or closed, when a run must open the file itself.
	in *openFile
}

// newPlan loads what an import of kind k into an account works from — the catalog of the kind,
// the account's users — checks the options against them, and builds the stages for a file
// with that header. Each is loaded once per import.
func newPlan(ctx context.Context, q store.Querier, acct store.Account, k kind.Kind, header []string, o crm.Options) (*plan, error) {
	kp, err := checkedKindPlan(ctx, q, acct, k, o)
	if err != nil {
		return nil, err
	}
	mapper, err := mapping.New(kp.Catalog, header, o)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadFile, err)
	}
	kp.Mapped = mapper.Mapped
	p := &plan{Plan: kp, mapper: mapper}
	p.validator, err = validate.New(kp.Catalog, kp.Users, o, k.Rules(&p.Plan))
	if err != nil {
		return nil, err
	}
	return p, nil
}

// checkedKindPlan is kindPlan, with the options checked against the kind's catalog and by the
// kind itself.
func checkedKindPlan(ctx context.Context, q store.Querier, acct store.Account, k kind.Kind, o crm.Options) (kind.Plan, error) {
	kp, err := kindPlan(ctx, q, acct, k, o)
	if err != nil {
		return kind.Plan{}, err
	}
	if err := o.Check(kp.Catalog, k.CheckOptions(o, kp.Catalog)...); err != nil {
		return kind.Plan{}, err
	}
	return kp, nil
}

// kindPlan loads what an import of kind k into an account with options o works from, as its
// kind sees it: the kind's catalog in the account and the account's users.
func kindPlan(ctx context.Context, q store.Querier, acct store.Account, k kind.Kind, o crm.Options) (kind.Plan, error) {
	catalog, err := kind.Catalog(ctx, q, k, acct.ID)
	if err != nil {
		return kind.Plan{}, err
	}
	users, err := store.Users(ctx, q, acct.ID)
	if err != nil {
		return kind.Plan{}, err
	}
	return kind.Plan{Kind: k, Account: acct, Catalog: catalog, Options: o, Users: users}, nil
}

// recorded returns the account, kind and options a recorded import was checked with.
func (im *Importer) recorded(ctx context.Context, imp store.Import) (store.Account, kind.Kind, crm.Options, error) {
	acct, err := store.AccountByID(ctx, im.Pool, imp.AccountID)
	if err != nil {
		return store.Account{}, nil, crm.Options{}, err
	}
	k, err := kinds.Lookup(ctx, im.Pool, acct.ID, imp.Kind)
	if err != nil {
		return store.Account{}, nil, crm.Options{}, err
	}
	o, err := crm.StoredOptions(imp.Options)
	return acct, k, o, err
}

// planOf plans a recorded import (queued, or to be resumed) from what was checked when it was
// submitted: its kind, options and header.
func (im *Importer) planOf(ctx context.Context, imp store.Import) (*plan, error) {
	acct, k, o, err := im.recorded(ctx, imp)
	if err != nil {
		return nil, err
	}
	p, err := newPlan(ctx, im.Pool, acct, k, imp.Header, o)
	if err != nil {
		return nil, err
	}
	p.ImportID = imp.ID
	return p, nil
}

// prepare has the kind prepare the database for the import (kind.Kind.Prepare), once per plan.
func (p *plan) prepare(ctx context.Context, db store.Querier) error {
	if p.prepared {
		return nil
	}
	if err := p.Kind.Prepare(ctx, db, &p.Plan); err != nil {
		return err
	}
	p.prepared = true
	return nil
}

// close closes the file the check left open, if any; it is idempotent.
func (p *plan) close() {
	if p.in != nil {
		p.in.close()
	}
}
