package prospects

import (
	"context"
	"maps"
	"slices"
	"strconv"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
)

// orgIndex finds the organization a row's Organization value links to (SPEC §7): the oldest of
// the account's organizations with the same normalised name, else the oldest with the row's
// domain, else a new one, which later rows of the batch then find too.
type orgIndex struct {
	byName, byDomain map[string]int64
	created          []store.Organization
}

// loadOrgs loads the organizations the batch's rows could link to; none when no column maps to
// the organization field.
func (s *writer) loadOrgs(ctx context.Context, q store.Querier, rows []pipeline.Row) (*orgIndex, error) {
	if !s.orgMapped {
		return &orgIndex{}, nil
	}
	names, domains := map[string]bool{}, map[string]bool{}
	for i := range rows {
		r := &rows[i]
		if r.Skipped() || r.Values[s.org] == "" {
			continue
		}
		names[crm.NormalizeOrgName(r.Values[s.org])] = true
		if d := crm.OrgDomain(r.Values[s.website], r.Values[s.email]); d != "" {
			domains[d] = true
		}
	}
	found, err := store.LoadOrganizations(ctx, q, s.plan.Account.ID, slices.Collect(maps.Keys(names)), slices.Collect(maps.Keys(domains)))
	if err != nil {
		return nil, err
	}
	x := &orgIndex{byName: map[string]int64{}, byDomain: map[string]int64{}}
	for _, o := range found {
		x.add(o)
	}
	return x, nil
}

func (x *orgIndex) add(o store.Organization) {
	if _, ok := x.byName[o.NameKey]; !ok && o.NameKey != "" {
		x.byName[o.NameKey] = o.ID
	}
	if _, ok := x.byDomain[o.Domain]; !ok && o.Domain != "" {
		x.byDomain[o.Domain] = o.ID
	}
}

// resolve returns the id (decimal) of the organization named name for a row with that website
// and email, creating it when none matches; "" when the name has nothing to match on.
func (x *orgIndex) resolve(ctx context.Context, q store.Querier, ids *idPool, name, website, email string) (string, error) {
	key := crm.NormalizeOrgName(name)
	if key == "" {
		return "", nil
	}
	if id, ok := x.byName[key]; ok {
		return strconv.FormatInt(id, 10), nil
	}
	domain := crm.OrgDomain(website, email)
	if id, ok := x.byDomain[domain]; ok && domain != "" {
		return strconv.FormatInt(id, 10), nil
	}
	id, err := ids.next(ctx, q)
	if err != nil {
		return "", err
	}
	o := store.Organization{ID: id, Name: name, NameKey: key, Domain: domain}
	x.created = append(x.created, o)
	x.add(o)
	return strconv.FormatInt(id, 10), nil
}
