package prospects

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/kind"
	"github.com/leadpipe/leadpipe/kinds/internal/apply"
	"github.com/leadpipe/leadpipe/kinds/internal/orglink"
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
// cannot run as separate pipelined stages without changing outcomes. What can run ahead is
// reading: Prepare reads a batch's matches on another connection while the batch before
// commits, and Write uses them only when nothing but that batch wrote since (lookups;
// docs/architecture.md, "Reading ahead").

// writer writes the batches of one import. It is safe for one goroutine.
type writer struct {
	plan                            *kind.Plan
	match                           matchConfig
	policies                        apply.Policies
	orgs                            *orglink.Linker
	known                           *orglink.Known // the organizations the import linked to
	org, website, email, leadSource int
	keep                            *apply.Keeper
	dirty                           []bool // the fields the batch being written changed in stored prospects

	prospectIDs    *store.IDPool
	groupings      []int64 // lists, tags and campaign of the import, once created
	groupingsReady bool

	last    written // what the batch before wrote, for the next batch to lay over what it read
	pending written // what the batch being written wrote, until it commits (Committed)
}

// Committed makes what the batch just committed the batch before of the next one, and
// remembers the organizations it linked to (pipeline.Preparer). A batch that did not commit
// leaves neither: its writes, and its count in write_seq, were rolled back.
func (s *writer) Committed(*pipeline.Batch) {
	s.last, s.pending = s.pending, written{}
	if !s.plan.DryRun {
		s.known.Keep(s.last.orgs)
	}
}

// written is what a batch wrote into the account, and when.
type written struct {
	seq     int64     // the account's write_seq, counting the batch
	at      time.Time // the batch's transaction time
	idx     *matchIndex
	changed map[int64]*prospect // the stored prospects it changed, by id
	orgs    *orglink.Batch
}

// prepared is what Prepare read for a batch, in one snapshot: the prospects and organizations
// its rows may match, and the account's write_seq.
type prepared struct {
	seq  int64
	idx  *matchIndex
	orgs *orglink.Batch
	// groupings are the ids of the import's groupings, when they all existed, and members
	// those of the loaded prospects that were members of all of them.
	groupings []int64
	members   map[int64]bool
}

// Prepare reads ahead, on a connection of its own and in one snapshot, the prospects and
// organizations the batch's rows may match (pipeline.Preparer). It reads only the plan, which
// nothing changes while the import runs.
func (s *writer) Prepare(ctx context.Context, tx pgx.Tx, b *pipeline.Batch) error {
	seq, err := store.WriteSeq(ctx, tx, s.plan.Account.ID)
	if err != nil {
		return err
	}
	idx, err := loadIndex(ctx, tx, s.match, b.Rows)
	if err != nil {
		return err
	}
	orgs, err := s.orgs.LoadKnowing(ctx, tx, b.Rows, s.known)
	if err != nil {
		return err
	}
	p := &prepared{seq: seq, idx: idx, orgs: orgs}
	if err := s.prepareMembers(ctx, tx, p); err != nil {
		return err
	}
	b.Prepared = p
	return nil
}

// prepareMembers reads which of the prospects Prepare loaded already are in every grouping the
// import's prospects join, so that Write inserts no membership for them: on a re-import that
// is every prospect, and the check is read on Prepare's connection instead of written on the
// batch's. It reads nothing until every grouping exists.
func (s *writer) prepareMembers(ctx context.Context, tx pgx.Tx, p *prepared) error {
	names := s.groupingNames()
	if len(names) == 0 || len(p.idx.loaded) == 0 {
		return nil
	}
	ids, ok, err := store.FindGroupings(ctx, tx, s.plan.Account.ID, names)
	if err != nil || !ok {
		return err
	}
	loaded := make([]int64, len(p.idx.loaded))
	for i, q := range p.idx.loaded {
		loaded[i] = q.ID
	}
	if p.members, err = store.MembersOfAll(ctx, tx, ids, loaded); err != nil {
		return err
	}
	p.groupings = ids
	return nil
}

