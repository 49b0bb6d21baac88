package crm

// Value rules of SPEC §4. Every function here runs once per cell, so they avoid allocating
// whenever the canonical form of a value is a substring of the input.
//
// The parsers (ParseBoolean, MatchOption, ParseDate, ParseNumber) trim their input themselves
// and report ok=false for an empty value: callers treat an empty cell as "no value" before
// asking a parser, so an empty cell never becomes a field warning.

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxEmailLen is the longest valid email address, in characters (RFC 5321 path limit).
const maxEmailLen = 254

// ValidEmail reports whether s, already trimmed, is a valid email address: exactly one '@', a
// non-empty local part of printable characters other than whitespace (any script), and a domain
// of at least two dot-separated ASCII labels of 1–63 letters, digits and inner hyphens, the last
// one two or more letters, with no trailing dot. At most 254 characters.
func ValidEmail(s string) bool {
	if s == "" || len(s) > maxEmailLen && CharLen(s) > maxEmailLen {
		return false
	}
	at := strings.IndexByte(s, '@')
	if at <= 0 || strings.IndexByte(s[at+1:], '@') >= 0 {
		return false
	}
	return validLocalPart(s[:at]) && isDomainName(s[at+1:])
}

// validLocalPart reports whether every character of the local part is printable and not a space;
// '@' has already been excluded by ValidEmail.
func validLocalPart(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c <= ' ' || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		// unicode.IsPrint is false for invalid UTF-8, non-ASCII spaces (U+00A0, U+2003 …) and
		// format characters such as U+200B.
		if r == utf8.RuneError && size == 1 || !unicode.IsPrint(r) {
			return false
		}
		i += size
	}
	return true
}

// isDomainName reports whether d is an ASCII domain name of at least two labels: each label 1–63
// letters, digits or hyphens, not starting or ending with '-', the last one two or more letters.
// No trailing dot, at most 253 characters.
func isDomainName(d string) bool {
	if len(d) > 253 {
		return false
	}
	labels, start := 0, 0
	for i := 0; i <= len(d); i++ {
		if i < len(d) && d[i] != '.' {
			c := d[i]
			if !(isASCIILetter(c) || c >= '0' && c <= '9' || c == '-') {
				return false
			}
			continue
		}
		n := i - start
		if n == 0 || n > 63 || d[start] == '-' || d[i-1] == '-' {
			return false
		}
		labels++
		if i == len(d) { // the top-level domain
			if n < 2 {
				return false
			}
			for j := start; j < i; j++ {
				if !isASCIILetter(d[j]) {
					return false
				}
			}
		}
		start = i + 1
	}
	return labels >= 2
}

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// Canonical boolean values, as stored.
const (
	BoolTrue  = "true"
	BoolFalse = "false"
)

// ParseBoolean reads a boolean cell, case-insensitively after trimming: "1", "true" and "yes"
// give "true"; "false" and "no" give "false"; "0" gives "" with ok (per the seed, 0 imports as
// no value). Anything else, the empty string included, is not ok.
func ParseBoolean(s string) (value string, ok bool) {
	s = strings.TrimSpace(s)
	switch {
	case s == "1" || strings.EqualFold(s, "true") || strings.EqualFold(s, "yes"):
		return BoolTrue, true
	case strings.EqualFold(s, "false") || strings.EqualFold(s, "no"):
		return BoolFalse, true
	case s == "0":
		return "", true
	}
	return "", false
}

// MatchOption returns the option that equals s case-insensitively after trimming s, in the
// option's canonical spelling. The first matching option wins; an empty s matches nothing.
func MatchOption(options []string, s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", false
	}
	for _, o := range options {
		if o == s || strings.EqualFold(o, s) {
			return o, true
		}
	}
	return "", false
}

