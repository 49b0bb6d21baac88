package read

import (
	"bytes"
	"fmt"
	"strings"
)

// Before a worksheet's rows are read, every worksheet part and the shared-string table are
// checked to be well-formed as far as the reader cares: every element closed by an end tag of
// its name, no part ending inside a tag, a comment, a CDATA section or an open element. So a
// file broken part-way fails its import before the first row is written rather than after
// the rows before the break (once, with excelize's row iterator, those after it vanished: it
// stops at an XML syntax error without a word). References and names are not checked here: a
// bad one fails the reader (xlsx_xmlscan.go) at its row. The check streams through the bytes
// the CRC check unzips anyway, at memory speed.

// xmlCheckedPart reports whether the zip part name is checked: a worksheet or the shared
// strings, the parts whose XML the reader streams.
func xmlCheckedPart(name string) bool {
	name = strings.ToLower(strings.ReplaceAll(name, `\`, "/"))
	return strings.HasPrefix(name, "xl/worksheets/") && strings.HasSuffix(name, ".xml") || name == "xl/sharedstrings.xml"
}

// xmlMaxDepth bounds the open elements a checked part may nest (a worksheet nests six).
const xmlMaxDepth = 1 << 10

type xmlState uint8

const (
	xmlText      xmlState = iota
	xmlLT                 // after '<'
	xmlStartName          // in a start tag's name
	xmlAttrs              // in a start tag, after its name
	xmlQuote              // in an attribute value
	xmlSelfClose          // after a start tag's '/'
	xmlEndName            // in an end tag
	xmlSkip               // in a comment, CDATA section, processing instruction or declaration, until end
)

// xmlChecker is an io.Writer that checks the XML written to it; Close reports the first fault.
type xmlChecker struct {
	state xmlState
	quote byte
	name  []byte
	open  []byte // the names of the open elements, one after another (no allocation per element)
	ends  []int  // where each open element's name ends in open
	end   string // what ends the construct being skipped
	tail  []byte // the last bytes of a skipped construct, to find end across writes
	bang  []byte // the bytes after "<!", until the construct is known
	err   error
	n     int64 // bytes checked, for the message
}

func (c *xmlChecker) fail(format string, a ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("its XML is broken at byte %d: "+format, append([]any{c.n}, a...)...)
	}
}

// Write checks p; it never fails, so that the CRC check of the same bytes goes on.
func (c *xmlChecker) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 && c.err == nil {
		switch c.state {
		case xmlText:
			i := bytes.IndexByte(p, '<')
			if i < 0 {
				c.n += int64(len(p))
				return n, nil
			}
			c.n += int64(i + 1)
			p = p[i+1:]
			c.state = xmlLT
			continue
		case xmlQuote:
			i := bytes.IndexByte(p, c.quote)
			if i < 0 {
				c.n += int64(len(p))
				return n, nil
			}
			c.n += int64(i + 1)
			p = p[i+1:]
			c.state = xmlAttrs
			continue
		case xmlStartName:
			i := nameEnd(p)
			c.name = append(c.name, p[:i]...)
			c.n += int64(i)
			if p = p[i:]; len(p) == 0 {
				return n, nil
			}
		case xmlEndName:
			i := bytes.IndexByte(p, '>')
			if i < 0 {
				i = len(p)
			}
			c.name = append(c.name, p[:i]...)
			c.n += int64(i)
			if p = p[i:]; len(p) == 0 {
				return n, nil
			}
		case xmlAttrs:
			if len(c.bang) == 0 {
				i := attrsEnd(p)
				c.n += int64(i)
				if p = p[i:]; len(p) == 0 {
					return n, nil
				}
			}
		case xmlSkip:
			i := c.skipEnd(p)
			if i < 0 {
				c.n += int64(len(p))
				return n, nil
			}
			c.n += int64(i)
			p = p[i:]
			c.state = xmlText
			continue
		}
		b := p[0]
		p = p[1:]
		c.n++
		c.step(b)
	}
	return n, nil
}

// skipEnd returns the index just past c.end in p, with the bytes of earlier writes kept in tail,
// or -1.
func (c *xmlChecker) skipEnd(p []byte) int {
	k := len(c.tail)
	buf := append(c.tail, p[:min(len(p), len(c.end))]...)
	if i := bytes.Index(buf, []byte(c.end)); i >= 0 {
		c.tail = c.tail[:0]
		return i + len(c.end) - k
	}
	if i := bytes.Index(p, []byte(c.end)); i >= 0 {
		c.tail = c.tail[:0]
		return i + len(c.end)
	}
	keep := buf // all of p is in buf
	if len(p) >= len(c.end) {
		keep = p
	}
	c.tail = append([]byte(nil), keep[max(0, len(keep)-len(c.end)+1):]...)
	return -1
}

func isXMLSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// nameEnd returns the index of the first byte in p that ends a start tag's name, or len(p).
func nameEnd(p []byte) int {
	for i, b := range p {
		if b == '>' || b == '/' || isXMLSpace(b) {
			return i
		}
	}
	return len(p)
}

// attrsEnd returns the index of the first byte in p that a start tag's attributes act on (a
// quote, '/' or '>'), or len(p).
func attrsEnd(p []byte) int {
	for i, b := range p {
		if b == '"' || b == '\'' || b == '/' || b == '>' {
			return i
		}
	}
	return len(p)
}

// trimXMLSpace returns b without trailing XML white space.
func trimXMLSpace(b []byte) []byte {
	for len(b) > 0 && isXMLSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// step advances the states that look at one byte at a time. Of a name, Write takes the bytes in
// bulk and hands step only the byte that ends it.
func (c *xmlChecker) step(b byte) {
	switch c.state {
	case xmlLT:
		switch b {
		case '/':
			c.state, c.name = xmlEndName, c.name[:0]
		case '?':
			c.state, c.end = xmlSkip, "?>"
		case '!':
			c.state, c.bang = xmlAttrs, append(c.bang[:0], '!') // resolved below, once known
		default:
			c.state, c.name = xmlStartName, append(c.name[:0], b)
		}
	case xmlStartName:
		switch {
		case b == '>':
			c.push()
		case b == '/':
			c.state = xmlSelfClose
		default: // white space
			c.state = xmlAttrs
		}
	case xmlAttrs:
		if len(c.bang) > 0 {
			c.declaration(b)
			return
		}
		switch b {
		case '"', '\'':
			c.state, c.quote = xmlQuote, b
		case '/':
			c.state = xmlSelfClose
		case '>':
			c.push()
		}
	case xmlSelfClose:
		if b != '>' {
			c.fail("'/' inside the tag <%s> is not followed by '>'", c.name)
			return
		}
		c.state = xmlText
	case xmlEndName: // b is '>'
		name := trimXMLSpace(c.name)
		if len(c.ends) == 0 {
			c.fail("the end tag </%s> closes no element", name)
			return
		}
		start, top := c.top()
		if !bytes.Equal(top, name) {
			c.fail("the element <%s> is closed by </%s>", top, name)
			return
		}
		c.open, c.ends = c.open[:start], c.ends[:len(c.ends)-1]
		c.state = xmlText
	}
}

// declaration reads the start of a "<!" construct: a comment, a CDATA section or a declaration.
func (c *xmlChecker) declaration(b byte) {
	c.bang = append(c.bang, b)
	s := string(c.bang)
	switch {
	case s == "!--":
		c.state, c.end = xmlSkip, "-->"
	case s == "![CDATA[":
		c.state, c.end = xmlSkip, "]]>"
	case strings.HasPrefix("![CDATA[", s) || strings.HasPrefix("!--", s):
		return // not known yet
	default:
		c.state, c.end = xmlSkip, ">" // <!DOCTYPE …>, which OOXML parts do not hold
		if b == '>' {
			c.state = xmlText
		}
	}
	c.bang = c.bang[:0]
}

func (c *xmlChecker) push() {
	if len(c.ends) == xmlMaxDepth {
		c.fail("elements nest more than %d deep", xmlMaxDepth)
		return
	}
	c.open = append(c.open, c.name...)
	c.ends = append(c.ends, len(c.open))
	c.state = xmlText
}

// top returns the innermost open element's name and where it starts in c.open.
func (c *xmlChecker) top() (int, []byte) {
	start := 0
	if n := len(c.ends); n > 1 {
		start = c.ends[n-2]
	}
	return start, c.open[start:]
}

// Close reports the first fault, or the part ending inside a construct or an open element.
func (c *xmlChecker) Close() error {
	switch {
	case c.err != nil:
		return c.err
	case c.state != xmlText:
		return fmt.Errorf("its XML is cut short inside a tag, comment or CDATA section (%d bytes)", c.n)
	case len(c.ends) > 0:
		_, top := c.top()
		return fmt.Errorf("its XML is cut short: the element <%s> is never closed (%d bytes)", top, c.n)
	}
	return nil
}
