// Package orglink links the rows of an import to organizations (SPEC §7), for every kind whose
// records have an Organization field (prospects, deals): a row links to the oldest of the
// account's organizations with the same normalised name, else the oldest with the row's domain,
// else to a new one, which later rows of the import then find too.
package orglink

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
)

// Counters an import that links organizations reports besides its row outcomes.
const (
	// CounterCreated counts the organizations the import created to link its records to.
	CounterCreated = "organizations_created"
	// CounterLinked counts the records the import linked to an organization.
	CounterLinked = "organizations_linked"
)

// Kind is the name of the organizations' kind, as a row's Undo names the organizations it made.
const Kind = "organizations"

// Counters returns the counters of a kind that links organizations (kind.Kind.Counters).
func Counters() []string { return []string{CounterCreated, CounterLinked} }

// Linker links the rows of one import. It is not safe for concurrent use: the goroutines of an
// import that use it take turns (see kinds/prospects' writer).
type Linker struct {
	accountID int64
	field     int // catalog index of the organization field
	// domain returns the domain a row's organization may match by; "" for none.
	domain func(values []string) string
	ids    *store.IDPool
}

// New returns the linker of an import into an account whose rows name their organization in
// the catalog's field of type crm.Organization, and whose domain is domain(row values).
func New(c *crm.Catalog, accountID int64, domain func(values []string) string) *Linker {
	l := &Linker{accountID: accountID, field: -1, domain: domain, ids: store.NewIDPool("organization")}
	for i, f := range c.Fields {
		if f.Type == crm.Organization {
			l.field = i
			break
		}
	}
	return l
}

// Batch is what one batch links to: the organizations its rows could match, loaded at once,
// and those it creates.
type Batch struct {
	l                *Linker
	byName, byDomain map[string]int64
	created          []store.Organization
	names, domains   []string // the name keys and domains read from the database
	gen              int      // the generation of Known the batch took what it knew from
}

// Load loads, in one query, the organizations the unskipped rows could link to.
func (l *Linker) Load(ctx context.Context, q store.Querier, rows []pipeline.Row) (*Batch, error) {
	return l.LoadKnowing(ctx, q, rows, nil)
}

// LoadKnowing is Load for an import that remembers what its batches linked to (known, which
// may be nil): it reads only the names and domains known lacks, and takes the others from it.
func (l *Linker) LoadKnowing(ctx context.Context, q store.Querier, rows []pipeline.Row, known *Known) (*Batch, error) {
	b := &Batch{l: l, byName: map[string]int64{}, byDomain: map[string]int64{}}
	names, domains := b.unknown(rows, known)
	b.names, b.domains = slices.Collect(maps.Keys(names)), slices.Collect(maps.Keys(domains))
	found, err := store.LoadOrganizations(ctx, q, l.accountID, b.names, b.domains)
	if err != nil {
		return nil, err
	}
	for _, o := range found {
		b.add(o)
	}
	return b, nil
}

// unknown returns the name keys and domains the unskipped rows could match that known (which
// may be nil) does not hold, and takes into b, with known's generation, what it holds: each
// the oldest of the account's organizations with its name or domain, which a read may find
// again beside younger ones. A row whose name is known links by it, so its domain is not
// looked at: once an import's batches have read its organizations' names, a batch computes
// domains only for rows whose names were never found. The names are normalised before known
// is locked, so that a batch being written waits on it only for the lookups.
func (b *Batch) unknown(rows []pipeline.Row, known *Known) (names, domains map[string]bool) {
	l := b.l
	keys := make([]string, len(rows)) // "" for a row that links to nothing
	for i := range rows {
		if r := &rows[i]; !r.Skipped() && r.Values[l.field] != "" {
			keys[i] = crm.NormalizeOrgName(r.Values[l.field])
		}
	}
	names, domains = map[string]bool{}, map[string]bool{}
	var byName, byDomain map[string]int64 // what known holds: nil maps hold nothing
	if known != nil {
		known.mu.Lock()
		defer known.mu.Unlock()
		b.gen, byName, byDomain = known.gen, known.byName, known.byDomain
	}
	for i, key := range keys {
		if key == "" {
			continue
		}
		if _, ok := b.byName[key]; ok {
			continue
		}
		if id, ok := byName[key]; ok {
			b.byName[key] = id
			continue
		}
		names[key] = true
		d := l.domain(rows[i].Values)
		if _, ok := b.byDomain[d]; ok || d == "" {
			continue
		}
		if id, ok := byDomain[d]; ok {
			b.byDomain[d] = id
		} else {
			domains[d] = true
		}
	}
	return names, domains
}

