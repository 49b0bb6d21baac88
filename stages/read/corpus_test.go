package read_test

import (
	"os"
	"path/filepath"
	"testing"
)

// corpusFile returns the path of a file of the real-world spreadsheet corpus, shared/corpus, which
// CI checks out beside the repository (../shared). It is found by walking up from the working
// directory, so that it is found from a worktree too. Without it the test fails when CI is set
// and is skipped otherwise.
func corpusFile(t testing.TB, name string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		corpus := filepath.Join(dir, "shared", "corpus")
		if _, err := os.Stat(filepath.Join(corpus, "MANIFEST.md")); err == nil {
			return filepath.Join(corpus, name)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("CI is set, so the corpus must be there: no shared/corpus/MANIFEST.md above the working directory (%s)", name)
	}
	t.Skipf("no shared/corpus/MANIFEST.md above the working directory; %s is not read", name)
	return ""
}
