// Package apply is what every kind's writer does the same way with a row that matched a record
// or none: whether it may create or update (the create_new and update_existing options), how
// each of its values meets the record's under the field policies (SPEC §5), and the index of
// the records a batch may match, which follows the batch's changes so that later rows match
// what earlier rows made (sequential semantics, SPEC §6).
package apply

import (
	"fmt"
	"strings"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/pipeline"
)

// Skip returns why a row is skipped under the options' create_new and update_existing, and the
// skip's detail, when it matched the record id of a kind whose records noun names (0: it matched
// none); "" when it is not.
func Skip(o crm.Options, noun string, id int64) (reason, detail string) {
	switch {
	case id == 0 && !o.AllowCreate():
		return pipeline.ReasonNewNotAllowed, fmt.Sprintf("no %s matches the row and create_new is off", noun)
	case id != 0 && !o.AllowUpdate():
		return pipeline.ReasonExistingNotUpdated, fmt.Sprintf("the row matches %s %d and update_existing is off", noun, id)
	}
	return "", ""
}

// Policies are the field policies of an import, by catalog index.
type Policies []crm.Policy

// NewPolicies returns the policies the options give each field of the catalog.
func NewPolicies(c *crm.Catalog, o crm.Options) Policies {
	p := make(Policies, len(c.Fields))
	for i, f := range c.Fields {
		p[i] = o.PolicyFor(f.Key)
	}
	return p
}

// Takes reports whether a row's value v of field i applies to a record whose value is cur: v is
// given, the field is not ignored, and under update_if_empty the record's is empty.
func (p Policies) Takes(i int, cur, v string) bool {
	return v != "" && p[i] != crm.Ignore && (p[i] != crm.UpdateIfEmpty || cur == "")
}

// Value is what field i holds once v applies on top of cur: under merge, the union of both
// (existing values first); else v.
func (p Policies) Value(i int, cur, v string) string {
	if p[i] == crm.Merge && cur != "" {
		return strings.Join(crm.MergeMulti(strings.Split(cur, ";"), strings.Split(v, ";")), ";")
	}
	return v
}

// Tracked is what a batch did to a record it may match; each kind's matched record embeds it.
type Tracked struct {
	Created bool // created by this batch
	Changed bool // stored before the batch, and changed by it
	Edits   int  // values the batch's rows changed
}

// Outcome is the outcome of a row that matched the record, Edits having been before the row
// applied: updated or unchanged. first reports the first change the batch makes to a stored
// record, which its writer then updates.
func (t *Tracked) Outcome(before int) (o pipeline.Outcome, first bool) {
	if t.Edits == before {
		return pipeline.Unchanged, false
	}
	first = !t.Created && !t.Changed
	t.Changed = t.Changed || first
	return pipeline.Updated, first
}
