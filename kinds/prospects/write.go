package prospects

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/kind"
	"github.com/leadpipe/leadpipe/kinds/internal/orglink"
	"github.com/leadpipe/leadpipe/kinds/internal/records"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
)

// The writer of prospect batches. Each batch, in the transaction the engine opened for it, takes
// the account's quota lock, loads the prospects and organizations the batch can match, applies
// the rows one at a time in file order in memory (SPEC §5–§9), then writes new organizations
// and prospects with COPY, changed prospects with one UPDATE, and memberships; the engine then
// records the batch's outcomes and checkpoint and commits them together.
//
// Matching, quota and writing share one transaction on purpose: a batch must see every write of
// the batches before it, and the limit must hold against concurrent imports, so these three
// cannot run as separate pipelined stages without changing outcomes.

// writer writes the batches of one import. It is safe for one goroutine.
type writer struct {
	plan    *kind.Plan
	match   matchConfig
	rows    records.Applier
	orgs    *orglink.Linker
	org     int
	linking *orglink.Batch // the organizations of the batch being written
	linked  int            // rows of the batch that set or changed a prospect's organization

	groupings      []int64 // lists, tags and campaign of the import, once created
	groupingsReady bool
}

// newWriter returns the writer of a plan's batches.
func newWriter(p *kind.Plan) *writer {
	c, o := p.Catalog, p.Options
	website, email, leadSource := c.MustIndex(crm.FieldWebsite), c.MustIndex(crm.FieldEmail), c.MustIndex(crm.FieldLeadSource)
	w := &writer{
		plan:  p,
		match: matchConfig{Catalog: c, AccountID: p.Account.ID, UniqueField: -1, MatchByName: o.MatchByName},
		org:   c.MustIndex(crm.FieldOrganization),
		orgs:  orglink.New(c, p.Account.ID, func(v []string) string { return crm.OrgDomain(v[website], v[email]) }),
	}
	if k := o.UniqueIdentifier; k != "" {
		w.match.UniqueField = c.Index(k)
	}
	w.rows = records.Applier{
		Noun:     "prospect",
		Options:  o,
		Policies: records.Policies(c, o),
		IDs:      store.NewIDPool("prospect"),
		Resolve: func(ctx context.Context, q store.Querier, i int, values []string) (string, error) {
			if i != w.org {
				return values[i], nil
			}
			return w.linking.Resolve(ctx, q, values)
		},
		OnChange: func(i int) {
			if i == w.org {
				w.linked++
			}
		},
		Same: func(i int, a, b string) bool { return i == email && strings.EqualFold(a, b) },
		Completed: func(r *records.Record) {
			if r.Values[leadSource] == "" && o.LeadSource != "" {
				r.Values[leadSource] = o.LeadSource
			}
		},
	}
	return w
}

// Write applies and writes one batch in tx.
func (s *writer) Write(ctx context.Context, tx pgx.Tx, b *pipeline.Batch) error {
	room, err := reserveRoom(ctx, tx, s.plan.Account.ID, !s.plan.DryRun)
	if err != nil {
		return err
	}
	s.rows.Admit = func(*pipeline.Row) (string, string) {
		if !room.take() {
			return pipeline.ReasonOverLimit, room.limitDetail()
		}
		return "", ""
	}
	idx, err := loadIndex(ctx, tx, s.match, b.Rows)
	if err != nil {
		return err
	}
	if s.linking, err = s.orgs.Load(ctx, tx, b.Rows); err != nil {
		return err
	}
	s.linked = 0
	created, changed, err := s.rows.Apply(ctx, tx, idx.Index, b.Rows)
	if err != nil {
		return err
	}
	b.Count(CounterOrgsLinked, s.linked)
	orgsCreated, err := s.linking.Write(ctx, tx)
	if err != nil {
		return err
	}
	b.Count(CounterOrgsCreated, orgsCreated)
	// Emails may have moved between prospects: free the old ones, then write the final state.
	var moved []int64
	for _, p := range changed {
		if idx.emailMoved(p) {
			moved = append(moved, p.ID)
		}
	}
	if err := store.ClearEmails(ctx, tx, s.plan.Account.ID, moved); err != nil {
		return err
	}
	if err := store.UpdateProspects(ctx, tx, s.plan.Catalog, s.plan.Account.ID, records.Plain(changed)); err != nil {
		return err
	}
	if err := store.InsertProspects(ctx, tx, s.plan.Catalog, s.plan.Account.ID, records.Plain(created)); err != nil {
		return err
	}
	if err := s.addMembers(ctx, tx, members(b.Rows)); err != nil {
		return err
	}
	return room.commit(ctx, tx)
}

// members are the prospects the batch's rows created, updated or left unchanged, each once.
func members(rows []pipeline.Row) []int64 {
	ids := make([]int64, 0, len(rows))
	seen := make(map[int64]bool, len(rows))
	for i := range rows {
		if id := rows[i].EntityID; !rows[i].Skipped() && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids
}

// addMembers puts the batch's prospects in the import's list, tags and campaign, creating
// those on first use.
func (s *writer) addMembers(ctx context.Context, tx pgx.Tx, prospectIDs []int64) error {
	if len(prospectIDs) == 0 {
		return nil
	}
	if !s.groupingsReady {
		o := s.plan.Options
		want := map[string][]string{store.KindList: {o.List}, store.KindTag: o.Tags, store.KindCampaign: {o.Campaign}}
		for _, kind := range []string{store.KindList, store.KindTag, store.KindCampaign} {
			for _, name := range want[kind] {
				if name = strings.TrimSpace(name); name == "" {
					continue
				}
				id, err := store.EnsureGrouping(ctx, tx, s.plan.Account.ID, kind, name)
				if err != nil {
					return err
				}
				s.groupings = append(s.groupings, id)
			}
		}
		s.groupingsReady = true
	}
	return store.AddMembers(ctx, tx, s.groupings, prospectIDs, s.plan.ImportID)
}
