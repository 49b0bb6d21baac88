package read

import (
	"math"
	"strconv"
	"strings"
)

// Number formats: what a spreadsheet shows a number cell as. One classifier and one renderer
// serve XLS and XLSX: fmtKindOf (or builtinFmtKind for a built-in format a file does not define)
// says whether a cell is a date, a time or a number, and numFormat.render shows a number as the
// format code does.
//
// Built rather than bought: excelize renders format codes (with github.com/xuri/nfp as its
// tokenizer) but only inside its cell reads, with no exported function an XLS reader could
// call, and its output for a code is not the contract we test (it changes between versions);
// nfp alone only splits a code into tokens, the smaller half of the work, and its token types
// would still need the section, placeholder and rounding rules below. So the code below reads a
// code in one pass, renders from the 15 significant decimal digits Excel works with (1.005 in
// 0.00 shows 1.01), and is tested against what Excel shows (numfmt_test.go).

// fmtKind is what a number format shows a number as.
type fmtKind uint8

const (
	fmtGeneral  fmtKind = iota // the plain decimal: "General", or no format
	fmtNumber                  // rendered by the code: 25.00%, $1,200.00, 02134, 1.23E+04
	fmtText                    // "@": text shown as it is, a number as General shows it
	fmtDate                    // a day: 2024-01-31
	fmtTime                    // a time of day: 13:45:00
	fmtDateTime                // both: 2024-01-31 13:45:00
	fmtElapsed                 // a duration in hours: 36:00:00 for 1.5 days
)

// builtinFormats are the codes of the built-in number formats that ECMA-376 §18.8.30 and
// [MS-XLS] 2.4.126 define, with the US English codes of the locale-dependent currency (5–8)
// and accounting (41–44) ones. A file that uses another locale's writes those as custom
// formats.
var builtinFormats = map[int]string{
	0: "General", 1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00",
	5: `"$"#,##0_);("$"#,##0)`, 6: `"$"#,##0_);[Red]("$"#,##0)`,
	7: `"$"#,##0.00_);("$"#,##0.00)`, 8: `"$"#,##0.00_);[Red]("$"#,##0.00)`,
	9: "0%", 10: "0.00%", 11: "0.00E+00", 12: "# ?/?", 13: "# ??/??",
	37: "#,##0 ;(#,##0)", 38: "#,##0 ;[Red](#,##0)", 39: "#,##0.00;(#,##0.00)", 40: "#,##0.00;[Red](#,##0.00)",
	41: `_(* #,##0_);_(* (#,##0);_(* "-"_);_(@_)`, 42: `_("$"* #,##0_);_("$"* (#,##0);_("$"* "-"_);_(@_)`,
	43: `_(* #,##0.00_);_(* (#,##0.00);_(* "-"??_);_(@_)`, 44: `_("$"* #,##0.00_);_("$"* (#,##0.00);_("$"* "-"??_);_(@_)`,
	48: "##0.0E+0", 49: "@",
}

// builtinFmtKind returns the kind of a built-in number format id that builtinFormats does not
// hold, when the file does not define it. 14–17 are dates, 22 a date and time, 18–21, 45 and 47 times, 46 elapsed time. The
// East Asian ids (ECMA-376 §18.8.30 lists them per locale) are dates for 27–31, 36 and 50–54,
// 57–58 in every one of zh-TW, zh-CN, ja-JP and ko-KR; 32–33 are times in all four (h"時"mm"分");
// 34–35 and 55–56 are times in the Chinese locales (上午/下午h"时"mm"分") but dates in the
// Japanese and Korean ones (yyyy"年"m"月", yyyy-mm-dd), so, the locale being unknown, they read
// as a date and time, which loses neither. 71–74 are Thai dates, 75–76 Thai times.
func builtinFmtKind(id int) fmtKind {
	switch {
	case id >= 14 && id <= 17, id >= 27 && id <= 31, id == 36, id >= 50 && id <= 54, id == 57, id == 58, id >= 71 && id <= 74:
		return fmtDate
	case id == 22, id == 34, id == 35, id == 55, id == 56:
		return fmtDateTime
	case id >= 18 && id <= 21, id == 32, id == 33, id == 45, id == 47, id == 75, id == 76:
		return fmtTime
	case id == 46:
		return fmtElapsed
	}
	return fmtGeneral
}

