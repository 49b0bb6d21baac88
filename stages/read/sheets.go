package read

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// ErrNotWorkbook is returned for a file that has no sheets to list: a CSV file.
var ErrNotWorkbook = errors.New("the file is not a workbook")

// SheetNames lists the worksheets of a spreadsheet f in the workbook's order (an XLSX file's
// sheets, hidden ones included, as Open picks among them; an XLS file's worksheets), reading only
// the workbook's index: xl/workbook.xml of an XLSX file, within opts' caps, or an XLS file's
// globals. A CSV file is an error wrapping ErrNotWorkbook; a malformed workbook one wrapping
// ErrFormat.
func SheetNames(f *os.File, opts Options) ([]string, error) {
	format, err := Detect(f)
	if err != nil {
		return nil, err
	}
	switch format {
	case "xlsx":
		return xlsxSheetNames(f, opts)
	case "xls":
		return xlsSheetNames(f)
	}
	return nil, fmt.Errorf("%w: it reads as CSV, which has no sheets; a workbook is an XLSX or XLS file", ErrNotWorkbook)
}

// xlsxSheetNames reads the sheets' names from xl/workbook.xml, after the zip checks Open makes.
func xlsxSheetNames(f *os.File, opts Options) ([]string, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read file: %w", err)
	}
	maxUnzipped := opts.MaxUnzippedBytes
	if maxUnzipped <= 0 {
		maxUnzipped = DefaultMaxUnzippedBytes
	}
	maxXML := opts.MaxSheetXMLBytes
	if maxXML <= 0 {
		maxXML = DefaultMaxSheetXMLBytes
	}
	zr, err := checkXLSXZip(f, st.Size(), maxUnzipped)
	if err != nil {
		return nil, err
	}
	for _, zf := range zr.File {
		if !strings.EqualFold(strings.ReplaceAll(zf.Name, `\`, "/"), "xl/workbook.xml") {
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			return nil, fmt.Errorf("%w: the file is not a valid XLSX workbook: xl/workbook.xml: %v", ErrFormat, err)
		}
		defer rc.Close()
		var book struct {
			Sheets []struct {
				Name string `xml:"name,attr"`
			} `xml:"sheets>sheet"`
		}
		if err := xml.NewDecoder(io.LimitReader(rc, maxXML)).Decode(&book); err != nil {
			return nil, fmt.Errorf("%w: the XLSX file is malformed: xl/workbook.xml: %v", ErrFormat, err)
		}
		if len(book.Sheets) == 0 {
			return nil, fmt.Errorf("%w: the XLSX workbook has no sheets", ErrFormat)
		}
		names := make([]string, len(book.Sheets))
		for i, s := range book.Sheets {
			names[i] = s.Name
		}
		return names, nil
	}
	return nil, fmt.Errorf("%w: the file is a zip archive but not an XLSX workbook: it has no xl/workbook.xml", ErrFormat)
}

// xlsSheetNames reads the worksheets' names from an XLS file's globals.
func xlsSheetNames(f *os.File) (_ []string, err error) {
	defer recoverXLS(&err)
	book, err := openXLSBook(f)
	if err != nil {
		return nil, err
	}
	if len(book.sheets) == 0 {
		return nil, xlsNotValid("the workbook has no worksheet")
	}
	names := make([]string, len(book.sheets))
	for i, s := range book.sheets {
		names[i] = s.name
	}
	return names, nil
}
