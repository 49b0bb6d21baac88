package read_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/leadpipe/leadpipe/internal/corpus"
)

// corpusFile returns the path of the file name of the shared corpus of real-world spreadsheets
// (see corpus.Path).
func corpusFile(t testing.TB, name string) string {
	t.Helper()
	return corpus.Path(t, name)
}

// TestCorpusCovered: every file of the shared corpus is named, as a quoted string, by a test of
// the repository, which states what leadpipe reads from it or the message it fails with. A file
// added to the corpus fails this test until one does.
func TestCorpusCovered(t *testing.T) {
	dir := filepath.Dir(corpusFile(t, "MANIFEST.md"))
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs("../..") // the repository, from stages/read
	if err != nil {
		t.Fatal(err)
	}
	var tests strings.Builder
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != root {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, "_test.go") && d.Name() != "corpus_test.go" {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			tests.Write(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	all := tests.String()
	for _, e := range entries {
		if name := e.Name(); name != "MANIFEST.md" && !strings.Contains(all, strconv.Quote(name)) {
			t.Errorf("no test names the corpus file %s", name)
		}
	}
}
