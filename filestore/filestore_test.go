package filestore_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/filestore"
	"github.com/leadpipe/leadpipe/store"
)

// TestFilesLiveByAccountAndImport: a received file is kept, and a copied one stored, at
// Dir/<account id>/<import id>; a copy replaces an earlier attempt's; the store owns what is
// under Dir and nothing else.
func TestFilesLiveByAccountAndImport(t *testing.T) {
	s := &filestore.Store{Dir: t.TempDir()}
	tmp, err := s.Temp("upload-*")
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(tmp.Name()) != filepath.Join(s.Dir, "tmp") {
		t.Errorf("Temp made %s, want a file under %s", tmp.Name(), filepath.Join(s.Dir, "tmp"))
	}
	if _, err := tmp.WriteString("Email\nkept@example.com\n"); err != nil {
		t.Fatal(err)
	}
	tmp.Close()
	kept, err := s.Keep(tmp.Name(), 7, 42)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(s.Dir, "7", "42"); kept != want {
		t.Errorf("Keep put the file at %s, want %s", kept, want)
	}
	if _, err := os.Stat(tmp.Name()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the received file is still at %s after Keep (%v)", tmp.Name(), err)
	}
	wantContent(t, kept, "Email\nkept@example.com\n")

	for _, content := range []string{"an earlier attempt", "Email\ncopied@example.com\n"} {
		copied, err := s.Copy(strings.NewReader(content), 7, 43)
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(s.Dir, "7", "43"); copied != want {
			t.Errorf("Copy put the file at %s, want %s", copied, want)
		}
	}
	wantContent(t, filepath.Join(s.Dir, "7", "43"), "Email\ncopied@example.com\n")
	if left, _ := filepath.Glob(filepath.Join(s.Dir, "7", ".copy-*")); len(left) > 0 {
		t.Errorf("Copy left %q", left)
	}

	for path, want := range map[string]bool{
		kept:                                 true,
		filepath.Join(s.Dir, "7", "43"):      true,
		s.Dir:                                false,
		filepath.Join(s.Dir, "..", "7", "1"): false,
		"/etc/passwd":                        false,
	} {
		if got := s.Owns(path); got != want {
			t.Errorf("Owns(%s) = %v, want %v", path, got, want)
		}
	}
}

// TestOpenOriginalGivesOnlyTheFileImported: the original opens when the regular file at the
// recorded path has the recorded size and SHA-256; otherwise a *GoneError says why, and a FIFO
// in its place is refused without blocking.
func TestOpenOriginalGivesOnlyTheFileImported(t *testing.T) {
	dir := t.TempDir()
	const content = "Email\nkept@example.com\n"
	sum := sha256.Sum256([]byte(content))
	imp := func(name string) store.Import {
		return store.Import{ID: 1, FilePath: filepath.Join(dir, name), FileSize: int64(len(content)), FileSHA256: hex.EncodeToString(sum[:])}
	}
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("same", content)
	write("changed", strings.ToUpper(content)) // same size, other SHA-256
	write("longer", content+"x")
	if err := os.Symlink(filepath.Join(dir, "same"), filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}

	f, err := filestore.OpenOriginal(imp("same"))
	if err != nil {
		t.Fatalf("OpenOriginal of the file imported: %v", err)
	}
	got, err := io.ReadAll(f)
	f.Close()
	if err != nil || string(got) != content {
		t.Errorf("OpenOriginal gave %q (%v), want %q", got, err, content)
	}

	pruned := imp("same")
	day := time.Date(2026, 3, 9, 12, 0, 0, 0, time.UTC)
	pruned.FilePrunedAt = &day
	const differs = "the file in its place is not the one imported (its size or SHA-256 differs)"
	const notRegular = "what is now in its place is not a regular file"
	for _, tc := range []struct {
		what   string
		imp    store.Import
		reason string
	}{
		{"pruned", pruned, "removed by the files_retention setting on 2026-03-09"},
		{"missing", imp("missing"), ""},
		{"changed", imp("changed"), differs},
		{"longer", imp("longer"), differs},
		{"a symbolic link", imp("link"), notRegular},
		{"a FIFO", imp("fifo"), notRegular},
	} {
		done := make(chan error, 1)
		go func() {
			f, err := filestore.OpenOriginal(tc.imp)
			if err == nil {
				f.Close()
			}
			done <- err
		}()
		select {
		case err := <-done:
			var gone *filestore.GoneError
			if !errors.As(err, &gone) {
				t.Errorf("%s: OpenOriginal returned %v, want a *GoneError", tc.what, err)
				continue
			}
			if gone.Reason != tc.reason || err.Error() != "the original file is no longer stored" {
				t.Errorf("%s: %q, reason %q; want reason %q", tc.what, err, gone.Reason, tc.reason)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: OpenOriginal did not answer within 5 seconds", tc.what)
		}
	}
}

// TestSafeFileName: names are shown by their last element, without what could disguise or
// break them.
func TestSafeFileName(t *testing.T) {
	for in, want := range map[string]string{
		"report.csv":                        "report.csv",
		"../../etc/passwd":                  "passwd",
		`..\..\windows\"evil".csv`:          "evil.csv",
		"evil\r\nname.csv":                  "evilname.csv",
		"invoice\u202Exslx.csv\u200B\u2028": "invoicexslx.csv",
		"  a;b=c, d.csv  ":                  "a;b=c, d.csv",
		"..":                                "upload",
		"":                                  "upload",
		strings.Repeat("é", 150):            strings.Repeat("é", 100),
	} {
		if got := filestore.SafeFileName(in); got != want {
			t.Errorf("SafeFileName(%q) = %q, want %q", in, got, want)
		}
	}
}

func wantContent(t *testing.T, path, want string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil || string(got) != want {
		t.Errorf("%s holds %q (%v), want %q", path, got, err, want)
	}
}
