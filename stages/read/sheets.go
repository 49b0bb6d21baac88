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

// Sheet is one worksheet of a workbook.
type Sheet struct {
	Name string `json:"name"`
	// Visibility is "visible", "hidden" (the user can unhide it) or "very_hidden" (hidden so that
	// only a macro unhides it).
	Visibility string `json:"visibility"`
}

// Visible reports whether the sheet is shown; without a sheet option Open reads the first
// visible one.
func (s Sheet) Visible() bool { return s.Visibility == "visible" }

// Sheets lists the worksheets of a spreadsheet f in the workbook's order, hidden ones included,
// reading only the workbook's index: xl/workbook.xml of an XLSX file, within opts' caps, or an
// XLS file's globals (an encrypted workbook is decrypted as Open decrypts it); an ODS file's
// content.xml is read through, its rows passed over. A CSV file is an error wrapping
// ErrNotWorkbook; a malformed workbook one wrapping ErrFormat.
func Sheets(f *os.File, opts Options) ([]Sheet, error) {
	format, err := Detect(f)
	if err != nil {
		return nil, err
	}
	switch format {
	case "xlsx":
		return xlsxSheets(f, opts)
	case "xls":
		return xlsSheets(f)
	case "ods":
		return odsSheets(f, opts)
	}
	return nil, fmt.Errorf("%w: it reads as CSV, which has no sheets; a workbook is an XLSX, XLS or ODS file", ErrNotWorkbook)
}

// xlsxVisibility names a sheet's visibility the way Sheet does from XLSX's state attribute, and
// xlsVisibility from XLS's hidden-state code (0 to 3; 3 is reserved, read as very hidden).
var (
	xlsxVisibility = map[string]string{"": "visible", "visible": "visible", "hidden": "hidden", "veryHidden": "very_hidden"}
	xlsVisibility  = [4]string{"visible", "hidden", "very_hidden", "very_hidden"}
)

// xlsxSheets reads the sheets from xl/workbook.xml, after the zip checks Open makes. An
// encrypted workbook is decrypted first, into a temporary file removed on return.
func xlsxSheets(f *os.File, opts Options) ([]Sheet, error) {
	if isOLE2(f) {
		res := &xlsxResources{}
		defer res.close()
		plain, err := decryptXLSXToTemp(f, res)
		if err != nil {
			return nil, err
		}
		defer plain.Close()
		f = plain
	}
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
				Name  string `xml:"name,attr"`
				State string `xml:"state,attr"`
			} `xml:"sheets>sheet"`
		}
		if err := xml.NewDecoder(io.LimitReader(rc, maxXML)).Decode(&book); err != nil {
			return nil, fmt.Errorf("%w: the XLSX file is malformed: xl/workbook.xml: %v", ErrFormat, err)
		}
		if len(book.Sheets) == 0 {
			return nil, fmt.Errorf("%w: the XLSX workbook has no sheets", ErrFormat)
		}
		sheets := make([]Sheet, len(book.Sheets))
		for i, s := range book.Sheets {
			v, ok := xlsxVisibility[s.State]
			if !ok {
				v = "visible" // as excelize and Excel read an unknown state
			}
			sheets[i] = Sheet{Name: s.Name, Visibility: v}
		}
		return sheets, nil
	}
	return nil, fmt.Errorf("%w: the file is a zip archive but not an XLSX workbook: it has no xl/workbook.xml", ErrFormat)
}

// xlsSheets reads the worksheets from an XLS file's globals.
func xlsSheets(f *os.File) (_ []Sheet, err error) {
	defer recoverXLS(&err)
	book, err := openXLSBook(f)
	if err != nil {
		return nil, err
	}
	if len(book.sheets) == 0 {
		return nil, xlsNotValid("the workbook has no worksheet")
	}
	sheets := make([]Sheet, len(book.sheets))
	for i, s := range book.sheets {
		sheets[i] = Sheet{Name: s.name, Visibility: xlsVisibility[s.hidden&3]}
	}
	return sheets, nil
}