// fmtKindOf classifies a number format code such as "yyyy-mm-dd", "0.00%" or
// `[$-409]d-mmm-yy;@` by its first section (the one for positive numbers): date and time
// letters outside quoted text, escaped characters, the characters after _ and *, and brackets
// make a date, time or date-time format (m is minutes next to h or s, else a month); the
// elapsed-time brackets [h], [m] and [s] make an elapsed time; "General" (or nothing) shows the
// plain decimal and "@" alone is text; anything else is rendered.
func fmtKindOf(code string) fmtKind {
	first, _, _ := splitSection(code)
	switch strings.ToLower(strings.TrimSpace(first)) {
	case "", "general":
		return fmtGeneral
	case "@":
		return fmtText
	}
	var date, month, clock, elapsed bool
	for i := 0; i < len(first); i++ {
		switch c := first[i]; c {
		case '"':
			if j := strings.IndexByte(first[i+1:], '"'); j >= 0 {
				i += j + 1
			} else {
				i = len(first)
			}
		case '\\', '_', '*':
			i++
		case '[':
			j := strings.IndexByte(first[i+1:], ']')
			if j < 0 {
				i = len(first)
				break
			}
			if in := strings.ToLower(first[i+1 : i+1+j]); in != "" && strings.Trim(in, "hms") == "" {
				clock, elapsed = true, true
			}
			i += j + 1
		case 'y', 'Y', 'd', 'D':
			date = true
		case 'm', 'M':
			month = true
		case 'h', 'H', 's', 'S':
			clock = true
		case 'a', 'A':
			if u := strings.ToUpper(first[i:]); strings.HasPrefix(u, "AM/PM") || strings.HasPrefix(u, "A/P") {
				clock = true
				i += 2
			}
		case 'g', 'G':
			if len(first)-i >= len("general") && strings.EqualFold(first[i:i+len("general")], "general") {
				i += len("general") - 1 // General among literals ("General\" kg\""): its e is no year
			}
		case 'e', 'E':
			if i+1 < len(first) && (first[i+1] == '+' || first[i+1] == '-') {
				i++ // scientific notation, not a year
			} else {
				date = true
			}
		}
	}
	if month && !clock {
		date = true // "mmm-yy": a month; with h or s, m is minutes
	}
	switch {
	case elapsed && !date:
		return fmtElapsed
	case date && clock:
		return fmtDateTime
	case date:
		return fmtDate
	case clock:
		return fmtTime
	}
	return fmtNumber
}

// splitSection returns the first ;-separated section of code and the rest after its ';'
// (ok false when there is no ';'). Quoted text, escaped characters and brackets do not split.
func splitSection(code string) (section, rest string, ok bool) {
	for i := 0; i < len(code); i++ {
		switch code[i] {
		case ';':
			return code[:i], code[i+1:], true
		case '"':
			if j := strings.IndexByte(code[i+1:], '"'); j >= 0 {
				i += j + 1
			} else {
				i = len(code)
			}
		case '\\', '_', '*':
			i++
		case '[':
			if j := strings.IndexByte(code[i+1:], ']'); j >= 0 {
				i += j + 1
			}
		}
	}
	return code, "", false
}

// cellFormat is the number format of a cell style: its kind and, for fmtNumber, the parsed code.
type cellFormat struct {
	kind fmtKind
	nf   *numFormat
}

