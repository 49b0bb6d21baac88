package read

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// How an XLSX cell's value is shown.
//
// excelize's row iterator returns each cell formatted by its number format, but it renders
// dates in US or locale patterns, formats numbers its own way, and does not say which cells
// are numbers, text or booleans, nor a cell's style. So before reading, xlsxNormalizeNumFmts
// rewrites, in excelize's in-memory copy of the workbook's styles (never saved), the number
// format of every cell style: a date format becomes yyyy-mm-dd, a date-time format
// yyyy-mm-dd hh:mm:ss, a time format hh:mm:ss, an elapsed-time one [h]:mm:ss; a format that
// shows a number otherwise than as its plain decimal (percent, currency, thousands, decimals,
// zero padding, scientific …) becomes one that excelize renders as a marker naming the format
// followed by the number: a random marker, k, "\uE001", then the decimal digits (xlsxMarker),
// and the cell is rendered from it by the file's format k (cellFormat.number, as for XLS); any
// other format ("General", "@") becomes one excelize does not know, for which it returns the
// number as its plain decimal (rounded to 15 significant digits). Text cells are returned as
// they are (excelize formats no text with a number-only section).
//
// What one formatted pass cannot tell is resolved from the cell's raw value, read by a second
// iterator over the same sheet that starts at the first row that needs it (XLSX.rawRow):
// "TRUE"/"FALSE" is a boolean when its raw value is 1 or 0 and text otherwise; a value in
// exponent form (1.23456789012346E+15, as excelize shows a number of more than 15 significant
// digits) is a number when its raw value differs and text otherwise; and in a 1904 workbook,
// dates are made from their serials (xlsxFix1904). A workbook without such cells is read once.

// xlsxISOFormats are the format codes that replace date and time formats.
var xlsxISOFormats = map[fmtKind]string{
	fmtDate:     "[$-409]yyyy-mm-dd",
	fmtDateTime: "[$-409]yyyy-mm-dd hh:mm:ss",
	fmtTime:     "[$-409]hh:mm:ss",
	fmtElapsed:  "[$-409][h]:mm:ss",
}

// xlsxMarker brackets the number of a marked format in a marked value: a private-use character
// and a few random ones, drawn for each workbook, so that no text cell can pass for a marked
// number, then a closing private-use character.
type xlsxMarker struct{ open string }

const xlsxMarkClose = "\uE001"

func newXLSXMarker() xlsxMarker {
	b := []rune{0xE000}
	for range 4 {
		b = append(b, 0xE100+rand.N[rune](0x1700)) // U+E100 to U+F7FF
	}
	return xlsxMarker{open: string(b)}
}

// code is the format code that shows a number of the marked format k as its marked value:
// 0.25 → open 7 "\uE001" 0.25, -1200 → "-" open 7 "\uE001" 1200.
func (m xlsxMarker) code(k int) string {
	return `"` + m.open + strconv.Itoa(k) + xlsxMarkClose + `"0.` + strings.Repeat("#", 30)
}

// marks reports whether s may be a marked value.
func (m xlsxMarker) marks(s string) bool { return strings.Contains(s, m.open) }

// xlsxNormalizeNumFmts rewrites the number formats of f's cell styles (see above) and returns
// the formats whose numbers are marked, by the number in their marker (nil when there are none).
func xlsxNormalizeNumFmts(f *excelize.File, m xlsxMarker) (map[int]cellFormat, error) {
	ss := f.Styles
	if ss == nil || ss.CellXfs == nil || len(ss.CellXfs.Xf) == 0 {
		return nil, nil
	}
	custom := map[int]string{}
	if ss.NumFmts != nil {
		for _, nf := range ss.NumFmts.NumFmt {
			if nf == nil {
				continue
			}
			if _, dup := custom[nf.NumFmtID]; dup {
				continue // excelize uses the first
			}
			code := nf.FormatCode
			if nf.FormatCode16 != "" {
				code = nf.FormatCode16
			}
			custom[nf.NumFmtID] = code
		}
	}
	// An ID that is neither custom nor built in: excelize shows the value as it is.
	plain := -1
	for {
		if _, ok := custom[plain]; !ok {
			break
		}
		plain--
	}

	n := len(ss.CellXfs.Xf)
	formats := make([]cellFormat, n)
	fmtIDs := make([]int, n)
	byID := map[int]cellFormat{}
	for i := range n {
		id := 0
		if p := ss.CellXfs.Xf[i].NumFmtID; p != nil {
			id = *p
		}
		fmtIDs[i] = id
		cf, ok := byID[id]
		if !ok {
			code, defined := custom[id]
			cf = newCellFormat(id, code, defined)
			byID[id] = cf
		}
		formats[i] = cf
	}
	next := 164 // the first id of a custom format
	for id := range custom {
		next = max(next, id+1)
	}
	// addFmt adds a number format with code to f's styles under a fresh id. Formats are
	// appended to the list directly, as copies of one of its elements, not through excelize's
	// NewStyle, which scans every style: a marked format per style of a workbook of 16,000
	// styles took 8.5 s that way. Only a workbook with no custom format gets its first one from
	// NewStyle, which makes the list; it is called before any style is changed, as it reuses
	// an existing style that looks the same.
	addFmt := func(code string) (*int, error) {
		if ss.NumFmts != nil {
			for _, nf := range ss.NumFmts.NumFmt {
				if nf == nil {
					continue
				}
				c := *nf
				c.NumFmtID, c.FormatCode, c.FormatCode16 = next, code, ""
				ss.NumFmts.NumFmt = append(ss.NumFmts.NumFmt, &c)
				ss.NumFmts.Count = len(ss.NumFmts.NumFmt)
				id := next
				next++
				return &id, nil
			}
		}
		style, err := f.NewStyle(&excelize.Style{CustomNumFmt: &code})
		if err != nil {
			return nil, fmt.Errorf("%w: the XLSX file's styles cannot be read: %v", ErrFormat, err)
		}
		p := f.Styles.CellXfs.Xf[style].NumFmtID
		if p == nil {
			return nil, fmt.Errorf("%w: the XLSX file's styles cannot be read", ErrFormat)
		}
		id := *p
		next = max(next, id+1)
		return &id, nil
	}
	// A format that shows numbers its own way gets one marked format, whatever the number of
	// styles that use it: excelize looks a cell's format up in the list of formats.
	ids := make([]*int, n)
	iso := map[fmtKind]*int{}
	markOf := map[int]int{} // the file's format id → the number of its marked format
	var markIDs []*int
	var marked map[int]cellFormat
	for i, cf := range formats {
		ids[i] = &plain
		switch code, ok := xlsxISOFormats[cf.kind]; {
		case ok:
			if iso[cf.kind] == nil {
				p, err := addFmt(code)
				if err != nil {
					return nil, err
				}
				iso[cf.kind] = p
			}
			ids[i] = iso[cf.kind]
		case cf.kind == fmtNumber:
			k, ok := markOf[fmtIDs[i]]
			if !ok {
				k = len(markIDs)
				p, err := addFmt(m.code(k))
				if err != nil {
					return nil, err
				}
				markOf[fmtIDs[i]] = k
				markIDs = append(markIDs, p)
				if marked == nil {
					marked = map[int]cellFormat{}
				}
				marked[k] = cf
			}
			ids[i] = markIDs[k]
		}
	}
	for i, id := range ids {
		f.Styles.CellXfs.Xf[i].NumFmtID = id
	}
	return marked, nil
}

