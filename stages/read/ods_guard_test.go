package read

import (
	"bufio"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
)

// TestODSGuard feeds XML through the guard to the decoder: a long text run is cut at a
// character and entity boundary, leaving XML the decoder reads, with no text token over the
// cap; a long tag fails, whatever '>' its attribute values or text hold.
func TestODSGuard(t *testing.T) {
	const m = odsMaxRunBytes
	for _, tc := range []struct {
		name, in string
		cut      bool
		err      string
	}{
		{"short", `<a b="x>y">` + strings.Repeat("x>", 1000) + `</a>`, false, ""},
		{"text with >", `<a>` + strings.Repeat("x>", m) + `</a>`, true, ""},
		{"entity at the cut", `<a>` + strings.Repeat("x", m-4) + strings.Repeat("&amp;", 10) + `</a>`, true, ""},
		{"character at the cut", `<a>` + strings.Repeat("x", m-3) + strings.Repeat("é", 10) + `</a>`, true, ""},
		{"attribute with >", `<a b="` + strings.Repeat("x>", m/2+1) + `"/>`, false, "has a tag longer than 1048576 bytes"},
		{"attribute with '>", `<a b='` + strings.Repeat(`">`, m/2+1) + `'/>`, false, "has a tag longer than 1048576 bytes"},
		{"entity", `<a>&` + strings.Repeat("x", 100) + `;</a>`, false, "has an entity reference longer than 64 bytes"},
	} {
		g := &odsGuard{r: bufio.NewReader(strings.NewReader(tc.in)), text: true}
		d := xml.NewDecoder(g)
		var longest int
		var err error
		for {
			var tok xml.Token
			if tok, err = d.Token(); err != nil {
				break
			}
			if cd, ok := tok.(xml.CharData); ok {
				longest = max(longest, len(cd))
			}
		}
		var ge *odsGuardError
		switch {
		case tc.err == "" && !errors.Is(err, io.EOF):
			t.Errorf("%s: %v", tc.name, err)
		case tc.err != "" && (!errors.As(err, &ge) || ge.msg != tc.err):
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
		case g.cut != tc.cut || longest > m:
			t.Errorf("%s: cut %v, longest text %d bytes; want cut %v, at most %d", tc.name, g.cut, longest, tc.cut, m)
		}
	}
}