// newCellFormat classifies the number format id, whose code is code when the file defines it
// (defined), else the built-in one.
func newCellFormat(id int, code string, defined bool) cellFormat {
	if !defined {
		var ok bool
		if code, ok = builtinFormats[id]; !ok {
			return cellFormat{kind: builtinFmtKind(id)}
		}
	}
	f := cellFormat{kind: fmtKindOf(code)}
	if f.kind == fmtNumber {
		f.nf = parseNumFormat(code)
	}
	return f
}

// show shows the number v of a cell in this format: a date or time as an ISO date or time (see
// formatDateTime), another number as number does. typed is as for number.
func (f cellFormat) show(v float64, date1904 bool) (display, typed string) {
	if f.kind >= fmtDate {
		if s, ok := formatDateTime(v, f.kind, date1904); ok {
			return s, ""
		}
	}
	return f.number(v)
}

// number shows the number v of a cell in a format that is no date or time: display is what the
// spreadsheet shows, typed its plain decimal when that differs from display, else "".
func (f cellFormat) number(v float64) (display, typed string) {
	plain := formatNumber(v)
	if f.nf == nil {
		return plain, ""
	}
	if display = f.nf.render(v); display == plain {
		return plain, ""
	}
	return display, plain
}

// numFormat is a parsed number format code, ready to render numbers.
type numFormat struct {
	sections []fmtSection // at most 4: positive, negative, zero, text
	cond     bool         // a section has a condition such as [>100]
}

// fmtSection is one section of a code.
type fmtSection struct {
	toks    []fmtTok
	cond    string  // the condition's operator (<, <=, >, >=, =, <>), "" for none
	condVal float64 // and its value
	text    bool    // it has an @: the text section
	general bool    // it has General in it

	intDigits, fracDigits          int // digit placeholders before the point and after it
	point, thousands, exp, expPlus bool
	percent, scale                 int  // % signs (×100 each) and scaling commas (÷1000 each)
	slash                          int  // index in toks of a fraction's slash, or -1
	fixedDen                       int  // a fraction's literal denominator (# ?/8), or 0
	noInt                          bool // a fraction without an integer part (?/?)
}

// fmtTok is a token of a section: a digit placeholder (0, # or ?), the decimal point, the
// exponent, the fraction slash, General, or literal text.
type fmtTok struct {
	kind byte // '0', '#', '?', '.', 'E', '/', 'G' (General), '@' or 'L' for literal text
	part byte // of a digit placeholder: in the 'i'nteger part, the 'f'raction or the 'e'xponent
	lit  string
}

// parseNumFormat parses code. It never fails: what it does not understand it shows as text.
func parseNumFormat(code string) *numFormat {
	nf := &numFormat{}
	for rest, more := code, true; more && len(nf.sections) < 4; {
		var sec string
		sec, rest, more = splitSection(rest)
		s := parseSection(sec)
		nf.cond = nf.cond || s.cond != ""
		nf.sections = append(nf.sections, s)
	}
	return nf
}

