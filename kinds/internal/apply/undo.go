package apply

import (
	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
)

// Changes returns the changes from before to after, a record's values before a row and after
// it, of the fields its table stores (stored, by catalog index: a kind's store.Stored…Fields),
// in catalog order; nil when none differs.
func Changes(c *crm.Catalog, stored []bool, before, after []string) []pipeline.Change {
	var out []pipeline.Change
	for i, v := range after {
		if stored[i] && before[i] != v {
			out = append(out, pipeline.Change{Field: c.Fields[i].Key, Old: before[i], New: v})
		}
	}
	return out
}

// Keeper keeps what the rows of a batch overwrite (pipeline.Row.Undo): a writer calls Before
// with a record's values before a row that matched it applies, then Keep once the row has its
// outcome. It reuses one buffer, so that rows that change nothing cost no allocation. It is not
// safe for concurrent use.
type Keeper struct {
	c      *crm.Catalog
	stored []bool
	before []string
}

// NewKeeper returns the keeper of a kind whose catalog is c and whose table stores the fields
// stored says (by catalog index).
func NewKeeper(c *crm.Catalog, stored []bool) *Keeper {
	return &Keeper{c: c, stored: stored, before: make([]string, len(c.Fields))}
}

// Before keeps the values of the record a row is about to apply to.
func (k *Keeper) Before(values []string) { copy(k.before, values) }

// Keep sets the Undo of a row r that matched rec, once r.Outcome is set (Tracked.Outcome,
// which reports first): on an updated row, the changes it made since Before, and when the row
// made the batch's first change to a record loaded from the database, the record's updated_at
// as loaded. Made, set by the row's side effects, stays. Other rows are left as they are.
func (k *Keeper) Keep(r *pipeline.Row, first bool, rec *store.Record) {
	if r.Outcome != pipeline.Updated {
		return
	}
	changes := Changes(k.c, k.stored, k.before, rec.Values)
	if len(changes) == 0 {
		return
	}
	if r.Undo == nil {
		r.Undo = &pipeline.Undo{}
	}
	r.Undo.Changes = changes
	if first {
		r.Undo.UpdatedAt = rec.UpdatedAt
	}
}
