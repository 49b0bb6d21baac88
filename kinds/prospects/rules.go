package prospects

import (
	"fmt"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/pipeline"
)

// rules are the row rules of a prospect import (SPEC §2, §4): a row with an invalid email is
// skipped, a full name fills first and last name with split_full_name, and a row must carry an
// email, the unique identifier or a name.
type rules struct {
	email, first, last, fullName int
	uniqueField                  int // catalog index of the unique identifier, or -1
	splitName                    bool
}

func newRules(c *crm.Catalog, o crm.Options) *rules {
	r := &rules{
		email:       c.MustIndex(crm.FieldEmail),
		first:       c.MustIndex(crm.FieldFirstName),
		last:        c.MustIndex(crm.FieldLastName),
		fullName:    c.MustIndex(crm.FieldFullName),
		uniqueField: -1,
		splitName:   o.SplitFullName,
	}
	if o.UniqueIdentifier != "" {
		r.uniqueField = c.Index(o.UniqueIdentifier)
	}
	return r
}

// Before skips a row whose email is invalid and splits its full name.
func (x *rules) Before(r *pipeline.Row) {
	vals := r.Values
	if e := vals[x.email]; e != "" && !crm.ValidEmail(e) {
		r.Skip(pipeline.ReasonInvalidEmail, fmt.Sprintf("%q is not a valid email address", e))
		return
	}
	if x.splitName && vals[x.fullName] != "" {
		first, last := crm.SplitFullName(vals[x.fullName])
		if vals[x.first] == "" {
			vals[x.first] = first
		}
		if vals[x.last] == "" {
			vals[x.last] = last
		}
	}
	vals[x.fullName] = ""
}

// After skips a row that has nothing to identify its prospect by.
func (x *rules) After(r *pipeline.Row) {
	vals := r.Values
	if vals[x.email] == "" && vals[x.first] == "" && vals[x.last] == "" &&
		(x.uniqueField < 0 || vals[x.uniqueField] == "") {
		r.Skip(pipeline.ReasonMissingIdentifier, "the row has no email, no unique identifier and no first or last name")
	}
}
