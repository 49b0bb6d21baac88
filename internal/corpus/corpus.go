// Package corpus finds, for tests, the shared corpus of real-world spreadsheets (shared/corpus,
// whose MANIFEST.md says what a correct reader sees in each file). The files are read from
// there and never copied into the repository.
package corpus

import (
	"os"
	"path/filepath"
	"testing"
)

// Path returns the path of the corpus file name, found by walking up from the working
// directory: CI checks the repository out with ../shared beside it. A missing corpus fails the
// test under CI and skips it elsewhere; a missing file fails it.
func Path(t testing.TB, name string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		corpus := filepath.Join(dir, "shared", "corpus")
		if _, err := os.Stat(filepath.Join(corpus, "MANIFEST.md")); err == nil {
			path := filepath.Join(corpus, name)
			if _, err := os.Stat(path); err != nil {
				t.Fatalf("corpus file %s: %v", name, err)
			}
			return path
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("no shared/corpus/MANIFEST.md above the working directory: the corpus of real-world spreadsheets is missing")
	}
	t.Skip("no shared/corpus/MANIFEST.md above the working directory")
	return ""
}
