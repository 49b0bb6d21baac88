package main

import (
	"bytes"
	"fmt"
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
// read from /proc: it looks for the processes named postgres every rescanEvery and reads
// theirs every sampleEvery. A backend that exits during the step (the importer's own
// connections) is counted up to its last sample, and one that starts during it from zero, once
// a rescan found it. Every postgres process on the machine counts, whichever database it
// serves. Postgres runs on this machine (deploy/services.sh); a server elsewhere reads as zero.
type cpuSampler struct {
	db    string // only the backends connected to this database; "" for every process
	stop  chan struct{}
	done  chan struct{}
	mu    sync.Mutex
	pids  []int                 // the postgres processes the latest rescan found
	first map[int]time.Duration // per pid: its CPU time when the step started (0 if it started later)
	last  map[int]time.Duration // per pid: its CPU time at the latest sample
}

// sampleEvery is how often the sampler reads the postgres processes' CPU time: a backend's
// last 100 ms may go uncounted. rescanEvery is how often it looks for them among every process
// of the machine, which took 27 ms a time on a busy machine (reading every process's stat
// every 20 ms took a third of a core from the step it measured).
const (
	sampleEvery = 100 * time.Millisecond
	rescanEvery = time.Second
)

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
		rescanned := time.Time{}
		for {
			rescan := time.Since(rescanned) >= rescanEvery
			if rescan {
				rescanned = time.Now()
			}
			s.sample(rescan)
			select {
			case <-s.stop:
				s.sample(true)
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// sample reads the CPU time of the postgres processes, looking for them again with rescan.
func (s *cpuSampler) sample(rescan bool) {
	now := map[int]time.Duration{}
	if rescan {
		now = postgresCPU(s.db)
	} else {
		for _, pid := range s.pids {
			if cpu, err := processCPU(pid); err == nil {
				now[pid] = cpu
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if rescan {
		s.pids = s.pids[:0]
		for pid := range now {
			s.pids = append(s.pids, pid)
		}
	}
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

// postgresCPU reads the CPU time (user + system) of every process named postgres, by pid; with
// a database db, of the backends connected to it only.
func postgresCPU(db string) map[int]time.Duration {
	out := map[int]time.Duration{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil || statName(b) != "postgres" {
			continue // it exited, or it is another program
		}
		if db != "" && !backendOf(filepath.Dir(path), db) {
			continue
		}
		cpu, ok := statCPU(b)
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		if ok && err == nil {
			out[pid] = cpu
		}
	}
	return out
}

// processCPU reads the CPU time (user + system) a running process has spent so far.
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	cpu, ok := statCPU(b)
	if !ok {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	return cpu, nil
}

// A /proc/PID/stat reads "pid (comm) state ppid … utime stime …": utime and stime are its
// fields 14 and 15, counted from 1, and comm may hold spaces and parentheses.

// statName is the command name of a /proc/PID/stat, "" when there is none.
func statName(b []byte) string {
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return ""
	}
	return string(b[open+1 : end])
}

// statCPU is the CPU time (user + system) of a /proc/PID/stat.
func statCPU(b []byte) (time.Duration, bool) {
	end := bytes.LastIndexByte(b, ')')
	if end < 0 {
		return 0, false
	}
	fields := strings.Fields(string(b[end+1:]))
	if len(fields) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, true
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
