// Package upsert is the stage that writes prospects. Each batch is one Postgres transaction:
// it takes the account's quota lock, loads the prospects and organizations the batch can match,
// applies the rows one at a time in file order in memory (SPEC §5–§9), then writes new
// organizations and prospects with COPY, changed prospects with one UPDATE, memberships, and —
// through Config.Record — the batch's outcomes and checkpoint, and commits them together.
//
// Matching, quota and writing share one transaction on purpose: a batch must see every write of
// the batches before it, and the limit must hold against concurrent imports, so these three
// cannot run as separate pipelined stages without changing outcomes.
package upsert

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/stages/dedupe"
	"github.com/leadpipe/leadpipe/stages/quota"
	"github.com/leadpipe/leadpipe/store"
)

// Beginner starts a transaction: a connection, or for a dry run an outer transaction whose
// nested transactions are savepoints.
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Config is what the stage needs to know of its import.
type Config struct {
	Catalog   *crm.Catalog
	AccountID int64
	ImportID  int64
	Options   crm.Options
	// OrgMapped says a column feeds the organization field.
	OrgMapped bool
	// DryRun reads the quota without locking the account row.
	DryRun bool
	// Record stores the batch's outcomes and checkpoint inside its transaction.
	Record func(ctx context.Context, tx pgx.Tx, b *pipeline.Batch) error
	// Committed, when set, is called with each batch once its transaction has committed.
	Committed func(b *pipeline.Batch)
}

// Stage is the upsert stage. It is safe for one goroutine.
type Stage struct {
	db                              Beginner
	cfg                             Config
	match                           dedupe.Config
	policies                        []crm.Policy
	org, website, email, leadSource int

	prospectIDs, orgIDs idPool
	groupings           []int64 // lists, tags and campaign of the import, once created
	groupingsReady      bool
}

// New returns the upsert stage writing through db.
func New(db Beginner, cfg Config) *Stage {
	c := cfg.Catalog
	s := &Stage{
		db:          db,
		cfg:         cfg,
		match:       dedupe.Config{Catalog: c, AccountID: cfg.AccountID, UniqueField: -1, MatchByName: cfg.Options.MatchByName},
		policies:    make([]crm.Policy, len(c.Fields)),
		org:         c.MustIndex(crm.FieldOrganization),
		website:     c.MustIndex(crm.FieldWebsite),
		email:       c.MustIndex(crm.FieldEmail),
		leadSource:  c.MustIndex(crm.FieldLeadSource),
		prospectIDs: idPool{table: "prospect"},
		orgIDs:      idPool{table: "organization"},
	}
	if k := cfg.Options.UniqueIdentifier; k != "" {
		s.match.UniqueField = c.Index(k)
	}
	for i, f := range c.Fields {
		s.policies[i] = cfg.Options.PolicyFor(f.Key)
	}
	return s
}

// Process applies and writes one batch in one transaction.
func (s *Stage) Process(ctx context.Context, b *pipeline.Batch) error {
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		return s.process(ctx, tx, b)
	})
	if err == nil && s.cfg.Committed != nil {
		s.cfg.Committed(b)
	}
	return err
}

func (s *Stage) process(ctx context.Context, tx pgx.Tx, b *pipeline.Batch) error {
	room, err := quota.Reserve(ctx, tx, s.cfg.AccountID, !s.cfg.DryRun)
	if err != nil {
		return err
	}
	idx, err := dedupe.Load(ctx, tx, s.match, b.Rows)
	if err != nil {
		return err
	}
	orgs, err := s.loadOrgs(ctx, tx, b.Rows)
	if err != nil {
		return err
	}
	var created, changed []*dedupe.Prospect
	members := make([]int64, 0, len(b.Rows))
	inBatch := make(map[int64]bool, len(b.Rows))
	for i := range b.Rows {
		r := &b.Rows[i]
		if r.Skipped() {
			continue
		}
		p := idx.Match(r.Values)
		switch {
		case p == nil && !s.cfg.Options.AllowCreate():
			r.Skip(pipeline.ReasonNewNotAllowed, "no prospect matches the row and create_new is off")
			continue
		case p == nil && !room.Take():
			r.Skip(pipeline.ReasonOverLimit, fmt.Sprintf("the account's limit of %d prospects is reached", room.Limit()))
			continue
		case p == nil:
			id, err := s.prospectIDs.next(ctx, tx)
			if err != nil {
				return err
			}
			p = &dedupe.Prospect{Prospect: store.Prospect{ID: id, Values: make([]string, len(r.Values))}, Created: true}
			if err := s.apply(ctx, tx, idx, orgs, b, p, r, true); err != nil {
				return err
			}
			idx.Add(p)
			created = append(created, p)
			r.Outcome = pipeline.Created
		case !s.cfg.Options.AllowUpdate():
			r.Skip(pipeline.ReasonExistingNotUpdated, fmt.Sprintf("the row matches prospect %d and update_existing is off", p.ID))
			continue
		default:
			before := p.Edits
			if err := s.apply(ctx, tx, idx, orgs, b, p, r, false); err != nil {
				return err
			}
			r.Outcome = pipeline.Unchanged
			if p.Edits != before {
				r.Outcome = pipeline.Updated
				if !p.Created && !p.Changed {
					p.Changed = true
					changed = append(changed, p)
				}
			}
		}
		r.EntityID = p.ID
		if !inBatch[p.ID] {
			inBatch[p.ID] = true
			members = append(members, p.ID)
		}
	}
	if err := store.InsertOrganizations(ctx, tx, s.cfg.AccountID, orgs.created); err != nil {
		return err
	}
	b.Count("organizations_created", len(orgs.created))
	// Emails may have moved between prospects: free the old ones, then write the final state.
	var moved []int64
	for _, p := range changed {
		if p.EmailMoved(s.email) {
			moved = append(moved, p.ID)
		}
	}
	if err := store.ClearEmails(ctx, tx, s.cfg.AccountID, moved); err != nil {
		return err
	}
	if err := store.UpdateProspects(ctx, tx, s.cfg.Catalog, s.cfg.AccountID, plain(changed)); err != nil {
		return err
	}
	if err := store.InsertProspects(ctx, tx, s.cfg.Catalog, s.cfg.AccountID, plain(created)); err != nil {
		return err
	}
	if err := s.addMembers(ctx, tx, members); err != nil {
		return err
	}
	if err := room.Commit(ctx, tx); err != nil {
		return err
	}
	return s.cfg.Record(ctx, tx, b)
}