// parseSection parses one section of a code.
func parseSection(sec string) fmtSection {
	s := fmtSection{slash: -1}
	var pending []byte // literal text not yet made a token
	flush := func() {
		if len(pending) > 0 {
			s.toks = append(s.toks, fmtTok{kind: 'L', lit: string(pending)})
			pending = pending[:0]
		}
	}
	lit := func(t string) { pending = append(pending, t...) }
	tok := func(kind byte) {
		flush()
		part := byte('i')
		if s.exp {
			part = 'e'
		} else if s.point {
			part = 'f'
		}
		s.toks = append(s.toks, fmtTok{kind: kind, part: part})
	}
	lastDigit := -1 // index in toks of the last digit placeholder of the integer part
	commas := 0     // commas right after that placeholder
	for i := 0; i < len(sec); i++ {
		c := sec[i]
		if c != ',' && lastDigit >= 0 && commas > 0 && !s.point && !s.exp {
			if c == '0' || c == '#' || c == '?' {
				s.thousands = true // a comma between digits groups thousands
			} else {
				s.scale += commas // commas after the last digit scale
			}
			commas = 0
		}
		switch c {
		case '"':
			j := strings.IndexByte(sec[i+1:], '"')
			if j < 0 {
				j = len(sec) - i - 1
			}
			lit(sec[i+1 : i+1+j])
			i += j + 1
		case '\\':
			if i+1 < len(sec) {
				i++
				lit(sec[i : i+1])
			}
		case '_':
			i++ // the width of the next character: padding, dropped
		case '*':
			if i+1 < len(sec) {
				i++
				lit(sec[i : i+1]) // fills the column; shown once
			}
		case '[':
			j := strings.IndexByte(sec[i+1:], ']')
			if j < 0 {
				i = len(sec)
				break
			}
			s.bracket(sec[i+1:i+1+j], lit)
			i += j + 1
		case '0', '#', '?':
			tok(c)
			switch {
			case s.exp: // the exponent's: see exponent
			case s.point:
				s.fracDigits++
			default:
				s.intDigits++
				lastDigit = len(s.toks) - 1
			}
		case '.':
			if s.point || s.exp {
				lit(".")
				break
			}
			tok('.')
			s.point = true
		case ',':
			if lastDigit >= 0 && !s.point && !s.exp {
				commas++
			} else if !s.point || s.exp {
				lit(",")
			} else {
				s.scale++ // after the decimals: "0.0,"
			}
		case '%':
			s.percent++
			lit("%")
		case 'E', 'e':
			if i+1 < len(sec) && (sec[i+1] == '+' || sec[i+1] == '-') && !s.exp {
				tok('E')
				s.exp, s.expPlus = true, sec[i+1] == '+'
				i++
				break
			}
			lit(sec[i : i+1])
		case '/':
			if s.slash < 0 && len(pending) == 0 && len(s.toks) > 0 && isDigitTok(s.toks[len(s.toks)-1].kind) {
				tok('/')
				s.slash = len(s.toks) - 1
				j := i + 1
				for j < len(sec) && sec[j] >= '1' && sec[j] <= '9' || j > i+1 && j < len(sec) && sec[j] == '0' {
					j++
				}
				if j > i+1 {
					s.fixedDen, _ = strconv.Atoi(sec[i+1 : j])
					i = j - 1
				}
				break
			}
			lit("/")
		case '@':
			s.text = true
			tok('@')
		case 'G', 'g':
			if strings.EqualFold(sec[i:min(i+7, len(sec))], "general") {
				s.general = true
				tok('G')
				i += 6
				break
			}
			lit(sec[i : i+1])
		default:
			lit(sec[i : i+1])
		}
	}
	flush()
	if lastDigit >= 0 && !s.point && !s.exp {
		s.scale += commas
	}
	if s.slash >= 0 {
		s.fractionParts()
	}
	return s
}

// bracket reads a bracketed part of a section: a condition, a currency and locale
// ([$€-407] shows €), or a colour, a locale or calendar switch, which show nothing.
func (s *fmtSection) bracket(in string, lit func(string)) {
	switch {
	case strings.HasPrefix(in, "$"):
		sym := in[1:]
		if j := strings.IndexByte(sym, '-'); j >= 0 {
			sym = sym[:j]
		}
		if sym != "" {
			lit(sym)
		}
	case in != "" && strings.IndexByte("<>=", in[0]) >= 0:
		op := in[:1]
		if len(in) > 1 && (in[1] == '=' || in[1] == '>') {
			op = in[:2]
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(in[len(op):]), 64); err == nil {
			s.cond, s.condVal = op, v
		}
	}
}

// fractionParts finds a fraction's parts: the digit group right before the slash is the
// numerator, an earlier group the integer part.
func (s *fmtSection) fractionParts() {
	i := s.slash - 1
	for i >= 0 && strings.IndexByte("0#?", s.toks[i].kind) >= 0 {
		i--
	}
	s.noInt = true
	for ; i >= 0; i-- {
		if strings.IndexByte("0#?", s.toks[i].kind) >= 0 {
			s.noInt = false
		}
	}
}

