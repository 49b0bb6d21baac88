package deals

import (
	"context"
	"strconv"
	"strings"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
)

// prospectLinker links the rows of a deal import to the prospects they name: by email, else by
// first and last name; it never creates one. It is safe for one goroutine.
type prospectLinker struct {
	accountID int64
	// catalog indexes of the prospect link and of the fields that name the prospect
	link, email, first, last int
	// off is set when the link's policy is ignore: rows link no prospect.
	off bool
}

func newProspectLinker(c *crm.Catalog, accountID int64, o crm.Options) *prospectLinker {
	return &prospectLinker{accountID: accountID, link: c.MustIndex(crm.FieldProspect), email: c.MustIndex(crm.FieldProspectEmail),
		first: c.MustIndex(crm.FieldProspectFirstName), last: c.MustIndex(crm.FieldProspectLastName),
		off: o.PolicyFor(crm.FieldProspect) == crm.Ignore}
}

// named returns how a row names its prospect: by its email (lowercased), else by its first and
// last name (lowercased); ok is false when it names none.
func (l *prospectLinker) named(values []string) (email string, name [2]string, ok bool) {
	if e := values[l.email]; e != "" {
		return strings.ToLower(e), name, true
	}
	name = [2]string{strings.ToLower(values[l.first]), strings.ToLower(values[l.last])}
	return "", name, name != [2]string{}
}

// prospectRefs are the prospects the rows of a batch name, by lowercased email and by
// lowercased first and last name (the oldest of each).
type prospectRefs struct {
	l       *prospectLinker
	byEmail map[string]int64
	byName  map[[2]string]int64
}

// load loads, in one query per kind of identity, the prospects the unskipped rows name.
func (l *prospectLinker) load(ctx context.Context, q store.Querier, rows []pipeline.Row) (*prospectRefs, error) {
	refs := &prospectRefs{l: l, byEmail: map[string]int64{}, byName: map[[2]string]int64{}}
	if l.off {
		return refs, nil
	}
	var emails, firsts, lasts []string
	for i := range rows {
		r := &rows[i]
		if r.Skipped() {
			continue
		}
		switch email, name, ok := l.named(r.Values); {
		case !ok:
		case email != "":
			emails = append(emails, email)
		default:
			firsts, lasts = append(firsts, name[0]), append(lasts, name[1])
		}
	}
	if len(emails) == 0 && len(firsts) == 0 {
		return refs, nil
	}
	found, err := store.LoadProspectRefs(ctx, q, l.accountID, emails, firsts, lasts)
	if err != nil {
		return nil, err
	}
	for _, p := range found { // oldest first: the first of each key stays
		if e := strings.ToLower(p.Email); e != "" {
			if _, ok := refs.byEmail[e]; !ok {
				refs.byEmail[e] = p.ID
			}
		}
		k := [2]string{strings.ToLower(p.FirstName), strings.ToLower(p.LastName)}
		if _, ok := refs.byName[k]; !ok && k != [2]string{} {
			refs.byName[k] = p.ID
		}
	}
	return refs, nil
}

// link sets the row's prospect link to the prospect it names, or warns prospect_not_found with
// the email or name the row gave when the account has no such prospect.
func (refs *prospectRefs) link(r *pipeline.Row) {
	l := refs.l
	if l.off {
		return
	}
	email, name, ok := l.named(r.Values)
	if !ok {
		return
	}
	id, found := refs.byEmail[email]
	given := r.Values[l.email]
	if email == "" {
		id, found = refs.byName[name]
		given = strings.TrimSpace(r.Values[l.first] + " " + r.Values[l.last])
	}
	if !found {
		r.Warn(crm.FieldProspect, WarnProspectNotFound, given)
		return
	}
	r.Values[l.link] = strconv.FormatInt(id, 10)
}
