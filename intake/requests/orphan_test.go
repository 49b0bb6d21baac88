package requests

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/leadpipe/leadpipe/importer"
)

// TestRefusedRequestsCopyIsRemoved checks when a failed Submit removes the request's copy: a
// rejection always (even one wrapping an unexpected EOF, which transient takes for a dropped
// connection: it has no import row, so nothing would ever prune it), an unexpected error
// while ctx lives; not a transient error or one after ctx ended, since the import may then
// have been committed. The readers of today report a truncated file's EOF with %v, so no real
// file reaches Submit with such a chain; the decision is checked on the error as built.
func TestRefusedRequestsCopyIsRemoved(t *testing.T) {
	live := context.Background()
	ended, cancel := context.WithCancel(live)
	cancel()
	badEOF := fmt.Errorf("%w leads.xlsx: %w", importer.ErrBadFile, io.ErrUnexpectedEOF)
	dropped := fmt.Errorf("submit: %w", &net.OpError{Op: "read", Net: "tcp", Err: io.ErrUnexpectedEOF})
	unexpected := errors.New("something unforeseen")
	for _, c := range []struct {
		name   string
		ctx    context.Context
		err    error
		remove bool
	}{
		{"bad file wrapping an unexpected EOF", live, badEOF, true},
		{"bad file wrapping an unexpected EOF, ctx ended", ended, badEOF, true},
		{"connection dropped", live, dropped, false},
		{"unexpected", live, unexpected, true},
		{"unexpected, ctx ended", ended, unexpected, false},
	} {
		if got := copyOrphaned(c.ctx, c.err, rejection(c.err)); got != c.remove {
			t.Errorf("%s: copy removed %v, want %v", c.name, got, c.remove)
		}
	}
}
