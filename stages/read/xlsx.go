package read

import (
	"fmt"
	"os"
)

// openXLSX opens an XLSX workbook.
func openXLSX(*os.File, Options) (Reader, error) {
	return nil, fmt.Errorf("%w: XLSX workbooks are not read yet; save the sheet as CSV", ErrFormat)
}
