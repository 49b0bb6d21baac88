package main

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
)

// validEmail is SPEC §4's email rule, written independently of the generator: exactly one
// '@', a non-empty local part without spaces, and a domain of dot-separated labels (letters,
// digits, hyphens) ending in a top-level domain of at least two letters.
func validEmail(s string) bool {
	s = strings.TrimSpace(s)
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || strings.ContainsAny(local, " \t") || strings.Contains(domain, "@") {
		return false
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" {
			return false
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	if len(tld) < 2 {
		return false
	}
	for _, c := range tld {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// TestGenerate parses a generated 10,000-row file with encoding/csv and checks that the counts
// the generator reports are exactly what the file holds.
func TestGenerate(t *testing.T) {
	const rows = 10000
	dir := t.TempDir()
	path, st, reused, err := ensureFile(dir, rows, 42)
	if err != nil {
		t.Fatal(err)
	}
	if reused {
		t.Fatal("first generation reported as reused")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(data)) != st.Bytes {
		t.Errorf("Bytes = %d, file has %d", st.Bytes, len(data))
	}

	r := csv.NewReader(bytes.NewReader(data)) // FieldsPerRecord: every record as wide as the header
	header, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(header, csvHeader) || len(header) != 14 {
		t.Fatalf("header = %q", header)
	}
	var (
		n, invalid, distinct, dups, caseChanged, adjacent, far, commaFields int
		seenAt                                                              = map[string]int{} // lower-case email → row of first appearance
		seenAs                                                              = map[string]string{}
		lastValid                                                           = ""
	)
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("row %d: %v", n+2, err)
		}
		if len(rec) != 14 {
			t.Fatalf("row %d: %d fields", n+2, len(rec))
		}
		for _, f := range rec {
			if strings.Contains(f, ",") {
				commaFields++
			}
		}
		email := rec[0]
		if email == "" {
			t.Errorf("row %d: no email", n+2)
		}
		switch key := strings.ToLower(strings.TrimSpace(email)); {
		case !validEmail(email):
			invalid++
		case seenAt[key] != 0:
			dups++
			if email != seenAs[key] {
				caseChanged++
			}
			if key == lastValid {
				adjacent++
			}
			if n-seenAt[key] > 1000 {
				far++
			}
			lastValid = key
		default:
			distinct++
			seenAt[key] = n
			seenAs[key] = email
			lastValid = key
		}
		n++
	}

	if n != rows || st.Rows != rows {
		t.Errorf("data rows = %d, stats say %d, want %d", n, st.Rows, rows)
	}
	if invalid != st.Invalid || dups != st.Duplicates || distinct != st.Distinct {
		t.Errorf("file has invalid %d, repeated %d, distinct %d; stats say %d, %d, %d",
			invalid, dups, distinct, st.Invalid, st.Duplicates, st.Distinct)
	}
	if invalid+dups+distinct != rows {
		t.Errorf("invalid+repeated+distinct = %d, want %d", invalid+dups+distinct, rows)
	}
	// About 1% invalid and 3% repeated: allow for sampling noise on 10,000 rows.
	if invalid < 60 || invalid > 140 {
		t.Errorf("invalid = %d, want about 100", invalid)
	}
	if dups < 240 || dups > 360 {
		t.Errorf("repeated = %d, want about 300", dups)
	}
	if caseChanged != st.DupCaseChanged || caseChanged == 0 {
		t.Errorf("case-changed repeats = %d, stats say %d", caseChanged, st.DupCaseChanged)
	}
	if adjacent < st.DupAdjacent || adjacent == 0 { // a recent or far repeat can be adjacent by chance
		t.Errorf("adjacent repeats = %d, stats say %d", adjacent, st.DupAdjacent)
	}
	if far == 0 || st.DupExactRepeat == 0 {
		t.Errorf("far repeats = %d, byte-identical repeats = %d; want some of each", far, st.DupExactRepeat)
	}
	if commaFields == 0 || st.QuotedRows == 0 {
		t.Errorf("fields with commas = %d, quoted rows = %d; want some", commaFields, st.QuotedRows)
	}
	if got := strings.Count(string(data), "+1 "); got == 0 {
		t.Error(`no "+1 555 123 4567"-style phone numbers`)
	}

	// Same rows and seed: the file is reused as is; generating again gives the same bytes.
	path2, st2, reused, err := ensureFile(dir, rows, 42)
	if err != nil || !reused || path2 != path || st2 != st {
		t.Errorf("second ensureFile = %q, %+v, reused %v, %v; want the same file reused", path2, st2, reused, err)
	}
	again, _, _, err := ensureFile(t.TempDir(), rows, 42)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(again); !bytes.Equal(b, data) {
		t.Error("generation is not deterministic")
	}
	if other, _, _, _ := ensureFile(dir, rows, 43); other == path {
		t.Error("another seed reused the same file")
	}
}

// TestValidEmail pins the test's own validator, and so the invalid kinds the generator makes.
func TestValidEmail(t *testing.T) {
	for _, c := range []struct {
		in   string
		want bool
	}{
		{"maria.garcia12@bluelabs.co.uk", true},
		{"MARIA.GARCIA12@BLUELABS.COM", true},
		{"j_smith@gmail.com", true},
		{"maria.garcia12bluelabs.com", false}, // missing '@'
		{"maria.garcia@bluelabs", false},      // missing top-level domain
		{"maria garcia@bluelabs.com", false},  // space
		{"maria@garcia@bluelabs.com", false},  // two '@'
		{"maria.garcia@bluelabs.c", false},    // one-letter top-level domain
	} {
		if got := validEmail(c.in); got != c.want {
			t.Errorf("validEmail(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

// The retitled copy has the same rows as the file, every title but the header's changed and
// nothing else; a second call reuses it.
func TestEnsureRetitled(t *testing.T) {
	path, _, _, err := ensureFile(t.TempDir(), 500, 7)
	if err != nil {
		t.Fatal(err)
	}
	retitled, err := ensureRetitled(path)
	if err != nil {
		t.Fatal(err)
	}
	orig, got := readCSV(t, path), readCSV(t, retitled)
	if len(got) != len(orig) || !slices.Equal(got[0], csvHeader) {
		t.Fatalf("%d records, header %q; want %d and the file's", len(got), got[0], len(orig))
	}
	quoted := 0
	for i := 1; i < len(orig); i++ {
		want := slices.Clone(orig[i])
		want[3] = strings.TrimSpace("Senior " + want[3])
		if !slices.Equal(got[i], want) {
			t.Errorf("record %d = %q, want %q", i, got[i], want)
		}
		if strings.ContainsAny(orig[i][3], `,"`) {
			quoted++
		}
	}
	if quoted == 0 {
		t.Error("no title with a comma or a quote: the copy's quoting is not tested")
	}
	if again, err := ensureRetitled(path); err != nil || again != retitled {
		t.Errorf("second call: %q, %v", again, err)
	}
}

// readCSV returns every record of the CSV file at path, its header first.
func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}
