package main

import (
	"context"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/store/storetest"
)

// A /proc/PID/stat's command name may hold spaces and parentheses; the CPU time is utime +
// stime, in clock ticks, counted after the name's closing parenthesis.
func TestStat(t *testing.T) {
	line := []byte("4242 (post (gres) x) S 1 4242 4242 0 -1 4194560 1200 0 0 0 250 37 0 0 20 0 1 0 100 0 0\n")
	if got := statName(line); got != "post (gres) x" {
		t.Errorf("statName = %q, want %q", got, "post (gres) x")
	}
	cpu, ok := statCPU(line)
	if want := 2870 * time.Millisecond; !ok || cpu != want {
		t.Errorf("statCPU = %v, %v; want %v, true", cpu, ok, want)
	}
	if _, ok := statCPU([]byte("4242 (short) S 1 2")); ok {
		t.Error("statCPU read a line without utime and stime")
	}
}

// processCPU reads a running process's CPU time: this one's, as getrusage counts it, once it
// has spun for 200 ms of CPU.
func TestProcessCPU(t *testing.T) {
	self := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			t.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	for self() < 200*time.Millisecond {
	}
	low := self()
	got, err := processCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	high := self()
	// /proc counts in clock ticks (10 ms), getrusage more finely.
	if tick := time.Second / clockTicks; got < low-2*tick || got > high+2*tick {
		t.Errorf("processCPU = %v, want between %v and %v (getrusage, before and after)", got, low, high)
	}
}

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