// lookups returns the prospects and organizations the batch's rows may match. room is the
// account as the batch found it under its lock.
//
// When Prepare read them and nothing but this import's batch before wrote into the account
// since its snapshot, they are what it read, with that batch's writes laid over them;
// otherwise they are read now, in tx. The organizations the import already knows (s.known)
// are not read again while only the import writes into the account; once something else did,
// it forgets them.
func (s *writer) lookups(ctx context.Context, tx pgx.Tx, b *pipeline.Batch, room *room) (*matchIndex, *orglink.Batch, map[int64]bool, error) {
	known := s.known
	if s.plan.DryRun {
		known = nil // a dry run's batches count nothing in write_seq
	}
	before := room.Seq - 1 // write_seq as the batches before left it
	if known != nil && before != s.last.seq {
		known.Forget() // something else wrote into the account since the import's last batch
	}
	var idx *matchIndex
	var orgs *orglink.Batch
	var members map[int64]bool
	if p, ok := b.Prepared.(*prepared); ok && known != nil {
		switch {
		case before == p.seq:
			idx, orgs = p.idx, p.orgs
		case before == s.last.seq && s.last.seq == p.seq+1:
			p.idx.overlay(s.last.idx, s.last.changed, s.last.at, b.Rows)
			p.orgs.Carry(s.last.orgs)
			idx, orgs = p.idx, p.orgs
		}
		pipeline.CountPrepared(idx != nil)
		if orgs != nil && !known.Holds(orgs) {
			orgs = nil
		}
		// Only this import wrote since the snapshot, and its batches add memberships, never
		// take them away: who was a member then still is.
		if idx != nil && s.groupingsReady && slices.Equal(p.groupings, s.groupings) {
			members = p.members
		}
	}
	var err error
	if idx == nil {
		if idx, err = loadIndex(ctx, tx, s.match, b.Rows); err != nil {
			return nil, nil, nil, err
		}
	}
	if orgs == nil {
		if orgs, err = s.orgs.LoadKnowing(ctx, tx, b.Rows, known); err != nil {
			return nil, nil, nil, err
		}
	}
	return idx, orgs, members, nil
}

// newWriter returns the writer of a plan's batches.
func newWriter(p *kind.Plan) *writer {
	c, o := p.Catalog, p.Options
	w := &writer{
		plan:        p,
		match:       matchConfig{Catalog: c, AccountID: p.Account.ID, UniqueField: -1, MatchByName: o.MatchByName},
		policies:    apply.NewPolicies(c, o),
		org:         c.MustIndex(crm.FieldOrganization),
		website:     c.MustIndex(crm.FieldWebsite),
		email:       c.MustIndex(crm.FieldEmail),
		leadSource:  c.MustIndex(crm.FieldLeadSource),
		prospectIDs: store.NewIDPool("prospect"),
		known:       orglink.NewKnown(),
		keep:        apply.NewKeeper(c, store.StoredProspectFields(c)),
	}
	w.orgs = orglink.New(c, p.Account.ID, func(v []string) string { return crm.OrgDomain(v[w.website], v[w.email]) })
	if k := o.UniqueIdentifier; k != "" {
		w.match.UniqueField = c.Index(k)
	}
	return w
}

// Write applies and writes one batch in tx.
func (s *writer) Write(ctx context.Context, tx pgx.Tx, b *pipeline.Batch) error {
	room, err := reserveRoom(ctx, tx, s.plan.Account.ID, !s.plan.DryRun)
	if err != nil {
		return err
	}
	idx, orgs, already, err := s.lookups(ctx, tx, b, room)
	if err != nil {
		return err
	}
	var created, changed []*prospect
	members := membersOf{already: already}
	s.dirty = slices.Grow(s.dirty[:0], len(s.plan.Catalog.Fields))[:len(s.plan.Catalog.Fields)]
	clear(s.dirty)
	inBatch := make(map[int64]bool, len(b.Rows))
	for i := range b.Rows {
		r := &b.Rows[i]
		if r.Skipped() {
			continue
		}
		p := idx.match(r.Values)
		var matched int64
		if p != nil {
			matched = p.ID
		}
		isNew := p == nil
		if reason, detail := apply.Skip(s.plan.Options, s.plan.Kind.Noun(), matched); reason != "" {
			r.Skip(reason, detail)
			continue
		}
		switch {
		case p == nil && !room.take():
			r.Skip(pipeline.ReasonOverLimit, room.limitDetail())
			continue
		case p == nil:
			id, err := s.prospectIDs.Next(ctx, tx)
			if err != nil {
				return err
			}
			p = &prospect{Prospect: store.Prospect{ID: id, Values: make([]string, len(r.Values))}, Tracked: apply.Tracked{Created: true}}
			if err := s.apply(ctx, tx, idx, orgs, b, p, r, true); err != nil {
				return err
			}
			idx.add(p)
			created = append(created, p)
			r.Outcome = pipeline.Created
		default:
			before := p.Edits
			s.keep.Before(p.Values)
			if err := s.apply(ctx, tx, idx, orgs, b, p, r, false); err != nil {
				return err
			}
			var first bool
			if r.Outcome, first = p.Outcome(before); first {
				changed = append(changed, p)
			}
			s.keep.Keep(r, first, &p.Prospect)
		}
		r.EntityID = p.ID
		if !inBatch[p.ID] {
			inBatch[p.ID] = true
			members.add(p.ID, isNew)
		}
	}
	orgsCreated, err := orgs.Write(ctx, tx)
	if err != nil {
		return err
	}
	b.Count(orglink.CounterCreated, orgsCreated)
	// Emails may have moved between prospects: free the old ones, then write the final state.
	var moved []int64
	for _, p := range changed {
		if p.emailMoved(s.email) {
			moved = append(moved, p.ID)
		}
	}
	if err := store.ClearEmails(ctx, tx, s.plan.Account.ID, moved); err != nil {
		return err
	}
	if err := store.UpdateProspects(ctx, tx, s.plan.Catalog, s.plan.Account.ID, plain(changed), s.dirty); err != nil {
		return err
	}
	if err := store.InsertProspects(ctx, tx, s.plan.Catalog, s.plan.Account.ID, plain(created)); err != nil {
		return err
	}
	if err := s.addMembers(ctx, tx, members); err != nil {
		return err
	}
	if err := room.commit(ctx, tx); err != nil {
		return err
	}
	s.pending = written{seq: room.Seq, at: room.At, idx: idx, changed: make(map[int64]*prospect, len(changed)), orgs: orgs}
	for _, p := range changed {
		s.pending.changed[p.ID] = p
	}
	return nil
}

