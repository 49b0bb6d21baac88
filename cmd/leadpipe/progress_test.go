package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/leadpipe/leadpipe/internal/syncbuf"
)

// terminalCols is the width of the pseudo-terminal the tests here run leadpipe on.
const terminalCols = 100

// runLeadpipe runs leadpipe with args as a process of its own, its stdout a pipe and its
// stderr on stderr, and returns its stdout and error.
func runLeadpipe(t *testing.T, stderr *os.File, args ...string) (string, error) {
	t.Helper()
	cmd, stdout := startLeadpipe(t, stderr, args...)
	err := cmd.Wait()
	return stdout.String(), err
}

// startLeadpipe starts leadpipe with args as a process of its own, its stdout a pipe read into
// the buffer returned and its stderr on stderr.
func startLeadpipe(t *testing.T, stderr *os.File, args ...string) (*exec.Cmd, *syncbuf.Buffer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), asCLIVar+"=1")
	stdout := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start leadpipe %s: %v", strings.Join(args, " "), err)
	}
	return cmd, stdout
}

// terminal is a pseudo-terminal terminalCols wide that leadpipe's stderr goes to.
type terminal struct {
	tty  *os.File // the process's end
	got  syncbuf.Buffer
	done chan struct{} // closed once the terminal's last user is gone
}

// newTerminal opens a pseudo-terminal and reads what it gets.
func newTerminal(t *testing.T) *terminal {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ptmx.Close(); tty.Close() })
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 24, Cols: terminalCols}); err != nil {
		t.Fatal(err)
	}
	term := &terminal{tty: tty, done: make(chan struct{})}
	go func() {
		defer close(term.done)
		io.Copy(&term.got, ptmx) //nolint:errcheck // it ends with EIO once the terminal's last user is gone
	}()
	return term
}

// closed returns all the terminal got once the process using it ended.
func (term *terminal) closed() string {
	term.tty.Close()
	<-term.done
	return term.got.String()
}

// onTerminal runs leadpipe with args, its stderr on a pseudo-terminal, and returns its stdout
// and what the terminal got.
func onTerminal(t *testing.T, args ...string) (stdout, got string) {
	t.Helper()
	term := newTerminal(t)
	stdout, err := runLeadpipe(t, term.tty, args...)
	got = term.closed()
	if err != nil {
		t.Fatalf("leadpipe %s: %v\nterminal:\n%s", strings.Join(args, " "), err, got)
	}
	return stdout, got
}

// notOnTerminal runs leadpipe with args, its stderr a pipe, and returns its stdout and stderr.
func notOnTerminal(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	read := make(chan string)
	go func() {
		got, _ := io.ReadAll(r)
		read <- string(got)
	}()
	stdout, err = runLeadpipe(t, w, args...)
	w.Close()
	stderr = <-read
	r.Close()
	if err != nil {
		t.Fatalf("leadpipe %s: %v\nstderr:\n%s", strings.Join(args, " "), err, stderr)
	}
	return stdout, stderr
}

// emailsCSV is a CSV file of n prospects.
func emailsCSV(n int) []byte {
	var b bytes.Buffer
	b.WriteString("Email\n")
	for i := range n {
		fmt.Fprintf(&b, "p%05d@acme.example\n", i)
	}
	return b.Bytes()
}

// checkTerminal checks what a terminal got: every line drawn fits in it, and what is left on
// it — the text after a line's last carriage return — is either a log line or a bar's last
// line, which must match lastBar. It returns the visible lines.
func checkTerminal(t *testing.T, terminal string, lastBar *regexp.Regexp) []string {
	t.Helper()
	var visible []string
	for _, line := range strings.Split(strings.TrimSuffix(terminal, "\r\n"), "\r\n") { // the terminal ends lines with \r\n
		draws := strings.Split(line, "\r")
		for _, d := range draws {
			if len(d) > terminalCols-1 && !strings.HasPrefix(d, "time=") {
				t.Errorf("a bar %d columns wide on a terminal of %d: %q", len(d), terminalCols, d)
			}
		}
		shown := draws[len(draws)-1]
		visible = append(visible, shown)
		if !strings.HasPrefix(shown, "time=") && !lastBar.MatchString(shown) {
			t.Errorf("the terminal shows %q, neither a log line nor a finished bar (%s)", shown, lastBar)
		}
	}
	if !lastBar.MatchString(visible[len(visible)-1]) {
		t.Errorf("the terminal ends with %q, not a finished bar (%s):\n%q", visible[len(visible)-1], lastBar, terminal)
	}
	return visible
}

