package read_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/leadpipe/leadpipe/stages/read"
)

func sheetsOf(t *testing.T, path string) ([]read.Sheet, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return read.Sheets(f, read.Options{})
}

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSheets(t *testing.T) {
	xlsxTempDir(t)
	visible := func(names ...string) []read.Sheet {
		var s []read.Sheet
		for _, n := range names {
			s = append(s, read.Sheet{Name: n, Visibility: "visible"})
		}
		return s
	}
	hiddenFirst := []read.Sheet{{Name: "Sheet1", Visibility: "hidden"}, {Name: "Sheet2", Visibility: "visible"}}
	for _, c := range []struct {
		what, path string
		want       []read.Sheet
	}{
		{"xlsx", xlsxWrite(t, xlsxLeadsBook(t)), visible("Leads", "Archive")},
		{"xls", writeTemp(t, "p.xls", xlsFixture(t, "prospects.xls")), visible("Prospects", "Archive")},
		{"xlsx, first hidden", corpusFile(t, "poi-TwoSheetsOneHidden.xlsx"), hiddenFirst},
		{"xls, first hidden", corpusFile(t, "poi-TwoSheetsOneHidden.xls"), hiddenFirst},
	} {
		got, err := sheetsOf(t, c.path)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("%s: %q, %v; want %q", c.what, got, err, c.want)
		}
	}
	_, err := sheetsOf(t, writeTemp(t, "a.csv", []byte("email\na@example.com\n")))
	if want := "the file is not a workbook: it reads as CSV, which has no sheets; a workbook is an XLSX, XLS or ODS file"; !errors.Is(err, read.ErrNotWorkbook) || err.Error() != want {
		t.Errorf("csv: %v, want %q", err, want)
	}
	_, err = sheetsOf(t, writeTemp(t, "z.xlsx", xlsxParts(t, map[string]string{"xl/workbook.xml": "\x00"})))
	if !errors.Is(err, read.ErrFormat) {
		t.Errorf("a zip without a workbook: %v, want ErrFormat", err)
	}
}