// ParseMultiPicklist splits a multi-picklist cell on ';', trims each value, drops empty ones and
// matches the rest with MatchOption. valid holds the canonical options, invalid the trimmed
// values that match no option; each is de-duplicated (case-insensitively) keeping the first
// occurrence, in input order. Both are nil when empty.
func ParseMultiPicklist(options []string, s string) (valid []string, invalid []string) {
	for s != "" {
		part := s
		if i := strings.IndexByte(s, ';'); i >= 0 {
			part, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if o, ok := MatchOption(options, part); ok {
			if !containsFold(valid, o) {
				valid = append(valid, o)
			}
		} else if !containsFold(invalid, part) {
			invalid = append(invalid, part)
		}
	}
	return valid, invalid
}

// MergeMulti returns the union of two multi-picklist values for the merge policy: existing values
// first, then the imported ones not already present, in order. Values are compared
// case-insensitively and the first spelling wins; empty values are dropped. The result is a new
// slice (nil when empty); neither argument is modified.
func MergeMulti(existing, imported []string) []string {
	if len(existing)+len(imported) == 0 {
		return nil
	}
	out := make([]string, 0, len(existing)+len(imported))
	for _, list := range [2][]string{existing, imported} {
		for _, v := range list {
			if v != "" && !containsFold(out, v) {
				out = append(out, v)
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// containsFold reports whether list holds s, case-insensitively. Multi-picklist values are few,
// so a linear scan beats a map.
func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// Spreadsheet serial day numbers accepted by ParseDate: 1 is 1900-01-01, 2958465 is 9999-12-31.
// Serial 60 is Excel's non-existent 1900-02-29.
const (
	minSerialDate   = 1
	maxSerialDate   = 2958465
	fakeLeapSerial  = 60
	serialEpochDays = -25569 // days from 1970-01-01 back to 1899-12-30, serial 0 for serials > 60
)

// ParseDate reads a date cell, trimmed, and returns it as YYYY-MM-DD. Accepted:
//   - ISO 8601 "2024-01-31", optionally followed by 'T' (or a space) and a time such as
//     "10:00", "10:00:00Z", "10:00:00.123+02:00"; the date part is kept as written, without
//     any time-zone conversion;
//   - "m/d/yyyy" with a 1–2 digit month and day and a 4-digit year, optionally followed by a
//     space and a time "h:mm[:ss]" with an optional AM/PM, as spreadsheets export it;
//   - a spreadsheet serial day number, an integer 1..2958465 in Excel's 1900 date system
//     (45292 is 2024-01-01). Serial 60, Excel's fictitious 1900-02-29, is not ok.
//
// Dates must exist in the proleptic Gregorian calendar, years 0001–9999.
func ParseDate(s string) (iso string, ok bool) {
	s = strings.TrimSpace(s)
	switch {
	case len(s) >= 10 && s[4] == '-':
		return parseISODate(s)
	case strings.IndexByte(s, '/') >= 0:
		return parseUSDate(s)
	default:
		return parseSerialDate(s)
	}
}

func parseISODate(s string) (string, bool) {
	y, ok1 := atoiN(s[0:4])
	m, ok2 := atoiN(s[5:7])
	d, ok3 := atoiN(s[8:10])
	if !ok1 || !ok2 || !ok3 || s[7] != '-' || !validYMD(y, m, d) {
		return "", false
	}
	if rest := s[10:]; rest != "" {
		if c := rest[0]; c != 'T' && c != 't' && c != ' ' || !validClock(rest[1:], false) {
			return "", false
		}
	}
	return s[:10], true
}

func parseUSDate(s string) (string, bool) {
	m, s, ok1 := leadingInt(s, 1, 2)
	if !ok1 || s == "" || s[0] != '/' {
		return "", false
	}
	d, s, ok2 := leadingInt(s[1:], 1, 2)
	if !ok2 || s == "" || s[0] != '/' {
		return "", false
	}
	y, s, ok3 := leadingInt(s[1:], 4, 4)
	if !ok3 || !validYMD(y, m, d) {
		return "", false
	}
	if s != "" && (s[0] != ' ' || !validClock(s[1:], true)) {
		return "", false
	}
	return formatYMD(y, m, d), true
}

func parseSerialDate(s string) (string, bool) {
	if len(s) == 0 || len(s) > 7 {
		return "", false
	}
	n, ok := atoiN(s)
	if !ok || n < minSerialDate || n > maxSerialDate || n == fakeLeapSerial {
		return "", false
	}
	days := n + serialEpochDays
	if n < fakeLeapSerial {
		days++ // before the fake leap day serials are one day later than the count suggests
	}
	y, m, d := civilFromDays(days)
	return formatYMD(y, m, d), true
}

// validClock reports whether t is a time of day. ISO form (us=false): "hh:mm[:ss[.fff]]" then an
// optional zone "Z", "±hh", "±hhmm" or "±hh:mm", optionally after one space ("UTC" and "GMT"
// too). Spreadsheet form (us=true): "h:mm[:ss[.fff]]" with a 1–2 digit hour and an optional
// " AM"/" PM" (then the hour is 1–12).
func validClock(t string, us bool) bool {
	minDigits := 2
	if us {
		minDigits = 1
	}
	h, t, ok := leadingInt(t, minDigits, 2)
	if !ok || h > 23 || t == "" || t[0] != ':' {
		return false
	}
	mi, t, ok := leadingInt(t[1:], 2, 2)
	if !ok || mi > 59 {
		return false
	}
	if t != "" && t[0] == ':' {
		var sec int
		if sec, t, ok = leadingInt(t[1:], 2, 2); !ok || sec > 60 { // 60: leap second
			return false
		}
		if t != "" && (t[0] == '.' || t[0] == ',') {
			if _, t, ok = leadingInt(t[1:], 1, 9); !ok {
				return false
			}
		}
	}
	if t == "" {
		return true
	}
	if us {
		if len(t) != 3 || t[0] != ' ' || !strings.EqualFold(t[1:], "AM") && !strings.EqualFold(t[1:], "PM") {
			return false
		}
		return h >= 1 && h <= 12
	}
	if t[0] == ' ' {
		t = t[1:]
		if strings.EqualFold(t, "UTC") || strings.EqualFold(t, "GMT") {
			return true
		}
	}
	return validZone(t)
}

// validZone reports whether z is "Z", "±hh", "±hhmm" or "±hh:mm".
func validZone(z string) bool {
	if z == "Z" || z == "z" {
		return true
	}
	if z == "" || z[0] != '+' && z[0] != '-' {
		return false
	}
	h, z, ok := leadingInt(z[1:], 2, 2)
	if !ok || h > 23 {
		return false
	}
	if z == "" {
		return true
	}
	if z[0] == ':' {
		z = z[1:]
	}
	mi, z, ok := leadingInt(z, 2, 2)
	return ok && z == "" && mi <= 59
}

// leadingInt reads min..max ASCII digits at the start of s, returning their value and the rest.
func leadingInt(s string, min, max int) (n int, rest string, ok bool) {
	i := 0
	for i < len(s) && i < max && s[i] >= '0' && s[i] <= '9' {
		n = n*10 + int(s[i]-'0')
		i++
	}
	if i < min {
		return 0, s, false
	}
	return n, s[i:], true
}

// atoiN parses s, which must be all ASCII digits (at most 9 of them, so it cannot overflow).
func atoiN(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func validYMD(y, m, d int) bool {
	return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= daysIn(y, m)
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// civilFromDays converts days since 1970-01-01 to a Gregorian date (H. Hinnant's algorithm).
func civilFromDays(z int) (y, m, d int) {
	z += 719468
	era := z / 146097
	if z < 0 {
		era = (z - 146096) / 146097
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

func formatYMD(y, m, d int) string {
	b := [10]byte{
		byte('0' + y/1000), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10), '-',
		byte('0' + m/10), byte('0' + m%10), '-',
		byte('0' + d/10), byte('0' + d%10),
	}
	return string(b[:])
}

// ParseNumber reads a plain decimal, trimmed: an optional sign, ASCII digits, an optional '.'
// and more digits, with at least one digit in all ("5.", ".5" and "-.5" are fine). No exponent,
// no thousands separators, no spaces. The canonical form drops a '+', leading zeros of the
// integer part (keeping one "0"), trailing zeros of the fraction and a trailing '.', and the
// sign of zero: "+007.50" → "7.5", ".5" → "0.5", "-0.0" → "0". Precision is never lost.
func ParseNumber(s string) (string, bool) {
	s = strings.TrimSpace(s)
	i, neg := 0, false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		i++
	}
	intStart := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	intEnd, fracStart, fracEnd := i, i, i
	if i < len(s) && s[i] == '.' {
		i++
		fracStart = i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		fracEnd = i
	}
	if i != len(s) || intEnd == intStart && fracEnd == fracStart {
		return "", false
	}
	for fracEnd > fracStart && s[fracEnd-1] == '0' {
		fracEnd--
	}
	k := intStart // first significant digit of the integer part
	for k < intEnd-1 && s[k] == '0' {
		k++
	}
	zero := (intEnd == intStart || k == intEnd-1 && s[k] == '0') && fracEnd == fracStart
	if zero {
		return "0", true
	}
	// Without allocating when the canonical form is a substring of s.
	end := intEnd
	if fracEnd > fracStart {
		end = fracEnd
	}
	if intEnd > intStart && (!neg || k == intStart) {
		start := k
		if neg {
			start--
		}
		return s[start:end], true
	}
	var b strings.Builder
	b.Grow(end - k + 2)
	if neg {
		b.WriteByte('-')
	}
	if intEnd == intStart {
		b.WriteByte('0')
	}
	b.WriteString(s[k:end])
	return b.String(), true
}

// nameSuffixes are the words that may follow a comma after a full name ("John Smith, Jr.")
// without making it "Last, First"; compared lowercase without dots.
var nameSuffixes = [...]string{"jr", "sr", "ii", "iii", "iv", "phd", "md", "dds", "dvm", "esq", "jd", "cpa", "mba", "rn"}

// SplitFullName splits a full name into first and last name, trimmed and with inner runs of
// whitespace collapsed to one space. "Last, First" (exactly one comma) is swapped, unless what
// follows the comma is a name suffix after a name of two or more words ("John Smith, Jr." gives
// "John" and "Smith, Jr."). Otherwise the first word is the first name and the rest the last
// name; a single word is a first name only.
func SplitFullName(s string) (first, last string) {
	s = collapseSpace(s)
	if c := strings.IndexByte(s, ','); c >= 0 && strings.IndexByte(s[c+1:], ',') < 0 {
		before := strings.TrimSpace(s[:c])
		after := strings.TrimSpace(s[c+1:])
		if !(isNameSuffix(after) && strings.IndexByte(before, ' ') >= 0) {
			return after, before
		}
	}
	if sp := strings.IndexByte(s, ' '); sp >= 0 {
		return s[:sp], s[sp+1:]
	}
	return s, ""
}

func isNameSuffix(w string) bool {
	if len(w) > 5 {
		return false
	}
	var buf [5]byte
	n := 0
	for i := 0; i < len(w); i++ {
		if c := w[i]; c != '.' {
			buf[n] = c | 0x20 // callers compare letters only
			n++
		}
	}
	for _, sfx := range nameSuffixes {
		if string(buf[:n]) == sfx {
			return true
		}
	}
	return false
}

// collapseSpace trims s and replaces each inner run of whitespace (any Unicode space) by one
// ASCII space. It returns s itself when nothing changes.
func collapseSpace(s string) string {
	s = strings.TrimSpace(s)
	clean, prevSpace := true, false
	for _, r := range s {
		space := unicode.IsSpace(r)
		if space && (r != ' ' || prevSpace) {
			clean = false
			break
		}
		prevSpace = space
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// CharLen returns the length of s in characters (runes), as MaxLength counts it.
func CharLen(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return i + utf8.RuneCountInString(s[i:])
		}
	}
	return len(s)
}
