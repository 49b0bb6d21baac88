package read_test

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

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

// TestOpenRegularParentSwapped: a writer who may rename the folder a file is in swaps it for a
// FIFO or for a link to another folder. OpenRegular refuses both at once: it neither blocks on
// the FIFO nor follows the link.
func TestOpenRegularParentSwapped(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "other")
	if err := os.Mkdir(other, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, "mine.csv"), []byte("someone else's\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "processed"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("other", filepath.Join(dir, "linked")); err != nil {
		t.Fatal(err)
	}
	for _, folder := range []string{"processed", "linked"} {
		done := make(chan error, 1)
		go func() {
			f, err := read.OpenRegular(filepath.Join(dir, folder, "mine.csv"))
			if err == nil {
				f.Close()
			}
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil {
				t.Errorf("OpenRegular through %s (a %s) opened a file; want it refused", folder, map[string]string{"processed": "FIFO", "linked": "link"}[folder])
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("OpenRegular through %s still blocks after 10 s", folder)
		}
	}
}