func TestCLIProgressBarOnATerminal(t *testing.T) {
	pool := cliEnv(t)
	t.Setenv("LEADPIPE_BATCH_SIZE", "100")
	name := uniqueName(t)
	mustCLI(t, "account", "create", name)
	file := writeTestFile(t, "prospects.csv", emailsCSV(3000))

	// An import run here: its rows are not counted first, the bar begins with no total.
	stdout, terminal := onTerminal(t, "import", file, "--account", name)
	sum := oneJSON(t, stdout)
	id := jsonInt(t, sum, "import_id")
	if rows := jsonInt(t, sum, "rows"); rows != 3000 {
		t.Errorf("rows = %d, want 3000", rows)
	}
	if first := fmt.Sprintf("\r\n\rimport %d  0 rows  0 rows/s", id); !strings.Contains(terminal, first) {
		t.Errorf("the bar is not first drawn with no total after a log line (%q):\n%q", first, terminal)
	}
	finished := regexp.MustCompile(fmt.Sprintf(`^import %d \[#{40,}\] 3,000/3,000 100%%  [0-9,]+ rows/s  0s left$`, id))
	visible := checkTerminal(t, terminal, finished)
	for _, msg := range []string{`msg="import started"`, `msg="import completed"`} {
		if !strings.Contains(strings.Join(visible, "\n"), msg) {
			t.Errorf("the terminal shows no %s:\n%s", msg, strings.Join(visible, "\n"))
		}
	}
	if n := strings.Count(terminal, "\rimport "); n < 3 {
		t.Errorf("the bar was drawn %d times, want at least the first, last and once after a log line:\n%q", n, terminal)
	}
	if got := count(t, pool, "SELECT count(*) FROM prospects WHERE account_id = $1", accountID(t, pool, name)); got != 3000 {
		t.Errorf("%d prospects, want 3000", got)
	}

	// A dry run of the file again, with max_rows: the rows are counted first.
	t.Setenv("LEADPIPE_MAX_ROWS", "5000")
	stdout, terminal = onTerminal(t, "import", file, "--account", name, "--dry-run")
	if dry := oneJSON(t, stdout); dry["dry_run"] != true || jsonInt(t, dry, "unchanged") != 3000 {
		t.Errorf("the dry run printed %s, want 3000 rows unchanged", stdout)
	}
	if !strings.Contains(terminal, "\rdry run of prospects [....") || !strings.Contains(terminal, "    0/3,000   0%  0 rows/s  -- left") {
		t.Errorf("the dry run's bar does not begin at 0 of 3,000:\n%q", terminal)
	}
	checkTerminal(t, terminal, regexp.MustCompile(`^dry run of prospects \[#+\] 3,000/3,000 100%  [0-9,]+ rows/s  0s left$`))

	// Its undo: the rows it takes back are known from the start.
	stdout, terminal = onTerminal(t, "imports", "undo", fmt.Sprint(id), "--account", name)
	undo := jsonInt(t, oneJSON(t, stdout), "undo_id")
	if !strings.Contains(terminal, fmt.Sprintf("\rundo %d [", undo)) || !strings.Contains(terminal, "    0/3,000   0%  0 rows/s  -- left") {
		t.Errorf("the undo's bar does not begin at 0 of 3,000:\n%q", terminal)
	}
	checkTerminal(t, terminal, regexp.MustCompile(fmt.Sprintf(`^undo %d \[#+\] 3,000/3,000 100%%  [0-9,]+ rows/s  0s left$`, undo)))

	// A queued import resumed here.
	queued := jsonInt(t, oneJSON(t, mustCLI(t, "import", file, "--account", name, "--queue")), "import_id")
	stdout, terminal = onTerminal(t, "imports", "resume", fmt.Sprint(queued), "--account", name)
	if got := jsonInt(t, oneJSON(t, stdout), "import_id"); got != queued {
		t.Errorf("resume printed import %d, want %d", got, queued)
	}
	checkTerminal(t, terminal, regexp.MustCompile(fmt.Sprintf(`^import %d \[#+\] 3,000/3,000 100%%  [0-9,]+ rows/s  0s left$`, queued)))
}

