// Package isolate parses spreadsheets in child processes, so that neither a panic nor a runaway
// of a parser on a crafted file can take the daemon down. Each open XLSX, XLS or ODS file gets a
// process of its own — the leadpipe executable again, serving as the child through ServeChild —
// with a memory limit (on its resident memory, which the parent checks every memoryPoll and
// kills it past) and a CPU-time limit (RLIMIT_CPU: the kernel kills it past it).
//
// The child opens the file (handed down as an open descriptor) with read.Open and streams the
// header, then the batches of rows or their count, over a pipe (see wire.go); or, for Sheets,
// lists the workbook's sheets with read.Sheets, which for an ODS file reads all of content.xml
// and for an encrypted XLSX file decrypts it. The parent's
// Reader gives them to the pipeline like any reader: the same rows, row numbers, skip reasons
// and errors, whose identity (read.ErrFormat …) crosses the pipe. A child that dies of a panic,
// of its memory limit or of its CPU limit fails the file with ErrCrashed or ErrLimit, and a
// message that says which. Its temporary files live in a directory the parent removes.
//
// CSV files are read in the calling process: leadpipe's own CSV reader uses no third-party
// parser and bounds its memory by the field-size cap, so a child would cost without protecting.
// The calling process tells them from workbooks by their first bytes alone (read.IsWorkbook):
// telling the workbook formats apart reads a zip's or an OLE2 file's directory, which is the
// child's to do.
package isolate

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/stages/read"
)

var (
	// ErrCrashed is a child that died of something other than its limits: a parser's panic
	// on a malformed file.
	ErrCrashed = errors.New("the file is malformed: the spreadsheet parser crashed on it")
	// ErrLimit is a child stopped by its memory or CPU limit.
	ErrLimit = errors.New("the file is too large or malformed: parsing it went over the parser's limits")
	// ErrNotStarted is a child that could not be started: a problem of the machine, not of
	// the file.
	ErrNotStarted = errors.New("cannot start the spreadsheet parser")
)

// Parser opens spreadsheets in child processes.
type Parser struct {
	// Command is the executable a child runs; it must call ServeChild first thing. Empty
	// means this process's own executable.
	Command string
	// MemoryBytes caps a child's resident memory (RSS, checked every memoryPoll, on Linux
	// only) and CPU its CPU time (rounded up to whole seconds; the kernel kills the child a
	// second past it); 0 is no limit. Their names in messages are the settings that set them.
	MemoryBytes int64
	CPU         time.Duration
}

// memoryPoll is how often the parent checks a child's resident memory.
const memoryPoll = 50 * time.Millisecond

// childWait is how long a child that has sent its last frame may take to exit before it is
// killed.
const childWait = 10 * time.Second

// Open opens f as read.Open would, the same options applying: a spreadsheet in a child
// process, a CSV file in this one. Errors wrap what read.Open's would, or ErrCrashed, ErrLimit
// or ErrNotStarted. The Reader of a spreadsheet must be closed (it is an io.Closer) unless
// it was read to its end.
func (p *Parser) Open(f *os.File, opts read.Options) (read.Reader, error) {
	workbook, err := read.IsWorkbook(f)
	if err != nil {
		return nil, err
	}
	if !workbook {
		return read.Open(f, opts)
	}
	c, err := p.start(f, opts, "")
	if err != nil {
		return nil, err
	}
	r := &Reader{c: c}
	runtime.AddCleanup(r, func(c *child) { c.stop(true) }, c)
	switch tag := c.out.tag(); tag {
	case frameHeader:
		r.headerRow, r.format, r.sheet, r.header = c.out.header()
		if c.out.err == nil {
			return r, nil
		}
		return nil, r.finish(c.broken(0))
	case frameError:
		return nil, r.finish(c.failure())
	default:
		return nil, r.finish(c.broken(tag))
	}
}

