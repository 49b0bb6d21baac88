package pipeline

import "sync"

// Signal wakes goroutines that wait for work: each Wake ends every wait on a channel taken
// from Next before it. A waiter takes Next before it looks for work, so that a Wake during
// the look ends the wait after it: no wake is lost between looking and waiting. Wake never
// blocks. The zero Signal is ready to use; a nil *Signal never wakes anyone (its Next is nil,
// on which a receive blocks for ever).
type Signal struct {
	mu sync.Mutex
	ch chan struct{} // closed by the next Wake
}

// Wake ends the waits on every channel Next has given since the last Wake.
func (s *Signal) Wake() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
	}
	s.ch = make(chan struct{})
}

// Next returns the channel the next Wake closes.
func (s *Signal) Next() <-chan struct{} {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}
