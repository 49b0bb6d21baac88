package prospects

// Matching rows to prospects (SPEC §6): by email, then by the unique identifier, then — only
// with match_by_name — by first and last name. A matchIndex holds the prospects a batch can
// match, loaded from Postgres, and follows every change the batch makes to them
// (records.Index), so that a later row matches a prospect an earlier row created or
// re-identified: the outcome is the one of applying the rows one at a time in file order.

import (
	"context"
	"strings"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/kinds/internal/records"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
)

// matchIndex finds the prospect a row matches. It is not safe for concurrent use.
type matchIndex struct {
	*records.Index
	email int
	// storedEmail is the email of each loaded prospect that has one, as loaded.
	storedEmail map[int64]string
}

// matchConfig says how rows match.
type matchConfig struct {
	Catalog     *crm.Catalog
	AccountID   int64
	UniqueField int // catalog index, or -1
	MatchByName bool
}

// identities are the keys prospects match by, in order: the lowercased email, the unique
// identifier's value, and with match_by_name the lowercased first and last name (when at least
// one is given), joined by a NUL.
func (cfg matchConfig) identities() (email, unique, name records.Key) {
	e := cfg.Catalog.MustIndex(crm.FieldEmail)
	first, last := cfg.Catalog.MustIndex(crm.FieldFirstName), cfg.Catalog.MustIndex(crm.FieldLastName)
	none := func([]string) string { return "" }
	email = records.Key{Fields: []int{e}, Of: func(v []string) string { return strings.ToLower(v[e]) }}
	unique = records.Key{Of: none}
	if u := cfg.UniqueField; u >= 0 {
		unique = records.Key{Fields: []int{u}, Of: func(v []string) string { return v[u] }}
	}
	name = records.Key{Of: none}
	if cfg.MatchByName {
		name = records.Key{Fields: []int{first, last}, Of: func(v []string) string {
			if v[first] == "" && v[last] == "" {
				return ""
			}
			return strings.ToLower(v[first]) + "\x00" + strings.ToLower(v[last])
		}}
	}
	return email, unique, name
}

// loadIndex builds the index for a batch: it loads, in one query per kind of identity, every
// prospect of the account that one of the batch's unskipped rows could match.
func loadIndex(ctx context.Context, q store.Querier, cfg matchConfig, rows []pipeline.Row) (*matchIndex, error) {
	email, unique, name := cfg.identities()
	x := &matchIndex{Index: records.NewIndex(email, unique, name), email: cfg.Catalog.MustIndex(crm.FieldEmail), storedEmail: map[int64]string{}}
	l := store.ProspectLookup{UniqueField: cfg.UniqueField, Emails: records.Keys(rows, email), UniqueValues: records.Keys(rows, unique)}
	for _, k := range records.Keys(rows, name) {
		first, last, _ := strings.Cut(k, "\x00")
		l.FirstNames = append(l.FirstNames, first)
		l.LastNames = append(l.LastNames, last)
	}
	found, err := store.LoadProspects(ctx, q, cfg.Catalog, cfg.AccountID, l)
	if err != nil {
		return nil, err
	}
	x.AddLoaded(found)
	for _, p := range found {
		if e := p.Values[x.email]; e != "" {
			x.storedEmail[p.ID] = e
		}
	}
	return x, nil
}

// emailMoved reports whether the batch changed the email of a stored prospect.
func (x *matchIndex) emailMoved(p *records.Record) bool {
	stored := x.storedEmail[p.ID]
	return !p.Created && stored != "" && !strings.EqualFold(stored, p.Values[x.email])
}
