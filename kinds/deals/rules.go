package deals

import (
	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/pipeline"
)

// rules are the row rules of a deal import: a row must carry a name or the unique identifier.
type rules struct {
	name, unique int // catalog indexes; unique is -1 when unset
}

func newRules(c *crm.Catalog, o crm.Options) *rules {
	r := &rules{name: c.MustIndex(crm.FieldName), unique: -1}
	if o.UniqueIdentifier != "" {
		r.unique = c.Index(o.UniqueIdentifier)
	}
	return r
}

// Before does nothing: the value rules judge every deal field.
func (x *rules) Before(*pipeline.Row) {}

// After skips a row that has nothing to identify its deal by.
func (x *rules) After(r *pipeline.Row) {
	if r.Values[x.name] == "" && (x.unique < 0 || r.Values[x.unique] == "") {
		r.Skip(pipeline.ReasonMissingIdentifier, "the row has no deal name and no unique identifier")
	}
}
