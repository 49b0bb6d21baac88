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
// read from /proc every sampleEvery: a backend that exits during the step (the importer's own
// connections) is counted up to its last sample, and one that starts during it from zero.
// Postgres runs on this machine (deploy/services.sh); a server elsewhere reads as zero.
type cpuSampler struct {
	stop  chan struct{}
	done  chan struct{}
	mu    sync.Mutex
	first map[int]time.Duration // per pid: its CPU time when the step started (0 if it started later)
	last  map[int]time.Duration // per pid: its CPU time at the latest sample
}

// sampleEvery is how often the sampler reads /proc: a backend's last 20 ms may go uncounted.
const sampleEvery = 20 * time.Millisecond

// samplePostgresCPU starts sampling; Stop ends it and answers the CPU time spent.
func samplePostgresCPU() *cpuSampler {
	s := &cpuSampler{stop: make(chan struct{}), done: make(chan struct{}), first: postgresCPU(), last: map[int]time.Duration{}}
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
	now := postgresCPU()
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

// postgresCPU reads the CPU time (user + system) of every process named postgres, by pid.
func postgresCPU() map[int]time.Duration {
	out := map[int]time.Duration{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil || statName(b) != "postgres" {
			continue // it exited, or it is another program
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