// apply sets the row's values on p under the field policies (SPEC §5) and counts each real
// change in p.Edits. isNew says p is being created by this row, not yet indexed.
func (s *writer) apply(ctx context.Context, tx pgx.Tx, idx *matchIndex, orgs *orglink.Batch, b *pipeline.Batch, p *prospect, r *pipeline.Row, isNew bool) error {
	for i, v := range r.Values {
		cur := p.Values[i]
		if !s.policies.Takes(i, cur, v) {
			continue
		}
		if i == s.org {
			id, err := orgs.Resolve(ctx, tx, r)
			if err != nil {
				return err
			}
			if v = id; v == "" {
				continue
			}
		}
		if v = s.policies.Value(i, cur, v); cur == v || (i == s.email && strings.EqualFold(cur, v)) {
			continue
		}
		if isNew {
			p.Values[i] = v
		} else {
			idx.set(p, i, v)
			s.dirty[i] = true
		}
		p.Edits++
		if i == s.org {
			b.Count(orglink.CounterLinked, 1)
		}
	}
	if isNew && p.Values[s.leadSource] == "" && s.plan.Options.LeadSource != "" {
		p.Values[s.leadSource] = s.plan.Options.LeadSource
	}
	return nil
}

func plain(ps []*prospect) []store.Prospect {
	out := make([]store.Prospect, len(ps))
	for i, p := range ps {
		out[i] = p.Prospect
	}
	return out
}

// groupingNames are the list, tags and campaign the import's prospects join.
func (s *writer) groupingNames() []store.Grouping {
	o := s.plan.Options
	var out []store.Grouping
	want := map[string][]string{store.KindList: {o.List}, store.KindTag: o.Tags, store.KindCampaign: {o.Campaign}}
	for _, kind := range []string{store.KindList, store.KindTag, store.KindCampaign} {
		for _, name := range want[kind] {
			if name = strings.TrimSpace(name); name != "" {
				out = append(out, store.Grouping{Kind: kind, Name: name})
			}
		}
	}
	return out
}

// membersOf are the prospects of a batch that join the import's groupings: those the batch
// created, which cannot be members of anything yet, and those it found.
// Found prospects that already are members of every grouping (already, when Prepare read it
// and it still holds) are left out.
type membersOf struct {
	created, found []int64
	already        map[int64]bool
}

func (m *membersOf) add(id int64, created bool) {
	switch {
	case created:
		m.created = append(m.created, id)
	case !m.already[id]:
		m.found = append(m.found, id)
	}
}

// addMembers puts the batch's prospects in the import's list, tags and campaign, creating
// those on first use.
func (s *writer) addMembers(ctx context.Context, tx pgx.Tx, m membersOf) error {
	if len(m.created)+len(m.found) == 0 {
		return nil
	}
	if !s.groupingsReady {
		for _, g := range s.groupingNames() {
			id, err := store.EnsureGrouping(ctx, tx, s.plan.Account.ID, g.Kind, g.Name, s.plan.ImportID)
			if err != nil {
				return err
			}
			s.groupings = append(s.groupings, id)
		}
		s.groupingsReady = true
	}
	if err := store.AddNewMembers(ctx, tx, s.groupings, m.created, s.plan.ImportID); err != nil {
		return err
	}
	return store.AddMembers(ctx, tx, s.groupings, m.found, s.plan.ImportID)
}
