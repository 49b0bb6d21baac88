package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/store/storetest"
)

// TestPairTimesBothBinariesInTurn runs the pair step over a small file with the real leadpipe
// as A and, as B, a script that logs each command it is given before running the same
// binary: two rounds run A B then B A, B imports the file and its retitled copy each round,
// the report gives each figure's ratios, and the step's database is gone afterwards. A B
// whose import fails fails the step.
func TestPairTimesBothBinariesInTurn(t *testing.T) {
	pool := storetest.Pool(t) // Postgres is there, or the test fails in CI
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

	if left := leftDatabases(t, pool, benchURL, "_pair"); len(left) > 0 {
		t.Errorf("databases of the pair step left behind: %v", left)
	}

	failing := filepath.Join(dir, "leadpipe-failing")
	script := "#!/bin/sh\nif [ \"$1\" = import ]; then echo 'no such file' >&2; exit 1; fi\nexec " + bin + " \"$@\"\n"
	if err := os.WriteFile(failing, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if status := benchPair(ctx, &out, bin, failing, benchURL, path, gen, 1); status == 0 {
		t.Errorf("a B whose import fails: status 0, want a failure")
	}
}

// TestPairRatiosAreOfEachRoundsTwoRuns checks the report's figures on made-up runs: each
// figure's median over an even number of rounds is the mean of the middle two ratios a/b,
// never b/a, and a round where either run's CPU time was too small to measure is left out.
func TestPairRatiosAreOfEachRoundsTwoRuns(t *testing.T) {
	run := func(wall, cpu, pg, reWall float64) pairRun {
		d := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
		return pairRun{
			fresh: importRun{wall: d(wall), cpu: d(cpu), pgCPU: d(pg)},
			again: importRun{wall: d(reWall), cpu: d(cpu), pgCPU: d(pg)},
		}
	}
	a := []pairRun{run(10, 4, 0, 20), run(12, 4, 8, 24), run(9, 0, 8, 18), run(11, 4, 8, 30)}
	b := []pairRun{run(10, 2, 8, 10), run(10, 4, 8, 20), run(10, 4, 8, 20), run(10, 2, 8, 20)}
	want := []string{
		"fresh     wall 1.050x (0.900 – 1.200), leadpipe CPU 2.000x (1.000 – 2.000), Postgres CPU 1.000x (1.000 – 1.000)",
		"re-import wall 1.350x (0.900 – 2.000), leadpipe CPU 2.000x (1.000 – 2.000), Postgres CPU 1.000x (1.000 – 1.000)",
	}
	if got := pairRatios(a, b); !slices.Equal(got, want) {
		t.Errorf("pairRatios:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := pairRatios(a[:1], []pairRun{run(10, 2, 0, 10)}); !strings.Contains(got[0], "Postgres CPU too small to measure") {
		t.Errorf("a round with no Postgres CPU: %q, want it too small to measure", got[0])
	}
}
