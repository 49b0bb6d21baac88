package read

// How content.xml of an ODS spreadsheet is read (see the package doc's # ODS section): a
// token reader (odsParser) that walks its elements, keeping none but the current row's, behind
// a guard (odsGuard) that caps what one token may hold; and the rendering of a cell's value.

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// odsRepeat reads a repeat count attribute of the table namespace: 1 when absent or not a
// positive number, at most max.
func odsRepeat(se xml.StartElement, name string, max int) int {
	v := odsAttr(se, nsTable, name)
	if v == "" {
		return 1
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return 1
	}
	return int(min(n, int64(max)))
}

// odsAttr returns the value of se's attribute space:local, or "".
func odsAttr(se xml.StartElement, space, local string) string {
	for _, a := range se.Attr {
		if a.Name.Local == local && a.Name.Space == space {
			return a.Value
		}
	}
	return ""
}

// odsParser reads content.xml token by token.
type odsParser struct {
	d          *xml.Decoder
	g          *odsGuard
	depth      int             // of the element last started
	hidden     map[string]bool // automatic table styles with table:display="false"
	containers int             // row containers open in the current table
}

func newODSParser(r io.Reader) *odsParser {
	g := &odsGuard{r: bufio.NewReaderSize(r, 64<<10), text: true}
	return &odsParser{d: xml.NewDecoder(g), g: g, hidden: map[string]bool{}}
}

// token returns the next token, keeping count of the depth. The end of the input is an error:
// it comes only after the root element is closed, which the reader never reads to.
func (p *odsParser) token() (xml.Token, error) {
	t, err := p.d.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, odsMalformed(err)
	}
	switch t.(type) {
	case xml.StartElement:
		p.depth++
		if p.depth > odsMaxDepth {
			return nil, odsMalformed(fmt.Errorf("elements nested more than %d deep", odsMaxDepth))
		}
	case xml.EndElement:
		p.depth--
	}
	return t, nil
}

func odsMalformed(err error) error {
	var ge *odsGuardError
	if errors.As(err, &ge) {
		return fmt.Errorf("%w: the ODS file is malformed: content.xml %v", ErrFormat, ge.msg)
	}
	return fmt.Errorf("%w: the ODS file is malformed: content.xml: %v", ErrFormat, err)
}

// skip reads to the end of the element last started.
func (p *odsParser) skip() error {
	end := p.depth - 1
	for p.depth > end {
		if _, err := p.token(); err != nil {
			return err
		}
	}
	return nil
}

// readPrelude reads content.xml up to the start of office:spreadsheet, noting the automatic
// table styles that hide a table.
func (p *odsParser) readPrelude() error {
	for {
		t, err := p.token()
		if err != nil {
			return err
		}
		se, ok := t.(xml.StartElement)
		if !ok {
			continue
		}
		switch {
		case p.depth == 1 && (se.Name.Space != nsOffice || se.Name.Local != "document-content"):
			return fmt.Errorf("%w: the file is not a valid ODS spreadsheet: content.xml holds no office:document-content", ErrFormat)
		case p.depth == 1:
		case p.depth == 2 && se.Name.Space == nsOffice && se.Name.Local == "automatic-styles":
			if err := p.readStyles(); err != nil {
				return err
			}
		case p.depth == 2 && se.Name.Space == nsOffice && se.Name.Local == "body":
		case p.depth == 3 && se.Name.Space == nsOffice && se.Name.Local == "spreadsheet":
			return nil
		case p.depth == 3:
			return fmt.Errorf("%w: the file is an OpenDocument %s, not a spreadsheet; save it as ODS, XLSX or CSV", ErrFormat, se.Name.Local)
		default:
			if err := p.skip(); err != nil {
				return err
			}
		}
	}
}

// readStyles reads office:automatic-styles for the table styles that hide a table.
func (p *odsParser) readStyles() error {
	styles := p.depth
	for {
		t, err := p.token()
		if err != nil {
			return err
		}
		if p.depth < styles {
			return nil
		}
		se, ok := t.(xml.StartElement)
		if !ok || p.depth != styles+1 {
			continue
		}
		if se.Name.Space != nsStyle || se.Name.Local != "style" || odsAttr(se, nsStyle, "family") != "table" {
			if err := p.skip(); err != nil {
				return err
			}
			continue
		}
		name := odsAttr(se, nsStyle, "name")
		for {
			t, err := p.token()
			if err != nil {
				return err
			}
			if p.depth == styles {
				break
			}
			if se, ok := t.(xml.StartElement); ok {
				if se.Name.Space == nsStyle && se.Name.Local == "table-properties" && odsAttr(se, nsTable, "display") == "false" {
					p.hidden[name] = true
				}
				if err := p.skip(); err != nil {
					return err
				}
			}
		}
	}
}

