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
