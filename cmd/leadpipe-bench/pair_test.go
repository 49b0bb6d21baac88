package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/store/storetest"
)

// TestPairTimesBothBinariesInTurn runs the pair step over a small file with the real leadpipe
// as A and, as B, a script that logs each command it is given before running the same
// binary: two rounds run A B then B A, B imports the file and its retitled copy each round,
// and the report gives each figure's ratios. A B that fails fails the step.
func TestPairTimesBothBinariesInTurn(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	bin := buildLeadpipe(t)
	log := filepath.Join(dir, "b.log")
	b := filepath.Join(dir, "leadpipe-b")
	if err := os.WriteFile(b, []byte("#!/bin/sh\necho \"$1\" >> "+log+"\nexec "+bin+" \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	path, gen, _, err := ensureFile(dir, 1500, 1)
	if err != nil {
		t.Fatal(err)
	}
	benchURL := storetest.URL()

	var out bytes.Buffer
	if status := benchPair(ctx, &out, bin, b, benchURL, path, gen, 2); status != 0 {
		t.Fatalf("status %d; report:\n%s", status, out.String())
	}
	report := out.String()
	rounds := regexp.MustCompile(`(?m)^round (\d) ([AB]) `).FindAllStringSubmatch(report, -1)
	var order []string
	for _, m := range rounds {
		order = append(order, m[1]+m[2])
	}
	if got := strings.Join(order, " "); got != "1A 1B 2B 2A" {
		t.Errorf("rounds ran %q, want \"1A 1B 2B 2A\"; report:\n%s", got, report)
	}
	logged, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	if imports := strings.Count(string(logged), "import\n"); imports != 4 {
		t.Errorf("B ran %d imports, want 4 (the file and its copy, two rounds); it ran:\n%s", imports, logged)
	}
	for _, step := range []string{"fresh", "re-import"} {
		// The small file's imports may take Postgres less than a tick of CPU time.
		ratio := `\d+\.\d{3}x \(\d+\.\d{3} – \d+\.\d{3}\)`
		if !regexp.MustCompile(`(?m)^ +` + step + ` +wall ` + ratio + `, leadpipe CPU (` + ratio + `|too small to measure), Postgres CPU (` + ratio + `|too small to measure)$`).MatchString(report) {
			t.Errorf("no ratios of the %s import in the report:\n%s", step, report)
		}
	}

	failing := filepath.Join(dir, "leadpipe-failing")
	if err := os.WriteFile(failing, []byte("#!/bin/sh\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if status := benchPair(ctx, &out, bin, failing, benchURL, path, gen, 1); status == 0 {
		t.Errorf("a B that fails: status 0, want a failure")
	}
}
