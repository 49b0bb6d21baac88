package importer_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/leadpipe/leadpipe/importer"
)

// TestTemplateXLSXOpens: the XLSX template, written by hand, opens as written in excelize and in
// LibreOffice: its sheet's name, every cell as text (a leading zero, 1e5, markup characters,
// spaces, other scripts), columns past Z.
func TestTemplateXLSXOpens(t *testing.T) {
	header := []string{"Email", "Zip", "Note", "Padded", "Straße"}
	example := []string{"ann@example.com", "00123", `a<b & "c">`, "  two  ", "東京"}
	for i := len(header); i < 30; i++ { // to AD
		header = append(header, fmt.Sprintf("Field %d", i+1))
		example = append(example, "1e5")
	}
	tpl := importer.Template{Kind: "things_and_more_things_than_fit_in_a_name", Header: header, Example: example}
	var b bytes.Buffer
	if err := tpl.WriteXLSX(&b); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "template.xlsx")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	want := [][]string{header, example}

	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); !reflect.DeepEqual(got, []string{"things_and_more_things_than_fit"}) {
		t.Errorf("sheets %q, want the kind's first 31 characters", got)
	}
	rows, err := f.GetRows("things_and_more_things_than_fit")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("excelize reads %q\nwant %q", rows, want)
	}
	if ad, _ := f.GetCellValue("things_and_more_things_than_fit", "AD1"); ad != "Field 30" {
		t.Errorf("AD1 %q, want Field 30", ad)
	}

	// LibreOffice opens it and saves it again as its own XLSX (shared strings, styles): what it
	// read is what that file holds.
	resaved, err := excelize.OpenFile(convertWithLibreOffice(t, path, "xlsx")["xlsx"])
	if err != nil {
		t.Fatal(err)
	}
	defer resaved.Close()
	if rows, err = resaved.GetRows("things_and_more_things_than_fit"); err != nil || !reflect.DeepEqual(rows, want) {
		t.Errorf("LibreOffice reads %q (%v)\nwant %q", rows, err, want)
	}
}
