package read

import "github.com/xuri/excelize/v2"

// SetXLSXColumns replaces how the XLSX reader reads a row's cells, for tests that need excelize
// to panic; it returns the function that restores it.
func SetXLSXColumns(f func(rows *excelize.Rows, row int) ([]string, error)) (restore func()) {
	saved := xlsxColumns
	n := 0
	xlsxColumns = func(rows *excelize.Rows) ([]string, error) {
		n++
		return f(rows, n)
	}
	return func() { xlsxColumns = saved }
}

// XLSXNumFmtCount rewrites f's number formats as the XLSX reader does and returns how many
// custom number formats its styles hold then.
func XLSXNumFmtCount(f *excelize.File) (int, error) {
	if _, err := xlsxNormalizeNumFmts(f, newXLSXMarker()); err != nil {
		return 0, err
	}
	if f.Styles.NumFmts == nil {
		return 0, nil
	}
	return len(f.Styles.NumFmts.NumFmt), nil
}