// render shows v as the format does. A number in a format that has only a text section, or
// General, shows as its plain decimal.
func (nf *numFormat) render(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "#NUM!"
	}
	if v == 0 {
		v = 0 // -0
	}
	s, signed := nf.pick(v)
	if s == nil {
		return formatNumber(v)
	}
	out := s.render(math.Abs(v))
	if signed && v < 0 && strings.ContainsAny(out, "123456789") {
		out = "-" + out
	}
	return strings.TrimSpace(out)
}

// pick chooses the section for v and whether it shows v's sign: the only section shows it,
// a negative section does not (its code says how negatives look).
func (nf *numFormat) pick(v float64) (*fmtSection, bool) {
	var num []*fmtSection // the sections for numbers: up to three, none with an @
	for i := range nf.sections[:min(3, len(nf.sections))] {
		if s := &nf.sections[i]; !s.text {
			num = append(num, s)
		}
	}
	if len(num) == 0 {
		return nil, true
	}
	if nf.cond {
		for i, s := range num[:min(2, len(num))] {
			if s.cond != "" && s.matches(v) {
				return s, true
			}
			if s.cond == "" && i == 1 {
				return s, true
			}
		}
		if len(num) > 2 {
			return num[2], true
		}
		return num[len(num)-1], true
	}
	switch {
	case len(num) == 1, v > 0, v == 0 && len(num) == 2:
		return num[0], len(num) == 1
	case v < 0:
		return num[1], false
	}
	return num[2], false
}

func (s *fmtSection) matches(v float64) bool {
	switch s.cond {
	case "<":
		return v < s.condVal
	case "<=":
		return v <= s.condVal
	case ">":
		return v > s.condVal
	case ">=":
		return v >= s.condVal
	case "=":
		return v == s.condVal
	case "<>":
		return v != s.condVal
	}
	return false
}

// render shows the non-negative v with the section.
func (s *fmtSection) render(v float64) string {
	if s.general || s.intDigits+s.fracDigits == 0 && !s.exp {
		var b strings.Builder
		for _, t := range s.toks {
			switch t.kind {
			case 'L':
				b.WriteString(t.lit)
			case 'G', '@':
				b.WriteString(formatNumber(v))
			}
		}
		return b.String()
	}
	for range s.percent {
		v *= 100
	}
	for range s.scale {
		v /= 1000
	}
	if math.IsInf(v, 0) {
		return "#NUM!" // 1e308 in 0%: too large to show
	}
	switch {
	case s.slash >= 0:
		return s.renderFraction(v)
	case s.exp:
		return s.renderScientific(v)
	}
	ip, fp := roundDecimal(v, s.fracDigits)
	return s.fill(ip, fp, "")
}

