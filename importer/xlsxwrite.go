package importer

import (
	"archive/zip"
	"encoding/xml"
	"io"
	"strconv"
	"strings"
)

// maxSheetName is the most characters a worksheet's name may have.
const maxSheetName = 31

// The parts of a workbook of one worksheet, as ECMA-376 (Office Open XML, part 1) lays them out:
// what each part is, how the package and the workbook reach the next, and the one sheet's
// name. Styles, shared strings and document properties are optional and left out.
const (
	xlsxContentTypes = xml.Header + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
		`<Default Extension="xml" ContentType="application/xml"/>` +
		`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
		`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>` +
		`</Types>`
	xlsxPackageRels = xml.Header + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
		`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>` +
		`</Relationships>`
	xlsxWorkbookRels = xml.Header + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
		`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>` +
		`</Relationships>`
	xlsxWorkbookHead = xml.Header + `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ` +
		`xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="`
	xlsxWorkbookTail = `" sheetId="1" r:id="rId1"/></sheets></workbook>`
	xlsxSheetHead    = xml.Header + `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`
	xlsxSheetTail    = `</sheetData></worksheet>`
)

// writeTextSheet writes an XLSX workbook of one worksheet named sheet whose cells hold rows as
// text (inline strings: a value such as 00123 or 1e5 stays as written).
func writeTextSheet(w io.Writer, sheet string, rows [][]string) error {
	var body strings.Builder
	body.WriteString(xlsxSheetHead)
	for r, row := range rows {
		n := strconv.Itoa(r + 1)
		body.WriteString(`<row r="` + n + `">`)
		for c, v := range row {
			body.WriteString(`<c r="` + columnName(c) + n + `" t="inlineStr"><is><t xml:space="preserve">`)
			xml.EscapeText(&body, []byte(v)) //nolint:errcheck // a strings.Builder does not fail
			body.WriteString(`</t></is></c>`)
		}
		body.WriteString(`</row>`)
	}
	body.WriteString(xlsxSheetTail)
	var name strings.Builder
	xml.EscapeText(&name, []byte(sheet)) //nolint:errcheck // a strings.Builder does not fail

	z := zip.NewWriter(w)
	for _, part := range []struct{ name, content string }{
		{"[Content_Types].xml", xlsxContentTypes},
		{"_rels/.rels", xlsxPackageRels},
		{"xl/workbook.xml", xlsxWorkbookHead + name.String() + xlsxWorkbookTail},
		{"xl/_rels/workbook.xml.rels", xlsxWorkbookRels},
		{"xl/worksheets/sheet1.xml", body.String()},
	} {
		f, err := z.Create(part.name)
		if err != nil {
			return err
		}
		if _, err := io.WriteString(f, part.content); err != nil {
			return err
		}
	}
	return z.Close()
}

// columnName is the letters of the column at index c (from 0): A … Z, AA, AB, …
func columnName(c int) string {
	name := ""
	for c++; c > 0; c = (c - 1) / 26 {
		name = string(rune('A'+(c-1)%26)) + name
	}
	return name
}
