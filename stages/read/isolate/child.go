package isolate

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"

	"github.com/leadpipe/leadpipe/stages/read"
)

// envChild carries the child's configuration; a process started with it set is a child.
const envChild = "LEADPIPE_SHEET_PARSER_CHILD"

// exitChildFailed is the exit status of a child that failed for a reason of its own, not the
// file's (a Go panic exits with 2).
const exitChildFailed = 3

// jobSheets is the job of a child that lists the workbook's sheets rather than reading rows.
const jobSheets = "sheets"

// childFD is the descriptor of the file the child reads (the first of exec.Cmd.ExtraFiles).
const childFD = 3

// childConfig is what the parent tells the child.
type childConfig struct {
	Path        string       `json:"path"` // the file's name, which the child's descriptor carries
	Options     read.Options `json:"options"`
	Job         string       `json:"job,omitempty"` // jobSheets, or "" to read the rows
	MemoryBytes uint64       `json:"memory_bytes"`
	CPUSeconds  uint64       `json:"cpu_seconds"`
}

// ServeChild, in a process that Open or Sheets started, parses the file it was handed, writes what it
// read to standard output and exits; in any other process it returns at once. Call it early in
// main, before anything a child must not do (leadpipe calls it once its collector settings
// are made and SIGINT and SIGTERM are caught, so that a child keeps those settings and leaves
// stopping to its parent), and in TestMain of a test binary whose tests make a Parser start it.
func ServeChild() {
	v, ok := os.LookupEnv(envChild)
	if !ok {
		return
	}
	if err := serve(v, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "leadpipe spreadsheet parser:", err)
		os.Exit(exitChildFailed)
	}
	os.Exit(0)
}

// serve is the child's life: limits, then the sheets listed, or the file opened, its header
// and what the parent asks for. A problem
// with the file is reported to the parent in an error frame; a returned error is a problem of
// the child itself.
func serve(config string, in io.Reader, out io.Writer) error {
	var cfg childConfig
	if err := json.Unmarshal([]byte(config), &cfg); err != nil {
		return fmt.Errorf("bad %s: %w", envChild, err)
	}
	if cfg.MemoryBytes > 0 {
		// The parent kills the child past its memory limit; the collector tries to keep
		// the heap well within it.
		soft := int64(cfg.MemoryBytes / 4 * 3)
		if cur := debug.SetMemoryLimit(-1); cur < soft {
			soft = cur
		}
		debug.SetMemoryLimit(soft)
	}
	// At the soft limit the kernel sends SIGXCPU, which the Go runtime ignores; at the hard
	// limit, a second later, SIGKILL.
	if err := limit(syscall.RLIMIT_CPU, cfg.CPUSeconds, cfg.CPUSeconds+1); err != nil {
		return fmt.Errorf("CPU limit: %w", err)
	}
	w := &frameWriter{w: bufio.NewWriterSize(out, 64<<10)}
	f := os.NewFile(childFD, cfg.Path)
	if cfg.Job == jobSheets {
		sheets, err := read.Sheets(f, cfg.Options)
		if err != nil {
			return w.error(err)
		}
		return w.sheets(sheets)
	}
	r, err := read.Open(f, cfg.Options)
	if err != nil {
		return w.error(err)
	}
	if c, ok := r.(io.Closer); ok {
		defer c.Close()
	}
	if err := w.header(r); err != nil {
		return err
	}
	cmd, err := bufio.NewReader(in).ReadString('\n')
	if errors.Is(err, io.EOF) && cmd == "" {
		return nil // the parent wanted the header only
	}
	if err != nil {
		return fmt.Errorf("read command: %w", err)
	}
	switch fields := strings.Fields(cmd); {
	case len(fields) == 1 && fields[0] == "count":
		n, err := r.CountRows()
		if err != nil {
			return w.error(err)
		}
		return w.count(n)
	case len(fields) == 2 && fields[0] == "rows":
		size, err := strconv.Atoi(fields[1])
		if err != nil {
			return fmt.Errorf("bad command %q", cmd)
		}
		src := r.Source(size)
		for {
			b, err := src.Next(context.Background())
			if errors.Is(err, io.EOF) {
				return w.end()
			}
			if err != nil {
				return w.error(err)
			}
			if err := w.batch(b); err != nil {
				return err
			}
		}
	}
	return fmt.Errorf("bad command %q", cmd)
}

// limit lowers a resource limit of this process (never above the hard limit it has); soft 0
// leaves it as it is.
func limit(resource int, soft, hard uint64) error {
	if soft == 0 {
		return nil
	}
	var cur syscall.Rlimit
	if err := syscall.Getrlimit(resource, &cur); err != nil {
		return err
	}
	hard = min(hard, cur.Max)
	return syscall.Setrlimit(resource, &syscall.Rlimit{Cur: min(soft, hard), Max: hard})
}
