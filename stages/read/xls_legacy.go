package read

import (
	"errors"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// # Excel 3.0 and 4.0 worksheets
//
// Before Excel 5.0 (1993) a worksheet was a file of its own: a bare BIFF stream, with no OLE2
// container around it, that opens with a BOF record of its version (0x0209 for Excel 3.0, BIFF3;
// 0x0409 for Excel 4.0, BIFF4) and holds its formats and cells up to an EOF record. Such a file
// is read as a workbook of one worksheet, named "Sheet1", with the XLS reader: BIFF3 and BIFF4
// cell records are laid out as BIFF8's (NUMBER, RK, BOOLERR, BLANK; FORMULA as 0x0206 or 0x0406),
// except that text is a byte string in the file's code page (CODEPAGE record; Windows-1252 when
// there is none), not UTF-16. Number formats are FORMAT records numbered in their order (built-in
// ones when the file has none), and cell formats XF records whose second byte is the format.
//
// Refused, each with a message that names the format and says to save the file as XLSX: Excel
// 2.x worksheets (BIFF2, whose cell records differ), Excel 4.0 workbooks (BIFF4W, worksheets
// bundled in one file), Excel 3.0/4.0 chart and macro sheets, and password-protected files.
// A bare BIFF8 stream (a Workbook stream saved without its container) is read as an XLS workbook.

// Record types and BOF substream types of BIFF2 to BIFF4.
const (
	recBOF2     = 0x0009
	recBOF3     = 0x0209
	recBOF4     = 0x0409
	recFormula3 = 0x0206
	recCodePage = 0x0042
	recFormat3  = 0x001E // BIFF2 and BIFF3: the format code only
	recXF3      = 0x0243
	recXF4      = 0x0443

	bofWorkbook4 = 0x0100
)

// legacyBIFF is what the XLS reader needs to know of a BIFF3 or BIFF4 worksheet file.
type legacyBIFF struct {
	version  int // 3 or 4
	codePage *charmap.Charmap
}

// text decodes a byte string of the file's code page, without NUL bytes (a format code with
// one would put it in the cells it formats).
func (l *legacyBIFF) text(p []byte) string {
	var b strings.Builder
	for _, c := range p {
		switch {
		case c == 0: // dropped, as utf16String drops them from BIFF8's strings
		case c < utf8.RuneSelf:
			b.WriteByte(c)
		default:
			b.WriteRune(l.codePage.DecodeByte(c))
		}
	}
	return b.String()
}

// byteString reads a string of a 2-byte count and that many bytes (BIFF3/4 LABEL and STRING).
func (l *legacyBIFF) byteString(p []byte) (string, bool) {
	if len(p) < 2 {
		return "", false
	}
	n := int(le.Uint16(p))
	if len(p) < 2+n {
		return "", false
	}
	return l.text(p[2 : 2+n]), true
}

// isBOF reports whether id is the type of a BOF record of any BIFF version.
func isBOF(id uint16) bool {
	switch id {
	case recBOF, recBOF2, recBOF3, recBOF4:
		return true
	}
	return false
}

// legacyRefusal names, for a person, a bare BIFF stream that is not read, by its first record;
// "" when it is read (a BIFF3 or BIFF4 worksheet, or BIFF8).
func legacyRefusal(id uint16, body []byte) string {
	const save = "; open it in Excel or LibreOffice and save it as .xlsx"
	var dt uint16
	if len(body) >= 4 {
		dt = le.Uint16(body[2:])
	}
	switch id {
	case recBOF2:
		return "the file is an Excel 2.x worksheet (BIFF2), a format that is not read" + save
	case recBOF3, recBOF4:
		name := map[uint16]string{recBOF3: "Excel 3.0", recBOF4: "Excel 4.0"}[id]
		switch dt {
		case bofWorksheet:
			return ""
		case bofWorkbook4:
			return "the file is an " + name + " workbook (BIFF4W), a format that is not read" + save
		}
		return "the file is an " + name + " chart or macro sheet, not a worksheet" + save
	}
	return ""
}

// readLegacy reads a bare BIFF stream: a BIFF3 or BIFF4 worksheet, or BIFF8 globals.
func readLegacy(r io.ReaderAt, size int64) (*xlsBook, error) {
	id, body, err := readRecordAt(r, size, 0)
	if err != nil {
		return nil, err
	}
	if id == recBOF {
		return readGlobals(r, size)
	}
	if why := legacyRefusal(id, body); why != "" {
		return nil, &xlsErr{msg: why}
	}
	l := &legacyBIFF{version: 3, codePage: charmap.Windows1252}
	if id == recBOF4 {
		l.version = 4
	}
	b := &xlsBook{r: r, size: size, legacy: l, sheets: []xlsSheetInfo{{name: "Sheet1"}}}
	formats := map[uint16]string{} // by their order
	var xfFmt []uint16
	rr := newRecReader(r, size, 0, nil) // a protected worksheet is refused below
	for {
		id, body, _, err := rr.next()
		if errors.Is(err, io.EOF) {
			break // a worksheet cut off without its EOF record ends there
		}
		if err != nil {
			return nil, err
		}
		switch id {
		case recEOF:
			rr.pos = size
		case recFilePass:
			return nil, &xlsErr{msg: "the Excel worksheet is password-protected; open it, remove the password and save it as .xlsx"}
		case recCodePage:
			if len(body) >= 2 {
				if cm, ok := codePages[le.Uint16(body)]; ok {
					l.codePage = cm
				}
			}
		case recDateMode:
			b.date1904 = len(body) >= 2 && le.Uint16(body) == 1
		case recFormat3, recFormat:
			// BIFF4's FORMAT record starts with two bytes that are not read; both number the
			// formats in their order.
			p := body
			if id == recFormat {
				p = body[min(2, len(p)):]
			}
			code := ""
			if len(p) >= 1 && len(p) >= 1+int(p[0]) {
				code = l.text(p[1 : 1+int(p[0])])
			}
			formats[uint16(len(formats))] = code
		case recXF3, recXF4:
			var f uint16
			if len(body) >= 2 {
				f = uint16(body[1])
			}
			xfFmt = append(xfFmt, f)
		}
	}
	b.setCellFormats(formats, xfFmt)
	return b, nil
}

// codePages are the Windows and Macintosh code pages a CODEPAGE record names that text is
// decoded from; others read as Windows-1252.
var codePages = map[uint16]*charmap.Charmap{
	437: charmap.CodePage437, 850: charmap.CodePage850, 852: charmap.CodePage852,
	866: charmap.CodePage866, 874: charmap.Windows874,
	1250: charmap.Windows1250, 1251: charmap.Windows1251, 1252: charmap.Windows1252,
	1253: charmap.Windows1253, 1254: charmap.Windows1254, 1255: charmap.Windows1255,
	1256: charmap.Windows1256, 1257: charmap.Windows1257, 1258: charmap.Windows1258,
	10000: charmap.Macintosh, 0x8000: charmap.Macintosh,
}
