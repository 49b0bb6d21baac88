package bloom

import (
	"fmt"
	"math"
	"testing"
)

// Every key added is found, and keys never added are found about as often as the filter's
// rate says: here 100,000 keys in 2^20 bits with 4 bits each, about 1%.
func TestFilterFindsWhatWasAddedAndRarelyMore(t *testing.T) {
	f := New(20, 4)
	const n = 100_000
	for i := range n {
		f.Add("e", fmt.Sprintf("person%d@example.com", i))
	}
	for i := range n {
		if !f.MayHave("e", fmt.Sprintf("person%d@example.com", i)) {
			t.Fatalf("key %d was added but is not found", i)
		}
	}
	want := math.Pow(1-math.Exp(-4.0*n/(1<<20)), 4) // (1 - e^(-k·n/m))^k
	if math.Abs(want-0.0101) > 0.0005 {
		t.Errorf("expected rate %.4f, want about 0.0101", want)
	}
	found := 0
	for i := range n {
		if f.MayHave("e", fmt.Sprintf("stranger%d@example.com", i)) {
			found++
		}
	}
	if got := float64(found) / n; got > 2*want || got < want/2 {
		t.Errorf("%.4f of keys never added were found, want about %.4f", got, want)
	}
}

// The parts of a key are kept apart: neither how a key's text is split nor its kind can make it
// another key.
func TestFilterKeysAreTheirParts(t *testing.T) {
	f := New(24, 4)
	f.Add("n", "ab", "c")
	for _, parts := range [][]string{{"n", "a", "bc"}, {"nab", "c"}, {"n", "abc"}, {"e", "ab", "c"}, {"n", "ab"}, {"n", "ab", "c", ""}} {
		if f.MayHave(parts...) {
			t.Errorf("%q found, but only [n ab c] was added", parts)
		}
	}
	if !f.MayHave("n", "ab", "c") {
		t.Error("[n ab c] was added but is not found")
	}
}

// Adding and looking up allocate nothing: the import's writer does both for every row.
func TestFilterAllocatesNothing(t *testing.T) {
	f := New(16, 4)
	first, last := "Ann", "Lee"
	if n := testing.AllocsPerRun(100, func() {
		f.Add("n", first, last)
		f.MayHave("n", first, last)
	}); n != 0 {
		t.Errorf("%v allocations per Add and MayHave, want 0", n)
	}
}
