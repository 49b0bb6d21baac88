package read

import "testing"

// TestRenderNumber checks the renderer against what Excel shows for each format (written by
// hand from Excel's documentation of number format codes and its display).
func TestRenderNumber(t *testing.T) {
	accounting := `_($* #,##0.00_);_($* (#,##0.00);_($* "-"??_);_(@_)`
	for _, tc := range []struct {
		v    float64
		code string
		want string
	}{
		{0.25, "0.00%", "25.00%"},
		{0.25, "0%", "25%"},
		{5, `General" kg"`, "5 kg"},
		{1234.5, `"Total: "General`, "Total: 1234.5"},
		{-5, "[Red]General", "-5"},
		{1200, "$#,##0.00", "$1,200.00"},
		{-1200, "$#,##0.00", "-$1,200.00"},
		{-1200, "#,##0.00;(#,##0.00)", "(1,200.00)"},
		{1200, "#,##0.00;(#,##0.00)", "1,200.00"},
		{1200, "#,##0", "1,200"},
		{1234567.891, "#,##0.00", "1,234,567.89"},
		{999.995, "#,##0.00", "1,000.00"},
		{1.005, "0.00", "1.01"},
		{2134, "00000", "02134"},
		{123456789, "00000-0000", "12345-6789"},
		{12300, "0.00E+00", "1.23E+04"},
		{0.000123, "0.00E+00", "1.23E-04"},
		{99999, "0.00E+00", "1.00E+05"},
		{12300, "##0.0E+0", "12.3E+3"},
		{1234.5, `[$€-407] #,##0.00`, "€ 1,234.50"},
		{1234.5, `#,##0.00 [$€-407]`, "1,234.50 €"},
		{1234.5, `[$$-409]#,##0.00`, "$1,234.50"},
		{0, accounting, "$ -"},
		{1200, accounting, "$ 1,200.00"},
		{-1200, accounting, "$ (1,200.00)"},
		{-5, "[Red]0.00;[Blue]-0.00", "-5.00"},
		{5, "0;-0;\"zero\"", "5"},
		{0, "0;-0;\"zero\"", "zero"},
		{150, `[>100]"big "0;[<=-100]"small "0;0`, "big 150"},
		{50, `[>100]"big "0;[<=-100]"small "0;0`, "50"},
		{1500000, `#,##0,,"M"`, "2M"},
		{1500, `0.0,"K"`, "1.5K"},
		{1.5, "# ?/?", "1 1/2"},
		{0.75, "# ?/?", "3/4"},
		{3, "# ?/?", "3"},
		{0.3333333, "# ??/??", "1/3"},
		{2.625, "# ?/8", "2 5/8"},
		{0.5, "#.##", ".5"},
		{1.5, "0.0?", "1.5"},
		{42, `"ID-"0`, "ID-42"},
		{42, `\#0`, "#42"},
		{42, "General", "42"},
		{42, `0 "units"`, "42 units"},
		{0.5, "0", "1"},
		{-0.4, "0", "0"},
	} {
		if got := parseNumFormat(tc.code).render(tc.v); got != tc.want {
			t.Errorf("render(%v, %q) = %q, want %q", tc.v, tc.code, got, tc.want)
		}
	}
}

// TestFmtKind checks the classifier on codes and on the built-in formats, 32–35 among them:
// ECMA-376 §18.8.30 gives 32–33 as times in every East Asian locale (h"時"mm"分"), and 34–35 as
// times in zh-CN and zh-TW but dates in ja-JP and ko-KR, so they keep both.
func TestFmtKind(t *testing.T) {
	for code, want := range map[string]fmtKind{
		"General": fmtGeneral, "": fmtGeneral, "@": fmtText,
		"0": fmtNumber, "0.00%": fmtNumber, "00000": fmtNumber, "0.00E+00": fmtNumber, `"$"#,##0.00`: fmtNumber,
		`[$€-407] #,##0.00`: fmtNumber, "# ?/?": fmtNumber, `_("$"* #,##0_);_("$"* (#,##0);_("$"* "-"_);_(@_)`: fmtNumber,
		"yyyy-mm-dd": fmtDate, "mmm-yy": fmtDate, `[$-409]d-mmm-yy;@`: fmtDate, "m/d/yy h:mm": fmtDateTime,
		"h:mm AM/PM": fmtTime, "mm:ss": fmtTime, "[h]:mm:ss": fmtElapsed, `"Day "0`: fmtNumber, `0 "ms"`: fmtNumber,
		`General" kg"`: fmtNumber, `"Total: "General`: fmtNumber, `[$-409]General`: fmtNumber, `[Red]General`: fmtNumber,
	} {
		if got := fmtKindOf(code); got != want {
			t.Errorf("fmtKindOf(%q) = %d, want %d", code, got, want)
		}
	}
	for id, want := range map[int]fmtKind{
		14: fmtDate, 22: fmtDateTime, 18: fmtTime, 46: fmtElapsed, 27: fmtDate, 31: fmtDate,
		32: fmtTime, 33: fmtTime, 34: fmtDateTime, 35: fmtDateTime, 36: fmtDate, 55: fmtDateTime, 57: fmtDate,
		0: fmtGeneral, 164: fmtGeneral,
	} {
		if got := builtinFmtKind(id); got != want {
			t.Errorf("builtinFmtKind(%d) = %d, want %d", id, got, want)
		}
	}
	for id, want := range map[int]fmtKind{3: fmtNumber, 10: fmtNumber, 44: fmtNumber, 49: fmtText, 14: fmtDate, 0: fmtGeneral} {
		if got := newCellFormat(id, "", false).kind; got != want {
			t.Errorf("newCellFormat(%d) kind %d, want %d", id, got, want)
		}
	}
}

// FuzzNumFormat renders numbers with arbitrary format codes, as a crafted file can hold: no
// code or number may panic.
func FuzzNumFormat(f *testing.F) {
	for _, code := range []string{"0.00%", `_($* #,##0.00_);_($* (#,##0.00);_($* "-"??_);_(@_)`, "# ??/??",
		"##0.0E+0", `[>100][Red]"big"0;[<0]0.0;@`, `0.0,,"M"`, "[$€-407] #,##0.00", `\`, `"`, "[", "0/", "E+", "?/0"} {
		for _, v := range []float64{0, -1.5, 1e308, 5e-324, 12345.6789} {
			f.Add(code, v)
		}
	}
	f.Fuzz(func(t *testing.T, code string, v float64) {
		nf := parseNumFormat(code)
		_ = nf.render(v)
		_ = fmtKindOf(code)
	})
}
