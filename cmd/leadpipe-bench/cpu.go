package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTicks is the unit of /proc/PID/stat's CPU times: USER_HZ, 100 on Linux for every
// architecture leadpipe runs on (sysconf(_SC_CLK_TCK) needs cgo).
const clockTicks = 100

// cpuSampler adds up the CPU time the Postgres server's processes spend while a step runs,
// read from /proc every sampleEvery: a backend that exits during the step (the importer's own
// connections) is counted up to its last sample, and one that starts during it from zero.
// Postgres runs on this machine (deploy/services.sh); a server elsewhere reads as zero.
type cpuSampler struct {
	db    string // only the backends connected to this database; "" for every process
	stop  chan struct{}
	done  chan struct{}
	mu    sync.Mutex
	first map[int]time.Duration // per pid: its CPU time when the step started (0 if it started later)
	last  map[int]time.Duration // per pid: its CPU time at the latest sample
}

// sampleEvery is how often the sampler reads /proc: a backend's last 20 ms may go uncounted.
const sampleEvery = 20 * time.Millisecond

// samplePostgresCPU starts sampling; Stop ends it and answers the CPU time spent.
func samplePostgresCPU() *cpuSampler { return sampleDatabaseCPU("") }

// sampleDatabaseCPU is samplePostgresCPU for the backends connected to the database db only
// (each names its database in its process title): what serving one client cost, without the
// server's shared processes or other databases' backends.
func sampleDatabaseCPU(db string) *cpuSampler {
	s := &cpuSampler{db: db, stop: make(chan struct{}), done: make(chan struct{}), first: postgresCPU(db), last: map[int]time.Duration{}}
	go func() {
		defer close(s.done)
		t := time.NewTicker(sampleEvery)
		defer t.Stop()
		for {
			s.sample()
			select {
			case <-s.stop:
				s.sample()
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *cpuSampler) sample() {
	now := postgresCPU(s.db)
	s.mu.Lock()
	defer s.mu.Unlock()
	for pid, cpu := range now {
		s.last[pid] = cpu
	}
}

// Stop ends the sampling and answers the CPU time the Postgres processes spent since it began.
func (s *cpuSampler) Stop() time.Duration {
	close(s.stop)
	<-s.done
	var total time.Duration
	for pid, cpu := range s.last {
		total += cpu - s.first[pid]
	}
	return total
}

// postgresCPU reads the CPU time (user + system) of every process named postgres, by pid; of
// the backends connected to the database db only, unless db is "".
func postgresCPU(db string) map[int]time.Duration {
	out := map[int]time.Duration{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // it exited
		}
		// pid (comm) state ppid … utime stime: fields 14 and 15, counted from 1.
		open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
		if open < 0 || end < open || string(b[open+1:end]) != "postgres" {
			continue
		}
		if db != "" && !backendOf(filepath.Dir(path), db) {
			continue
		}
		fields := strings.Fields(string(b[end+1:]))
		if len(fields) < 13 {
			continue
		}
		utime, err1 := strconv.ParseInt(fields[11], 10, 64)
		stime, err2 := strconv.ParseInt(fields[12], 10, 64)
		pid, err3 := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		if err1 != nil || err2 != nil || err3 != nil {
			continue
		}
		out[pid] = time.Duration(utime+stime) * time.Second / clockTicks
	}
	return out
}

// backendOf reports whether the process whose /proc directory is dir is a backend connected to
// the database db: its title is "postgres: USER DB HOST(PORT) STATE".
func backendOf(dir, db string) bool {
	title, err := os.ReadFile(filepath.Join(dir, "cmdline"))
	if err != nil {
		return false
	}
	f := strings.Fields(strings.ReplaceAll(string(title), "\x00", " "))
	return len(f) >= 3 && f[0] == "postgres:" && f[2] == db
}
