package read

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// How an XLSX cell's value is shown.
//
// excelize's row iterator returns each cell formatted by its number format, but it formats
// numbers the way Excel's "General" does in a narrow column (1.23456789E+15), applies thousands
// separators and currency symbols, and renders dates in US or locale patterns; and it does not
// say which cells are numbers or dates. So before reading, xlsxNormalizeNumFmts rewrites, in
// excelize's in-memory copy of the workbook's styles (never saved), the number format of every
// cell style: a date format becomes yyyy-mm-dd, a date-time format yyyy-mm-dd hh:mm:ss, a time
// format hh:mm:ss, a zero-padding format stays, and any other format becomes one excelize does
// not know, for which it returns the number as its plain decimal (rounded to 15 significant
// digits). xlsxFixValue then mends what excelize still returns differently: exponent forms and
// TRUE/FALSE.

// xlsxFmtKind is how xlsxNormalizeNumFmts treats a number format.
type xlsxFmtKind int

const (
	xlsxFmtNumber   xlsxFmtKind = iota // shown as a plain decimal
	xlsxFmtKeep                        // a zero-padding format, applied as it is
	xlsxFmtDate                        // yyyy-mm-dd
	xlsxFmtDateTime                    // yyyy-mm-dd hh:mm:ss
	xlsxFmtTime                        // hh:mm:ss
	xlsxFmtElapsed                     // [h]:mm:ss
)

// xlsxISOFormats are the format codes that replace date and time formats.
var xlsxISOFormats = map[xlsxFmtKind]string{
	xlsxFmtDate:     "[$-409]yyyy-mm-dd",
	xlsxFmtDateTime: "[$-409]yyyy-mm-dd hh:mm:ss",
	xlsxFmtTime:     "[$-409]hh:mm:ss",
	xlsxFmtElapsed:  "[$-409][h]:mm:ss",
}