func (b *Batch) add(o store.Organization) {
	if _, ok := b.byName[o.NameKey]; !ok && o.NameKey != "" {
		b.byName[o.NameKey] = o.ID
	}
	if _, ok := b.byDomain[o.Domain]; !ok && o.Domain != "" {
		b.byDomain[o.Domain] = o.ID
	}
}

// Find returns the id (decimal) of the organization a row with these values links to, without
// creating one: "" with isNew when none matches (Resolve would create it), "" alone when its
// organization's name has nothing to match on.
func (b *Batch) Find(values []string) (id string, isNew bool) {
	key := crm.NormalizeOrgName(values[b.l.field])
	if key == "" {
		return "", false
	}
	if id, ok := b.byName[key]; ok {
		return strconv.FormatInt(id, 10), false
	}
	if d := b.l.domain(values); d != "" {
		if id, ok := b.byDomain[d]; ok {
			return strconv.FormatInt(id, 10), false
		}
	}
	return "", true
}

// Resolve returns the id (decimal) of the organization row r links to, creating it when none
// matches, which r's Undo then names among what it made; "" when its organization's name has
// nothing to match on.
func (b *Batch) Resolve(ctx context.Context, q store.Querier, r *pipeline.Row) (string, error) {
	values := r.Values
	if id, isNew := b.Find(values); !isNew {
		return id, nil
	}
	id, err := b.l.ids.Next(ctx, q)
	if err != nil {
		return "", err
	}
	name := values[b.l.field]
	o := store.Organization{ID: id, Name: name, NameKey: crm.NormalizeOrgName(name), Domain: b.l.domain(values)}
	b.created = append(b.created, o)
	b.add(o)
	if r.Undo == nil {
		r.Undo = &pipeline.Undo{}
	}
	r.Undo.Made = append(r.Undo.Made, pipeline.Ref{Kind: Kind, ID: id})
	return strconv.FormatInt(id, 10), nil
}

// Carry lays over b the organizations prev, an earlier batch of the import, created, which
// b's loading may have missed: b's rows then link to them, as loading b again would have
// found. prev created only what matched nothing b could have loaded, so b keeps what it holds.
func (b *Batch) Carry(prev *Batch) {
	if prev == nil {
		return
	}
	for _, o := range prev.created {
		b.add(o)
	}
}

// Write inserts the organizations the batch created, in its transaction, and returns how many.
func (b *Batch) Write(ctx context.Context, tx pgx.Tx) (int, error) {
	return len(b.created), store.InsertOrganizations(ctx, tx, b.l.accountID, b.created)
}

// knownLimit bounds how many names and domains Known holds, so that an import's memory does not
// grow with the organizations it links to: past it, Known starts again from nothing.
const knownLimit = 100_000

// Known remembers, across the batches of one import, the organizations its batches read or
// created, by name key and by domain: each the oldest of the account's with that name or
// domain. It holds only while nothing but the import writes into the account; the import
// says when something else did (Forget). It is safe for concurrent use: a batch may be read
// ahead while the one before is written.
type Known struct {
	mu               sync.Mutex
	gen              int // counts Forget calls
	byName, byDomain map[string]int64
}

// NewKnown returns an empty Known.
func NewKnown() *Known {
	return &Known{byName: map[string]int64{}, byDomain: map[string]int64{}}
}

// Holds reports whether what b took from k still holds: k forgot nothing since.
func (k *Known) Holds(b *Batch) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return b.gen == k.gen
}

// Forget drops everything k knows: something other than the import wrote into the account.
func (k *Known) Forget() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.byName)+len(k.byDomain) == 0 {
		return // nothing to forget, and nothing a batch took from it is stale
	}
	k.gen++
	clear(k.byName)
	clear(k.byDomain)
}

// Keep adds to k what batch b, just committed, linked to: the organizations found for the names
// and domains it read, and those it created.
func (k *Known) Keep(b *Batch) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.byName)+len(k.byDomain) > knownLimit {
		k.gen++
		clear(k.byName)
		clear(k.byDomain)
	}
	for _, n := range b.names {
		if id, ok := b.byName[n]; ok {
			k.byName[n] = id
		}
	}
	for _, d := range b.domains {
		if id, ok := b.byDomain[d]; ok {
			k.byDomain[d] = id
		}
	}
	for _, o := range b.created {
		if o.NameKey != "" {
			k.byName[o.NameKey] = o.ID
		}
		if o.Domain != "" {
			k.byDomain[o.Domain] = o.ID
		}
	}
}
