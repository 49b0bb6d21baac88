package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
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

// smallFiles writes a generated file of rows rows and its retitled copy (ensureRetitled) into a
// temporary directory: what the steps that import both files run on in tests.
func smallFiles(t *testing.T, rows int) (path, retitled string, gen GenStats) {
	t.Helper()
	path, gen, _, err := ensureFile(t.TempDir(), rows, 1)
	if err != nil {
		t.Fatal(err)
	}
	if retitled, err = ensureRetitled(path); err != nil {
		t.Fatal(err)
	}
	return path, retitled, gen
}

// benchDatabase is the name of the database a step makes beside benchURL's (freshDatabase).
func benchDatabase(t *testing.T, benchURL, suffix string) string {
	t.Helper()
	_, name, err := siblingDatabase(benchURL, suffix)
	if err != nil {
		t.Fatal(err)
	}
	return name
}

// leftDatabases returns those of the databases a step makes beside benchURL's, one per suffix,
// that still exist: each names its own, so that another run's do not count.
func leftDatabases(t *testing.T, pool *pgxpool.Pool, benchURL string, suffixes ...string) []string {
	t.Helper()
	names := make([]string, len(suffixes))
	for k, s := range suffixes {
		names[k] = benchDatabase(t, benchURL, s)
	}
	var left []string
	err := pool.QueryRow(context.Background(), "SELECT coalesce(array_agg(datname), '{}') FROM pg_database WHERE datname = ANY($1)", names).Scan(&left)
	if err != nil {
		t.Fatal(err)
	}
	return left
}
