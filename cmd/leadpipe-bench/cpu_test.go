package main

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/store/storetest"
)

// TestSampleDatabaseCPU keeps a backend of the test database busy for about a second and
// checks that a sampler of that database counts its CPU time, while one of another database
// counts none of it.
func TestSampleDatabaseCPU(t *testing.T) {
	p := storetest.Pool(t)
	u, err := url.Parse(storetest.URL())
	if err != nil {
		t.Fatal(err)
	}
	ours, other := sampleDatabaseCPU(strings.TrimPrefix(u.Path, "/")), sampleDatabaseCPU("leadpipe_bench_no_such_database")
	t0 := time.Now()
	if _, err := p.Exec(context.Background(), "SELECT count(*) FROM generate_series(1, 10000000)"); err != nil {
		t.Fatal(err)
	}
	wall := time.Since(t0)
	got, none := ours.Stop(), other.Stop()
	if got < 200*time.Millisecond || got > wall+sampleEvery || none != 0 {
		t.Errorf("the query took %v; its database's backends %v (want at least 200ms and at most that), another database's %v (want 0)", wall, got, none)
	}
}
