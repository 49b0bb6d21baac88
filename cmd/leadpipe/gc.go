package main

import (
	"os"
	"runtime/debug"
)

// Garbage-collector settings, unless the environment sets GOGC or GOMEMLIMIT. An import
// allocates fast but keeps little alive (a few batches in flight), so the default GOGC of 100
// runs the collector often, taking CPU from the reader on a small machine. Collecting when the
// heap has grown to nine times what is live, but never letting the runtime's memory pass a soft
// limit, keeps the collector out of the way at the memory an import needs: the limit, not
// GOGC, then sets when it runs (make bench measures time and peak RSS; 800 imported an XLSX
// sheet 7% faster than 300, at the same peak RSS under the API upload). The limit is what
// the collector costs: importing the 1M-row bench file, 112 MiB ran it about 85 times (fresh)
// and 216 times (re-import), a fifth of leadpipe's CPU; 192 MiB cut leadpipe's CPU seconds by
// 17% (fresh) and 20% (re-import) for a peak RSS of about 200 MB instead of 130 MB, within
// issue 15's 256 MB (160 MiB: 13% and 13%, 175 MB).
const (
	gcPercent   = 800
	memoryLimit = 192 << 20
)

// tuneGC applies the collector settings that the environment leaves unset.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}
