package prospects

import (
	"slices"
	"sync"

	"github.com/leadpipe/leadpipe/internal/bloom"
	"github.com/leadpipe/leadpipe/store"
)

// An import into an account that holds no prospects reads for each batch the prospects its rows
// may match, and finds only what the import itself wrote. ownWrites lets it skip reading what it
// never wrote (docs/architecture.md, "An import into an empty account").

// ownWrites knows, while one import alone writes into an account that held no prospects when the
// import's first batch was read, the identities of every prospect of the account: each is one
// the import wrote. A row's email or name that the import never wrote finds no prospect, and is
// left out of the batch's lookup. Identities are kept in a Bloom filter of fixed size, which may
// say an identity was written when it was not (the lookup is made and finds nothing, as
// before), never the reverse.
//
// What it relies on:
//   - The account's prospect_count, read in the first batch's snapshot with its write_seq: 0
//     means no prospects, as the prospect limit already assumes (every writer of prospects
//     keeps the count, under the account's lock).
//   - write_seq: every writer counts each batch in it under the account's lock. A batch that
//     finds there, before its own count, any other than the one the import's last committed
//     batch left (for the first batch, the empty snapshot's) knows another writer wrote, and
//     the import forgets for good. A lookup read ahead uses the filter only when its snapshot
//     holds no count past the import's last committed batch (a later one may be another
//     writer's, which only the lock tells); what such a snapshot lacks is the writes of the
//     batch before, which Prepare lays over its read as it does for every read
//     (matchIndex.overlay), or else the batch is read again under the lock.
//   - The identities are added when a batch writes its prospects, before it commits: a batch
//     whose snapshot holds them finds them in the filter too. A batch rolled back leaves its
//     identities in the filter, which is only more lookups.
//   - Emails and names are compared lowercased, by Go in the filter and by Postgres's lower()
//     in the lookup, which can differ outside ASCII: the import forgets once it writes an email
//     or a name with a character outside ASCII. Unique identifiers are always looked up: their
//     lookup compares Postgres's text of the stored value, which need not be the text written.
//
// Its lock makes it safe for Prepare's goroutine and Write's.
type ownWrites struct {
	mu  sync.Mutex
	ids *bloom.Filter // nil: the import knows nothing (the account was not empty, or it forgot)
	seq int64         // the account's write_seq after the import's last committed batch, or as found empty
}

// The filter's size: 2^25 bits (4 MiB), 4 bits an identity. The 959,598 emails of make bench's
// 1M-row import leave about 1 in 7,000 of the identities never written looked up for nothing;
// 10M leave about a quarter of them.
const (
	ownLog2Bits   = 25
	ownBitsPerKey = 4
)

// The kinds of identity, keeping an email from being taken for a name.
const (
	emailIdentity = "e"
	nameIdentity  = "n"
)

// start begins to know, from a snapshot at write_seq seq in which the account had count
// prospects, if that is none.
func (o *ownWrites) start(seq, count int64) {
	if count != 0 {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ids, o.seq = bloom.New(ownLog2Bits, ownBitsPerKey), seq
}

// lockedAt is told, under the account's lock, the account's write_seq before the batch's own
// count: any but the one the import last knew means another writer wrote, and it forgets.
func (o *ownWrites) lockedAt(before int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if before != o.seq {
		o.ids = nil
	}
}

// committed is told the write_seq of a batch that committed.
func (o *ownWrites) committed(seq int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seq = seq
}

// wrote adds the identities of the prospects a batch writes, in x's catalog. It forgets on an
// email or a name written with a character outside ASCII, as written: Go may lowercase one to
// ASCII (İ, the Kelvin sign) where Postgres's lower() need not.
func (o *ownWrites) wrote(x *matchIndex, groups ...[]*prospect) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, ps := range groups {
		for _, p := range ps {
			if o.ids == nil {
				return
			}
			v := p.Values
			if !isASCII(v[x.email]) || (x.byName && (!isASCII(v[x.first]) || !isASCII(v[x.last]))) {
				o.ids = nil
				return
			}
			if v[x.email] != "" {
				o.ids.Add(emailIdentity, p.emailKeyNow(x.email))
			}
			if k, ok := x.nameKey(v); ok {
				o.ids.Add(nameIdentity, k[0], k[1])
			}
		}
	}
}

// asOf returns the function loadIndex calls to leave out of a lookup, read in a snapshot at
// write_seq seq, the emails and names the import never wrote; it returns how many it left out.
// It leaves out nothing unless the import knows them as of that snapshot: when the snapshot
// holds no count past the import's last committed batch (a later count may be another
// writer's, which only the lock tells).
func (o *ownWrites) asOf(seq int64) func(*store.ProspectLookup) int {
	return func(l *store.ProspectLookup) int { return o.leaveOut(l, seq) }
}

func (o *ownWrites) leaveOut(l *store.ProspectLookup, seq int64) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ids == nil || seq > o.seq {
		return 0
	}
	n := len(l.Emails) + len(l.FirstNames)
	l.Emails = slices.DeleteFunc(l.Emails, func(e string) bool { return !o.ids.MayHave(emailIdentity, e) })
	kept := 0
	for i := range l.FirstNames {
		if o.ids.MayHave(nameIdentity, l.FirstNames[i], l.LastNames[i]) {
			l.FirstNames[kept], l.LastNames[kept] = l.FirstNames[i], l.LastNames[i]
			kept++
		}
	}
	l.FirstNames, l.LastNames = l.FirstNames[:kept], l.LastNames[:kept]
	return n - len(l.Emails) - kept
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
