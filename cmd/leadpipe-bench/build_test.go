package main

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// buildLeadpipe builds the leadpipe command into a temporary directory and returns its path:
// the steps run the real binary, as make bench does.
func buildLeadpipe(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "leadpipe")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/leadpipe/leadpipe/cmd/leadpipe").CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/leadpipe: %v\n%s", err, out)
	}
	return bin
}

// smallFiles writes a generated file of rows rows and its retitled copy (ensureRetitled) into a
// temporary directory: what the steps that import both files run on in tests.
func smallFiles(t *testing.T, rows int) (path, retitled string, gen GenStats) {
	t.Helper()
	path, gen, _, err := ensureFile(t.TempDir(), rows, 1)
	if err != nil {
		t.Fatal(err)
	}
	if retitled, err = ensureRetitled(path); err != nil {
		t.Fatal(err)
	}
	return path, retitled, gen
}
