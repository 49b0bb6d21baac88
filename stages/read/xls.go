package read

import (
	"fmt"
	"os"
)

// openXLS opens a legacy XLS (BIFF8) workbook.
func openXLS(*os.File, Options) (Reader, error) {
	return nil, fmt.Errorf("%w: XLS workbooks are not read yet; save the sheet as CSV", ErrFormat)
}
