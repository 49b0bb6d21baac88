package main

import (
	"crypto/sha256"
	"fmt"
	"runtime"
	"sync"
	"time"
)

// What a second core is worth at the moment. The SQL's import keeps one core busy and
// leadpipe's both, so when the host makes this machine's two cores slower together than one
// alone, only leadpipe's import pays: the same binary's serve re-import took 48.9 to 81.3 CPU-s
// of leadpipe and Postgres in seven runs of one session, the SQL's 29.9 to 33.0
// (docs/architecture.md, "What the serve re-import spends"). Each round of the steps against the
// SQL prints this measure beside its figures, so that a reader can tell such a round from a
// change in leadpipe. It is not a goal and corrects nothing.

// coreWork is the fixed CPU-bound work timed: hashing a 1 MiB buffer this many times (about
// 0.2 s on the bench's machine).
const coreWork = 300

// coresTiming is how long coreWork took on one core alone and, run twice at once, on two.
type coresTiming struct {
	alone time.Duration
	pair  [2]time.Duration
}

// timeCores runs coreWork once alone, then twice at once on two goroutines, each locked to a
// thread of its own.
func timeCores() coresTiming {
	var t coresTiming
	t.alone = timeCoreWork()
	var wg sync.WaitGroup
	for i := range t.pair {
		wg.Go(func() { t.pair[i] = timeCoreWork() })
	}
	wg.Wait()
	return t
}

// timeCoreWork times coreWork on the calling goroutine's thread.
func timeCoreWork() time.Duration {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	buf := make([]byte, 1<<20)
	start := time.Now()
	for range coreWork {
		sum := sha256.Sum256(buf)
		buf[0] = sum[0]
	}
	return time.Since(start)
}

// slowdown is how much longer the work took on two cores at once than on one alone: the
// slower of the pair over the one alone.
func (t coresTiming) slowdown() float64 {
	return max(t.pair[0], t.pair[1]).Seconds() / t.alone.Seconds()
}

// String is the line's part the rounds print.
func (t coresTiming) String() string {
	if t.alone == 0 {
		return "cores: not timed"
	}
	return fmt.Sprintf("cores: one alone %.2f s, two at once %.2f and %.2f s (%.2fx)",
		t.alone.Seconds(), t.pair[0].Seconds(), t.pair[1].Seconds(), t.slowdown())
}