// nextTable reads up to the next table:table of office:spreadsheet and returns its name and
// whether it is hidden; ok is false at the end of office:spreadsheet.
func (p *odsParser) nextTable() (name string, hidden, ok bool, err error) {
	const spreadsheet = 3
	for {
		t, err := p.token()
		if err != nil {
			return "", false, false, err
		}
		if p.depth < spreadsheet {
			return "", false, false, nil
		}
		se, ok := t.(xml.StartElement)
		if !ok {
			continue
		}
		if se.Name.Space == nsTable && se.Name.Local == "table" {
			p.containers = 0
			return odsAttr(se, nsTable, "name"), p.hidden[odsAttr(se, nsTable, "style-name")], true, nil
		}
		if err := p.skip(); err != nil {
			return "", false, false, err
		}
	}
}

// nextRow reads up to the next table:table-row of the table and returns it; ok is false at
// the end of the table.
func (p *odsParser) nextRow() (se xml.StartElement, ok bool, err error) {
	for {
		t, err := p.token()
		if err != nil {
			return se, false, err
		}
		switch t := t.(type) {
		case xml.EndElement:
			if p.containers == 0 {
				return se, false, nil
			}
			p.containers--
		case xml.StartElement:
			if t.Name.Space == nsTable {
				switch t.Name.Local {
				case "table-row":
					return t, true, nil
				case "table-header-rows", "table-rows", "table-row-group":
					p.containers++
					continue
				}
			}
			if err := p.skip(); err != nil {
				return se, false, err
			}
		}
	}
}

// odsRow is a row as read: its cells and typed values up to a limit, the 1-based column of its
// last non-blank cell (0: blank), and why it is malformed.
type odsRow struct {
	cells, typed []string
	last         int64
	why          string
}

// readRow reads the cells of the table:table-row just started, keeping those of the first
// limit columns. number is the row's number, for messages.
func (p *odsParser) readRow(limit, number int) (odsRow, error) {
	var r odsRow
	var col int64 // columns read
	for {
		t, err := p.token()
		if err != nil {
			return r, err
		}
		switch t := t.(type) {
		case xml.EndElement:
			r.cells = r.cells[:min(int64(len(r.cells)), r.last)]
			if r.typed != nil {
				r.typed = r.typed[:min(len(r.typed), len(r.cells))]
				if slices.ContainsFunc(r.typed, func(s string) bool { return s != "" }) {
					r.typed = append(r.typed, make([]string, len(r.cells)-len(r.typed))...)
				} else {
					r.typed = nil
				}
			}
			return r, nil
		case xml.StartElement:
			n := int64(odsRepeat(t, "number-columns-repeated", math.MaxInt32))
			if t.Name.Space != nsTable || t.Name.Local != "table-cell" {
				if t.Name.Space == nsTable && t.Name.Local == "covered-table-cell" {
					col += n
				}
				if err := p.skip(); err != nil {
					return r, err
				}
				continue
			}
			c, err := p.readCell(t)
			if err != nil {
				return r, err
			}
			if c.over && r.why == "" {
				r.why = fmt.Sprintf("cell %s%d is longer than %d characters", xlsxColumnName(int(min(col, odsMaxColumns))), number, xlsxMaxCellChars)
			}
			if c.text != "" || c.over {
				for i := col; i < min(col+n, int64(limit)); i++ {
					for int64(len(r.cells)) < i {
						r.cells = append(r.cells, "")
					}
					r.cells = append(r.cells, c.text)
					if c.typed != "" {
						for len(r.typed) < len(r.cells)-1 {
							r.typed = append(r.typed, "")
						}
						r.typed = append(r.typed, c.typed)
					}
				}
				if c.over || !xlsxBlank(c.text) {
					r.last = col + n
				}
			}
			col += n
		}
	}
}

// odsCell is a cell as read: what the user saw, its typed value, and whether its text is over
// the cell limit.
type odsCell struct {
	text, typed string
	over        bool
}

