package read_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/stages/read"
)

// spectrumDifferences are the csv-spectrum cases whose expected JSON we do not match, each
// with why our reading is the right one and the records we assert instead. Every other case
// must parse to exactly its JSON.
var spectrumDifferences = map[string]struct {
	why    string
	header []string
	cells  [][]string
}{
	// The case's JSON is a single object rather than a list, and its phone number,
	// 1234567890, is not the 2095257564 of its CSV: the expected data is wrong, not the
	// parse. The rest matches the JSON, including its unquoted field with literal quotes (SPEC
	// §2 and Excel: a quote that does not open a field is a character) and its U+FFFD
	// characters, which are in the CSV as valid UTF-8.
	"location_coordinates": {
		why:    "the JSON's phone number is not the CSV's",
		header: []string{"Contact Phone Number", "Location Coordinates", "Cities", "Counties"},
		cells:  [][]string{{"2095257564", "37\uFFFD36'37.8\"N 121\uFFFD2'17.9\"W", "Modesto", "Stanislaus"}},
	},
}

// TestCSVSpectrum runs every case of the csv-spectrum npm package (CSV edge cases with the
// records they hold as JSON) through OpenCSV and checks the header and every record. It
// installs the package with npm into a temporary directory. Without npm or the registry it
// skips, except in CI (the CI environment variable set), where it fails.
func TestCSVSpectrum(t *testing.T) {
	dir := installCSVSpectrum(t)
	files, err := filepath.Glob(filepath.Join(dir, "csvs", "*.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 12 {
		t.Fatalf("csv-spectrum has %d CSV files, want at least the 12 of version 2.0.0: %q", len(files), files)
	}
	seen := map[string]bool{}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".csv")
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			c, err := read.OpenCSV(bytes.NewReader(data), read.CSVOptions{})
			if err != nil {
				t.Fatalf("OpenCSV: %v", err)
			}
			var got [][]string
			for {
				rc, err := c.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("Next: %v", err)
				}
				if rc.Malformed != "" {
					t.Errorf("row %d is malformed: %s", rc.Row, rc.Malformed)
				}
				got = append(got, rc.Cells)
			}

			wantHeader, want := spectrumJSON(t, filepath.Join(dir, "json", name+".json"), c.Header())
			if d, ok := spectrumDifferences[name]; ok {
				t.Logf("documented difference from csv-spectrum: %s", d.why)
				if reflect.DeepEqual(want, d.cells) {
					t.Errorf("the JSON now matches what we assert instead; drop the documented difference")
				}
				wantHeader, want = d.header, d.cells
			}
			if !reflect.DeepEqual(c.Header(), wantHeader) {
				t.Errorf("header = %q, want %q", c.Header(), wantHeader)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("records:\n got %q\nwant %q", got, want)
			}
		})
	}
	for name := range spectrumDifferences {
		if !seen[name] {
			t.Errorf("csv-spectrum no longer has the case %q that we document a difference for", name)
		}
	}
}

// spectrumJSON reads a case's expected records: a list of objects keyed by header (or, for
// one case, a single object). It returns the header (the keys, in the order of header when
// they are the same set, else sorted) and each record's values in that order.
func spectrumJSON(t *testing.T, path string, header []string) ([]string, [][]string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var objs []map[string]string
	if err := json.Unmarshal(data, &objs); err != nil {
		var obj map[string]string
		if err2 := json.Unmarshal(data, &obj); err2 != nil {
			t.Fatalf("%s: neither a list of objects (%v) nor an object (%v)", path, err, err2)
		}
		objs = []map[string]string{obj}
	}
	if len(objs) == 0 {
		return header, nil
	}
	keys := make([]string, 0, len(objs[0]))
	for k := range objs[0] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	sorted := append([]string(nil), header...)
	sort.Strings(sorted)
	if reflect.DeepEqual(keys, sorted) {
		keys = header
	}
	var recs [][]string
	for _, o := range objs {
		rec := make([]string, len(keys))
		for i, k := range keys {
			v, ok := o[k]
			if !ok {
				t.Fatalf("%s: an object has no key %q", path, k)
			}
			rec[i] = v
		}
		if len(o) != len(keys) {
			t.Fatalf("%s: objects have different keys", path)
		}
		recs = append(recs, rec)
	}
	return keys, recs
}

// installCSVSpectrum installs the latest csv-spectrum with npm into a temporary directory and
// returns the package's directory.
func installCSVSpectrum(t *testing.T) string {
	t.Helper()
	unavailable := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set, so this integration test must run: "+format, args...)
		}
		t.Skipf(format, args...)
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		unavailable("npm is not installed: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	run := func(args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, npm, append(args, "--fetch-retries=1", "--fetch-timeout=30000", "--no-audit", "--no-fund", "--no-update-notifier")...)
		cmd.Dir = dir
		return cmd.CombinedOutput()
	}
	out, err := run("view", "csv-spectrum", "version")
	if err != nil {
		unavailable("npm registry unreachable (npm view csv-spectrum: %v)\n%s", err, out)
	}
	version := strings.TrimSpace(string(out[bytes.LastIndexByte(bytes.TrimSpace(out), '\n')+1:]))
	if out, err := run("install", "--prefix", dir, "csv-spectrum@2.0.0"); err != nil {
		unavailable("npm install csv-spectrum@2.0.0: %v\n%s", err, out)
	}
	t.Logf("csv-spectrum %s", version)
	return filepath.Join(dir, "node_modules", "csv-spectrum")
}
