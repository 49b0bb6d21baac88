package read

import (
	"math"
	"strconv"
	"time"
)

// Cell values of a spreadsheet as text, the way its user sees them: numbers at the 15
// significant digits a spreadsheet shows, without exponent; date cells (by their number format)
// as ISO dates; booleans as true/false; error values as the spreadsheet shows them.

// formatNumber renders v as a spreadsheet shows it, at 15 significant digits, in plain decimal
// notation: 15551234567, 42.5, 0.3 (for 0.1+0.2), 1000000000000000000000.
func formatNumber(v float64) string {
	switch {
	case math.IsNaN(v), math.IsInf(v, 0):
		return "#NUM!"
	case v == 0:
		return "0" // and -0
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 15, 64), 64)
	return strconv.FormatFloat(r, 'f', -1, 64)
}

// Excel's serial day numbers: in the 1900 date system, 1 is 1900-01-01 and 60 the fictitious
// 1900-02-29 (Lotus 1-2-3's leap-year bug, kept for compatibility), so from 61 on serial n is
// 1899-12-30 plus n days. In the 1904 system, 0 is 1904-01-01, serial 1462 of the 1900 system.
const (
	serial1904    = 1462
	maxSerial     = 2958466 // 10000-01-01: no date past it
	fakeLeapDay   = 60
	secondsPerDay = 86400
)

var excelEpoch = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)

// formatDateTime renders serial day number v as kind shows it: 2024-01-31, 13:45:00,
// 2024-01-31 13:45:00 or, elapsed, 36:00:00, rounded to the second. Numbers that are no date (negative, or past
// 9999-12-31) are not ok.
func formatDateTime(v float64, kind fmtKind, date1904 bool) (string, bool) {
	if date1904 {
		v += serial1904
	}
	if math.IsNaN(v) || v < 0 || v >= maxSerial {
		return "", false
	}
	total := int64(math.Round(v * secondsPerDay))
	days, secs := total/secondsPerDay, total%secondsPerDay
	if days >= maxSerial {
		return "", false
	}
	clock := func() string {
		h, m, s := secs/3600, secs/60%60, secs%60
		return pad2(h) + ":" + pad2(m) + ":" + pad2(s)
	}
	switch kind {
	case fmtTime:
		return clock(), true
	case fmtElapsed:
		return strconv.FormatInt(total/3600, 10) + clock()[2:], true
	}
	var day string
	switch {
	case days == fakeLeapDay && !date1904:
		day = "1900-02-29" // as the spreadsheet shows it
	case days == 0 && !date1904:
		day = "1900-01-00" // as the spreadsheet shows serial 0
	case days < fakeLeapDay && !date1904:
		day = excelEpoch.AddDate(0, 0, int(days)+1).Format(time.DateOnly)
	default:
		day = excelEpoch.AddDate(0, 0, int(days)).Format(time.DateOnly)
	}
	if kind == fmtDateTime {
		return day + " " + clock(), true
	}
	return day, true
}

func pad2(n int64) string {
	if n < 10 {
		return "0" + strconv.FormatInt(n, 10)
	}
	return strconv.FormatInt(n, 10)
}

// rkValue decodes an RK number: a 30-bit integer or the top 30 bits of a double, divided by 100
// when its lowest bit says so.
func rkValue(rk uint32) float64 {
	var v float64
	if rk&2 != 0 {
		v = float64(int32(rk) >> 2)
	} else {
		v = math.Float64frombits(uint64(rk&^3) << 32)
	}
	if rk&1 != 0 {
		v /= 100
	}
	return v
}

func float64frombits(b []byte) float64 { return math.Float64frombits(le.Uint64(b)) }

// boolErrText renders a boolean, or with isErr an error code, as a spreadsheet shows it.
func boolErrText(v byte, isErr bool) string {
	if !isErr {
		if v != 0 {
			return "true"
		}
		return "false"
	}
	switch v {
	case 0x00:
		return "#NULL!"
	case 0x07:
		return "#DIV/0!"
	case 0x0F:
		return "#VALUE!"
	case 0x17:
		return "#REF!"
	case 0x1D:
		return "#NAME?"
	case 0x24:
		return "#NUM!"
	case 0x2A:
		return "#N/A"
	case 0x2B:
		return "#GETTING_DATA"
	}
	return "#ERROR!"
}

// cellName returns the A1-style name of the cell at 0-based row and col: "C3".
func cellName(row, col int) string {
	return columnName(col) + strconv.Itoa(row+1)
}

// columnName returns the letters of 0-based column col: A, Z, AA, IV.
func columnName(col int) string {
	var b []byte
	for col++; col > 0; col = (col - 1) / 26 {
		b = append(b, byte('A'+(col-1)%26))
	}
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}