func TestCLIProgressBarEndsWhenInterrupted(t *testing.T) {
	cliEnv(t)
	t.Setenv("LEADPIPE_BATCH_SIZE", "100")
	name := uniqueName(t)
	mustCLI(t, "account", "create", name)
	file := writeTestFile(t, "prospects.csv", emailsCSV(100_000))

	term := newTerminal(t)
	cmd, stdout := startLeadpipe(t, term.tty, "import", file, "--account", name)
	drawing := regexp.MustCompile(`\rimport [0-9]+ \[#+\.+\] +[0-9,]+/`)
	deadline := time.Now().Add(time.Minute)
	for !drawing.MatchString(term.got.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("no bar with rows done:\n%q", term.got.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	var exit *exec.ExitError
	if err := cmd.Wait(); !errors.As(err, &exit) {
		t.Fatalf("an interrupted import: %v, want it to exit with an error", err)
	}
	got := term.closed()
	sum := oneJSON(t, stdout.String())
	id := jsonInt(t, sum, "import_id")
	if sum["status"] != "queued" {
		t.Errorf("status %v, want queued (it resumes from its checkpoint)", sum["status"])
	}
	// The bar's last line shows the rows done when it stopped, as the summary counts them, and
	// ends before the command's error is written.
	done := int(jsonInt(t, sum, "rows"))
	if done == 0 || done == 100_000 {
		t.Errorf("%d rows done, want it stopped on the way", done)
	}
	stopped := regexp.MustCompile(fmt.Sprintf(`^import %d \[#*\.+\] +%s/[0-9,]+ +[0-9]+%%  [0-9,]+ rows/s  \S+ left$|^leadpipe: `,
		id, regexp.QuoteMeta(progressbarNumber(done))))
	visible := checkTerminal(t, got, stopped)
	if n := len(visible); n < 2 || !strings.HasPrefix(visible[n-1], "leadpipe: ") || !strings.HasPrefix(visible[n-2], "import ") {
		t.Errorf("the terminal does not end with the bar's last line, then the error:\n%s", strings.Join(visible, "\n"))
	}
}

// progressbarNumber is n as a bar shows it: 12,345.
func progressbarNumber(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func TestCLINoProgressBarWithoutATerminal(t *testing.T) {
	cliEnv(t)
	t.Setenv("LEADPIPE_BATCH_SIZE", "100")
	name := uniqueName(t)
	mustCLI(t, "account", "create", name)
	file := writeTestFile(t, "prospects.csv", emailsCSV(3000))

	stdout, stderr := notOnTerminal(t, "import", file, "--account", name)
	id := jsonInt(t, oneJSON(t, stdout), "import_id")
	_, undoStderr := notOnTerminal(t, "imports", "undo", fmt.Sprint(id), "--account", name)
	for _, got := range []string{stderr, undoStderr} {
		lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
		for _, line := range lines {
			if !strings.HasPrefix(line, "time=") || strings.ContainsAny(line, "\r#") || strings.Contains(line, "rows/s") {
				t.Errorf("stderr has a line that is not a log line: %q", line)
			}
		}
	}
	for _, msg := range []string{`msg="import started"`, `msg="import completed"`} {
		if !strings.Contains(stderr, msg) {
			t.Errorf("stderr has no %s:\n%s", msg, stderr)
		}
	}
	if !strings.Contains(undoStderr, `msg="undo started"`) {
		t.Errorf("the undo's stderr has no undo started:\n%s", undoStderr)
	}
}
