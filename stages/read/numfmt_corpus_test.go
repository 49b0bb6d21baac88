package read_test

import (
	"reflect"
	"testing"

	"github.com/leadpipe/leadpipe/stages/read"
)

// readCorpusRows reads a corpus file's sheet and returns its rows' cells and typed cells by
// row number.
func readCorpusRows(t *testing.T, name, sheet string) (cells, typed map[int][]string) {
	t.Helper()
	r, err := xlsxOpen(t, corpusFile(t, name), read.Options{Sheet: sheet})
	if err != nil {
		t.Fatal(err)
	}
	rows, batches, err := drainSheet(t, r, 0)
	if err != nil {
		t.Fatal(err)
	}
	cells = map[int][]string{}
	for _, row := range rows {
		cells[row.n] = row.cells
	}
	return cells, typedRows(batches)
}

// TestCorpusNumberFormats reads formatted numbers of two real workbooks. Each expected cell
// was worked out by hand from the cell's value and number format in the file's XML
// (xl/worksheets/sheet1.xml, xl/styles.xml): what Excel shows for that value in that format.
func TestCorpusNumberFormats(t *testing.T) {
	t.Run("poi-48962.xlsx", func(t *testing.T) {
		cells, typed := readCorpusRows(t, "poi-48962.xlsx", "")
		// Row 13: A "$"#,##0.00 472; B [$$-409]#,##0.00_);[Red]\([$$-409]#,##0.00\) -123;
		// C 0.00% (built-in 10) 0.25; D 0.00_);[Red]\(0.00\) -38245.67; E #,##0 (built-in 3)
		// 37282734; F #,##0.00\ [$€-40C] 355232.32; G m/d/yyyy (14) 38062 on the 1904 system.
		want := []string{"$472.00", "($123.00)", "25.00%", "(38245.67)", "37,282,734", "355,232.32 €", "2008-03-17"}
		if !reflect.DeepEqual(cells[13], want) {
			t.Errorf("row 13 %q, want %q", cells[13], want)
		}
		wantTyped := []string{"472", "-123", "0.25", "-38245.67", "37282734", "355232.32", ""}
		if !reflect.DeepEqual(typed[13], wantTyped) {
			t.Errorf("row 13 typed %q, want %q", typed[13], wantTyped)
		}
		// G4 and G5 are booleans (t="b").
		if cells[4][6] != "true" || cells[5][6] != "false" {
			t.Errorf("G4, G5 = %q, %q, want true, false", cells[4][6], cells[5][6])
		}
	})
	t.Run("sheetjs-number_format.xlsm", func(t *testing.T) {
		// Sheet Implied: column A the built-in format's id, B 12345.678900000001 in that format,
		// C the format's code (text), D what VBA's Format made of it (text, formula results),
		// E the code again (text), F the number in the format again.
		cells, typed := readCorpusRows(t, "sheetjs-number_format.xlsm", "")
		for _, tc := range []struct {
			row        int
			cells      []string
			typedValue string // B's and F's typed value; "" for none
		}{
			{2, []string{"0", "12345.6789", "General"}, ""},
			{3, []string{"1", "12346", "0", "12346", "0", "12346"}, "12345.6789"},
			{4, []string{"2", "12345.68", "0.00", "12345.68", "0.00", "12345.68"}, "12345.6789"},
			{5, []string{"3", "12,346", "#,##0", "12,346", "#,##0", "12,346"}, "12345.6789"},
			{7, []string{"9", "1234568%", "0%", "1234568%", "0%", "1234568%"}, "12345.6789"},
			{8, []string{"10", "1234567.89%", "0.00%", "1234567.89%", "0.00%", "1234567.89%"}, "12345.6789"},
			// D9 is the text 1.23E+04 (a formula's string result): text, never rewritten.
			{9, []string{"11", "1.23E+04", "0.00E+00", "1.23E+04", "0.00E+00", "1.23E+04"}, "12345.6789"},
			// .6789 is closest to 2/3 with a one-digit denominator, to 55/81 with two.
			{10, []string{"12", "12345 2/3", "# ?/?", "12346 ?/?", "# ?/?", "12345 2/3"}, "12345.6789"},
			{11, []string{"13", "12345 55/81", "# ??/??", "12346 ??/??", "# ??/??", "12345 55/81"}, "12345.6789"},
			{13, []string{"15", "1933-10-18", "d-mmm-yy", "18-Oct-33", "d-mmm-yy", "1933-10-18"}, ""},
			{16, []string{"18", "16:17:37", "h:mm AM/PM", "4:17 PM", "h:mm AM/PM", "16:17:37"}, ""},
			// #,##0\ ;\(#,##0\): a trailing space, dropped as padding (VBA's D21 keeps it).
			{21, []string{"37", "12,346", "#,##0 ;(#,##0)", "12,346 ", "#,##0 ;(#,##0)", "12,346"}, "12345.6789"},
			{23, []string{"39", "12,345.68", "#,##0.00;(#,##0.00)", "12,345.68", "#,##0.00;(#,##0.00)", "12,345.68"}, "12345.6789"},
			{26, []string{"46", "296296:17:37", "[h]:mm:ss", ":10:37", "[h]:mm:ss", "296296:17:37"}, ""},
			// Engineering notation: the exponent a multiple of 3 (VBA's D28 differs from Excel).
			{28, []string{"48", "12.3E+3", "##0.0E+0", "123.5E+2", "##0.0E+0", "12.3E+3"}, "12345.6789"},
			{29, []string{"49", "12345.6789", "@", "12345.6789", "@", "12345.6789"}, ""},
		} {
			if !reflect.DeepEqual(cells[tc.row], tc.cells) {
				t.Errorf("row %d %q, want %q", tc.row, cells[tc.row], tc.cells)
			}
			var want []string
			if tc.typedValue != "" {
				want = make([]string, len(tc.cells))
				want[1], want[5] = tc.typedValue, tc.typedValue
			}
			if !reflect.DeepEqual(typed[tc.row], want) {
				t.Errorf("row %d typed %q, want %q", tc.row, typed[tc.row], want)
			}
		}
	})
}
