// Package bloom is a Bloom filter of strings: a set of fixed size that answers "maybe added"
// or "never added", never wrong in the second answer. Its memory is set when it is made and
// does not grow with what is added; what grows is how often it answers "maybe" for a key never
// added: with n keys in m bits, k bits each, (1 - e^(-k·n/m))^k of them.
//
// Why not github.com/bits-and-blooms/bloom/v3 (served here, with its bitset dependency): it
// hashes []byte with murmur3, so every string key would be copied to bytes first, and what
// leadpipe needs is forty lines over hash/maphash, the runtime's own string hash, which
// allocates nothing.
package bloom

import "hash/maphash"

// Filter is a Bloom filter of fixed size. It is not safe for concurrent use.
type Filter struct {
	words []uint64
	mask  uint64 // bits - 1: the bit count is a power of two
	k     int    // bits set per key
	seed  maphash.Seed
}

// New returns an empty filter of 2^log2Bits bits (2^log2Bits / 8 bytes, log2Bits from 6 to
// 40) that sets k bits per key.
func New(log2Bits uint, k int) *Filter {
	log2Bits = min(max(log2Bits, 6), 40)
	bits := uint64(1) << log2Bits
	return &Filter{words: make([]uint64, bits/64), mask: bits - 1, k: max(k, 1), seed: maphash.MakeSeed()}
}

// Add adds the key made of parts. Parts are kept apart: Add("n", "ab", "c") adds neither
// ("n", "a", "bc") nor ("nab", "c").
func (f *Filter) Add(parts ...string) {
	h1, h2 := f.hash(parts)
	for i := range f.k {
		b := (h1 + uint64(i)*h2) & f.mask
		f.words[b/64] |= 1 << (b % 64)
	}
}

// MayHave reports whether the key made of parts may have been added; false means it never was.
func (f *Filter) MayHave(parts ...string) bool {
	h1, h2 := f.hash(parts)
	for i := range f.k {
		b := (h1 + uint64(i)*h2) & f.mask
		if f.words[b/64]&(1<<(b%64)) == 0 {
			return false
		}
	}
	return true
}

// hash returns the key's two hashes, for double hashing (bit i is h1 + i·h2). Each part is
// hashed on its own and folded in, after its length, so that the parts' boundaries count.
func (f *Filter) hash(parts []string) (h1, h2 uint64) {
	x := uint64(len(parts))
	for _, p := range parts {
		x = (x^uint64(len(p)))*0x9E3779B97F4A7C15 ^ maphash.String(f.seed, p)
		x *= 0xBF58476D1CE4E5B9
	}
	return x, (x>>32 | x<<32) | 1
}