// apply sets the row's values on p under the field policies (SPEC §5) and counts each real
// change in p.Edits. isNew says p is being created by this row, not yet indexed.
func (s *Stage) apply(ctx context.Context, tx pgx.Tx, idx *dedupe.Index, orgs *orgIndex, b *pipeline.Batch, p *dedupe.Prospect, r *pipeline.Row, isNew bool) error {
	for i, v := range r.Values {
		if v == "" {
			continue
		}
		policy := s.policies[i]
		cur := p.Values[i]
		if policy == crm.Ignore || (policy == crm.UpdateIfEmpty && cur != "") {
			continue
		}
		if i == s.org {
			id, err := orgs.resolve(ctx, tx, &s.orgIDs, v, r.Values[s.website], r.Values[s.email])
			if err != nil {
				return err
			}
			if v = id; v == "" {
				continue
			}
		}
		if policy == crm.Merge && cur != "" {
			v = strings.Join(crm.MergeMulti(strings.Split(cur, ";"), strings.Split(v, ";")), ";")
		}
		if cur == v || (i == s.email && strings.EqualFold(cur, v)) {
			continue
		}
		if isNew {
			p.Values[i] = v
		} else {
			idx.Set(p, i, v)
		}
		p.Edits++
		if i == s.org {
			b.Count("organizations_linked", 1)
		}
	}
	if isNew && p.Values[s.leadSource] == "" && s.cfg.Options.LeadSource != "" {
		p.Values[s.leadSource] = s.cfg.Options.LeadSource
	}
	return nil
}

func plain(ps []*dedupe.Prospect) []store.Prospect {
	out := make([]store.Prospect, len(ps))
	for i, p := range ps {
		out[i] = p.Prospect
	}
	return out
}

// addMembers puts the batch's prospects in the import's list, tags and campaign, creating
// those on first use.
func (s *Stage) addMembers(ctx context.Context, tx pgx.Tx, prospectIDs []int64) error {
	if len(prospectIDs) == 0 {
		return nil
	}
	if !s.groupingsReady {
		o := s.cfg.Options
		want := map[string][]string{store.KindList: {o.List}, store.KindTag: o.Tags, store.KindCampaign: {o.Campaign}}
		for _, kind := range []string{store.KindList, store.KindTag, store.KindCampaign} {
			for _, name := range want[kind] {
				if name = strings.TrimSpace(name); name == "" {
					continue
				}
				id, err := store.EnsureGrouping(ctx, tx, s.cfg.AccountID, kind, name)
				if err != nil {
					return err
				}
				s.groupings = append(s.groupings, id)
			}
		}
		s.groupingsReady = true
	}
	return store.AddMembers(ctx, tx, s.groupings, prospectIDs, s.cfg.ImportID)
}

// idPool hands out new prospect or organization ids, fetched a block at a time.
type idPool struct {
	table string
	ids   []int64
}

func (p *idPool) next(ctx context.Context, q store.Querier) (int64, error) {
	if len(p.ids) == 0 {
		ids, err := store.NextIDs(ctx, q, p.table)
		if err != nil {
			return 0, err
		}
		p.ids = ids
	}
	id := p.ids[0]
	p.ids = p.ids[1:]
	return id, nil
}