// unmark reads a marked value: the number of its format and the number's text, with its sign.
func (m xlsxMarker) unmark(s string) (k int, num string, ok bool) {
	neg := strings.HasPrefix(s, "-")
	rest, found := strings.CutPrefix(strings.TrimPrefix(s, "-"), m.open)
	if !found {
		return 0, "", false
	}
	idx, num, found := strings.Cut(rest, xlsxMarkClose)
	if !found {
		return 0, "", false
	}
	k, err := strconv.Atoi(idx)
	if err != nil {
		return 0, "", false
	}
	if neg {
		num = "-" + num
	}
	return k, num, true
}

// xlsxExponentForm reports whether s is in the form strconv.FormatFloat(v, 'G', 15, 64) gives a
// number in exponent form: an optional minus, a non-zero digit, optionally a point and digits
// not ending in 0, E, a sign and at least two digits.
func xlsxExponentForm(s string) bool {
	i := 0
	if s[0] == '-' {
		i++
	}
	if i >= len(s) || s[i] < '1' || s[i] > '9' {
		return false
	}
	i++
	if i < len(s) && s[i] == '.' {
		i++
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start || s[i-1] == '0' {
			return false
		}
	}
	if i+2 > len(s) || s[i] != 'E' || s[i+1] != '+' && s[i+1] != '-' {
		return false
	}
	i += 2
	digits := len(s) - i
	if digits < 2 || digits > 3 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// xlsxEpoch1904 is day 0 of the 1904 date system; xlsxMaxSerial1904 is its serial of 9999-12-31,
// Excel's last date.
var xlsxEpoch1904 = time.Date(1904, time.January, 1, 0, 0, 0, 0, time.UTC)

const xlsxMaxSerial1904 = 2957003

// xlsxFix1904 mends, in a workbook on the 1904 date system, a date cell as excelize formats it
// (c, one of our ISO dates) from its raw value (raw, a serial). excelize applies the 1900
// system's corrections for its phantom 1900-02-29 to serials below 61 on either system, so that
// in a 1904 workbook serial 1 reads 1900-01-03 and serials up to 60 one day late. The date is
// made again from the serial: 1904-01-01 plus that many days, rounded to the second.
func xlsxFix1904(c, raw string) string {
	serial, err := strconv.ParseFloat(raw, 64)
	if err != nil || serial < 0 || serial >= xlsxMaxSerial1904+1 {
		return c
	}
	t := xlsxEpoch1904.Add(time.Duration(math.Round(serial*86400)) * time.Second)
	if len(c) == len("2006-01-02") {
		return t.Format("2006-01-02")
	}
	return t.Format("2006-01-02 15:04:05")
}

// xlsxISODate reports whether s has the shape of a date (or date and time) as xlsxISOFormats
// make them: YYYY-MM-DD or YYYY-MM-DD HH:MM:SS.
func xlsxISODate(s string) bool {
	const shape = "0000-00-00 00:00:00"
	if len(s) != len("0000-00-00") && len(s) != len(shape) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if shape[i] == '0' && (s[i] < '0' || s[i] > '9') || shape[i] != '0' && s[i] != shape[i] {
			return false
		}
	}
	return true
}
