package read

// SetXLSXRowHook makes the XLSX reader call hook with the number of each row it reads (1 for the
// first call), before reading it, for tests that need the reader to panic; it returns the
// function that restores the reader.
func SetXLSXRowHook(hook func(n int)) (restore func()) {
	saved := xlsxAdvance
	n := 0
	xlsxAdvance = func(s *sheetScan) (bool, error) {
		n++
		hook(n)
		return saved(s)
	}
	return func() { xlsxAdvance = saved }
}

// XLSXMaxCellChars is Excel's limit on the characters of a cell.
const XLSXMaxCellChars = xlsxMaxCellChars
