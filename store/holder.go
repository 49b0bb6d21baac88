package store

import (
	"fmt"
	"strconv"
	"strings"
)

// Kinds of process that hold imports.
const (
	HolderServe = "serve" // a daemon's worker
	HolderCLI   = "cli"   // `leadpipe import` or `leadpipe imports resume`, in the foreground
)

// Holder is a process that holds an import's lease, as the lease records it: the kind of
// process, its host and process id, and for a daemon which of its workers.
type Holder struct {
	Kind   string `json:"kind,omitempty"`
	Host   string `json:"host,omitempty"`
	PID    int    `json:"pid,omitempty"`
	Worker int    `json:"worker,omitempty"`
}

// String is the lease owner that names h: "kind:host:pid", with "/worker" for a worker.
func (h Holder) String() string {
	s := fmt.Sprintf("%s:%s:%d", h.Kind, h.Host, h.PID)
	if h.Worker > 0 {
		s += "/" + strconv.Itoa(h.Worker)
	}
	return s
}

// ParseHolder reads a lease owner written by Holder.String; ok is false for any other owner.
func ParseHolder(owner string) (h Holder, ok bool) {
	rest, worker, hasWorker := strings.Cut(owner, "/")
	kind, rest, _ := strings.Cut(rest, ":")
	host, pid, _ := strings.Cut(rest, ":")
	var err error
	if h.PID, err = strconv.Atoi(pid); err != nil || kind == "" || host == "" {
		return Holder{}, false
	}
	if hasWorker {
		if h.Worker, err = strconv.Atoi(worker); err != nil {
			return Holder{}, false
		}
	}
	h.Kind, h.Host = kind, host
	return h, true
}