// readCell reads the table:table-cell se, just started.
func (p *odsParser) readCell(se xml.StartElement) (odsCell, error) {
	var t odsText
	p.g.cut = false
	if err := p.readCellText(&t); err != nil {
		return odsCell{}, err
	}
	if t.over {
		return odsCell{over: true}, nil
	}
	c := odsCell{text: t.b.String()}
	switch odsAttr(se, nsOffice, "value-type") {
	case "date":
		if iso, ok := odsDate(odsAttr(se, nsOffice, "date-value")); ok {
			c.text = iso
		}
	case "time":
		if hms, ok := odsTime(odsAttr(se, nsOffice, "time-value")); ok {
			c.text = hms
		}
	case "float", "percentage", "currency":
		v, err := strconv.ParseFloat(odsAttr(se, nsOffice, "value"), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			break // no number: the text alone
		}
		plain := formatNumber(v)
		if c.text == "" {
			c.text = plain
		}
		if c.text != plain {
			c.typed = plain
		}
	case "boolean": // true or false, whatever it shows, as XLS and XLSX booleans read
		c.text = "false"
		if v := odsAttr(se, nsOffice, "boolean-value"); v == "true" || v == "1" {
			c.text = "true"
		}
	default:
		if !t.paragraphs {
			c.text = odsAttr(se, nsOffice, "string-value")
		}
	}
	if utf8.RuneCountInString(c.text) > xlsxMaxCellChars {
		return odsCell{over: true}, nil
	}
	return c, nil
}

// odsText is a cell's text as it is read, up to the cell limit.
type odsText struct {
	b          strings.Builder
	runes      int
	over       bool // past xlsxMaxCellChars
	paragraphs bool // a text:p or text:h was read
}

func (t *odsText) add(s string) {
	if t.over {
		return
	}
	if t.runes += utf8.RuneCountInString(s); t.runes > xlsxMaxCellChars {
		t.over = true
		t.b.Reset()
		return
	}
	t.b.WriteString(s)
}

// readCellText reads the content of the element just started (a cell, or a list in it) for its
// paragraphs.
func (p *odsParser) readCellText(t *odsText) error {
	for {
		tok, err := p.token()
		if err != nil {
			return err
		}
		switch tok := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			switch {
			case tok.Name.Space == nsText && (tok.Name.Local == "p" || tok.Name.Local == "h"):
				if t.paragraphs {
					t.add("\n")
				}
				t.paragraphs = true
				err = p.readInline(t)
			case tok.Name.Space == nsText && (tok.Name.Local == "list" || tok.Name.Local == "list-item" || tok.Name.Local == "list-header"):
				err = p.readCellText(t)
			default: // annotations, drawings, detective marks
				err = p.skip()
			}
			if err != nil {
				return err
			}
		}
	}
}

// readInline reads the text of the inline element just started: a paragraph, a span, a link.
func (p *odsParser) readInline(t *odsText) error {
	for {
		tok, err := p.token()
		if err != nil {
			return err
		}
		switch tok := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.CharData:
			t.add(string(tok))
			if p.g.cut {
				t.over = true // a text run over odsMaxRunBytes was cut short
			}
		case xml.StartElement:
			err = nil
			switch {
			case tok.Name.Space == nsText && tok.Name.Local == "s":
				n := 1
				if c, err := strconv.Atoi(odsAttr(tok, nsText, "c")); err == nil && c > 1 {
					n = min(c, xlsxMaxCellChars+1)
				}
				t.add(strings.Repeat(" ", n))
				err = p.skip()
			case tok.Name.Space == nsText && tok.Name.Local == "tab":
				t.add("\t")
				err = p.skip()
			case tok.Name.Space == nsText && tok.Name.Local == "line-break":
				t.add("\n")
				err = p.skip()
			case tok.Name.Space == nsText && (tok.Name.Local == "note" || tok.Name.Local == "ruby-text"),
				tok.Name.Space == nsOffice, tok.Name.Space != nsText: // annotations, drawings
				err = p.skip()
			default: // span, a, fields: their text
				err = p.readInline(t)
			}
			if err != nil {
				return err
			}
		}
	}
}

// odsDate renders an office:date-value (an xsd:date or xsd:dateTime, a time zone ignored) as
// YYYY-MM-DD, or YYYY-MM-DD HH:MM:SS when it has a time part, rounded to the second.
func odsDate(v string) (string, bool) {
	if i := strings.IndexAny(v, "Z+"); i >= 0 {
		v = v[:i]
	} else if i := strings.LastIndexByte(v, '-'); i > len("2006-01-02") {
		v = v[:i]
	}
	if len(v) == len("2006-01-02") {
		d, err := time.Parse("2006-01-02", v)
		return d.Format("2006-01-02"), err == nil
	}
	d, err := time.Parse("2006-01-02T15:04:05.999999999", v)
	if err != nil {
		return "", false
	}
	d = d.Round(time.Second)
	if d.Year() > 9999 {
		return "", false
	}
	return d.Format("2006-01-02 15:04:05"), true
}