// fill puts the integer digits ip, the fraction digits fp and, in scientific notation, the
// exponent exp into the placeholders.
func (s *fmtSection) fill(ip, fp, exp string) string {
	if ip == "0" {
		ip = "" // a 0 placeholder shows the zero, a # does not: "#.##" shows 0.5 as .5
	}
	if s.thousands {
		ip = groupThousands(strings.Repeat("0", max(0, s.intZeros()-len(ip))) + ip)
	}
	// Integer placeholders are filled from the right; the leftmost takes the digits left over.
	intOut := make([]string, len(s.toks))
	rest, first := ip, -1
	for i := len(s.toks) - 1; i >= 0; i-- {
		t := s.toks[i]
		if !isDigitTok(t.kind) || s.tokPart(i) != 'i' {
			continue
		}
		first = i
		if rest != "" {
			j := len(rest) - 1
			for j > 0 && rest[j] == ',' {
				j-- // a separator goes with the digit before it
			}
			intOut[i], rest = rest[j:], rest[:j]
			continue
		}
		switch t.kind {
		case '0':
			intOut[i] = "0"
		case '?':
			intOut[i] = " "
		}
	}
	var b strings.Builder
	if first >= 0 {
		intOut[first] = rest + intOut[first]
	} else {
		b.WriteString(rest) // no integer placeholder: the digits show anyway
	}
	// Fraction placeholders: trailing zeros show for 0, as spaces for ?, not at all for #.
	keep := len(fp)
	for keep > 0 && fp[keep-1] == '0' {
		keep--
	}
	k := 0
	for i, t := range s.toks {
		switch {
		case t.kind == 'L':
			b.WriteString(t.lit)
		case t.kind == '.':
			b.WriteByte('.')
		case t.kind == 'E':
			b.WriteString(s.exponent(exp))
		case !isDigitTok(t.kind):
		case s.tokPart(i) == 'i':
			b.WriteString(intOut[i])
		case s.tokPart(i) == 'f':
			switch {
			case k < keep || t.kind == '0':
				b.WriteByte(fp[k])
			case t.kind == '?':
				b.WriteByte(' ')
			}
			k++
		}
	}
	return b.String()
}

// exponent shows exponent exp as E, its sign (+ only with E+) and at least as many digits as
// the exponent has 0 placeholders: E+04.
func (s *fmtSection) exponent(exp string) string {
	sign := ""
	if strings.HasPrefix(exp, "-") {
		sign, exp = "-", exp[1:]
	} else if s.expPlus {
		sign = "+"
	}
	zeros := 0
	for i, t := range s.toks {
		if t.kind == '0' && s.tokPart(i) == 'e' {
			zeros++
		}
	}
	return "E" + sign + strings.Repeat("0", max(0, zeros-len(exp))) + exp
}

// intZeros counts the 0 placeholders of the integer part.
func (s *fmtSection) intZeros() int {
	n := 0
	for i, t := range s.toks {
		if t.kind == '0' && s.tokPart(i) == 'i' {
			n++
		}
	}
	return n
}

// tokPart says which part the digit placeholder at index i is in: 'i'nteger, 'f'raction or
// 'e'xponent.
func (s *fmtSection) tokPart(i int) byte { return s.toks[i].part }

func isDigitTok(k byte) bool { return k == '0' || k == '#' || k == '?' }

// renderScientific shows v as mantissa and exponent: 1.23E+04. With more than one integer
// placeholder and a #, the exponent is a multiple of their count (engineering: ##0.0E+0).
func (s *fmtSection) renderScientific(v float64) string {
	if v == 0 {
		return s.fill("0", strings.Repeat("0", s.fracDigits), "0")
	}
	e := int(math.Floor(math.Log10(v)))
	n := max(s.intDigits, 1)
	step := 1
	if n > 1 && s.hasHashInt() {
		step = n
	}
	shift := func(e int) int {
		if step > 1 {
			return int(math.Floor(float64(e)/float64(step))) * step
		}
		return e - (n - 1)
	}
	x := shift(e)
	m := v / math.Pow(10, float64(x))
	if math.IsInf(m, 0) || m == 0 {
		return "#NUM!" // below 1e-308: no exponent to show it with
	}
	ip, fp := roundDecimal(m, s.fracDigits)
	if len(ip) > n && step == 1 || step > 1 && len(ip) > step { // rounding carried a digit
		x = shift(e + 1)
		ip, fp = roundDecimal(v/math.Pow(10, float64(x)), s.fracDigits)
	}
	return s.fill(ip, fp, strconv.Itoa(x))
}

func (s *fmtSection) hasHashInt() bool {
	for i, t := range s.toks {
		if t.kind == '#' && s.tokPart(i) == 'i' {
			return true
		}
	}
	return false
}

