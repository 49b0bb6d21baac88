package read

import (
	"archive/zip"
	"encoding/xml"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/xuri/excelize/v2"
)

// What the XLSX reader takes from the workbook, which excelize opens: the number format of each
// cell style, and where the chosen sheet's worksheet is.

// xlsxCellFormats returns the number format of each of f's cell styles, by the style's index
// (a cell's s attribute): the workbook's own format codes, else the built-in ones.
func xlsxCellFormats(f *excelize.File) []cellFormat {
	ss := f.Styles
	if ss == nil || ss.CellXfs == nil || len(ss.CellXfs.Xf) == 0 {
		return nil
	}
	custom := map[int]string{}
	if ss.NumFmts != nil {
		for _, nf := range ss.NumFmts.NumFmt {
			if nf == nil {
				continue
			}
			if _, dup := custom[nf.NumFmtID]; dup {
				continue // the first counts, as in excelize
			}
			code := nf.FormatCode
			if nf.FormatCode16 != "" {
				code = nf.FormatCode16
			}
			custom[nf.NumFmtID] = code
		}
	}
	formats := make([]cellFormat, len(ss.CellXfs.Xf))
	byID := map[int]cellFormat{}
	for i, xf := range ss.CellXfs.Xf {
		id := 0
		if xf.NumFmtID != nil {
			id = *xf.NumFmtID
		}
		cf, ok := byID[id]
		if !ok {
			code, defined := custom[id]
			cf = newCellFormat(id, code, defined)
			byID[id] = cf
		}
		formats[i] = cf
	}
	return formats
}

// xlsxMaxRelsBytes bounds the workbook's relationships part, which is read whole.
const xlsxMaxRelsBytes = 16 << 20

// xlsxSheetPart returns the zip part of f's worksheet named sheet: the target of the workbook's
// relationship that the sheet names.
func xlsxSheetPart(zr *zip.Reader, f *excelize.File, sheet string) (*zip.File, error) {
	rid := ""
	if f.WorkBook != nil && f.WorkBook.Sheets.Sheet != nil {
		for _, s := range f.WorkBook.Sheets.Sheet {
			if s.Name == sheet {
				rid = s.ID
				break
			}
		}
	}
	fail := func(why string) (*zip.File, error) {
		return nil, fmt.Errorf("%w: the XLSX file is malformed: sheet %q: %s", ErrFormat, sheet, why)
	}
	rp := zipPart(zr, "xl/_rels/workbook.xml.rels")
	if rid == "" || rp == nil {
		return fail("the workbook does not say where its worksheet is")
	}
	rc, err := rp.Open()
	if err != nil {
		return fail(err.Error())
	}
	defer rc.Close()
	var rels struct {
		Rels []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if err := xml.NewDecoder(io.LimitReader(rc, xlsxMaxRelsBytes)).Decode(&rels); err != nil {
		return fail(fmt.Sprintf("the workbook's relationships cannot be read: %v", err))
	}
	for _, r := range rels.Rels {
		if r.ID != rid {
			continue
		}
		target := strings.ReplaceAll(r.Target, `\`, "/")
		if strings.HasPrefix(target, "/") {
			target = path.Clean(target)[1:]
		} else {
			target = path.Clean("xl/" + target)
		}
		if zp := zipPart(zr, zipPartName(target)); zp != nil {
			return zp, nil
		}
		return fail(fmt.Sprintf("its worksheet %s is not in the file", target))
	}
	return fail(fmt.Sprintf("the workbook has no relationship %q for it", rid))
}
