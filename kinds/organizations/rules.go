package organizations

import (
	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/pipeline"
)

// Field warnings of an organization import, besides those of the value rules.
const (
	// WarnInvalidName: the name has no letter or digit to match it by (SPEC §7's normalised
	// name is empty).
	WarnInvalidName = "invalid_name"
	// WarnInvalidDomain: the domain is not a domain name, nor a website whose host is one.
	WarnInvalidDomain = "invalid_domain"
)

// rules are the row rules of an organization import: a name must have something to match by,
// a domain is made canonical (crm.WebsiteDomain: "https://www.Acme.com/" is "acme.com"), a row
// without a domain takes its website's, and a row must carry a name, a domain other than a
// free-mail provider's, or the unique identifier.
type rules struct {
	name, domain, website int
	uniqueField           int // catalog index of the unique identifier, or -1
}

func newRules(c *crm.Catalog, o crm.Options) *rules {
	r := &rules{
		name:        c.MustIndex(crm.FieldName),
		domain:      c.MustIndex(crm.FieldDomain),
		website:     c.MustIndex(crm.FieldWebsite),
		uniqueField: -1,
	}
	if o.UniqueIdentifier != "" {
		r.uniqueField = c.Index(o.UniqueIdentifier)
	}
	return r
}

// Before does nothing: the rules need canonical values.
func (x *rules) Before(*pipeline.Row) {}

// After checks the name, makes the domain canonical and skips a row that has nothing to
// identify its organization by.
func (x *rules) After(r *pipeline.Row) {
	vals := r.Values
	if n := vals[x.name]; n != "" && crm.NormalizeOrgName(n) == "" {
		r.Warn(crm.FieldName, WarnInvalidName, n)
		vals[x.name] = ""
	}
	if d := vals[x.domain]; d != "" {
		if vals[x.domain] = crm.WebsiteDomain(d); vals[x.domain] == "" {
			r.Warn(crm.FieldDomain, WarnInvalidDomain, d)
		}
	}
	if vals[x.domain] == "" {
		vals[x.domain] = crm.WebsiteDomain(vals[x.website])
	}
	if vals[x.name] == "" && matchDomain(vals[x.domain]) == "" && (x.uniqueField < 0 || vals[x.uniqueField] == "") {
		r.Skip(pipeline.ReasonMissingIdentifier, "the row has no organization name, no domain and no unique identifier")
	}
}

// matchDomain is the domain an organization matches by: its own, unless it is a free-mail
// provider's, which says nothing about whose it is.
func matchDomain(domain string) string {
	if crm.IsFreeMail(domain) {
		return ""
	}
	return domain
}
