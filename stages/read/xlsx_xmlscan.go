package read

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// xmlScanner splits the XML of a worksheet or a shared-string table into tags and text, reading
// it from a stream through one buffer: what the XLSX reader needs of XML, and no more. Names are
// compared by their local part (a prefix, x:row, is dropped); text is unescaped (the five
// predefined entities and character references) with its line ends normalized as XML does
// (\r\n and \r read \n), CDATA sections are text as written, and comments, processing
// instructions and declarations are skipped. It does not check that the XML is well-formed:
// the XLSX reader has checked that before (xlsx_xmlcheck.go).
type xmlScanner struct {
	r   io.Reader
	buf []byte
	pos int   // the next byte to read in buf
	end int   // the end of what buf holds
	off int64 // bytes of the part before buf[0], for messages
	eof bool  // r is spent

	// maxText caps what one next appends to its text (the rest is read past): a text
	// longer than a cell may hold is cut, never held whole.
	maxText int

	// The last token.
	selfClosing bool   // a start tag closed in itself: <c/>
	name        []byte // the tag's local name, valid until the next call
	attrs       []byte // a start tag's attributes, raw, valid until the next call
}

type xmlTok uint8

const (
	xmlEOF xmlTok = iota
	xmlStart
	xmlEnd
	xmlChars // text, or a CDATA section
)

const (
	xmlScanBuffer = 64 << 10
	xmlMaxTag     = 16 << 20 // a tag, comment or declaration longer fails the read
)

// errXMLTag is the scanner's error when a tag outgrows xmlMaxTag.
var errXMLTag = errors.New("a tag is longer than 16 MiB")

func newXMLScanner(r io.Reader, maxText int) *xmlScanner {
	return &xmlScanner{r: r, buf: make([]byte, xmlScanBuffer), maxText: maxText}
}

// fill reads more of the stream, keeping buf[pos:end]; it reports false when nothing more came.
func (s *xmlScanner) fill() (bool, error) {
	if s.eof {
		return false, nil
	}
	if s.pos > 0 {
		n := copy(s.buf, s.buf[s.pos:s.end])
		s.off += int64(s.pos)
		s.pos, s.end = 0, n
	}
	if s.end == len(s.buf) {
		if len(s.buf) >= xmlMaxTag {
			return false, errXMLTag
		}
		s.buf = append(s.buf, make([]byte, len(s.buf))...)
	}
	// Fill the buffer whole: a tag longer than it is scanned again from its start after each
	// fill, so each fill must double what is there, or the scans add up to the square of the
	// tag's length.
	start := s.end
	for s.end < len(s.buf) {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err == io.EOF {
			s.eof = true
			break
		}
		if err != nil {
			return false, err
		}
	}
	return s.end > start, nil
}

// offset is where the scanner is in the part, in bytes.
func (s *xmlScanner) offset() int64 { return s.off + int64(s.pos) }

// next returns the next tag, or with text, the next text or CDATA section appended to *text
// (when text is nil, text is skipped). It returns xmlEOF at the end of the part.
func (s *xmlScanner) next(text *[]byte) (xmlTok, error) {
	for {
		if s.pos == s.end {
			more, err := s.fill()
			if err != nil {
				return xmlEOF, err
			}
			if !more {
				return xmlEOF, nil
			}
		}
		if s.buf[s.pos] != '<' {
			if text == nil {
				i := bytes.IndexByte(s.buf[s.pos:s.end], '<')
				if i < 0 {
					s.pos = s.end
					continue
				}
				s.pos += i
			} else if err := s.chars(text); err != nil {
				return xmlEOF, err
			} else {
				return xmlChars, nil
			}
		}
		tok, n, err := s.tag(text)
		if err != nil {
			return xmlEOF, err
		}
		if n < 0 { // the tag goes on past the buffer
			more, err := s.fill()
			if err != nil {
				return xmlEOF, err
			}
			if !more {
				return xmlEOF, fmt.Errorf("the XML ends inside a tag at byte %d", s.offset())
			}
			continue
		}
		s.pos += n
		if tok != xmlEOF { // xmlEOF here: a comment or declaration, skipped
			return tok, nil
		}
	}
}

