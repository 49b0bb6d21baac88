package prospects

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
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
// the account's quota lock, applies the rows one at a time in file order in memory (SPEC §5–§9)
// to the prospects and organizations the batch can match, then writes new organizations and
// prospects with COPY, changed prospects with one UPDATE, and memberships; the engine then
// records the batch's outcomes and checkpoint and commits them together. A batch applied ahead
// has its outcomes, its new prospects' memberships and the update of the stored prospects only
// it changes written first, in the same transaction, before the batch before commits
// (WriteAhead; docs/architecture.md, "Writing ahead" and "Updating ahead").
//
// Matching, quota and writing share one transaction on purpose: a batch must see every write of
// the batches before it, and the limit must hold against concurrent imports, so these three
// cannot run as separate pipelined stages without changing outcomes. What can run ahead is
// reading and applying: Prepare reads a batch's matches on another connection while the batch
// before is written, lays over them what that batch applied, and applies the batch; Write uses
// the result only when, under the lock, nothing but that batch wrote into the account since
// and the limit left the room the apply assumed (docs/architecture.md, "Reading ahead").

// writer writes the batches of one import. Write and Committed run in one goroutine, Prepare
// in another, and WriteAhead in one of its own per batch (pipeline.Preparer). Prepare and
// Write both apply batches, with keep, prospectIDs and the id pool of orgs, under applying:
// Prepare only after ahead.wait, which orders its apply of a batch after the batch before was
// applied and handed off, and Write, when what was handed off did not hold, at the same time
// as Prepare's apply of the next batch, which then does not hold either. WriteAhead reads
// groupings only after ahead.wait, and Write sets them only before ahead.put
// (ensureGroupings), while no batch was handed off ahead (handOffAhead). known and own have a
// mutex.
type writer struct {
	plan                            *kind.Plan
	match                           matchConfig
	policies                        apply.Policies
	orgs                            *orglink.Linker
	known                           *orglink.Known // the organizations the import linked to
	own                             ownWrites      // the identities it wrote, while it alone writes into an account it found empty
	org, website, email, leadSource int
	keep                            *apply.Keeper

	prospectIDs    *store.IDPool
	groupings      []int64 // lists, tags and campaign of the import, once created
	groupingsReady bool

	last    written // what the batch before committed
	pending written // what the batch being written wrote, until it commits (Committed)

	ahead    handoff    // what each batch applied, for Prepare to lay over the next one
	nextUp   int        // the number of the next batch Prepare reads for, from 0
	applying sync.Mutex // held by applyRows
}

var _ pipeline.Preparer = (*writer)(nil)

// Committed makes what the batch just committed the batch before of the next one, and
// remembers the organizations it linked to (pipeline.Preparer). A batch that did not commit
// leaves neither: its writes, and its count in write_seq, were rolled back.
func (s *writer) Committed(*pipeline.Batch) {
	s.last, s.pending = s.pending, written{}
	if !s.plan.DryRun {
		s.known.Keep(s.last.orgs)
		s.own.committed(s.last.seq)
	}
}

// written is what a batch wrote into the account, and when.
type written struct {
	seq     int64     // the account's write_seq, counting the batch
	at      time.Time // the batch's transaction time
	taken   int64     // the prospects it added to the account's count
	idx     *matchIndex
	changed map[int64]*prospect // the stored prospects it changed, by id
	orgs    *orglink.Batch
}

// prepared is what Prepare read for a batch, in one snapshot — the account's room and
// write_seq, the prospects and organizations its rows may match — and the batch applied on it.
type prepared struct {
	room store.Room // as of the snapshot, unlocked
	idx  *matchIndex
	orgs *orglink.Batch
	// groupings are the ids of the import's groupings, when they all existed, and members
	// those of the loaded prospects that were members of all of them.
	groupings []int64
	members   map[int64]bool
	// ahead is the batch applied on what was read, with what the batch before applied laid
	// over it (laidOver: that batch's index, nil when the snapshot had its writes); nil when
	// a writer other than the batch before counted in write_seq between the snapshot and that
	// batch's lock. before is the write_seq it assumes the batch finds under the lock, less the
	// batch's own count.
	ahead    *applied
	before   int64
	laidOver *matchIndex
	// handedOff says WriteAhead handed the batch off to the next one's apply (handoff.put)
	// as applied here, before Write found whether that holds.
	handedOff bool
}

