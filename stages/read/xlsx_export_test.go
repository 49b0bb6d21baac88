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
