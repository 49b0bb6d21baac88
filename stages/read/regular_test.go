package read_test

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/leadpipe/leadpipe/stages/read"
)

// OpenRegular opens regular files only, without following a symbolic link (even one to a file
// in the same directory) or blocking on a FIFO.
func TestOpenRegular(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "real.csv"), []byte("email\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real.csv", filepath.Join(dir, "link.csv")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.csv"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := read.OpenRegular(filepath.Join(dir, "real.csv"))
	if err != nil {
		t.Fatalf("OpenRegular(real.csv): %v", err)
	}
	if fi, err := f.Stat(); err != nil || fi.Size() != 6 {
		t.Errorf("real.csv opened: %v, %v", fi, err)
	}
	f.Close()
	for name, want := range map[string]string{
		"link.csv": "link.csv is a symbolic link, not a regular file",
		"pipe.csv": "pipe.csv is a FIFO, not a regular file",
		"sub":      "sub is a directory, not a regular file",
	} {
		if _, err := read.OpenRegular(filepath.Join(dir, name)); !errors.Is(err, read.ErrNotRegular) || err.Error() != want {
			t.Errorf("OpenRegular(%s) error %v, want %q", name, err, want)
		}
	}
	if _, err := read.OpenRegular(filepath.Join(dir, "missing.csv")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("OpenRegular(missing.csv) error %v, want one that is os.ErrNotExist", err)
	}
}