// Sheets lists the sheets of f as read.Sheets would, the same options applying: a workbook's
// in a child process; a CSV file's error (wrapping read.ErrNotWorkbook) in this one. Errors wrap
// what read.Sheets's would, or ErrCrashed, ErrLimit or ErrNotStarted.
func (p *Parser) Sheets(f *os.File, opts read.Options) ([]read.Sheet, error) {
	workbook, err := read.IsWorkbook(f)
	if err != nil {
		return nil, err
	}
	if !workbook {
		return read.Sheets(f, opts)
	}
	c, err := p.start(f, opts, jobSheets)
	if err != nil {
		return nil, err
	}
	var sheets []read.Sheet
	switch tag := c.out.tag(); tag {
	case frameSheets:
		if sheets = c.out.sheets(); c.out.err != nil {
			return nil, c.broken(0)
		}
	case frameError:
		err = c.failure()
	default:
		return nil, c.broken(tag)
	}
	if exitErr := c.stop(false); exitErr != nil {
		return nil, exitErr
	}
	return sheets, err
}

// start starts a child reading f, for job (see childConfig).
func (p *Parser) start(f *os.File, opts read.Options, job string) (*child, error) {
	if _, ok := os.LookupEnv(envChild); ok {
		// A test binary that does not serve as a child would run its tests instead, again
		// and again.
		return nil, fmt.Errorf("%w: this process is itself a spreadsheet parser's child", ErrNotStarted)
	}
	cfg, err := json.Marshal(childConfig{Path: f.Name(), Options: opts, Job: job, MemoryBytes: uint64(max(p.MemoryBytes, 0)), CPUSeconds: cpuSeconds(p.CPU)})
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "leadpipe-sheet-")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotStarted, err)
	}
	cmd := exec.Command(p.command())
	cmd.Args = []string{"leadpipe-sheet-parser", f.Name()} // what ps shows
	cmd.Env = append(os.Environ(), envChild+"="+string(cfg), "TMPDIR="+tmp)
	cmd.ExtraFiles = []*os.File{f}
	cmd.WaitDelay = time.Second // for its output pipes, should it have handed them on
	cmd.SysProcAttr = procAttr()
	c := &child{p: p, cmd: cmd, tmp: tmp, stderr: &headBuffer{max: 8 << 10}}
	cmd.Stderr = c.stderr
	if c.stdin, err = cmd.StdinPipe(); err == nil {
		var stdout io.ReadCloser
		if stdout, err = cmd.StdoutPipe(); err == nil {
			c.out = &frameReader{r: bufio.NewReaderSize(stdout, 64<<10)}
			err = cmd.Start()
		}
	}
	if err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("%w: %v", ErrNotStarted, err)
	}
	c.done, c.watched = make(chan struct{}), make(chan struct{})
	if p.MemoryBytes > 0 {
		go c.watchMemory()
	} else {
		close(c.watched)
	}
	return c, nil
}

// command is the executable a child runs: on Linux /proc/self/exe, this very program even
// when its file has been replaced since (an upgrade in place).
func (p *Parser) command() string {
	if p.Command != "" {
		return p.Command
	}
	if _, err := os.Stat("/proc/self/exe"); err == nil {
		return "/proc/self/exe"
	}
	exe, _ := os.Executable()
	return exe
}

// cpuSeconds is d in whole seconds, rounded up.
func cpuSeconds(d time.Duration) uint64 {
	if d <= 0 {
		return 0
	}
	return uint64((d + time.Second - 1) / time.Second)
}

// child is a running child process.
type child struct {
	p      *Parser
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    *frameReader
	stderr *headBuffer
	tmp    string

	done       chan struct{} // closed when the parent is done with the child
	watched    chan struct{} // closed when watchMemory has returned
	overMemory atomic.Bool   // the child was killed for its memory
	lingered   atomic.Bool   // the child was killed for not exiting within childWait

	once    sync.Once
	exitErr error
}

// watchMemory kills the child once its resident memory passes the limit. It reads
// /proc/PID/statm, and does nothing where there is none. It returns before the child is
// reaped, so that the PID it reads is never another process's.
func (c *child) watchMemory() {
	defer close(c.watched)
	statm := fmt.Sprintf("/proc/%d/statm", c.cmd.Process.Pid)
	page := int64(os.Getpagesize())
	t := time.NewTicker(memoryPoll)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
		}
		b, err := os.ReadFile(statm)
		if err != nil {
			return
		}
		var size, resident int64
		if _, err := fmt.Sscan(string(b), &size, &resident); err != nil {
			return
		}
		if resident*page > c.p.MemoryBytes {
			c.overMemory.Store(true)
			c.kill()
			return
		}
	}
}