// odsTime renders an office:time-value, an ISO 8601 duration such as PT13H45M00S or
// -PT01H30M, as HH:MM:SS (hours past 24 for a duration over a day), rounded to the second.
func odsTime(v string) (string, bool) {
	neg := strings.HasPrefix(v, "-")
	v = strings.TrimPrefix(v, "-")
	rest, ok := strings.CutPrefix(v, "P")
	if !ok || rest == "" {
		return "", false
	}
	var secs float64
	inTime := false
	for rest != "" {
		if rest[0] == 'T' {
			inTime, rest = true, rest[1:]
			continue
		}
		i := strings.IndexAny(rest, "DHMS")
		if i <= 0 {
			return "", false
		}
		n, err := strconv.ParseFloat(rest[:i], 64)
		if err != nil || !(n >= 0) || math.IsInf(n, 0) || rest[i] == 'D' && inTime || rest[i] != 'D' && !inTime {
			return "", false
		}
		secs += n * map[byte]float64{'D': 86400, 'H': 3600, 'M': 60, 'S': 1}[rest[i]]
		rest = rest[i+1:]
	}
	s := math.Round(secs)
	if !(s <= 1e12) { // NaN too
		return "", false
	}
	total := int64(s)
	out := fmt.Sprintf("%02d:%02d:%02d", total/3600, total/60%60, total%60)
	if neg && total != 0 {
		out = "-" + out
	}
	return out, true
}

// odsGuard feeds content.xml to the XML decoder a byte at a time (the decoder reads an
// io.ByteReader directly), so that no token can grow without bound: a run of text over
// odsMaxRunBytes is cut short (the rest of it up to the next '<' is dropped, and cut is set, so
// that the cell reads as over-long), and a tag (from '<' to its '>', quoted attribute values
// included) over odsMaxRunBytes, or an entity reference over 64 bytes, fails the file.
type odsGuard struct {
	r      *bufio.Reader
	run    int  // bytes of the current text run or tag
	text   bool // in text, not in a tag
	quote  byte // in a tag, the quote of the attribute value being read, or 0
	entity int  // bytes of the entity reference being read, 0 outside one
	cut    bool // a text run was cut short
}

type odsGuardError struct{ msg string }

func (e *odsGuardError) Error() string { return e.msg }

// ReadByte returns the next byte the decoder is to see.
func (g *odsGuard) ReadByte() (byte, error) {
	b, err := g.r.ReadByte()
	if err != nil {
		return 0, err
	}
	// '<' always starts a tag (it is escaped in text and attribute values); '>' ends one unless
	// it is in an attribute value, and is text in text.
	switch {
	case b == '<':
		g.run, g.text, g.quote, g.entity = 0, false, 0, 0
	case g.text:
	case g.quote != 0:
		if b == g.quote {
			g.quote = 0
		}
	case b == '"' || b == '\'':
		g.quote = b
	case b == '>':
		g.run, g.text = 0, true
	}
	g.run++
	inEntity := g.entity > 0 // this byte is part of an entity reference
	if g.text {
		switch {
		case b == '&':
			g.entity = 1
		case b == ';':
			g.entity = 0
		case g.entity > 0:
			if g.entity++; g.entity > 64 {
				return 0, &odsGuardError{"has an entity reference longer than 64 bytes"}
			}
		}
	}
	if g.run <= odsMaxRunBytes {
		return b, nil
	}
	if !g.text {
		return 0, &odsGuardError{fmt.Sprintf("has a tag longer than %d bytes", odsMaxRunBytes)}
	}
	if inEntity || b >= 0x80 && b < 0xC0 {
		return b, nil // cut at the end of the entity or character
	}
	// Drop the rest of the run, up to the next '<', which the decoder gets.
	g.cut = true
	for {
		if b, err = g.r.ReadByte(); err != nil {
			return 0, err
		}
		if b == '<' {
			g.run, g.text, g.quote, g.entity = 1, false, 0, 0
			return b, nil
		}
	}
}

// Read is for the decoder's sake only: it reads through ReadByte.
func (g *odsGuard) Read(p []byte) (int, error) {
	for i := range p {
		b, err := g.ReadByte()
		if err != nil {
			return i, err
		}
		p[i] = b
	}
	return len(p), nil
}