// tag reads the construct at buf[pos] ('<') and returns its token and length, or -1 when the
// buffer ends before it does. A comment, processing instruction or declaration is xmlEOF.
func (s *xmlScanner) tag(text *[]byte) (xmlTok, int, error) {
	p := s.buf[s.pos:s.end]
	if len(p) < 2 {
		return 0, -1, nil
	}
	switch p[1] {
	case '/':
		i := bytes.IndexByte(p, '>')
		if i < 0 {
			return 0, -1, nil
		}
		s.name = localName(trimXMLSpace(p[2:i]))
		return xmlEnd, i + 1, nil
	case '?':
		i := bytes.Index(p[2:], []byte("?>")) // after "<?", as the XML check reads it: "<?>" ends nothing
		if i < 0 {
			return 0, -1, nil
		}
		return xmlEOF, 2 + i + 2, nil
	case '!':
		switch {
		case bytes.HasPrefix(p, []byte("<!--")):
			i := bytes.Index(p[4:], []byte("-->"))
			if i < 0 {
				return 0, -1, nil
			}
			return xmlEOF, 4 + i + 3, nil
		case bytes.HasPrefix(p, []byte("<![CDATA[")):
			i := bytes.Index(p[9:], []byte("]]>"))
			if i < 0 {
				return 0, -1, nil
			}
			if text == nil {
				return xmlEOF, 9 + i + 3, nil
			}
			*text = s.capped(appendNormalized(*text, p[9:9+i]))
			return xmlChars, 9 + i + 3, nil
		case len(p) < 9 && (bytes.HasPrefix([]byte("<![CDATA["), p) || bytes.HasPrefix([]byte("<!--"), p)):
			return 0, -1, nil
		}
		i := bytes.IndexByte(p, '>')
		if i < 0 {
			return 0, -1, nil
		}
		return xmlEOF, i + 1, nil
	}
	// A start tag: its name, then attributes up to '>' outside quotes.
	n := 1 + nameEnd(p[1:])
	if n == len(p) {
		return 0, -1, nil
	}
	name := p[1:n]
	for i := n; i < len(p); {
		switch p[i] {
		case '"', '\'':
			j := bytes.IndexByte(p[i+1:], p[i])
			if j < 0 {
				return 0, -1, nil
			}
			i += j + 2
		case '>':
			s.name, s.attrs = localName(name), p[n:i]
			s.selfClosing = i > n && p[i-1] == '/'
			if s.selfClosing {
				s.attrs = p[n : i-1]
			}
			return xmlStart, i + 1, nil
		default:
			i++
		}
	}
	return 0, -1, nil
}

// chars appends the text at buf[pos], up to the next '<', to *text.
func (s *xmlScanner) chars(text *[]byte) error {
	for {
		p := s.buf[s.pos:s.end]
		i := bytes.IndexByte(p, '<')
		if i >= 0 {
			p = p[:i]
		} else if !s.eof {
			// Keep an entity or a \r the buffer may cut for the next round.
			if j := bytes.LastIndexByte(p, '&'); j >= 0 && bytes.IndexByte(p[j:], ';') < 0 {
				p = p[:j]
			} else if len(p) > 0 && p[len(p)-1] == '\r' {
				p = p[:len(p)-1]
			}
		}
		var err error
		if *text, err = appendUnescaped(*text, p); err != nil {
			return fmt.Errorf("%v at byte %d", err, s.offset())
		}
		*text = s.capped(*text)
		s.pos += len(p)
		if i >= 0 || s.eof && s.pos == s.end {
			return nil
		}
		if _, err := s.fill(); err != nil {
			return err
		}
	}
}

// capped returns text cut to maxText bytes.
func (s *xmlScanner) capped(text []byte) []byte {
	if len(text) > s.maxText {
		return text[:s.maxText]
	}
	return text
}

