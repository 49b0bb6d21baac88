package read

import (
	"fmt"
	"strings"
)

// What the readers of a workbook's sheet (XLSX, ODS, XLS) share.

// sheetRows is what readSheetHeader needs of a reader of a sheet's rows.
type sheetRows interface {
	// advance reads the next row, false at the end of the sheet; rowState then describes it.
	advance(skip bool) (bool, error)
	// rowState returns the last row's number, whether it is blank, why it is malformed ("" if
	// it is not) and its cells.
	rowState() (row int, blank bool, why string, cells []string)
}

// readSheetHeader reads r up to the first non-blank row and returns it as the header (see
// headerCells) with its row number. what names the file in messages ("XLSX workbook").
func readSheetHeader(r sheetRows, what, sheet string) (header []string, row int, err error) {
	for {
		ok, err := r.advance(false)
		if err != nil {
			return nil, 0, err
		}
		row, blank, why, cells := r.rowState()
		switch {
		case !ok && row == 0:
			return nil, 0, fmt.Errorf("%w: the sheet %q of the %s has no rows", ErrEmpty, sheet, what)
		case !ok:
			return nil, 0, fmt.Errorf("%w: all %d rows of the sheet %q are blank", ErrNoHeader, row, sheet)
		case blank:
			continue
		case why != "":
			return nil, 0, fmt.Errorf("%w: row %d, the first non-blank row of the sheet %q, cannot be read as a header: %s",
				ErrNoHeader, row, sheet, why)
		}
		return headerCells(cells), row, nil
	}
}

// headerCells returns a copy of a header row's cells, trimmed, without trailing empty ones.
func headerCells(cells []string) []string {
	n := 0
	hdr := make([]string, len(cells))
	for i, c := range cells {
		if hdr[i] = strings.TrimSpace(c); hdr[i] != "" {
			n = i + 1
		}
	}
	return hdr[:n:n]
}

// quotedList lists names for a message: "Leads", "Archive".
func quotedList(names []string) string {
	quoted := make([]string, len(names))
	for i, s := range names {
		quoted[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(quoted, ", ")
}
