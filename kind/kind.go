// Package kind is the seam between the import engine and the kinds of CRM record it imports.
// A kind (prospects, organizations, …) says which standard fields it has, which options make
// sense for it, what to prepare in the database before a run, its row rules and how a batch is
// written; the engine (package importer over package pipeline) does the rest — reading,
// mapping, value rules, batching, the batch's transaction, outcomes, counts, checkpoints,
// resuming, dry runs — the same way for every kind. docs/kinds.md walks through it.
package kind

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/stages/validate"
	"github.com/leadpipe/leadpipe/store"
)

// Kind is one kind of record an import writes. Its methods are called by the engine, once per
// import unless said otherwise, and must not keep state between imports: what one import needs
// lives in what Writer returns.
type Kind interface {
	// Name is the kind as imports.kind stores it and as users ask for it: "prospects".
	Name() string
	// Noun names one record, for messages: "prospect".
	Noun() string
	// StandardFields are the kind's own fields, in the order of its table's columns; an
	// account's custom fields of the kind follow them in its catalog.
	StandardFields() []crm.Field
	// CheckOptions returns what is wrong with the import options for this kind, beyond the
	// checks every kind shares (crm.Options.Check), each problem naming its option.
	CheckOptions(o crm.Options, c *crm.Catalog) []string
	// OptionNames lists the JSON names of the import options (crm.Options' members) that apply
	// to the kind, in crm.Options' order: those CheckOptions does not refuse for being of
	// another kind. A client offers these (GET /v1/kinds).
	OptionNames() []string
	// Counters names the counters the kind's writer adds to (pipeline.Batch.Count); an import
	// reports each of them, zero when nothing was counted.
	Counters() []string
	// OverLimit reports the overage alert (SPEC §10) for a file of dataRows data rows.
	OverLimit(a store.Account, dataRows int) bool
	// Prepare readies the database for an import of the plan before its first batch, outside
	// any transaction (a lookup index its matching options need). It may block while that is
	// built, and is quick once it is.
	Prepare(ctx context.Context, db store.Querier, p *Plan) error
	// Rules returns the kind's row rules, run around the value rules of every field.
	Rules(p *Plan) validate.Rules
	// Writer returns the writer of the plan's batches; it is used by one run only.
	Writer(p *Plan) pipeline.Writer
	// Records returns the account's records of the kind with these ids, their values by the
	// plan's catalog, in id order; an id of no such record is left out.
	Records(ctx context.Context, q store.Querier, p *Plan, ids []int64) ([]store.Record, error)
	// Undoer returns the writer of the batches of an undo of the plan's import (p.ImportID is
	// the undone import's id; p.DryRun is set for a dry run). Each row of a batch carries the
	// import's row it takes back (pipeline.Row.Undoing), last row first, and only rows the
	// import created, updated or left unchanged. The writer takes each back — deletes the record
	// the row created, restores the fields it changed, removes the memberships it added — in
	// the engine's transaction, after taking the account's row lock (not in a dry run, which
	// is rolled back), and sets the row's Outcome
	// (pipeline.Deleted, Restored, KeptChangedSince or Unchanged), its EntityID, and the
	// Undoing's FieldsKept and Why. It must see, through tx, every write of the batches before.
	Undoer(p *Plan) pipeline.Writer
}

// AccountFielder is implemented by a kind whose standard fields depend on the account: the
// options of a deal's stage picklist are the account's deal stages. Catalog then takes the
// kind's standard fields from AccountFields instead of StandardFields, which stays the
// account-free set (what custom field keys are checked against).
type AccountFielder interface {
	// AccountFields returns the kind's standard fields in the account, in StandardFields' order.
	AccountFields(ctx context.Context, q store.Querier, accountID int64) ([]crm.Field, error)
}

// Plan is what an import of one kind into one account works from. The engine builds it once per
// run, before the first batch.
type Plan struct {
	Kind    Kind
	Account store.Account
	// Catalog is the kind's standard fields followed by the account's custom fields of it.
	Catalog *crm.Catalog
	Options crm.Options
	// Users are the account's users, which owner fields resolve to.
	Users []store.User
	// Mapped reports whether a column of the file feeds the field with that key.
	Mapped func(key string) bool
	// ImportID is the import's id (memberships and outcomes name it).
	ImportID int64
	// DryRun is set when nothing the run writes is kept: its transaction is rolled back.
	DryRun bool
}