// renderFraction shows v as a whole number and a fraction (# ?/?), or a fraction alone (?/?),
// with the closest fraction whose denominator has at most as many digits as its placeholders
// (or the literal denominator: # ?/8).
func (s *fmtSection) renderFraction(v float64) string {
	whole := 0.0
	if !s.noInt {
		whole = math.Floor(v)
		v -= whole
	}
	num, den := 0, 1
	if s.fixedDen > 0 {
		den = s.fixedDen
		num = int(math.Round(v * float64(den)))
	} else {
		maxDen := 1 // at most 9999: four denominator digits are searched, no more
		for i := s.slash + 1; i < len(s.toks) && isDigitTok(s.toks[i].kind) && maxDen < 10000; i++ {
			maxDen *= 10
		}
		maxDen = max(maxDen-1, 1)
		best := math.Inf(1)
		for d := 1; d <= maxDen; d++ {
			n := math.Round(v * float64(d))
			if diff := math.Abs(v - n/float64(d)); diff < best-1e-12 {
				best, num, den = diff, int(n), d
			}
		}
	}
	if !s.noInt && num == den {
		whole, num = whole+1, 0
	}
	var b strings.Builder
	numStart := s.slash - 1
	for numStart > 0 && isDigitTok(s.toks[numStart-1].kind) {
		numStart--
	}
	wholeDone := false
	for i, t := range s.toks {
		switch {
		case t.kind == 'L':
			if num == 0 && !s.noInt && i > numStart {
				continue // no fraction: its literals go too
			}
			b.WriteString(t.lit)
		case t.kind == '/':
			if num != 0 || s.noInt {
				b.WriteByte('/')
				if s.fixedDen > 0 {
					b.WriteString(strconv.Itoa(den))
				}
			}
		case i >= numStart && i < s.slash:
			if i == numStart && (num != 0 || s.noInt) {
				b.WriteString(strconv.Itoa(num))
			}
		case i > s.slash:
			if i == s.slash+1 && (num != 0 || s.noInt) {
				b.WriteString(strconv.Itoa(den))
			}
		case !wholeDone:
			wholeDone = true
			if whole != 0 || num == 0 {
				b.WriteString(strconv.FormatFloat(whole, 'f', 0, 64))
			}
		}
	}
	return b.String()
}

// roundDecimal rounds the non-negative v to frac decimals, half away from zero, from the 15
// significant digits a spreadsheet holds (so 1.005 rounds to 1.01, as Excel shows it), and
// returns the integer digits ("0" for none) and exactly frac decimals.
func roundDecimal(v float64, frac int) (ip, fp string) {
	m := strconv.FormatFloat(v, 'e', 14, 64) // d.dddddddddddddde±XX
	digits := m[:1] + m[2:16]
	exp, _ := strconv.Atoi(m[17:])
	point := exp + 1 // digits before the point
	if point < 0 {
		digits = strings.Repeat("0", -point) + digits
		point = 0
	}
	keep := point + frac
	if keep < len(digits) {
		up := digits[keep] >= '5'
		digits = digits[:keep]
		if up {
			digits = incrementDigits(digits)
			if len(digits) > keep {
				point++
			}
		}
	}
	if n := point + frac - len(digits); n > 0 {
		digits += strings.Repeat("0", n)
	}
	ip, fp = digits[:point], digits[point:]
	ip = strings.TrimLeft(ip, "0")
	if ip == "" {
		ip = "0"
	}
	return ip, fp
}

// incrementDigits adds 1 to the decimal digit string d: "129" → "130", "99" → "100".
func incrementDigits(d string) string {
	b := []byte(d)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < '9' {
			b[i]++
			return string(b)
		}
		b[i] = '0'
	}
	return "1" + string(b)
}

// groupThousands puts a comma between each three digits of ip: 1234567 → 1,234,567.
func groupThousands(ip string) string {
	if len(ip) <= 3 {
		return ip
	}
	var b strings.Builder
	for i := 0; i < len(ip); i++ {
		if i > 0 && (len(ip)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(ip[i])
	}
	return b.String()
}
