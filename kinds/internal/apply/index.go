package apply

// Index finds records by a key; where several records share a key, the oldest (lowest id)
// comes first. It is not safe for concurrent use.
type Index[K comparable, R any] struct {
	id func(R) int64
	m  map[K][]R
}

// NewIndex returns an empty index of records whose id is id(r).
func NewIndex[K comparable, R any](id func(R) int64) *Index[K, R] {
	return &Index[K, R]{id: id, m: map[K][]R{}}
}

// First returns the oldest record with key k.
func (x *Index[K, R]) First(k K) (R, bool) {
	if rs := x.m[k]; len(rs) > 0 {
		return rs[0], true
	}
	var none R
	return none, false
}

// All returns the records with key k, oldest first; the caller must not change the slice.
func (x *Index[K, R]) All(k K) []R { return x.m[k] }

// Add indexes r under k, in id order.
func (x *Index[K, R]) Add(k K, r R) {
	rs := x.m[k]
	i := len(rs)
	for i > 0 && x.id(rs[i-1]) > x.id(r) {
		i--
	}
	var zero R
	rs = append(rs, zero)
	copy(rs[i+1:], rs[i:])
	rs[i] = r
	x.m[k] = rs
}

// Remove takes r out from under k.
func (x *Index[K, R]) Remove(k K, r R) {
	rs := x.m[k]
	for i, q := range rs {
		if x.id(q) == x.id(r) {
			x.m[k] = append(rs[:i:i], rs[i+1:]...)
			return
		}
	}
}