// ask writes a command to the child. When it cannot, the child has died: its exit says why.
func (c *child) ask(cmd string) error {
	if _, err := io.WriteString(c.stdin, cmd+"\n"); err != nil {
		if exitErr := c.stop(false); exitErr != nil {
			return exitErr
		}
		return fmt.Errorf("%w (it exited before it was asked for the rows)", ErrCrashed)
	}
	return nil
}

// failure reads an error frame: the file's error as the child reported it, or, should the
// frame be cut short, what became of the child.
func (c *child) failure() error {
	err := c.out.failure()
	if c.out.err != nil {
		return c.broken(0)
	}
	return err
}

// kill kills the child; stop still waits for it.
func (c *child) kill() { c.cmd.Process.Kill() } //nolint:errcheck // it may have exited

// stop ends the child, at once with kill, else giving it childWait to exit; waits for it;
// removes its temporary directory; and returns what its exit says went wrong, if anything.
// It is idempotent.
func (c *child) stop(kill bool) error {
	c.once.Do(func() {
		c.stdin.Close()
		close(c.done)
		<-c.watched
		if kill {
			c.kill()
		}
		t := time.AfterFunc(childWait, func() {
			c.lingered.Store(true)
			c.kill()
		})
		waitErr := c.cmd.Wait()
		t.Stop()
		os.RemoveAll(c.tmp)
		if !kill || c.overMemory.Load() {
			c.exitErr = c.exitError(waitErr)
		}
	})
	return c.exitErr
}

// exitError says why the child failed, from how it exited; nil when it exited normally.
func (c *child) exitError(waitErr error) error {
	if c.overMemory.Load() {
		return fmt.Errorf("%w: it needed more than the memory limit of %d MiB (setting sheet_memory_limit)", ErrLimit, c.p.MemoryBytes>>20)
	}
	st := c.cmd.ProcessState
	if st == nil {
		return fmt.Errorf("%w: %v", ErrCrashed, waitErr)
	}
	if st.Success() {
		return nil
	}
	ws, _ := st.Sys().(syscall.WaitStatus)
	cpu := st.UserTime() + st.SystemTime()
	stderr := c.stderr.String()
	switch {
	case c.p.CPU > 0 && ws.Signaled() && cpu >= time.Duration(cpuSeconds(c.p.CPU))*time.Second:
		return fmt.Errorf("%w: it took more than the CPU time limit of %s (setting sheet_cpu_limit)", ErrLimit, c.p.CPU)
	case c.lingered.Load():
		return fmt.Errorf("%w (it did not exit within %s of its last message)", ErrCrashed, childWait)
	case ws.ExitStatus() == exitChildFailed:
		return fmt.Errorf("%w: %s", ErrNotStarted, firstLine(stderr))
	case ws.Signaled():
		return fmt.Errorf("%w (killed by %s; the machine may be out of memory)", ErrCrashed, ws.Signal())
	}
	return fmt.Errorf("%w (exit status %d: %s)", ErrCrashed, ws.ExitStatus(), firstLine(stderr))
}

// broken is the error of a stream that ended or went wrong where a frame was due (tag is the
// unexpected tag, or 0): the child's exit says why, if it died; else the stream's fault.
func (c *child) broken(tag byte) error {
	streamErr := c.out.err
	if streamErr == nil {
		streamErr = fmt.Errorf("%w: unexpected frame %q", errProtocol, tag)
	}
	garbled := !errors.Is(streamErr, io.EOF) && !errors.Is(streamErr, io.ErrUnexpectedEOF)
	if err := c.stop(garbled); err != nil {
		return err
	}
	if !garbled {
		return fmt.Errorf("%w (it ended its output early, then exited normally)", ErrCrashed)
	}
	return fmt.Errorf("%w (%v)", ErrCrashed, streamErr)
}

// firstLine is the first non-blank line of s, shortened to 300 bytes.
func firstLine(s string) string {
	for line := range strings.Lines(s) {
		if line = strings.TrimSpace(line); line != "" {
			if len(line) > 300 {
				line = line[:300] + "…"
			}
			return line
		}
	}
	return "no message"
}