// ErrUnknown is the error of a name that is no kind of the account's imports. Such an error is
// crm.ErrInvalidOptions too, and its message lists the kinds there are.
var ErrUnknown = errors.New("unknown kind")

// unknownError is ErrUnknown for one name, with the kinds there are.
type unknownError struct{ name, want string }

func (e *unknownError) Error() string {
	return fmt.Sprintf("%v %q (want %s)", ErrUnknown, e.name, e.want)
}

func (e *unknownError) Is(target error) bool {
	return target == ErrUnknown || target == crm.ErrInvalidOptions
}

// Registry holds the kinds an engine imports, by name: its own, and those an account defines
// (its custom object types), listed by its definer.
type Registry struct {
	kinds  map[string]Kind
	order  []Kind
	define Definer
}

// Definer lists the kinds an account defines, in the order they were defined.
type Definer func(ctx context.Context, q store.Querier, accountID int64) ([]Kind, error)

// NewRegistry returns a registry of kinds; the first is the default kind.
func NewRegistry(kinds ...Kind) *Registry {
	r := &Registry{kinds: map[string]Kind{}, order: kinds}
	for _, k := range kinds {
		if _, dup := r.kinds[k.Name()]; dup {
			panic("kind: " + k.Name() + " registered twice")
		}
		r.kinds[k.Name()] = k
	}
	return r
}

// Defining makes the registry find the names it does not know among the kinds each account
// defines, listed by define; it returns the registry.
func (r *Registry) Defining(define Definer) *Registry {
	r.define = define
	return r
}

// Default is the kind an import is of when it names none.
func (r *Registry) Default() Kind { return r.order[0] }

// Get returns the kind named name, the default kind for "", or an error that lists the kinds.
func (r *Registry) Get(name string) (Kind, error) {
	if name == "" {
		return r.Default(), nil
	}
	if k, ok := r.kinds[name]; ok {
		return k, nil
	}
	return nil, &unknownError{name, strings.Join(r.Names(), ", ")}
}

// Lookup returns the kind named name for an account: a registered kind (the default for ""),
// else one the account defines; an error lists both.
func (r *Registry) Lookup(ctx context.Context, q store.Querier, accountID int64, name string) (Kind, error) {
	if _, ok := r.kinds[name]; ok || name == "" || r.define == nil {
		return r.Get(name)
	}
	defined, err := r.define(ctx, q, accountID)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(defined))
	for i, k := range defined {
		if k.Name() == name {
			return k, nil
		}
		names[i] = k.Name()
	}
	want := strings.Join(r.Names(), ", ")
	if len(names) > 0 {
		want += "; or one of the account's object types: " + strings.Join(names, ", ")
	}
	return nil, &unknownError{name, want}
}

// Kinds lists every kind an account's imports may be of: the registered kinds in the order
// they were registered, then the account's own in the order it defined them.
func (r *Registry) Kinds(ctx context.Context, q store.Querier, accountID int64) ([]Kind, error) {
	if r.define == nil {
		return slices.Clone(r.order), nil
	}
	defined, err := r.define(ctx, q, accountID)
	if err != nil {
		return nil, err
	}
	return slices.Concat(r.order, defined), nil
}

// Names lists the registered kinds, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.kinds))
	for n := range r.kinds {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Catalog loads the catalog of a kind in an account: its standard fields (the account's, when
// the kind is an AccountFielder) and the account's custom fields of the kind.
func Catalog(ctx context.Context, q store.Querier, k Kind, accountID int64) (*crm.Catalog, error) {
	standard := k.StandardFields()
	if a, ok := k.(AccountFielder); ok {
		var err error
		if standard, err = a.AccountFields(ctx, q, accountID); err != nil {
			return nil, err
		}
	}
	custom, err := store.CustomFields(ctx, q, accountID, k.Name())
	if err != nil {
		return nil, err
	}
	return crm.NewCatalog(k.Noun(), standard, custom), nil
}

// NewCatalog returns the catalog of a kind with the custom fields custom.
func NewCatalog(k Kind, custom []crm.Field) *crm.Catalog {
	return crm.NewCatalog(k.Noun(), k.StandardFields(), custom)
}