// xlsxNormalizeNumFmts rewrites the number formats of f's cell styles (see above).
func xlsxNormalizeNumFmts(f *excelize.File) error {
	ss := f.Styles
	if ss == nil || ss.CellXfs == nil || len(ss.CellXfs.Xf) == 0 {
		return nil
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
	kinds := make([]xlsxFmtKind, n)
	need := map[xlsxFmtKind]bool{}
	for i := range n {
		id := 0
		if p := ss.CellXfs.Xf[i].NumFmtID; p != nil {
			id = *p
		}
		if code, ok := custom[id]; ok {
			kinds[i] = xlsxClassifyFmt(code)
		} else {
			kinds[i] = xlsxBuiltInFmtKind(id)
		}
		if _, iso := xlsxISOFormats[kinds[i]]; iso {
			need[kinds[i]] = true
		}
	}
	ids := map[xlsxFmtKind]*int{xlsxFmtNumber: &plain}
	for kind := range need {
		code := xlsxISOFormats[kind]
		style, err := f.NewStyle(&excelize.Style{CustomNumFmt: &code})
		if err != nil {
			return fmt.Errorf("%w: the XLSX file's styles cannot be read: %v", ErrFormat, err)
		}
		p := f.Styles.CellXfs.Xf[style].NumFmtID
		if p == nil {
			return fmt.Errorf("%w: the XLSX file's styles cannot be read", ErrFormat)
		}
		id := *p
		ids[kind] = &id
	}
	for i, kind := range kinds {
		if kind != xlsxFmtKeep {
			f.Styles.CellXfs.Xf[i].NumFmtID = ids[kind]
		}
	}
	return nil
}

// xlsxBuiltInFmtKind classifies the built-in number formats (ECMA-376 §18.8.30, and the East
// Asian ones excelize knows).
func xlsxBuiltInFmtKind(id int) xlsxFmtKind {
	switch {
	case id >= 14 && id <= 17, id >= 27 && id <= 31, id == 36, id >= 50 && id <= 58, id >= 71 && id <= 74:
		return xlsxFmtDate
	case id == 22:
		return xlsxFmtDateTime
	case id == 46:
		return xlsxFmtElapsed
	case id >= 18 && id <= 21, id >= 32 && id <= 35, id == 45, id == 47, id == 75 || id == 76:
		return xlsxFmtTime
	}
	return xlsxFmtNumber
}

// xlsxClassifyFmt classifies a custom number format code by its first section: date and time
// parts outside quoted text, escaped characters and brackets make it a date, date-time or time
// format ([h], [m], [s] elapsed time counts as time); a code of 0s and dashes only pads with
// zeros; anything else shows a number.
func xlsxClassifyFmt(code string) xlsxFmtKind {
	if strings.EqualFold(code, "general") {
		return xlsxFmtNumber
	}
	var y, m, d, h, s, ampm, elapsed bool
	zeros, others := 0, 0
scan:
	for i := 0; i < len(code); i++ {
		c := code[i]
		switch c {
		case ';':
			break scan
		case '"':
			if j := strings.IndexByte(code[i+1:], '"'); j >= 0 {
				i += j + 1
			} else {
				i = len(code)
			}
			others++
			continue
		case '\\', '_', '*':
			i++
			others++
			continue
		case '[':
			j := strings.IndexByte(code[i+1:], ']')
			if j < 0 {
				break scan
			}
			inner := strings.ToLower(code[i+1 : i+1+j])
			if inner != "" && strings.Trim(inner, "hms") == "" {
				elapsed = true
			}
			i += j + 1
			continue
		case '0':
			zeros++
			continue
		case '-':
			continue
		}
		others++
		switch c | 0x20 { // lower case for letters
		case 'y':
			y = true
		case 'm':
			m = true
		case 'd':
			d = true
		case 'h':
			h = true
		case 's':
			s = true
		case 'a':
			rest := strings.ToLower(code[i:])
			for _, p := range []string{"am/pm", "a/p"} {
				if strings.HasPrefix(rest, p) {
					ampm = true
					i += len(p) - 1
					break
				}
			}
		}
	}
	date := y || d || m && !h && !s && !elapsed
	clock := h || s || ampm
	switch {
	case elapsed && !date:
		return xlsxFmtElapsed
	case date && clock:
		return xlsxFmtDateTime
	case date:
		return xlsxFmtDate
	case clock:
		return xlsxFmtTime
	case zeros > 1 && others == 0:
		return xlsxFmtKeep
	}
	return xlsxFmtNumber
}

// xlsxFixValue mends a value as excelize returns it (see above): a number excelize gives in
// exponent form (1.23456789012346E+15, for more than 15 significant digits) becomes its plain
// decimal, and a boolean's TRUE or FALSE becomes true or false.
func xlsxFixValue(s string) string {
	switch s {
	case "TRUE":
		return "true"
	case "FALSE":
		return "false"
	}
	if len(s) >= 5 && xlsxExponentForm(s) {
		if v, err := strconv.ParseFloat(s, 64); err == nil {
			return strconv.FormatFloat(v, 'f', -1, 64)
		}
	}
	return s
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

// xlsxFix1904 mends, in a workbook on the 1904 date system, the dates of a row as excelize
// formats them (cells) from its raw values (raw, the same row read unformatted). excelize
// applies the 1900 system's corrections for its phantom 1900-02-29 to serials below 61 on
// either system, so that in a 1904 workbook serial 1 reads 1900-01-03 and serials up to 60 one
// day late. A cell that excelize formatted as one of our ISO dates (it differs from its raw
// value, which is a serial) is made again from the serial: 1904-01-01 plus that many days,
// rounded to the second. Text cells are left alone: excelize returns them as they are.
func xlsxFix1904(cells, raw []string) {
	for i, c := range cells {
		if i >= len(raw) || c == raw[i] || !xlsxISODate(c) {
			continue
		}
		serial, err := strconv.ParseFloat(raw[i], 64)
		if err != nil || serial < 0 || serial >= xlsxMaxSerial1904+1 {
			continue
		}
		t := xlsxEpoch1904.Add(time.Duration(math.Round(serial*86400)) * time.Second)
		if len(c) == len("2006-01-02") {
			cells[i] = t.Format("2006-01-02")
		} else {
			cells[i] = t.Format("2006-01-02 15:04:05")
		}
	}
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