// headBuffer keeps the first max bytes written to it.
type headBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (h *headBuffer) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if room := h.max - h.buf.Len(); room > 0 {
		h.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (h *headBuffer) String() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.buf.String()
}

// Reader is a spreadsheet read by a child process. It is not safe for concurrent use.
type Reader struct {
	c         *child
	header    []string
	headerRow int
	format    string
	sheet     string
	asked     bool  // the rows or their count were asked for
	err       error // sticky: set once the child is stopped (io.EOF after a clean end)
}

// Header returns the header cells, trimmed.
func (r *Reader) Header() []string { return r.header }

// HeaderRow returns the row number of the header, as the spreadsheet shows it.
func (r *Reader) HeaderRow() int { return r.headerRow }

// Format names the file's format: "xlsx", "xls" or "ods".
func (r *Reader) Format() string { return r.format }

// Sheet names the worksheet the child reads.
func (r *Reader) Sheet() string { return r.sheet }

// Close stops the child, if it still runs, and removes its temporary files. It is idempotent.
func (r *Reader) Close() error {
	if r.err == nil {
		r.err = io.EOF
	}
	r.c.stop(true)
	return nil
}

// abort kills the child and makes err the reader's sticky error.
func (r *Reader) abort(err error) error {
	r.c.stop(true)
	r.err = err
	return err
}

// finish stops the child once it is done and makes the reader's sticky error what went wrong:
// its abnormal exit, else err (nil: the end).
func (r *Reader) finish(err error) error {
	if exitErr := r.c.stop(false); exitErr != nil {
		err = exitErr
	}
	r.err = err
	if err == nil {
		r.err = io.EOF
	}
	return err
}

// CountRows reads the rest of the sheet and returns its non-blank data rows, malformed ones
// included. The reader is spent afterwards.
func (r *Reader) CountRows() (int, error) {
	if r.err != nil || r.asked {
		return 0, errors.New("isolate: CountRows on a used reader")
	}
	r.asked = true
	if err := r.c.ask("count"); err != nil {
		return 0, r.finish(err)
	}
	switch tag := r.c.out.tag(); tag {
	case frameCount:
		n := int(r.c.out.uint(maxRowNumber))
		if r.c.out.err != nil {
			return 0, r.finish(r.c.broken(0))
		}
		return n, r.finish(nil)
	case frameError:
		return 0, r.finish(r.c.failure())
	default:
		return 0, r.finish(r.c.broken(tag))
	}
}

// Source returns the rest of the sheet as batches of up to batchSize rows (see read.Reader).
func (r *Reader) Source(batchSize int) pipeline.Source {
	if batchSize <= 0 {
		batchSize = read.DefaultBatchSize
	}
	return &source{r: r, size: batchSize}
}

type source struct {
	r    *Reader
	size int
}

// Next returns the next batch, or io.EOF after the last one. Cancelling ctx kills the child.
func (s *source) Next(ctx context.Context) (*pipeline.Batch, error) {
	r := s.r
	if r.err != nil {
		return nil, r.err
	}
	if err := ctx.Err(); err != nil {
		return nil, r.abort(err)
	}
	if !r.asked {
		r.asked = true
		if err := r.c.ask("rows " + strconv.Itoa(s.size)); err != nil {
			return nil, r.finish(err)
		}
	}
	cancelled := context.AfterFunc(ctx, r.c.kill)
	tag := r.c.out.tag()
	var b *pipeline.Batch
	if tag == frameBatch {
		b = r.c.out.batch(s.size)
	}
	if !cancelled() { // ctx was cancelled: the child is being killed, whatever it sent
		return nil, r.abort(ctx.Err())
	}
	switch {
	case b != nil:
		return b, nil
	case tag == frameEnd:
		if err := r.finish(nil); err != nil {
			return nil, err
		}
		return nil, io.EOF
	case tag == frameError:
		return nil, r.finish(r.c.failure())
	case tag == frameBatch:
		tag = 0 // a batch cut short
	}
	return nil, r.finish(r.c.broken(tag))
}

// Make sure Reader is a read.SheetReader and an io.Closer.
var (
	_ read.SheetReader = (*Reader)(nil)
	_ io.Closer        = (*Reader)(nil)
)