// skip reads past the end of the element whose start tag was just read.
func (s *xmlScanner) skip() error {
	if s.selfClosing {
		return nil
	}
	for depth := 1; depth > 0; {
		tok, err := s.next(nil)
		switch {
		case err != nil:
			return err
		case tok == xmlEOF:
			return fmt.Errorf("the XML ends inside an element")
		case tok == xmlStart && !s.selfClosing:
			depth++
		case tok == xmlEnd:
			depth--
		}
	}
	return nil
}

// nextAttr returns the first attribute in a (a start tag's attributes, or what nextAttr left of
// them): its local name and raw value, and the rest; key is nil when none is left.
func nextAttr(a []byte) (key, val, rest []byte) {
	for len(a) > 0 && isXMLSpace(a[0]) {
		a = a[1:]
	}
	eq := bytes.IndexByte(a, '=')
	if eq < 0 {
		return nil, nil, nil
	}
	key = localName(trimXMLSpace(a[:eq]))
	a = a[eq+1:]
	for len(a) > 0 && isXMLSpace(a[0]) {
		a = a[1:]
	}
	if len(a) == 0 || a[0] != '"' && a[0] != '\'' {
		return nil, nil, nil
	}
	j := bytes.IndexByte(a[1:], a[0])
	if j < 0 {
		return nil, nil, nil
	}
	return key, a[1 : 1+j], a[j+2:]
}

// attrValue returns an attribute's raw value unescaped, in dst when it must be.
func attrValue(val, dst []byte) ([]byte, error) {
	if bytes.IndexByte(val, '&') < 0 {
		return val, nil
	}
	return appendUnescaped(dst[:0], val)
}

// localName returns name without its namespace prefix.
func localName(name []byte) []byte {
	if i := bytes.LastIndexByte(name, ':'); i >= 0 {
		return name[i+1:]
	}
	return name
}

// appendNormalized appends p with its line ends normalized: \r\n and \r read \n.
func appendNormalized(dst, p []byte) []byte {
	for {
		i := bytes.IndexByte(p, '\r')
		if i < 0 {
			return append(dst, p...)
		}
		dst = append(append(dst, p[:i]...), '\n')
		p = p[i+1:]
		if len(p) > 0 && p[0] == '\n' {
			p = p[1:]
		}
	}
}

// appendUnescaped appends the text p to dst, its references replaced and its line ends
// normalized. An unknown or unterminated reference is an error.
func appendUnescaped(dst, p []byte) ([]byte, error) {
	for {
		i := bytes.IndexByte(p, '&')
		if i < 0 {
			return appendNormalized(dst, p), nil
		}
		dst = appendNormalized(dst, p[:i])
		p = p[i:]
		j := bytes.IndexByte(p, ';')
		if j < 0 || j > 12 {
			return dst, fmt.Errorf("an '&' begins no reference")
		}
		ref := p[1:j]
		p = p[j+1:]
		switch string(ref) {
		case "lt":
			dst = append(dst, '<')
		case "gt":
			dst = append(dst, '>')
		case "amp":
			dst = append(dst, '&')
		case "apos":
			dst = append(dst, '\'')
		case "quot":
			dst = append(dst, '"')
		default:
			r, ok := charRef(ref)
			if !ok {
				return dst, fmt.Errorf("the reference &%s; is not valid", ref)
			}
			dst = utf8.AppendRune(dst, r)
		}
	}
}

// charRef decodes a character reference's #65 or #x41.
func charRef(ref []byte) (rune, bool) {
	if len(ref) < 2 || ref[0] != '#' {
		return 0, false
	}
	base, digits := 10, ref[1:]
	if digits[0] == 'x' {
		base, digits = 16, digits[1:]
	}
	n, err := strconv.ParseUint(string(digits), base, 32)
	if err != nil || !utf8.ValidRune(rune(n)) || n == 0 {
		return 0, false
	}
	return rune(n), true
}
