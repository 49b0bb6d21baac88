// Package records is what the writers of every record kind share to apply a batch's rows one
// at a time in file order, in memory (SPEC §5, §6): a per-batch index of the records the batch
// can match, which follows every change the batch makes to them, the field policies, and the
// loop that matches, creates or updates a record per row under create_new and update_existing.
package records

import (
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
)

// Record is a record a batch may match, with what the batch did to it.
type Record struct {
	store.Record
	Created bool // created by this batch
	Changed bool // existing, and changed by this batch
	Edits   int  // values the batch's rows changed
	indexed bool
}

// Key is one identity records match by: the match key of a row's or a record's values, ""
// for none. Fields are the catalog indexes the key is computed from.
type Key struct {
	Fields []int
	Of     func(values []string) string
}

// Index finds the record a row matches: the oldest (lowest id) record that has the row's key
// of the first identity for which there is one. It is not safe for concurrent use.
type Index struct {
	keys     []Key
	by       []map[string][]*Record // per key: key value → records, oldest first
	identity map[int]bool           // fields some key is computed from
}

// NewIndex returns an empty index of records by keys, in the order they are tried.
func NewIndex(keys ...Key) *Index {
	x := &Index{keys: keys, by: make([]map[string][]*Record, len(keys)), identity: map[int]bool{}}
	for i, k := range keys {
		x.by[i] = map[string][]*Record{}
		for _, f := range k.Fields {
			x.identity[f] = true
		}
	}
	return x
}

// Match returns the record the row's values identify, or nil for a new record.
func (x *Index) Match(values []string) *Record {
	for i, k := range x.keys {
		if v := k.Of(values); v != "" {
			if rs := x.by[i][v]; len(rs) > 0 {
				return rs[0]
			}
		}
	}
	return nil
}

// Add indexes a record.
func (x *Index) Add(r *Record) {
	r.indexed = true
	for i, k := range x.keys {
		if v := k.Of(r.Values); v != "" {
			x.by[i][v] = insertByID(x.by[i][v], r)
		}
	}
}

// AddLoaded indexes records loaded from the database.
func (x *Index) AddLoaded(rs []store.Record) {
	for _, r := range rs {
		x.Add(&Record{Record: r})
	}
}

// remove takes a record out of the index, before one of its identities changes.
func (x *Index) remove(r *Record) {
	for i, k := range x.keys {
		if v := k.Of(r.Values); v != "" {
			x.by[i][v] = without(x.by[i][v], r)
		}
	}
}

// Set changes field i of r to v, keeping the index in step when r is indexed and i is an
// identity.
func (x *Index) Set(r *Record, i int, v string) {
	if !r.indexed || !x.identity[i] {
		r.Values[i] = v
		return
	}
	x.remove(r)
	r.Values[i] = v
	x.Add(r)
}

// Keys returns the distinct keys of the unskipped rows' values for identity k, to look up.
func Keys(rows []pipeline.Row, k Key) []string {
	seen := map[string]bool{}
	var out []string
	for i := range rows {
		r := &rows[i]
		if r.Skipped() {
			continue
		}
		if v := k.Of(r.Values); v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func insertByID(rs []*Record, r *Record) []*Record {
	i := len(rs)
	for i > 0 && rs[i-1].ID > r.ID {
		i--
	}
	rs = append(rs, nil)
	copy(rs[i+1:], rs[i:])
	rs[i] = r
	return rs
}

func without(rs []*Record, r *Record) []*Record {
	for i, q := range rs {
		if q == r {
			return append(rs[:i:i], rs[i+1:]...)
		}
	}
	return rs
}
