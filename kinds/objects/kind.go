// Package objects is the kind of the records of an account's custom object types: an account
// defines a type (its key, its label, the field that identifies a record) and the type's fields,
// and each type is a kind of its own, named by its key, for that account's imports. A record
// matches by its identifying field and may link to an existing prospect by the prospect's email
// (kinds/internal/prospectlink); an object import never creates a prospect.
package objects

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/kind"
	"github.com/leadpipe/leadpipe/kinds/internal/kindopts"
	"github.com/leadpipe/leadpipe/kinds/internal/undo"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/stages/validate"
	"github.com/leadpipe/leadpipe/store"
)

// StandardFields are the fields of every object type: its link to a prospect, given by the
// prospect's email (which is not stored). The type's own fields follow them as custom fields
// of entity the type's key.
func StandardFields() []crm.Field {
	return []crm.Field{
		{Key: crm.FieldProspect, Label: "Prospect", Type: crm.Prospect},
		{Key: crm.FieldProspectEmail, Label: "Prospect Email", Type: crm.Email, MaxLength: 254, Aliases: []string{"Contact Email"}},
	}
}

// Kind is the kind of the records of one object type.
type Kind struct{ Type store.ObjectType }

var _ kind.Kind = Kind{}

// Kinds is the kind.Definer of object types: the kinds of the account's types, in the order
// they were created.
func Kinds(ctx context.Context, q store.Querier, accountID int64) ([]kind.Kind, error) {
	types, err := store.ObjectTypes(ctx, q, accountID)
	if err != nil {
		return nil, err
	}
	kinds := make([]kind.Kind, len(types))
	for i, t := range types {
		kinds[i] = Kind{t}
	}
	return kinds, nil
}

// Name implements kind.Kind: the type's key.
func (k Kind) Name() string { return k.Type.Key }

// Noun implements kind.Kind: the type's label, lowercased.
func (k Kind) Noun() string { return strings.ToLower(k.Type.Label) }

// StandardFields implements kind.Kind.
func (Kind) StandardFields() []crm.Field { return StandardFields() }

// CheckOptions implements kind.Kind: an object record has no lists, tags, campaign, lead
// source, owner or name, and matches by its type's identifying field only, which must exist.
func (k Kind) CheckOptions(o crm.Options, c *crm.Catalog) []string {
	problems := kindopts.Refuse(o, k.Name(), takes...)
	if u := o.UniqueIdentifier; u != "" && u != k.Type.Identifier {
		problems = append(problems, fmt.Sprintf("unique_identifier: records of object type %q match by their identifier %q only", k.Type.Key, k.Type.Identifier))
	}
	if c.Index(k.Type.Identifier) < 0 {
		problems = append(problems, fmt.Sprintf("object type %q: its identifier field %q does not exist: add it with leadpipe field add --object %s", k.Type.Key, k.Type.Identifier, k.Type.Key))
	}
	return problems
}

// takes are the options only some kinds take that an object import takes: none.
var takes []string

// OptionNames implements kind.Kind.
func (Kind) OptionNames() []string { return kindopts.Applying(takes...) }

// Counters implements kind.Kind: an object import counts nothing but its rows.
func (Kind) Counters() []string { return nil }

// OverLimit implements kind.Kind: no limit bounds object records.
func (Kind) OverLimit(store.Account, int) bool { return false }

// Prepare implements kind.Kind: records are found by the unique index of their identifier,
// which always exists.
func (Kind) Prepare(context.Context, store.Querier, *kind.Plan) error { return nil }

// Rules implements kind.Kind.
func (k Kind) Rules(p *kind.Plan) validate.Rules {
	return rules{identifier: p.Catalog.MustIndex(k.Type.Identifier), key: k.Type.Identifier}
}

// Writer implements kind.Kind.
func (k Kind) Writer(p *kind.Plan) pipeline.Writer { return newWriter(k.Type, p) }

// Undoer implements kind.Kind: nothing links to an object record, and an import changes its
// identifier only in case, which is restored like any field; the undo takes the type's lock as its imports do.
func (k Kind) Undoer(p *kind.Plan) pipeline.Writer {
	table, err := store.ObjectUndoTable(k.Type, p.Catalog)
	if err != nil {
		return undo.Failing(err)
	}
	return undo.NewWriter(p, undo.Kind{Table: table,
		Lock: func(ctx context.Context, tx pgx.Tx) error { return store.LockObjectType(ctx, tx, k.Type) }})
}

// rules skip a row without a value of the identifying field.
type rules struct {
	identifier int
	key        string
}

func (rules) Before(*pipeline.Row) {}

func (x rules) After(r *pipeline.Row) {
	if r.Values[x.identifier] == "" {
		r.Skip(pipeline.ReasonMissingIdentifier, fmt.Sprintf("the row has no %s", x.key))
	}
}

// Records implements kind.Kind.
func (k Kind) Records(ctx context.Context, q store.Querier, p *kind.Plan, ids []int64) ([]store.Record, error) {
	return store.ObjectRecordsByID(ctx, q, k.Type, p.Catalog, p.Account.ID, ids)
}
