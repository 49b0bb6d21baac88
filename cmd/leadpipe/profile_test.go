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

// TestProfiles runs `leadpipe inspect` with LEADPIPE_CPU_PROFILE and LEADPIPE_ALLOC_PROFILE
// set and checks that it writes both profiles (gzipped protobuf, as go tool pprof reads) and
// still prints its rows; and that a profile it cannot create fails the command with a message
// naming the setting.
func TestProfiles(t *testing.T) {
	dir := t.TempDir()
	cpu, alloc := filepath.Join(dir, "cpu.pprof"), filepath.Join(dir, "alloc.pprof")
	// Every allocation sampled (the runtime samples one per 512 KiB by default): the command
	// allocates little, and its profile named main.main in some runs only.
	stdout, stderr, code := inspectProcess(t, []string{cpuProfileEnv + "=" + cpu, allocProfileEnv + "=" + alloc, "GODEBUG=memprofilerate=1"},
		"../../importer/testdata/formats/prospects.csv", "--limit", "1")
	if code != 0 || !strings.Contains(stdout, `"header":["Email"`) {
		t.Fatalf("inspect with profiles: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	checkProfile(t, cpu, "nanoseconds")
	checkProfile(t, alloc, "alloc_space", "main.main") // a sample of the command's own allocations

	for _, env := range []string{cpuProfileEnv, allocProfileEnv} {
		missing := filepath.Join(t.TempDir(), "no-such-dir", "profile.pprof")
		_, stderr, code = inspectProcess(t, []string{env + "=" + missing}, "../../importer/testdata/formats/prospects.csv")
		want := "leadpipe: " + env + ": cannot create the profile: no such file or directory\n"
		if code != 1 || stderr != want {
			t.Fatalf("an uncreatable profile: exit %d, stderr %q, want 1 and %q", code, stderr, want)
		}
	}
}

// checkProfile checks that the file at path is a gzipped profile holding each of the strings
// want: its samples' unit, a function its samples name.
func checkProfile(t *testing.T, path string, want ...string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s is not gzipped: %v", path, err)
	}
	body, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for _, w := range want {
		if !bytes.Contains(body, []byte(w)) {
			t.Fatalf("%s does not name %s (%d bytes)", path, w, len(body))
		}
	}
}