// Prepare reads ahead, on a connection of its own and in one snapshot, the prospects and
// organizations the batch's rows may match, and applies the batch on them (pipeline.Preparer).
// It reads only the plan, which nothing changes while the import runs, and takes prospect and
// organization ids in tx.
func (s *writer) Prepare(ctx context.Context, tx pgx.Tx, b *pipeline.Batch) error {
	n := s.nextUp
	s.nextUp++
	rm, err := store.ProspectRoom(ctx, tx, s.plan.Account.ID, false)
	if err != nil {
		return err
	}
	if n == 0 && !s.plan.DryRun {
		s.own.start(rm.Seq, rm.Count)
	}
	idx, err := loadIndex(ctx, tx, s.match, b.Rows, s.own.asOf(rm.Seq))
	if err != nil {
		return err
	}
	orgs, err := s.orgs.LoadKnowing(ctx, tx, b.Rows, s.known)
	if err != nil {
		return err
	}
	p := &prepared{room: rm, idx: idx, orgs: orgs}
	if err := s.prepareMembers(ctx, tx, p); err != nil {
		return err
	}
	b.Prepared = p
	return s.applyAhead(ctx, tx, b, p, n)
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

// applyAhead applies batch n (from 0) on what Prepare read for it, once Write has applied
// batch n-1 under its lock. The snapshot lacks at most batch n-1's writes (the engine prepares
// batch n only once batch n-2 has committed), and those are laid over it: each prospect read
// that n-1 changed is replaced by n-1's version, each prospect n-1 holds under an identity of
// the rows is added, and so are the organizations it created. When the snapshot shows that
// something else wrote into the account, it applies nothing, and Write applies the batch
// under its lock.
func (s *writer) applyAhead(ctx context.Context, tx pgx.Tx, b *pipeline.Batch, p *prepared, n int) error {
	prev, err := s.ahead.wait(ctx, n)
	if err != nil {
		return err
	}
	count := p.room.Count
	switch {
	case n == 0 || p.room.Seq == prev.seq:
		p.before = p.room.Seq
	case p.room.Seq+1 == prev.seq:
		p.before = prev.seq
		count += prev.taken
	default:
		return nil
	}
	if !s.known.Holds(p.orgs) { // the import forgot organizations since Prepare took them
		if p.orgs, err = s.orgs.LoadKnowing(ctx, tx, b.Rows, s.known); err != nil {
			return err
		}
	}
	if p.before != p.room.Seq {
		p.idx.overlay(prev.idx, prev.changed, prev.at, b.Rows)
		p.orgs.Carry(prev.orgs)
		p.laidOver = prev.idx
	}
	rm := &room{Room: store.Room{Limit: p.room.Limit, Count: count}, accountID: s.plan.Account.ID}
	if p.ahead, err = s.applyRows(ctx, tx, b, p.idx, p.orgs, rm); err != nil {
		return err
	}
	return s.encodeUpdate(p.ahead, tx, true)
}

// WriteAhead writes the batch as Prepare applied it, when it did, in the batch's own
// transaction while the batch before is written (pipeline.Preparer). It hands the batch off to
// the next one's apply (handOffAhead). It adds the prospects the batch creates to the import's
// groupings, when they exist: no other transaction knows the new prospects' ids, so none can
// touch their memberships. It reads the groupings after Prepare's wait for the batch before,
// which set them up under its lock when it had members. And it runs the early update
// (applied.early) of stored prospects the batch before does not write, so that batch never
// waits for it; it waits for another writer's rows no longer than earlyLockWait, and gives the
// early update up then; and when another writer comes to wait for the rows it updated, Write
// gives them back before it waits for that writer (lock).
func (s *writer) WriteAhead(ctx context.Context, tx pgx.Tx, b *pipeline.Batch) (bool, error) {
	p, ok := b.Prepared.(*prepared)
	if !ok || p.ahead == nil {
		return false, nil
	}
	a := p.ahead
	if s.groupingsReady {
		if err := s.handOffAhead(ctx, tx, p); err != nil {
			return false, err
		}
	}
	if s.groupingsReady && len(a.members.created) > 0 {
		if err := store.AddNewMembers(ctx, tx, s.groupings, a.members.created, s.plan.ImportID); err != nil {
			return false, err
		}
		a.joinedAhead = true
	}
	if !a.early.Empty() {
		n, ran, err := a.early.ExecUnlessLocked(ctx, tx, earlyLockWait)
		if err != nil {
			return false, fmt.Errorf("update prospects ahead: %w", err)
		}
		a.updatedAhead, a.earlySkipped = ran, !ran || n < int64(len(a.earlyRows))
	}
	return true, nil
}

// earlyLockWait is the longest an early update waits for a lock another transaction holds
// before it gives up and the batch is applied again under the account's lock. Its row locks
// are all taken in that one statement, so another writer can have waited for one of them no
// longer than the statement has run (a few hundred ms for 5,000 rows on a busy machine): in a
// cycle, the early update gives up before Postgres's deadlock check (deadlock_timeout, 1 s by
// default) ends either transaction.
const earlyLockWait = 50 * time.Millisecond

// handOffAhead hands the batch, as Prepare applied it, off to the next batch's apply before
// Write finds whether that apply holds, so that the next batch is applied, and its early update
// sent, while this one's runs: when it holds, it is what Write hands off, with the write_seq it
// assumed and the time of the batch's transaction; when it does not, the next batch's apply,
// laid over a batch that is not what committed, does not hold either (heldAhead). Only once
// the import's groupings are set up: a batch before that may set them up in Write, and the
// next batch's WriteAhead reads them.
func (s *writer) handOffAhead(ctx context.Context, tx pgx.Tx, p *prepared) error {
	var at time.Time
	if err := tx.QueryRow(ctx, "SELECT now()").Scan(&at); err != nil {
		return err
	}
	a := p.ahead
	s.ahead.put(writtenBy(a, p.before+1, at, a.room.taken), true)
	p.handedOff = true
	return nil
}

// writtenBy is what a wrote into the account: a batch at write_seq seq, at its transaction's
// time, taking room for taken new prospects.
func writtenBy(a *applied, seq int64, at time.Time, taken int64) written {
	w := written{seq: seq, at: at, taken: taken, idx: a.idx, changed: make(map[int64]*prospect, len(a.changed)), orgs: a.orgs}
	for _, p := range a.changed {
		w.changed[p.ID] = p
	}
	return w
}

// encodeUpdate encodes the update of the stored prospects a changed, with the types of q's
// connection, for Write to send (store.Encoded): ahead, where the batch was applied, off the
// batch's transaction. Applied ahead, those WriteAhead may update early go in a.early: the
// prospects the batch read in its own snapshot and changed, their email left as it was. The
// others are what the batch before wrote (laid over the snapshot: it may not have committed,
// and updating them would wait for it, or find nothing of a prospect it created) and the
// prospects whose email changes, even from none: a new key in the unique email index may
// wait for, or fail on, whoever holds it until store.ClearEmails frees it, under the lock. The
// early update leaves the email column as it is, so its index entries are the rows' own keys;
// it waits for a row another transaction holds no longer than earlyLockWait, and when it
// gives up, it wrote nothing and the apply does not hold (applied.earlySkipped). It finds each
// prospect only at its row's address as the batch read it (store.EncodeProspectUpdateAtAddress):
// a row moved since, by another writer, is left as it is, and the apply does not hold either.
func (s *writer) encodeUpdate(a *applied, q pgx.Tx, ahead bool) (err error) {
	m, c, acct := q.Conn().TypeMap(), s.plan.Catalog, s.plan.Account.ID
	late := a.changed
	if ahead {
		late = nil
		for _, p := range a.changed {
			if p.Addr.Valid && p.StoredEmail == p.Values[s.email] {
				a.earlyRows = append(a.earlyRows, p)
			} else {
				late = append(late, p)
			}
		}
		dirty := slices.Clone(a.dirty)
		dirty[s.email] = false
		if a.early, err = store.EncodeProspectUpdateAtAddress(m, c, acct, plain(a.earlyRows), dirty); err != nil {
			return err
		}
	}
	a.update, err = store.EncodeProspectUpdate(m, c, acct, plain(late), a.dirty)
	return err
}

// heldAhead returns the batch as Prepare applied it when that holds under the lock: room is
// the account as the batch found it, and only the batch before wrote into the account since
// Prepare's snapshot, leaving the room the apply assumed. What was laid over must be what the
// batch before committed: a batch rolled back took its count in write_seq with it, and another
// writer may have taken that count since. Otherwise it takes back what the apply set on the
// batch's rows and returns nil.
func (s *writer) heldAhead(b *pipeline.Batch, room *room) *applied {
	p, ok := b.Prepared.(*prepared)
	if !ok || s.plan.DryRun {
		return nil
	}
	a := p.ahead
	if a != nil && !a.earlySkipped && room.Seq-1 == p.before && (p.laidOver == nil || p.laidOver == s.last.idx) &&
		room.Count == a.room.Count && sameLimit(room.Limit, a.room.Limit) && s.known.Holds(a.orgs) {
		room.taken = a.room.taken
		pipeline.CountPrepared(true)
		return a
	}
	if a != nil {
		a.takeBack(b)
	}
	pipeline.CountPrepared(false)
	return nil
}

// takeBackAhead takes back all that was written of the batch ahead — the memberships, the
// early update and the outcomes the engine stored (pipeline.Batch.TakeBackAhead) — and with
// it the account's lock when the batch took it since. It reports whether there was anything
// to take back.
func (s *writer) takeBackAhead(ctx context.Context, b *pipeline.Batch) (bool, error) {
	p, ok := b.Prepared.(*prepared)
	if !ok || p.ahead == nil || !b.WrittenAhead() {
		return false, nil
	}
	p.ahead.joinedAhead, p.ahead.updatedAhead = false, false
	return true, b.TakeBackAhead(ctx)
}

// giveWay makes the next batch give back what it wrote ahead (pipeline.Batch.GiveWay), when
// this one was handed off to its apply ahead: the next batch may then have updated early
// prospects another writer, or this batch applied again, waits for.
func (s *writer) giveWay(ctx context.Context, b *pipeline.Batch) error {
	if p, ok := b.Prepared.(*prepared); ok && p.handedOff {
		return b.GiveWay(ctx)
	}
	return nil
}

func sameLimit(a, b *int64) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

// lookups reads, in tx, the prospects and organizations the batch's rows may match, under the
// account's lock at write_seq seq (less the batch's own count). The organizations the import
// already knows (s.known) are not read again, nor the identities it knows no prospect has
// (s.own): Write has it forget both once something else wrote into the account.
func (s *writer) lookups(ctx context.Context, tx pgx.Tx, b *pipeline.Batch, seq int64) (*matchIndex, *orglink.Batch, error) {
	known := s.known
	if s.plan.DryRun {
		known = nil // a dry run's batches count nothing in write_seq
	}
	idx, err := loadIndex(ctx, tx, s.match, b.Rows, s.own.asOf(seq))
	if err != nil {
		return nil, nil, err
	}
	orgs, err := s.orgs.LoadKnowing(ctx, tx, b.Rows, known)
	if err != nil {
		return nil, nil, err
	}
	return idx, orgs, nil
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

// lock takes the account's lock for the batch and counts it in write_seq (reserveRoom); a dry
// run only reads the room. A batch updated ahead holds the locks of stored prospects' rows,
// and so may the next batch when this one was handed off to it: another writer holding the
// account's lock may wait for them. The batch then takes the lock only if no one holds it;
// otherwise it gives back what it wrote ahead, and so does the next batch, before it waits, so
// that none of them waits for another without end (docs/architecture.md, "Updating ahead").
func (s *writer) lock(ctx context.Context, tx pgx.Tx, b *pipeline.Batch) (*room, error) {
	id := s.plan.Account.ID
	if s.plan.DryRun {
		return reserveRoom(ctx, tx, id, false)
	}
	var rm *room
	if p, ok := b.Prepared.(*prepared); ok && (p.handedOff || (p.ahead != nil && p.ahead.updatedAhead)) {
		r, free, err := store.TryProspectRoom(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		if free {
			rm = &room{Room: r, accountID: id}
		} else {
			if _, err := s.takeBackAhead(ctx, b); err != nil {
				return nil, err
			}
			if err := s.giveWay(ctx, b); err != nil {
				return nil, err
			}
		}
	}
	if rm == nil {
		var err error
		if rm, err = reserveRoom(ctx, tx, id, true); err != nil {
			return nil, err
		}
	}
	if rm.Seq-1 != s.last.seq {
		s.known.Forget() // something else wrote into the account since the import's last batch
	}
	s.own.lockedAt(rm.Seq - 1)
	return rm, nil
}

// Write writes one batch in tx: as Prepare applied it when that holds, or else applied now,
// under the account's lock.
func (s *writer) Write(ctx context.Context, tx pgx.Tx, b *pipeline.Batch) error {
	if p, ok := b.Prepared.(*prepared); ok && p.ahead != nil && !b.WrittenAhead() {
		p.ahead.joinedAhead, p.ahead.updatedAhead = false, false // given back: the batch before gave way
	}
	room, err := s.lock(ctx, tx, b)
	if err != nil {
		return err
	}
	a := s.heldAhead(b, room)
	if a == nil {
		// Applied again, the batch may write what the next batch wrote ahead.
		if err := s.giveWay(ctx, b); err != nil {
			return err
		}
		if undone, err := s.takeBackAhead(ctx, b); err != nil {
			return err
		} else if undone { // the lock went with what was written ahead
			if room, err = s.lock(ctx, tx, b); err != nil {
				return err
			}
		}
		idx, orgs, err := s.lookups(ctx, tx, b, room.Seq-1)
		if err != nil {
			return err
		}
		if a, err = s.applyRows(ctx, tx, b, idx, orgs, room); err != nil {
			return err
		}
		if err := s.encodeUpdate(a, tx, false); err != nil {
			return err
		}
	}
	s.pending = writtenBy(a, room.Seq, room.At, room.taken)
	s.own.wrote(a.idx, a.created, a.changed)
	if len(a.members.created)+len(a.members.found) > 0 {
		if err := s.ensureGroupings(ctx, tx); err != nil {
			return err
		}
	}
	switch p, read := b.Prepared.(*prepared); {
	case !read || !p.handedOff:
		s.ahead.put(s.pending, read)
	case a != p.ahead: // handed off as applied ahead, which did not hold
		s.ahead.replace(p.ahead.idx, s.pending)
	}

	orgsCreated, err := a.orgs.Write(ctx, tx)
	if err != nil {
		return err
	}
	b.Count(orglink.CounterCreated, orgsCreated)
	// Emails may have moved between prospects: free the old ones, then write the final state.
	var moved []int64
	for _, p := range a.changed {
		if p.emailMoved(s.email) {
			moved = append(moved, p.ID)
		}
	}
	if err := store.ClearEmails(ctx, tx, s.plan.Account.ID, moved); err != nil {
		return err
	}
	if !a.updatedAhead && len(a.earlyRows) > 0 { // given back: sent now, as any update under the lock
		early, err := store.EncodeProspectUpdate(tx.Conn().TypeMap(), s.plan.Catalog, s.plan.Account.ID, plain(a.earlyRows), a.dirty)
		if err != nil {
			return err
		}
		if err := early.Exec(ctx, tx); err != nil {
			return fmt.Errorf("update prospects: %w", err)
		}
	}
	if err := a.update.Exec(ctx, tx); err != nil {
		return fmt.Errorf("update prospects: %w", err)
	}
	if err := store.InsertProspects(ctx, tx, s.plan.Catalog, s.plan.Account.ID, plain(a.created)); err != nil {
		return err
	}
	members := a.members
	if a.joinedAhead {
		members.created = nil
	}
	if err := s.addMembers(ctx, tx, members, s.alreadyMembers(b, a)); err != nil {
		return err
	}
	return room.commit(ctx, tx)
}

// applied is a batch applied in memory: its rows carry their outcomes, skips and undo records,
// and it holds what is left to write.
type applied struct {
	room             *room // the room it took from: as the apply assumed it, or as found under the lock
	idx              *matchIndex
	orgs             *orglink.Batch
	created, changed []*prospect
	members          membersOf
	dirty            []bool        // the fields it changed in stored prospects
	early, update    store.Encoded // the update of changed, to send: early WriteAhead may send (encodeUpdate)
	earlyRows        []*prospect   // the prospects early updates
	decided          []int         // the rows it decided: those no earlier stage skipped
	joinedAhead      bool          // created joined the import's groupings ahead (WriteAhead)
	updatedAhead     bool          // early, not empty, was sent ahead (WriteAhead)
	earlySkipped     bool          // and left a prospect whose row another transaction held or moved
}

// applyRows applies the batch's rows one at a time, in file order, to the prospects idx holds,
// linking organizations through orgs and taking room for new prospects; ids come through q.
func (s *writer) applyRows(ctx context.Context, q store.Querier, b *pipeline.Batch, idx *matchIndex, orgs *orglink.Batch, room *room) (*applied, error) {
	s.applying.Lock()
	defer s.applying.Unlock()
	a := &applied{room: room, idx: idx, orgs: orgs, dirty: make([]bool, len(s.plan.Catalog.Fields))}
	inBatch := make(map[int64]bool, len(b.Rows))
	for i := range b.Rows {
		r := &b.Rows[i]
		if r.Skipped() {
			continue
		}
		a.decided = append(a.decided, i)
		p := idx.match(idx.rowEmails[i], r.Values)
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
			id, err := s.prospectIDs.Next(ctx, q)
			if err != nil {
				return nil, err
			}
			p = idx.created(id, i, r.Values)
			if err := s.apply(ctx, q, a, b, p, r, true); err != nil {
				return nil, err
			}
			idx.add(p)
			a.created = append(a.created, p)
			r.Outcome = pipeline.Created
		default:
			before := p.Edits
			s.keep.Before(p.Values)
			if err := s.apply(ctx, q, a, b, p, r, false); err != nil {
				return nil, err
			}
			var first bool
			if r.Outcome, first = p.Outcome(before); first {
				a.changed = append(a.changed, p)
			}
			s.keep.Keep(r, first, &p.Prospect)
		}
		r.EntityID = p.ID
		if !inBatch[p.ID] {
			inBatch[p.ID] = true
			a.members.add(p.ID, isNew)
		}
	}
	return a, nil
}

// takeBack clears what applying set on the batch: its rows' outcomes, skips and undo records,
// and its counters (only the writer counts: pipeline.Batch.Counters).
func (a *applied) takeBack(b *pipeline.Batch) {
	for _, i := range a.decided {
		r := &b.Rows[i]
		r.SkipReason, r.SkipDetail, r.Outcome, r.EntityID, r.Undo = "", "", "", 0, nil
	}
	b.Counters = nil
}

// apply sets the row's values on p under the field policies (SPEC §5) and counts each real
// change in p.Edits. isNew says p is being created by this row, not yet indexed.
func (s *writer) apply(ctx context.Context, q store.Querier, a *applied, b *pipeline.Batch, p *prospect, r *pipeline.Row, isNew bool) error {
	for i, v := range r.Values {
		cur := p.Values[i]
		if !s.policies.Takes(i, cur, v) {
			continue
		}
		if i == s.org {
			id, err := a.orgs.Resolve(ctx, q, r)
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
			a.idx.set(p, i, v)
			a.dirty[i] = true
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
type membersOf struct {
	created, found []int64
}

func (m *membersOf) add(id int64, created bool) {
	if created {
		m.created = append(m.created, id)
	} else {
		m.found = append(m.found, id)
	}
}

// alreadyMembers returns which of the prospects Prepare loaded for the batch were members of
// every grouping of the import, when that still holds: the batch was applied ahead on what
// Prepare read, so only this import wrote into the account since, and its batches add
// memberships, never take them away. Nil otherwise.
func (s *writer) alreadyMembers(b *pipeline.Batch, a *applied) map[int64]bool {
	p, ok := b.Prepared.(*prepared)
	if !ok || p.ahead != a || !s.groupingsReady || !slices.Equal(p.groupings, s.groupings) {
		return nil
	}
	return p.members
}

// ensureGroupings creates the import's list, tags and campaign on first use, in the
// transaction of the first batch with members: before Write hands the batch off, so that
// WriteAhead of the next batch finds them.
func (s *writer) ensureGroupings(ctx context.Context, tx pgx.Tx) error {
	if s.groupingsReady {
		return nil
	}
	for _, g := range s.groupingNames() {
		id, err := store.EnsureGrouping(ctx, tx, s.plan.Account.ID, g.Kind, g.Name, s.plan.ImportID)
		if err != nil {
			return err
		}
		s.groupings = append(s.groupings, id)
	}
	s.groupingsReady = true
	return nil
}

// addMembers puts the batch's prospects in the import's list, tags and campaign (created
// already: ensureGroupings); found prospects in already are members of them all.
func (s *writer) addMembers(ctx context.Context, tx pgx.Tx, m membersOf, already map[int64]bool) error {
	if len(already) > 0 {
		m.found = slices.DeleteFunc(m.found, func(id int64) bool { return already[id] })
	}
	if len(m.created)+len(m.found) == 0 {
		return nil
	}
	if err := store.AddNewMembers(ctx, tx, s.groupings, m.created, s.plan.ImportID); err != nil {
		return err
	}
	return store.AddMembers(ctx, tx, s.groupings, m.found, s.plan.ImportID)
}

// handoff passes what each batch applied, once Write has it under the batch's lock, to
// Prepare's apply of the next batch, which runs while the batch is written.
type handoff struct {
	applied pipeline.Counter // the batches Prepare read for that Write applied
	mu      sync.Mutex
	last    written // what the last batch Write applied
}

// put hands off what the batch Write applied; prepared says Prepare read for it.
func (h *handoff) put(w written, prepared bool) {
	h.mu.Lock()
	h.last = w
	h.mu.Unlock()
	if prepared {
		h.applied.Add()
	}
}

// replace makes w what the last batch applied, in place of what was handed off for it (its
// index, was): the batch was applied again under its lock. When the next batch was handed off
// since, it stays the last.
func (h *handoff) replace(was *matchIndex, w written) {
	h.mu.Lock()
	if h.last.idx == was {
		h.last = w
	}
	h.mu.Unlock()
}

// wait returns what the last batch Write applied once it applied n batches Prepare read for
// (the n batches before the one Prepare reads for now), or ctx's error.
func (h *handoff) wait(ctx context.Context, n int) (written, error) {
	if err := h.applied.Wait(ctx, n); err != nil {
		return written{}, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last, nil
}
