package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCPUProfile runs `leadpipe inspect` with LEADPIPE_CPU_PROFILE set and checks that it
// writes a profile (gzipped protobuf, as go tool pprof reads) and still prints its rows; and
// that a profile it cannot create fails the command with a message naming the setting.
func TestCPUProfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpu.pprof")
	stdout, stderr, code := inspectProcess(t, []string{cpuProfileEnv + "=" + path}, "../../importer/testdata/formats/prospects.csv", "--limit", "1")
	if code != 0 || !strings.Contains(stdout, `"header":["Email"`) {
		t.Fatalf("inspect with a profile: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("the profile is not gzipped: %v", err)
	}
	body, err := io.ReadAll(zr)
	if err != nil || len(body) == 0 || !bytes.Contains(body, []byte("nanoseconds")) {
		t.Fatalf("the profile holds no CPU samples' units (%d bytes, %v)", len(body), err)
	}

	missing := filepath.Join(t.TempDir(), "no-such-dir", "cpu.pprof")
	_, stderr, code = inspectProcess(t, []string{cpuProfileEnv + "=" + missing}, "../../importer/testdata/formats/prospects.csv")
	want := "leadpipe: LEADPIPE_CPU_PROFILE: cannot create the profile: no such file or directory\n"
	if code != 1 || stderr != want {
		t.Fatalf("an uncreatable profile: exit %d, stderr %q, want 1 and %q", code, stderr, want)
	}
}
