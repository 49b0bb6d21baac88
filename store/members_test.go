package store_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/leadpipe/leadpipe/store"
)

// MembersOfAll reads memberships over ranges of ids: it answers for the prospects asked about
// only, members of every grouping, whatever else the ranges hold — prospects in the gaps of a
// run and between runs, members of one grouping of two.
func TestMembersOfAllAnswersForTheProspectsAskedAbout(t *testing.T) {
	f := newKindFixture(t, "prospect")
	var groupings []int64
	for _, name := range []string{"list", "tag"} {
		id, err := store.EnsureGrouping(f.ctx, f.pool, f.acct.ID, name, "members of all", 0)
		if err != nil {
			t.Fatal(err)
		}
		groupings = append(groupings, id)
	}
	ids, err := store.NextIDs(f.ctx, f.pool, "prospect")
	if err != nil || len(ids) < 200 {
		t.Fatalf("%d ids: %v", len(ids), err)
	}
	base := ids[0] // ids of this test's own, so that no other test's memberships are read
	p := func(n int64) int64 { return base + n }
	both, first, second := groupings, groupings[:1], groupings[1:]
	for n, in := range map[int64][]int64{
		0: both, 1: first, 2: both, 3: both, 4: first, // 3 and 4 are in the run, not asked about
		5: both, 20: second, 50: both, 100: both, // 50 is between runs, not asked about
	} {
		if err := store.AddMembers(f.ctx, f.pool, in, []int64{p(n)}, 0); err != nil {
			t.Fatal(err)
		}
	}
	asked := []int64{p(100), p(0), p(1), p(2), p(5), p(20), p(0), p(7)} // unsorted, 0 twice, 7 a member of nothing
	got, err := store.MembersOfAll(f.ctx, f.pool, append(slices.Clone(groupings), groupings[0]), asked)
	if err != nil {
		t.Fatal(err)
	}
	want := []int64{p(0), p(2), p(5), p(100)}
	if ids := slices.Sorted(maps.Keys(got)); !slices.Equal(ids, want) {
		t.Errorf("members of both groupings: %v, want %v (ids from %d)", ids, want, base)
	}
}
